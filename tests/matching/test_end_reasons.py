"""Every pairing the matcher ends records why: a drop names the exclusion, the lowered limit or the
higher-risk household that took the place; a move names the exclusion, the limit, the cadre who
left or the coverage it serves. On both engines."""

from __future__ import annotations

import pytest

from factories import cadre, household
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import ExclusionReason
from graph_schema.household.service import upsert_households
from graph_schema.pairing.exclusions import exclude
from graph_schema.pairing.service import pair, pairing_history
from matching.proposal import Change, EndReason, end_text
from matching.service import confirm, propose

V1, V2 = "620822100201", "620822100202"
COUNTY = "620822"
SUDDEN, MARGINAL = "突发严重困难户", "边缘易致贫户"


def world(store, households, cadres, pairs=()):
    upsert_households(store=store, households=households)
    upsert_cadres(store=store, cadres=cadres)
    for h, c in pairs:
        pair(store=store, household_no=h, cadre_no=c)


def ended(store, household_no: str) -> list[tuple[str, str | None]]:
    return [(p.cadre_no, p.end_reason) for p in pairing_history(store=store, household_no=household_no)
            if not p.active]


def test_a_pair_excluded_with_nobody_else_to_take_the_household_is_ended_as_excluded(store):
    world(store, [household("H1", V1, monitoring=SUDDEN)], [cadre("C1", V1, pair_limit=1)], pairs=[("H1", "C1")])
    exclude(store=store, household_no="H1", cadre_no="C1", reason=ExclusionReason.RELATIVE)
    proposal = propose(store=store, region=COUNTY)
    [item] = proposal.unpaired
    assert (item.change, item.end_reason, item.reason_code) == (Change.DROP, EndReason.EXCLUDED, "ALL_EXCLUDED")
    assert confirm(store=store, proposal=proposal).dropped == ["H1"]
    assert ended(store, "H1") == [("C1", "原干部与该户在回避名单上，范围内无其他干部可以结对")]


def test_a_household_over_a_lowered_limit_is_ended_as_over_the_limit(store):
    world(store, [household("H1", V1, monitoring=SUDDEN), household("H2", V1, monitoring=SUDDEN)],
          [cadre("C1", V1, pair_limit=2)], pairs=[("H1", "C1"), ("H2", "C1")])
    upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=1)])
    proposal = propose(store=store, region=COUNTY)
    # equal risk, equal everything: the tie rule keeps the lower household number
    assert [(u.household_no, u.change, u.end_reason) for u in proposal.unpaired] == \
        [("H2", Change.DROP, EndReason.OVER_LIMIT)]
    confirm(store=store, proposal=proposal)
    assert ended(store, "H2") == [("C1", "原干部结对户数超过结对上限，范围内无其他干部可以结对")]
    assert ended(store, "H1") == []


def test_a_place_given_to_a_higher_risk_household_is_ended_as_displaced(store):
    world(store, [household("HIGH", V1, monitoring=SUDDEN), household("LOW", V1, monitoring=MARGINAL)],
          [cadre("C1", V1, pair_limit=1)], pairs=[("LOW", "C1")])
    proposal = propose(store=store, region=COUNTY)
    assert [(u.household_no, u.end_reason) for u in proposal.unpaired] == [("LOW", EndReason.DISPLACED)]
    confirm(store=store, proposal=proposal)
    assert ended(store, "LOW") == [("C1", "按匹配方案让出名额给风险更高的户")]


@pytest.mark.parametrize("why", [EndReason.EXCLUDED, EndReason.OFF_DUTY, EndReason.OVER_LIMIT])
def test_a_move_records_why_the_old_pairing_ended(store, why):
    world(store, [household("H1", V1, monitoring=SUDDEN), household("H0", V1, monitoring=SUDDEN)],
          [cadre("C1", V1, pair_limit=2), cadre("C2", V2)], pairs=[("H1", "C1"), ("H0", "C1")])
    if why is EndReason.EXCLUDED:
        exclude(store=store, household_no="H1", cadre_no="C1", reason=ExclusionReason.ORGANISER)
    elif why is EndReason.OFF_DUTY:
        upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=2, on_duty=False)])
    else:
        upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=1)])
    moved = [p for p in propose(store=store, region=COUNTY).pairs if p.change is Change.MOVE]
    assert [(p.household_no, p.cadre_no, p.end_reason) for p in moved][-1] == ("H1", "C2", why)
    confirm(store=store, proposal=propose(store=store, region=COUNTY))
    assert ended(store, "H1") == [("C1", end_text(Change.MOVE, why))]


def test_a_move_to_cover_more_households_says_so():
    assert end_text(Change.MOVE, EndReason.COVERAGE) == "按匹配方案调整结对，以覆盖更多重点户"
    assert end_text(Change.MOVE, None) == "按匹配方案调整结对"  # a proposal file made before reasons
    assert end_text(Change.DROP, EndReason.OFF_DUTY) == end_text(Change.DROP, None)  # not a drop's reason
