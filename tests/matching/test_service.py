"""Propose, confirm and reassign over the store, on both engines, on hand-built graphs."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from factories import cadre, household
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import ExclusionReason, PairingSource
from graph_schema.errors import InvalidValue, NotFound, PairExcluded
from graph_schema.household.service import upsert_households
from graph_schema.pairing.exclusions import exclude, exclusions, lift_exclusion
from graph_schema.pairing.service import active_pairing, cadre_load, pair, pairing_history
from matching.candidates import Reach
from matching.proposal import Change, Proposal
from matching.service import confirm, propose, reassign

V1, V2, V3 = "620822100201", "620822100202", "620822101203"  # V1, V2 one township; V3 another
COUNTY = "620822"
SUDDEN, UNSTABLE, MARGINAL = "突发严重困难户", "脱贫不稳定户", "边缘易致贫户"  # risk 40, 30, 25


def world(store, households, cadres, pairs=()):
    upsert_households(store=store, households=households)
    upsert_cadres(store=store, cadres=cadres)
    for h, c in pairs:
        pair(store=store, household_no=h, cadre_no=c)
    return store


def by_household(proposal):
    return {p.household_no: p for p in proposal.pairs}


def test_propose_writes_nothing_and_explains_every_pair_and_every_gap(store):
    world(store, [household("H_HIGH", V1, monitoring=SUDDEN), household("H_MID", V1, monitoring=UNSTABLE),
                  household("H_FAR", V3, monitoring=MARGINAL), household("H_PLAIN", V1)],
          [cadre("C_V1", V1, pair_limit=1), cadre("C_V2", V2, pair_limit=1)])
    proposal = propose(store=store, region=COUNTY)
    pairs = by_household(proposal)
    assert set(pairs) == {"H_HIGH", "H_MID"}  # H_PLAIN is not a priority household
    assert {pairs[h].cadre_no: pairs[h].tier for h in pairs} == {"C_V1": 0, "C_V2": 1}
    near = next(p for p in pairs.values() if p.tier == 0)
    assert near.change is Change.NEW and any("同村" in r for r in near.reasons)
    assert any("突发严重困难户" in r for r in pairs["H_HIGH"].reasons)
    assert [(u.household_no, u.reason_code) for u in proposal.unpaired] == [("H_FAR", "NO_CADRE_IN_REACH")]
    assert proposal.summary.priority == 3 and proposal.summary.paired == 2 and proposal.scope == "620822000000"
    assert cadre_load(store=store, cadre_nos=["C_V1", "C_V2"]) == {"C_V1": 0, "C_V2": 0}


def test_confirm_persists_the_pairs_and_a_rerun_proposes_no_change(store, tmp_path):
    world(store, [household(f"H{i}", V1 if i % 2 else V2, monitoring=SUDDEN if i < 3 else MARGINAL)
                  for i in range(6)] + [household("N1", V1)],
          [cadre("C1", V1, pair_limit=2), cadre("C2", V2, pair_limit=2), cadre("C3", V2, pair_limit=3)],
          pairs=[("N1", "C1"), ("H1", "C3")])
    proposal = propose(store=store, region=COUNTY)
    path = tmp_path / "p.json"
    proposal.write(path)
    result = confirm(store=store, proposal=Proposal.read(path))
    assert not result.refused and len(result.confirmed) == 5 and result.unchanged == ["H1"]
    for p in result.confirmed:
        stored = active_pairing(store=store, household_no=p.household_no)
        assert stored.source is PairingSource.MATCHER and stored.proposal_id == proposal.id
    loads = cadre_load(store=store, cadre_nos=["C1", "C2", "C3"])
    assert loads["C1"] <= 2 and loads["C2"] <= 2 and loads["C3"] <= 3 and sum(loads.values()) == 7
    again = propose(store=store, region=COUNTY)
    assert (again.summary.new, again.summary.moved, again.summary.dropped, again.summary.kept) == (0, 0, 0, 6)
    assert again.summary.churn == 0
    assert {p.household_no: p.cadre_no for p in again.pairs} == {p.household_no: p.cadre_no for p in proposal.pairs}


def test_confirm_only_some_households(store):
    world(store, [household(f"H{i}", V1, monitoring=SUDDEN) for i in range(3)], [cadre("C1", V1, pair_limit=3)])
    proposal = propose(store=store, region=V1)
    result = confirm(store=store, proposal=proposal, only={"H0", "H2"})
    assert sorted(p.household_no for p in result.confirmed) == ["H0", "H2"]
    assert active_pairing(store=store, household_no="H1") is None
    with pytest.raises(InvalidValue) as caught:
        confirm(store=store, proposal=proposal, only={"NOPE"})
    assert "NOPE" in str(caught.value)


def test_a_changed_graph_refuses_only_the_broken_pairs(store):
    world(store, [household(f"H{i}", V1, monitoring=SUDDEN) for i in range(4)],
          [cadre("C1", V1, pair_limit=2), cadre("C2", V1, pair_limit=2), cadre("C_OTHER", V3, pair_limit=1)])
    proposal = propose(store=store, region=COUNTY)
    planned = {p.household_no: p.cadre_no for p in proposal.pairs}
    assert len(planned) == 4 and "C_OTHER" not in planned.values()  # out of reach
    # After the proposal: H0 is paired by hand, H1's cadre leaves, H2's pair is put on the exclusion list.
    pair(store=store, household_no="H0", cadre_no="C_OTHER")
    upsert_cadres(store=store, cadres=[cadre(planned["H1"], V1, pair_limit=2, on_duty=False)])
    exclude(store=store, household_no="H2", cadre_no=planned["H2"], reason=ExclusionReason.RELATIVE)
    result = confirm(store=store, proposal=proposal)
    refused = {h: e.code for h, e in result.refused}
    assert refused["H0"] == "PROPOSAL_STALE"
    assert refused["H1"] == "CADRE_NOT_ON_DUTY"
    assert refused["H2"] == "PAIR_EXCLUDED"
    confirmed = {p.household_no for p in result.confirmed}
    assert confirmed == {"H0", "H1", "H2", "H3"} - set(refused)
    assert active_pairing(store=store, household_no="H0").cadre_no == "C_OTHER"  # untouched
    assert active_pairing(store=store, household_no="H2") is None


def test_a_move_waits_for_the_place_another_move_frees(store):
    # LOW holds C1's only place; HIGH can only reach C1 (C2 is excluded for it): LOW moves to C2, HIGH
    # takes C1. HIGH sorts first, so its pair must wait for LOW's move inside the same confirm.
    world(store, [household("A_HIGH", V1, monitoring=SUDDEN), household("B_LOW", V1, monitoring=MARGINAL)],
          [cadre("C1", V1, pair_limit=1), cadre("C2", V2, pair_limit=1)], pairs=[("B_LOW", "C1")])
    exclude(store=store, household_no="A_HIGH", cadre_no="C2", reason=ExclusionReason.ORGANISER)
    proposal = propose(store=store, region=COUNTY)
    pairs = by_household(proposal)
    assert (pairs["A_HIGH"].cadre_no, pairs["A_HIGH"].change) == ("C1", Change.NEW)
    assert (pairs["B_LOW"].cadre_no, pairs["B_LOW"].change, pairs["B_LOW"].previous_cadre_no) == \
        ("C2", Change.MOVE, "C1")
    result = confirm(store=store, proposal=proposal)
    assert not result.refused and len(result.confirmed) == 2
    history = pairing_history(store=store, household_no="B_LOW")
    assert [(p.cadre_no, p.active) for p in history] == [("C1", False), ("C2", True)]


def test_a_lower_risk_household_gives_up_its_place_when_nothing_else_reaches_a_higher_one(store):
    world(store, [household("HIGH", V1, monitoring=SUDDEN), household("LOW", V1, monitoring=MARGINAL)],
          [cadre("C1", V1, pair_limit=1)], pairs=[("LOW", "C1")])
    proposal = propose(store=store, region=COUNTY)
    assert [(u.household_no, u.change, u.previous_cadre_no) for u in proposal.unpaired] == \
        [("LOW", Change.DROP, "C1")]
    result = confirm(store=store, proposal=proposal)
    assert result.dropped == ["LOW"] and [p.household_no for p in result.confirmed] == ["HIGH"]
    assert active_pairing(store=store, household_no="LOW") is None
    # Confirming twice changes nothing more.
    twice = confirm(store=store, proposal=proposal)
    assert not twice.confirmed and not twice.refused and set(twice.unchanged) == {"HIGH", "LOW"}


def test_reassign_after_a_cadre_leaves_moves_only_their_households(store):
    households = [household(f"H{i}", V1, monitoring=UNSTABLE) for i in range(6)]
    world(store, households, [cadre("C1", V1, pair_limit=3), cadre("C2", V1, pair_limit=3),
                              cadre("C3", V2, pair_limit=5)])
    confirm(store=store, proposal=propose(store=store, region=COUNTY))
    before = {h.household_no: active_pairing(store=store, household_no=h.household_no).cadre_no for h in households}
    leaving = before["H0"]
    upsert_cadres(store=store, cadres=[cadre(leaving, V1, pair_limit=3, on_duty=False)])
    upsert_households(store=store, households=[household("H_NEW", V1, monitoring=SUDDEN)])
    proposal = reassign(store=store, region=COUNTY)
    affected = {h for h, c in before.items() if c == leaving} | {"H_NEW"}
    assert {p.household_no for p in proposal.pairs} == affected
    assert all(p.cadre_no != leaving for p in proposal.pairs)
    s = proposal.summary
    assert s.kept == 6 - (len(affected) - 1) and s.moved == len(affected) - 1 and s.new == 1
    assert s.churn == pytest.approx(round(len(affected) / s.kept, 4))
    result = confirm(store=store, proposal=proposal)
    assert not result.refused
    after = {h.household_no: active_pairing(store=store, household_no=h.household_no).cadre_no for h in households}
    assert {h for h in before if before[h] != after[h]} == affected - {"H_NEW"}


def test_the_exclusion_list_binds_every_pairing_path(store):
    world(store, [household("H1", V1, monitoring=SUDDEN)], [cadre("C1", V1), cadre("C2", V1)])
    exclude(store=store, household_no="H1", cadre_no="C1", reason=ExclusionReason.RELATIVE, note="表兄")
    exclude(store=store, household_no="H1", cadre_no="C1", reason=ExclusionReason.RELATIVE)  # idempotent
    assert [(e.cadre_no, e.reason, e.note) for e in exclusions(store=store, region=COUNTY)] == \
        [("C1", ExclusionReason.RELATIVE, "表兄")]
    with pytest.raises(PairExcluded):
        pair(store=store, household_no="H1", cadre_no="C1")
    assert by_household(propose(store=store, region=COUNTY))["H1"].cadre_no == "C2"
    upsert_cadres(store=store, cadres=[cadre("C2", V1, on_duty=False)])
    only = propose(store=store, region=COUNTY)
    assert [(u.household_no, u.reason_code) for u in only.unpaired] == [("H1", "ALL_EXCLUDED")]
    assert lift_exclusion(store=store, household_no="H1", cadre_no="C1")
    assert not lift_exclusion(store=store, household_no="H1", cadre_no="C1")
    assert pair(store=store, household_no="H1", cadre_no="C1").active
    with pytest.raises(NotFound):
        exclude(store=store, household_no="NOPE", cadre_no="C1", reason=ExclusionReason.ORGANISER)


def test_scope_and_reach(store):
    world(store, [household("H1", V1, monitoring=SUDDEN), household("H3", V3, monitoring=SUDDEN)],
          [cadre("C2", V2), cadre("C3", "620822101000")])
    assert set(by_household(propose(store=store, region=V1))) == {"H1"}  # a village scope, township reach
    assert by_household(propose(store=store, region="620822101"))["H3"].cadre_no == "C3"
    assert propose(store=store, region=COUNTY, reach=Reach.VILLAGE).summary.paired == 0
    with pytest.raises(InvalidValue):
        propose(store=store, region="62082")
    with pytest.raises(NotFound):
        propose(store=store, region="630000")


def test_networkx_and_ortools_agree_through_the_service(store):
    world(store, [household(f"H{i}", (V1, V2, V3)[i % 3], monitoring=(SUDDEN, UNSTABLE, MARGINAL)[i % 3 - 1])
                  for i in range(15)],
          [cadre("C1", V1, pair_limit=2), cadre("C2", V2, pair_limit=3), cadre("C3", V3, pair_limit=1),
           cadre("CT", "620822100000", pair_limit=2)], pairs=[("H0", "C3")])
    fast, reference = (propose(store=store, region=COUNTY, solver=s) for s in ("ortools", "networkx"))
    assert fast.objective == reference.objective
    # Ties may split differently (moving H0 or dropping it costs the same), the optimum's shape may not.
    shape = lambda p: (p.summary.paired, p.summary.kept, p.summary.moved + p.summary.dropped,  # noqa: E731
                       sorted(x.risk_score for x in p.pairs))
    assert shape(fast) == shape(reference)


def test_bad_proposal_files_name_the_file_and_field(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidValue) as caught:
        Proposal.read(broken)
    assert "broken.json" in caught.value.zh
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"id": "x", "scope": "62", "pairs": []}), encoding="utf-8")
    with pytest.raises(InvalidValue) as caught:
        Proposal.read(wrong)
    assert "wrong.json" in caught.value.zh
    with pytest.raises(InvalidValue):
        Proposal.read(tmp_path / "missing.json")


runner = CliRunner()


def test_cli_propose_then_confirm_some(engine, store, tmp_path):
    world(store, [household(f"H{i}", V1, monitoring=SUDDEN) for i in range(3)], [cadre("C1", V1, pair_limit=3)])
    target = store.location
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
    out = tmp_path / "proposal.json"
    proposed = runner.invoke(app, ["match", "propose", "--region", COUNTY, "--out", str(out), "--store", target])
    assert proposed.exit_code == 0, proposed.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"id", "scope", "as_of", "pairs", "unpaired"} <= set(data)
    assert {"household_no", "cadre_no", "cost", "reasons"} <= set(data["pairs"][0])
    done = runner.invoke(app, ["match", "confirm", str(out), "--only", "H0,H1", "--store", target])
    assert done.exit_code == 0 and "已确认 confirmed: 2" in done.output, done.output
    again = runner.invoke(app, ["match", "confirm", str(out), "--store", target])
    assert again.exit_code == 0 and "已确认 confirmed: 1" in again.output and "unchanged: 2" in again.output
    bad = runner.invoke(app, ["match", "propose", "--region", "99", "--store", target])
    assert bad.exit_code == 2 and "区划" in bad.output
    unknown = runner.invoke(app, ["match", "propose", "--region", COUNTY, "--reach", "planet", "--store", target])
    assert unknown.exit_code == 2 and "unknown reach" in unknown.output


def test_an_excluded_current_pairing_is_moved_with_the_exclusion_as_its_reason(store):
    world(store, [household("H1", V1, monitoring=SUDDEN)], [cadre("C1", V1), cadre("C2", V1)], pairs=[("H1", "C1")])
    exclude(store=store, household_no="H1", cadre_no="C1", reason=ExclusionReason.RELATIVE)
    moved = by_household(propose(store=store, region=COUNTY))["H1"]
    assert (moved.cadre_no, moved.change, moved.previous_cadre_no) == ("C2", Change.MOVE, "C1")
    assert any("回避名单" in r for r in moved.reasons)
    assert by_household(reassign(store=store, region=COUNTY))["H1"].cadre_no == "C2"  # not kept by reassign
    upsert_cadres(store=store, cadres=[cadre("C2", V1, on_duty=False)])
    dropped = propose(store=store, region=COUNTY)
    assert [(u.household_no, u.change, u.reason_code) for u in dropped.unpaired] == \
        [("H1", Change.DROP, "ALL_EXCLUDED")]
    confirm(store=store, proposal=dropped)
    assert active_pairing(store=store, household_no="H1") is None


def test_priority_households_with_no_cadre_on_duty_at_all_are_explained(store):
    world(store, [household("H1", V1, monitoring=SUDDEN)], [cadre("C1", V1, on_duty=False)], pairs=[])
    proposal = propose(store=store, region=COUNTY)
    assert proposal.pairs == [] and [u.reason_code for u in proposal.unpaired] == ["NO_CADRE_IN_REACH"]
