"""The authorisation matrix of the REST API: every endpoint × every role, in and out of the
jurisdiction, with the exact status. A refused write changes nothing in the store and leaves no
audit entry; an accepted one changes the store and leaves a write entry.

The world (tests/api/conftest.py): county A holds HA1 (paired with CA1, problem P1 open) and HA2
(auxiliary pairing with organisation OA); county B holds HB1 (paired with CB1); CA2 is a free
cadre of county A; OB serves county B.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from api.throttle import Throttle
from factories import uscc
from graph_schema.access.audit import audit_entries
from graph_schema.enums import ExclusionReason
from graph_schema.pairing.exclusions import exclude
from graph_schema.store import GraphStore
from matching.proposal import Proposal

USERS = ("admin", "organizer-a", "organizer-b", "portal-a", "cadre-a", "org-a")


def roles(admin: int, oa: int, ob: int, portal: int, cadre: int, org: int) -> dict[str, int]:
    return dict(zip(USERS, (admin, oa, ob, portal, cadre, org)))


@dataclass
class Case:
    name: str
    method: str
    path: str  # {oa} and {ob} stand for the organisations' codes
    expect: dict[str, int]
    body: Any = None  # a dict, or a function of the world giving one
    setup: Callable[[GraphStore], None] | None = None
    params: dict = field(default_factory=dict)

    def request(self, client, world, user: str | None):
        path = "/api/v1" + self.path.format(oa=world.org_a, ob=world.org_b)
        body = self.body(world) if callable(self.body) else self.body
        headers = world.auth(user) if user else {}
        return client.request(self.method, path, json=body, params=self.params, headers=headers)


ORGANISER_ONLY = roles(200, 200, 404, 403, 403, 403)  # a county-A object: organisers of A, admins

READS = [
    Case("cadres", "GET", "/cadres", roles(200, 200, 200, 200, 200, 200)),
    Case("cadre in A", "GET", "/cadres/CA1", roles(200, 200, 404, 200, 200, 404)),
    Case("cadre in B", "GET", "/cadres/CB1", roles(200, 404, 200, 404, 404, 404)),
    Case("free cadre in A", "GET", "/cadres/CA2", roles(200, 200, 404, 200, 404, 404)),
    Case("cadre's households", "GET", "/cadres/CA1/households", roles(200, 200, 404, 200, 200, 404)),
    Case("cadre B's households", "GET", "/cadres/CB1/households", roles(200, 404, 200, 404, 404, 404)),
    Case("unknown cadre", "GET", "/cadres/NOPE", roles(404, 404, 404, 404, 404, 404)),
    Case("orgs", "GET", "/orgs", roles(200, 200, 200, 200, 200, 200)),
    Case("org in A", "GET", "/orgs/{oa}", roles(200, 200, 404, 200, 404, 200)),
    Case("org in B", "GET", "/orgs/{ob}", roles(200, 404, 200, 404, 404, 404)),
    Case("org's aux pairings", "GET", "/orgs/{oa}/aux-pairings", roles(200, 200, 404, 200, 404, 200)),
    Case("org B's aux pairings", "GET", "/orgs/{ob}/aux-pairings", roles(200, 404, 200, 404, 404, 404)),
    Case("org's ledger", "GET", "/orgs/{oa}/ledger", roles(200, 200, 404, 200, 404, 200)),
    Case("org B's ledger", "GET", "/orgs/{ob}/ledger", roles(200, 404, 200, 404, 404, 404)),
    Case("problems", "GET", "/problems", roles(200, 200, 200, 200, 200, 200), params={"open": "true"}),
    Case("problems in B", "GET", "/problems", roles(200, 404, 200, 404, 200, 200), params={"region": "620802"}),
    Case("problems, bad region", "GET", "/problems", roles(422, 422, 422, 422, 422, 422), params={"region": "6208x"}),
    Case("exclusions", "GET", "/exclusions", roles(200, 200, 200, 403, 403, 403)),
    Case("exclusions in B", "GET", "/exclusions", roles(200, 404, 200, 403, 403, 403), params={"region": "620802"}),
    Case("proposal for A", "POST", "/matching/proposals", roles(200, 200, 404, 403, 403, 403),
         body={"region": "620822", "reach": "county"}),
    Case("proposal, own region", "POST", "/matching/proposals", roles(422, 200, 200, 403, 403, 403), body={}),
    Case("report catalogue", "GET", "/reports", roles(200, 200, 200, 200, 403, 403)),
    Case("report for A", "GET", "/reports/unpaired", roles(200, 200, 404, 200, 403, 403), params={"region": "620822"}),
    Case("report, own region", "GET", "/reports/open-problems", roles(422, 200, 200, 200, 403, 403)),
    Case("report as csv", "GET", "/reports/coverage", roles(200, 200, 404, 200, 403, 403),
         params={"region": "620822", "format": "csv"}),
    Case("unknown report", "GET", "/reports/nope", roles(404, 404, 404, 404, 403, 403), params={"region": "620822"}),
    Case("audit", "GET", "/audit", roles(200, 403, 403, 403, 403, 403)),
    Case("unknown import", "GET", "/imports/nope/report.xlsx", roles(404, 404, 404, 403, 403, 403)),
]


@pytest.mark.parametrize("case", READS, ids=lambda c: c.name)
def test_reads(client, world, case):
    for user in USERS:
        got = case.request(client, world, user)
        assert got.status_code == case.expect[user], (case.name, user, got.text)
        if got.status_code >= 400:
            assert {"code", "message", "message_en"} <= set(got.json())


def proposal(household_no: str, cadre_no: str, region_code: str) -> Callable[[Any], dict]:
    """A proposal as a client would send it back: trusted for nothing by the service."""
    def make(world) -> dict:
        return Proposal.model_validate({
            "id": "p1", "scope": "620822000000", "as_of": "2024-01-01", "reach": "county", "solver": "ortools",
            "objective": 0, "created_at": "2024-01-01T00:00:00+08:00",
            "pairs": [{"household_no": household_no, "cadre_no": cadre_no, "region_code": region_code, "cost": 0,
                       "change": "new", "risk_score": 30, "risk_level": "中", "tier": 1, "cadre_load": 0,
                       "cadre_limit": 3, "reasons": []}],
            "unpaired": [], "summary": {"priority": 1, "paired": 1, "kept": 0, "new": 1, "moved": 0, "dropped": 0,
                                        "unpaired": 0, "churn": 1.0}}).model_dump(mode="json")
    return lambda world: {"proposal": make(world)}


def excluded(store: GraphStore) -> None:
    exclude(store=store, household_no="HA1", cadre_no="CA2", reason=ExclusionReason.RELATIVE)


def entry(household_no: str, kind: str = "入户走访", cadre_no: str | None = None, org: str | None = None,
          **more) -> Callable[[Any], dict]:
    def make(world) -> dict:
        actor = {"cadre_no": cadre_no} if cadre_no else {"uscc": {"a": world.org_a, "b": world.org_b}[org]}
        return {"entry_date": dt.date.today().isoformat(), "household_no": household_no, "kind": kind, **actor, **more}
    return make


WRITES = [
    Case("pair in A", "POST", "/pairings", roles(201, 201, 404, 403, 403, 403),
         body={"household_no": "HA2", "cadre_no": "CA2"}),
    Case("pair across counties", "POST", "/pairings", roles(201, 404, 404, 403, 403, 403),
         body={"household_no": "HA2", "cadre_no": "CB1"}),
    Case("pair, rule refuses", "POST", "/pairings", roles(409, 409, 404, 403, 403, 403),
         body={"household_no": "HA1", "cadre_no": "CA2"}),
    Case("pair, bad body", "POST", "/pairings", roles(422, 422, 422, 422, 422, 422),
         body={"household_no": "HA2", "cadre_no": "", "extra": 1}),
    Case("end in A", "POST", "/pairings/HA1/end", ORGANISER_ONLY, body={"reason": "干部调动"}),
    Case("end in B", "POST", "/pairings/HB1/end", roles(200, 404, 200, 403, 403, 403), body={"reason": "干部调动"}),
    Case("end, none active", "POST", "/pairings/HA2/end", roles(409, 409, 404, 403, 403, 403),
         body={"reason": "干部调动"}),
    Case("transfer in A", "POST", "/pairings/HA1/transfer", ORGANISER_ONLY, body={"cadre_no": "CA2"}),
    Case("transfer to B", "POST", "/pairings/HA1/transfer", roles(200, 404, 404, 403, 403, 403),
         body={"cadre_no": "CB1"}),
    # an organisation never pairs itself: it asks, and an organiser approves (test_aux_requests.py)
    Case("aux pair in A", "POST", "/aux-pairings", roles(201, 201, 404, 403, 403, 403),
         body=lambda w: {"household_no": "HA1", "uscc": w.org_a}),
    Case("aux pair outside the org's region", "POST", "/aux-pairings", roles(201, 404, 404, 403, 403, 403),
         body=lambda w: {"household_no": "HB1", "uscc": w.org_a}),
    Case("aux pair for another org", "POST", "/aux-pairings", roles(201, 404, 404, 403, 403, 403),
         body=lambda w: {"household_no": "HA1", "uscc": w.org_b}),
    Case("aux pair, already", "POST", "/aux-pairings", roles(409, 409, 404, 403, 403, 403),
         body=lambda w: {"household_no": "HA2", "uscc": w.org_a}),
    Case("ask for an aux pairing in the org's region", "POST", "/aux-requests", roles(403, 403, 403, 403, 403, 201),
         body={"household_no": "HA1", "reason": "助残志愿服务"}),
    Case("ask outside the org's region", "POST", "/aux-requests", roles(403, 403, 403, 403, 403, 404),
         body={"household_no": "HB1", "reason": "助残志愿服务"}),
    Case("ask, already paired", "POST", "/aux-requests", roles(403, 403, 403, 403, 403, 409),
         body={"household_no": "HA2", "reason": "助残志愿服务"}),
    Case("end aux", "POST", "/aux-pairings/HA2/{oa}/end", roles(200, 200, 404, 403, 403, 200),
         body={"reason": "项目结束"}),
    Case("exclude in A", "POST", "/exclusions", roles(201, 201, 404, 403, 403, 403),
         body={"household_no": "HA1", "cadre_no": "CA2", "reason": "亲属"}),
    Case("exclude in B", "POST", "/exclusions", roles(201, 404, 201, 403, 403, 403),
         body={"household_no": "HB1", "cadre_no": "CB1"}),
    Case("lift", "DELETE", "/exclusions/HA1/CA2", ORGANISER_ONLY, setup=excluded),
    Case("confirm in A", "POST", "/matching/confirmations", ORGANISER_ONLY,
         body=proposal("HA2", "CA2", "620822100202")),
    Case("confirm across counties", "POST", "/matching/confirmations", roles(200, 404, 404, 403, 403, 403),
         body=proposal("HA2", "CB1", "620822100202")),
    Case("cadre's entry", "POST", "/ledger", roles(201, 201, 404, 403, 201, 403), body=entry("HA1", cadre_no="CA1")),
    Case("solve a problem", "POST", "/ledger", roles(201, 201, 404, 403, 201, 403),
         body=entry("HA1", "解决困难", cadre_no="CA1", problem_no="P1", note="已更换轮椅")),
    Case("cadre's entry, not their household", "POST", "/ledger", roles(201, 201, 404, 403, 404, 403),
         body=entry("HA2", cadre_no="CA1")),
    Case("cadre's entry in B", "POST", "/ledger", roles(201, 404, 201, 403, 403, 403),
         body=entry("HB1", cadre_no="CB1")),
    Case("org's donation", "POST", "/ledger", roles(201, 201, 404, 403, 403, 201),
         body=entry("HA2", "捐款捐物", org="a", amount_fen=20000)),
    Case("org records a policy", "POST", "/ledger", roles(201, 201, 404, 403, 403, 403),
         body=entry("HA2", "落实政策", org="a")),
    Case("entry in the future", "POST", "/ledger", roles(409, 409, 404, 403, 409, 403),
         body=lambda w: entry("HA1", cadre_no="CA1")(w) | {"entry_date": "2999-01-01"}),
]


def snapshot(store: GraphStore) -> dict[str, list]:
    """Everything a write of these routes could change."""
    queries = {
        "pairings": "MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) RETURN c.cadre_no AS cadre, "
                    "h.household_no AS household, p.started_on AS since, p.ended_on AS until "
                    "ORDER BY cadre, household, since",
        "aux": "MATCH (o:Org)-[p:AUX_PAIRED_WITH]->(h:Household) RETURN o.uscc AS org, h.household_no AS household, "
               "p.started_on AS since, p.ended_on AS until ORDER BY org, household, since",
        "excluded": "MATCH (c:Cadre)-[:EXCLUDED]->(h:Household) RETURN c.cadre_no AS cadre, "
                    "h.household_no AS household ORDER BY cadre, household",
        "ledger": "MATCH ()-[e:ASSISTED]->() RETURN e.entry_id AS entry ORDER BY entry",
        "problems": "MATCH (p:Problem) RETURN p.problem_no AS problem, p.closed_on AS closed ORDER BY problem",
        "requests": "MATCH (q:AuxRequest) RETURN q.household_no AS household, q.status AS status "
                    "ORDER BY household, status",
    } | {label: f"MATCH (n:{label}) RETURN count(n) AS total" for label in ("Household", "Person", "Cadre", "Org",
                                                                              "Region", "Revision")}
    return {name: store.query(q) for name, q in queries.items()}


def writes_by(store: GraphStore, user: str) -> list:
    return [e for e in audit_entries(store=store, user_id=user).items if e.action == "write"]


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("case", WRITES, ids=lambda c: c.name)
def test_writes(client, world, case, user):
    if case.setup:
        case.setup(world.store)
    before = snapshot(world.store)
    got = case.request(client, world, user)
    assert got.status_code == case.expect[user], (case.name, user, got.text)
    client.app.state.services.audit.flush()
    after, entries = snapshot(world.store), writes_by(world.store, user)
    if got.status_code < 300:
        assert after != before, "an accepted write changed nothing"
        assert entries and entries[0].operation.startswith(case.method + " /api/v1/")
        assert entries[0].object_kind == "household"
    else:
        assert after == before, "a refused write changed the store"
        assert entries == []
        assert {"code", "message", "message_en"} <= set(got.json())


def test_a_rule_violation_answers_409_with_its_stable_code(client, world):
    got = client.post("/api/v1/pairings", json={"household_no": "HA1", "cadre_no": "CA2"}, headers=world.auth("admin"))
    assert got.status_code == 409
    assert got.json()["code"] == "HOUSEHOLD_ALREADY_PAIRED" and "HA1" in got.json()["message"]
    assert got.json()["household_no"] == "HA1" and got.json()["cadre_no"] == "CA1"
    refused = client.post("/api/v1/ledger", json=entry("HA1", "解决困难", cadre_no="CA1", problem_no="P9")(world),
                          headers=world.auth("cadre-a"))
    assert refused.status_code == 409 and refused.json()["code"] == "PROBLEM_NOT_OPEN"
    assert "P9" in refused.json()["message"] and "P9" in refused.json()["message_en"]


def test_every_route_refuses_a_missing_or_bad_token(client, world):
    # ~70 bad tokens from one address: past the bad-token throttle (tested in test_security.py)
    # they would answer 429, so this test lifts it
    client.app.state.api_throttle = Throttle(10**9, 60.0)
    routes = [(method.upper(), path) for path, operations in client.app.openapi()["paths"].items()
              if path.startswith("/api/v1") for method in operations]
    assert len(routes) >= 30
    for method, path in routes:
        url = path.replace("{household_no}", "HA1").replace("{cadre_no}", "CA1").replace("{uscc}", world.org_a) \
            .replace("{name}", "unpaired").replace("{import_id}", "x").replace("{id_number}", "x")
        for headers in ({}, {"Authorization": "Bearer nope"}):
            got = client.request(method, url, headers=headers)
            assert got.status_code == 401, (method, path, got.text)
            assert got.json()["code"] == "UNAUTHENTICATED"


def test_not_found_and_out_of_scope_answer_alike(client, world):
    def bare(response) -> dict:
        return {k: v for k, v in response.json().items() if k not in ("key", "message", "message_en", "request_id")}

    for path in ("/cadres/{}", "/cadres/{}/households"):
        outside = client.get("/api/v1" + path.format("CB1"), headers=world.auth("organizer-a"))
        missing = client.get("/api/v1" + path.format("NOPE"), headers=world.auth("organizer-a"))
        assert outside.status_code == missing.status_code == 404 and bare(outside) == bare(missing)
    outside = client.get(f"/api/v1/orgs/{world.org_b}", headers=world.auth("organizer-a"))
    missing = client.get(f"/api/v1/orgs/{uscc()}", headers=world.auth("organizer-a"))
    assert outside.status_code == missing.status_code == 404 and bare(outside) == bare(missing)
    outside = client.post("/api/v1/pairings/HB1/end", json={"reason": "x"}, headers=world.auth("organizer-a"))
    missing = client.post("/api/v1/pairings/HX9/end", json={"reason": "x"}, headers=world.auth("organizer-a"))
    assert outside.status_code == missing.status_code == 404 and bare(outside) == bare(missing)


def test_validation_errors_name_the_field(client, world):
    admin = world.auth("admin")
    got = client.post("/api/v1/pairings", json={"household_no": "HA2"}, headers=admin)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "body.cadre_no"
    got = client.post("/api/v1/ledger", json=entry("HA1", "入户走访", cadre_no="CA1", amount_fen=-1)(world), headers=admin)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "body.amount_fen"
    got = client.post("/api/v1/ledger", json=entry("HA1", "入户走访", org="a", uscc="123")(world), headers=admin)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "body.uscc"
    got = client.get("/api/v1/reports/coverage?region=620822&from=2024-05-01&as_of=2024-01-01", headers=admin)
    assert got.status_code == 422 and got.json()["field"] == "from"
    got = client.get("/api/v1/reports/unpaired?region=620822&format=pdf", headers=admin)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "query.format"
    got = client.post("/api/v1/matching/proposals", json={"region": "620822", "reach": "world"}, headers=admin)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "body.reach"
