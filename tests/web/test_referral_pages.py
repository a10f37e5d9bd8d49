"""The referrals sent to an organisation, in the console, on both engines: it sees only its own
(ID numbers masked), accepts or turns one down with a reason, records the service it gave (which
completes the referral and shows among its deliveries); other roles and other organisations are
refused or answered as for an unknown referral, and bad input comes back with a clear message.

The world (tests/api/conftest.py): county A holds HA1 (paired with cadre CA1) and HA2 (auxiliary
pairing with organisation OA); county B holds HB1. Here OA offers KF01 over county A and the
organiser of county A refers HA1's member to it.
"""

from __future__ import annotations

import datetime as dt
from html import unescape
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import csrf_token
from graph_schema.access.models import Role
from graph_schema.access.privacy import mask_id
from graph_schema.access.service import add_user, issue_token
from graph_schema.enums import NeedSource
from graph_schema.service.deliveries import deliveries_in
from graph_schema.service.models import Need, Offer
from graph_schema.service.needs import record_need
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, get_referral_in, refer
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

TODAY = dt.date.today()
DAY = TODAY - dt.timedelta(days=10)


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    upsert_offers(store=store, offers=[Offer(uscc=world.org_a, service_code="KF01", region_code="620822000000")])
    need_id = record_need(store=store, need=Need(id_number=world.persons["HA1"], service_code="KF01", assessed_on=DAY,
                                                 source=NeedSource.VISIT))
    world.referral = refer(store=store, request=ReferralRequest(
        id_number=world.persons["HA1"], need_id=need_id, provider_uscc=world.org_a, made_on=DAY,
        made_by="organizer-a")).referral_id
    add_user(store=store, user_id="org-b", role=Role.ORG, uscc=world.org_b)
    world.tokens["org-b"] = issue_token(store=store, user_id="org-b")
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def as_user(client: TestClient, world, user: str) -> None:
    client.cookies.clear()
    client.cookies.set("jiedui_session", world.tokens[user])
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def referral(world):
    return world.store.read(lambda tx: get_referral_in(tx, world.referral))


def alert(html: str) -> str:
    return unescape(html.split('role="alert"')[1].split("</p>")[0])


def test_the_organisation_sees_its_referrals_with_the_id_masked(client, world):
    as_user(client, world, "org-a")
    page = client.get("/referrals")
    assert page.status_code == 200
    number = world.persons["HA1"]
    assert mask_id(number) in page.text and number not in page.text and "待接收" in page.text
    assert f"/referrals/{world.referral}/accept" in page.text and "本人拒绝" in page.text
    assert 'href="/referrals" aria-current="page"' in page.text  # its menu has the page
    as_user(client, world, "org-b")  # another organisation: none of them, nothing to act on
    other = client.get("/referrals").text
    assert mask_id(number) not in other and "没有转介" in other
    for path in (f"/referrals/{world.referral}/deliver",):
        assert client.get(path).status_code == 404
    for action in ("accept", "reject"):
        answer = client.post(f"/referrals/{world.referral}/{action}", data={"reason": "本人拒绝"})
        assert answer.status_code == 404 and "不存在" in answer.text
    assert referral(world).status.value == "待接收"


@pytest.mark.parametrize("user", ["admin", "organizer-a", "portal-a", "cadre-a"])
def test_other_roles_may_not_open_the_organisations_pages(client, world, user):
    as_user(client, world, user)
    assert client.get("/referrals").status_code == 403
    assert client.get(f"/referrals/{world.referral}/deliver").status_code == 403
    assert client.post(f"/referrals/{world.referral}/accept").status_code == 403
    assert referral(world).status.value == "待接收"


def test_a_post_without_the_csrf_token_changes_nothing(client, world):
    as_user(client, world, "org-a")
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/referrals/{world.referral}/accept").status_code == 403
    assert referral(world).status.value == "待接收"


def test_accepted_then_delivered_the_referral_is_done_and_the_delivery_listed(client, world):
    as_user(client, world, "org-a")
    accepted = client.post(f"/referrals/{world.referral}/accept", follow_redirects=False)
    assert accepted.status_code == 303 and referral(world).status.value == "已接收"
    form = client.get(f"/referrals/{world.referral}/deliver")
    assert form.status_code == 200 and 'value="KF01" selected' in form.text
    done = client.post(f"/referrals/{world.referral}/deliver", data={
        "service_code": "KF01", "delivered_on": TODAY.isoformat(), "quantity": "2", "outcome": "完成",
        "item": "上门康复训练"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/referrals"
    assert referral(world).status.value == "已完成"
    given = world.store.read(lambda tx: deliveries_in(tx, [world.persons["HA1"]]))[world.persons["HA1"]]
    assert [(d.uscc, d.quantity, d.item) for d in given] == [(world.org_a, 2, "上门康复训练")]
    page = client.get("/referrals").text
    assert "已完成" in page and "上门康复训练" in page and "已记录服务" in page


def test_turning_one_down_needs_a_reason_from_the_list(client, world):
    as_user(client, world, "org-a")
    refused = client.post(f"/referrals/{world.referral}/reject", data={"reason": "不想做"}, follow_redirects=True)
    assert "请从列表中选择拒绝原因" in refused.text and "choose a reason" in refused.text
    assert referral(world).status.value == "待接收"
    done = client.post(f"/referrals/{world.referral}/reject", data={"reason": "机构无能力", "note": "人手不足"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert (referral(world).status.value, referral(world).reason.value) == ("已拒绝", "机构无能力")


@pytest.mark.parametrize("form, words", [
    ({"delivered_on": "tomorrow"}, "不是日期"),
    ({"delivered_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "不能晚于今天"),
    ({"delivered_on": (DAY - dt.timedelta(days=1)).isoformat()}, "早于转介日期"),
    ({"quantity": "two"}, "应为整数"),
    ({"quantity": "0"}, "数量"),
    ({"outcome": "maybe"}, "请选择结果"),
    ({"service_code": "JY01"}, "不是「"),
    ({"item": "长" * 501}, "500"),
])
def test_bad_deliveries_come_back_to_the_form_in_both_languages(client, world, form, words):
    as_user(client, world, "org-a")
    data = {"service_code": "KF01", "delivered_on": TODAY.isoformat(), "quantity": "1", "outcome": "完成"} | form
    answer = client.post(f"/referrals/{world.referral}/deliver", data=data)
    assert answer.status_code == 422
    message = alert(answer.text)
    assert words in message and "field '" in message  # named in Chinese and in English
    assert world.store.read(lambda tx: deliveries_in(tx, [world.persons["HA1"]]))[world.persons["HA1"]] == []
    assert referral(world).status.value == "待接收"
