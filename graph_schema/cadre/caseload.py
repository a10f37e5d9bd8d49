"""A cadre's own households, as the cadre's pages show them (我的结对户): each with when its
quarterly home visit is due, its disabled members, what was recorded lately and its open problems.

A household is the cadre's while their 一对一 pairing is active (the cadre's scope says so inside
the queries: a household transferred to another cadre is gone, as if it did not exist). Its visit
is due on :func:`graph_schema.monitoring.visits.visit_due` of the pairing's start and the cadre's
last 入户走访 up to ``as_of`` (the rule the cadre's reminders follow). It stands:

- **overdue** (逾期) when that day has passed;
- **due this quarter** (本季度到期) when it falls before the end of ``as_of``'s calendar quarter;
- **later** otherwise.

The households come ordered by due day (so overdue ones first, the longest overdue at the top),
then by 户编号. The records are returned as stored: what the cadre sees of them is the privacy
policy's business, applied by the pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from graph_schema.access.models import Scope
from graph_schema.enums import LedgerKind
from graph_schema.errors import NotFound
from graph_schema.household.models import Household, Person
from graph_schema.household.service import households_in, members_in
from graph_schema.ledger.models import LedgerEntry, Problem
from graph_schema.ledger.service import ledger_in, problems_in
from graph_schema.models import today
from graph_schema.monitoring.visits import visit_due
from graph_schema.pairing.service import cadre_households_in, pairings_in
from graph_schema.service.catalogue import catalogue_in
from graph_schema.service.facts import Assessment, episodes
from graph_schema.service.needs import assessments_in
from graph_schema.store.base import GraphStore, Tx

#: how many of a household's latest ledger entries come with it
RECENT = 10


class Standing(StrEnum):
    OVERDUE = "overdue"
    THIS_QUARTER = "quarter"
    LATER = "later"


@dataclass(frozen=True)
class Case:
    """One of the cadre's households."""

    household: Household
    paired_on: dt.date  # the active pairing's start
    last_visit: dt.date | None  # the cadre's last 入户走访 to it, up to as_of
    due: dt.date
    standing: Standing
    members: list[Person]
    recent: list[LedgerEntry]  # its latest entries, by anyone, newest first
    open_problems: list[Problem]  # oldest first
    needs: dict[str, list[str]]  # each member's open needs (categories) on as_of: the registry's and those assessed since

    def days_overdue(self, as_of: dt.date) -> int:
        return max(0, (as_of - self.due).days)


def quarter_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s calendar quarter.

    >>> quarter_end(dt.date(2026, 12, 6)), quarter_end(dt.date(2026, 2, 1))
    (datetime.date(2026, 12, 31), datetime.date(2026, 3, 31))
    """
    first_of_next = dt.date(day.year + (day.month > 9), (3 * ((day.month - 1) // 3) + 3) % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def standing(due: dt.date, as_of: dt.date) -> Standing:
    if due < as_of:
        return Standing.OVERDUE
    return Standing.THIS_QUARTER if due <= quarter_end(as_of) else Standing.LATER


def caseload(*, store: GraphStore, cadre_no: str, scope: Scope, as_of: dt.date | None = None,
             only: str | None = None) -> list[Case]:
    """The cadre's households now (``only``: that one, NotFound when it is not theirs), ordered
    by when a visit is due."""
    as_of = as_of or today()

    def work(tx: Tx) -> list[Case]:
        numbers = cadre_households_in(tx, [cadre_no], scope)[cadre_no]
        if only is not None:
            if only not in numbers:
                raise NotFound("家庭", "household", only)
            numbers = [only]
        if not numbers:
            return []
        return _cases(tx, cadre_no, numbers, scope, as_of)

    cases = store.read(work)
    return sorted(cases, key=lambda c: (c.due, c.household.household_no))


def _cases(tx: Tx, cadre_no: str, numbers: list[str], scope: Scope, as_of: dt.date) -> list[Case]:
    households = households_in(tx, numbers, scope)
    members, pairings = members_in(tx, numbers), pairings_in(tx, numbers)
    ledgers, problems = ledger_in(tx, numbers), problems_in(tx, numbers)
    needs = _open_needs(tx, [p for no in numbers for p in members[no]], as_of)
    out = []
    for no, household in households.items():
        paired_on = next(p.started_on for p in pairings[no] if p.active and p.cadre_no == cadre_no)
        entries = [e for e in ledgers[no] if e.entry_date <= as_of]
        last = max((e.entry_date for e in entries if e.kind is LedgerKind.VISIT and e.cadre_no == cadre_no),
                   default=None)
        due = visit_due(paired_on, last)
        out.append(Case(household, paired_on, last, due, standing(due, as_of), members[no],
                        entries[::-1][:RECENT], [p for p in problems[no] if p.open],
                        {p.id_number: needs[p.id_number] for p in members[no]}))
    return out


def _open_needs(tx: Tx, persons: list[Person], as_of: dt.date) -> dict[str, list[str]]:
    """Each person's open needs on ``as_of`` (categories, in order): the registry's 需求 and the
    needs assessed since (a visit's among them), as the service reports count them."""
    catalogue = catalogue_in(tx)
    recorded = assessments_in(tx, [p.id_number for p in persons])
    out = {}
    for person in persons:
        seen = [Assessment(n.need_id, n.service_code, catalogue.category(n.service_code, n.category and n.category.value),
                           n.assessed_on, n.status.value, n.source and n.source.value)
                for n in recorded[person.id_number] if n.assessed_on <= as_of]
        found = episodes(person.id_number, [n.value for n in person.needs], seen)
        out[person.id_number] = list(dict.fromkeys(e.category for e in found if e.open_on(as_of)))
    return out
