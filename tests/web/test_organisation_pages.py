"""An organisation's pages, on both engines: its households with what it may see (IDs and phones
masked), a donation or a volunteer service recorded for one of them (and counted by the coverage
report), a pairing asked for by household number and followed, one ended; it never sees a
household outside its pairings, nor learns more of one outside its service region than that the
number it typed is not one it may ask for."""

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
from graph_schema.access.privacy import mask_id, mask_phone
from graph_schema.household.service import get_household, upsert_households
from graph_schema.ledger.service import household_ledger
from graph_schema.monitoring.coverage import coverage
from graph_schema.pagination import PageRequest
from graph_schema.pairing.requests import list_aux_requests
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

TODAY = dt.date.today().isoformat()


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    ha2 = get_household(store=store, household_no="HA2")
    upsert_households(store=store, households=[ha2.model_copy(update={"phone": "13812345678", "address": "东湾村3号"})])
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def as_user(client: TestClient, world, user: str) -> None:
    client.cookies.clear()
    client.cookies.set("jiedui_session", world.tokens[user])
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def test_its_households_show_what_the_organisation_may_see(client, world):
    as_user(client, world, "org-a")
    page = client.get("/aux-pairings").text
    head_id = get_household(store=world.store, household_no="HA2").head_id
    assert "HA2" in page and mask_id(head_id) in page and head_id not in page
    assert mask_phone("13812345678") in page and "13812345678" not in page and "东湾村3号" in page
    assert "HA1" not in page and "HB1" not in page
    assert '/aux-pairings/HA2/record' in page and 'action="/aux-pairings/end"' in page
    nav = re.findall(r'<nav aria-label="主导航.*?</nav>', page, re.S)[0]
    assert re.findall(r'href="([^"]+)"', nav) == ["/aux-pairings", "/aux-requests", "/referrals", "/inbox"]


def test_a_donation_is_recorded_in_yuan_and_the_coverage_counts_it(client, world):
    before = coverage(store=world.store, region="620822", page=PageRequest(1, 1)).items[0]
    as_user(client, world, "org-a")
    answer = client.post("/aux-pairings/HA2/record", data={
        "kind": "捐款捐物", "entry_date": TODAY, "amount": "1,234.50", "in_kind": "100", "note": "冬季取暖物资"},
        follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/aux-pairings"
    assert "已记录捐赠" in client.get("/aux-pairings").text
    donated = [e for e in household_ledger(store=world.store, household_no="HA2") if e.note == "冬季取暖物资"]
    assert [(e.uscc, e.amount_fen, e.in_kind_fen) for e in donated] == [(world.org_a, 123_450, 10_000)]
    after = coverage(store=world.store, region="620822", page=PageRequest(1, 1)).items[0]
    assert after.org_donations == before.org_donations + 1
    assert after.org_donations_fen == before.org_donations_fen + 133_450
    page = client.get("/aux-pairings/HA2/record").text
    assert "冬季取暖物资" in page and "1234.50" in page


def test_a_volunteer_service_keeps_its_volunteers_and_hours(client, world):
    as_user(client, world, "org-a")
    answer = client.post("/aux-pairings/HA2/record", data={
        "kind": "志愿服务", "entry_date": TODAY, "volunteers": "3", "hours": "1.5", "note": "上门理发"},
        follow_redirects=False)
    assert answer.status_code == 303
    served = [e for e in household_ledger(store=world.store, household_no="HA2") if e.note == "上门理发"]
    assert [(e.kind.value, e.volunteers, e.minutes) for e in served] == [("志愿服务", 3, 90)]
    result = coverage(store=world.store, region="620822", page=PageRequest(1, 1)).items[0]
    assert (result.volunteers, result.volunteer_minutes) == (3, 270)


@pytest.mark.parametrize("form, words", [
    ({"kind": "捐款捐物"}, "金额或物资折合"),
    ({"kind": "捐款捐物", "amount": "12.345"}, "两位"),
    ({"kind": "捐款捐物", "amount": "-5"}, "负"),
    ({"kind": "志愿服务", "volunteers": "3"}, "志愿者人数和服务时长"),
    ({"kind": "志愿服务", "volunteers": "3", "hours": "0.01"}, "整分钟"),
    ({"kind": "志愿服务", "volunteers": "0", "hours": "2"}, "10000"),
    ({"kind": "志愿服务", "volunteers": "two", "hours": "2"}, "整数"),
    ({"kind": "入户走访", "amount": "5"}, "捐款捐物或志愿服务"),
    ({"kind": "资助", "amount": "5"}, "捐款捐物或志愿服务"),
    ({"kind": "捐款捐物", "amount": "5", "entry_date": "2999-01-01"}, "不能晚于今天"),
    ({"kind": "捐款捐物", "amount": "5", "entry_date": "yesterday"}, "不是日期"),
    ({"kind": "捐款捐物", "amount": "5", "note": "长" * 501}, "500"),
])
def test_bad_records_come_back_to_the_form_and_change_nothing(client, world, form, words):
    as_user(client, world, "org-a")
    before = len(household_ledger(store=world.store, household_no="HA2"))
    answer = client.post("/aux-pairings/HA2/record", data={"entry_date": TODAY} | form, follow_redirects=False)
    assert answer.status_code == 422 and words in answer.text.split('role="alert"')[1].split("</p>")[0]
    assert len(household_ledger(store=world.store, household_no="HA2")) == before


def test_households_outside_its_pairings_answer_as_unknown_ones(client, world):
    as_user(client, world, "org-a")
    for number in ("HA1", "HB1", "H-NOBODY"):
        for answer in (client.get(f"/households/{number}"), client.get(f"/aux-pairings/{number}/record"),
                       client.post(f"/aux-pairings/{number}/record", data={"kind": "捐款捐物", "entry_date": TODAY,
                                                                          "amount": "5"}),
                       client.post("/aux-pairings/end", data={"household_no": number, "reason": "完成"})):
            assert answer.status_code == 404, (number, answer.request.url)
            assert f"家庭「{number}」不存在" in answer.text
    assert len(household_ledger(store=world.store, household_no="HA1")) == 2


def test_a_pairing_is_asked_for_by_number_followed_and_withdrawn(client, world):
    as_user(client, world, "org-a")
    page = client.get("/aux-requests").text
    assert 'name="household_no"' in page and "还没有申请" in page and "HA1" not in page  # no browsing of names
    unknown = client.post("/aux-requests", data={"household_no": "H-NOBODY", "reason": "助残"})
    outside = client.post("/aux-requests", data={"household_no": "HB1", "reason": "助残"})
    assert unknown.status_code == outside.status_code == 404
    assert unknown.text.replace("H-NOBODY", "#") == outside.text.replace("HB1", "#")  # no oracle
    assert client.post("/aux-requests", data={"household_no": "HA1", "reason": ""}).status_code == 422
    asked = client.post("/aux-requests", data={"household_no": "HA1", "reason": "助残理发", "service": "上门理发"},
                        follow_redirects=False)
    assert asked.status_code == 303
    twice = client.post("/aux-requests", data={"household_no": "HA1", "reason": "再次申请"})
    assert twice.status_code == 409 and "审批中" in twice.text
    page = client.get("/aux-requests").text
    assert "HA1" in page and "助残理发" in page and "待审批" in page
    assert client.get("/households/HA1").status_code == 404  # still closed until an organiser approves
    (request,) = list_aux_requests(store=world.store).items
    assert client.post(f"/aux-requests/{request.request_id}/withdraw", follow_redirects=False).status_code == 303
    assert "已撤回" in client.get("/aux-requests").text
    as_user(client, world, "organizer-a")
    assert client.post("/aux-requests", data={"household_no": "HA1", "reason": "x"}).status_code == 403


def test_ending_a_pairing_closes_the_household(client, world):
    as_user(client, world, "org-a")
    assert client.get("/households/HA2").status_code == 200
    no_reason = client.post("/aux-pairings/end", data={"household_no": "HA2", "reason": " "}, follow_redirects=False)
    assert no_reason.status_code == 303 and client.get("/households/HA2").status_code == 200
    done = client.post("/aux-pairings/end", data={"household_no": "HA2", "reason": "服务结束"}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get("/aux-pairings").text
    assert "已结束" in page and "东湾村3号" not in page and "/aux-pairings/HA2/record" not in page
    assert client.get("/households/HA2").status_code == 404
