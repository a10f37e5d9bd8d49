"""Each household's disabled-member counts, kept on the household by the writes that change them.

Whether a household is a priority household (重点户, :mod:`graph_schema.monitoring.risk`) depends
on how many disabled persons are its members (``MEMBER_OF``) and how many of them are graded
一级/二级. Every report's first page used to count them by walking every household of its scope to
its members, a whole province's members for a province. So the household keeps the two counts as
properties (``disabled_count``, ``severe_count``; :data:`~graph_schema.store.schema.HOUSEHOLD`'s
``kept``), and the reports of the current day read those.

They stay exact because every write that changes a membership or a grade recounts the households
it touches in its own transaction (:func:`recount`), after locking them
(:func:`lock_households_of`): a concurrent writer of the same household waits for the lock, so
the second recount sees the first one's members. A new household starts at zero.

A store made before the counts existed gets them once, when it is opened (:func:`fill`): the
households are recounted in batches, one transaction each, and only then is the store marked as
counted (a ``StoreMark`` node; graph_schema/store/kept.py). A filling cut short leaves no mark, so
the next opening fills again from the start (recounting is idempotent); no report reads a
household's counts before the mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graph_schema.store import kept
from graph_schema.store.base import Tx
from graph_schema.store.schema import HOUSEHOLD

if TYPE_CHECKING:
    from graph_schema.store.base import GraphStore

#: the mark a store carries once every household has its counts
COUNTED = "household_counts"
BATCH = 10_000

#: The members of each household as counted from its ``MEMBER_OF`` edges, after ``UNWIND $keys AS k``
#: (leaves ``h``, ``disabled`` and ``severe`` in scope). OPTIONAL MATCH from the keyed household:
#: the embedded engine follows its edges rather than scanning the persons.
_COUNTED = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) OPTIONAL MATCH (p:Person)-[:MEMBER_OF]->(h) "
            "WITH h, count(p) AS disabled, sum(CASE WHEN p.grade <= 2 THEN 1 ELSE 0 END) AS severe ")
_RECOUNT = _COUNTED + "SET h.disabled_count = disabled, h.severe_count = severe RETURN count(h) AS n"
_ZERO = "UNWIND $keys AS k MATCH (h:Household {household_no: k}) SET h.disabled_count = 0, h.severe_count = 0"
_HOUSEHOLDS_OF = "UNWIND $keys AS k MATCH (p:Person {id_number: k}) RETURN p.household_no AS household_no"
_WRONG = (_COUNTED + "WITH h, disabled, severe WHERE h.disabled_count IS NULL OR h.severe_count IS NULL "
          "OR h.disabled_count <> disabled OR h.severe_count <> severe "
          "RETURN h.household_no AS household_no, h.disabled_count AS stored_disabled, "
          "h.severe_count AS stored_severe, disabled AS disabled, severe AS severe ORDER BY household_no")


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
    """Set the counts of ``household_nos`` from their ``MEMBER_OF`` edges (the caller holds their
    locks, or has the store to itself)."""
    kept.by_keys(tx, _RECOUNT, household_nos, BATCH)


def start_at_zero(tx: Tx, household_nos: Sequence[str]) -> None:
    """New households have no members yet."""
    kept.by_keys(tx, _ZERO, household_nos, BATCH)


def miscounted(tx: Tx, household_nos: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The households (all, or those of ``household_nos``) whose stored counts are missing or differ
    from their members: ``{household_no, stored_disabled, stored_severe, disabled, severe}``."""
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
           "recount", "start_at_zero", "unmark"]
