"""Security of the console, on both engines: the authorisation matrix of every console route,
the sign-in throttle, CSRF tokens on every POST, and the security headers of its pages."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import csrf_token
from graph_schema.access.service import issue_token, set_password
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

USERS = ("admin", "organizer-a", "organizer-b", "portal-a", "cadre-a", "org-a", None)  # None: signed out
PASSWORD = "a long enough password"


def roles(admin, oa, ob, portal, cadre, org, anonymous=303) -> dict:
    return dict(zip(USERS, (admin, oa, ob, portal, cadre, org, anonymous)))


READERS = roles(200, 200, 200, 200, 403, 403)
ORGANISER_PAGE = roles(200, 200, 200, 403, 403, 403)
NO_JOB = roles(404, 404, 404, 403, 403, 403)
IN_A, IN_B = roles(303, 303, 404, 403, 403, 403), roles(303, 404, 303, 403, 403, 403)

#: (method, path, form, expected status per user); users try in order on one world
MATRIX = [
    ("GET", "/", None, READERS),
    ("GET", "/?region=620802", None, roles(200, 404, 200, 404, 403, 403)),
    ("GET", "/unpaired", None, READERS),
    ("GET", "/overdue", None, READERS),
    ("GET", "/problems", None, READERS),
    ("GET", "/benefit-gaps", None, READERS),
    ("GET", "/cert-expiry", None, READERS),
    ("GET", "/cadre-load", None, READERS),
    ("GET", "/unmet-needs", None, ORGANISER_PAGE),  # they name persons with their needs
    ("GET", "/overdue-referrals", None, ORGANISER_PAGE),
    ("GET", "/unmet-needs?region=620802", None, roles(200, 404, 200, 403, 403, 403)),
    ("GET", "/households/HA1", None, roles(200, 200, 404, 200, 200, 404)),
    ("GET", "/households/HB1", None, roles(200, 404, 200, 404, 404, 404)),
    ("GET", "/unpaired/HA1/suggest", None, roles(200, 200, 404, 403, 403, 403)),
    ("GET", "/unpaired/HB1/suggest", None, roles(200, 404, 200, 403, 403, 403)),
    ("GET", "/imports", None, ORGANISER_PAGE),
    ("GET", "/imports/nope", None, NO_JOB),
    ("GET", "/imports/nope/report.csv", None, NO_JOB),
    ("GET", "/imports/nope/report.xlsx", None, NO_JOB),
    ("GET", "/matching", None, ORGANISER_PAGE),
    ("GET", "/matching/nope", None, NO_JOB),
    ("GET", "/jobs/nope/status", None, roles(404, 404, 404, 404, 404, 404)),
    ("POST", "/problems/P1/close", {"household_no": "HA1", "note": "轮椅已修好"}, IN_A),
    ("POST", "/cert-expiry/remind", {"every": "1", "region": "620822"}, IN_A),
    ("POST", "/cert-expiry/remind", {"every": "1", "region": "620802"}, IN_B),
    ("POST", "/unpaired/HB1/confirm", {}, IN_B),
    ("POST", "/matching", {"region": "620822"}, IN_A),
    ("POST", "/matching", {"region": "620802"}, IN_B),
    ("POST", "/matching/nope/confirm", {"action": "all"}, NO_JOB),
    ("POST", "/imports", "files", roles(422, 422, 422, 403, 403, 403)),  # no file chosen: nothing to import
    ("POST", "/logout", {}, roles(303, 303, 303, 303, 303, 303)),
]


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    set_password(store=store, user_id="organizer-a", password=PASSWORD)
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def as_user(client: TestClient, world, user: str | None, csrf: bool = True) -> None:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    if user:
        client.cookies.set("jiedui_session", world.tokens[user])
        if csrf:
            client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def send(client: TestClient, method: str, path: str, form):
    if method == "GET":
        return client.get(path, follow_redirects=False)
    if form == "files":
        return client.post(path, files={"not-files": ("empty.xlsx", b"")}, follow_redirects=False)
    return client.post(path, data=form, follow_redirects=False)


# --- the authorisation matrix ----------------------------------------------------------------------

def test_the_matrix_names_every_console_route(client):
    console = {(m, r.path) for r in iter_route_contexts(client.app.routes) for m in (r.methods or [])
               if not r.path.startswith(("/api/", "/graphql", "/docs", "/openapi", "/static", "/login"))
               and m != "HEAD"}
    covered = set()
    for method, path, _, _ in MATRIX:
        for route in iter_route_contexts(client.app.routes):
            if method in (route.methods or ()) and route.path_regex.match(path.split("?")[0]):
                covered.add((method, route.path))
    assert console - covered == set()


@pytest.mark.parametrize("method, path, form, expect", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_console_matrix(client, world, method, path, form, expect):
    for user in USERS:
        if path == "/logout" and user:  # signing out revokes the token: a fresh one per user
            world.tokens[user] = issue_token(store=world.store, user_id=user)
        as_user(client, world, user)
        answer = send(client, method, path, form)
        assert answer.status_code == expect[user], (user, answer.text[:300])
        if answer.status_code == 303 and user is None:
            assert answer.headers["location"].startswith("/login")


# --- CSRF ----------------------------------------------------------------------------------------------

def ledger_count(store) -> int:
    """Changes made (each is recorded as a write in the audit trail before its request answers)."""
    return store.query("MATCH (a:AuditEntry) WHERE a.action = 'write' RETURN count(a) AS n")[0]["n"]


@pytest.mark.parametrize("token", [None, "wrong", "other-session"])
def test_a_post_without_its_token_is_refused_and_changes_nothing(client, world, token):
    as_user(client, world, "organizer-a", csrf=False)
    before = ledger_count(world.store)
    form = {"household_no": "HA1", "note": "轮椅已修好"}
    if token == "wrong":
        form["csrf_token"] = "0" * 64
    elif token == "other-session":
        form["csrf_token"] = csrf_token(client.app.state.csrf_secret, world.tokens["admin"])
    answer = client.post("/problems/P1/close", data=form, follow_redirects=False)
    assert answer.status_code == 403 and "表单已失效" in answer.text
    assert ledger_count(world.store) == before
    # signing out needs it too: the session stays
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/unpaired").status_code == 200
    # the form field the page carries is accepted
    form["csrf_token"] = csrf_token(client.app.state.csrf_secret, world.tokens["organizer-a"])
    assert client.post("/problems/P1/close", data=form, follow_redirects=False).status_code == 303
    assert ledger_count(world.store) == before + 1


def test_every_form_and_htmx_carry_the_token(client, world):
    as_user(client, world, "organizer-a")
    expected = csrf_token(client.app.state.csrf_secret, world.tokens["organizer-a"])
    for page in ("/problems", "/cert-expiry", "/imports", "/matching"):
        html = client.get(page).text
        assert html.count('method="post"') == html.count(f'name="csrf_token" value="{expected}"') > 0, page
        assert f'"X-CSRF-Token": "{expected}"' in html
        assert '"includeIndicatorStyles": false' in html


# --- the sign-in throttle --------------------------------------------------------------------------------

def login(client, user="organizer-a", password="wrong password!"):
    return client.post("/login", data={"user": user, "password": password}, follow_redirects=False)


def test_failed_sign_ins_are_throttled_per_user(client, world):
    now = [1000.0]
    client.app.state.login_user_throttle.clock = lambda: now[0]
    for _ in range(5):
        assert login(client).status_code == 401
    refused = login(client)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 300
    assert "失败次数过多" in refused.text and "too many failed attempts" in refused.text
    assert login(client, password=PASSWORD).status_code == 429  # even the right password waits
    assert login(client, user="admin").status_code == 401  # other users are not held up
    now[0] += 301
    assert login(client, password=PASSWORD).status_code == 303


def test_a_success_resets_the_users_count(client, world):
    for _ in range(4):
        assert login(client).status_code == 401
    assert login(client, password=PASSWORD).status_code == 303
    for _ in range(5):
        assert login(client).status_code == 401
    assert login(client).status_code == 429


def test_failed_sign_ins_are_throttled_per_address(client, world):
    now = [1000.0]
    client.app.state.login_ip_throttle.clock = lambda: now[0]
    for n in range(20):
        assert login(client, user=f"guess-{n}").status_code == 401
    assert login(client, user="someone-else").status_code == 429
    assert client.post("/login", data={"token": "bad"}, follow_redirects=False).status_code == 429
    now[0] += 301
    assert login(client, password=PASSWORD).status_code == 303


# --- headers -------------------------------------------------------------------------------------------

def test_console_pages_carry_the_security_headers(client, world):
    as_user(client, world, "organizer-a")
    for path in ("/login", "/", "/unpaired", "/households/HA1", "/no-such-page"):
        answer = client.get(path)
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';"), path
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-store"
        assert "<script>" not in answer.text and "style=" not in answer.text  # nothing inline for CSP to block
    static = client.get("/static/console.css")
    assert static.headers["X-Content-Type-Options"] == "nosniff" and "Cache-Control" not in static.headers
