"""The brief's question: which priority households have no responsible cadre right now?

For today (or later) the households' kept pairing counts answer it (graph_schema/store/paired.py);
the forms that walk the pairings by their dates serve a day before today.

For a past ``as_of`` the households, their members and the cadres' 在岗 are taken as they were
that day (:mod:`graph_schema.history`), so later imports never change the answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema import history
from graph_schema.identifiers import RegionLevel
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.monitoring.common import (
    PAIRED_PRIORITY,
    PRIORITY_HOUSEHOLDS,
    PRIORITY_SCAN,
    Report,
    paginate,
)
from graph_schema.monitoring.past import (
    ACTIVE_ON,
    KEYED_HOUSEHOLDS,
    affected_households,
    cadres_then,
    households_then,
    keyed_rows,
    members_then,
    paired_on,
    severity,
)
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.settings import RiskWeights, get_settings
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, aliased

#: The unpaired priority households of the scope: the active pairings on ``as_of`` are counted per
#: household, and those with a 在岗 cadre are left out. Leaves ``h``, ``disabled``, ``severe`` and
#: ``active`` (the active pairings, all with cadres no longer 在岗) in scope.
_PAIRINGS_COUNTED = (
    "OPTIONAL MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on > $as_of) "
    "WITH h, disabled, severe, sum(CASE WHEN c.on_duty THEN 1 ELSE 0 END) AS with_cadre, count(r) AS active "
    "WHERE with_cadre = 0 "
)
_UNPAIRED = PRIORITY_HOUSEHOLDS + _PAIRINGS_COUNTED
_COLUMNS = {
    "household_no": "h.household_no", "region_code": "h.region_code", "head_name": "h.head_name",
    "monitoring": "h.monitoring", "tekun": "h.tekun", "dibao": "h.dibao", "elderly_carer": "h.elderly_carer",
    "labour": "h.labour", "disabled": "disabled", "severe": "severe", "with_off_duty_cadre": "active",
}
#: Every row, for a past day's corrections (which need the whole list before they order it).
_UNPAIRED_ROWS = _UNPAIRED + "RETURN " + aliased(_COLUMNS)
_SCORED = _UNPAIRED + "WITH h, disabled, severe, active, " + risk.SCORE + " AS score "
#: A county's list or a narrower one is read as :data:`_SCORED`, ordered, counted and cut on the
#: server, from the scope's villages (35 ms for a county of the province store). A wider scope's
#: first page is read from the top of the scores down (:func:`_first_page`): on LadybugDB 0.2 s
#: for the province store against 1.5–2.7 s for :data:`_SCORED`, which pairs every priority
#: household of the scope before it orders the unpaired ones, while for a county its scans of the
#: whole household and pairing tables took 125 ms; on Neo4j, once the priority households were
#: sought by their kept flag's index, 1.55–1.75 s against 1.84–2.3 s for the same pairing of
#: every priority household on the server (before that index, 3.5–4.0 against 2.4–2.7 s).
#:
#: For that: the scope's priority households in score order, the first ``$limit`` (their kept
#: counts as ``disabled`` and ``severe``), and the pairings active on ``$as_of`` of the households
#: named.
_FACT_COLUMNS = {k: v for k, v in _COLUMNS.items() if k != "with_off_duty_cadre"}
_BY_SCORE = (
    PRIORITY_SCAN + "WITH h, h.disabled_count AS disabled, h.severe_count AS severe "
    f"RETURN {aliased(_FACT_COLUMNS)}, {risk.SCORE} AS score "
    "ORDER BY score DESC, household_no LIMIT $limit"
)
_ACTIVE_PAIRINGS = (f"{KEYED_HOUSEHOLDS}{FROM_KEY} (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE {ACTIVE_ON} "
                    "RETURN h.household_no AS household_no, r.pairing_id AS pairing_id, c.on_duty AS on_duty")
#: Today's list (``$as_of`` today or later) from the pairing counts the household keeps
#: (graph_schema/store/paired.py: kept by every pairing and cadre write): a priority household
#: is unpaired when none of its active pairings has a 在岗 cadre, and ``active`` is how many it
#: has, so no pairing is walked. A wider scope than a county scans the households
#: (:data:`PRIORITY_SCAN`), a county or narrower one starts from its villages, as the other forms do.
_KEPT_SCORED = "WITH h, disabled, severe, active, " + risk.SCORE + " AS score "
_KEPT_NARROW = (PRIORITY_HOUSEHOLDS + "AND h.on_duty_pairings = 0 "
                "WITH h, disabled, severe, h.active_pairings AS active " + _KEPT_SCORED)
_KEPT_WIDE = (PRIORITY_SCAN + "AND h.on_duty_pairings = 0 WITH h, h.disabled_count AS disabled, "
              "h.severe_count AS severe, h.active_pairings AS active " + _KEPT_SCORED)
_PRIORITY_COUNT = PRIORITY_SCAN + "RETURN count(h) AS n"
_PAIRED_COUNT = PAIRED_PRIORITY + "RETURN count(DISTINCT h) AS n"
#: how many priority households are read first per row up to the page's end: at province scale
#: ~40% of them are unpaired, so one read of 4× mostly suffices; each further read takes 4× as many
_CANDIDATES_PER_ROW = 4


@dataclass(frozen=True)
class UnpairedHousehold:
    household_no: str
    region_code: str
    head_name: str
    risk_level: risk.RiskLevel
    risk_score: int
    reasons: list[str]


def unpaired_priority(*, store: GraphStore, region: str | None = None, as_of: dt.date | None = None,
                      page: PageRequest = PageRequest(), weights: RiskWeights | None = None
                      ) -> Page[UnpairedHousehold]:
    """Priority households in ``region`` (any level; None for all) with no active 一对一 pairing
    with a 在岗 cadre on ``as_of`` (default today), highest risk first, one page."""
    weights = weights or get_settings().risk

    def work(tx: Tx) -> Page[UnpairedHousehold]:
        params = {"prefix": resolve_scope(tx, region)[1] if region else "", "as_of": as_of or today()}
        past = history.past(tx, params["as_of"])
        if past is None:
            values = params | risk.score_params(weights)
            narrow = len(params["prefix"]) >= RegionLevel.COUNTY.prefix_length
            if params["as_of"] >= today():  # the pairings as they stand: the kept counts tell
                total, rows = tx.ordered_page(_KEPT_NARROW if narrow else _KEPT_WIDE, _COLUMNS | {"score": "score"},
                                              "score DESC, household_no", values, page.skip, page.page_size)
            elif narrow:
                total, rows = tx.ordered_page(_SCORED, _COLUMNS | {"score": "score"}, "score DESC, household_no",
                                              values, page.skip, page.page_size)
            else:
                total, rows = _first_page(tx, values, page)
            return Page([_item(row, weights) for row in rows], total, page.page, page.page_size)
        rows = _as_it_was(tx, past, tx.run(_UNPAIRED_ROWS, params), params["prefix"], params["as_of"])
        items = [_item(row, weights) for row in rows]
        items.sort(key=lambda i: (-i.risk_score, i.household_no))
        return paginate(items, page)

    return store.read(work)


def _first_page(tx: Tx, params: dict, page: PageRequest) -> tuple[int, list[dict]]:
    """The number of unpaired priority households on ``$as_of``, and the page's rows in score order.

    The number is the scope's priority households less those paired with a 在岗 cadre (two
    counts). The rows are read from the top of the scores down: the best-scored priority
    households, as many as :data:`_CANDIDATES_PER_ROW` times the rows up to the page's end, of
    which those without an active pairing with a 在岗 cadre are kept; when too few are, a top four
    times as large is read, until the page is full or every priority household has been read. The order is
    the list's own (score, then 户编号), so the first unpaired ones found are the list's first.
    """
    total = tx.run(_PRIORITY_COUNT, params)[0]["n"] - tx.run(_PAIRED_COUNT, params)[0]["n"]
    upto = min(page.skip + page.page_size, total)
    if page.skip >= upto:
        return total, []
    limit = _CANDIDATES_PER_ROW * upto
    while True:
        candidates = tx.run(_BY_SCORE, params | {"limit": limit})
        active: dict[str, list[bool]] = {r["household_no"]: [] for r in candidates}
        for r in keyed_rows(tx, _ACTIVE_PAIRINGS, active, params):
            if r["pairing_id"] is not None:
                active[r["household_no"]].append(bool(r["on_duty"]))
        rows = [{**r, "with_off_duty_cadre": len(active[r["household_no"]])} for r in candidates
                if not any(active[r["household_no"]])]
        if len(rows) >= upto or len(candidates) < limit:
            return total, rows[page.skip:upto]
        limit *= 4


def _as_it_was(tx: Tx, past: history.Past, rows: list[dict], prefix: str, as_of: dt.date) -> list[dict]:
    """``rows`` (today's facts) with the households changed since the day made again from their
    state of the day: their flags, members and village, and their cadres' 在岗."""
    affected = affected_households(tx, past, cadres_on=as_of)
    kept = [r for r in rows if r["household_no"] not in affected]
    households = households_then(tx, past, affected, prefix)
    members = members_then(tx, past, households)
    paired = paired_on(tx, households, as_of)
    cadres = cadres_then(tx, past, {c for found in paired.values() for c in found})
    for no, h in households.items():
        disabled, severe = severity(members[no])
        with_cadre = sum(1 for c in paired[no] if cadres.get(c, {}).get("on_duty"))
        row = {**h, "disabled": disabled, "severe": severe, "with_off_duty_cadre": len(paired[no])}
        if with_cadre == 0 and _facts(row).priority:
            kept.append(row)
    return kept


def _facts(row: dict) -> risk.RiskFacts:
    return risk.RiskFacts(monitoring=row["monitoring"], tekun=row["tekun"], dibao=row["dibao"],
                          elderly_carer=row["elderly_carer"], labour=row["labour"],
                          disabled=row["disabled"], severe=int(row["severe"]))


def _item(row: dict, weights: RiskWeights) -> UnpairedHousehold:
    facts = _facts(row)
    score = risk.score(facts, weights)
    reasons = risk.reasons(facts)
    if row["with_off_duty_cadre"]:
        reasons.append("结对干部已不在岗，需重新结对")
    return UnpairedHousehold(household_no=row["household_no"], region_code=row["region_code"],
                             head_name=row["head_name"], risk_level=risk.level(score, weights),
                             risk_score=score, reasons=reasons)


UNPAIRED = Report(
    name="unpaired", title="未结对重点户 / unpaired priority households", row=UnpairedHousehold,
    headers={"household_no": "户编号", "region_code": "区划代码", "head_name": "户主", "risk_level": "风险等级",
             "risk_score": "风险分值", "reasons": "原因"},
    run=lambda *, store, region, as_of=None, page=PageRequest(), **_: unpaired_priority(
        store=store, region=region, as_of=as_of, page=page))
