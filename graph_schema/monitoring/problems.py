"""Problems (困难) still open, and how many a region closes (动态清零).

A problem is opened by a 反映困难 ledger entry (``opened_on`` is its date, ``reported_by`` its
cadre or organisation) and closed by a 解决困难 entry with the same number (``closed_on``). A problem
is *open on a day* D when ``opened_on ≤ D`` and it has no ``closed_on`` or ``closed_on > D``: a problem
closed exactly on ``as_of`` is no longer open, one opened on ``as_of`` is open (age 0), and one closed
after ``as_of`` counts as open when the report looks at a past ``as_of``.

``open-problems`` lists the problems of the scope's households open on ``as_of``, oldest first
(``age_days = as_of − opened_on``, then 问题编号). ``reporter_name`` is the reporting cadre's or
organisation's name when the store knows it. ``cadre_no`` is the household's responsible cadre on
``as_of``: the cadre of a 一对一 pairing active that day (started on or before it, not ended on or
before it), None when there is none.

``problem-closure`` counts, for the period [``period_start``, ``as_of``] (``period_start`` defaults to
1 January of ``as_of``'s year), per region: ``carried_over`` open at the period start (opened before
it, not closed before it), ``opened`` inside the period, ``closed`` inside the period, ``still_open``
on ``as_of``; so ``carried_over + opened − closed = still_open``. ``closure_rate`` is
``closed / (carried_over + opened)`` rounded to 4 places, None when nothing was to be closed. The
first row is the region itself, then one row per region one level down (a village has none), by
code; the children's counts add up to the region's. A problem belongs to its household's village.

Households (their village, the head's name), the reporters' names and the regions are taken as
they were on ``as_of`` (:mod:`graph_schema.history`): later imports never change a past answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema import history
from graph_schema.monitoring.common import SCOPED_HOUSEHOLDS, Report, as_of_or_today, paginate, period, region_and_children
from graph_schema.monitoring.past import KEYED_HOUSEHOLDS, households_then, keyed_rows, regions_then
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import FROM_KEY, GraphStore, Tx
from graph_schema.store.schema import CADRE, HOUSEHOLD, ORG

_OPEN_ON_AS_OF = "p.opened_on <= $as_of AND (p.closed_on IS NULL OR p.closed_on > $as_of)"



def _open_problems(start: str, match: str) -> str:
    """The open problems of the households ``start`` leaves in ``h``, with each household's
    responsible cadre(s) on ``as_of`` (one row per cadre)."""
    return (
        start +
        f"{match} (h)-[:HAS_PROBLEM]->(p:Problem) WHERE {_OPEN_ON_AS_OF} "
        "OPTIONAL MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
        "AND (r.ended_on IS NULL OR r.ended_on > $as_of) "
        "RETURN p.problem_key AS problem_key, p.problem_no AS problem_no, h.household_no AS household_no, "
        "h.region_code AS region_code, "
        "h.head_name AS head_name, p.opened_on AS opened_on, p.reported_by AS reported_by, "
        "p.description AS description, c.cadre_no AS cadre_no"
    )


#: The open problems of the scope with the household's responsible cadre(s) on ``as_of``.
OPEN_PROBLEMS_QUERY = _open_problems(SCOPED_HOUSEHOLDS, "MATCH")
#: The same for households named by key (a past day's changed households).
OPEN_PROBLEMS_OF = _open_problems(KEYED_HOUSEHOLDS, FROM_KEY)
CADRE_NAMES = "UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k}) RETURN k AS key, c.name AS name"
ORG_NAMES = "UNWIND $keys AS k MATCH (o:Org {uscc: k}) RETURN k AS key, o.name AS name"



def _closure(start: str, match: str, returns: str) -> str:
    """Counts of the problems that touch the period (open at some time within it), per the columns
    ``returns`` names, of the households ``start`` leaves in ``h``."""
    return (
        start +
        f"{match} (h)-[:HAS_PROBLEM]->(p:Problem) WHERE p.opened_on <= $as_of "
        "AND (p.closed_on IS NULL OR p.closed_on >= $start) "
        f"RETURN {returns}"
        "sum(CASE WHEN p.opened_on < $start THEN 1 ELSE 0 END) AS carried_over, "
        "sum(CASE WHEN p.opened_on >= $start THEN 1 ELSE 0 END) AS opened, "
        "sum(CASE WHEN p.closed_on IS NOT NULL AND p.closed_on <= $as_of THEN 1 ELSE 0 END) AS closed, "
        "sum(CASE WHEN p.closed_on IS NULL OR p.closed_on > $as_of THEN 1 ELSE 0 END) AS still_open"
    )


#: Counts per village of the problems that touch the period (open at some time within it).
CLOSURE_BY_VILLAGE = _closure(SCOPED_HOUSEHOLDS, "MATCH", "h.region_code AS region_code, ")
#: The same per household, for households named by key (a past day's changed households).
CLOSURE_OF = _closure(KEYED_HOUSEHOLDS, "MATCH", "h.household_no AS household_no, h.region_code AS region_code, ")
_COUNTS = ("carried_over", "opened", "closed", "still_open")


@dataclass(frozen=True)
class OpenProblem:
    problem_no: str
    household_no: str
    region_code: str
    head_name: str
    opened_on: dt.date
    age_days: int
    reported_by: str
    reporter_name: str | None
    cadre_no: str | None
    description: str | None


@dataclass(frozen=True)
class ProblemClosure:
    region_code: str
    region_name: str | None
    carried_over: int
    opened: int
    closed: int
    still_open: int
    closure_rate: float | None


def open_problems(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                  page: PageRequest = PageRequest(), **_: object) -> Page[OpenProblem]:
    """Problems of ``region``'s households open on ``as_of`` (default today), oldest first."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[OpenProblem]:
        params = {"prefix": resolve_scope(tx, region)[1], "as_of": as_of}
        rows = tx.run(OPEN_PROBLEMS_QUERY, params)
        past = history.past(tx, as_of)
        if past is not None:
            rows = _open_as_it_was(tx, past, rows, params)
        found: dict[str, dict] = {}
        for row in rows:
            kept = found.setdefault(row["problem_key"], row)  # numbers repeat across counties
            # a household has one active pairing; should imported history hold two, name the first
            if row["cadre_no"] is not None and (kept["cadre_no"] is None or row["cadre_no"] < kept["cadre_no"]):
                kept["cadre_no"] = row["cadre_no"]
        names = _reporter_names(tx, sorted({r["reported_by"] for r in found.values() if r["reported_by"]}))
        if past is not None:  # the names of the day
            names |= {k: v for k, v in past.earlier(ORG, "name").items() if k in names}
            names |= {k: v for k, v in past.earlier(CADRE, "name").items() if k in names}
        rows = [OpenProblem(problem_no=r["problem_no"], household_no=r["household_no"], region_code=r["region_code"],
                            head_name=r["head_name"], opened_on=r["opened_on"],
                            age_days=(as_of - r["opened_on"]).days, reported_by=r["reported_by"],
                            reporter_name=names.get(r["reported_by"]), cadre_no=r["cadre_no"],
                            description=r["description"])
                for r in found.values()]
        rows.sort(key=lambda r: (-r.age_days, r.problem_no, r.household_no))
        return paginate(rows, page)

    return store.read(work)


def _open_as_it_was(tx: Tx, past: history.Past, rows: list[dict], params: dict) -> list[dict]:
    """``rows`` with those of the households changed since the day made again from their state of
    the day (their village and head's name)."""
    changed = past.touched(HOUSEHOLD)
    then = households_then(tx, past, changed, params["prefix"])
    kept = [r for r in rows if r["household_no"] not in changed]
    for r in keyed_rows(tx, OPEN_PROBLEMS_OF, then, params):
        if r["problem_no"] is not None:
            h = then[r["household_no"]]
            kept.append({**r, "region_code": h["region_code"], "head_name": h["head_name"]})
    return kept


def _reporter_names(tx: Tx, keys: list[str]) -> dict[str, str]:
    """Names of the reporters by 干部编号 or 统一社会信用代码 (a cadre first, should both match)."""
    if not keys:
        return {}
    names = {r["key"]: r["name"] for r in tx.run(ORG_NAMES, {"keys": keys})}
    names |= {r["key"]: r["name"] for r in tx.run(CADRE_NAMES, {"keys": keys})}
    return names


def problem_closure(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                    period_start: dt.date | None = None, page: PageRequest = PageRequest(),
                    **_: object) -> Page[ProblemClosure]:
    """Problems carried over, opened, closed and still open in ``region`` and each region one level
    down, over [``period_start``, ``as_of``] (see the module docstring)."""
    start, end = period(period_start, as_of_or_today(as_of))

    def work(tx: Tx) -> Page[ProblemClosure]:
        code, prefix = resolve_scope(tx, region)
        params = {"prefix": prefix, "start": start, "as_of": end}
        villages = tx.run(CLOSURE_BY_VILLAGE, params)
        regions = region_and_children(tx, code, prefix)
        past = history.past(tx, end)
        if past is not None:
            villages += _closure_moves(tx, past, params)
            regions = regions_then(past, regions)
        return paginate([_closure_row(*region, villages) for region in regions], page)

    return store.read(work)


def _closure_moves(tx: Tx, past: history.Past, params: dict) -> list[dict]:
    """Corrections to the counts per village for the households changed since the day: each one's
    counts taken away from the village it is in now (if in scope) and added to the village it was
    in then (if it existed then and lay in scope)."""
    changed = past.touched(HOUSEHOLD)
    then = households_then(tx, past, changed, params["prefix"])
    out = []
    for r in keyed_rows(tx, CLOSURE_OF, changed, params):
        if r["region_code"].startswith(params["prefix"]):
            out.append({**r, **{k: -int(r[k]) for k in _COUNTS}})
        if r["household_no"] in then:
            out.append({**r, "region_code": then[r["household_no"]]["region_code"]})
    return out


def _closure_row(code: str, name: str | None, prefix: str, villages: list[dict]) -> ProblemClosure:
    """One region's row: the sum of its villages' counts (a village's code starts with the prefix)."""
    counts = dict.fromkeys(_COUNTS, 0)
    for village in villages:
        if village["region_code"].startswith(prefix):
            for key in _COUNTS:
                counts[key] += int(village[key])
    due = counts["carried_over"] + counts["opened"]
    return ProblemClosure(region_code=code, region_name=name, **counts,
                          closure_rate=round(counts["closed"] / due, 4) if due else None)


OPEN_PROBLEMS = Report(
    name="open-problems", title="未解决困难 / open problems", row=OpenProblem,
    headers={"problem_no": "问题编号", "household_no": "户编号", "region_code": "区划代码", "head_name": "户主",
             "opened_on": "反映日期", "age_days": "已持续天数", "reported_by": "反映人", "reporter_name": "反映人名称",
             "cadre_no": "结对干部编号", "description": "困难描述"},
    run=open_problems)

PROBLEM_CLOSURE = Report(
    name="problem-closure", title="困难动态清零 / problem closure", row=ProblemClosure,
    headers={"region_code": "区划代码", "region_name": "区划名称", "carried_over": "期初未解决", "opened": "本期新增",
             "closed": "本期解决", "still_open": "期末未解决", "closure_rate": "解决率"},
    run=problem_closure, ranged=True)
