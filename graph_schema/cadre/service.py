"""Cadres: batch upsert (their station region created if missing), lookup, current load."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.cadre.models import Cadre
from graph_schema.errors import NotFound
from graph_schema.records import BatchResult, get_node, require_unique, upsert_linked, write_in_batches
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


def get_cadre(*, store: GraphStore, cadre_no: str) -> Cadre:
    row = store.read(lambda tx: get_node(tx, CADRE, cadre_no))
    if row is None:
        raise NotFound("干部", "cadre", cadre_no)
    return Cadre.from_row(row)
