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

Which households are priority households, and their villages, are taken as they were on ``as_of``
(:mod:`graph_schema.history`): later imports never change a past answer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from graph_schema import history
from graph_schema.enums import LedgerKind
from graph_schema.monitoring import risk
from graph_schema.identifiers import RegionLevel
from graph_schema.monitoring.common import (
    PRIORITY_HOUSEHOLDS,
    PRIORITY_SCAN,
    SCOPED_HOUSEHOLDS,
    Report,
    as_of_or_today,
)
from graph_schema.monitoring.past import (
    KEYED_HOUSEHOLDS,
    affected_households,
    households_then,
    keyed_rows,
    members_then,
    severity,
)
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import FROM_KEY, Dialect, GraphStore, Tx

#: The quarterly visit window: a visit this many days before ``as_of`` still counts.
WINDOW_DAYS = 90

_PRIORITY_COLUMNS = "RETURN h.household_no AS household_no, h.region_code AS region_code"
#: Priority households of the scope.
PRIORITY_ROWS = PRIORITY_HOUSEHOLDS + _PRIORITY_COLUMNS


def _pairings(start: str, match: str) -> str:
    """The pairings that overlap the window, of the households ``start`` leaves in ``h``."""
    return (start + f"{match} (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
            "AND (r.ended_on IS NULL OR r.ended_on >= $window_start) "
            "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no, r.pairing_id AS pairing_id, "
            "r.started_on AS started_on, r.ended_on AS ended_on")


def _visits(start: str, match: str) -> str:
    """Every 入户走访 up to ``as_of`` to the households ``start`` leaves in ``h``, with who made it."""
    return (start + f"{match} (x)-[e:ASSISTED]->(h) WHERE e.kind = $visit AND e.entry_date <= $as_of "
            "RETURN h.household_no AS household_no, x.cadre_no AS cadre_no, e.entry_date AS entry_date")


#: The pairings of the scope's households that overlap the window.
PAIRINGS_IN_WINDOW = _pairings(SCOPED_HOUSEHOLDS, "MATCH")
#: Every 入户走访 to the scope's households up to ``as_of``, with who made it (a cadre or not).
VISITS = _visits(SCOPED_HOUSEHOLDS, "MATCH")
#: The same from the pairings' and the ledger's side, for a scope wider than a county (:func:`_facts`):
#: the pairings of its priority households, and the visits of cadres and of organisations (an
#: unlabelled author read both node tables for each entry).
_WIDE_PAIRINGS = (
    "MATCH (c:Cadre)-[r:PAIRED_WITH]->(h:Household) WHERE r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on >= $window_start) AND h.region_code STARTS WITH $prefix AND "
    f"{risk.KEPT_PRIORITY_CONDITION} "
    "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no, r.pairing_id AS pairing_id, "
    "r.started_on AS started_on, r.ended_on AS ended_on"
)
_WIDE_CADRE_VISITS = (
    "MATCH (x:Cadre)-[e:ASSISTED]->(h:Household) WHERE e.kind = $visit AND e.entry_date <= $as_of "
    "AND h.region_code STARTS WITH $prefix "
    "RETURN h.household_no AS household_no, x.cadre_no AS cadre_no, e.entry_date AS entry_date"
)
_WIDE_ORG_VISITS = (
    "MATCH (:Org)-[e:ASSISTED]->(h:Household) WHERE e.kind = $visit AND e.entry_date <= $as_of "
    "AND h.region_code STARTS WITH $prefix RETURN h.household_no AS household_no, e.entry_date AS entry_date"
)
#: The same two for households named by key (a past day's changed households).
PAIRINGS_OF, VISITS_OF = _pairings(KEYED_HOUSEHOLDS, FROM_KEY), _visits(KEYED_HOUSEHOLDS, FROM_KEY)

# The rules of the module docstring on the server, for the current day on Neo4j, so that a page is
# ordered, counted and cut there and only its rows travel (a scope wider than a county first tries
# :func:`_wide_page`, which needs neither). (LadybugDB keeps the three flat reads:
# it plans the visits of a bound cadre and household, and the ``COUNT {}``, as joins over the whole
# tables, 143 and 158 ms for one county of the province store against 37 ms for the flat reads.)
def _overdue_pairings(start: str) -> str:
    """The pairings' rows of the priority households ``start`` leaves in ``h``: a pairing
    overlapping the window whose cadre made no 入户走访 to the household inside both the window and
    the pairing; ``last`` is that cadre's own last visit. Up to the RETURN."""
    return (start + "MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
            "AND (r.ended_on IS NULL OR r.ended_on >= $window_start) "
            "OPTIONAL MATCH (c)-[e:ASSISTED]->(h) WHERE e.kind = $visit AND e.entry_date <= $as_of "
            "WITH h, c, r, max(e.entry_date) AS last, "
            "sum(CASE WHEN e.entry_date >= $window_start AND e.entry_date >= r.started_on "
            "AND (r.ended_on IS NULL OR e.entry_date <= r.ended_on) THEN 1 ELSE 0 END) AS credited "
            "WHERE credited = 0 ")


def _overdue_unpaired(start: str) -> str:
    """… then the rows of those with no pairing overlapping the window that nobody visited inside
    it (``last``: anyone's last visit)."""
    return (start + "WITH h WHERE COUNT { MATCH (:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
            "AND (r.ended_on IS NULL OR r.ended_on >= $window_start) } = 0 "
            "OPTIONAL MATCH (x)-[e:ASSISTED]->(h) WHERE e.kind = $visit AND e.entry_date <= $as_of "
            "WITH h, max(e.entry_date) AS last WHERE last IS NULL OR last < $window_start ")


#: Both from a county's or a narrower scope's villages, or for a wider scope from the priority
#: households found by a scan (:data:`PRIORITY_SCAN`: on Neo4j a seek of the region code's index
#: without grouping the households by village).
OVERDUE_PAIRINGS, OVERDUE_UNPAIRED = _overdue_pairings(PRIORITY_HOUSEHOLDS), _overdue_unpaired(PRIORITY_HOUSEHOLDS)
_WIDE_OVERDUE = _overdue_pairings(PRIORITY_SCAN), _overdue_unpaired(PRIORITY_SCAN)
_HOUSEHOLD_COLUMNS = {"household_no": "h.household_no", "region_code": "h.region_code", "last": "last",
                      "seen": "CASE WHEN last IS NULL THEN 0 ELSE 1 END"}
_PAIRING_COLUMNS = _HOUSEHOLD_COLUMNS | {"cadre_no": "c.cadre_no", "started_on": "r.started_on",
                                        "ended_on": "r.ended_on"}
#: The report's order (:func:`_order`) in Cypher: a household has rows of one query only.
_ORDER = "seen, last, household_no"

# A scope wider than a county, for the current day (:func:`_wide_page`): the page from the
# scope's priority households walked in 户编号 order, the total counted in the store. Before, a
# province's facts were read for the rules in Python on LadybugDB (663k rows, ~1.5 s, and the
# rules ~1.1 s more), and on Neo4j every row was made, ordered and collected on the server.
_OVERLAPS = "r.started_on <= $as_of AND (r.ended_on IS NULL OR r.ended_on >= $window_start)"
_IN_WINDOW = "e.kind = $visit AND e.entry_date >= $window_start AND e.entry_date <= $as_of"
#: The pairings of the scope's priority households that overlap the window …
_WIDE_PAIRINGS_COUNT = (
    f"MATCH (c:Cadre)-[r:PAIRED_WITH]->(h:Household) WHERE {_OVERLAPS} AND h.region_code STARTS WITH $prefix "
    f"AND {risk.KEPT_PRIORITY_CONDITION} RETURN count(*) AS n"
)
#: … less those whose cadre made a 入户走访 inside both the window and the pairing, counted from the
#: window's visits: 340 ms for the province against 700 ms asked per pairing with ``NOT EXISTS {}``
#: (where, on LadybugDB 0.22, the open pairing's NULL end must first be made a date: compared as
#: it is, almost no pairing counted as visited) …
_WIDE_VISITED_PAIRINGS_COUNT = (
    f"MATCH (c:Cadre)-[e:ASSISTED]->(h:Household) WHERE {_IN_WINDOW} AND h.region_code STARTS WITH $prefix "
    f"AND {risk.KEPT_PRIORITY_CONDITION} MATCH (c)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= e.entry_date "
    "AND (r.ended_on IS NULL OR r.ended_on >= e.entry_date) RETURN count(DISTINCT r.pairing_id) AS n"
)
#: … plus the priority households with no pairing overlapping the window that nobody visited inside it.
_WIDE_UNPAIRED_COUNT = (
    f"{PRIORITY_SCAN}AND NOT EXISTS {{ MATCH (:Cadre)-[r:PAIRED_WITH]->(h) WHERE {_OVERLAPS} }} "
    f"AND NOT EXISTS {{ MATCH (x)-[e:ASSISTED]->(h) WHERE {_IN_WINDOW} }} RETURN count(*) AS n"
)
#: The same total in one pass over the priority households, on Neo4j, which answers the question
#: per pairing rightly and where each of the three counts above walked as much of the graph as
#: this one pass does. Each household's pairings are expanded once and its visits only when it has
#: none (9.5 million database hits for the province, against 13.9 million when the pairings were
#: matched twice and every household's visits once).
_WIDE_TOTAL_IN_ONE_PASS = (
    f"{PRIORITY_SCAN}OPTIONAL MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE {_OVERLAPS} "
    "WITH h, count(r) AS pairings, sum(CASE WHEN r IS NOT NULL AND NOT EXISTS { MATCH (c)-[e:ASSISTED]->(h) "
    f"WHERE {_IN_WINDOW} AND e.entry_date >= r.started_on AND (r.ended_on IS NULL OR e.entry_date <= r.ended_on) }} "
    "THEN 1 ELSE 0 END) AS late "
    f"RETURN sum(late) + sum(CASE WHEN pairings > 0 THEN 0 WHEN EXISTS {{ MATCH (x)-[e:ASSISTED]->(h) "
    f"WHERE {_IN_WINDOW} }} THEN 0 ELSE 1 END) AS n"
)
#: Each engine's total: its counts, each with its sign.
_WIDE_TOTAL = {Dialect.LADYBUG: ((_WIDE_PAIRINGS_COUNT, 1), (_WIDE_VISITED_PAIRINGS_COUNT, -1),
                                 (_WIDE_UNPAIRED_COUNT, 1)),
               Dialect.NEO4J: ((_WIDE_TOTAL_IN_ONE_PASS, 1),)}
#: The scope's next priority households in 户编号 order after ``$after``. Neo4j is told to follow
#: the 户编号 index, which gives them in order and stops at the limit (62 ms for a province's
#: first 400, against 1.8 s for its planner's choice: every household of the province by the
#: region code's index, then sorted).
_WALK_MATCH = "MATCH (h:Household) "
_WALK_REST = (
    f"WHERE h.household_no > $after AND h.region_code STARTS WITH $prefix AND {risk.KEPT_PRIORITY_CONDITION} "
    "RETURN h.household_no AS household_no, h.region_code AS region_code ORDER BY household_no LIMIT $limit"
)
_WIDE_WALK = {Dialect.LADYBUG: _WALK_MATCH + _WALK_REST,
              Dialect.NEO4J: _WALK_MATCH + "USING INDEX h:Household(household_no) " + _WALK_REST}
#: The first step of the walk, in households; each next step doubles, up to :data:`WALK_LIMIT`
#: households in all (six steps), past which the page is made from the whole scope's facts.
WALK_STEP = 400
WALK_LIMIT = 25_200
#: The walk serves the pages that end within this many rows. A list asked whole (an export asks
#: for every row) would walk to the limit before the whole-scope path.
WALK_PAGE_LIMIT = 5_000


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


def visit_due(started_on: dt.date, last_visit: dt.date | None) -> dt.date:
    """The day a cadre's next quarterly 入户走访 to a household is due: :data:`WINDOW_DAYS` days
    after the cadre's last visit made since the pairing began, or after the pairing began when
    there was none (a visit made before the pairing, in an earlier one, does not count). A visit
    on the due day itself is in time, as the report's window counts it. One rule for the cadre's
    reminders (:mod:`graph_schema.notify.service`) and the cadre's own pages.

    >>> visit_due(dt.date(2024, 1, 1), None)
    datetime.date(2024, 3, 31)
    >>> visit_due(dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    datetime.date(2024, 5, 1)
    >>> visit_due(dt.date(2024, 1, 1), dt.date(2023, 12, 1))
    datetime.date(2024, 3, 31)
    """
    base = last_visit if last_visit is not None and last_visit >= started_on else started_on
    return base + dt.timedelta(days=WINDOW_DAYS)


def overdue_visits(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                   page: PageRequest = PageRequest(), **_: object) -> Page[OverdueVisit]:
    """Priority households in ``region`` overdue for their quarterly 入户走访 on ``as_of`` (default
    today), one row per responsible cadre who has not visited (see the module docstring)."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[OverdueVisit]:
        params = {"prefix": resolve_scope(tx, region)[1], "as_of": as_of, "window_start": window_start(as_of),
                  "visit": LedgerKind.VISIT.value}
        past = history.past(tx, as_of)
        if past is None:
            found = _wide_page(tx, params, page) if len(params["prefix"]) < RegionLevel.COUNTY.prefix_length else None
            if found is not None:
                return found
            if tx.dialect is Dialect.NEO4J:
                return _first_page(tx, params, page)
        facts = _facts(tx, params) if past is None else \
            _as_it_was(tx, past, *(tx.run(query, params) for query in (PRIORITY_ROWS, PAIRINGS_IN_WINDOW, VISITS)),
                       params)
        rows = sorted(_overdue(*facts, as_of))
        return Page([_visit(row, as_of) for row in rows[page.skip:page.skip + page.page_size]], len(rows),
                    page.page, page.page_size)

    return store.read(work)


def _facts(tx: Tx, params: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """Today's three reads of the scope: its priority households, their pairings overlapping the
    window and the visits. A scope wider than a county is read by scans of the households, the
    pairings and the ledger filtered by region code (:data:`PRIORITY_SCAN`; 2.5 → ~1.5 s for the
    province store), a county or narrower from its villages, which is quicker there. A wider
    scope's page comes here only when :func:`_wide_page` cannot find it."""
    if len(params["prefix"]) >= RegionLevel.COUNTY.prefix_length:
        return tx.run(PRIORITY_ROWS, params), tx.run(PAIRINGS_IN_WINDOW, params), tx.run(VISITS, params)
    return (tx.run(PRIORITY_SCAN + _PRIORITY_COLUMNS, params), tx.run(_WIDE_PAIRINGS, params),
            tx.run(_WIDE_CADRE_VISITS, params)
            + [{**r, "cadre_no": None} for r in tx.run(_WIDE_ORG_VISITS, params)])


def _first_page(tx: Tx, params: dict, page: PageRequest) -> Page[OverdueVisit]:
    """A page of the current answer: each query's rows up to the page's end, ordered and cut on
    the server, merged here."""
    upto = page.skip + page.page_size
    narrow = len(params["prefix"]) >= RegionLevel.COUNTY.prefix_length
    pairings, unpaired = (OVERDUE_PAIRINGS, OVERDUE_UNPAIRED) if narrow else _WIDE_OVERDUE
    with_cadre, cadre_rows = tx.ordered_page(pairings, _PAIRING_COLUMNS, _ORDER + ", cadre_no, started_on", params,
                                             0, upto)
    without, household_rows = tx.ordered_page(unpaired, _HOUSEHOLD_COLUMNS, _ORDER, params, 0, upto)
    as_of = params["as_of"]
    rows = [_row(r["household_no"], r["region_code"], r, r["last"], as_of) for r in cadre_rows]
    rows += [_row(r["household_no"], r["region_code"], None, r["last"], as_of) for r in household_rows]
    rows.sort(key=_order)
    return Page(rows[page.skip:upto], with_cadre + without, page.page, page.page_size)


def _wide_page(tx: Tx, params: dict, page: PageRequest) -> Page[OverdueVisit] | None:
    """A page of today's answer for a scope wider than a county, without reading the whole scope.

    The rows never visited come first in the report's order, and among them 户编号 decides. So the
    scope's priority households are walked in 户编号 order (:data:`_WIDE_WALK`), each step's rows
    made by :func:`_overdue` from that step's own pairings and visits (a household's rows depend on
    them alone), until the never-visited rows reach the page's end: no household further on can
    come before them. The total is counted in the store (:data:`_WIDE_TOTAL`). None when the
    never-visited rows do not reach the page's end within :data:`WALK_LIMIT` households or the
    whole scope, or the page ends past :data:`WALK_PAGE_LIMIT` rows (a scope where nearly every row
    has had a visit, a late page, a whole list asked at once): the caller then takes the path that
    makes every row."""
    upto = page.skip + page.page_size
    if upto > min(WALK_PAGE_LIMIT, WALK_LIMIT):  # a whole list asked at once
        return None
    never: list[tuple] = []
    after, step, walked = "", WALK_STEP, 0
    while len(never) < upto:
        if walked + step > WALK_LIMIT:
            return None
        households = tx.run(_WIDE_WALK[tx.dialect], {**params, "after": after, "limit": step})
        keys = [h["household_no"] for h in households]
        if keys:
            pairings = [r for r in keyed_rows(tx, PAIRINGS_OF, keys, params) if r["pairing_id"]]
            visit_rows = [r for r in keyed_rows(tx, VISITS_OF, keys, params) if r["entry_date"]]
            never += [row for row in _overdue(households, pairings, visit_rows, params["as_of"]) if not row[0]]
        if len(households) < step:  # the scope's end: every never-visited row is in hand
            if len(never) < upto:
                return None
            break
        after, walked, step = keys[-1], walked + step, step * 2
    total = sum(sign * tx.run(query, params)[0]["n"] for query, sign in _WIDE_TOTAL[tx.dialect])
    never.sort()
    return Page([_visit(row, params["as_of"]) for row in never[page.skip:upto]], total, page.page, page.page_size)


def _as_it_was(tx: Tx, past: history.Past, households: list[dict], pairings: list[dict], visit_rows: list[dict],
               params: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """The scope's facts with the households changed since the day made again from their state of
    the day: whether they were priority households, and their village."""
    affected = affected_households(tx, past)
    then = households_then(tx, past, affected, params["prefix"])
    members = members_then(tx, past, then)
    priority = []
    for no, h in then.items():
        disabled, severe = severity(members[no])
        if risk.RiskFacts(h["monitoring"], h["tekun"], h["dibao"], h["elderly_carer"], h["labour"], disabled,
                          severe).priority:
            priority.append({"household_no": no, "region_code": h["region_code"]})
    keys = [h["household_no"] for h in priority]

    def others(rows: list[dict]) -> list[dict]:
        return [r for r in rows if r["household_no"] not in affected]

    return (others(households) + priority,
            others(pairings) + [r for r in keyed_rows(tx, PAIRINGS_OF, keys, params) if r["pairing_id"]],
            others(visit_rows) + [r for r in keyed_rows(tx, VISITS_OF, keys, params) if r["entry_date"]])


def _overdue(households: list[dict], pairings: list[dict], visit_rows: list[dict],
             as_of: dt.date) -> list[tuple]:
    """The rules of the module docstring, over the scope's raw facts (three cheap reads instead of
    subqueries per household: a county takes a few tens of milliseconds), as rows of
    :func:`_ordered`: a province's ~200k rows are ordered as tuples, and only a page of them
    becomes :class:`OverdueVisit` (:func:`_visit`)."""
    start = window_start(as_of)
    by_actor: dict[tuple[str, str | None], list[dt.date]] = defaultdict(list)
    last_of: dict[str, dt.date] = {}  # anyone's last visit to each household (the reads stop at as_of)
    for v in visit_rows:
        household, day = v["household_no"], v["entry_date"]
        by_actor[(household, v["cadre_no"])].append(day)
        if household not in last_of or last_of[household] < day:
            last_of[household] = day
    regions = {h["household_no"]: h["region_code"] for h in households}
    responsible: set[str] = set()
    out = []
    for p in pairings:
        h = p["household_no"]
        if h not in regions:
            continue
        responsible.add(h)
        own = by_actor.get((h, p["cadre_no"]), [])
        last = max(own, default=None)
        credit_from = max(p["started_on"], start)
        if p["ended_on"] is None or p["ended_on"] >= as_of:  # credited up to as_of: the last visit tells
            credited = last is not None and last >= credit_from
        else:
            credited = any(credit_from <= day <= p["ended_on"] for day in own)
        if not credited:
            out.append(_ordered(h, regions[h], p, last))
    for h, region_code in regions.items():
        if h not in responsible:
            last = last_of.get(h)
            if last is None or last < start:
                out.append(_ordered(h, region_code, None, last))
    return out


def _ordered(household_no: str, region_code: str, pairing: dict | None, last: dt.date | None) -> tuple:
    """A row of the report as a tuple that sorts in the report's order (:func:`_order`): never
    visited first, then the earliest last visit, then 户编号, 干部编号 and the pairing's start (and,
    for two pairings of one cadre begun on one day, its end)."""
    cadre_no, started_on, ended_on = (pairing["cadre_no"], pairing["started_on"], pairing["ended_on"]) \
        if pairing else (None, None, None)
    return (last is not None, last or dt.date.min, household_no, cadre_no or "", started_on or dt.date.min,
            ended_on or dt.date.max, region_code, cadre_no, started_on, ended_on, last)


def _visit(row: tuple, as_of: dt.date) -> OverdueVisit:
    """The report's row of a tuple of :func:`_ordered`."""
    household_no, (region_code, cadre_no, started_on, ended_on, last) = row[2], row[6:]
    return OverdueVisit(household_no=household_no, region_code=region_code, cadre_no=cadre_no,
                        pairing_started_on=started_on, pairing_ended_on=ended_on, last_visit_date=last,
                        days_since=None if last is None else (as_of - last).days)


def _row(household_no: str, region_code: str, pairing: dict | None, last: dt.date | None,
         as_of: dt.date) -> OverdueVisit:
    return _visit(_ordered(household_no, region_code, pairing, last), as_of)


def due_for_a_quarter(rows: Iterable[OverdueVisit], as_of: dt.date) -> list[OverdueVisit]:
    """The rows of households a cadre has let go without a visit: an active pairing that started
    on or before the window's first day, so the cadre has been responsible for a whole quarter.
    One row per household (a household has one active 一对一 pairing at most): the dashboard's
    figure and the list's "due" filter.

    The report lists more, one row per cadre: households without a cadre (the unpaired list
    counts them), pairings that ended in the window, and pairings younger than a quarter, whose
    cadre still has time for the first visit.
    """
    start = window_start(as_of)
    return [r for r in rows if r.cadre_no and r.pairing_ended_on is None
            and r.pairing_started_on is not None and r.pairing_started_on <= start]


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
