"""The exclusion list (回避名单): cadre–household pairs that no pairing path may create.

A cadre is not paired with a relative's household, nor with one the organiser excluded. The list
is kept as ``(Cadre)-[:EXCLUDED {reason, since, note}]->(Household)`` edges so the pairing rules
and the matcher read it in the same transaction as the pairings themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from graph_schema.enums import ExclusionReason
from graph_schema.errors import NotFound
from graph_schema.models import today
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import scope_prefix
from graph_schema.store.base import GraphStore, Tx, chunks
from graph_schema.store.schema import CADRE, EXCLUDED, HOUSEHOLD

_BY_HOUSEHOLD = ("UNWIND $keys AS k MATCH (c:Cadre)-[:EXCLUDED]->(h:Household {household_no: k}) "
                 "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no")
_IN_SCOPE = ("MATCH (c:Cadre)-[e:EXCLUDED]->(h:Household) WHERE h.region_code STARTS WITH $prefix "
             "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no, e.reason AS reason, "
             "e.since AS since, e.note AS note ORDER BY household_no, cadre_no")


@dataclass(frozen=True)
class Exclusion:
    household_no: str
    cadre_no: str
    reason: ExclusionReason
    since: dt.date
    note: str | None = None


def excluded_pairs_in(tx: Tx, household_nos: Sequence[str]) -> set[tuple[str, str]]:
    """``(household_no, cadre_no)`` pairs on the list, for the given households."""
    return {(row["household_no"], row["cadre_no"]) for part in chunks(sorted(set(household_nos)), 20_000)
            for row in tx.run(_BY_HOUSEHOLD, {"keys": list(part)})}


def exclude(*, store: GraphStore, household_no: str, cadre_no: str, reason: ExclusionReason,
            note: str | None = None) -> Exclusion:
    """Put a pair on the list (idempotent). An active pairing of the pair is not ended here: the
    matcher proposes to move the household, and the organiser confirms."""
    exclusion = Exclusion(household_no, cadre_no, ExclusionReason(reason), today(), note)

    def work(tx: Tx) -> Exclusion:
        if not tx.lock(HOUSEHOLD, [household_no]):
            raise NotFound("家庭", "household", household_no)
        if not fetch_by_keys(tx, CADRE, [cadre_no], ["cadre_no"]):
            raise NotFound("干部", "cadre", cadre_no)
        if (household_no, cadre_no) not in excluded_pairs_in(tx, [household_no]):
            tx.create_rels(EXCLUDED, CADRE, HOUSEHOLD, [{
                "src": cadre_no, "dst": household_no, "reason": exclusion.reason.value,
                "since": exclusion.since, "note": note}])
        return exclusion

    return store.write(work)


def lift_exclusion(*, store: GraphStore, household_no: str, cadre_no: str) -> bool:
    """Take a pair off the list; False if it was not on it."""
    def work(tx: Tx) -> bool:
        tx.lock(HOUSEHOLD, [household_no])
        if (household_no, cadre_no) not in excluded_pairs_in(tx, [household_no]):
            return False
        tx.run("MATCH (:Cadre {cadre_no: $c})-[e:EXCLUDED]->(:Household {household_no: $h}) DELETE e",
               {"c": cadre_no, "h": household_no})
        return True

    return store.write(work)


def exclusions_in(tx: Tx, prefix: str) -> list[Exclusion]:
    """The list for the households whose region code starts with ``prefix``."""
    return [Exclusion(r["household_no"], r["cadre_no"], ExclusionReason(r["reason"]), r["since"], r["note"])
            for r in tx.run(_IN_SCOPE, {"prefix": prefix})]


def exclusions(*, store: GraphStore, region: str | None = None) -> list[Exclusion]:
    """The list for the households of ``region`` (any level; None for all)."""
    return store.read(lambda tx: exclusions_in(tx, scope_prefix(region)))
