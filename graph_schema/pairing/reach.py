"""What the matcher reads of a region and writes back, in the store's terms: the priority
households, their active pairings, the 在岗 cadres within reach and the pairings each holds, and
the ending of the pairings a confirmed move replaces. The matcher (``matching/``) builds its
instance from these rows and never speaks Cypher itself."""

from __future__ import annotations

from dataclasses import dataclass

from graph_schema.monitoring.common import PRIORITY_HOUSEHOLDS, SCOPED_HOUSEHOLDS
from graph_schema.pairing.service import LOAD_BY_CADRE
from graph_schema.records import fetch_by_keys
from graph_schema.store import paired
from graph_schema.store.base import Tx, chunks
from graph_schema.store.schema import CADRE

_PRIORITY = PRIORITY_HOUSEHOLDS + (
    "RETURN h.household_no AS household_no, h.region_code AS region_code, h.monitoring AS monitoring, "
    "h.tekun AS tekun, h.dibao AS dibao, h.elderly_carer AS elderly_carer, h.labour AS labour, "
    "disabled AS disabled, severe AS severe"
)
_ACTIVE_IN_SCOPE = (
    SCOPED_HOUSEHOLDS + "MATCH (c:Cadre)-[p:PAIRED_WITH]->(h) WHERE p.ended_on IS NULL "
    "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no, c.on_duty AS on_duty"
)
_CADRES_IN_REACH = (
    "MATCH (c:Cadre) WHERE c.station_code STARTS WITH $prefix AND c.on_duty "
    "RETURN c.cadre_no AS cadre_no, c.station_code AS station_code, c.pair_limit AS pair_limit"
)
_LOAD_IN_REACH = (
    "MATCH (c:Cadre)-[p:PAIRED_WITH]->(:Household) WHERE c.station_code STARTS WITH $prefix AND c.on_duty "
    "AND p.ended_on IS NULL RETURN c.cadre_no AS cadre_no, count(p) AS n"
)
_END_ACTIVE = (
    "UNWIND $rows AS r MATCH (c:Cadre {cadre_no: r.cadre_no}) WITH r, c "
    "MATCH (c)-[p:PAIRED_WITH]->(h:Household {household_no: r.household_no}) WHERE p.ended_on IS NULL "
    "SET p.ended_on = r.ended_on, p.end_reason = r.reason"
)


@dataclass
class ReachRows:
    """The rows of one region and the cadres within reach of it."""

    households: list[dict]  # the priority households, with their risk facts
    active: dict[str, dict]  # household → its active pairing (cadre_no, on_duty)
    cadres: dict[str, dict]  # cadre → cadre_no, station_code, pair_limit
    load: dict[str, int]  # cadre → its active pairings


def rows_in_reach(tx: Tx, prefix: str, cadre_prefix: str) -> ReachRows:
    """The priority households under ``prefix`` with their active pairings, and the 在岗 cadres
    under ``cadre_prefix`` with their load; a cadre stationed elsewhere who holds one of these
    households' pairings is read too, as it holds a place."""
    households = tx.run(_PRIORITY, {"prefix": prefix})
    active = {r["household_no"]: r for r in tx.run(_ACTIVE_IN_SCOPE, {"prefix": prefix})}
    cadres = {r["cadre_no"]: r for r in tx.run(_CADRES_IN_REACH, {"prefix": cadre_prefix})}
    load = {r["cadre_no"]: r["n"] for r in tx.run(_LOAD_IN_REACH, {"prefix": cadre_prefix})}
    elsewhere = sorted({r["cadre_no"] for r in active.values() if r["on_duty"]} - set(cadres))
    for row in fetch_by_keys(tx, CADRE, elsewhere, ["cadre_no", "station_code", "pair_limit"]).values():
        cadres[row["cadre_no"]] = row
    for part in chunks(elsewhere, 20_000):
        load |= {r["cadre_no"]: r["n"] for r in tx.run(LOAD_BY_CADRE, {"keys": list(part)})}
    return ReachRows(households, active, cadres, load)


def end_active_pairings(tx: Tx, ends: list[dict]) -> None:
    """End the active pairings named by ``household_no`` and ``cadre_no`` on ``ended_on``, with
    ``reason`` (the moves of a confirmed reassignment), and recount their households' pairings
    (the caller holds their locks)."""
    if ends:
        tx.run(_END_ACTIVE, {"rows": ends})
        paired.recount(tx, [e["household_no"] for e in ends])
