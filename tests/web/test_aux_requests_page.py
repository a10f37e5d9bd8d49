"""The organisers' page of auxiliary pairing requests, through the app as a browser sees it, on
both engines: an organiser of the household's county lists the pending requests, approves one with
the household's consent (only then does the organisation see the household) or declines one;
another county's organiser and the read-only portal cannot decide; the menu leads there."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import csrf_token
from graph_schema.access.models import Role, User
from graph_schema.errors import NotFound
from graph_schema.household.service import get_household
from graph_schema.pairing.requests import get_aux_request, request_aux
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    world.request = request_aux(store=store, household_no="HA1", uscc=world.org_a, reason="助残志愿服务",
                                service="康复", requested_by="org-a").request_id
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def as_user(client: TestClient, world, user: str) -> None:
    client.cookies.clear()
    client.cookies.set("jiedui_session", world.tokens[user])
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def org_sees_ha1(world) -> bool:
    try:
        get_household(store=world.store, household_no="HA1", scope=User("org-a", Role.ORG, uscc=world.org_a).scope)
    except NotFound:
        return False
    return True


def test_an_organiser_approves_with_the_households_consent(client, world):
    as_user(client, world, "organizer-a")
    home = client.get("/").text
    assert '<a href="/aux-requests"' in home  # in the menu
    page = client.get("/aux-requests").text
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", page, re.S))
    assert "HA1" in body and "助残志愿服务" in body and "康复" in body and "待审批" in body
    assert f'action="/aux-requests/{world.request}/approve"' in page
    expected = csrf_token(client.app.state.csrf_secret, world.tokens["organizer-a"])
    assert page.count('method="post"') == page.count(f'name="csrf_token" value="{expected}"') == 3  # + sign out
    assert not org_sees_ha1(world)
    answer = client.post(f"/aux-requests/{world.request}/approve",
                         data={"consent_note": "户主当面同意", "note": "", "back": "/aux-requests"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/aux-requests"
    shown = client.get("/aux-requests").text
    assert "已批准 / approved" in shown and "HA1" in shown
    done = get_aux_request(store=world.store, request_id=world.request)
    assert (done.status.value, done.consent_note, done.decision_note, done.decided_by) == (
        "已批准", "户主当面同意", None, "organizer-a")
    assert org_sees_ha1(world)
    history = client.get("/aux-requests?status=已批准").text
    assert "户主当面同意" in history and "organizer-a" in history
    again = client.post(f"/aux-requests/{world.request}/decline", data={"back": "/aux-requests"},
                        follow_redirects=False)
    assert again.status_code == 303
    assert "申请未能拒绝" in client.get("/aux-requests").text


def test_an_organiser_declines_and_the_household_stays_closed(client, world):
    as_user(client, world, "organizer-a")
    answer = client.post(f"/aux-requests/{world.request}/decline", data={"note": "户主不同意"}, follow_redirects=False)
    assert answer.status_code == 303
    done = get_aux_request(store=world.store, request_id=world.request)
    assert (done.status.value, done.decision_note) == ("已拒绝", "户主不同意")
    assert not org_sees_ha1(world)
    assert "没有符合条件的申请" in client.get("/aux-requests").text  # no pending one left
    too_long = client.post(f"/aux-requests/{world.request}/approve", data={"note": "x" * 501}, follow_redirects=False)
    flashed = client.get("/aux-requests").text
    assert too_long.status_code == 303 and "申请未能批准" in flashed and "最多 500 个字符" in flashed


def test_only_the_households_organisers_decide(client, world):
    as_user(client, world, "organizer-b")
    assert world.request not in client.get("/aux-requests?status=all").text
    assert client.post(f"/aux-requests/{world.request}/approve", data={}).status_code == 404
    as_user(client, world, "portal-a")
    page = client.get("/aux-requests").text
    assert "HA1" in page and 'method="post" action="/aux-requests' not in page
    assert client.post(f"/aux-requests/{world.request}/approve", data={}).status_code == 403
    as_user(client, world, "organizer-a")
    assert client.get("/aux-requests?status=nope").status_code == 422
    assert get_aux_request(store=world.store, request_id=world.request).status.value == "待审批"
    assert not org_sees_ha1(world)
