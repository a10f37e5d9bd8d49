"""One household with the lists a detail page shows, in one read: its members, its one-to-one
pairings with their cadres, its auxiliary pairings, its ledger and its problems.

A detail page is the service's most frequent request (a portal opens one household after
another), so this read is shaped for it:

- **one read**, the household checked against the scope first and the lists read only for a
  household found (:meth:`~graph_schema.store.base.Tx.gather`: one statement on Neo4j, one per
  list on the embedded engine, whichever is faster there);
- **only the columns asked for** (:func:`select`): a column costs in the engine, in the driver
  and in Python for every row, and a page rarely shows them all. The columns that order a list,
  tell a found row from a missing one, or tell whose a ledger entry or cadre record is (the
  privacy table shows a caller's own records in full) are always read;
- **the pairings' cadres in the same statement** as the pairings, rather than a read of their own;
- **rows as stored**, as plain dicts: they were validated on their way in, and validating them
  again cost ~35 µs a record. Lists come sorted as the batched reads of the services sort them.

Callers scope nothing themselves: ``scope`` is applied to the household before any list is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.store.base import Part, Row, Tx
from graph_schema.store.schema import ASSISTED, AUX_PAIRED_WITH, CADRE, HOUSEHOLD, PAIRED_WITH, PERSON, PROBLEM

_AUX_PROPS = [c for c in AUX_PAIRED_WITH.props if c != "proposal_id"]  # the model has none


@dataclass(frozen=True)
class DetailList:
    """A list of the detail: where its rows come from, the columns always read, how it is sorted."""

    part: Part
    always: frozenset[str]
    order: Callable[[Row], tuple]
    #: list columns whose stored NULL means an empty list (the models read them so)
    lists: frozenset[str] = frozenset()


#: a cadre's columns in a pairing's row, prefixed (``cadre_name`` …) beside the pairing's own
CADRE_PREFIX = "cadre_"

HOUSEHOLD_COLUMNS = {c: f"h.{c}" for c in HOUSEHOLD.columns}
LISTS: dict[str, DetailList] = {
    "members": DetailList(
        Part("members", "(p:Person)-[:MEMBER_OF]->(h)", {c: f"p.{c}" for c in PERSON.columns}, "id_number"),
        frozenset({"id_number"}), lambda r: (r["id_number"],), frozenset({"needs"})),
    "pairings": DetailList(
        Part("pairings", "(c:Cadre)-[p:PAIRED_WITH]->(h)",
             {**{c: f"p.{c}" for c in PAIRED_WITH.props}, "cadre_no": "c.cadre_no",
              **{CADRE_PREFIX + c: f"c.{c}" for c in CADRE.columns if c != CADRE.key}}, "pairing_id"),
        frozenset({"pairing_id", "cadre_no", "started_on", "ended_on"}),
        lambda r: (r["started_on"], r["ended_on"] or dt.date.max, r["pairing_id"])),
    "aux_pairings": DetailList(
        Part("aux_pairings", "(o:Org)-[p:AUX_PAIRED_WITH]->(h)",
             {**{c: f"p.{c}" for c in _AUX_PROPS}, "uscc": "o.uscc"}, "pairing_id"),
        frozenset({"pairing_id", "uscc", "started_on"}), lambda r: (r["started_on"], r["pairing_id"])),
    "ledger": DetailList(
        # the actor is a Cadre or an Org: the embedded engine refuses a property its bound table lacks
        Part("ledger", "(a)-[e:ASSISTED]->(h)",
             {**{c: f"e.{c}" for c in ASSISTED.props}, "cadre_no": "a.cadre_no", "uscc": "a.uscc"}, "entry_id"),
        frozenset({"entry_id", "entry_date", "cadre_no", "uscc"}), lambda r: (r["entry_date"], r["entry_id"])),
    "problems": DetailList(
        Part("problems", "(h)-[:HAS_PROBLEM]->(p:Problem)", {c: f"p.{c}" for c in PROBLEM.columns}, "problem_no"),
        # closed_on: ``problems(openOnly: true)`` filters on it whatever the query shows
        frozenset({"problem_no", "opened_on", "closed_on"}), lambda r: (r["opened_on"], r["problem_no"])),
}
HOUSEHOLD_LISTS = frozenset({"risk_factors"})


def select(columns: Mapping[str, str], names: Iterable[str], always: Iterable[str] = ()) -> dict[str, str]:
    """The columns of ``columns`` named in ``names`` or ``always``, in their declared order; names
    that are not columns (a resolved field, a typo) are left out, so no name reaches a query
    unless the schema declares it."""
    wanted = set(names) | set(always)
    return {alias: expr for alias, expr in columns.items() if alias in wanted}


@dataclass(frozen=True)
class Wanted:
    """What a caller asks of the household: its columns, and per list (by its name in
    :data:`LISTS`) the columns of the rows; a list not named is not read. Hashable, so that a
    request's loader can key on it."""

    household: frozenset[str]
    lists: tuple[tuple[str, frozenset[str]], ...]


def household_detail_in(tx: Tx, household_no: str, wanted: Wanted, scope: Scope = EVERYTHING) -> Row | None:
    """The household (its wanted columns, and ``household_no``), with each wanted list under its
    name, sorted; None when it does not exist or lies outside ``scope``."""
    parts = []
    for name, columns in wanted.lists:
        spec = LISTS[name]
        parts.append(Part(name, spec.part.pattern, select(spec.part.columns, columns, spec.always), spec.part.present))
    head = select(HOUSEHOLD_COLUMNS, wanted.household, {HOUSEHOLD.key})
    found = tx.gather(HOUSEHOLD, "h", [household_no], scope.households(), scope.params, head, parts)
    row = found.get(household_no)
    if row is None:
        return None
    _empty_lists(row, HOUSEHOLD_LISTS)
    for name, _ in wanted.lists:
        spec = LISTS[name]
        rows = row[name]
        for r in rows:
            r["household_no"] = household_no
            _empty_lists(r, spec.lists)
        rows.sort(key=spec.order)
    return row


def _empty_lists(row: Row, names: frozenset[str]) -> None:
    for name in names:
        if name in row and row[name] is None:
            row[name] = []


def cadre_of(pairing: Row) -> Row:
    """The cadre columns of a pairing's row, under the cadre's own names."""
    out = {CADRE.key: pairing["cadre_no"]}
    out.update({k[len(CADRE_PREFIX):]: v for k, v in pairing.items() if k.startswith(CADRE_PREFIX)})
    return out
