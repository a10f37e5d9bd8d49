"""The brief's question: which priority households have no responsible cadre right now?

For a past ``as_of`` the households, their members and the cadres' 在岗 are taken as they were
that day (:mod:`graph_schema.history`), so later imports never change the answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema import history
from graph_schema.enums import MonitoringCategory
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.monitoring.common import PRIORITY_HOUSEHOLDS, Report, paginate
from graph_schema.monitoring.past import (
    affected_households,
    cadres_then,
    households_then,
    members_then,
    paired_on,
    severity,
)
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.settings import RiskWeights, get_settings
from graph_schema.store.base import GraphStore, Tx, aliased

#: The unpaired priority households of the scope: the active pairings on ``as_of`` are counted per
#: household, and those with a 在岗 cadre are left out. Leaves ``h``, ``disabled``, ``severe`` and
#: ``active`` (the active pairings, all with cadres no longer 在岗) in scope.
_UNPAIRED = (
    PRIORITY_HOUSEHOLDS +
    "OPTIONAL MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on > $as_of) "
    "WITH h, disabled, severe, sum(CASE WHEN c.on_duty THEN 1 ELSE 0 END) AS with_cadre, count(r) AS active "
    "WHERE with_cadre = 0 "
)
_COLUMNS = {
    "household_no": "h.household_no", "region_code": "h.region_code", "head_name": "h.head_name",
    "monitoring": "h.monitoring", "tekun": "h.tekun", "dibao": "h.dibao", "elderly_carer": "h.elderly_carer",
    "labour": "h.labour", "disabled": "disabled", "severe": "severe", "with_off_duty_cadre": "active",
}
#: Every row, for a past day's corrections (which need the whole list before they order it).
_UNPAIRED_ROWS = _UNPAIRED + "RETURN " + aliased(_COLUMNS)
#: The risk score of :func:`risk.score` in Cypher, the weights as ``$w_*`` parameters, so that a
#: page of the current list is ordered, counted and cut on the server: only its rows travel
#: (on Neo4j every record costs the driver ~13 µs to decode, and a province holds ~100k of them).
#: A test holds the two orders equal over synthetic households and random weights.
_SCORE = (
    "CASE h.monitoring WHEN $sudden_hardship THEN $w_sudden_hardship WHEN $unstable THEN $w_unstable "
    "WHEN $marginal THEN $w_marginal ELSE 0 END "
    "+ CASE WHEN coalesce(h.tekun, false) THEN $w_tekun ELSE 0 END "
    "+ CASE WHEN severe > 0 THEN $w_severe_member + (severe - 1) * $w_extra_severe_member ELSE 0 END "
    "+ CASE WHEN disabled >= 2 THEN $w_multiple_disabled ELSE 0 END "
    "+ CASE WHEN coalesce(h.elderly_carer, false) THEN $w_elderly_carer ELSE 0 END "
    "+ CASE WHEN coalesce(h.dibao, false) THEN $w_dibao ELSE 0 END "
    "+ CASE WHEN h.labour = 0 THEN $w_no_labour ELSE 0 END"
)
_SCORED = _UNPAIRED + "WITH h, disabled, severe, active, " + _SCORE + " AS score "


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
            total, rows = tx.ordered_page(_SCORED, _COLUMNS | {"score": "score"}, "score DESC, household_no",
                                          params | score_params(weights), page.skip, page.page_size)
            return Page([_item(row, weights) for row in rows], total, page.page, page.page_size)
        rows = _as_it_was(tx, past, tx.run(_UNPAIRED_ROWS, params), params["prefix"], params["as_of"])
        items = [_item(row, weights) for row in rows]
        items.sort(key=lambda i: (-i.risk_score, i.household_no))
        return paginate(items, page)

    return store.read(work)


def score_params(weights: RiskWeights) -> dict[str, object]:
    """The parameters of :data:`_SCORE`: each weight, and the categories it keys."""
    return {**{f"w_{name}": value for name, value in weights.model_dump().items()},
            "sudden_hardship": MonitoringCategory.SUDDEN_HARDSHIP, "unstable": MonitoringCategory.UNSTABLE,
            "marginal": MonitoringCategory.MARGINAL}


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
