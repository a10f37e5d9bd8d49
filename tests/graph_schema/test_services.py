"""The service model on both engines: the catalogue, assessed needs and how they add up, offers and
their room, deliveries (completing referrals, entering the ledger), referrals and their states."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, household, id_number, org, person
from graph_schema.enums import NeedStatus, ReferralReason, ReferralStatus, ServiceCategory, ServiceDept
from graph_schema.errors import (
    DateOrder,
    FutureDate,
    InvalidValue,
    NeedNotOpen,
    NoOffer,
    NotFound,
    ReferralExists,
    ReferralStatusConflict,
)
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.service import household_ledger
from graph_schema.org.service import upsert_orgs
from graph_schema.pairing.service import aux_pair
from graph_schema.records import history
from graph_schema.service import facts
from graph_schema.service.catalogue import get_catalogue, upsert_service_types
from graph_schema.service.deliveries import deliveries_in, record_deliveries, record_delivery
from graph_schema.service.facts import Assessment, episodes
from graph_schema.service.models import DEFAULT_CATALOGUE, Delivery, Need, Offer, ServiceType, registry_need_id
from graph_schema.service.needs import person_needs, record_need, record_needs
from graph_schema.service.offers import list_offers, offer_room, upsert_offers
from graph_schema.service.referrals import (
    ReferralRequest,
    accept_referral,
    refer,
    refer_many,
    referrals_in,
    reject_referral,
    withdraw_referral,
)
from graph_schema.store.schema import REFERRAL, SERVICE_TYPE

D = dt.date
TODAY = dt.date.today()


@pytest.fixture
def world(store):
    """Two households in one county and one in another; persons with and without registry needs;
    a rehabilitation centre offering KF01 over the county (room for 2) and FJ01 over one village."""
    upsert_households(store=store, households=[household("H1", VILLAGE), household("H2", OTHER_VILLAGE),
                                               household("H3", OTHER_COUNTY_VILLAGE)])
    a = person("H1", grade=1, id_number=id_number(born=D(1980, 5, 1)), needs=["康复"])
    b = person("H2", id_number=id_number(born=D(1990, 1, 1)))
    c = person("H3", id_number=id_number("620802", D(1985, 1, 1)))
    upsert_persons(store=store, persons=[a, b, c])
    centre = org(region="620822")
    upsert_orgs(store=store, orgs=[centre])
    upsert_offers(store=store, offers=[
        Offer(uscc=centre.uscc, service_code="KF01", region_code="620822000000", capacity=2, valid_from=D(2024, 1, 1)),
        Offer(uscc=centre.uscc, service_code="FJ01", region_code=VILLAGE, designated_until=D(2030, 1, 1)),
    ])
    return store, a.id_number, b.id_number, c.id_number, centre.uscc


# --- the catalogue ---------------------------------------------------------------------------

def test_the_default_catalogue_is_in_effect_and_an_empty_store_stays_empty(store):
    catalogue = get_catalogue(store=store)
    assert [t.code for t in catalogue.sorted()] == sorted(t.code for t in DEFAULT_CATALOGUE)
    assert catalogue.time_limit("WZ01", "无障碍改造") == 180
    assert catalogue.time_limit(None, "康复") == 30  # a whole category: its shortest (KF02)
    assert store.query("MATCH (s:ServiceType) RETURN count(s) AS n")[0]["n"] == 0


def test_a_catalogue_import_adds_and_changes_entries_keeping_history(store):
    upsert_service_types(store=store, types=[
        ServiceType(code="KF04", name="居家康复指导", category="康复", time_limit=45)])
    assert store.query("MATCH (s:ServiceType) RETURN count(s) AS n")[0]["n"] == len(DEFAULT_CATALOGUE) + 1
    changed = ServiceType(code="KF01", name="康复训练", category="康复", unit="次", time_limit=20, counts=False)
    assert upsert_service_types(store=store, types=[changed]).updated == ["KF01"]
    catalogue = get_catalogue(store=store)
    assert catalogue.time_limit(None, "康复") == 20 and not catalogue.counted("KF01")
    assert store.read(lambda tx: history(tx, SERVICE_TYPE, "KF01"))[0]["previous"] == {"counts": True, "time_limit": 60}
    assert upsert_service_types(store=store, types=[changed]).unchanged == ["KF01"]


# --- needs ------------------------------------------------------------------------------------

def test_an_assessment_is_recorded_once_with_its_category_from_the_catalogue(world):
    store, a, *_ = world
    need = Need(id_number=a, service_code="FJ01", assessed_on=D(2024, 3, 1))
    assert record_needs(store=store, needs=[need]).created == [need.need_id]
    assert record_needs(store=store, needs=[need]).unchanged == [need.need_id]
    stored = store.query("MATCH (p:Person)-[:HAS_NEED]->(n:Need)-[:OF]->(s:ServiceType) "
                         "RETURN p.id_number AS p, n.category AS c, s.code AS s")
    assert stored == [{"p": a, "c": "辅具", "s": "FJ01"}]


@pytest.mark.parametrize("need, error", [
    (dict(service_code="ZZ01"), NotFound),  # not in the catalogue
    (dict(service_code="KF01", category="辅具"), InvalidValue),  # disagrees with the code's category
    (dict(category="康复", assessed_on=TODAY + dt.timedelta(days=1)), FutureDate),
])
def test_a_need_breaking_a_rule_is_refused(world, need, error):
    store, a, *_ = world
    with pytest.raises(error):
        record_need(store=store, need=Need(id_number=a, **({"assessed_on": D(2024, 3, 1)} | need)))
    assert store.query("MATCH (n:Need) RETURN count(n) AS n")[0]["n"] == 0


def test_a_need_of_an_unknown_person_is_refused_and_the_others_recorded(world):
    store, a, *_ = world
    result = record_needs(store=store, needs=[Need(id_number=id_number(), category="康复", assessed_on=D(2024, 1, 1)),
                                              Need(id_number=a, category="托养", assessed_on=D(2024, 1, 1))])
    assert [i for i, _ in result.errors] == [0] and isinstance(result.errors[0][1], NotFound)
    assert len(result.created) == 1


def a(need_id, day, status="已确认", code=None, category="康复"):
    return Assessment(need_id, code, category, day, status, "入户走访")


def test_needs_add_up_to_episodes():
    got = episodes("X", ["康复", "托养"], [
        a("n1", D(2024, 2, 1)),  # dates the registry's 康复 need
        a("n2", D(2024, 5, 1)),  # the same again: the first confirmation stands
        a("n3", D(2024, 6, 1), code="KF01"),  # a specific service supersedes the general need
        a("n4", D(2024, 9, 1), "已满足", code="KF01"),  # met: closed
        a("n5", D(2024, 3, 1), "不再需要", category="托养"),  # the registry's 托养 closed
        a("n6", D(2024, 4, 1), category="辅具", code="FJ01"),
    ])
    by_id = {e.need_id: e for e in got}
    assert set(by_id) == {"n1", registry_need_id("X", "托养"), "n3", "n6"}
    assert (by_id["n1"].confirmed_on, by_id["n1"].closed_on) == (D(2024, 2, 1), D(2024, 6, 1))
    assert (by_id["n3"].confirmed_on, by_id["n3"].closed_on) == (D(2024, 6, 1), D(2024, 9, 1))
    assert by_id[registry_need_id("X", "托养")].closed_on == D(2024, 3, 1)
    assert by_id["n6"].open_on(D(2024, 12, 1)) and not by_id["n6"].open_on(D(2024, 3, 31))
    assert by_id["n3"].open_on(D(2024, 8, 31)) and not by_id["n3"].open_on(D(2024, 9, 1))
    assert by_id["n1"].open_during(D(2024, 5, 31), D(2024, 12, 31)) and not by_id["n1"].open_during(D(2024, 6, 1), D(2024, 12, 31))
    registry_only = episodes("Y", ["康复"], [])[0]
    assert registry_only.confirmed_on is None and registry_only.open_on(D(1990, 1, 1))


def test_a_need_superseded_the_day_it_was_confirmed_was_never_open():
    got = episodes("X", [], [a("n1", D(2024, 2, 1)), a("n0", D(2024, 2, 1), code="KF02")])  # n0 is read first
    specific, general = (next(e for e in got if e.need_id == n) for n in ("n0", "n1"))
    assert specific.closed_on == specific.confirmed_on == D(2024, 2, 1)
    assert not specific.open_during(D(2024, 1, 1), D(2024, 12, 31)) and not specific.open_on(D(2024, 2, 1))
    assert general.open_during(D(2024, 1, 1), D(2024, 12, 31))


def test_a_persons_needs_as_of_a_day_ignore_later_assessments(world):
    store, a, *_ = world
    record_needs(store=store, needs=[Need(id_number=a, category="康复", assessed_on=D(2024, 2, 1)),
                                     Need(id_number=a, category="康复", assessed_on=D(2024, 8, 1), status="已满足")])
    before = store.read(lambda tx: person_needs(tx, a, ["康复"], D(2024, 7, 1)))
    after = store.read(lambda tx: person_needs(tx, a, ["康复"], D(2024, 9, 1)))
    assert len(before.assessments) == 2 and [e.open_on(D(2024, 7, 1)) for e in before.episodes] == [True]
    assert [e.open_on(D(2024, 9, 1)) for e in after.episodes] == [False]


# --- offers -------------------------------------------------------------------------------------

def test_offers_are_nodes_linked_to_their_organisation_service_and_region(world):
    store, *_, centre = world
    rows = store.query("MATCH (g:Org)-[:OFFERS]->(o:Offer)-[:OF]->(s:ServiceType) MATCH (o)-[:COVERS]->(r:Region) "
                       "RETURN g.uscc AS g, s.code AS code, r.code AS r ORDER BY code")
    assert rows == [{"g": centre, "code": "FJ01", "r": VILLAGE}, {"g": centre, "code": "KF01", "r": "620822000000"}]
    assert list_offers(store=store, region=VILLAGE).total == 2  # the county's offer reaches the village
    assert list_offers(store=store, region=OTHER_VILLAGE).total == 1
    assert list_offers(store=store, region="620802").total == 0


@pytest.mark.parametrize("change, entity", [
    ({"uscc": None}, "organisation"), ({"service_code": "ZZ01"}, "service"), ({"region_code": "620822999999"}, "region"),
])
def test_an_offer_naming_what_does_not_exist_is_refused(world, change, entity):
    store, *_, centre = world
    values = {"uscc": org().uscc if "uscc" in change else centre, "service_code": "KF02",
              "region_code": "620822000000"} | {k: v for k, v in change.items() if v}
    result = upsert_offers(store=store, offers=[Offer(**values)])
    assert result.errors[0][1].details["entity"] == entity and not result.created


def test_an_offer_ending_before_it_starts_is_invalid():
    with pytest.raises(ValueError):
        Offer(uscc=org().uscc, service_code="KF01", region_code="620822000000", valid_from=D(2024, 5, 1),
              valid_to=D(2024, 4, 1))


def test_room_counts_the_persons_served_this_year_and_those_referred(world):
    store, a, b, c, centre = world
    record_needs(store=store, needs=[Need(id_number=b, service_code="KF01", assessed_on=D(2024, 1, 5))])
    record_deliveries(store=store, deliveries=[
        Delivery(id_number=a, service_code="KF01", delivered_on=D(2024, 3, 1), uscc=centre),
        Delivery(id_number=a, service_code="KF01", delivered_on=D(2024, 4, 1), uscc=centre),  # the same person
        Delivery(id_number=c, service_code="KF01", delivered_on=D(2023, 12, 1), uscc=centre),  # last year
    ])
    offers = [o for o in list_offers(store=store, region="620822").items if o.service_code == "KF01"]

    catalogue = get_catalogue(store=store)

    def room(day):
        return store.read(lambda tx: offer_room(tx, offers, day, catalogue))[offers[0].offer_id]

    assert room(D(2024, 2, 1)) == 2 and room(D(2024, 6, 1)) == 1
    need_id = store.read(lambda tx: person_needs(tx, b, [], D(2024, 6, 1))).episodes[0].need_id
    refer(store=store, request=ReferralRequest(id_number=b, need_id=need_id, provider_uscc=centre,
                                               made_on=D(2024, 6, 1), made_by="organiser"))
    assert room(D(2024, 6, 1)) == 0



def test_room_counts_a_person_both_served_and_referred_once(world):
    store, a, b, c, centre = world
    record_needs(store=store, needs=[Need(id_number=a, service_code="KF01", assessed_on=D(2024, 1, 5))])
    record_deliveries(store=store, deliveries=[
        Delivery(id_number=a, service_code="KF01", delivered_on=D(2024, 3, 1), uscc=centre)])
    offers = [o for o in list_offers(store=store, region="620822").items if o.service_code == "KF01"]
    catalogue = get_catalogue(store=store)
    need_id = store.read(lambda tx: person_needs(tx, a, [], D(2024, 2, 1))).episodes[0].need_id
    refer(store=store, request=ReferralRequest(id_number=a, need_id=need_id, provider_uscc=centre,
                                               made_on=D(2024, 2, 1), made_by="organiser"))
    room = store.read(lambda tx: offer_room(tx, offers, D(2024, 6, 1), catalogue))
    assert room[offers[0].offer_id] == offers[0].capacity - 1

# --- deliveries ------------------------------------------------------------------------------

def test_a_delivery_is_linked_and_a_numbered_one_keeps_its_number(world):
    store, a, b, _, centre = world
    first = Delivery(record_no="FW1", id_number=a, service_code="FJ01", delivered_on=D(2024, 4, 2), uscc=centre,
                     item="轮椅", cost_fen=120_000, subsidy_fen=120_000)
    twin = first.model_copy(update={"record_no": "FW2"})  # the same delivery twice on one day: two records
    assert record_deliveries(store=store, deliveries=[first, twin]).created == ["FW1", "FW2"]
    rows = store.query("MATCH (p:Person)-[:RECEIVED]->(d:Delivery)-[:OF]->(s:ServiceType) MATCH (g:Org)-[:DELIVERED]->(d) "
                       "RETURN p.id_number AS p, d.delivery_id AS id, s.code AS s, g.uscc AS g ORDER BY id")
    assert rows == [{"p": a, "id": "FW1", "s": "FJ01", "g": centre}, {"p": a, "id": "FW2", "s": "FJ01", "g": centre}]
    moved = first.model_copy(update={"id_number": b, "service_code": "KF01"})  # a corrected record
    assert record_deliveries(store=store, deliveries=[moved]).updated == ["FW1"]
    assert store.read(lambda tx: deliveries_in(tx, [a, b])) == {a: [twin], b: [moved]}
    assert store.query("MATCH (d:Delivery {delivery_id: 'FW1'})-[:OF]->(s:ServiceType) RETURN s.code AS s") == [{"s": "KF01"}]


@pytest.mark.parametrize("change, error", [
    ({"service_code": "ZZ01"}, NotFound), ({"uscc": None, "dept": "残联", "id_number": "unknown"}, NotFound),
    ({"delivered_on": TODAY + dt.timedelta(days=1)}, FutureDate),
])
def test_a_delivery_breaking_a_rule_is_refused(world, change, error):
    store, a, *_, centre = world
    values = {"id_number": a, "service_code": "KF01", "delivered_on": D(2024, 3, 1), "uscc": centre} | change
    if values["id_number"] == "unknown":
        values["id_number"] = id_number()
    with pytest.raises(error):
        record_delivery(store=store, delivery=Delivery(**values))


@pytest.mark.parametrize("values", [
    {"uscc": None, "dept": None}, {"ended_on": D(2024, 2, 1)}, {"cost_fen": 100, "subsidy_fen": 200}, {"quantity": 0},
])
def test_an_inconsistent_delivery_is_invalid(values):
    with pytest.raises(ValueError):
        Delivery(**({"id_number": id_number(), "service_code": "KF01", "delivered_on": D(2024, 3, 1), "dept": "残联"}
                    | values))


def test_a_delivery_by_an_auxiliary_partner_enters_its_ledger_once(world):
    store, a, b, _, centre = world
    aux_pair(store=store, household_no="H1", uscc=centre, started_on=D(2024, 1, 1))
    delivery = Delivery(id_number=a, service_code="KF01", delivered_on=D(2024, 3, 1), uscc=centre)
    record_deliveries(store=store, deliveries=[delivery, Delivery(id_number=b, service_code="KF01",
                                                                  delivered_on=D(2024, 3, 1), uscc=centre)])
    record_deliveries(store=store, deliveries=[delivery])
    entries = household_ledger(store=store, household_no="H1")
    assert [(e.uscc, e.kind.value, e.record_no) for e in entries] == [(centre, "帮办实事", f"服务:{delivery.delivery_id}")]
    assert household_ledger(store=store, household_no="H2") == []  # not paired with the centre


# --- referrals ------------------------------------------------------------------------------------

@pytest.fixture
def needy(world):
    """Person b with an assessed KF01 need confirmed on 1 March 2024."""
    store, a, b, c, centre = world
    need = Need(id_number=b, service_code="KF01", assessed_on=D(2024, 3, 1))
    record_need(store=store, need=need)
    return world, need.need_id


def ask(number, need_id=None, **values):
    return ReferralRequest(**({"id_number": number, "need_id": need_id, "made_by": "organiser", "made_on": D(2024, 4, 1)}
                              | values))


def test_a_referral_is_due_after_the_services_time_limit_and_linked(needy):
    (store, a, b, c, centre), need_id = needy
    made = refer(store=store, request=ask(b, need_id, provider_uscc=centre))
    assert (made.status, made.due_on, made.category.value, made.service_code) == \
        (ReferralStatus.PENDING, D(2024, 5, 31), "康复", "KF01")
    rows = store.query("MATCH (p:Person)-[:HAS_REFERRAL]->(r:Referral)-[:REFERRED_TO]->(g:Org) "
                       "RETURN p.id_number AS p, g.uscc AS g")
    assert rows == [{"p": b, "g": centre}]
    by_dept = refer(store=store, request=ask(a, registry_need_id(a, "康复"), provider_dept=ServiceDept.DPF))
    assert by_dept.due_on == D(2024, 5, 1)  # a whole category: its shortest limit, 30 days


@pytest.mark.parametrize("values, error", [
    ({"need_id": "nonesuch"}, NeedNotOpen),
    ({"made_on": D(2024, 2, 1)}, NeedNotOpen),  # before the need was confirmed
    ({"provider_uscc": None, "provider_dept": None}, InvalidValue),
    ({"made_on": TODAY + dt.timedelta(days=1)}, FutureDate),
])
def test_a_referral_breaking_a_rule_is_refused(needy, values, error):
    (store, a, b, c, centre), need_id = needy
    with pytest.raises(error):
        refer(store=store, request=ask(b, **({"need_id": need_id, "provider_uscc": centre} | values)))
    assert store.query("MATCH (r:Referral) RETURN count(r) AS n")[0]["n"] == 0


def test_a_referral_goes_only_to_an_organisation_whose_active_offer_covers_the_person(needy):
    (store, a, b, c, centre), need_id = needy
    fj = Need(id_number=b, service_code="FJ01", assessed_on=D(2024, 3, 1))  # FJ01 is offered in another village
    record_need(store=store, need=fj)
    with pytest.raises(NoOffer):
        refer(store=store, request=ask(b, fj.need_id, provider_uscc=centre))
    with pytest.raises(NoOffer):  # the registry's need is open, but the KF01 offer starts in 2024
        refer(store=store, request=ask(a, registry_need_id(a, "康复"), provider_uscc=centre, made_on=D(2023, 12, 1)))
    with pytest.raises(NotFound):
        refer(store=store, request=ask(b, need_id, provider_uscc=org().uscc))


def test_one_open_referral_per_need_and_a_batch_names_the_refused(needy):
    (store, a, b, c, centre), need_id = needy
    result = refer_many(store=store, requests=[ask(b, need_id, provider_uscc=centre),
                                               ask(b, need_id, provider_dept=ServiceDept.DPF)])
    assert len(result.created) == 1 and isinstance(result.errors[0][1], ReferralExists) and result.errors[0][0] == 1
    again = refer_many(store=store, requests=[ask(b, need_id, provider_uscc=centre)])
    assert again.created == [] and isinstance(again.errors[0][1], ReferralExists)


def test_referral_states_move_one_way_and_keep_their_history(needy):
    (store, a, b, c, centre), need_id = needy
    made = refer(store=store, request=ask(b, need_id, provider_uscc=centre))
    with pytest.raises(DateOrder):
        accept_referral(store=store, referral_id=made.referral_id, on=D(2024, 3, 1))
    accepted = accept_referral(store=store, referral_id=made.referral_id, on=D(2024, 4, 3))
    assert (accepted.status, accepted.accepted_on) == (ReferralStatus.ACCEPTED, D(2024, 4, 3))
    with pytest.raises(ReferralStatusConflict):
        accept_referral(store=store, referral_id=made.referral_id)
    rejected = reject_referral(store=store, referral_id=made.referral_id, reason=ReferralReason.PERSON_UNREACHABLE,
                               on=D(2024, 4, 10))
    assert (rejected.status, rejected.closed_on, rejected.reason) == \
        (ReferralStatus.REJECTED, D(2024, 4, 10), ReferralReason.PERSON_UNREACHABLE)
    with pytest.raises(ReferralStatusConflict):
        withdraw_referral(store=store, referral_id=made.referral_id, reason=ReferralReason.OTHER)
    with pytest.raises(NotFound):
        accept_referral(store=store, referral_id="nonesuch")
    previous = [h["previous"]["status"] for h in store.read(lambda tx: history(tx, REFERRAL, made.referral_id))]
    assert previous == ["待接收", "已接收"]
    # closed: the need may be referred again
    assert refer(store=store, request=ask(b, need_id, provider_dept=ServiceDept.DPF, made_on=D(2024, 4, 11)))


def test_a_counting_delivery_completes_the_open_referrals_of_its_category(needy):
    (store, a, b, c, centre), need_id = needy
    made = refer(store=store, request=ask(b, need_id, provider_uscc=centre))
    record_delivery(store=store, delivery=Delivery(id_number=b, service_code="FJ01", delivered_on=D(2024, 4, 5),
                                                   dept="残联"))  # another category
    record_delivery(store=store, delivery=Delivery(id_number=b, service_code="KF01", delivered_on=D(2024, 3, 20),
                                                   uscc=centre))  # before the referral
    record_delivery(store=store, delivery=Delivery(id_number=b, service_code="KF01", delivered_on=D(2024, 4, 6),
                                                   uscc=centre, outcome="未完成"))  # does not count
    assert store.read(lambda tx: referrals_in(tx, [b]))[b][0].status is ReferralStatus.PENDING
    done = Delivery(id_number=b, service_code="KF01", delivered_on=D(2024, 4, 8), uscc=centre, outcome="进行中")
    record_delivery(store=store, delivery=done)
    after = store.read(lambda tx: referrals_in(tx, [b]))[b][0]
    assert (after.referral_id, after.status, after.closed_on, after.delivery_id) == \
        (made.referral_id, ReferralStatus.DONE, D(2024, 4, 8), done.delivery_id)
    with pytest.raises(ReferralStatusConflict):
        withdraw_referral(store=store, referral_id=made.referral_id, reason=ReferralReason.OTHER)


def test_the_facts_a_report_reads_are_scoped_to_the_region(world):
    store, a, b, c, centre = world
    record_needs(store=store, needs=[Need(id_number=c, category="托养", assessed_on=D(2024, 1, 1)),
                                     Need(id_number=b, category="辅具", assessed_on=D(2024, 1, 1),
                                          status=NeedStatus.CONFIRMED)])
    county = store.read(lambda tx: facts.load_facts(tx, "620822", D(2024, 12, 31), offers=True))
    assert set(county.persons) == {a, b} and len(county.offers) == 2
    assert county.persons[a].needs == ("康复",) and [x.category for x in county.assessments[b]] == ["辅具"]
    other = store.read(lambda tx: facts.load_facts(tx, "620802", D(2024, 12, 31)))
    assert set(other.persons) == {c}
    assert ServiceCategory("辅具") in ServiceCategory
