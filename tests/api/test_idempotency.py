"""The ``Idempotency-Key`` header through the service, on both engines: a repeat gets the first
answer and nothing is done again (REST, GraphQL), a refusal is not kept, a key is each user's own,
a reused key and a malformed one are refused clearly, two identical requests at once do the work
once, and the OpenAPI document states the header on every write.

The write used is an organisation's request for an auxiliary pairing: the domain refuses a second
pending request (AUX_REQUEST_PENDING), so a repeat answered 201 can only be the kept answer."""

from __future__ import annotations

import io
import threading

from fastapi.testclient import TestClient

from api import idempotency
from graph_schema.pairing.requests import list_aux_requests, withdraw_aux_request
from graph_schema.pairing.service import pairing_history

ASK = {"household_no": "HA1", "reason": "助残志愿服务"}
PAIR = {"household_no": "HA2", "cadre_no": "CA2"}


def ask(client: TestClient, world, key: str | None, body: dict | None = None):
    headers = world.auth("org-a") | ({"Idempotency-Key": key} if key is not None else {})
    return client.post("/api/v1/aux-requests", json=body or ASK, headers=headers)


def asked(world) -> list:
    return list_aux_requests(store=world.store).items


def pair(client: TestClient, world, key: str | None, user: str = "organizer-a", body: dict | None = None):
    headers = world.auth(user) | ({"Idempotency-Key": key} if key is not None else {})
    return client.post("/api/v1/pairings", json=body or PAIR, headers=headers)


def pairings(world) -> list:
    return pairing_history(store=world.store, household_no="HA2")


def test_a_repeat_gets_the_first_answer_and_is_not_done_again(client, world):
    first = ask(client, world, "3c1f4d2e-0000-4000-8000-000000000001")
    again = ask(client, world, "3c1f4d2e-0000-4000-8000-000000000001")
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json() and again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert "content-security-policy" in again.headers  # the security headers on a kept answer too
    assert len(asked(world)) == 1
    without = ask(client, world, None)
    assert without.status_code == 409 and without.json()["code"] == "AUX_REQUEST_PENDING"


def test_a_refusal_is_not_kept_and_a_repeat_is_decided_afresh(client, world):
    pending = ask(client, world, None).json()["request_id"]
    refused = ask(client, world, "after-the-withdrawal")
    assert refused.status_code == 409 and refused.json()["code"] == "AUX_REQUEST_PENDING"
    withdraw_aux_request(store=world.store, request_id=pending, uscc=world.org_a, withdrawn_by="org-a")
    done = ask(client, world, "after-the-withdrawal")
    assert done.status_code == 201 and "idempotent-replayed" not in done.headers
    assert len(asked(world)) == 2


def test_a_key_is_the_users_own(client, world):
    assert pair(client, world, "shared").status_code == 201
    admin = pair(client, world, "shared", user="admin", body={"household_no": "HA2", "cadre_no": "CA1"})
    assert admin.status_code == 409 and admin.json()["code"] == "HOUSEHOLD_ALREADY_PAIRED"  # decided for the admin


def test_a_key_sent_with_another_request_is_refused(client, world):
    assert pair(client, world, "once").status_code == 201
    other = pair(client, world, "once", body={"household_no": "HA2", "cadre_no": "CA1"})
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED" and other.json()["field"] == "Idempotency-Key"
    assert other.json()["message"] and other.json()["message_en"]
    elsewhere = client.post("/api/v1/pairings/HA2/end", json={"reason": "x"},
                            headers=world.auth("organizer-a") | {"Idempotency-Key": "once"})
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [p.cadre_no for p in pairings(world)] == ["CA2"] and pairings(world)[0].active


def test_a_malformed_key_is_refused_and_nothing_is_done(client, world):
    for key in ("", "with space", "x" * 256, "中文".encode()):
        answer = client.post("/api/v1/pairings", json=PAIR, headers=world.auth("organizer-a") | {"Idempotency-Key": key})
        assert answer.status_code == 422, key
        assert answer.json()["code"] == "VALIDATION" and answer.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert pairings(world) == []


def test_without_a_valid_token_the_key_changes_nothing(client, world):
    answer = client.post("/api/v1/pairings", json=PAIR, headers={"Authorization": "Bearer nope", "Idempotency-Key": "k"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert pair(client, world, "k").status_code == 201  # nothing was kept under the key


def test_two_identical_requests_at_once_do_the_work_once(client, world):
    """Eight threads send the same request with the same key at the same moment: exactly one
    request is made; every answer is it (the first, or the kept one) or "still in progress" (409
    with Retry-After), never a refusal for a request that already exists."""
    start = threading.Barrier(8)
    answers: list = []

    def send() -> None:
        start.wait()
        answers.append(ask(client, world, "at-once"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(answers) == 8
    assert len(asked(world)) == 1
    done = [a for a in answers if a.status_code == 201]
    waiting = [a for a in answers if a.status_code == 409]
    assert len(done) + len(waiting) == 8 and done
    assert sum("idempotent-replayed" not in a.headers for a in done) == 1
    assert len({a.json()["request_id"] for a in done}) == 1
    assert all(a.json()["code"] == "IDEMPOTENCY_IN_PROGRESS" and a.headers["retry-after"] == "1" for a in waiting)
    again = ask(client, world, "at-once")
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"


def test_graphql_mutations_take_the_key_too(client, world):
    query = {"query": 'mutation { pair(householdNo: "HA2", cadreNo: "CA2") { householdNo cadreNo active } }'}
    headers = world.auth("organizer-a") | {"Idempotency-Key": "graphql-1"}
    first = client.post("/graphql", json=query, headers=headers)
    again = client.post("/graphql", json=query, headers=headers)
    assert first.json() == again.json() == {"data": {"pair": {"householdNo": "HA2", "cadreNo": "CA2", "active": True}}}
    assert again.headers["idempotent-replayed"] == "true" and len(pairings(world)) == 1


def test_a_multipart_repeat_is_the_same_request_whatever_its_boundary(client, world):
    """Browsers draw a new boundary for each send of the same form: the fingerprint leaves it out."""
    files = [("files", ("区划.csv", io.BytesIO("区划代码,名称\n620822100299,新村\n".encode()), "text/csv"))]
    headers = world.auth("organizer-a") | {"Idempotency-Key": "upload-1"}
    first = client.post("/api/v1/imports?dry_run=true", files=files, headers=headers)
    files[0][1][1].seek(0)
    again = client.post("/api/v1/imports?dry_run=true", files=files, headers=headers)
    assert first.request.headers["content-type"] != again.request.headers["content-type"]  # two boundaries
    assert first.status_code == again.status_code and first.status_code < 300, first.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


def test_a_body_too_large_to_hold_runs_as_without_a_key(client, world, monkeypatch):
    monkeypatch.setattr(idempotency, "MAX_REQUEST", 10)
    first = ask(client, world, "big")
    again = ask(client, world, "big")
    assert first.status_code == 201 and again.status_code == 409  # not held, so not kept
    assert again.json()["code"] == "AUX_REQUEST_PENDING" and len(asked(world)) == 1


def test_the_openapi_document_states_the_header_on_every_write(client):
    document = client.get("/openapi.json").json()
    writes = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()
              if method in ("post", "put", "patch", "delete")]
    assert len(writes) >= 20
    for path, method, op in writes:
        [header] = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and not header["required"], (path, method)
        assert header["schema"]["pattern"] == idempotency.PATTERN
    reads = [op for ops in document["paths"].values() for method, op in ops.items() if method == "get"]
    assert not any(p["name"] == "Idempotency-Key" for op in reads for p in op.get("parameters", []))
