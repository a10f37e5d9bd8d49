"""Coverage (帮扶覆盖): the figures organisers report upward, per region, for a period.

One row for the region itself, then one per region one level down (province → cities → counties
→ townships → villages; a village has only its own row). Every figure is counted on the households
of the region, so a region's figures are the sums of its children's (the pairing rate excepted,
which is recomputed from the sums).

- ``priority_households``: 重点户 as defined in :mod:`risk`, with today's household facts;
- ``paired``: those with a 一对一 pairing with a 在岗 cadre active on ``as_of``; ``pairing_rate`` =
  paired / priority_households (4 places; None when there are none);
- ``aux_pairings``: auxiliary pairings (辅助结对) active on ``as_of``;
- ledger figures over the period ``period_start`` (default 1 January) … ``as_of``, both days
  included: ``contacts`` 联系交流, ``home_visits`` 入户走访, ``policies`` 落实政策, ``problems_solved``
  解决困难, ``problems_escalated`` 反映困难 (difficulties reported upward), ``practical_help`` 帮办实事,
  ``volunteer_services`` 志愿服务, with ``volunteers`` the volunteers they name (人次) and
  ``volunteer_minutes`` the time those volunteers gave (each entry's volunteers × minutes; entries
  without both figures add none); ``funds_cash_fen`` / ``funds_in_kind_fen`` the cash and in-kind
  value of every entry; ``org_donations`` the 捐款捐物 entries of organisations and
  ``org_donations_fen`` their cash plus in-kind value. Money is in fen (1 yuan = 100 fen), time in
  minutes, so every figure is an exact integer sum.

The households' facts, members and villages, the cadres' 在岗 and the regions are taken as they were
on ``as_of`` (:mod:`graph_schema.history`): later imports never change a past answer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, fields

from graph_schema import history
from graph_schema.enums import LedgerKind
from graph_schema.identifiers import RegionLevel, region_level
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.monitoring.common import (
    PAIRED_PRIORITY,
    PRIORITY_SCAN,
    SCOPED_HOUSEHOLDS,
    Report,
    as_of_or_today,
    paginate,
    period,
    region_and_children,
)
from graph_schema.monitoring.past import (
    KEYED_HOUSEHOLDS,
    affected_households,
    cadres_then,
    households_then,
    keyed_rows,
    members_then,
    paired_on,
    regions_then,
    severity,
)
from graph_schema.pagination import Page, PageRequest
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import resolve_scope
from graph_schema.store import ledger_sums
from graph_schema.store.base import Dialect, GraphStore, Tx
from graph_schema.store.schema import CADRE, HOUSEHOLD

#: The scope's priority households, counted by area (:data:`_AREA`), then those of them with a
#: 一对一 pairing with a 在岗 cadre active on ``$as_of``, counted from the pairings' side. Two plain
#: matches on LadybugDB rather than a count of pairings per household: it planned that count as
#: a join over every pairing of the store for each scope (0.9 s for the province store, 0.27 s for
#: one of its counties), where these take ~50 and ~180 ms for the province.
_PRIORITY = PRIORITY_SCAN + "RETURN left(h.region_code, $width) AS village, count(h) AS priority"
_PAIRED = PAIRED_PRIORITY + "RETURN left(h.region_code, $width) AS village, count(DISTINCT h) AS paired"
#: (A day before today's; today's read the kept counts, :data:`_PRIORITY_KEPT`.)
#: Neo4j counts each priority household's pairings in one match from the same scan: there the
#: count is an expand per household (94 ms for a city store, against 145 ms for the two matches
#: and 123 ms from the villages).
#: A scope with children is walked in two halves side by side (:meth:`Tx.side_by_side`), split at
#: its middle child's code (``$split``): a statement is one core's work (670–1,070 ms for the
#: province's 265,575 priority households).
_PRIORITY_NEO4J, *_PRIORITY_HALVES_NEO4J = (
    PRIORITY_SCAN + half + "WITH h, COUNT { MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE c.on_duty "
    "AND r.started_on <= $as_of AND (r.ended_on IS NULL OR r.ended_on > $as_of) } AS pairs "
    "RETURN left(h.region_code, $width) AS village, count(h) AS priority, "
    "sum(CASE WHEN pairs > 0 THEN 1 ELSE 0 END) AS paired"
    for half in ("", "AND h.region_code < $split ", "AND h.region_code >= $split ")
)
#: Today's (``$as_of`` today or later): the priority households and those of them paired with a
#: 在岗 cadre in one scan on both engines, from the pairing counts the household keeps
#: (graph_schema/store/paired.py), with no pairing walked.
_PRIORITY_KEPT = (PRIORITY_SCAN + "RETURN left(h.region_code, $width) AS village, count(h) AS priority, "
                  "sum(CASE WHEN h.on_duty_pairings > 0 THEN 1 ELSE 0 END) AS paired")

#: What the scope's figures are counted by: the first ``$width`` digits of the household's village
#: code, as wide as the rows' region prefixes (:func:`_width`). Counting by area on the server
#: rather than by village returns a few dozen rows instead of one per village (and kind), which on
#: Neo4j, where the driver decodes each record in ~13 µs, was most of a province's time. The
#: per-household corrections of a past day (:func:`_moves`) stay keyed by village: ``_row`` sums
#: every key that starts with a row's prefix, so both kinds of key add up alike.
_AREA = "left(h.region_code, $width) AS village"


def _aux(start: str, returns: str = "", area: str = _AREA) -> str:
    return (start + "MATCH (:Org)-[a:AUX_PAIRED_WITH]->(h) WHERE a.started_on <= $as_of "
            "AND (a.ended_on IS NULL OR a.ended_on > $as_of) "
            f"RETURN {returns}{area}, count(a) AS n")


#: who made the ledger's entries: the author's pattern and whether it is an organisation
_AUTHORS = {"anyone": ("x", "x.uscc IS NOT NULL"), "cadres": ("x:Cadre", "false"), "orgs": ("x:Org", "true")}


def _ledger(start: str, returns: str = "", area: str = _AREA, by: str = "anyone") -> str:
    """The period's ledger entries of the households ``start`` leaves in ``h``, summed by area,
    kind and whether an organisation made them; ``by`` names who made them (:data:`_AUTHORS`)."""
    author, by_org = _AUTHORS[by]
    return (start + f"MATCH ({author})-[e:ASSISTED]->(h) WHERE e.entry_date >= $start AND e.entry_date <= $as_of "
            f"RETURN {returns}{area}, e.kind AS kind, {by_org} AS by_org, " + ledger_sums.ENTRY_FIGURES)


_AUX = _aux(SCOPED_HOUSEHOLDS)
#: A wide scope's auxiliary pairings on Neo4j: read from the pairings' own index (a province's
#: ~5k) rather than by expanding every household of the scope, which its planner chose whatever
#: the pattern's order (390 → 37 ms for the province).
_AUX_WIDE_NEO4J = ("MATCH (:Org)-[a:AUX_PAIRED_WITH]->(h:Household) USING INDEX a:AUX_PAIRED_WITH(pairing_id) "
                   "WHERE a.pairing_id IS NOT NULL AND a.started_on <= $as_of "
                   "AND (a.ended_on IS NULL OR a.ended_on > $as_of) AND h.region_code STARTS WITH $prefix "
                   "RETURN " + _AREA + ", count(a) AS n")
#: The ledger of the scope, one match per kind of author: matched from an unlabelled ``x``, the
#: embedded engine read every entry's author from both node tables to test ``x.uscc`` (1.1 s for a
#: province's year against 0.28 s for the two labelled matches, which give the same rows).
#: Neo4j reads the author's label with the entry and keeps the one match (155 against 179 ms).
_LEDGERS = {Dialect.LADYBUG: [_ledger(SCOPED_HOUSEHOLDS, by="cadres"), _ledger(SCOPED_HOUSEHOLDS, by="orgs")],
            Dialect.NEO4J: [_ledger(SCOPED_HOUSEHOLDS)]}
#: A wide scope's whole months from the ledger's sums of its counties (graph_schema/store/ledger_sums.py,
#: kept by the ledger writes): the months ``$first`` … before ``$after``, summed on the server by
#: area, kind and author as :func:`_ledger` sums the entries. A province's year is ~2k sums against
#: ~900k entries.
_MONTHS = ("MATCH (t:LedgerSum) WHERE t.county STARTS WITH $prefix AND t.month >= $first AND t.month < $after "
           "RETURN left(t.county, $width) AS village, t.kind AS kind, t.by_org AS by_org, sum(t.n) AS n, "
           "sum(t.cash) AS cash, sum(t.in_kind) AS in_kind, sum(t.people) AS people, sum(t.given) AS given")
#: … and the days of its period outside whole months from the entries: Neo4j seeks them by the
#: index on their date (walking every household of a province to its edges took ~2 s whatever the
#: days), LadybugDB scans the edges as for a county.
_DAYS = {Dialect.LADYBUG: _LEDGERS[Dialect.LADYBUG],
         Dialect.NEO4J: ["MATCH (x)-[e:ASSISTED]->(h:Household) USING INDEX e:ASSISTED(entry_date) "
                         "WHERE e.entry_date >= $start AND e.entry_date <= $as_of "
                         "AND h.region_code STARTS WITH $prefix "
                         "RETURN " + _AREA + ", e.kind AS kind, x.uscc IS NOT NULL AS by_org, "
                         + ledger_sums.ENTRY_FIGURES]}
_VILLAGE = "h.region_code AS village"
#: The same per household, for households named by key (a past day's changed households).
_AUX_OF = _aux(KEYED_HOUSEHOLDS, "h.household_no AS household_no, ", _VILLAGE)
_LEDGER_OF = _ledger(KEYED_HOUSEHOLDS, "h.household_no AS household_no, ", _VILLAGE)
#: the ledger's sums, each taken away for a household counted in another village on a past day
_SUMS = ("cash", "in_kind", "people", "given")
_COUNTED = {
    LedgerKind.CONTACT: "contacts", LedgerKind.VISIT: "home_visits", LedgerKind.POLICY: "policies",
    LedgerKind.SOLVE_PROBLEM: "problems_solved", LedgerKind.REPORT_PROBLEM: "problems_escalated",
    LedgerKind.PRACTICAL_HELP: "practical_help", LedgerKind.VOLUNTEER: "volunteer_services",
}


@dataclass(frozen=True)
class CoverageRow:
    region_code: str
    region_name: str | None
    level: str
    priority_households: int = 0
    paired: int = 0
    pairing_rate: float | None = None
    aux_pairings: int = 0
    contacts: int = 0
    home_visits: int = 0
    policies: int = 0
    problems_solved: int = 0
    problems_escalated: int = 0
    practical_help: int = 0
    volunteer_services: int = 0
    volunteers: int = 0
    volunteer_minutes: int = 0
    funds_cash_fen: int = 0
    funds_in_kind_fen: int = 0
    org_donations: int = 0
    org_donations_fen: int = 0


_SUMMED = [f.name for f in fields(CoverageRow) if f.type == "int"]


def coverage(*, store: GraphStore, region: str, as_of: dt.date | None = None, period_start: dt.date | None = None,
             page: PageRequest = PageRequest(), **_) -> Page[CoverageRow]:
    """The region's row, then its children's, for the period ending ``as_of``."""
    as_of = as_of_or_today(as_of)
    start, as_of = period(period_start, as_of)

    def work(tx: Tx) -> list[CoverageRow]:
        code, prefix = resolve_scope(tx, region)
        regions = region_and_children(tx, code, prefix)
        params = {"prefix": prefix, "start": start, "as_of": as_of, "width": _width(regions)}
        if as_of >= today():
            reads = [_PRIORITY_KEPT]
        elif tx.dialect is Dialect.NEO4J and len(regions) > 2:
            reads = _PRIORITY_HALVES_NEO4J
            params["split"] = regions[1 + len(regions[1:]) // 2][2]
        elif tx.dialect is Dialect.NEO4J:
            reads = [_PRIORITY_NEO4J]
        else:
            reads = [_PRIORITY, _PAIRED]
        wide = len(prefix) < RegionLevel.COUNTY.prefix_length
        reads = [*reads, _AUX_WIDE_NEO4J if wide and tx.dialect is Dialect.NEO4J else _AUX]
        *found, ledger = tx.side_by_side([lambda t, query=query: t.run(query, params) for query in reads]
                                         + [lambda t: _ledger_rows(t, params)])
        priority, aux = [r for rows in found[:-1] for r in rows], found[-1]
        past = history.past(tx, as_of)
        if past is not None:
            more = _moves(tx, past, params)
            priority, aux, ledger = priority + more[0], aux + more[1], ledger + more[2]
            regions = regions_then(past, regions)
        by_village: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_SUMMED, 0))
        for r in priority:
            by_village[r["village"]]["priority_households"] += r.get("priority", 0)
            by_village[r["village"]]["paired"] += int(r.get("paired") or 0)
        for r in aux:
            by_village[r["village"]]["aux_pairings"] += r["n"]
        for r in ledger:
            figures = by_village[r["village"]]
            if r["kind"] in _COUNTED:
                figures[_COUNTED[r["kind"]]] += r["n"]
            if r["kind"] == LedgerKind.VOLUNTEER:
                figures["volunteers"] += int(r["people"] or 0)
                figures["volunteer_minutes"] += int(r["given"] or 0)
            figures["funds_cash_fen"] += int(r["cash"] or 0)
            figures["funds_in_kind_fen"] += int(r["in_kind"] or 0)
            if r["kind"] == LedgerKind.DONATION and r["by_org"]:
                figures["org_donations"] += r["n"]
                figures["org_donations_fen"] += int(r["cash"] or 0) + int(r["in_kind"] or 0)
        return [_row(*region, by_village) for region in regions]

    return paginate(store.read(work), page)


def _ledger_rows(tx: Tx, params: dict) -> list[dict]:
    """The period's ledger figures by area, kind and author. A scope whose rows are whole counties
    (a province's cities, a city's counties) reads the months its period holds whole from the
    counties' sums, and the days at the ends from the entries; a narrower one, or a store not yet
    summed, reads the entries."""
    queries = _LEDGERS[tx.dialect]
    start, as_of = params["start"], params["as_of"]
    first = start if start.day == 1 else _next_month(start)
    after = _next_month(as_of) if (_next_month(as_of) - as_of).days == 1 else as_of.replace(day=1)
    if params["width"] > 6 or first >= after or not ledger_sums.is_summed(tx):
        return [r for query in queries for r in tx.run(query, params)]
    rows = tx.run(_MONTHS, {**params, "first": first, "after": after})
    for days in ((start, first - dt.timedelta(days=1)), (after, as_of)):
        if days[0] <= days[1]:
            rows += [r for query in _DAYS[tx.dialect] for r in tx.run(query, {**params, "start": days[0],
                                                                             "as_of": days[1]})]
    return rows


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _width(regions: list[tuple[str, str | None, str]]) -> int:
    """How many leading digits of a village code the figures are counted by: the longest prefix
    of the rows (the region's own, or its children's one level down), so that every row's
    figures are sums of whole areas."""
    return max(len(prefix) for _, _, prefix in regions)


def _moves(tx: Tx, past: history.Past, params: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """Corrections to the per-village counts for the households changed since the day (their
    facts, members, village, or their cadre's 在岗): each one's counts as of today taken away from
    the village it is in now (if in scope), and its counts of the day added to the village it was
    in then (if it existed then and lay in scope)."""
    prefix, as_of = params["prefix"], params["as_of"]
    affected = affected_households(tx, past, cadres_on=as_of)
    now = {k: r for k, r in fetch_by_keys(tx, HOUSEHOLD, sorted(affected), HOUSEHOLD.columns).items()
           if r["region_code"].startswith(prefix)}
    then = households_then(tx, past, affected, prefix)
    paired = paired_on(tx, set(now) | set(then), as_of)
    cadre_nos = {c for found in paired.values() for c in found}
    now_cadres = fetch_by_keys(tx, CADRE, sorted(cadre_nos), ["cadre_no", "on_duty"])
    duty_now = {k: r["on_duty"] for k, r in now_cadres.items()}
    duty_then = {k: r["on_duty"] for k, r in cadres_then(tx, past, cadre_nos).items()}

    def counts(households: dict[str, dict], members: dict[str, list[dict]], duty: dict[str, bool],
               sign: int) -> list[dict]:
        out = []
        for no, h in households.items():
            disabled, severe = severity(members[no])
            facts = risk.RiskFacts(h["monitoring"], h["tekun"], h["dibao"], h["elderly_carer"], h["labour"],
                                   disabled, severe)
            if facts.priority:
                on_duty = any(duty.get(c) for c in paired[no])
                out.append({"village": h["region_code"], "priority": sign, "paired": sign * on_duty})
        return out

    priority = counts(now, members_then(tx, None, now), duty_now, -1) + \
        counts(then, members_then(tx, past, then), duty_then, 1)
    aux, ledger = [], []
    for rows, query in ((aux, _AUX_OF), (ledger, _LEDGER_OF)):
        for r in keyed_rows(tx, query, affected, params):
            if r["household_no"] in now:
                rows.append({**r, "n": -r["n"], **({k: -int(r[k] or 0) for k in _SUMS} if "cash" in r else {})})
            if r["household_no"] in then:
                rows.append({**r, "village": then[r["household_no"]]["region_code"]})
    return priority, aux, ledger


def _row(code: str, name: str | None, prefix: str, by_village: dict[str, dict[str, int]]) -> CoverageRow:
    totals = dict.fromkeys(_SUMMED, 0)
    for village, figures in by_village.items():
        if village.startswith(prefix):
            for key, value in figures.items():
                totals[key] += value
    rate = round(totals["paired"] / totals["priority_households"], 4) if totals["priority_households"] else None
    return CoverageRow(region_code=code, region_name=name, level=region_level(code).label, pairing_rate=rate,
                       **totals)


COVERAGE = Report(
    name="coverage", title="帮扶覆盖统计 / coverage by region", row=CoverageRow, ranged=True,
    headers={"region_code": "区划代码", "region_name": "区划名称", "level": "层级", "priority_households": "重点户",
             "paired": "已结对", "pairing_rate": "结对率", "aux_pairings": "辅助结对", "contacts": "联系交流",
             "home_visits": "入户走访", "policies": "落实政策", "problems_solved": "解决困难",
             "problems_escalated": "反映困难", "practical_help": "帮办实事", "volunteer_services": "志愿服务",
             "volunteers": "志愿者人次", "volunteer_minutes": "志愿服务时长（人·分钟）",
             "funds_cash_fen": "资金（分）", "funds_in_kind_fen": "物资折合（分）", "org_donations": "组织捐赠次数",
             "org_donations_fen": "组织捐赠（分）"},
    run=coverage)
