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
from console_client import sign_in
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
    assert "<caption" in html and 'scope="col"' in html
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
    assert '<option value="620822000000"' in page and '<option value="620822100000"' in page
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
def test_cadres_and_orgs_get_403_on_the_lists_with_a_way_out(client, world, user):
    sign_in(client, world, user)
    home = {"cadre-a": "/mine", "org-a": "/aux-pairings"}[user]
    for path in ("/unpaired", "/overdue", "/problems", "/cert-expiry"):
        answer = client.get(path)
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
        assert menu_links(answer.text) == MENU[user]  # the menu: only what the role may open
        assert f'<a href="{home}">回到首页' in answer.text
        english = re.search(r'<p lang="en">(.*?)</p>', answer.text).group(1)
        assert "may not" in english and not CJK.search(english), english
    api = client.get("/api/v1/reports", headers=world.auth(user)).json()  # the same error through REST
    assert api["code"] == "FORBIDDEN" and not CJK.search(api["message_en"]) and CJK.search(api["message"])


# --- the role-aware menu and each role's start page ------------------------------------------------

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ORGANISER_MENU = ["/", "/unpaired", "/overdue", "/problems", "/benefit-gaps", "/cert-expiry", "/cadre-load",
                  "/unmet-needs", "/overdue-referrals", "/imports", "/matching", "/aux-requests", "/accounts",
                  "/join-requests", "/inbox"]
MENU = {
    "admin": ORGANISER_MENU,
    "organizer-a": ORGANISER_MENU,
    "portal-a": ["/", "/unpaired", "/overdue", "/problems", "/benefit-gaps", "/cert-expiry", "/cadre-load",
                 "/aux-requests", "/inbox"],
    "cadre-a": ["/mine", "/inbox"],
    "org-a": ["/aux-pairings", "/aux-requests", "/referrals", "/inbox"],
}


def menu_links(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="主导航 / main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.parametrize("user", list(MENU))
def test_the_menu_shows_each_role_what_it_may_open_and_each_link_opens(client, world, user):
    sign_in(client, world, user)
    start = client.get("/")  # where signing in lands
    assert start.status_code == 200 and start.url.path == MENU[user][0]
    assert menu_links(start.text) == MENU[user]
    for path in MENU[user]:
        answer = client.get(path)
        assert answer.status_code == 200, (user, path)
        assert menu_links(answer.text) == MENU[user]
        assert re.search(rf'<a href="{re.escape(path)}" aria-current="page">', answer.text), (user, path)


def test_the_organisation_starts_on_its_auxiliary_pairings(client, world):
    sign_in(client, world, "org-a")
    body = rows(client.get("/aux-pairings").text)
    assert "/households/HA2" in body and "进行中" in body and "HA1" not in body
    assert client.get("/households/HA2").status_code == 200


def test_the_portal_reads_the_dashboard_without_a_change_to_make(client, world):
    sign_in(client, world, "portal-a")
    page = client.get("/").text
    assert 'method="post"' not in page.split("</header>")[1]  # signing out, in the header, is the only form
    assert "/imports" not in page and "/matching" not in page


def test_errors_of_the_console_are_pages_not_json(client, world):
    sign_in(client, world, "organizer-a")
    for path, status in (("/no-such-page", 404), ("/unpaired?page=abc", 422), ("/logout", 405)):
        answer = client.get(path)
        assert answer.status_code == status and answer.headers["content-type"].startswith("text/html"), path
        assert menu_links(answer.text) == MENU["organizer-a"]
    english = client.get("/unpaired?page=abc").text
    assert "invalid request fields: query.page" in english


# --- one language per message, two on every heading ------------------------------------------------

@pytest.mark.parametrize("path", PAGES + ["/", "/imports", "/matching"])
def test_every_heading_and_column_title_is_bilingual(client, world, path):
    sign_in(client, world, "organizer-a")
    html = client.get(path).text
    titles = re.findall(r'<th scope="col">(.*?)</th>', html, re.S) + re.findall(r"<h[12][^>]*>(.*?)</h[12]>", html, re.S)
    assert titles
    for title in titles:
        text = re.sub(r"<[^>]+>", "", title)
        assert CJK.search(text) and re.search(r"[A-Za-z]{2}", text), (path, text)


def test_flash_messages_say_each_thing_in_each_language(client, world):
    sign_in(client, world, "organizer-a")
    page = client.post("/problems/P1/close", data={"household_no": "HA1", "note": " "}).text
    message = re.search(r'<p class="flash error"[^>]*>(.*?)</p>', page).group(1)
    zh, _, en = message.partition(" / ")
    assert "P1" in zh and "P1" in en and not CJK.search(en), message


# --- region codes: 12 digits, with the name where it is known ------------------------------------

@pytest.mark.parametrize("path", PAGES + ["/", "/imports", "/matching"])
def test_region_codes_are_written_with_their_12_digits(client, world, path):
    sign_in(client, world, "organizer-a")
    html = client.get(path).text
    shown = re.sub(r"<[^>]+>", " ", html) + " ".join(re.findall(r'(?:value|href)="([^"]*)"', html))
    codes = re.findall(r"(?<![0-9A-Za-z*])62[0-9]+(?![0-9A-Za-z*])", shown)
    assert codes, path
    odd = {code for code in codes if len(code) not in (12, 18, 20)}  # region codes; ID and certificate numbers
    assert not odd, (path, sorted(odd))


# --- the dashboard's overdue tile ---------------------------------------------------------------------

def test_the_overdue_tile_counts_households_a_cadre_has_had_a_whole_quarter(client, world):
    from graph_schema.pairing.service import end_pairing, pair

    day = dt.date.today()
    upsert_households(store=world.store, households=[household(no, VILLAGE, tekun=True) for no in ("HA4", "HA5")])
    pair(store=world.store, household_no="HA4", cadre_no="CA2", started_on=day)  # paired today: not yet due
    # HA5: a first cadre for a year, then another since 100 days, never a visit: two rows, one household
    pair(store=world.store, household_no="HA5", cadre_no="CA1", started_on=day - dt.timedelta(days=400))
    end_pairing(store=world.store, household_no="HA5", reason="调整", ended_on=day - dt.timedelta(days=100))
    pair(store=world.store, household_no="HA5", cadre_no="CA2", started_on=day - dt.timedelta(days=100))
    sign_in(client, world, "organizer-a")
    listed = rows(client.get("/overdue").text)
    assert all(f"/households/{no}" in listed for no in ("HA3", "HA4", "HA5"))  # the report's rows stay
    tile = re.search(r'<span class="figure">(\d+)</span> 走访逾期', client.get("/").text).group(1)
    assert tile == "1"  # HA5 once; not HA3 (no cadre) nor HA4 (paired today)
    due = rows(client.get("/overdue", params={"due": "true"}).text)
    assert due.count("/households/") == 1 and "/households/HA5" in due and "CA2" in due


# --- the suggestion: the cadre's own load ---------------------------------------------------------------

def test_the_suggestion_shows_the_cadres_load_now_and_after_confirming(client, world):
    from graph_schema.pairing.service import cadre_load

    sign_in(client, world, "organizer-a")
    fragment = client.get("/unpaired/HA3/suggest", headers={"HX-Request": "true"}).text
    cadre_no = re.search(r"（(C[A-Z0-9]+)）</strong>", fragment).group(1)
    now = cadre_load(store=world.store, cadre_nos=[cadre_no])[cadre_no]
    shown = re.search(r"the cadre's pairings now：(\d+) / (\d+)；确认后 / after confirming：(\d+) / \2", fragment)
    assert shown and (int(shown.group(1)), int(shown.group(3))) == (now, now + 1), fragment


# --- the proposal: names and pages ---------------------------------------------------------------------

def test_a_proposal_names_households_and_cadres_and_pages_its_changes(client, world, monkeypatch):
    import time

    from api.web import matching

    monkeypatch.setattr(matching, "PAGE_SIZE", 1)
    upsert_households(store=world.store, households=[household("HA4", VILLAGE, tekun=True, head_name="第四户主")])
    sign_in(client, world, "organizer-a")
    started = client.post("/matching", data={"region": "620822", "reach": "county"}, follow_redirects=False)
    job = started.headers["location"]
    for _ in range(300):
        page = client.get(job).text
        if 'id="changed-heading"' in page:
            break
        time.sleep(0.1)
    assert page.count('name="household"') == 1  # one change per page here
    assert "第 2 页" in page and "page=2" in page
    second = client.get(job, params={"page": 2}).text
    picked = set(re.findall(r'name="household" value="([^"]+)"', page + second))
    assert picked == {"HA3", "HA4"}
    assert "第四户主" in page + second and "测试干部（CA" in page + second  # heads and cadres by name


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
