"""Auxiliary pairings by request and approval, on both engines: an organisation asks for a
household of the region it serves, an organiser of the household's region decides; only an
approved request opens the household; every rule's negative case; a race of two decisions."""

from __future__ import annotations

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, household, org
from graph_schema.access.models import Role, User
from graph_schema.enums import AuxRequestStatus, PairingSource
from graph_schema.errors import AlreadyAuxPaired, AuxRequestDecided, AuxRequestPending, NotFound
from graph_schema.household.service import get_household, upsert_households
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.requests import (
    OutsideServiceArea,
    approve_aux_request,
    decline_aux_request,
    get_aux_request,
    list_aux_requests,
    request_aux,
    withdraw_aux_request,
)
from graph_schema.pairing.service import aux_pair, aux_pairings_in, end_aux_pairing
from test_concurrency import race

VILLAGE_ORG = org(region="620822100201")  # serves one village of county A
CITY_ORG = org(region="6208")  # serves the whole city: both counties
COUNTY_A = User("organizer-a", Role.ORGANIZER, region_code="620822").scope
COUNTY_B = User("organizer-b", Role.ORGANIZER, region_code="620802").scope


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[household("HA1"), household("HA2", OTHER_VILLAGE),
                                               household("HB1", OTHER_COUNTY_VILLAGE)])
    upsert_orgs(store=store, orgs=[VILLAGE_ORG, CITY_ORG])
    return store


def ask(store, no: str = "HA1", uscc: str = VILLAGE_ORG.uscc, **more):
    return request_aux(store=store, household_no=no, uscc=uscc, reason="助残志愿服务", requested_by="org-user", **more)


def org_sees(store, uscc: str, no: str) -> bool:
    scope = User("o", Role.ORG, uscc=uscc).scope
    try:
        get_household(store=store, household_no=no, scope=scope)
    except NotFound:
        return False
    return True


def test_only_an_approved_request_opens_the_household_to_the_organisation(world):
    made = ask(world, service="康复")
    assert (made.status, made.region_code, made.service, made.decided_at) == (
        AuxRequestStatus.PENDING, "620822100201", "康复", None)
    assert not org_sees(world, VILLAGE_ORG.uscc, "HA1")
    assert world.read(lambda tx: aux_pairings_in(tx, ["HA1"]))["HA1"] == []
    decided, pairing = approve_aux_request(store=world, request_id=made.request_id, decided_by="organizer-a",
                                           scope=COUNTY_A, note="同意", consent_note="户主电话同意 2024-05-01")
    assert (decided.status, decided.decided_by, decided.consent_note, decided.pairing_id) == (
        AuxRequestStatus.APPROVED, "organizer-a", "户主电话同意 2024-05-01", pairing.pairing_id)
    assert pairing.source is PairingSource.REQUEST and pairing.ended_on is None
    assert org_sees(world, VILLAGE_ORG.uscc, "HA1")
    assert get_aux_request(store=world, request_id=made.request_id) == decided
    end_aux_pairing(store=world, household_no="HA1", uscc=VILLAGE_ORG.uscc, reason="项目结束")
    assert not org_sees(world, VILLAGE_ORG.uscc, "HA1")


def test_an_unknown_household_and_one_outside_the_service_region_answer_alike(world):
    answers = []
    for no in ("HB1", "HA2", "NOPE"):  # another county; county A but another village; nobody's
        with pytest.raises(NotFound) as refused:
            ask(world, no)
        answers.append((refused.value.code, refused.value.zh.replace(no, "#"), refused.value.en.replace(no, "#"),
                        refused.value.details | {"key": "#"}))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == "NOT_FOUND" and answers[0][1] == "家庭「#」不存在"
    assert world.query("MATCH (q:AuxRequest) RETURN count(q) AS n") == [{"n": 0}]
    assert ask(world, "HB1", CITY_ORG.uscc).region_code == OTHER_COUNTY_VILLAGE  # a city-wide one may


def test_one_pending_request_at_a_time_and_none_while_paired(world):
    first = ask(world)
    with pytest.raises(AuxRequestPending) as again:
        ask(world)
    assert again.value.details["request_id"] == first.request_id
    ask(world, uscc=CITY_ORG.uscc)  # another organisation may ask for the same household
    withdraw_aux_request(store=world, request_id=first.request_id, uscc=VILLAGE_ORG.uscc, withdrawn_by="org-user")
    second = ask(world)
    approve_aux_request(store=world, request_id=second.request_id, decided_by="admin")
    with pytest.raises(AlreadyAuxPaired):
        ask(world)


def test_a_request_is_decided_once_and_only_in_the_deciders_jurisdiction(world):
    made = ask(world)
    for scope in (COUNTY_B, User("o", Role.ORG, uscc=CITY_ORG.uscc).scope,
                  User("c", Role.CADRE, cadre_no="C1").scope):
        with pytest.raises(NotFound):
            approve_aux_request(store=world, request_id=made.request_id, decided_by="x", scope=scope)
        with pytest.raises(NotFound):
            get_aux_request(store=world, request_id=made.request_id, scope=scope)
    with pytest.raises(NotFound):  # another organisation cannot withdraw it
        withdraw_aux_request(store=world, request_id=made.request_id, uscc=CITY_ORG.uscc, withdrawn_by="x")
    declined = decline_aux_request(store=world, request_id=made.request_id, decided_by="organizer-a", scope=COUNTY_A,
                                   note="户主不同意")
    assert (declined.status, declined.decision_note, declined.pairing_id) == (
        AuxRequestStatus.DECLINED, "户主不同意", None)
    for decide in (lambda: approve_aux_request(store=world, request_id=made.request_id, decided_by="a", scope=COUNTY_A),
                   lambda: decline_aux_request(store=world, request_id=made.request_id, decided_by="a"),
                   lambda: withdraw_aux_request(store=world, request_id=made.request_id, uscc=VILLAGE_ORG.uscc,
                                                withdrawn_by="o")):
        with pytest.raises(AuxRequestDecided):
            decide()
    assert not org_sees(world, VILLAGE_ORG.uscc, "HA1")
    with pytest.raises(NotFound):
        approve_aux_request(store=world, request_id="nope", decided_by="admin")


def test_approval_checks_the_rules_again(world):
    moved = ask(world)
    upsert_orgs(store=world, orgs=[VILLAGE_ORG.model_copy(update={"service_region_code": "620822200000"})])
    with pytest.raises(OutsideServiceArea):
        approve_aux_request(store=world, request_id=moved.request_id, decided_by="organizer-a", scope=COUNTY_A)
    assert get_aux_request(store=world, request_id=moved.request_id).status is AuxRequestStatus.PENDING
    paired = ask(world, uscc=CITY_ORG.uscc)
    aux_pair(store=world, household_no="HA1", uscc=CITY_ORG.uscc)  # an organiser paired them meanwhile
    with pytest.raises(AlreadyAuxPaired):
        approve_aux_request(store=world, request_id=paired.request_id, decided_by="organizer-a", scope=COUNTY_A)


def test_lists_are_scoped_and_filtered(world):
    a = ask(world)
    b = ask(world, "HB1", CITY_ORG.uscc)
    decline_aux_request(store=world, request_id=a.request_id, decided_by="admin")

    def ids(**options) -> list[str]:
        return [q.request_id for q in list_aux_requests(store=world, **options).items]

    assert ids() == [b.request_id, a.request_id]  # newest first
    assert ids(scope=COUNTY_A) == [a.request_id] and ids(scope=COUNTY_B) == [b.request_id]
    assert ids(scope=User("o", Role.ORG, uscc=CITY_ORG.uscc).scope) == [b.request_id]
    assert ids(status=AuxRequestStatus.PENDING) == [b.request_id]
    assert ids(region="620822") == [a.request_id]
    assert ids(scope=User("c", Role.CADRE, cadre_no="C1").scope) == []
    with pytest.raises(NotFound):
        ids(scope=COUNTY_A, region="620802")
    page = list_aux_requests(store=world, page=PageRequest(2, 1))
    assert (page.total, [q.request_id for q in page.items]) == (2, [a.request_id])


def test_two_decisions_on_one_request_leave_one_winner(store, other_client):
    upsert_households(store=store, households=[household(f"H{r}") for r in range(3)])
    upsert_orgs(store=store, orgs=[VILLAGE_ORG])
    clients = [store, other_client()]
    for r in range(3):
        made = ask(store, f"H{r}")
        results, errors = race([
            lambda c=clients[0]: approve_aux_request(store=c, request_id=made.request_id, decided_by="a"),
            lambda c=clients[1]: decline_aux_request(store=c, request_id=made.request_id, decided_by="b"),
        ])
        assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], AuxRequestDecided), errors
        final = get_aux_request(store=store, request_id=made.request_id).status
        paired = store.query("MATCH (:Org)-[p:AUX_PAIRED_WITH]->(:Household {household_no: $h}) RETURN count(p) AS n",
                             {"h": f"H{r}"})[0]["n"]
        assert (final, paired) in ((AuxRequestStatus.APPROVED, 1), (AuxRequestStatus.DECLINED, 0))
