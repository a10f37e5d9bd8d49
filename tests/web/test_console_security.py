"""Security of the console, on both engines: the authorisation matrix of every console route,
the sign-in throttle, CSRF tokens on every POST, and the security headers of its pages."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import csrf_token
from graph_schema.access.accounts import AccountState, roster_accounts
from graph_schema.access.models import EVERYTHING, Role
from graph_schema.access.service import add_user, issue_token, set_password, token_hash
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
START = roles(200, 200, 200, 200, 303, 303)  # a cadre and an organisation go on to their own start page
NO_JOB = roles(404, 404, 404, 403, 403, 403)
IN_A, IN_B = roles(303, 303, 404, 403, 403, 403), roles(303, 404, 303, 403, 403, 403)
ORG_ONLY = roles(403, 403, 403, 403, 403, 200)

#: (method, path, form, expected status per user); users try in order on one world
MATRIX = [
    ("GET", "/", None, START),
    ("GET", "/?region=620802", None, roles(200, 404, 200, 404, 303, 303)),
    ("GET", "/mine", None, roles(403, 403, 403, 403, 200, 403)),
    ("GET", "/aux-pairings", None, roles(403, 403, 403, 403, 403, 200)),
    ("GET", "/mine/HA1", None, roles(403, 403, 403, 403, 200, 403)),
    ("GET", "/mine/HB1", None, roles(403, 403, 403, 403, 404, 403)),  # not the cadre's: as if unknown
    ("GET", "/sw.js", None, roles(200, 200, 200, 200, 200, 200, 200)),  # the service worker: no data in it
    ("GET", "/reports/unpaired.xlsx", None, READERS),
    ("GET", "/reports/overdue-visits.csv?region=620802", None, roles(200, 404, 200, 404, 403, 403)),
    ("GET", "/reports/no-such-report.csv", None, roles(404, 404, 404, 404, 403, 403)),
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
    ("GET", "/imports/nope/rejected/households.csv", None, NO_JOB),
    ("GET", "/imports/templates/households.xlsx", None, ORGANISER_PAGE),
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
    ("GET", "/aux-requests", None, roles(200, 200, 200, 200, 403, 200)),  # an organisation: its own
    ("GET", "/aux-requests?region=620802", None, roles(200, 404, 200, 404, 403, 200)),
    ("POST", "/aux-requests/nope/approve", {"consent_note": "户主同意"}, NO_JOB),
    ("POST", "/aux-requests/nope/decline", {}, NO_JOB),
    ("POST", "/aux-requests", {"household_no": "HB1", "reason": "助残"}, ORG_ONLY | {"org-a": 404}),
    ("POST", "/aux-requests/nope/withdraw", {}, ORG_ONLY | {"org-a": 404}),
    ("GET", "/aux-pairings/HA2/record", None, ORG_ONLY),
    ("GET", "/aux-pairings/HA1/record", None, ORG_ONLY | {"org-a": 404}),
    ("POST", "/aux-pairings/HA2/record", {"kind": "捐款捐物", "entry_date": dt.date.today().isoformat(), "amount": "10"},
     ORG_ONLY | {"org-a": 303}),
    ("POST", "/aux-pairings/HB1/record", {"kind": "捐款捐物", "entry_date": dt.date.today().isoformat(), "amount": "10"},
     ORG_ONLY | {"org-a": 404}),
    ("POST", "/aux-pairings/end", {"household_no": "HA1", "reason": "服务结束"}, ORG_ONLY | {"org-a": 404}),
    ("GET", "/referrals", None, ORG_ONLY),
    ("GET", "/referrals?status=nope", None, ORG_ONLY | {"org-a": 422}),
    ("GET", "/referrals/nope/deliver", None, ORG_ONLY | {"org-a": 404}),
    ("POST", "/referrals/nope/accept", {}, ORG_ONLY | {"org-a": 404}),
    ("POST", "/referrals/nope/reject", {"reason": "其他"}, ORG_ONLY | {"org-a": 404}),
    ("POST", "/referrals/nope/deliver", {"service_code": "KF01"}, ORG_ONLY | {"org-a": 404}),
    ("GET", "/accounts", None, ORGANISER_PAGE),
    ("GET", "/accounts?region=620802&kind=org", None, roles(200, 404, 200, 403, 403, 403)),
    ("POST", "/accounts/create", {"region": "620802", "kind": "cadre"}, roles(200, 404, 303, 403, 403, 403)),
    ("POST", "/accounts/reset", {"user": "cadre-a2"}, roles(200, 200, 404, 403, 403, 403)),
    ("POST", "/accounts/disable", {"user": "cadre-a2"}, roles(303, 303, 404, 403, 403, 403)),
    ("GET", "/join-requests", None, ORGANISER_PAGE),
    ("POST", "/join-requests/nope/approve", {}, NO_JOB),
    ("POST", "/join-requests/nope/decline", {}, NO_JOB),
    ("GET", "/join", None, roles(200, 200, 200, 200, 200, 200, 200)),  # public: no account needed
    ("POST", "/join", {"name": "x"}, roles(422, 422, 422, 422, 422, 422, 422)),
    ("GET", "/inbox", None, roles(200, 200, 200, 200, 200, 200)),
    ("POST", "/inbox/read", {"every": "true"}, roles(303, 303, 303, 303, 303, 303)),
    ("POST", "/inbox/notify", {}, roles(303, 303, 303, 403, 403, 403)),
    ("POST", "/mine/HA1/visits", {"note": "入户了解近况"}, roles(403, 403, 403, 403, 303, 403)),
    ("POST", "/mine/HA1/problems/P1/close", {"resolution": "轮椅已修好"}, roles(403, 403, 403, 403, 303, 403)),
    ("POST", "/logout", {}, roles(303, 303, 303, 303, 303, 303)),
]


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    set_password(store=store, user_id="organizer-a", password=PASSWORD)
    add_user(store=store, user_id="cadre-a2", role=Role.CADRE, cadre_no="CA2")  # an account the matrix resets
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


def test_a_large_multipart_post_without_its_token_is_refused_except_by_the_upload(client, world):
    """A form declaring more than the upload limit used to skip the token check on every route;
    only the upload route, which refuses such a body itself (413), may be spared reading it."""
    as_user(client, world, "organizer-a", csrf=False)
    client.app.state.max_upload_bytes = 64
    before = ledger_count(world.store)
    answer = client.post("/problems/P1/close", data={"household_no": "HA1", "note": "轮椅已修好"},
                         files={"padding": ("a.txt", b"x" * 200)}, follow_redirects=False)
    assert answer.status_code == 403 and "表单已失效" in answer.text
    assert ledger_count(world.store) == before
    upload = client.post("/imports", files={"files": ("区划.csv", b"x" * 200)}, follow_redirects=False)
    assert upload.status_code == 413 and "上传文件过大" in upload.text
    assert ledger_count(world.store) == before


def test_every_form_and_htmx_carry_the_token(client, world):
    as_user(client, world, "organizer-a")
    expected = csrf_token(client.app.state.csrf_secret, world.tokens["organizer-a"])
    for page in ("/problems", "/cert-expiry", "/imports", "/matching"):
        html = client.get(page).text
        assert html.count('method="post"') == html.count(f'name="csrf_token" value="{expected}"') > 0, page
        assert f'"X-CSRF-Token": "{expected}"' in html
        assert '"includeIndicatorStyles": false' in html


#: the new pages' forms, per user who sees them, and a change each refuses without the token
NEW_PAGES = {"organizer-a": ("/accounts?kind=cadre", "/join-requests", "/inbox"),
             "org-a": ("/aux-pairings", "/aux-requests", "/referrals", "/aux-pairings/HA2/record", "/inbox")}


@pytest.mark.parametrize("user", list(NEW_PAGES))
def test_the_new_pages_forms_carry_the_token_and_their_posts_need_it(client, world, user):
    as_user(client, world, user)
    expected = csrf_token(client.app.state.csrf_secret, world.tokens[user])
    for page in NEW_PAGES[user]:
        html = client.get(page).text
        assert html.count(f'name="csrf_token" value="{expected}"') == html.count('method="post"'), page
    as_user(client, world, user, csrf=False)
    if user == "org-a":
        before = ledger_count(world.store)
        answer = client.post("/aux-pairings/HA2/record", data={"kind": "捐款捐物", "entry_date": dt.date.today()
                                                              .isoformat(), "amount": "10"}, follow_redirects=False)
        assert answer.status_code == 403 and "表单已失效" in answer.text and ledger_count(world.store) == before
    else:
        answer = client.post("/accounts/disable", data={"user": "cadre-a2"}, follow_redirects=False)
        assert answer.status_code == 403 and "表单已失效" in answer.text
        states = {a.user_id: a.state for a in roster_accounts(store=world.store, role=Role.CADRE, scope=EVERYTHING)}
        assert states["cadre-a2"] is not AccountState.DISABLED


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


def test_a_valid_token_signs_in_whatever_others_failed_from_its_address(client, world):
    for n in range(25):
        login(client, user=f"guess-{n}")
    assert login(client, user="someone-else").status_code == 429
    assert client.post("/login", data={"token": "bad"}, follow_redirects=False).status_code == 429
    signed_in = client.post("/login", data={"token": world.tokens["organizer-a"]}, follow_redirects=False)
    assert signed_in.status_code == 303


def other_browser(client) -> TestClient:
    """A second browser at the same address (TestClient gives every client one address)."""
    return TestClient(client.app)


def test_a_browser_that_signed_in_before_is_not_held_by_failures_from_its_address(client, world):
    assert login(client, password=PASSWORD).status_code == 303  # this browser now holds a device cookie
    stranger = other_browser(client)
    for n in range(25):
        login(stranger, user=f"guess-{n}")
    assert login(stranger, password=PASSWORD).status_code == 429  # a new browser waits
    assert login(client, password=PASSWORD).status_code == 303  # the organiser's own one does not


def test_guessing_a_users_password_does_not_lock_out_their_own_browser(client, world):
    assert login(client, password=PASSWORD).status_code == 303
    attacker = other_browser(client)
    for _ in range(5):
        assert login(attacker).status_code == 401
    assert login(attacker, password=PASSWORD).status_code == 429  # guessing stays slow
    assert login(client, password=PASSWORD).status_code == 303
    # failures in the trusted browser count against that browser
    for _ in range(5):
        assert login(client).status_code == 401
    assert login(client, password=PASSWORD).status_code == 429


def test_a_forged_or_anothers_device_cookie_is_not_trusted(client, world):
    assert login(client, user="organizer-a", password=PASSWORD).status_code == 303
    stolen = {k: v for k, v in client.cookies.items() if k.startswith("jiedui_device_")}
    assert len(stolen) == 1
    name, value = next(iter(stolen.items()))
    forger = other_browser(client)
    for n in range(25):
        login(forger, user=f"guess-{n}")
    forger.cookies.set(name, value.split(".")[0] + "." + "0" * 64, path="/login")
    assert login(forger, password=PASSWORD).status_code == 429
    set_password(store=world.store, user_id="admin", password=PASSWORD)
    forger.cookies.set("jiedui_device_" + name.rsplit("_", 1)[1], value, path="/login")  # organizer-a's, for admin
    assert login(forger, user="admin", password=PASSWORD).status_code == 429


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
], ids=["origin", "null-origin", "referer", "cross-site", "same-site"])
def test_a_sign_in_posted_from_another_site_is_refused(client, world, headers):
    for form in ({"user": "organizer-a", "password": PASSWORD}, {"token": world.tokens["organizer-a"]}):
        answer = client.post("/login", data=form, headers=headers, follow_redirects=False)
        assert answer.status_code == 403, answer.text[:300]
        assert "其他网站" in answer.text and "another site" in answer.text
        assert "jiedui_session" not in answer.cookies


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "http://testserver"},
    {"Referer": "http://testserver/login?next=/"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "https://jiedui.example.gov.cn"},  # a proxy rewrote Host
], ids=["none", "origin", "referer", "same-origin"])
def test_a_sign_in_from_this_site_is_accepted(client, world, headers):
    answer = client.post("/login", data={"user": "organizer-a", "password": PASSWORD}, headers=headers,
                         follow_redirects=False)
    assert answer.status_code == 303


def session_of(store, token: str) -> dict:
    return store.query("MATCH (t:Token {token_hash: $h}) RETURN t.user_id AS user, t.created_at AS created, "
                       "t.expires_at AS expires, t.revoked AS revoked", {"h": token_hash(token)})[0]


def test_signing_in_with_a_token_gives_the_browser_a_session_of_its_own(client, world):
    api_token = world.tokens["organizer-a"]
    answer = client.post("/login", data={"token": api_token}, follow_redirects=False)
    assert answer.status_code == 303
    session = answer.cookies["jiedui_session"]
    assert session != api_token
    row = session_of(world.store, session)
    lasts = dt.datetime.fromisoformat(row["expires"]) - dt.datetime.fromisoformat(row["created"])
    assert row["user"] == "organizer-a" and lasts == dt.timedelta(hours=12)
    assert client.get("/unpaired").status_code == 200
    # signing out revokes the session, and only it: the API token keeps working
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, session)
    assert client.post("/logout", follow_redirects=False).status_code == 303
    assert session_of(world.store, session)["revoked"] is True
    assert session_of(world.store, api_token)["revoked"] is False
    assert client.get("/api/v1/cadres", headers=world.auth("organizer-a")).status_code == 200
    client.cookies.set("jiedui_session", session)
    assert client.get("/unpaired", follow_redirects=False).status_code == 303


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
