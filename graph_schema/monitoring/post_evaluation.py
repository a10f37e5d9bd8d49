"""Post-evaluation (后评估): did each household's main assistance measures of last year continue
this year (脱贫残疾人家庭主要帮扶措施保持延续情况, the "四个不摘" check)?

Last year is the calendar year before ``as_of``'s year; this year runs from 1 January of
``as_of``'s year to ``as_of``. A household of the scope (by its region) *has* a measure in a period
when:

- 一对一结对: a one-to-one pairing with any cadre overlaps the period (a pairing runs from its start
  date up to the day before its end date, as everywhere else: one ended on 1 January did not
  reach that day);
- 辅助结对: an organisation's auxiliary pairing overlaps the period (same rule);
- 困难残疾人生活补贴 / 重度残疾人护理补贴: a member has a department listing of that item overlapping
  the period's months (起始年月 empty or not after the period's end, and 截止年月 empty or not before
  the period's first month: a listing ending in last December stopped, one ending in January
  continued);
- 帮扶服务: the ledger holds an entry of kind 落实政策, 帮办实事, 资助, 捐款捐物 or 志愿服务 dated in the
  period.

``post-evaluation`` lists one row per household and measure it had last year, with ``continued``
telling whether it also has the measure this year; a household with no measure last year is not
listed. Order: stopped measures first, then 户编号, then the measure in the order above.
``post-evaluation-totals`` gives one row per measure (in the order above): households that had it
last year, how many continued and stopped, and the continuation rate (continued / last year,
4 decimal places, empty when no household had it).

The households of the scope, their villages and their members are taken as they were on
``as_of`` (:mod:`graph_schema.history`): later imports never change a past answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema import history
from graph_schema.enums import LedgerKind
from graph_schema.identifiers import RegionLevel
from graph_schema.listing.models import CARE_SUBSIDY, LIVING_SUBSIDY
from graph_schema.monitoring.common import (
    HOUSEHOLD_IN_SCOPE_NEO4J,
    SCOPED_HOUSEHOLDS,
    Report,
    as_of_or_today,
    paginate,
)
from graph_schema.monitoring.past import (
    KEYED_HOUSEHOLDS,
    affected_households,
    households_then,
    keyed_rows,
    members_then,
)
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import FROM_KEY, Dialect, GraphStore, Tx, aliased, keyed
from graph_schema.store.schema import AUX_PAIRED_WITH, CADRE, HOUSEHOLD, ORG, PAIRED_WITH

ONE_TO_ONE = "一对一结对"
AUXILIARY = "辅助结对"
SERVICES = "帮扶服务"
#: The measures in the order both reports list them.
MEASURES = (ONE_TO_ONE, AUXILIARY, LIVING_SUBSIDY, CARE_SUBSIDY, SERVICES)
#: The ledger kinds that count as 帮扶服务.
SERVICE_KINDS = (LedgerKind.POLICY, LedgerKind.PRACTICAL_HELP, LedgerKind.AID, LedgerKind.DONATION,
                 LedgerKind.VOLUNTEER)

_LAST_YEAR_ONLY = "WHERE last_year = 1 "
#: A household's row, after one of the matches below (which leave ``h`` and ``this_year``).
_COLUMNS = {"household_no": "h.household_no", "region_code": "h.region_code", "continued": "this_year"}
_ROWS = "RETURN " + aliased(_COLUMNS)


def _pairings(actor: str, rel: str, start: str | None = SCOPED_HOUSEHOLDS, match: str = "MATCH") -> str:
    """Households whose pairings of type ``rel`` overlapped last year, and whether one overlaps
    this year (every pairing read overlaps one of the two); up to the RETURN. With ``start``
    None, the pairings are sought by their own index and the scope is tested on their households
    (Neo4j)."""
    if start is None:
        pattern = (f"MATCH (:{actor})-[r:{rel}]->(h:Household) USING INDEX r:{rel}(pairing_id) "
                   "WHERE r.pairing_id IS NOT NULL AND h.region_code STARTS WITH $prefix AND ")
    else:
        pattern = f"{start}{match} (:{actor})-[r:{rel}]->(h) WHERE "
    return (
        pattern + "r.started_on <= $this_end AND (r.ended_on IS NULL OR r.ended_on > $last_start) "
        "WITH h, max(CASE WHEN r.started_on <= $last_end THEN 1 ELSE 0 END) AS last_year, "
        "max(CASE WHEN r.ended_on IS NULL OR r.ended_on > $this_start THEN 1 ELSE 0 END) AS this_year "
        + _LAST_YEAR_ONLY
    )


def _service_entries(start: str = SCOPED_HOUSEHOLDS, match: str = "MATCH") -> str:
    return (
        start + f"{match} ()-[e:ASSISTED]->(h) "
        "WHERE e.kind IN $kinds AND e.entry_date >= $last_start AND e.entry_date <= $this_end "
        "WITH h, max(CASE WHEN e.entry_date <= $last_end THEN 1 ELSE 0 END) AS last_year, "
        "max(CASE WHEN e.entry_date >= $this_start THEN 1 ELSE 0 END) AS this_year "
        + _LAST_YEAR_ONLY
    )


ONE_TO_ONE_MATCH = _pairings(CADRE.label, PAIRED_WITH.type)
AUX_MATCH = _pairings(ORG.label, AUX_PAIRED_WITH.type)
#: A subsidy listing ``l`` overlapping the two years, and then per household and subsidy whether
#: one overlapped each.
_OVERLAPS = "(l.valid_from IS NULL OR l.valid_from <= $this_end) AND (l.valid_to IS NULL OR l.valid_to >= $last_start) "
_SUBSIDY_OVERLAPS = "l.item IN $items AND " + _OVERLAPS
_SUBSIDY_YEARS = (
    "WITH h, l.item AS measure, "
    "max(CASE WHEN l.valid_from IS NULL OR l.valid_from <= $last_end THEN 1 ELSE 0 END) AS last_year, "
    "max(CASE WHEN l.valid_to IS NULL OR l.valid_to >= $this_start THEN 1 ELSE 0 END) AS this_year "
    "WHERE last_year = 1 "
)
SUBSIDY_MATCH = (SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) "
                 "MATCH (p)-[:LISTED]->(l:Listing) WITH h, l WHERE " + _SUBSIDY_OVERLAPS + _SUBSIDY_YEARS)
SERVICE_MATCH = _service_entries()
ONE_TO_ONE_PAIRINGS, AUX_PAIRINGS, SERVICE_ENTRIES = (m + _ROWS for m in (ONE_TO_ONE_MATCH, AUX_MATCH, SERVICE_MATCH))
SUBSIDY_LISTINGS = SUBSIDY_MATCH + _ROWS + ", measure AS measure"
#: What the current answer reads: each measure's match (the subsidies' one gives two measures).
_MATCHES = ((ONE_TO_ONE, ONE_TO_ONE_MATCH), (AUXILIARY, AUX_MATCH), (None, SUBSIDY_MATCH), (SERVICES, SERVICE_MATCH))
#: The same for a scope wider than a county (a city, the province), where the village path is not
#: the quick one (docs/benchmarks.md, "benefit-gaps and post-evaluation of a province by scans";
#: each match timed alone on the province stores): the subsidies are found from the subsidy
#: listings that overlap the two years, then their persons and households (LadybugDB 2.4 → 1.0 s),
#: the service entries from the scope's households found by a filtered scan (0.8 → 0.5 s). On
#: LadybugDB the pairings keep the village path (as quick as a scan or the pairings' side,
#: 0.27–0.44 s); on Neo4j the one-to-one pairings start from the scan too (5.5M database hits
#: against 4.7M), the province's ~5k auxiliary pairings from their own index (250 → 20 ms), and
#: the services by asking each household of the scan (:data:`SERVICE_MATCH_WIDE_NEO4J`).
_SCAN = "MATCH (h:Household) WHERE h.region_code STARTS WITH $prefix "
SUBSIDY_MATCH_WIDE = (
    "MATCH (l:Listing) WHERE " + _SUBSIDY_OVERLAPS + "MATCH (p:Person)-[:LISTED]->(l) "
    "MATCH (p)-[:MEMBER_OF]->(h:Household) WHERE h.region_code STARTS WITH $prefix " + _SUBSIDY_YEARS
)
#: On Neo4j the listings of one subsidy (``$living`` or ``$care``, one match each so that the two
#: run side by side) are sought by ``Listing(item)`` and their persons' households reached in a
#: ``CALL`` subquery; written as a pattern, the planner starts from the scope's households (11.1M
#: database hits, 1.9 s for the province's two, against 4.0M and 1.3 s).
SUBSIDY_MATCHES_NEO4J = tuple(
    f"MATCH (l:Listing) USING INDEX l:Listing(item) WHERE l.item = {subsidy_param} AND " + _OVERLAPS
    + "MATCH (p:Person)-[:LISTED]->(l) " + HOUSEHOLD_IN_SCOPE_NEO4J + _SUBSIDY_YEARS
    for subsidy_param in ("$living", "$care")
)
SERVICE_MATCH_WIDE = _service_entries(_SCAN)
#: On Neo4j a household's service entries are asked whether one exists in each year, which stops
#: at the first (a province: 0.86–0.97 s against 1.36–1.56 s for every entry of the two years
#: read and aggregated, when timed alone)
_SERVICE_ENTRY_IN = "EXISTS { MATCH ()-[e:ASSISTED]->(h) WHERE e.kind IN $kinds AND e.entry_date >= "
SERVICE_MATCH_WIDE_NEO4J = (
    _SCAN + "AND " + _SERVICE_ENTRY_IN + "$last_start AND e.entry_date <= $last_end } "
    "WITH h, CASE WHEN " + _SERVICE_ENTRY_IN + "$this_start AND e.entry_date <= $this_end } THEN 1 ELSE 0 END "
    "AS this_year "
)
#: (Neo4j's run side by side, the slowest first: the read's own transaction takes the first and
#: the pool's threads the others in turn, so the rest fit beside it.)
_WIDE_MATCHES = {
    Dialect.LADYBUG: ((ONE_TO_ONE, ONE_TO_ONE_MATCH), (AUXILIARY, AUX_MATCH), (None, SUBSIDY_MATCH_WIDE),
                      (SERVICES, SERVICE_MATCH_WIDE)),
    Dialect.NEO4J: ((SERVICES, SERVICE_MATCH_WIDE_NEO4J), *((None, match) for match in SUBSIDY_MATCHES_NEO4J),
                    (ONE_TO_ONE, _pairings(CADRE.label, PAIRED_WITH.type, _SCAN)),
                    (AUXILIARY, _pairings(ORG.label, AUX_PAIRED_WITH.type, None))),
}
#: On LadybugDB, each wide match's first ``$k`` continued rows by 户编号 with their measure's rank
#: (``$rank``; the subsidies' from their rows), whose merge holds the first ``$k`` of all; counting
#: and ordering each measure's rows for the page instead (``_first_rows``) read the wide matches
#: twice more: 1.8–2.0 s for today's province page against 0.7 s for a page of stopped ones.
#: A subsidy row's rank, its measure's place in MEASURES.
_SUBSIDY_RANK = "CASE measure WHEN $care THEN 3 ELSE 2 END"
_HEAD = "AND this_year = 1 RETURN h.household_no AS household_no, h.region_code AS region_code, "
_HEAD_ORDER = " AS rank ORDER BY household_no, rank LIMIT $k"
_CONTINUED_HEADS = tuple(
    (measure, match + _HEAD + ("$rank" if measure else _SUBSIDY_RANK) + _HEAD_ORDER)
    for measure, match in _WIDE_MATCHES[Dialect.LADYBUG]
)
#: A wide scope's first page, in one pass per match: its figures and the households whose measure
#: stopped, which the report lists first; only the page's rows are then made (its households'
#: region codes read by key). Ordering and cutting every row on the server took a second pass
#: on LadybugDB (a count, then the page) and an ordered collection of every row on Neo4j.
_STOPPED = ("count(*) AS had, sum(this_year) AS continued, "
            "collect(CASE WHEN this_year = 0 THEN h.household_no ELSE NULL END) AS stopped")
_REGIONS = "RETURN h.household_no AS household_no, h.region_code AS region_code"
#: On Neo4j, a wide scope's first ``$k`` continued measures in the report's order, for a page
#: that reaches past the stopped ones: the scope's households walked in 户编号 order along the
#: key's index, each one's measures asked in a subquery, until ``$k`` are found (~10 ms for the
#: province). Ordering every row on the server took 6.1 s for today's province page.
_ONE_TO_ONE_OF, _AUX_OF, _SERVICES_OF = (_pairings(CADRE.label, PAIRED_WITH.type, ""),
                                         _pairings(ORG.label, AUX_PAIRED_WITH.type, ""), _service_entries(""))
_CONTINUED_HEAD_NEO4J = (  # a row's rank is its measure's place in MEASURES
    "MATCH (h:Household) USING INDEX h:Household(household_no) WHERE h.household_no >= '' "
    "WITH h ORDER BY h.household_no WHERE h.region_code STARTS WITH $prefix CALL (h) { "
    + _ONE_TO_ONE_OF + "RETURN 0 AS rank, this_year UNION ALL "
    + _AUX_OF + "RETURN 1 AS rank, this_year UNION ALL "
    "MATCH (p:Person)-[:MEMBER_OF]->(h) MATCH (p)-[:LISTED]->(l:Listing) WITH h, l WHERE " + _SUBSIDY_OVERLAPS
    + _SUBSIDY_YEARS + "RETURN " + _SUBSIDY_RANK + " AS rank, this_year UNION ALL "
    + _SERVICES_OF + "RETURN 4 AS rank, this_year } WITH h, rank, this_year WHERE this_year = 1 "
    "RETURN h.household_no AS household_no, h.region_code AS region_code, rank ORDER BY household_no, rank LIMIT $k"
)
#: The figures of ``post-evaluation-totals``, counted on the server: per measure, the households
#: that had it last year and those of them that kept it.
_COUNTS = "RETURN count(*) AS had, sum(this_year) AS continued"
_SUBSIDY_COUNTS = "RETURN measure AS measure, count(*) AS had, sum(this_year) AS continued"
#: The measures of households named by key (a past day's changed households); the subsidies are
#: read per member, since members may have moved since.
KEYED = {ONE_TO_ONE: _pairings(CADRE.label, PAIRED_WITH.type, KEYED_HOUSEHOLDS, FROM_KEY) + _ROWS,
         AUXILIARY: _pairings(ORG.label, AUX_PAIRED_WITH.type, KEYED_HOUSEHOLDS, FROM_KEY) + _ROWS,
         SERVICES: _service_entries(KEYED_HOUSEHOLDS, FROM_KEY) + _ROWS}
#: The subsidy listings of persons named by ID number that overlap the two periods.
LISTINGS_OF = (
    f"UNWIND $keys AS k MATCH (p:Person {{id_number: k}}) {FROM_KEY} (p)-[:LISTED]->(l:Listing) "
    "WITH p, l WHERE " + _SUBSIDY_OVERLAPS
    + "RETURN p.id_number AS id_number, l.item AS measure, l.valid_from AS valid_from, l.valid_to AS valid_to"
)


@dataclass(frozen=True)
class MeasureContinuation:
    household_no: str
    region_code: str
    measure: str
    continued: bool


@dataclass(frozen=True)
class MeasureTotal:
    measure: str
    last_year: int
    continued: int
    stopped: int
    continuation_rate: float | None


def periods(as_of: dt.date) -> dict[str, dt.date]:
    """The two periods' bounds (months start on 1 January, so they are also the first months)."""
    return {"last_start": dt.date(as_of.year - 1, 1, 1), "last_end": dt.date(as_of.year - 1, 12, 31),
            "this_start": dt.date(as_of.year, 1, 1), "this_end": as_of}


def _params(tx: Tx, region: str, as_of: dt.date) -> dict:
    return {"prefix": resolve_scope(tx, region)[1], **periods(as_of), "items": [LIVING_SUBSIDY, CARE_SUBSIDY],
            "kinds": list(SERVICE_KINDS), "living": LIVING_SUBSIDY, "care": CARE_SUBSIDY}


def _continuations(tx: Tx, params: dict, past: history.Past) -> list[MeasureContinuation]:
    """Every row of a past day, in order: the current rows corrected for what changed since."""
    rows = [r | {"measure": ONE_TO_ONE} for r in tx.run(ONE_TO_ONE_PAIRINGS, params)]
    rows += [r | {"measure": AUXILIARY} for r in tx.run(AUX_PAIRINGS, params)]
    rows += tx.run(SUBSIDY_LISTINGS, params)
    rows += [r | {"measure": SERVICES} for r in tx.run(SERVICE_ENTRIES, params)]
    out = [_continuation(r) for r in _as_it_was(tx, past, rows, params)]
    out.sort(key=_order)
    return out


def _matches(tx: Tx, params: dict) -> tuple[tuple[str | None, str], ...]:
    """Each measure's match for the scope: the village path for a county or narrower, else the
    wide forms."""
    return _MATCHES if len(params["prefix"]) >= RegionLevel.COUNTY.prefix_length else _WIDE_MATCHES[tx.dialect]


def _side_by_side(tx: Tx, matches: tuple[tuple[str | None, str], ...], ends: tuple[str, str],
                  params: dict) -> list[tuple[str | None, list[dict]]]:
    """Each match's measure and rows, a measure's match ended by ``ends[0]`` and the subsidies'
    (whose rows name their measure) by ``ends[1]``; the matches run side by side
    (:meth:`Tx.side_by_side`)."""
    found = tx.side_by_side([lambda t, query=match + ends[measure is None]: t.run(query, params)
                             for measure, match in matches])
    return [(measure, rows) for (measure, _), rows in zip(matches, found, strict=True)]


def _first_rows_wide(tx: Tx, params: dict, upto: int) -> tuple[int, list[MeasureContinuation]]:
    """A wide scope's number of rows and first ``upto`` rows: the stopped measures, then the first
    continued ones."""
    total, stopped = 0, []
    ends = ("RETURN " + _STOPPED, "RETURN measure AS measure, " + _STOPPED)
    for measure, rows in _side_by_side(tx, _WIDE_MATCHES[tx.dialect], ends, params):
        for r in rows:
            rank = MEASURES.index(r["measure"] if measure is None else measure)
            total += r["had"]
            stopped += [(no, rank) for no in r["stopped"] if no is not None]
    continued = []
    if upto > len(stopped):
        k = upto - len(stopped)
        continued = tx.run(_CONTINUED_HEAD_NEO4J, params | {"k": k}) if tx.dialect is Dialect.NEO4J else \
            _continued_head(tx, params, k)
    head = sorted(stopped)[:upto]
    regions = {}
    if head:
        start, values = keyed(HOUSEHOLD, "h", sorted({no for no, _ in head}))
        regions = {r["household_no"]: r["region_code"] for r in tx.run(f"{start} {_REGIONS}", values)}
    rows = [MeasureContinuation(household_no=no, region_code=regions[no], measure=MEASURES[rank], continued=False)
            for no, rank in head]
    return total, rows + [MeasureContinuation(household_no=r["household_no"], region_code=r["region_code"],
                                              measure=MEASURES[r["rank"]], continued=True) for r in continued]


def _continued_head(tx: Tx, params: dict, k: int) -> list[dict]:
    """A wide scope's first ``k`` continued measures in the report's order, from each wide match's
    first ``k`` (LadybugDB)."""
    rows = [r for measure, query in _CONTINUED_HEADS
            for r in tx.run(query, params | {"k": k} | ({"rank": MEASURES.index(measure)} if measure else {}))]
    return sorted(rows, key=lambda r: (r["household_no"], r["rank"]))[:k]


def _first_rows(tx: Tx, params: dict, upto: int) -> tuple[int, list[MeasureContinuation]]:
    """The current answer's number of rows and its first ``upto`` rows for a county or a narrower
    scope, in order: each measure's match is counted, ordered and cut on the server, so only the
    rows that can reach the page travel; their merge in Python gives the report's order."""
    total, rows = 0, []
    for measure, match in _matches(tx, params):
        columns, order = _COLUMNS, "continued, household_no"
        if measure is None:  # the two subsidies, in the order of MEASURES
            columns = _COLUMNS | {"measure": "measure", "rank": "CASE measure WHEN $care THEN 1 ELSE 0 END"}
            order += ", rank"
        found, head = tx.ordered_page(match, columns, order, params, 0, upto)
        total += found
        rows += [_continuation(r if measure is None else r | {"measure": measure}) for r in head]
    rows.sort(key=_order)
    return total, rows[:upto]


def _continuation(r: dict) -> MeasureContinuation:
    return MeasureContinuation(household_no=r["household_no"], region_code=r["region_code"], measure=r["measure"],
                               continued=bool(r["continued"]))


def _order(m: MeasureContinuation) -> tuple:
    return m.continued, m.household_no, MEASURES.index(m.measure)


def _as_it_was(tx: Tx, past: history.Past, rows: list[dict], params: dict) -> list[dict]:
    """``rows`` with those of the households changed since the day (or whose members changed) made
    again: in their village of the day, their subsidies those of their members of the day."""
    affected = affected_households(tx, past)
    then = households_then(tx, past, affected, params["prefix"])
    kept = [r for r in rows if r["household_no"] not in affected]
    for measure, query in KEYED.items():
        kept += [r | {"region_code": then[r["household_no"]]["region_code"], "measure": measure}
                 for r in keyed_rows(tx, query, then, params)]
    home = {p["id_number"]: no for no, members in members_then(tx, past, then).items() for p in members}
    had: dict[tuple[str, str], tuple[bool, bool]] = {}
    for r in keyed_rows(tx, LISTINGS_OF, home, params):
        if r["measure"] is not None:
            key = (home[r["id_number"]], r["measure"])
            last, this = had.get(key, (False, False))
            had[key] = (last or r["valid_from"] is None or r["valid_from"] <= params["last_end"],
                        this or r["valid_to"] is None or r["valid_to"] >= params["this_start"])
    kept += [{"household_no": no, "region_code": then[no]["region_code"], "measure": measure, "continued": this}
             for (no, measure), (last, this) in had.items() if last]
    return kept


def post_evaluation(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                    page: PageRequest = PageRequest(), **_: object) -> Page[MeasureContinuation]:
    """Each household's measures of last year and whether they continued up to ``as_of``."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[MeasureContinuation]:
        params = _params(tx, region, as_of)
        past = history.past(tx, as_of)
        if past is not None:
            return paginate(_continuations(tx, params, past), page)
        upto = page.skip + page.page_size
        total, rows = (_first_rows if _matches(tx, params) is _MATCHES else _first_rows_wide)(tx, params, upto)
        return Page(rows[page.skip:], total, page.page, page.page_size)

    return store.read(work)


def totals(rows: list[MeasureContinuation]) -> list[MeasureTotal]:
    """The per-measure counts of ``rows`` (every measure, in order)."""
    return [_total(measure, sum(1 for r in rows if r.measure == measure),
                   sum(1 for r in rows if r.measure == measure and r.continued)) for measure in MEASURES]


def _total(measure: str, had: int, continued: int) -> MeasureTotal:
    """A measure's figures: the households that had it last year, and those that kept it."""
    return MeasureTotal(measure=measure, last_year=had, continued=continued, stopped=had - continued,
                        continuation_rate=round(continued / had, 4) if had else None)


def post_evaluation_totals(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                           page: PageRequest = PageRequest(), **_: object) -> Page[MeasureTotal]:
    """Per measure: households that had it last year, continued, stopped, continuation rate. For
    the current day the figures are counted on the server (five numbers travel, not every row)."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> list[MeasureTotal]:
        params = _params(tx, region, as_of)
        past = history.past(tx, as_of)
        if past is not None:
            return totals(_continuations(tx, params, past))
        counts: dict[str, tuple[int, int]] = {}
        for measure, rows in _side_by_side(tx, _matches(tx, params), (_COUNTS, _SUBSIDY_COUNTS), params):
            for r in rows:
                counts[r["measure"] if measure is None else measure] = (r["had"], int(r["continued"] or 0))
        return [_total(m, *counts.get(m, (0, 0))) for m in MEASURES]

    return store.read(lambda tx: paginate(work(tx), page))


POST_EVALUATION = Report(
    name="post-evaluation", title="后评估：帮扶措施延续情况 / post-evaluation", row=MeasureContinuation,
    headers={"household_no": "户编号", "region_code": "区划代码", "measure": "帮扶措施", "continued": "是否延续"},
    run=post_evaluation)
POST_EVALUATION_TOTALS = Report(
    name="post-evaluation-totals", title="后评估汇总 / post-evaluation totals", row=MeasureTotal,
    headers={"measure": "帮扶措施", "last_year": "上年享有户数", "continued": "延续户数", "stopped": "中断户数",
             "continuation_rate": "延续率"},
    run=post_evaluation_totals)
