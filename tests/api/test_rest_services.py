"""Who may do what with services, through the REST API, on both engines: the catalogue, offers,
needs, referrals and their answers, deliveries, the service reports; scoping (NotFound outside
the jurisdiction), masking, the audit trail, and hostile input answered with a clear error.

The world (tests/api/conftest.py): county A holds HA1 (paired with cadre CA1) and HA2 (auxiliary
pairing with organisation OA); county B holds HB1. Here OA offers KF01 over county A.
"""

from __future__ import annotations

import datetime as dt

import pytest

from graph_schema.access.audit import audit_entries
from graph_schema.access.models import Role
from graph_schema.access.service import add_user, issue_token
from graph_schema.service.models import Offer
from graph_schema.service.offers import upsert_offers

TODAY = dt.date.today()
DAY = (TODAY - dt.timedelta(days=10)).isoformat()
API = "/api/v1"


@pytest.fixture
def services(world):
    upsert_offers(store=world.store, offers=[Offer(uscc=world.org_a, service_code="KF01", region_code="620822000000")])
    for user_id, role, bound in (("organizer-p", Role.ORGANIZER, {"region": "62"}),
                                 ("org-b", Role.ORG, {"uscc": world.org_b})):
        add_user(store=world.store, user_id=user_id, role=role, **bound)
        world.tokens[user_id] = issue_token(store=world.store, user_id=user_id)
    return world


def call(client, world, user, method, path, body=None, **params):
    return client.request(method, API + path, json=body, params=params, headers=world.auth(user))


def need(world, household="HA1", **values):
    return {"id_number": world.persons[household], "service_code": "KF01", "assessed_on": DAY} | values


def a_need(client, world, household="HA1"):
    """A KF01 need of the household's member, recorded by the organiser; returns its id."""
    answer = call(client, world, "organizer-a", "POST", "/needs", need(world, household))
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"]


def a_referral(client, world, household="HA1"):
    need_id = a_need(client, world, household)
    answer = call(client, world, "organizer-a", "POST", "/referrals",
                  {"id_number": world.persons[household], "need_id": need_id, "provider_uscc": world.org_a,
                   "made_on": DAY})
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_everyone_reads_the_catalogue_and_only_a_provinces_organiser_or_an_admin_changes_it(client, services):
    entry = [{"code": "XL01", "name": "心理疏导", "category": "其他", "time_limit": 30}]
    for user in ("admin", "organizer-a", "portal-a", "cadre-a", "org-a"):
        assert call(client, services, user, "GET", "/service-types").status_code == 200
    for user in ("organizer-a", "portal-a", "cadre-a", "org-a"):
        refused = call(client, services, user, "PUT", "/service-types", entry)
        assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN", user
    assert call(client, services, "organizer-p", "PUT", "/service-types", entry).json() == \
        {"created": 1, "updated": 0, "unchanged": 0}
    changed = [entry[0] | {"time_limit": 45}]
    assert call(client, services, "admin", "PUT", "/service-types", changed).json()["updated"] == 1
    codes = {t["code"]: t for t in call(client, services, "cadre-a", "GET", "/service-types").json()}
    assert codes["XL01"]["time_limit"] == 45 and "KF01" in codes
    bad = call(client, services, "admin", "PUT", "/service-types", [entry[0] | {"time_limit": 0}])
    assert bad.status_code == 422 and bad.json()["code"] == "VALIDATION"


def test_organisers_keep_the_offers_of_their_region(client, services):
    offer = {"uscc": services.org_a, "service_code": "KF02", "region_code": "620822100000", "capacity": 5}
    expect = {"admin": 201, "organizer-a": 201, "organizer-b": 404, "portal-a": 403, "cadre-a": 403, "org-a": 403}
    for user, status in expect.items():
        assert call(client, services, user, "POST", "/offers", offer).status_code == status, user
    outside = call(client, services, "organizer-a", "POST", "/offers", offer | {"region_code": "620802000000"})
    assert outside.status_code == 404 and outside.json()["code"] == "NOT_FOUND"
    unknown = call(client, services, "organizer-a", "POST", "/offers", offer | {"service_code": "ZZ01"})
    assert unknown.status_code == 404
    seen = {user: call(client, services, user, "GET", "/offers").json()["total"]
            for user in ("organizer-a", "organizer-b", "org-a", "cadre-a")}
    assert seen == {"organizer-a": 2, "organizer-b": 0, "org-a": 2, "cadre-a": 0}


def test_cadres_record_the_needs_of_their_own_households_in_their_own_name(client, services):
    w = services
    mine = call(client, w, "cadre-a", "POST", "/needs", need(w, category="康复", service_code=None))
    assert mine.status_code == 201
    listed = call(client, w, "organizer-a", "GET", f"/persons/{w.persons['HA1']}/needs").json()
    assert [(a["assessor"], a["source"]) for a in listed["assessments"]] == [("CA1", "入户走访")]
    assert [(n["category"], n["open"]) for n in listed["needs"]] == [("康复", True)]
    assert call(client, w, "cadre-a", "POST", "/needs", need(w, "HA2")).status_code == 404  # not their household
    assert call(client, w, "cadre-a", "POST", "/needs", need(w, assessor="CA2")).status_code == 403
    expect = {"admin": 201, "organizer-a": 201, "organizer-b": 404, "portal-a": 403, "org-a": 403}
    for n, (user, status) in enumerate(expect.items()):
        day = (TODAY - dt.timedelta(days=20 + n)).isoformat()
        assert call(client, w, user, "POST", "/needs", need(w, assessed_on=day)).status_code == status, user


def test_a_persons_needs_are_read_in_scope_and_masked_where_ids_are_hidden(client, services):
    w = services
    a_need(client, w)
    number = w.persons["HA1"]
    expect = {"admin": 200, "organizer-a": 200, "organizer-b": 404, "portal-a": 403, "cadre-a": 200, "org-a": 404}
    for user, status in expect.items():
        answer = call(client, w, user, "GET", f"/persons/{number}/needs")
        assert answer.status_code == status, user
        if status == 200:
            shown = answer.json()["id_number"]
            assert shown == (number if user in ("admin", "organizer-a") else number[:6] + "********" + number[14:])
    assert call(client, w, "organizer-a", "GET", "/persons/620822199999999999/needs").status_code in (404, 422)
    client.app.state.services.audit.flush()
    entries = audit_entries(store=w.store, user_id="cadre-a").items
    assert [(e.action, e.object_keys) for e in entries] == [("read", ["HA1"])]


def test_organisers_refer_and_the_organisation_answers(client, services):
    w = services
    made = a_referral(client, w)
    assert made["status"] == "待接收" and made["made_by"] == "organizer-a" and made["provider_uscc"] == w.org_a
    rid = made["referral_id"]
    seen = {user: call(client, w, user, "GET", "/referrals") for user in
            ("admin", "organizer-a", "organizer-b", "org-a", "org-b", "portal-a", "cadre-a")}
    assert {u: r.status_code for u, r in seen.items()} == {
        "admin": 200, "organizer-a": 200, "organizer-b": 200, "org-a": 200, "org-b": 200, "portal-a": 403,
        "cadre-a": 403}
    assert {u: r.json()["total"] for u, r in seen.items() if r.status_code == 200} == {
        "admin": 1, "organizer-a": 1, "organizer-b": 0, "org-a": 1, "org-b": 0}
    assert seen["org-a"].json()["items"][0]["id_number"].count("*") == 8  # masked for the organisation
    for user, status in {"organizer-a": 403, "cadre-a": 403, "portal-a": 403, "org-b": 404}.items():
        assert call(client, w, user, "POST", f"/referrals/{rid}/accept", {}).status_code == status, user
    accepted = call(client, w, "org-a", "POST", f"/referrals/{rid}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["status"] == "已接收"
    again = call(client, w, "org-a", "POST", f"/referrals/{rid}/accept", {})
    assert again.status_code == 409 and again.json()["code"] == "REFERRAL_STATE"
    no_reason = call(client, w, "org-a", "POST", f"/referrals/{rid}/reject", {})
    assert no_reason.status_code == 422
    bad_reason = call(client, w, "org-a", "POST", f"/referrals/{rid}/reject", {"reason": "太忙"})
    assert bad_reason.status_code == 422
    rejected = call(client, w, "org-a", "POST", f"/referrals/{rid}/reject", {"reason": "机构无能力", "note": "满员"})
    assert rejected.json()["status"] == "已拒绝" and rejected.json()["reason"] == "机构无能力"
    assert call(client, w, "org-a", "POST", f"/referrals/{rid}/withdraw", {"reason": "其他"}).status_code == 403
    assert call(client, w, "org-a", "POST", "/referrals/nonesuch/accept", {}).status_code == 404


def test_who_may_refer_and_the_rules_a_referral_meets(client, services):
    w = services
    need_id = a_need(client, w)
    body = {"id_number": w.persons["HA1"], "need_id": need_id, "provider_uscc": w.org_a, "made_on": DAY}
    for user, status in {"portal-a": 403, "cadre-a": 403, "org-a": 403, "organizer-b": 404}.items():
        assert call(client, w, user, "POST", "/referrals", body).status_code == status, user
    to_b = call(client, w, "organizer-a", "POST", "/referrals", body | {"provider_uscc": w.org_b})
    assert to_b.status_code == 404  # an organisation outside the region
    unknown_need = call(client, w, "organizer-a", "POST", "/referrals", body | {"need_id": "x" * 32})
    assert unknown_need.status_code == 409 and unknown_need.json()["code"] == "NEED_NOT_OPEN"
    to_dept = call(client, w, "organizer-a", "POST", "/referrals",
                   {"id_number": body["id_number"], "need_id": need_id, "provider_dept": "卫健"})
    assert to_dept.status_code == 201 and to_dept.json()["provider_dept"] == "卫健"
    twice = call(client, w, "organizer-a", "POST", "/referrals", body)
    assert twice.status_code == 409 and twice.json()["code"] == "REFERRAL_OPEN"
    bad_dept = call(client, w, "organizer-a", "POST", "/referrals", body | {"provider_uscc": None, "provider_dept": "公安"})
    assert bad_dept.status_code == 422
    withdrawn = call(client, w, "organizer-a", "POST", f"/referrals/{to_dept.json()['referral_id']}/withdraw",
                     {"reason": "不再需要"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "已撤回"
    assert call(client, w, "organizer-b", "POST", f"/referrals/{to_dept.json()['referral_id']}/withdraw",
                {"reason": "其他"}).status_code == 404


def test_an_organisation_records_deliveries_for_those_referred_to_it_and_completes_the_referral(client, services):
    w = services
    made = a_referral(client, w)
    delivery = {"id_number": w.persons["HA1"], "service_code": "KF01", "delivered_on": TODAY.isoformat(),
                "uscc": w.org_a, "quantity": 4}
    assert call(client, w, "org-a", "POST", "/deliveries", delivery | {"uscc": w.org_b}).status_code == 403
    assert call(client, w, "org-b", "POST", "/deliveries", delivery | {"uscc": w.org_b}).status_code == 404
    assert call(client, w, "cadre-a", "POST", "/deliveries", delivery).status_code == 403
    assert call(client, w, "portal-a", "POST", "/deliveries", delivery).status_code == 403
    done = call(client, w, "org-a", "POST", "/deliveries", delivery)
    assert done.status_code == 201
    after = call(client, w, "org-a", "GET", f"/persons/{w.persons['HA1']}/referrals").json()["items"]
    assert [(r["referral_id"], r["status"], r["delivery_id"]) for r in after] == \
        [(made["referral_id"], "已完成", done.json()["id"])]
    # no referral open any more, and HA1 is not paired with the organisation: nothing more for it
    later = delivery | {"delivered_on": (TODAY - dt.timedelta(days=1)).isoformat()}
    assert call(client, w, "org-a", "POST", "/deliveries", later).status_code == 404
    paired = {"id_number": w.persons["HA2"], "service_code": "KF01", "delivered_on": DAY, "uscc": w.org_a}
    assert call(client, w, "org-a", "POST", "/deliveries", paired).status_code == 201  # its auxiliary pairing
    by_organiser = call(client, w, "organizer-a", "POST", "/deliveries", later | {"uscc": None, "dept": "残联"})
    assert by_organiser.status_code == 201
    listed = call(client, w, "cadre-a", "GET", f"/persons/{w.persons['HA1']}/deliveries").json()["items"]
    assert len(listed) == 2 and listed[0]["id_number"].count("*") == 8
    writes = [e for e in audit_entries(store=w.store, user_id="org-a").items if e.action == "write"]
    assert {k for e in writes for k in e.object_keys} == {"HA1", "HA2"}


@pytest.mark.parametrize("path, body", [
    ("/needs", {"id_number": "62082219890321643Y", "category": "康复", "assessed_on": "2024-01-01"}),
    ("/needs", {"id_number": "X", "category": "康复", "assessed_on": "2024-01-01", "note": "长" * 2001}),
    ("/needs", {"category": "康复", "assessed_on": "3024-01-01"}),
    ("/deliveries", {"service_code": "KF01", "delivered_on": "2024-01-01", "dept": "残联", "cost_fen": -1}),
    ("/deliveries", {"service_code": "KF01", "delivered_on": "2024-01-01"}),
    ("/offers", {"uscc": "123", "service_code": "KF01", "region_code": "620822"}),
    ("/referrals", {"need_id": "x", "provider_uscc": None}),
    ("/referrals", "not an object"),
])
def test_hostile_input_is_answered_with_a_clear_error(client, services, path, body):
    if isinstance(body, dict) and "id_number" not in body and path != "/offers":
        body = body | {"id_number": services.persons["HA1"]}
    answer = call(client, services, "admin", "POST", path, body)
    assert 400 <= answer.status_code < 500 and answer.json()["code"] and answer.json()["message_en"]


def test_portals_read_the_rates_and_deserts_without_names_but_not_the_named_lists(client, services):
    w = services
    a_need(client, w)
    catalogue = {r["name"] for r in call(client, w, "portal-a", "GET", "/reports").json()}
    assert {"service-rates", "service-deserts"} <= catalogue and not {"unmet-needs", "overdue-referrals"} & catalogue
    for name, portal in (("service-rates", 200), ("service-deserts", 200), ("unmet-needs", 403),
                         ("overdue-referrals", 403)):
        assert call(client, w, "portal-a", "GET", f"/reports/{name}").status_code == portal, name
        assert call(client, w, "organizer-a", "GET", f"/reports/{name}").status_code == 200, name
        assert call(client, w, "organizer-a", "GET", f"/reports/{name}", region="620802").status_code == 404
    rates = call(client, w, "portal-a", "GET", "/reports/service-rates", **{"from": "2020-01-01"}).json()
    county = next(r for r in rates["items"] if r["region_code"] == "620822000000" and r["category"] == "康复")
    assert county["persons_in_need"] == 1 and county["persons_served"] == 0 and "name" not in county
    csv = call(client, w, "organizer-a", "GET", "/reports/unmet-needs", format="csv")
    assert csv.status_code == 200 and csv.text.lstrip("\ufeff").startswith("户编号")
    query = "{ serviceRates { totalCount } unmetNeeds { totalCount } }"
    answer = client.post("/graphql", json={"query": query}, headers=w.auth("portal-a")).json()
    assert answer["data"]["serviceRates"]["totalCount"] >= 2 and answer["data"]["unmetNeeds"] is None
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def gql(client, world, user, query, variables=None):
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=world.auth(user)).json()


def test_the_same_operations_as_graphql_mutations(client, services):
    w = services
    record = "mutation($n: JSON!) { recordNeed(need: $n) }"
    made = gql(client, w, "organizer-a", record, {"n": need(w)})
    need_id = made["data"]["recordNeed"]
    refused = gql(client, w, "cadre-a", record, {"n": need(w, "HA2")})
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    invalid = gql(client, w, "organizer-a", record, {"n": need(w, assessed_on="明天")})
    assert invalid["errors"][0]["extensions"]["code"] == "VALIDATION"
    refer_ = "mutation($r: JSON!) { refer(referral: $r) }"
    referral = gql(client, w, "organizer-a", refer_, {"r": {"id_number": w.persons["HA1"], "need_id": need_id,
                                                             "provider_uscc": w.org_a, "made_on": DAY}})
    rid = referral["data"]["refer"]["referral_id"]
    answer = "mutation($id: String!, $a: Boolean!, $x: JSON) { answerReferral(referralId: $id, accept: $a, answer: $x) }"
    assert gql(client, w, "organizer-a", answer, {"id": rid, "a": True})["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    accepted = gql(client, w, "org-a", answer, {"id": rid, "a": True})["data"]["answerReferral"]
    assert accepted["status"] == "已接收" and accepted["id_number"].count("*") == 8
    delivered = gql(client, w, "org-a", "mutation($d: JSON!) { recordDelivery(delivery: $d) }",
                    {"d": {"id_number": w.persons["HA1"], "service_code": "KF01", "delivered_on": TODAY.isoformat(),
                           "uscc": w.org_a}})
    assert delivered["data"]["recordDelivery"]
    withdraw = "mutation($id: String!, $x: JSON!) { withdrawReferral(referralId: $id, answer: $x) }"
    closed = gql(client, w, "organizer-a", withdraw, {"id": rid, "x": {"reason": "其他"}})
    assert closed["errors"][0]["extensions"]["code"] == "REFERRAL_STATE"  # completed by the delivery
