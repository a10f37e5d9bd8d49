"""The pairing lifecycle and every rule's negative case, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import cadre, household, org
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import PairingSource
from graph_schema.errors import (
    AlreadyAuxPaired,
    CadreAtLimit,
    CadreNotOnDuty,
    DateOrder,
    FutureDate,
    HouseholdAlreadyPaired,
    NoActivePairing,
    NotFound,
    PairingRecorded,
)
from graph_schema.household.service import upsert_households
from graph_schema.org.service import upsert_orgs
from graph_schema.pairing.flows import transfer
from graph_schema.pairing.models import PairRequest
from graph_schema.pairing.service import (
    active_pairing,
    aux_pair,
    cadre_load,
    end_aux_pairing,
    end_pairing,
    pair,
    pair_many,
    pairing_history,
)

D = dt.date(2024, 3, 1)


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[household(f"H{i}") for i in range(1, 7)])
    upsert_cadres(store=store, cadres=[cadre("C1", pair_limit=2), cadre("C2"), cadre("OFF", on_duty=False)])
    return store


def test_pair_creates_an_active_pairing(world):
    made = pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    assert made.active and made.source is PairingSource.MANUAL
    assert active_pairing(store=world, household_no="H1") == made
    assert cadre_load(store=world, cadre_nos=["C1", "C2"]) == {"C1": 1, "C2": 0}


def test_one_active_pairing_per_household(world):
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    with pytest.raises(HouseholdAlreadyPaired) as caught:
        pair(store=world, household_no="H1", cadre_no="C2", started_on=D)
    assert caught.value.code == "HOUSEHOLD_ALREADY_PAIRED" and caught.value.details["cadre_no"] == "C1"
    assert cadre_load(store=world, cadre_nos=["C2"]) == {"C2": 0}


def test_a_cadre_never_exceeds_the_limit(world):
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    pair(store=world, household_no="H2", cadre_no="C1", started_on=D)
    with pytest.raises(CadreAtLimit) as caught:
        pair(store=world, household_no="H3", cadre_no="C1", started_on=D)
    assert caught.value.details["limit"] == 2
    assert active_pairing(store=world, household_no="H3") is None


def test_a_cadre_not_on_duty_takes_no_new_pairing(world):
    with pytest.raises(CadreNotOnDuty):
        pair(store=world, household_no="H1", cadre_no="OFF", started_on=D)
    assert active_pairing(store=world, household_no="H1") is None


@pytest.mark.parametrize("household_no,cadre_no,entity", [("NOPE", "C1", "household"), ("H1", "NOPE", "cadre")])
def test_both_ends_must_exist(world, household_no, cadre_no, entity):
    with pytest.raises(NotFound) as caught:
        pair(store=world, household_no=household_no, cadre_no=cadre_no, started_on=D)
    assert caught.value.details["entity"] == entity


def test_a_pairing_cannot_start_in_the_future(world):
    with pytest.raises(FutureDate):
        pair(store=world, household_no="H1", cadre_no="C1", started_on=dt.date.today() + dt.timedelta(days=1))


def test_ending_keeps_history_and_frees_the_household(world):
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    ended = end_pairing(store=world, household_no="H1", reason="干部调动", ended_on=D + dt.timedelta(days=30))
    assert ended.ended_on == D + dt.timedelta(days=30) and ended.end_reason == "干部调动"
    assert active_pairing(store=world, household_no="H1") is None
    again = pair(store=world, household_no="H1", cadre_no="C2", started_on=D + dt.timedelta(days=31))
    assert [(p.cadre_no, p.active) for p in pairing_history(store=world, household_no="H1")] == [
        ("C1", False), ("C2", True)]
    assert again.active


def test_ending_needs_an_active_pairing_and_a_sane_date(world):
    with pytest.raises(NoActivePairing):
        end_pairing(store=world, household_no="H1", reason="x")
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    with pytest.raises(DateOrder):
        end_pairing(store=world, household_no="H1", reason="x", ended_on=D - dt.timedelta(days=1))
    with pytest.raises(NotFound):
        end_pairing(store=world, household_no="NOPE", reason="x")
    assert active_pairing(store=world, household_no="H1").active


def test_transfer_moves_the_household_in_one_step(world):
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    ended, new = transfer(store=world, household_no="H1", cadre_no="C2", on=D + dt.timedelta(days=10))
    assert (ended.cadre_no, ended.ended_on, new.cadre_no, new.source) == (
        "C1", D + dt.timedelta(days=10), "C2", PairingSource.TRANSFER)
    assert cadre_load(store=world, cadre_nos=["C1", "C2"]) == {"C1": 0, "C2": 1}


@pytest.mark.parametrize("target,error", [("OFF", CadreNotOnDuty), ("NOPE", NotFound), ("FULL", CadreAtLimit)])
def test_a_refused_transfer_leaves_the_old_pairing_untouched(world, target, error):
    upsert_cadres(store=world, cadres=[cadre("FULL", pair_limit=1)])
    pair(store=world, household_no="H2", cadre_no="FULL", started_on=D)
    before = pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    with pytest.raises(error):
        transfer(store=world, household_no="H1", cadre_no=target, on=D + dt.timedelta(days=5))
    assert active_pairing(store=world, household_no="H1") == before
    assert len(pairing_history(store=world, household_no="H1")) == 1


def test_pairing_again_as_a_pairing_already_recorded_is_refused_or_answered_with_it(world):
    """The same household, cadre and start date again: the active pairing itself while it lasts
    (a repeated request), a typed refusal once it has ended (it used to be a server error)."""
    first = pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    assert pair(store=world, household_no="H1", cadre_no="C1", started_on=D) == first
    end_pairing(store=world, household_no="H1", reason="x", ended_on=D)
    with pytest.raises(PairingRecorded) as caught:
        pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    assert caught.value.code == "PAIRING_RECORDED" and caught.value.details["started_on"] == D.isoformat()
    assert active_pairing(store=world, household_no="H1") is None


def test_a_transfer_back_on_the_same_day_is_refused_and_changes_nothing(world):
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D)
    day = D + dt.timedelta(days=10)
    transfer(store=world, household_no="H1", cadre_no="C2", on=day)
    transfer(store=world, household_no="H1", cadre_no="C1", on=day)
    before = pairing_history(store=world, household_no="H1")
    with pytest.raises(PairingRecorded):
        transfer(store=world, household_no="H1", cadre_no="C2", on=day)
    assert pairing_history(store=world, household_no="H1") == before
    assert active_pairing(store=world, household_no="H1").cadre_no == "C1"


def test_transfer_needs_an_active_pairing(world):
    with pytest.raises(NoActivePairing):
        transfer(store=world, household_no="H1", cadre_no="C2", on=D)
    assert active_pairing(store=world, household_no="H1") is None


def test_the_batch_path_applies_rules_in_order_and_writes_the_valid_rows(world):
    requests = [PairRequest(household_no=h, cadre_no=c, started_on=D) for h, c in [
        ("H1", "C1"), ("H2", "C1"), ("H3", "C1"), ("H1", "C2"), ("H4", "OFF"), ("H5", "NOPE"), ("H6", "C2")]]
    result = pair_many(store=world, requests=requests)
    assert len(result.created) == 3
    assert [(i, e.code) for i, e in result.errors] == [
        (2, "CADRE_AT_LIMIT"), (3, "HOUSEHOLD_ALREADY_PAIRED"), (4, "CADRE_NOT_ON_DUTY"), (5, "NOT_FOUND")]
    assert cadre_load(store=world, cadre_nos=["C1", "C2", "OFF"]) == {"C1": 2, "C2": 1, "OFF": 0}


def test_imports_may_record_a_pairing_with_a_cadre_who_has_left_and_run_twice(world):
    requests = [PairRequest(household_no="H1", cadre_no="OFF", started_on=D, source="import")]
    assert len(pair_many(store=world, requests=requests, allow_off_duty=True).created) == 1
    again = pair_many(store=world, requests=requests, allow_off_duty=True)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}
    assert len(pairing_history(store=world, household_no="H1")) == 1


def test_auxiliary_pairings_by_organisations(world):
    o1, o2 = org(), org()
    upsert_orgs(store=world, orgs=[o1, o2])
    first = aux_pair(store=world, household_no="H1", uscc=o1.uscc, started_on=D)
    aux_pair(store=world, household_no="H1", uscc=o2.uscc, started_on=D)  # several organisations may help
    with pytest.raises(AlreadyAuxPaired):
        aux_pair(store=world, household_no="H1", uscc=o1.uscc, started_on=D)
    with pytest.raises(NotFound):
        aux_pair(store=world, household_no="H1", uscc="91350100M000100Y43", started_on=D)
    with pytest.raises(NotFound):
        aux_pair(store=world, household_no="NOPE", uscc=o1.uscc, started_on=D)
    ended = end_aux_pairing(store=world, household_no="H1", uscc=o1.uscc, reason="项目结束",
                            ended_on=D + dt.timedelta(days=1))
    assert ended.pairing_id == first.pairing_id and not ended.ended_on is None
    with pytest.raises(NoActivePairing):
        end_aux_pairing(store=world, household_no="H1", uscc=o1.uscc, reason="x")
    active = world.query("MATCH (o:Org)-[p:AUX_PAIRED_WITH]->(:Household {household_no: 'H1'}) "
                         "WHERE p.ended_on IS NULL RETURN o.uscc AS uscc")
    assert active == [{"uscc": o2.uscc}]


def test_ended_pairings_are_recorded_as_history_without_counting_against_the_rules(world):
    history_rows = [PairRequest(household_no="H1", cadre_no="C1", started_on=D, ended_on=D + dt.timedelta(days=9),
                                end_reason="干部调动", source="import"),
                    PairRequest(household_no="H1", cadre_no="OFF", started_on=D - dt.timedelta(days=99),
                                ended_on=D, source="import")]
    result = pair_many(store=world, requests=history_rows)
    assert len(result.created) == 2 and not result.errors
    assert active_pairing(store=world, household_no="H1") is None
    pair(store=world, household_no="H1", cadre_no="C1", started_on=D + dt.timedelta(days=10))
    assert pair_many(store=world, requests=history_rows).counts()["unchanged"] == 2
    bad = pair_many(store=world, requests=[PairRequest(household_no="H2", cadre_no="C1", started_on=D,
                                                       ended_on=D - dt.timedelta(days=1))])
    assert [e.code for _, e in bad.errors] == ["DATE_ORDER"]
    assert [(p.cadre_no, p.end_reason) for p in pairing_history(store=world, household_no="H1")] == [
        ("OFF", None), ("C1", "干部调动"), ("C1", None)]
