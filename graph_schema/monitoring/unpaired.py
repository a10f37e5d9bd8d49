"""The brief's question: which priority households have no responsible cadre right now?"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.monitoring.common import PRIORITY_HOUSEHOLDS, Report
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.settings import RiskWeights, get_settings
from graph_schema.store.base import GraphStore, Tx

_UNPAIRED = (
    PRIORITY_HOUSEHOLDS +
    "AND NOT EXISTS { MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE c.on_duty AND r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on > $as_of) } "
)
UNPAIRED_PAGE = _UNPAIRED + (
    f"WITH h, disabled, severe, {risk.SCORE_EXPRESSION} AS score "
    "RETURN h.household_no AS household_no, h.region_code AS region_code, h.head_name AS head_name, "
    "h.monitoring AS monitoring, h.tekun AS tekun, h.dibao AS dibao, h.elderly_carer AS elderly_carer, "
    "h.labour AS labour, disabled AS disabled, severe AS severe, score AS score, "
    "COUNT { MATCH (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE NOT c.on_duty AND r.started_on <= $as_of "
    "AND (r.ended_on IS NULL OR r.ended_on > $as_of) } AS with_off_duty_cadre "
    "ORDER BY score DESC, household_no SKIP $skip LIMIT $limit"
)
UNPAIRED_COUNT = _UNPAIRED + "RETURN count(h) AS n"


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
        page_params = params | risk.score_params(weights) | {"skip": page.skip, "limit": page.page_size}
        total = tx.run(UNPAIRED_COUNT, params)[0]["n"]
        items = [_item(row, weights) for row in tx.run(UNPAIRED_PAGE, page_params)]
        return Page(items, total, page.page, page.page_size)

    return store.read(work)


def _item(row: dict, weights: RiskWeights) -> UnpairedHousehold:
    facts = risk.RiskFacts(monitoring=row["monitoring"], tekun=row["tekun"], dibao=row["dibao"],
                           elderly_carer=row["elderly_carer"], labour=row["labour"],
                           disabled=row["disabled"], severe=row["severe"])
    reasons = risk.reasons(facts)
    if row["with_off_duty_cadre"]:
        reasons.append("结对干部已不在岗，需重新结对")
    return UnpairedHousehold(household_no=row["household_no"], region_code=row["region_code"],
                             head_name=row["head_name"], risk_level=risk.level(row["score"], weights),
                             risk_score=row["score"], reasons=reasons)


UNPAIRED = Report(
    name="unpaired", title="未结对重点户 / unpaired priority households", row=UnpairedHousehold,
    headers={"household_no": "户编号", "region_code": "区划代码", "head_name": "户主", "risk_level": "风险等级",
             "risk_score": "风险分值", "reasons": "原因"},
    run=lambda *, store, region, as_of=None, page=PageRequest(), **_: unpaired_priority(
        store=store, region=region, as_of=as_of, page=page))
