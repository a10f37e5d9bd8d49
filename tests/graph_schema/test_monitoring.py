"""Unpaired priority households: the definition, the score, the scope, the date, on both engines."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, cadre, household, person
from graph_schema.cadre.service import upsert_cadres
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.monitoring import risk
from graph_schema.monitoring import unpaired
from graph_schema.monitoring.unpaired import unpaired_priority
from graph_schema.pagination import PageRequest
from graph_schema.pairing.models import PairRequest
from graph_schema.pairing.service import end_pairing, pair, pair_many
from graph_schema.settings import RiskWeights
from importers import synth

D = dt.date(2024, 3, 1)


def nos(page) -> list[str]:
    return [i.household_no for i in page.items]


def test_each_trigger_makes_a_priority_household(store):
    upsert_households(store=store, households=[
        household("MON", monitoring="边缘易致贫户"), household("TEK", tekun=True), household("OLD", elderly_carer=True),
        household("SEV"), household("MULTI"), household("PLAIN", dibao=True, labour=0), household("NONE"),
    ])
    upsert_persons(store=store, persons=[person("SEV", grade=2), person("MULTI", grade=3), person("MULTI", grade=4),
                                         person("PLAIN", grade=3)])
    page = unpaired_priority(store=store)
    assert sorted(nos(page)) == ["MON", "MULTI", "OLD", "SEV", "TEK"]
    reasons = {i.household_no: i.reasons for i in page.items}
    assert reasons["MON"] == ["边缘易致贫户"] and reasons["TEK"] == ["特困"] and reasons["OLD"] == ["以老养残"]
    assert reasons["SEV"] == ["重度残疾成员1人"] and reasons["MULTI"] == ["一户多残（2人）"]


def test_paired_with_an_on_duty_cadre_is_not_listed_but_an_off_duty_cadre_is(store):
    upsert_households(store=store, households=[household(n, tekun=True) for n in ("A", "B", "C")])
    upsert_cadres(store=store, cadres=[cadre("ON"), cadre("GONE")])
    pair(store=store, household_no="A", cadre_no="ON", started_on=D)
    pair(store=store, household_no="B", cadre_no="GONE", started_on=D)
    upsert_cadres(store=store, cadres=[cadre("GONE", on_duty=False)])
    page = unpaired_priority(store=store)
    assert nos(page) == ["B", "C"]
    assert page.items[0].reasons[-1] == "结对干部已不在岗，需重新结对" and len(page.items[1].reasons) == 1


def test_as_of_a_date_uses_the_pairings_of_that_date(store):
    upsert_households(store=store, households=[household("A", tekun=True), household("B", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    pair(store=store, household_no="A", cadre_no="C1", started_on=D)
    pair(store=store, household_no="B", cadre_no="C1", started_on=D)
    end_pairing(store=store, household_no="B", reason="调动", ended_on=D + dt.timedelta(days=60))
    assert nos(unpaired_priority(store=store, as_of=D - dt.timedelta(days=1))) == ["A", "B"]
    assert nos(unpaired_priority(store=store, as_of=D)) == []
    assert nos(unpaired_priority(store=store, as_of=D + dt.timedelta(days=59))) == []
    assert nos(unpaired_priority(store=store, as_of=D + dt.timedelta(days=60))) == ["B"]
    assert nos(unpaired_priority(store=store)) == ["B"]


@pytest.mark.parametrize("region,expected", [
    (None, ["A", "B", "X"]), ("62", ["A", "B", "X"]), ("620822", ["A", "B"]), ("620822000000", ["A", "B"]),
    ("620822100", ["A", "B"]), ("620822100201", ["A"]), (OTHER_COUNTY_VILLAGE, ["X"]),
])
def test_scope_is_any_region_level(store, region, expected):
    upsert_households(store=store, households=[household("A", tekun=True), household("B", region=OTHER_VILLAGE,
                      tekun=True), household("X", region=OTHER_COUNTY_VILLAGE, tekun=True)])
    assert sorted(nos(unpaired_priority(store=store, region=region))) == expected


def test_a_region_the_store_does_not_hold_is_not_found_and_a_bad_code_is_invalid(store):
    upsert_households(store=store, households=[household("A", tekun=True)])
    with pytest.raises(NotFound):
        unpaired_priority(store=store, region="6209")
    with pytest.raises(InvalidValue):
        unpaired_priority(store=store, region="62a")


def test_highest_risk_first_then_household_number_and_pages_are_stable(store):
    upsert_households(store=store, households=[
        household("H1", tekun=True), household("H2", monitoring="突发严重困难户", tekun=True, dibao=True),
        household("H3", tekun=True), household("H4", monitoring="脱贫不稳定户"), household("H5", elderly_carer=True)])
    everything = unpaired_priority(store=store)
    assert [(i.household_no, i.risk_score) for i in everything.items] == [
        ("H2", 75), ("H4", 30), ("H1", 25), ("H3", 25), ("H5", 15)]
    assert [i.risk_level.value for i in everything.items] == ["高", "中", "低", "低", "低"]
    pages = [unpaired_priority(store=store, page=PageRequest(page=p, page_size=2)) for p in (1, 2, 3)]
    assert [n for p in pages for n in nos(p)] == nos(everything) and pages[0].total == 5 and pages[2].pages == 3


def test_weights_are_configurable(store):
    upsert_households(store=store, households=[household("T", tekun=True), household("E", elderly_carer=True)])
    heavy = RiskWeights(elderly_carer=90)
    assert nos(unpaired_priority(store=store, weights=heavy)) == ["E", "T"]
    assert unpaired_priority(store=store, weights=heavy).items[0].risk_level is risk.RiskLevel.HIGH


def test_the_query_and_the_python_definition_agree_on_synthetic_data(store):
    data = synth.generate("tiny", seed=7)
    synth.load(store, data)
    members: dict[str, list] = {}
    for p in data.persons:
        members.setdefault(p.household_no, []).append(p)
    pairs = [PairRequest(household_no=h.household_no, cadre_no=data.cadres[0].cadre_no, started_on=D)
             for h in random.Random(3).sample(data.households, 3)]
    pair_many(store=store, requests=pairs, allow_off_duty=True)
    on_duty = {c.cadre_no for c in data.cadres if c.on_duty}
    paired = {p.household_no for p in [*data.pairings, *pairs] if p.cadre_no in on_duty}
    weights = RiskWeights()
    expected = []
    for h in data.households:
        ms = members.get(h.household_no, [])
        facts = risk.RiskFacts(monitoring=h.monitoring, tekun=h.tekun, dibao=h.dibao, elderly_carer=h.elderly_carer,
                               labour=h.labour, disabled=len(ms), severe=sum(p.grade <= 2 for p in ms))
        if facts.priority and h.household_no not in paired:
            expected.append((-risk.score(facts, weights), h.household_no))
    page = unpaired_priority(store=store, page=PageRequest(page_size=1000))
    assert [(-i.risk_score, i.household_no) for i in page.items] == sorted(expected)
    assert page.total == len(expected) > 5


@pytest.mark.parametrize("seed", [1, 2])
def test_the_server_orders_by_the_python_score_whatever_the_weights(store, seed):
    """The page is ordered and cut on the server by the score in Cypher; the rows carry the score
    computed in Python, so any difference between the two shows as a misordered page."""
    synth.load(store, synth.generate("tiny", seed=seed))
    rng = random.Random(seed)
    weights = RiskWeights(**{name: rng.randint(0, 60) for name in RiskWeights.model_fields
                             if name not in ("high_level", "medium_level")})
    everything = unpaired_priority(store=store, weights=weights, page=PageRequest(page_size=1000)).items
    assert everything == sorted(everything, key=lambda i: (-i.risk_score, i.household_no))
    assert len({i.risk_score for i in everything}) > 3
    pages = [unpaired_priority(store=store, weights=weights, page=PageRequest(page=p, page_size=7))
             for p in range(1, len(everything) // 7 + 2)]
    assert [i for p in pages for i in p.items] == everything and {p.total for p in pages} == {len(everything)}


@pytest.mark.parametrize("per_row", [1, 4])
def test_a_wide_scope_read_from_the_top_of_the_scores_gives_the_pages_of_the_whole_list(store, monkeypatch,
                                                                                        per_row):
    """A province's pages are read from the best-scored priority households down, a county's by
    ordering its whole unpaired list on the server: on one county the two give the same pages,
    with one candidate per missing row (read again and again) or four."""
    data = synth.generate("tiny", seed=5)
    synth.load(store, data)
    off_duty = next(c for c in data.cadres if not c.on_duty)
    on_duty = next(c for c in data.cadres if c.on_duty)
    first = unpaired_priority(store=store, region="62", page=PageRequest(page_size=1000)).items
    pair_many(store=store, allow_off_duty=True, requests=[
        PairRequest(household_no=i.household_no, cadre_no=(off_duty if n % 3 else on_duty).cadre_no, started_on=D)
        for n, i in enumerate(first[:12])])
    monkeypatch.setattr(unpaired, "_CANDIDATES_PER_ROW", per_row)
    county = data.households[0].region_code[:6]
    assert {h.region_code[:6] for h in data.households} == {county}
    whole = unpaired_priority(store=store, region=county, page=PageRequest(page_size=1000))
    assert any("不在岗" in r for i in whole.items for r in i.reasons)
    for size in (1, 3, 50):
        pages = [unpaired_priority(store=store, region="62", page=PageRequest(page=p, page_size=size))
                 for p in range(1, len(whole.items) // size + 3)]
        assert [i for p in pages for i in p.items] == whole.items
        assert {p.total for p in pages} == {whole.total} and pages[-1].items == []
