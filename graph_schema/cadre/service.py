"""Cadres: batch upsert (their station region created if missing), lookup, current load."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.cadre.models import Cadre
from graph_schema.errors import NotFound
from graph_schema.pagination import Page, PageRequest
from graph_schema.records import BatchResult, require_unique, upsert_linked, write_in_batches
from graph_schema.region.service import ensure_regions
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import CADRE, REGION, STATIONED_IN


def upsert_cadres(*, store: GraphStore, cadres: Sequence[Cadre]) -> BatchResult:
    """Create or update cadres by 干部编号. Setting 是否在岗 to 否 keeps their pairings as they
    are: those households then count as unpaired and the cadre is listed for reassignment."""
    require_unique(cadres, "cadre_no", "干部编号")
    return write_in_batches(store, cadres, _upsert)


def _upsert(tx: Tx, cadres: Sequence[Cadre], offset: int) -> BatchResult:
    ensure_regions(tx, {c.station_code for c in cadres})
    return upsert_linked(tx, CADRE, [c.to_row() for c in cadres], STATIONED_IN, REGION,
                         lambda row: {"dst": row["station_code"]})


_COLUMNS = ", ".join(f"c.{col} AS {col}" for col in CADRE.columns)


def cadres_in(tx: Tx, cadre_nos: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, Cadre]:
    """The cadres of ``cadre_nos`` that exist and lie in ``scope``."""
    rows = tx.run(f"UNWIND $keys AS k MATCH (c:Cadre {{cadre_no: k}}) WITH c{scope.cadres()} RETURN {_COLUMNS}",
                  {"keys": list(cadre_nos)} | scope.params)
    return {r["cadre_no"]: Cadre.from_row(r) for r in rows}


def get_cadre(*, store: GraphStore, cadre_no: str, scope: Scope = EVERYTHING) -> Cadre:
    """One cadre; NotFound alike whether they do not exist or lie outside ``scope``."""
    found = store.read(lambda tx: cadres_in(tx, [cadre_no], scope))
    if cadre_no not in found:
        raise NotFound("干部", "cadre", cadre_no)
    return found[cadre_no]


def list_cadres(*, store: GraphStore, page: PageRequest = PageRequest(), scope: Scope = EVERYTHING) -> Page[Cadre]:
    """The cadres in ``scope``, by 干部编号."""
    match = f"MATCH (c:Cadre){scope.cadres()} "

    def work(tx: Tx) -> Page[Cadre]:
        total = tx.run(f"{match}RETURN count(c) AS n", scope.params)[0]["n"]
        rows = tx.run(f"{match}RETURN {_COLUMNS} ORDER BY cadre_no SKIP $skip LIMIT $limit",
                      scope.params | {"skip": page.skip, "limit": page.page_size})
        return Page([Cadre.from_row(r) for r in rows], total, page.page, page.page_size)

    return store.read(work)
