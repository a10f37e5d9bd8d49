"""The console's list pages and household page, through the app as a browser sees it (HTML), on
both engines: the small world of the API tests plus HA3, an unpaired priority household of county
A whose member's certificate expires within a month."""

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
from factories import VILLAGE, household, person
from graph_schema.access.audit import audit_entries
from graph_schema.enums import Department
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.listing.models import Listing
from graph_schema.listing.service import upsert_listings
from graph_schema.identifiers import mask_id_number
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

PAGES = ["/unpaired", "/overdue", "/problems", "/benefit-gaps", "/cert-expiry", "/cadre-load", "/households/HA1",
         "/aux-requests"]


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    upsert_households(store=store, households=[household("HA3", VILLAGE, tekun=True)])
    expiring = person("HA3", grade=2, cert_expiry=dt.date.today() + dt.timedelta(days=20))
    upsert_persons(store=store, persons=[expiring])
    world.persons["HA3"] = expiring.id_number
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def sign_in(client: TestClient, world, user: str) -> None:
    answer = client.post("/login", data={"token": world.tokens[user], "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303
    # what the page's forms and htmx send with every POST
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def rows(html: str) -> str:
    """The table bodies of a page (where the list rows are)."""
    return "".join(re.findall(r"<tbody>(.*?)</tbody>", html, re.S))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_an_organiser(client, world, path):
    sign_in(client, world, "organizer-a")
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert html.count("<h1") == 1
    assert "<caption>" in html and 'scope="col"' in html
    # every control has a label
    for control_id in re.findall(r'<(?:select|textarea|input)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id


def test_lists_show_the_expected_rows(client, world):
    sign_in(client, world, "organizer-a")
    unpaired = rows(client.get("/unpaired").text)
    assert "/households/HA3" in unpaired and "HB1" not in unpaired and "HA1" not in unpaired
    assert "建议结对" in unpaired
    problems = rows(client.get("/problems").text)
    assert "P1" in problems and "/households/HA1" in problems and "解决 / close" in problems
    certs = rows(client.get("/cert-expiry").text)
    assert mask_id_number(world.persons["HA3"]) in certs and "待提醒 1个月" in certs
    assert world.persons["HA3"] not in certs


def test_unpaired_filters(client, world):
    sign_in(client, world, "organizer-a")
    page = client.get("/unpaired").text
    assert '<option value="620822"' in page and '<option value="620822100"' in page
    assert "/households/HA3" in rows(client.get("/unpaired", params={"region": "620822100", "risk": ""}).text)
    level = re.search(r"/households/HA3.*?<td>[^<]*</td><td>[^<]*</td>\s*<td>(.)</td>", page, re.S).group(1)
    assert "/households/HA3" in rows(client.get("/unpaired", params={"risk": level}).text)
    other = next(x for x in "高中低" if x != level)
    assert "/households/HA3" not in rows(client.get("/unpaired", params={"risk": other}).text)
    assert "/households/HA3" not in rows(client.get("/unpaired", params={"reason": "没有这个原因"}).text)
    outside = client.get("/unpaired", params={"region": "620802"})
    assert outside.status_code == 404 and outside.headers["content-type"].startswith("text/html")


def test_household_page(client, world):
    sign_in(client, world, "organizer-a")
    html = client.get("/households/HA1").text
    assert world.persons["HA1"] in html  # organisers see ID numbers
    assert "CA1" in html and "P1" in html and "轮椅损坏" in html and "入户走访" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg and "CA1" in svg
    assert 'class="edge active cadre"' in svg
    network_list = html.split('id="net-list-h"')[1]
    assert "结对干部" in network_list and "CA1" in network_list
    aux = client.get("/households/HA2").text
    assert world.org_a in aux and "辅助结对组织" in aux


def test_the_network_shows_what_the_members_receive_by_the_department_lists(client, world):
    day = dt.date.today()
    upsert_listings(store=world.store, listings=[
        Listing(dept=Department.CIVIL_AFFAIRS, item="困难残疾人生活补贴", id_number=world.persons["HA1"], name="测试人",
                valid_from=day.replace(day=1) - dt.timedelta(days=400)),
        Listing(dept=Department.CIVIL_AFFAIRS, item="低保", id_number=world.persons["HA1"], name="测试人",
                valid_from=day.replace(day=1) - dt.timedelta(days=800),
                valid_to=day.replace(day=1) - dt.timedelta(days=400))])
    sign_in(client, world, "organizer-a")
    html = client.get("/households/HA1").text
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'class="node service active"' in svg and 'class="node service ended"' in svg
    network_list = html.split('id="net-list-h"')[1]
    assert "享受的服务 困难残疾人生活补贴" in network_list and "进行中" in network_list
    assert "享受的服务 低保" in network_list and "已结束" in network_list


def test_household_page_masks_ids_for_the_portal(client, world):
    sign_in(client, world, "portal-a")
    html = client.get("/households/HA1").text
    assert world.persons["HA1"] not in html
    assert mask_id_number(world.persons["HA1"]) in html


@pytest.mark.parametrize("path", ["/households/HB1", "/households/NOPE"])
def test_household_out_of_scope_or_missing_is_404(client, world, path):
    sign_in(client, world, "organizer-a")
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html") and "<h1" in answer.text


def test_household_page_reads_are_audited(client, world):
    sign_in(client, world, "organizer-a")
    assert client.get("/households/HA1").status_code == 200
    client.app.state.services.audit.flush()
    found = audit_entries(store=world.store, user_id="organizer-a", page=PageRequest(1, 1000)).items
    kinds = {e.object_kind for e in found if e.operation == "GET /households/{household_no}" and e.action == "read"}
    assert kinds == {"household", "person"}


def test_portal_reads_but_cannot_change(client, world):
    sign_in(client, world, "portal-a")
    unpaired = client.get("/unpaired")
    assert unpaired.status_code == 200 and "/households/HA3" in unpaired.text
    assert "建议结对" not in unpaired.text and "/confirm" not in unpaired.text
    assert "解决 / close" not in client.get("/problems").text
    assert "/cert-expiry/remind" not in client.get("/cert-expiry").text
    assert client.get("/unpaired/HA3/suggest").status_code == 403
    assert client.post("/unpaired/HA3/confirm", data={"back": "/unpaired"}).status_code == 403
    assert client.post("/problems/P1/close", data={"household_no": "HA1", "note": "x"}).status_code == 403
    masked = mask_id_number(world.persons["HA3"])
    assert client.post("/cert-expiry/remind", data={"one": f"HA3|{masked}"}).status_code == 403
    assert "/households/HA3" in rows(client.get("/unpaired").text)
    assert "P1" in rows(client.get("/problems").text)


@pytest.mark.parametrize("user", ["cadre-a", "org-a"])
def test_cadres_and_orgs_get_403_on_the_lists(client, world, user):
    sign_in(client, world, user)
    for path in ("/unpaired", "/overdue", "/problems", "/cert-expiry"):
        answer = client.get(path)
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")


def test_suggest_and_confirm_pairs_the_household(client, world):
    sign_in(client, world, "organizer-a")
    fragment = client.get("/unpaired/HA3/suggest", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<h1" not in fragment.text
    assert "建议干部" in fragment.text and "确认 / confirm" in fragment.text
    cadre = re.search(r"（(C[A-Z0-9]+)）</strong>", fragment.text).group(1)
    page = client.get("/unpaired/HA3/suggest")
    assert page.text.count("<h1") == 1
    answer = client.post("/unpaired/HA3/confirm", data={"back": "/unpaired"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/unpaired"
    after = client.get("/unpaired")
    assert "已结对" in after.text and "HA3" in after.text and cadre in after.text  # the message
    assert "/households/HA3" not in rows(after.text)
    assert "进行中" in client.get("/households/HA3").text
    assert "已结对" not in client.get("/unpaired").text  # the message shows once


def test_closing_a_problem_removes_it(client, world):
    sign_in(client, world, "organizer-a")
    refused = client.post("/problems/P1/close", data={"household_no": "HA1", "note": "  "})
    assert refused.status_code == 200 and "请填写" in refused.text and "P1" in rows(refused.text)
    done = client.post("/problems/P1/close", data={"household_no": "HA1", "note": "轮椅已修好"})
    assert done.status_code == 200 and "已解决" in done.text
    assert "P1" not in rows(done.text)
    household_page = client.get("/households/HA1").text
    assert "轮椅已修好" in household_page and "解决困难" in household_page


def test_closing_needs_a_responsible_cadre(client, world):
    from graph_schema.enums import LedgerKind
    from graph_schema.ledger.models import LedgerEntry
    from graph_schema.ledger.service import log_entry

    log_entry(store=world.store, entry=LedgerEntry(entry_date=dt.date.today(), household_no="HA2", uscc=world.org_a,
                                                   kind=LedgerKind.REPORT_PROBLEM, problem_no="P2", note="缺药"))
    sign_in(client, world, "organizer-a")
    assert "请先结对" in client.get("/problems").text
    refused = client.post("/problems/P2/close", data={"household_no": "HA2", "note": "已送药"})
    assert "没有结对干部" in refused.text and "P2" in rows(refused.text)


def test_recording_a_reminder_shows_it_sent(client, world):
    sign_in(client, world, "organizer-a")
    masked = mask_id_number(world.persons["HA3"])
    done = client.post("/cert-expiry/remind", data={"one": f"HA3|{masked}", "region": "620822",
                                                    "back": "/cert-expiry"})
    assert done.status_code == 200 and "已记录 2 条提醒" in done.text
    body = rows(done.text)
    assert "已提醒 6个月、已提醒 1个月" in body and "待提醒" not in body
    again = client.post("/cert-expiry/remind", data={"every": "1", "region": "620822"})
    assert "已记录 0 条提醒" in again.text
