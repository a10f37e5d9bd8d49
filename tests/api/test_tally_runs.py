"""The service keeps the counties' service tallies of the year current (``api/tally_runs.py``): it
makes those missing or stale when it starts, so that no report waits for them, and a failed round
does not stop the job; an import through the service makes them as ``jiedui import`` does."""

from __future__ import annotations

import asyncio
import time

from fastapi.testclient import TestClient

from api import tally_runs
from api.app import create_app
from conftest import COUNTY_A, COUNTY_B
from graph_schema.models import today
from graph_schema.service import tally
from graph_schema.store import GraphStore
from test_rest_imports import URL, sample_files


def stale(store: GraphStore) -> list[str]:
    """The counties of the store whose tally of this year is missing or stale."""
    return store.read(lambda tx: tally._stale(tx, tally.counties_in(tx, ""), today().year))[1]


def test_the_service_makes_the_years_tallies_when_it_starts(world):
    assert {COUNTY_A, COUNTY_B} <= set(stale(world.store))  # nothing has made them yet
    with TestClient(create_app(world.store, keep_tallies=True)):
        deadline = time.monotonic() + 60
        while stale(world.store) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert stale(world.store) == []


def test_an_app_that_is_not_asked_to_keep_them_leaves_them(world):
    with TestClient(create_app(world.store)):
        time.sleep(0.5)
    assert {COUNTY_A, COUNTY_B} <= set(stale(world.store))


def test_a_failed_round_is_logged_and_the_job_goes_on(world, monkeypatch, caplog):
    calls = []

    def failing(store, year):
        calls.append(year)
        raise RuntimeError("the store went away")

    async def run() -> None:
        job = asyncio.create_task(tally_runs.kept_current(world.store))
        while not calls:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not job.done()  # waiting for its next round, not dead
        job.cancel()

    monkeypatch.setattr(tally, "keep_current", failing)
    asyncio.run(run())
    assert calls == [today().year]
    assert "keeping the service tallies current failed" in caplog.text


def test_an_import_through_the_service_leaves_the_tallies_current_and_a_dry_run_leaves_them(client, world):
    dry = client.post(f"{URL}?dry_run=true", files=sample_files(), headers=world.auth("admin"))
    assert dry.status_code == 201, dry.text
    assert {COUNTY_A, COUNTY_B} <= set(stale(world.store))
    got = client.post(URL, files=sample_files(), headers=world.auth("admin"))
    assert got.status_code == 201 and got.json()["outcome"] == "imported", got.text
    assert stale(world.store) == []  # the world's counties and the sample's, made in the import's request


def test_an_organisers_import_makes_only_their_regions_tallies(client, world):
    got = client.post(URL, files=sample_files(), headers=world.auth("organizer-a"))
    assert got.status_code == 201 and got.json()["outcome"] == "partial", got.text  # county B's rows refused
    left = set(stale(world.store))
    assert COUNTY_A not in left and COUNTY_B in left


def test_an_import_whose_tallies_fail_is_still_imported(client, world, monkeypatch, caplog):
    def failing(store, year, progress=None, prefix=""):
        raise RuntimeError("the store went away")

    monkeypatch.setattr(tally, "keep_current", failing)
    got = client.post(URL, files=sample_files(), headers=world.auth("admin"))
    assert got.status_code == 201 and got.json()["outcome"] == "imported", got.text
    assert "making the service tallies after an import failed" in caplog.text
