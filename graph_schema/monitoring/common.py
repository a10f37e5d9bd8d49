"""What every monitoring report shares: its description, its parameters, its priority fragment.

A report is a function ``run(*, store, region, as_of=None, page=PageRequest(), period_start=None)``
returning a :class:`Page` of frozen dataclass rows. The row's fields are the report's columns and,
in this order, the keys of its JSON form; ``headers`` gives each field its Chinese column title.
Every report is scoped to a region (any level), reproducible for a past date (``as_of``, default
today), totally ordered and paginated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph_schema import history
from graph_schema.errors import DateOrder
from graph_schema.identifiers import region_prefix
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import children_in, resolve_scope
from graph_schema.store.base import GraphStore, Tx

#: The households of a scope (``$prefix``), reached through their village's ``IN_REGION`` edge:
#: the embedded engine indexes only primary keys, so ``h.region_code STARTS WITH`` would read every
#: household of the province, while the few thousand regions are read in a blink (Neo4j seeks the
#: region code's index either way). Leaves ``v`` (the village) and ``h`` in scope.
SCOPED_HOUSEHOLDS = "MATCH (v:Region) WHERE v.code STARTS WITH $prefix MATCH (h:Household)-[:IN_REGION]->(v) "

#: The priority condition over the member counts ``disabled`` and ``severe`` in scope.
PRIORITY_CONDITION = risk.priority_condition()

#: The households of a scope with their disabled-member counts, filtered to priority households.
#: Needs ``$prefix``; leaves ``h``, ``disabled`` and ``severe`` in scope. The counts are those the
#: household keeps (graph_schema/store/counts.py: kept by every person write), so no household is
#: expanded to its members; they are today's, and a past day's corrections start from them as they
#: started from the members counted today. The condition is stated over the counts rather than as
#: the kept flag (:data:`PRIORITY_SCAN`), which is the same value: after these two WITHs LadybugDB
#: planned the flag as a join over the whole household table (a county's unpaired list of the
#: province store 130 ms, against 24 ms).
#:
#: The count of villages (always one) is for the embedded engine's planner: grouped by ``h`` and
#: used, it makes the scope's households a table that then masks the scans of what the reports
#: match from them (a household's pairings). Without it LadybugDB read every household and pairing
#: of the province for a county's unpaired list (190 ms against 10 ms for the county of the
#: province store); with the members' count that stood here before, the grouping did the same.
PRIORITY_HOUSEHOLDS = (
    SCOPED_HOUSEHOLDS +
    "WITH h, count(v) AS villages WHERE villages > 0 "
    "WITH h, h.disabled_count AS disabled, h.severe_count AS severe "
    f"WHERE {PRIORITY_CONDITION} "
)


#: On Neo4j, the household of a person ``p`` if it lies in the scope (leaves ``h``), asked in a
#: ``CALL`` subquery: written as a pattern, the planner starts from the scope's households whatever
#: the hints (all 700,967 of a province) rather than from the persons a wide report found by index.
HOUSEHOLD_IN_SCOPE_NEO4J = (
    "CALL (p) { MATCH (p)-[:MEMBER_OF]->(h:Household) WHERE h.region_code STARTS WITH $prefix RETURN h } "
)


#: The priority households of a scope (``$prefix``) by a filtered scan of every household, leaving
#: ``h`` in scope, for the reports that count or order a whole scope's priority households. On the
#: embedded engine a scan of the household table's columns is quick (a province's 700k households
#: in ~50 ms, a county's filtered from them in ~25 ms), while reaching them through their villages'
#: ``IN_REGION`` edges and grouping took ~1 s for a province (Neo4j seeks the region code's index
#: either way). The condition is the household's kept priority flag (graph_schema/store/counts.py),
#: which on Neo4j turns the scan into a seek of the index on (``priority``, ``region_code``): only
#: the scope's priority households are read (a province's 265k of 700k).
PRIORITY_SCAN = (
    "MATCH (h:Household) WHERE h.region_code STARTS WITH $prefix AND "
    f"{risk.KEPT_PRIORITY_CONDITION} "
)

#: The pairings active on ``$as_of`` of a 在岗 cadre with a priority household of the scope (leaves
#: ``c``, ``r`` and ``h``): counted by distinct household, the paired priority households.
PAIRED_PRIORITY = (
    "MATCH (c:Cadre)-[r:PAIRED_WITH]->(h:Household) WHERE c.on_duty AND r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on > $as_of) AND h.region_code STARTS WITH $prefix AND "
    f"{risk.KEPT_PRIORITY_CONDITION} "
)


@dataclass(frozen=True)
class Report:
    """One monitoring report, as the CLI, REST and GraphQL all offer it."""

    name: str  # as typed after ``jiedui report``
    title: str  # Chinese / English
    row: type  # a frozen dataclass: one row
    headers: dict[str, str]  # field → Chinese column title
    run: Callable[..., Page]
    ranged: bool = False  # takes a period (``period_start`` … ``as_of``)
    #: names persons with their needs (sensitive personal data): organisers and admins only, while
    #: portals read the reports without names (the service rates, the deserts …)
    organisers_only: bool = False

    @property
    def fields(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.row)]


def as_of_or_today(as_of: dt.date | None) -> dt.date:
    return as_of or today()


def period(period_start: dt.date | None, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The reporting period: ``period_start`` (default 1 January of ``as_of``'s year) to ``as_of``."""
    start = period_start or dt.date(as_of.year, 1, 1)
    if start > as_of:
        raise DateOrder(f"开始日期 {start} 晚于截止日期 {as_of}", f"period start {start} is after {as_of}")
    return start, as_of


def paginate(rows: list[Any], page: PageRequest) -> Page:
    """One page of rows already ordered (the small lists of a county are ordered in Python)."""
    return Page(rows[page.skip:page.skip + page.page_size], len(rows), page.page, page.page_size)


def as_dict(row: Any) -> dict[str, Any]:
    """A row as its JSON object (snake_case keys, in field order)."""
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}


def households_named(row: Any) -> list[str]:
    """The households a report row names (``household_no``, or a list ``households`` as the cadre
    load has): what every API records as read when it shows the row."""
    named = [getattr(row, "household_no", None), *getattr(row, "households", [])]
    return [no for no in named if no]


def region_and_children(tx: Tx, code: str, prefix: str) -> list[tuple[str, str | None, str]]:
    """``(code, name, prefix)`` of the region itself, then of each region one level down: the rows
    of the statistics that organisers report upward. Figures are counted per village and summed
    by prefix (Cypher's substring differs between the engines), so children always add up."""
    own = tx.run("MATCH (r:Region {code: $code}) RETURN r.name AS name", {"code": code})[0]["name"]
    return [(code, own, prefix)] + [(c.code, c.name, region_prefix(c.code)) for c in children_in(tx, code)]


def scope_today(store: GraphStore, region: str, as_of: dt.date) -> tuple[str, str, bool]:
    """``(12-digit code, prefix, current)`` of a report's region: ``current`` when nothing has
    changed since ``as_of``, so that the state of today (the counties' kept tallies) answers for it."""

    def read(tx: Tx) -> tuple[str, str, bool]:
        code, prefix = resolve_scope(tx, region)
        return code, prefix, history.past(tx, as_of) is None

    return store.read(read)
