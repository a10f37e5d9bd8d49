"""`jiedui serve` as several processes on one Neo4j database: read-your-own-writes across them
with the ``Jiedui-Bookmark`` header, the console's CSRF tokens good on every one, and
``--workers`` on one port; the embedded store refuses more than one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app, csrf_secret
from api.bookmarks import sign
from api.cli import app
from factories import household
from graph_schema.access.models import Role
from graph_schema.access.service import add_user, issue_token
from graph_schema.household.service import upsert_households

runner = CliRunner()
JIEDUI = str(Path(sys.executable).parent / "jiedui")
ENTRY = {"code": "XL01", "name": "心理疏导", "category": "其他", "time_limit": 30}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, target: str, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """A `jiedui serve` process over ``target``, once it answers."""
    port = _free_port()
    server = subprocess.Popen([JIEDUI, "serve", "--store", target, "--port", str(port), *extra], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=os.environ | {"COLUMNS": "200"} | (env or {}))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=10)
                return server, base
            except OSError:  # refused while starting, or slow to answer on a busy machine
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the service did not come up") from None
                time.sleep(0.3)
    except BaseException as exc:
        server.kill()
        server.wait(timeout=30)
        if isinstance(exc, AssertionError):
            raise AssertionError(f"the service did not come up:\n{server.stdout.read()}") from None
        raise


def _stop(*servers: subprocess.Popen) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=30)


def _call(url: str, token: str, *, method: str = "GET", body: object = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def _admin(target: str) -> str:
    """An admin's token, and a household so that the service loads no demo data."""
    added = runner.invoke(app, ["user", "add", "root", "--role", "admin", "--store", target])
    assert added.exit_code == 0, added.output
    return added.output.strip().splitlines()[-1]


def test_a_client_reads_its_own_write_through_another_worker(neo4j_store, neo4j_uri, tmp_path):
    """Two service processes over one Neo4j database: the answer to a write through the first
    carries its bookmark; a read through the second that sends it back waits for it and shows the
    write. A bookmark the service did not sign is refused (422) before anything runs; one it signed
    (the processes share the secret) that the database cannot read is refused by the database
    (422), which shows the second process hands the header on. A read carries no bookmark of its own. Both processes make
    the same CSRF token for a console session, from the shared ``JIEDUI_CSRF_SECRET``, and a token
    revoked through one is refused by the other within ``JIEDUI_TOKEN_CACHE_SECONDS``."""
    neo4j_store.wipe()
    upsert_households(store=neo4j_store, households=[household("H1")])
    token = _admin(neo4j_uri)
    shared = {"JIEDUI_CSRF_SECRET": "a secret every worker shares", "JIEDUI_TOKEN_CACHE_SECONDS": "1"}
    secret = csrf_secret(shared["JIEDUI_CSRF_SECRET"])
    portal = runner.invoke(app, ["user", "add", "portal", "--role", "portal", "--region", "620822",
                                 "--store", neo4j_uri]).output.strip().splitlines()[-1]
    first, a = _serve(tmp_path, neo4j_uri, env=shared)
    try:
        second, b = _serve(tmp_path, neo4j_uri, env=shared)
    except BaseException:
        _stop(first)
        raise
    try:
        status, headers, answer = _call(f"{a}/api/v1/service-types", token, method="PUT", body=[ENTRY])
        assert status == 200 and answer == {"created": 1, "updated": 0, "unchanged": 0}
        bookmark = headers.get("jiedui-bookmark", "")
        assert bookmark.startswith("FB:"), headers
        status, headers, listed = _call(f"{b}/api/v1/service-types", token, headers={"Jiedui-Bookmark": bookmark})
        assert status == 200 and "XL01" in {t["code"] for t in listed}
        assert "jiedui-bookmark" not in headers  # a read makes no bookmark
        forged = bookmark.split("~")[0] + "~" + "0" * 32  # a real bookmark, its signature not the service's
        status, _, refused = _call(f"{b}/api/v1/service-types", token, headers={"Jiedui-Bookmark": forged})
        assert status == 422 and refused["field"] == "Jiedui-Bookmark", refused
        assert "本服务给出" in refused["message"] and "this service gave" in refused["message_en"]
        status, _, refused = _call(f"{b}/api/v1/service-types", token,
                                   headers={"Jiedui-Bookmark": sign(secret, ["FB:bogus"])})
        assert status == 422 and "不是本图库的书签" in refused["message"], refused
        status, _, refused = _call(f"{b}/api/v1/service-types", token, headers={"Jiedui-Bookmark": "not one"})
        assert status == 422 and refused["code"] == "INVALID_VALUE"
        cookie = _session(a, token)
        assert _csrf_on(a, cookie) == _csrf_on(b, cookie)
        # a token revoked through one process is refused by the other within its token cache's bound
        assert _call(f"{b}/api/v1/service-types", portal)[0] == 200  # now in b's cache
        status, _, revoked = _call(f"{a}/api/v1/users/portal/revoke", token, method="POST")
        assert status == 200 and revoked["revoked"] == 1
        assert _call(f"{a}/api/v1/service-types", portal)[0] == 401  # at once where it was revoked
        time.sleep(1.2)
        assert _call(f"{b}/api/v1/service-types", portal)[0] == 401
    finally:
        _stop(first, second)


def _session(base: str, token: str) -> str:
    """The console session cookie of signing in at ``base`` with ``token``."""
    form = urllib.parse.urlencode({"token": token}).encode()
    try:
        urllib.request.build_opener(_NoRedirect).open(urllib.request.Request(f"{base}/login", data=form), timeout=30)
    except urllib.error.HTTPError as exc:
        assert exc.code == 303, exc.read()
        return exc.headers["set-cookie"].split(";")[0]
    raise AssertionError("signing in did not redirect")


def _csrf_on(base: str, cookie: str) -> str:
    """The CSRF token the console's start page at ``base`` carries for the session."""
    request = urllib.request.Request(f"{base}/", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=60) as answer:
        found = re.search(r'"X-CSRF-Token": "([0-9a-f]{64})"', answer.read().decode())
    assert found, "no CSRF token on the page"
    return found.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def test_serve_with_two_workers_answers_on_one_port(neo4j_store, neo4j_uri, tmp_path):
    """`jiedui serve --workers 2` on Neo4j: two worker processes under one supervisor answer on
    one port (their process ids differ from the supervisor's), writes and reads alike."""
    neo4j_store.wipe()
    upsert_households(store=neo4j_store, households=[household("H1")])
    token = _admin(neo4j_uri)
    server, base = _serve(tmp_path, neo4j_uri, "--workers", "2")
    try:
        status, headers, answer = _call(f"{base}/api/v1/service-types", token, method="PUT", body=[ENTRY])
        assert status == 200 and answer["created"] == 1 and headers["jiedui-bookmark"].startswith("FB:")
        for _ in range(8):
            status, _, listed = _call(f"{base}/api/v1/service-types", token,
                                      headers={"Jiedui-Bookmark": headers["jiedui-bookmark"]})
            assert status == 200 and "XL01" in {t["code"] for t in listed}
        children = subprocess.run(["pgrep", "-P", str(server.pid), "-f", "spawn_main"], capture_output=True, text=True).stdout.split()
        assert len(children) == 2, children
    finally:
        _stop(server)


def test_serve_refuses_workers_on_the_embedded_store(tmp_path):
    """The embedded store is opened by one process: `--workers 2` says so in both languages and
    exits 2 before anything is made."""
    folder = tmp_path / "store"
    refused = runner.invoke(app, ["serve", "--store", str(folder), "--workers", "2"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2, refused.output
    assert "嵌入式图库只能由一个进程打开" in said and "opened by one process only" in said and "Neo4j" in said
    assert not folder.exists()
    zero = runner.invoke(app, ["serve", "--store", str(folder), "--workers", "0"])
    assert zero.exit_code == 2 and not folder.exists()


def test_the_console_carries_its_bookmarks_in_a_cookie(store, engine):
    """A browser sends no bookmark header: signing in (a write of the session) sets the
    ``jiedui_bookmark`` cookie beside the session on Neo4j, and the console's pages then wait for
    it (a signed cookie the database cannot read is refused, which shows it reaches the database;
    an unsigned one, or one that does not parse, is ignored; a bearer client's request does not
    read it). The embedded engine sets none."""
    upsert_households(store=store, households=[household("H1")])
    add_user(store=store, user_id="root", role=Role.ADMIN)
    token = issue_token(store=store, user_id="root")
    with TestClient(create_app(store)) as client:
        signed = client.post("/login", data={"token": token}, follow_redirects=False)
        assert signed.status_code == 303 and "jiedui_session" in client.cookies
        if engine == "embedded":
            assert "jiedui_bookmark" not in client.cookies and "jiedui-bookmark" not in signed.headers
            return
        value = urllib.parse.unquote(client.cookies["jiedui_bookmark"])
        assert value.startswith("FB:") and "~" in value and value == signed.headers["jiedui-bookmark"]
        assert any(c.startswith("jiedui_bookmark=") and "HttpOnly" in c and "SameSite=Strict" in c
                   for c in signed.headers.get_list("set-cookie"))
        assert client.get("/").status_code == 200
        session = client.cookies["jiedui_session"]
        signed_bogus = urllib.parse.quote(sign(client.app.state.csrf_secret, ["FB:bogus"]), safe="")
        bogus = {"jiedui_session": session, "jiedui_bookmark": signed_bogus}
        assert TestClient(client.app, cookies=bogus).get("/", follow_redirects=False).status_code == 422
        bearer = TestClient(client.app, cookies={"jiedui_bookmark": signed_bogus})
        assert bearer.get("/api/v1/service-types", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        for ignored in ("not%20one", urllib.parse.quote("FB:bogus", safe="")):
            garbled = {"jiedui_session": session, "jiedui_bookmark": ignored}
            assert TestClient(client.app, cookies=garbled).get("/").status_code == 200


def test_every_answer_to_a_write_carries_its_bookmark_and_a_read_none(client, world, engine):
    """REST and GraphQL alike: a write's answer names its bookmark (on Neo4j), a read's and a
    refused write's do not; a later bookmark differs from an earlier one. The embedded engine
    sends none."""
    auth = world.auth("organizer-a")
    paired = client.post("/graphql", json={"query": 'mutation { pair(householdNo: "HA2", cadreNo: "CA2") '
                                                    '{ active } }'}, headers=auth)
    assert paired.status_code == 200 and paired.json()["data"]["pair"]["active"] is True
    ended = client.post("/api/v1/pairings/HA2/end", json={"reason": "户已稳定"}, headers=auth)
    assert ended.status_code == 200, ended.json()
    read = client.post("/graphql", json={"query": '{ household(householdNo: "HA2") { householdNo } }'}, headers=auth)
    refused = client.post("/graphql", json={"query": 'mutation { pair(householdNo: "HA2", cadreNo: "CA2") '
                                                     '{ active } }'}, headers=world.auth("portal-a"))
    assert read.status_code == 200 and refused.json()["errors"]
    assert "jiedui-bookmark" not in read.headers and "jiedui-bookmark" not in refused.headers
    if engine == "embedded":
        assert "jiedui-bookmark" not in paired.headers and "jiedui-bookmark" not in ended.headers
        return
    first, second = paired.headers["jiedui-bookmark"], ended.headers["jiedui-bookmark"]
    assert first.startswith("FB:") and second.startswith("FB:") and first != second
