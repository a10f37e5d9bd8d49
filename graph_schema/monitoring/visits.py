"""Overdue home visits (走访逾期): which priority households have not had their quarterly 入户走访?

Cadres visit each paired household at least once per quarter (每季度至少走访1次). The window is
W = [as_of − 90 days, as_of], both ends included: a visit exactly 90 days before ``as_of`` keeps a
household off the list, one 91 days before does not. Only ledger entries of kind 入户走访 dated on or
before ``as_of`` count; later entries are ignored, so a past ``as_of`` reproduces the old answer.

Only priority households (重点户, see :mod:`graph_schema.monitoring.risk`) of the scope are examined.
Responsibility is judged per pairing:

- every 一对一 pairing of cadre c with household h that overlaps W (started on or before ``as_of``
  and not ended before the window start) gives a row (h, c) when c made no 入户走访 to h dated inside
  W *and* inside that pairing's own period (on or after its start, on or before its end when it has
  ended). After a transfer within the window each cadre is credited only with their own visits made
  while responsible: if the old cadre visited and the new one has not yet, the new cadre's row is
  listed and the old one's is not; and the reverse. A pairing that started within the window and has
  had no visit since is listed too (the new cadre owes a visit). A visit by another cadre or by an
  organisation never counts for a cadre's row. Whether the cadre is 在岗 does not matter here (the
  unpaired report lists households whose cadre has left).
- a priority household with no pairing overlapping W gives one row with ``cadre_no`` None when
  nobody (no cadre, no organisation) made a 入户走访 to it inside W.

``last_visit_date`` is, for a cadre row, that cadre's own last 入户走访 to the household on or
before ``as_of`` (whenever it was, even outside the pairing); for a row without a cadre, anyone's.
``days_since`` is ``as_of − last_visit_date`` in days, None when there was never a visit.
Order: never visited first, then the longest since the last visit, then 户编号, then 干部编号.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema.enums import LedgerKind
from graph_schema.monitoring.common import PRIORITY_HOUSEHOLDS, Report, as_of_or_today, paginate
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import GraphStore, Tx

#: The quarterly visit window: a visit this many days before ``as_of`` still counts.
WINDOW_DAYS = 90

_OVERLAPS_WINDOW = "r.started_on <= $as_of AND (r.ended_on IS NULL OR r.ended_on >= $window_start)"

#: One row per pairing overlapping the window whose cadre has not visited within it. The credited
#: span (the window cut to the pairing's period) is projected first: LadybugDB mis-evaluates a NULL
#: property of an outer variable inside EXISTS {}, so only non-null values go into the subquery.
CADRE_ROWS = (
    PRIORITY_HOUSEHOLDS +
    f"MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE {_OVERLAPS_WINDOW} "
    "WITH h, c, r, CASE WHEN r.started_on > $window_start THEN r.started_on ELSE $window_start END AS credit_from, "
    "CASE WHEN r.ended_on IS NOT NULL AND r.ended_on < $as_of THEN r.ended_on ELSE $as_of END AS credit_to "
    "WHERE NOT EXISTS { MATCH (c)-[v:ASSISTED]->(h) WHERE v.kind = $visit AND v.entry_date >= credit_from "
    "AND v.entry_date <= credit_to } "
    "OPTIONAL MATCH (c)-[l:ASSISTED]->(h) WHERE l.kind = $visit AND l.entry_date <= $as_of "
    "RETURN h.household_no AS household_no, h.region_code AS region_code, c.cadre_no AS cadre_no, "
    "r.pairing_id AS pairing_id, r.started_on AS pairing_started_on, r.ended_on AS pairing_ended_on, "
    "max(l.entry_date) AS last_visit_date"
)
#: One row per priority household nobody was responsible for in the window and nobody visited in it.
UNASSIGNED_ROWS = (
    PRIORITY_HOUSEHOLDS +
    f"AND NOT EXISTS {{ MATCH (:Cadre)-[r:PAIRED_WITH]->(h) WHERE {_OVERLAPS_WINDOW} }} "
    "AND NOT EXISTS { MATCH ()-[v:ASSISTED]->(h) WHERE v.kind = $visit AND v.entry_date >= $window_start "
    "AND v.entry_date <= $as_of } "
    "OPTIONAL MATCH ()-[l:ASSISTED]->(h) WHERE l.kind = $visit AND l.entry_date <= $as_of "
    "RETURN h.household_no AS household_no, h.region_code AS region_code, max(l.entry_date) AS last_visit_date"
)


@dataclass(frozen=True)
class OverdueVisit:
    household_no: str
    region_code: str
    cadre_no: str | None
    pairing_started_on: dt.date | None
    pairing_ended_on: dt.date | None
    last_visit_date: dt.date | None
    days_since: int | None


def window_start(as_of: dt.date) -> dt.date:
    """The first day of the visit window that ends on ``as_of``."""
    return as_of - dt.timedelta(days=WINDOW_DAYS)


def overdue_visits(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                   page: PageRequest = PageRequest(), **_: object) -> Page[OverdueVisit]:
    """Priority households in ``region`` overdue for their quarterly 入户走访 on ``as_of`` (default
    today), one row per responsible cadre who has not visited (see the module docstring)."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[OverdueVisit]:
        params = {"prefix": resolve_scope(tx, region)[1], "as_of": as_of, "window_start": window_start(as_of),
                  "visit": LedgerKind.VISIT.value}
        rows = [_row(r, as_of) for r in tx.run(CADRE_ROWS, params)]
        rows += [_row(r | {"cadre_no": None, "pairing_started_on": None, "pairing_ended_on": None}, as_of)
                 for r in tx.run(UNASSIGNED_ROWS, params)]
        rows.sort(key=_order)
        return paginate(rows, page)

    return store.read(work)


def _row(row: dict, as_of: dt.date) -> OverdueVisit:
    last = row["last_visit_date"]
    return OverdueVisit(household_no=row["household_no"], region_code=row["region_code"], cadre_no=row["cadre_no"],
                        pairing_started_on=row["pairing_started_on"], pairing_ended_on=row["pairing_ended_on"],
                        last_visit_date=last, days_since=None if last is None else (as_of - last).days)


def _order(row: OverdueVisit) -> tuple:
    never = row.days_since is None
    return (not never, -(row.days_since or 0), row.household_no, row.cadre_no or "",
            row.pairing_started_on or dt.date.min)


OVERDUE_VISITS = Report(
    name="overdue-visits", title="走访逾期重点户 / priority households overdue for a home visit", row=OverdueVisit,
    headers={"household_no": "户编号", "region_code": "区划代码", "cadre_no": "结对干部编号",
             "pairing_started_on": "结对开始日期", "pairing_ended_on": "结对结束日期",
             "last_visit_date": "最近走访日期", "days_since": "距今天数"},
    run=overdue_visits)
