"""The brief's question: which priority households have no responsible cadre right now?"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import scope_prefix
from graph_schema.settings import RiskWeights, get_settings
from graph_schema.store.base import GraphStore, Tx

_UNPAIRED = (
    "MATCH (h:Household) WHERE h.region_code STARTS WITH $prefix "
    "OPTIONAL MATCH (p:Person)-[:MEMBER_OF]->(h) "
    "WITH h, count(p) AS disabled, sum(CASE WHEN p.grade <= 2 THEN 1 ELSE 0 END) AS severe "
    f"WHERE {risk.PRIORITY_CONDITION} "
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
    params = {"prefix": scope_prefix(region), "as_of": as_of or today()}
    page_params = params | risk.score_params(weights) | {"skip": page.skip, "limit": page.page_size}

    def work(tx: Tx) -> Page[UnpairedHousehold]:
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
