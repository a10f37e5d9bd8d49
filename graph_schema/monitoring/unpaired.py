"""The brief's question: which priority households have no responsible cadre right now?

For a past ``as_of`` the households, their members and the cadres' 在岗 are taken as they were
that day (:mod:`graph_schema.history`), so later imports never change the answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema import history
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
from graph_schema.store.base import GraphStore, Tx

#: Every unpaired priority household of the scope with its risk facts, in one pass: the active
#: pairings on ``as_of`` are counted per household, and those with a 在岗 cadre are left out.
#: Scoring and ordering happen in Python (:func:`risk.score`), which is faster than a second pass
#: for the count and cheap for the few thousand households of a county.
_UNPAIRED_ROWS = (
    PRIORITY_HOUSEHOLDS +
    "OPTIONAL MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on > $as_of) "
    "WITH h, disabled, severe, sum(CASE WHEN c.on_duty THEN 1 ELSE 0 END) AS with_cadre, count(r) AS active "
    "WHERE with_cadre = 0 "
    "RETURN h.household_no AS household_no, h.region_code AS region_code, h.head_name AS head_name, "
    "h.monitoring AS monitoring, h.tekun AS tekun, h.dibao AS dibao, h.elderly_carer AS elderly_carer, "
    "h.labour AS labour, disabled AS disabled, severe AS severe, active AS with_off_duty_cadre"
)


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

    def work(tx: Tx) -> list[UnpairedHousehold]:
        params = {"prefix": resolve_scope(tx, region)[1] if region else "", "as_of": as_of or today()}
        rows = tx.run(_UNPAIRED_ROWS, params)
        past = history.past(tx, params["as_of"])
        if past is not None:
            rows = _as_it_was(tx, past, rows, params["prefix"], params["as_of"])
        return [_item(row, weights) for row in rows]

    items = store.read(work)
    items.sort(key=lambda i: (-i.risk_score, i.household_no))
    return paginate(items, page)


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
