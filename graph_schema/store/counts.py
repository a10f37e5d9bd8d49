"""Each household's disabled-member counts and whether it is a priority household, kept on the
household by the writes that change them.

Whether a household is a priority household (重点户, :mod:`graph_schema.monitoring.risk`) depends
on how many disabled persons are its members (``MEMBER_OF``) and how many of them are graded
一级/二级. Every report's first page used to count them by walking every household of its scope to
its members, a whole province's members for a province. So the household keeps the two counts as
properties (``disabled_count``, ``severe_count``; :data:`~graph_schema.store.schema.HOUSEHOLD`'s
``kept``), and the reports of the current day read those.

With them it keeps ``priority``, whether it is a priority household by the rule of
:func:`~graph_schema.monitoring.risk.priority_condition` (its own 监测类别, 特困 and 以老养残, and
the counts). The reports find a wide scope's priority households by that one flag
(``PRIORITY_SCAN``); on Neo4j an index on (``priority``, ``region_code``) hands them the priority
households of a province or a city without reading the other 60 % of its households. A person write sets it with
the counts; a household write that changes a household's own facts sets it again
(:func:`reprioritise`) under the lock its update holds.

They stay exact because every write that changes a membership or a grade recounts the households
it touches in its own transaction (:func:`recount`), after locking them
(:func:`lock_households_of`): a concurrent writer of the same household waits for the lock, so
the second recount sees the first one's members. A new household starts at zero.

A store made before the counts existed gets them once, when it is opened (:func:`fill`): the
households are recounted in batches, one transaction each, and only then is the store marked as
counted (a ``StoreMark`` node; graph_schema/store/kept.py; a store marked before the flag existed
is counted again, the mark having a new name). A filling cut short leaves no mark, so the next
opening fills again from the start (recounting is idempotent); no report reads a household's
counts before the mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graph_schema.monitoring.risk import priority_condition
from graph_schema.store import kept
from graph_schema.store.base import Tx
from graph_schema.store.schema import HOUSEHOLD

if TYPE_CHECKING:
    from graph_schema.store.base import GraphStore

#: the mark a store carries once every household has its counts and its priority flag
COUNTED = "household_counts_and_priority"
BATCH = 10_000

#: The members of each household as counted from its ``MEMBER_OF`` edges, after ``UNWIND $keys AS k``
#: (leaves ``h``, ``disabled`` and ``severe`` in scope). OPTIONAL MATCH from the keyed household:
#: the embedded engine follows its edges rather than scanning the persons.
_COUNTED = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) OPTIONAL MATCH (p:Person)-[:MEMBER_OF]->(h) "
            "WITH h, count(p) AS disabled, sum(CASE WHEN p.grade <= 2 THEN 1 ELSE 0 END) AS severe ")
#: the priority rule over the counts in scope, and over the counts a new household starts with
_PRIORITY = priority_condition()
_PRIORITY_AT_ZERO = priority_condition("0", "0")
_PRIORITY_KEPT = priority_condition("h.disabled_count", "h.severe_count")
_RECOUNT = (_COUNTED + f"SET h.disabled_count = disabled, h.severe_count = severe, h.priority = {_PRIORITY} "
            "RETURN count(h) AS n")
_ZERO = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) "
         f"SET h.disabled_count = 0, h.severe_count = 0, h.priority = {_PRIORITY_AT_ZERO}")
_REPRIORITISE = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) "
                 f"SET h.priority = {_PRIORITY_KEPT}")
_HOUSEHOLDS_OF = "UNWIND $keys AS k MATCH (p:Person {id_number: k}) RETURN p.household_no AS household_no"
_WRONG = (_COUNTED + f"WITH h, disabled, severe, {_PRIORITY} AS priority "
          "WHERE h.disabled_count IS NULL OR h.severe_count IS NULL OR h.priority IS NULL "
          "OR h.disabled_count <> disabled OR h.severe_count <> severe OR h.priority <> priority "
          "RETURN h.household_no AS household_no, h.disabled_count AS stored_disabled, "
          "h.severe_count AS stored_severe, h.priority AS stored_priority, disabled AS disabled, "
          "severe AS severe, priority AS priority ORDER BY household_no")


def lock_households_of(tx: Tx, id_numbers: Sequence[str], targets: Sequence[str]) -> set[str]:
    """Lock the households a person write changes, and return those that exist: ``targets`` (where
    the persons go) and the households the persons of ``id_numbers`` belong to now (which a move
    leaves). The persons' households are read again after each round of locks, since a concurrent
    move may have committed in between; it ends when every household they belong to is held."""
    locked: set[str] = set()
    exist: set[str] = set()
    wanted = set(targets)
    while wanted - locked:
        new = sorted(wanted - locked)
        exist |= tx.lock(HOUSEHOLD, new)
        locked |= set(new)
        wanted |= households_of(tx, id_numbers)
    return exist


def households_of(tx: Tx, id_numbers: Sequence[str]) -> set[str]:
    """The households the stored persons of ``id_numbers`` belong to."""
    return {r["household_no"] for r in kept.by_keys(tx, _HOUSEHOLDS_OF, id_numbers) if r["household_no"]}


def recount(tx: Tx, household_nos: Sequence[str]) -> None:
    """Set the counts and the priority flag of ``household_nos`` from their ``MEMBER_OF`` edges
    (the caller holds their locks, or has the store to itself)."""
    kept.by_keys(tx, _RECOUNT, household_nos, BATCH)


def start_at_zero(tx: Tx, household_nos: Sequence[str]) -> None:
    """New households have no members yet: their priority is their own facts'."""
    kept.by_keys(tx, _ZERO, household_nos, BATCH)


def reprioritise(tx: Tx, household_nos: Sequence[str]) -> None:
    """Set the priority flag of households whose own facts were just written (the write's update
    holds their locks), from those facts and their kept counts."""
    kept.by_keys(tx, _REPRIORITISE, household_nos, BATCH)


def miscounted(tx: Tx, household_nos: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The households (all, or those of ``household_nos``) whose stored counts or priority flag are
    missing or differ from their members and facts: ``{household_no, stored_disabled,
    stored_severe, stored_priority, disabled, severe, priority}``."""
    return kept.wrong(tx, _WRONG, household_nos)


def is_counted(store: "GraphStore") -> bool:
    return kept.is_marked(store, COUNTED)


def fill(store: "GraphStore") -> int:
    """Give every household its counts unless the store is marked as counted; the number of
    households recounted (0 when it was). Batches of :data:`BATCH` households in key order, one
    transaction each, then the mark."""
    return kept.fill(store, COUNTED, recount, BATCH, "残疾成员数", "household member counts")


def unmark(store: "GraphStore") -> None:
    """Drop the mark, so the next opening fills the counts again (for a store whose counts were
    written by a version that did not keep them)."""
    kept.unmark(store, COUNTED)


__all__ = ["COUNTED", "fill", "households_of", "is_counted", "lock_households_of", "miscounted",
           "recount", "reprioritise", "start_at_zero", "unmark"]
