"""Auxiliary pairings by request and approval over REST and GraphQL, on both engines.

Finding 2 of the attack review: an organisation could register an auxiliary pairing with any
household of its service area by itself, read the household's members, disabilities and ledger,
and learn from 201 against 404 which household numbers exist. Now it asks, an organiser of the
household's region approves, and only then is the household open to it; a household outside its
area answers as one that does not exist; every request, decision and refusal is audited.

The world (tests/api/conftest.py): organisation OA serves county A (HA1, HA2; HA2 is already
paired with OA); HB1 lies in county B.
"""

from __future__ import annotations

from graph_schema.access.audit import audit_entries

API = "/api/v1"


def ask(client, world, no: str = "HA1", user: str = "org-a", **more):
    return client.post(f"{API}/aux-requests", json={"household_no": no, "reason": "助残志愿服务"} | more,
                       headers=world.auth(user))


def sees(client, world, no: str) -> bool:
    got = client.get(f"{API}/households/{no}/members", headers=world.auth("org-a"))
    assert got.status_code in (200, 404), got.text
    return got.status_code == 200


def bare(answer) -> dict:
    """An error answer without what names the household asked for or the request."""
    return {k: v for k, v in answer.json().items() if k not in ("key", "message", "message_en", "request_id")}


def test_the_organisations_request_is_refused_until_an_organiser_approves(client, world):
    forced = client.post(f"{API}/aux-pairings", json={"household_no": "HA1", "uscc": world.org_a},
                         headers=world.auth("org-a"))
    assert forced.status_code == 403 and forced.json()["code"] == "FORBIDDEN"
    assert not sees(client, world, "HA1")
    asked = ask(client, world, service="康复")
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["household_no"], request["uscc"], request["service"]) == (
        "待审批", "HA1", world.org_a, "康复")
    assert not sees(client, world, "HA1")  # a request opens nothing
    rid = request["request_id"]
    assert client.get(f"{API}/aux-requests/{rid}", headers=world.auth("org-a")).json()["status"] == "待审批"
    assert client.post(f"{API}/aux-requests/{rid}/approve", json={}, headers=world.auth("org-a")).status_code == 403
    assert client.post(f"{API}/aux-requests/{rid}/approve", json={},
                       headers=world.auth("organizer-b")).status_code == 404  # not their county
    listed = client.get(f"{API}/aux-requests?status=待审批", headers=world.auth("organizer-a")).json()
    assert [q["request_id"] for q in listed["items"]] == [rid]
    assert client.get(f"{API}/aux-requests", headers=world.auth("organizer-b")).json()["total"] == 0
    approved = client.post(f"{API}/aux-requests/{rid}/approve", json={"consent_note": "户主当面同意 2024-05-01"},
                           headers=world.auth("organizer-a"))
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["request"]["status"] == "已批准" and body["request"]["decided_by"] == "organizer-a"
    assert body["request"]["consent_note"] == "户主当面同意 2024-05-01"
    assert body["pairing"]["source"] == "request" and body["pairing"]["pairing_id"] == body["request"]["pairing_id"]
    assert sees(client, world, "HA1")
    again = client.post(f"{API}/aux-requests/{rid}/decline", json={}, headers=world.auth("organizer-a"))
    assert again.status_code == 409 and again.json()["code"] == "AUX_REQUEST_DECIDED"
    ended = client.post(f"{API}/aux-pairings/HA1/{world.org_a}/end", json={"reason": "项目结束"},
                        headers=world.auth("org-a"))
    assert ended.status_code == 200 and not sees(client, world, "HA1")


def test_an_unknown_household_and_one_outside_the_area_answer_alike_and_are_audited(client, world):
    outside, missing = ask(client, world, "HB1"), ask(client, world, "HX9")
    assert outside.status_code == missing.status_code == 404
    assert bare(outside) == bare(missing) and outside.json()["code"] == "NOT_FOUND"
    assert outside.json()["message"].replace("HB1", "#") == missing.json()["message"].replace("HX9", "#")
    assert outside.json()["message_en"].replace("HB1", "#") == missing.json()["message_en"].replace("HX9", "#")
    client.app.state.services.audit.flush()
    refused = [(e.action, e.object_keys) for e in audit_entries(store=world.store, user_id="org-a").items]
    assert ("refused", ["HB1"]) in refused and ("refused", ["HX9"]) in refused
    assert world.store.query("MATCH (q:AuxRequest) RETURN count(q) AS n") == [{"n": 0}]


def test_declining_and_withdrawing_are_recorded_and_audited(client, world):
    first = ask(client, world).json()["request_id"]
    assert ask(client, world).json()["code"] == "AUX_REQUEST_PENDING"
    withdrawn = client.post(f"{API}/aux-requests/{first}/withdraw", headers=world.auth("org-a"))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "已撤回"
    second = ask(client, world).json()["request_id"]
    declined = client.post(f"{API}/aux-requests/{second}/decline", json={"note": "户主不同意"},
                           headers=world.auth("organizer-a"))
    assert declined.status_code == 200 and declined.json()["decision_note"] == "户主不同意"
    assert not sees(client, world, "HA1")
    mine = client.get(f"{API}/aux-requests", headers=world.auth("org-a")).json()
    assert [(q["request_id"], q["status"]) for q in mine["items"]] == [(second, "已拒绝"), (first, "已撤回")]
    client.app.state.services.audit.flush()
    writes = {(e.user_id, e.object_kind, tuple(e.object_keys)) for e in audit_entries(store=world.store).items
              if e.action == "write"}
    assert {("org-a", "aux_request", (first,)), ("org-a", "aux_request", (second,)),
            ("organizer-a", "aux_request", (second,)), ("organizer-a", "household", ("HA1",))} <= writes


def test_hostile_and_wrong_requests_get_clear_answers(client, world):
    rid = ask(client, world).json()["request_id"]
    for body in ({"household_no": "HA1"}, {"household_no": "HA1", "reason": "  "}, {"household_no": "", "reason": "x"},
                 {"household_no": "HA1", "reason": "x" * 501}, {"household_no": "HA1", "reason": "x", "uscc": "x"},
                 {"household_no": ["HA1"], "reason": "x"}, {"household_no": "HA1", "reason": 123},
                 {"household_no": "HA1", "reason": "x", "service": True}):
        got = client.post(f"{API}/aux-requests", json=body, headers=world.auth("org-a"))
        assert got.status_code == 422 and got.json()["code"] == "VALIDATION", (body, got.text)
    assert client.get(f"{API}/aux-requests?status=unknown", headers=world.auth("org-a")).status_code == 422
    assert client.get(f"{API}/aux-requests?region=620802", headers=world.auth("organizer-a")).status_code == 404
    assert client.post(f"{API}/aux-requests/nope/approve", json={}, headers=world.auth("organizer-a")).status_code == 404
    for body in ({"note": "x" * 501}, {"note": 5}, {"consent_note": False}):
        assert client.post(f"{API}/aux-requests/{rid}/approve", json=body,
                           headers=world.auth("organizer-a")).status_code == 422, body
    for user in ("admin", "organizer-a", "portal-a", "cadre-a"):
        assert ask(client, world, user=user).status_code == 403
    assert client.get(f"{API}/aux-requests", headers=world.auth("cadre-a")).status_code == 403
    assert client.get(f"{API}/aux-requests", headers=world.auth("portal-a")).json()["total"] == 1
    assert client.post(f"{API}/aux-requests/{rid}/approve", json={}, headers=world.auth("portal-a")).status_code == 403
    assert client.post(f"{API}/aux-requests/{rid}/withdraw", headers=world.auth("organizer-a")).status_code == 403


def gql(client, world, user, query, variables=None) -> dict:
    got = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=world.auth(user))
    assert got.status_code == 200, got.text
    return got.json()


def codes(result: dict) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


ASK = """mutation($h: String!) { requestAuxPairing(householdNo: $h, reason: "助残志愿服务", service: "康复") {
  requestId status householdNo household { householdNo } organisation { uscc } } }"""
HOUSEHOLD = '{ household(householdNo: "HA1") { householdNo members { edges { node { name } } } } }'


def test_graphql_asks_approves_and_answers_alike_for_unknown_and_outside(client, world):
    assert codes(gql(client, world, "org-a", f'mutation {{ registerAuxPairing(householdNo: "HA1", uscc: "{world.org_a}") '
                                             '{ pairingId } }')) == ["FORBIDDEN"]
    outside, missing = (gql(client, world, "org-a", ASK, {"h": no}) for no in ("HB1", "HX9"))
    assert codes(outside) == codes(missing) == ["NOT_FOUND"]
    assert outside["errors"][0]["message"].replace("HB1", "#") == missing["errors"][0]["message"].replace("HX9", "#")
    asked = gql(client, world, "org-a", ASK, {"h": "HA1"})["data"]["requestAuxPairing"]
    assert (asked["status"], asked["household"], asked["organisation"]) == ("待审批", None, {"uscc": world.org_a})
    assert gql(client, world, "org-a", HOUSEHOLD)["data"]["household"] is None
    rid = asked["requestId"]
    mine = gql(client, world, "org-a", '{ auxRequests { totalCount edges { node { requestId status } } } }')
    assert mine["data"]["auxRequests"]["edges"] == [{"node": {"requestId": rid, "status": "待审批"}}]
    assert gql(client, world, "organizer-b", f'{{ auxRequest(requestId: "{rid}") {{ requestId }} }}')["data"] == {
        "auxRequest": None}
    assert codes(gql(client, world, "organizer-a", '{ auxRequests(status: "x") { totalCount } }')) == ["INVALID_VALUE"]
    approve = f'mutation {{ approveAuxRequest(requestId: "{rid}", consentNote: "户主同意") ' \
              '{ request { status consentNote } pairing { source active } } }'
    assert codes(gql(client, world, "organizer-b", approve)) == ["NOT_FOUND"]
    done = gql(client, world, "organizer-a", approve)["data"]["approveAuxRequest"]
    assert done == {"request": {"status": "已批准", "consentNote": "户主同意"},
                    "pairing": {"source": "request", "active": True}}
    assert gql(client, world, "org-a", HOUSEHOLD)["data"]["household"]["householdNo"] == "HA1"
    assert codes(gql(client, world, "org-a", f'mutation {{ withdrawAuxRequest(requestId: "{rid}") {{ status }} }}')) == [
        "AUX_REQUEST_DECIDED"]
    second = gql(client, world, "org-a", ASK, {"h": "HA1"})
    assert codes(second) == ["ALREADY_AUX_PAIRED"]
