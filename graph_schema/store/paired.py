"""Each household's active one-to-one pairings, kept on the household by the writes that change them.

Whether a priority household is unpaired (no active 一对一 pairing with a 在岗 cadre) used to be
found by pairing every priority household of the scope with its ``PAIRED_WITH`` edges and their
cadres: for a province's 265k priority households on Neo4j that walk alone took 2.2–2.4 s of the
unpaired list and of coverage. So the household keeps two counts as properties
(:data:`~graph_schema.store.schema.HOUSEHOLD`'s ``kept``): ``active_pairings``, its pairings not
ended, and ``on_duty_pairings``, those of them whose cadre is 在岗. The reports of the current day
read them: an unpaired household is one whose ``on_duty_pairings`` is 0.

A pairing is active "today" exactly when it has not ended: no write records a start or an end
after its own day (the pairing rules refuse future dates), so for any day from today on the
reports' condition (started on or before the day, not ended by it) is ``ended_on IS NULL``. A day
before today reads the pairings as before, never these counts.

They stay exact because every write that changes them recounts the households it touches in its
own transaction (:func:`recount`) while holding their locks: a pairing made (``pair_in``, which
imports and the matcher's confirmation use) or ended (``end_in``, a transfer, the matcher's
moves and drops), and a cadre whose 在岗 changes (:func:`lock_households_of_cadres`: all the
households of its active pairings). A new household starts at zero. No write deletes a cadre, a
household or a pairing; a restore, which replaces the pairing edges wholesale, recounts every
household (:func:`recount_all`).

A store made before the counts existed gets them once, when it is opened (:func:`fill`), in
batches, then the store is marked (a ``StoreMark`` node), as the member counts are
(both by :mod:`graph_schema.store.kept`); a filling cut short leaves no mark and starts again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graph_schema.store import kept
from graph_schema.store.base import Tx
from graph_schema.store.schema import CADRE, HOUSEHOLD

if TYPE_CHECKING:
    from graph_schema.store.base import GraphStore

#: the mark a store carries once every household has its pairing counts
PAIRED = "household_pairings"
BATCH = 10_000

#: Each keyed household's active pairings and those with a 在岗 cadre, counted from its
#: ``PAIRED_WITH`` edges (leaves ``h``, ``active`` and ``on_duty`` in scope).
_COUNTED = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) "
            "OPTIONAL MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.ended_on IS NULL "
            "WITH h, count(r) AS active, sum(CASE WHEN c.on_duty THEN 1 ELSE 0 END) AS on_duty ")
_RECOUNT = _COUNTED + "SET h.active_pairings = active, h.on_duty_pairings = on_duty RETURN count(h) AS n"
_ZERO = "UNWIND $keys AS k MATCH (h:Household {household_no: k}) SET h.active_pairings = 0, h.on_duty_pairings = 0"
_WRONG = (_COUNTED + "WITH h, active, on_duty WHERE h.active_pairings IS NULL OR h.on_duty_pairings IS NULL "
          "OR h.active_pairings <> active OR h.on_duty_pairings <> on_duty "
          "RETURN h.household_no AS household_no, h.active_pairings AS stored_active, "
          "h.on_duty_pairings AS stored_on_duty, active AS active, on_duty AS on_duty ORDER BY household_no")
#: the households of the cadres' active pairings
_HOUSEHOLDS_OF_CADRES = ("UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k})-[r:PAIRED_WITH]->(h:Household) "
                         "WHERE r.ended_on IS NULL RETURN DISTINCT h.household_no AS household_no")
_ON_DUTY = "UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k}) RETURN c.cadre_no AS cadre_no, c.on_duty AS on_duty"


def recount(tx: Tx, household_nos: Sequence[str]) -> None:
    """Set the pairing counts of ``household_nos`` from their ``PAIRED_WITH`` edges (the caller
    holds their locks, or has the store to itself)."""
    kept.by_keys(tx, _RECOUNT, household_nos, BATCH)


def start_at_zero(tx: Tx, household_nos: Sequence[str]) -> None:
    """New households have no pairings yet."""
    kept.by_keys(tx, _ZERO, household_nos, BATCH)


def households_of_cadres(tx: Tx, cadre_nos: Sequence[str]) -> set[str]:
    """The households of the active pairings of ``cadre_nos``."""
    return {r["household_no"] for r in kept.by_keys(tx, _HOUSEHOLDS_OF_CADRES, cadre_nos)}


def lock_households_of_cadres(tx: Tx, on_duty: Mapping[str, bool]) -> set[str]:
    """Before a cadre write giving each cadre of ``on_duty`` (干部编号 → 在岗) its 在岗: lock the
    stored cadres, then the households of the active pairings of those whose 在岗 changes, and
    return those households (to recount after the write). With the cadres locked no pairing with
    them can be made meanwhile (``pair_in`` locks the cadre), and an end only takes a household
    out of the set, so the households read after the cadres' locks are all there are. (A pairing
    write locks the household before the cadre, this the other way round: on Neo4j a deadlock
    between the two is a transient error whose transaction the driver runs again; the embedded
    engine has one writer at a time.)"""
    wanted = dict(on_duty)
    tx.lock(CADRE, sorted(wanted))
    changing = [r["cadre_no"] for r in kept.by_keys(tx, _ON_DUTY, list(wanted))
                if bool(r["on_duty"]) != wanted[r["cadre_no"]]]
    households = households_of_cadres(tx, changing)
    tx.lock(HOUSEHOLD, sorted(households))
    return households


def mispaired(tx: Tx, household_nos: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The households (all, or those of ``household_nos``) whose stored pairing counts are missing
    or differ from their pairings: ``{household_no, stored_active, stored_on_duty, active, on_duty}``."""
    return kept.wrong(tx, _WRONG, household_nos)


def is_filled(store: "GraphStore") -> bool:
    return kept.is_marked(store, PAIRED)


def recount_all(store: "GraphStore") -> int:
    """Recount every household, :data:`BATCH` households in key order per transaction, each batch
    under its households' locks; the number recounted."""
    return kept.recount_all(store, recount, BATCH, "household pairing counts")


def fill(store: "GraphStore") -> int:
    """Give every household its pairing counts unless the store is marked as filled; the number
    of households recounted (0 when it was)."""
    return kept.fill(store, PAIRED, recount, BATCH, "结对数", "household pairing counts")


def unmark(store: "GraphStore") -> None:
    """Drop the mark, so the next opening fills the counts again."""
    kept.unmark(store, PAIRED)


__all__ = ["PAIRED", "fill", "households_of_cadres", "is_filled", "lock_households_of_cadres", "mispaired",
           "recount", "recount_all", "start_at_zero", "unmark"]
