"""POST /imports?wait=false: the answer comes once the files are saved (202, with where the result
will be), and GET /imports/{id} answers 202 with the progress until the import is done, then the
result a waiting upload would have answered. A province's files take minutes, longer than a
reverse proxy holds a request."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from api.jobs import JobRunner
from test_rest_imports import URL, count, sample_files


def finished(client, url: str, headers: dict, seconds: float = 60) -> dict:
    """The result at ``url`` once it answers 200; every answer before it is 202 with the progress."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = client.get(url, headers=headers)
        if got.status_code == 200:
            return got.json()
        assert got.status_code == 202, got.text
        body = got.json()
        assert body["state"] in ("queued", "running") and body["result"] == url and got.headers["location"] == url
        assert body["progress"] is None or 0 <= body["progress"] <= 1
        time.sleep(0.1)
    raise AssertionError(f"{url} still running after {seconds} s")


def test_an_upload_that_does_not_wait_is_imported_and_its_result_asked_for(client, world):
    admin = world.auth("admin")
    got = client.post(URL, params={"wait": "false"}, files=sample_files(), headers=admin)
    assert got.status_code == 202, got.text
    started = got.json()
    url = f"{URL}/{started['id']}"
    assert started["result"] == url and got.headers["location"] == url
    body = finished(client, url, admin)
    assert body["id"] == started["id"] and body["outcome"] == "imported" and body["dry_run"] is False
    assert {f["name"]: (f["read"], f["created"]) for f in body["files"]}["家庭.csv"] == (12, 12)
    assert count(world.store, "Household") == 3 + 12
    assert client.get(body["report_csv"], headers=admin).status_code == 200
    assert client.get(url, headers=world.auth("organizer-a")).status_code == 404  # the admin's import


def test_a_dry_run_that_does_not_wait_writes_nothing(client, world):
    got = client.post(URL, params={"wait": "false", "dry_run": "true"}, files=sample_files(), headers=world.auth("admin"))
    assert got.status_code == 202, got.text
    body = finished(client, got.json()["result"], world.auth("admin"))
    assert body["dry_run"] is True and body["outcome"] == "imported"
    assert count(world.store, "Household") == 3


def test_a_queued_import_answers_202_until_it_has_run(client, world):
    """With every place taken by another job, the import waits, and says so, until one is free."""
    client.app.state.jobs = jobs = JobRunner(running=1)
    release = threading.Event()
    jobs.start("test", "another job", SimpleNamespace(user=SimpleNamespace(user_id="someone")),
               lambda job: release.wait(60))
    admin = world.auth("admin")
    got = client.post(URL, params={"wait": "false"}, files=sample_files(), headers=admin)
    assert got.status_code == 202 and got.json()["state"] == "queued"
    url = got.json()["result"]
    again = client.get(url, headers=admin)
    assert again.status_code == 202 and again.json()["state"] == "queued"
    assert count(world.store, "Household") == 3  # nothing written while it waits
    release.set()
    assert finished(client, url, admin)["outcome"] == "imported"
    assert count(world.store, "Household") == 3 + 12
