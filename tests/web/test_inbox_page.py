"""The inbox in the console, on both engines: the organiser's button writes the day's messages for
the region, each user reads their own (newest first, the unread marked, an unread count in the
header of every page) and marks them read; an organisation hears of its approved request."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import csrf_token
from factories import person
from graph_schema.household.service import upsert_persons
from graph_schema.notify.service import inbox, unread_count
from graph_schema.pagination import PageRequest
from graph_schema.pairing.requests import approve_aux_request, request_aux
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    # HA1's new member's certificate expires within a month: both reminders are due to cadre-a
    upsert_persons(store=store, persons=[person("HA1", cert_expiry=dt.date.today() + dt.timedelta(days=20))])
    asked = request_aux(store=store, household_no="HA1", uscc=world.org_a, reason="助残", requested_by="org-a")
    approve_aux_request(store=store, request_id=asked.request_id, decided_by="organizer-a")
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def as_user(client: TestClient, world, user: str) -> None:
    client.cookies.clear()
    client.cookies.set("jiedui_session", world.tokens[user])
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def badge(html: str) -> str | None:
    """The unread count the header's inbox entry shows (None: no badge)."""
    found = re.search(r'<a href="/inbox"[^>]*>.*?<span class="badge">(\d+)<', html, re.S)
    return found.group(1) if found else None


def test_the_organisers_button_fills_the_regions_inboxes(client, world):
    as_user(client, world, "organizer-b")
    client.post("/inbox/notify")
    assert unread_count(store=world.store, user_id="cadre-a") == 0  # another county's run: not cadre-a's
    as_user(client, world, "organizer-a")
    page = client.get("/inbox").text
    assert 'action="/inbox/notify"' in page and "没有消息" in page and badge(page) is None
    done = client.post("/inbox/notify", follow_redirects=False)
    assert done.status_code == 303
    flashed = client.get(done.headers["location"]).text
    assert "条新消息" in flashed and "辖区日报" in flashed and badge(flashed) == "1"  # the organiser's digest
    again = client.post("/inbox/notify", follow_redirects=True).text
    assert "写入 0 条新消息" in again  # nothing twice on one day


def test_a_cadre_reads_and_marks_their_own_messages(client, world):
    as_user(client, world, "organizer-a")
    client.post("/inbox/notify")
    as_user(client, world, "cadre-a")
    start = client.get("/mine").text
    assert badge(start) == "2"  # on every page, not only the inbox
    page = client.get("/inbox").text
    assert page.count("证件到期提醒") >= 2 and 'action="/inbox/notify"' not in page and "HA1" in page
    assert page.count('class="message unread"') == 2
    mine = [m.message_id for m in inbox(store=world.store, user_id="cadre-a", page=PageRequest(1, 50)).items]
    theirs = [m.message_id for m in inbox(store=world.store, user_id="organizer-a", page=PageRequest(1, 50)).items]
    client.post("/inbox/read", data={"ids": [mine[0], *theirs]})
    assert badge(client.get("/inbox").text) == "1"
    assert unread_count(store=world.store, user_id="organizer-a") == len(theirs)  # another's stay unread
    unread = client.get("/inbox?unread=true").text
    assert unread.count('class="message unread"') == 1
    client.post("/inbox/read", data={"every": "true"})
    page = client.get("/inbox").text
    assert badge(page) is None and 'class="message unread"' not in page
    nothing = client.post("/inbox/read", data={}, follow_redirects=True).text
    assert "请先选择消息" in nothing


def test_an_organisation_hears_its_request_was_approved(client, world):
    as_user(client, world, "organizer-a")
    client.post("/inbox/notify")
    as_user(client, world, "org-a")
    page = client.get("/inbox").text
    assert "辅助结对已批准" in page and "HA1" in page and badge(page) == "1"
    assert client.post("/inbox/notify").status_code == 403
