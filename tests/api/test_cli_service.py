"""The service's command line: users, tokens, the audit trail, and `jiedui serve` itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from factories import household
from graph_schema.household.service import upsert_households

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _target(engine, store):
    upsert_households(store=store, households=[household("H1")])
    location = store.location
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
    return location


def test_user_add_prints_a_token_that_the_audit_command_can_follow(engine, store):
    target = _target(engine, store)
    added = runner.invoke(app, ["user", "add", "org1", "--role", "organizer", "--region", "620822", "--store", target])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    listed = runner.invoke(app, ["user", "list", "--store", target])
    assert "org1" in listed.output and "organizer" in listed.output
    again = runner.invoke(app, ["user", "add", "org1", "--role", "admin", "--store", target])
    assert again.exit_code == 2 and "已存在" in again.output
    unbound = runner.invoke(app, ["user", "add", "p", "--role", "portal", "--store", target])
    assert unbound.exit_code == 2 and "region" in unbound.output
    wrong = runner.invoke(app, ["user", "add", "p", "--role", "king", "--store", target])
    assert wrong.exit_code == 2
    revoked = runner.invoke(app, ["user", "revoke", "org1", "--store", target])
    assert "1" in revoked.output
    trail = runner.invoke(app, ["audit", "--store", target])
    assert trail.exit_code == 0 and "共 0 条" in trail.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}",
                                                               "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_the_readme_run_command_serves_the_demo_data(tmp_path):
    """`jiedui serve` on a fresh store: the demo county is imported, demo users are made, and
    the service answers with demo data (the README's command, on a temporary store and port)."""
    port = _free_port()
    folder = tmp_path / "jiedui-data"
    server = subprocess.Popen([str(Path(sys.executable).parent / "jiedui"), "serve", "--store", str(folder),
                               "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=os.environ | {"COLUMNS": "200"})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=2)
                break
            except OSError:  # not up yet, or too busy to answer within 2 s (URLError, refused, timed out)
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.5)
        tokens = {line.split("\t")[0]: line.split("\t")[2]
                  for line in (folder / "demo-tokens.txt").read_text().splitlines()}
        assert set(tokens) == {"admin", "county-organizer", "county-portal", "demo-cadre", "demo-org"}
        assert oct((folder / "demo-tokens.txt").stat().st_mode & 0o777) == "0o600"
        listed = _get(f"{base}/api/v1/households?page_size=5", tokens["county-portal"])
        assert listed["total"] > 8000 and len(listed["items"]) == 5
        assert all("********" in h["head_id"] for h in listed["items"])
        query = ("{ unpaired(first: 3) { totalCount edges { node { householdNo riskLevel riskScore "
                 "household { headId members { totalCount edges { node { name grade } } } } } } } }")
        answer = _get(f"{base}/graphql", tokens["county-portal"], {"query": query})
        assert "errors" not in answer, answer
        unpaired = answer["data"]["unpaired"]
        assert unpaired["totalCount"] > 100 and len(unpaired["edges"]) == 3
        first = unpaired["edges"][0]["node"]
        members = [e["node"] for e in first["household"]["members"]["edges"]]
        assert members and "********" in first["household"]["headId"]
        # the portal's row: highest risk first, the level shown, the score and the grades withheld
        levels = [e["node"]["riskLevel"] for e in unpaired["edges"]]
        assert levels == sorted(levels, key="高中低".index)
        assert [e["node"]["riskScore"] for e in unpaired["edges"]] == [None] * 3
        assert {m["grade"] for m in members} == {None}
        assert all("*" in m["name"] for m in members)
        # whoever tries the demo as an organisation finds referrals sent to it and its auxiliary pairings
        assert _get(f"{base}/api/v1/referrals?page_size=1", tokens["demo-org"])["total"] > 0
        own = _get(f"{base}/api/v1/orgs?page_size=1", tokens["demo-org"])["items"][0]["uscc"]
        assert _get(f"{base}/api/v1/orgs/{own}/aux-pairings?page_size=1", tokens["demo-org"])["total"] > 0
        _revoke_while_serving(base, folder, tokens)
    finally:
        server.terminate()
        server.wait(timeout=30)


def said(result) -> str:
    """What a command printed, its lines joined (the console wraps long messages)."""
    return " ".join(result.output.split())


def _revoke_while_serving(base: str, folder: Path, tokens: dict[str, str]) -> None:
    """The service holds the embedded store: `jiedui user revoke` says to go through it, and does
    so with --server and an admin token from the environment; the token is refused at once."""
    held = runner.invoke(app, ["user", "revoke", "county-portal", "--store", str(folder)])
    assert held.exit_code == 2 and "--server" in said(held)
    no_token = runner.invoke(app, ["user", "revoke", "county-portal", "--server", base], env={"JIEDUI_ADMIN_TOKEN": ""})
    assert no_token.exit_code == 2 and "JIEDUI_ADMIN_TOKEN" in said(no_token)
    not_admin = runner.invoke(app, ["user", "revoke", "county-portal", "--server", base],
                              env={"JIEDUI_ADMIN_TOKEN": tokens["county-organizer"]})
    assert not_admin.exit_code == 2 and "may not" in said(not_admin)
    unknown = runner.invoke(app, ["user", "revoke", "nobody", "--server", base], env={"JIEDUI_ADMIN_TOKEN": tokens["admin"]})
    assert unknown.exit_code == 2 and "nobody" in said(unknown)
    assert _get(f"{base}/api/v1/cadres?page_size=1", tokens["county-portal"])["total"] > 0  # cached by the service
    done = runner.invoke(app, ["user", "revoke", "county-portal", "--server", base + "/"],
                         env={"JIEDUI_ADMIN_TOKEN": tokens["admin"]})
    assert done.exit_code == 0 and "revoked: 1" in said(done), done.output
    try:
        _get(f"{base}/api/v1/cadres?page_size=1", tokens["county-portal"])
        raise AssertionError("a revoked token was answered")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    unreachable = runner.invoke(app, ["user", "revoke", "x", "--server", f"http://127.0.0.1:{_free_port()}"],
                                env={"JIEDUI_ADMIN_TOKEN": tokens["admin"]})
    assert unreachable.exit_code == 2 and "cannot reach" in said(unreachable)


def test_serve_over_https_with_a_certificate_and_its_key(tmp_path):
    """`jiedui serve --tls-cert --tls-key` answers over HTTPS (the cadre's offline pages need it
    away from localhost); half a pair, or a key that is not the certificate's, is refused at once."""
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(cert_file)
    cert.private_key_pem.write_to_path(key_file)
    wrong_key = tmp_path / "other-key.pem"
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(wrong_key)
    folder = tmp_path / "store"
    half = runner.invoke(app, ["serve", "--store", str(folder), "--tls-cert", str(cert_file)])
    assert half.exit_code == 2 and "--tls-key" in half.output
    mismatched = runner.invoke(app, ["serve", "--store", str(folder), "--tls-cert", str(cert_file),
                                     "--tls-key", str(wrong_key)])
    assert mismatched.exit_code == 2 and "无法使用证书" in mismatched.output
    assert not folder.exists()  # refused before anything was loaded

    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "jiedui"), "serve", "--store", str(folder),
                               "--port", str(port), "--preset", "tiny", "--tls-cert", str(cert_file),
                               "--tls-key", str(key_file)], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=os.environ | {"COLUMNS": "200"})
    context = ssl.create_default_context()
    ca.configure_trust(context)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/sw.js", timeout=2, context=context) as answer:
                    assert answer.status == 200 and b"caches" in answer.read()
                    break
            except OSError:  # not up yet, or too busy to answer within 2 s (URLError, refused, timed out)
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.5)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
        except OSError:  # refused, reset or timed out: anything but an answer
            pass
        else:
            raise AssertionError("plain HTTP was answered")
    finally:
        server.terminate()
        server.wait(timeout=30)
