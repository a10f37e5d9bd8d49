"""The console's service pages, on both engines: the two rates on the dashboard, the unmet needs and
overdue referrals lists for organisers (masked ID numbers, the providers in reach, audited), and
neither list for a portal, a cadre or an organisation."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from console_client import sign_in
from graph_schema.access.audit import audit_entries
from graph_schema.service.deliveries import record_delivery
from graph_schema.service.models import Delivery, Need, Offer
from graph_schema.service.needs import record_needs
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, refer

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

TODAY = dt.date.today()
LONG_AGO = TODAY - dt.timedelta(days=200)  # past every service's time limit


@pytest.fixture
def world(store):
    """HA1's member served (KF01 this year), HA2's waiting since long ago, HB1's referred long ago
    and overdue; the organisation of county A offers KF01 over it."""
    w = api_world.build_world(store)
    upsert_offers(store=store, offers=[Offer(uscc=w.org_a, service_code="KF01", region_code="620822000000")])
    needs = [Need(id_number=w.persons[h], service_code="KF01", assessed_on=LONG_AGO) for h in ("HA1", "HA2", "HB1")]
    record_needs(store=store, needs=needs)
    record_delivery(store=store, delivery=Delivery(id_number=w.persons["HA1"], service_code="KF01", delivered_on=TODAY,
                                                   dept="残联"))
    refer(store=store, request=ReferralRequest(id_number=w.persons["HB1"], need_id=needs[2].need_id,
                                               provider_dept="卫健", made_on=LONG_AGO, made_by="organiser"))
    return w


@pytest.fixture
def client(world):
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def rows(html: str) -> str:
    return "".join(re.findall(r"<tbody>(.*?)</tbody>", html, re.S))


def test_the_dashboard_shows_the_two_rates_and_the_service_lists_for_organisers(client, world):
    sign_in(client, world, "organizer-a")
    html = client.get("/").text
    assert "基本康复服务率" in html and "辅助器具适配率" in html
    assert "50.0%" in html and "（1 / 2，本年 this year）" in html  # HA1 served, HA2 waiting
    assert 'href="/unmet-needs"' in html and 'href="/overdue-referrals"' in html


def test_the_unmet_needs_list_names_who_waits_and_who_could_help(client, world):
    sign_in(client, world, "organizer-a")
    answer = client.get("/unmet-needs")
    assert answer.status_code == 200
    body = rows(answer.text)
    assert "HA2" in body and "HA1" not in body and "HB1" not in body
    number = world.persons["HA2"]
    assert number not in answer.text and number[:6] + "********" + number[14:] in body
    assert f"测试组织（{world.org_a}）：不限" in body
    client.app.state.services.audit.flush()
    assert any("HA2" in e.object_keys for e in audit_entries(store=world.store, user_id="organizer-a").items)


def test_the_overdue_referrals_list_is_per_provider(client, world):
    sign_in(client, world, "organizer-b")
    body = rows(client.get("/overdue-referrals").text)
    assert "HB1" in body and "卫健" in body and "待接收" in body
    sign_in(client, world, "organizer-a")
    assert "HB1" not in rows(client.get("/overdue-referrals").text)
    assert client.get("/overdue-referrals", params={"region": "620802"}).status_code == 404


@pytest.mark.parametrize("user", ["portal-a", "cadre-a", "org-a"])
def test_the_lists_that_name_needs_are_for_organisers_only(client, world, user):
    sign_in(client, world, user)
    for path in ("/unmet-needs", "/overdue-referrals"):
        assert client.get(path).status_code == 403, (user, path)
    if user == "portal-a":
        html = client.get("/").text
        assert "基本康复服务率" in html and 'href="/unmet-needs"' not in html
