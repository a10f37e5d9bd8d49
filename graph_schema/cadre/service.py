"""Cadres: batch upsert (their station region created if missing), lookup, current load."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.cadre.models import Cadre
from graph_schema.errors import NotFound
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import BatchResult, require_unique, upsert_linked, write_in_batches
from graph_schema.region.service import ensure_regions
from graph_schema.store import paired
from graph_schema.store.base import GraphStore, Tx, keyed
from graph_schema.store.schema import CADRE, REGION, STATIONED_IN


def upsert_cadres(*, store: GraphStore, cadres: Sequence[Cadre]) -> BatchResult:
    """Create or update cadres by 干部编号. Setting 是否在岗 to 否 keeps their pairings as they
    are: those households then count as unpaired and the cadre is listed for reassignment."""
    require_unique(cadres, "cadre_no", "干部编号")
    return write_in_batches(store, cadres, _upsert)


def _upsert(tx: Tx, cadres: Sequence[Cadre], offset: int) -> BatchResult:
    # a cadre whose 在岗 changes changes whether each household of its active pairings is paired:
    # they are locked first and recounted last (graph_schema/store/paired.py)
    households = paired.lock_households_of_cadres(tx, {c.cadre_no: c.on_duty for c in cadres})
    ensure_regions(tx, {c.station_code for c in cadres})
    result = upsert_linked(tx, CADRE, [c.to_row() for c in cadres], STATIONED_IN, REGION,
                           lambda row: {"dst": row["station_code"]})
    paired.recount(tx, sorted(households))
    return result


_COLUMNS = ", ".join(f"c.{col} AS {col}" for col in CADRE.columns)


def cadres_in(tx: Tx, cadre_nos: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, Cadre]:
    """The cadres of ``cadre_nos`` that exist and lie in ``scope``."""
    start, params = keyed(CADRE, "c", cadre_nos)
    rows = tx.run(f"{start} WITH c{scope.cadres()} RETURN {_COLUMNS}", params | scope.params)
    return {r["cadre_no"]: Cadre.from_row(r) for r in rows}


def get_cadre(*, store: GraphStore, cadre_no: str, scope: Scope = EVERYTHING) -> Cadre:
    """One cadre; NotFound alike whether they do not exist or lie outside ``scope``."""
    found = store.read(lambda tx: cadres_in(tx, [cadre_no], scope))
    if cadre_no not in found:
        raise NotFound("干部", "cadre", cadre_no)
    return found[cadre_no]


def list_cadres(*, store: GraphStore, page: PageRequest = PageRequest(), scope: Scope = EVERYTHING) -> Page[Cadre]:
    """The cadres in ``scope``, by 干部编号."""
    return store.read(lambda tx: page_of(tx, f"MATCH (c:Cadre){scope.cadres()}", "c", _COLUMNS, "cadre_no",
                                         scope.params, page, Cadre.from_row))
