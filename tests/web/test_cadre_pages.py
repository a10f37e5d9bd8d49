"""The cadre's pages, through the app as the phone's browser sees them, on both engines: the small
world of the API tests, plus two more households paired with cadre CA1 (HA4, paired 200 days
ago and never visited: overdue; HA5, paired 90 days ago: due today). CA1 visited HA1 30 days ago
and HA1 has problem P1 open.

Every write goes through the operations of the APIs: the cadre's own households only, in the
cadre's own name, audited; a household transferred away answers as one that never existed."""

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
from api.web.cadre import problem_number
from factories import VILLAGE, household, person
from graph_schema.access.audit import audit_entries
from graph_schema.cadre.caseload import Standing, quarter_end, standing
from graph_schema.enums import LedgerKind
from graph_schema.enums import NeedSource
from graph_schema.household.service import members_in, upsert_households, upsert_persons
from graph_schema.service.needs import assessments_in
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import household_ledger, household_problems, log_entries
from graph_schema.monitoring.visits import overdue_visits
from graph_schema.pagination import PageRequest
from graph_schema.pairing import flows
from graph_schema.pairing.service import pair
from graph_schema.store import GraphStore

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

TODAY = dt.date.today()
JSON = {"Accept": "application/json"}


@pytest.fixture
def world(store: GraphStore):
    world = api_world.build_world(store)
    upsert_households(store=store, households=[household("HA4", VILLAGE, tekun=True, phone="13812345678"),
                                               household("HA5", VILLAGE, dibao=True)])
    upsert_persons(store=store, persons=[person("HA4", grade=1, needs=["康复", "辅具"]), person("HA5")])
    pair(store=store, household_no="HA4", cadre_no="CA1", started_on=TODAY - dt.timedelta(days=200))
    pair(store=store, household_no="HA5", cadre_no="CA1", started_on=TODAY - dt.timedelta(days=90))
    return world


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def cards(html: str) -> list[str]:
    """The household numbers of /mine's cards, in page order."""
    return re.findall(r'<li class="case \w+">\s*<h2><a href="/mine/([^"]+)"', html)


def visit(client: TestClient, household_no: str, key: str | None = None, **form: str):
    headers = JSON | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/mine/{household_no}/visits", data={"kind": LedgerKind.VISIT.value} | form, headers=headers)


# --- my households -----------------------------------------------------------------------------------

def test_my_households_come_ordered_by_when_a_visit_is_due(client, world):
    sign_in(client, world, "cadre-a")
    page = client.get("/mine")
    assert page.status_code == 200
    assert cards(page.text) == ["HA4", "HA5", "HA1"]  # overdue 110 days; due today; visited 30 days ago
    ha4 = page.text.split('href="/mine/HA4"')[1].split("</li>")[0]
    assert "逾期 110 天" in ha4 and "overdue by 110 days" in ha4 and "从未走访" in ha4
    assert "康复、辅具" in ha4 and "肢体一级" in ha4  # needs and the member's disability
    ha5 = page.text.split('href="/mine/HA5"')[1].split("</li>")[0]
    assert "本季度应走访" in ha5 and f"应于 {TODAY} 前" in ha5
    ha1 = page.text.split('href="/mine/HA1"')[1].split("</li>")[0]
    assert "P1 轮椅损坏" in ha1 and (TODAY - dt.timedelta(days=30)).isoformat() in ha1
    assert "HA2" not in page.text and "HB1" not in page.text  # not the cadre's
    assert 'id="outbox-count"' in page.text and 'data-user="cadre-a"' in page.text
    assert '<script src="/static/cadre.js" defer></script>' in page.text


def test_the_examples_in_the_docstrings_hold():
    import doctest

    from api.web import cadre
    from graph_schema.cadre import caseload
    from graph_schema.monitoring import visits

    for module in (cadre, caseload, visits):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_the_due_rule_and_the_standings():
    assert quarter_end(dt.date(2026, 12, 6)) == dt.date(2026, 12, 31)
    assert quarter_end(dt.date(2026, 7, 1)) == dt.date(2026, 9, 30)
    assert standing(dt.date(2026, 12, 5), dt.date(2026, 12, 6)) is Standing.OVERDUE
    assert standing(dt.date(2026, 12, 6), dt.date(2026, 12, 6)) is Standing.THIS_QUARTER  # due today: in time
    assert standing(dt.date(2026, 12, 31), dt.date(2026, 12, 6)) is Standing.THIS_QUARTER
    assert standing(dt.date(2027, 1, 1), dt.date(2026, 12, 6)) is Standing.LATER


def test_what_the_pages_show_is_recorded_as_read(client, world):
    sign_in(client, world, "cadre-a")
    client.get("/mine")
    client.get("/mine/HA4")
    client.app.state.services.audit.flush()
    reads = audit_entries(store=world.store, user_id="cadre-a", page=PageRequest(1, 100)).items
    assert any(e.operation == "GET /mine" and e.object_kind == "household" and e.object_keys == ["HA1", "HA4", "HA5"]
               for e in reads)
    assert any(e.operation == "GET /mine/{household_no}" and e.object_keys == ["HA4"] for e in reads)
    assert any(e.operation == "GET /mine/{household_no}" and e.object_kind == "person" for e in reads)


def test_the_household_page_offers_the_form_dated_today_and_masks_the_phone(client, world):
    sign_in(client, world, "cadre-a")
    page = client.get("/mine/HA4").text
    assert re.search(rf'<input type="date" id="entry_date" name="entry_date" value="{TODAY}" max="{TODAY}"', page)
    assert 'value="入户走访" checked' in page and 'value="联系交流"' in page
    assert "138****5678" in page and "13812345678" not in page  # a phone is masked as an ID number is
    assert 'data-queue' in page and 'name="csrf_token"' in page
    assert 'name="needs" value="康复"' in page and 'name="needs" value="其他"' in page  # the catalogue's categories
    assert len(re.findall(r"<h1[ >]", page)) == 1


def test_other_roles_may_not_open_the_cadres_pages(client, world):
    sign_in(client, world, "organizer-a")
    assert client.get("/mine").status_code == 403
    assert client.get("/mine/HA1").status_code == 403
    refused = visit(client, "HA1")
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert len(household_ledger(store=world.store, household_no="HA1")) == 2  # the world's two entries


# --- recording --------------------------------------------------------------------------------------

def test_a_visit_with_a_problem_and_help_is_recorded_whole_and_leaves_the_overdue_list(client, world):
    before = overdue_visits(store=world.store, region="620822").items
    assert ("HA4", "CA1") in {(r.household_no, r.cadre_no) for r in before}
    sign_in(client, world, "cadre-a")
    answer = visit(client, "HA4", key="5f1c3a52-0c7e-4c0e-9a51-1b7cdb1e0d11", note="屋内整洁",
                   problem="轮椅坏了，需要更换", help="代为申请护理补贴")
    assert answer.status_code == 201, answer.text
    number = problem_number(TODAY, "5f1c3a52-0c7e-4c0e-9a51-1b7cdb1e0d11")
    assert answer.json()["problem_no"] == number and answer.json()["page"] == "/mine/HA4"
    entries = household_ledger(store=world.store, household_no="HA4")
    assert sorted((e.kind, e.note) for e in entries) == sorted([
        (LedgerKind.VISIT, "屋内整洁"), (LedgerKind.REPORT_PROBLEM, "轮椅坏了，需要更换"),
        (LedgerKind.PRACTICAL_HELP, "代为申请护理补贴")])
    assert all(e.cadre_no == "CA1" and e.entry_date == TODAY for e in entries)
    assert [(p.problem_no, p.open) for p in household_problems(store=world.store, household_no="HA4")] == [(number, True)]
    after = overdue_visits(store=world.store, region="620822").items
    assert ("HA4", "CA1") not in {(r.household_no, r.cadre_no) for r in after}
    client.app.state.services.audit.flush()
    writes = audit_entries(store=world.store, user_id="cadre-a", page=PageRequest(1, 100)).items
    assert any(e.action == "write" and e.operation == "POST /mine/{household_no}/visits" and e.object_keys == ["HA4"]
               for e in writes)
    page = client.get("/mine")
    assert cards(page.text)[-1] == "HA4"  # visited today: due last


def test_needs_found_on_a_visit_are_recorded_as_the_members_assessed_needs(client, world):
    sign_in(client, world, "cadre-a")
    page = client.get("/mine/HA4").text
    member = re.search(r'name="need_for" value="([0-9a-f]+)"', page).group(1)  # one member: no choice to make
    assert "康复、辅具" in page  # the registry's needs, open
    answer = visit(client, "HA4", key="needs-1", note="需要就业帮扶", needs=["就业", "培训"], need_for=member)
    assert answer.status_code == 201, answer.text
    assert "需求 2 项" in answer.json()["message"]
    id_number = world.store.read(lambda tx: members_in(tx, ["HA4"]))["HA4"][0].id_number
    recorded = world.store.read(lambda tx: assessments_in(tx, [id_number]))[id_number]
    assert sorted((n.category.value, n.source, n.assessor, n.assessed_on) for n in recorded) == [
        ("培训", NeedSource.VISIT, "CA1", TODAY), ("就业", NeedSource.VISIT, "CA1", TODAY)]
    shown = re.search(r"open needs: ([^<]+)", client.get("/mine/HA4").text).group(1).strip().split("、")
    assert shown[:2] == ["康复", "辅具"] and sorted(shown[2:]) == ["培训", "就业"]  # the registry's first
    wrong = visit(client, "HA4", note="x", needs=["飞行"], need_for=member)
    assert wrong.status_code == 422 and wrong.json()["field"] == "needs"
    stranger = visit(client, "HA4", note="y", needs=["就业"], need_for="0" * 16)
    assert stranger.status_code == 422 and stranger.json()["field"] == "need_for"
    assert [e.note for e in household_ledger(store=world.store, household_no="HA4")] == ["需要就业帮扶"]  # nothing else


def test_a_repeat_with_the_same_key_is_answered_and_not_recorded_again(client, world):
    sign_in(client, world, "cadre-a")
    first = visit(client, "HA5", key="k-repeat", note="第一次", problem="漏雨")
    again = visit(client, "HA5", key="k-repeat", note="第一次", problem="漏雨")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(household_ledger(store=world.store, household_no="HA5")) == 2
    assert len(household_problems(store=world.store, household_no="HA5")) == 1
    other = visit(client, "HA5", key="k-repeat", note="另一次")
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_contact_is_recorded_and_does_not_count_as_a_home_visit(client, world):
    sign_in(client, world, "cadre-a")
    assert visit(client, "HA4", kind=LedgerKind.CONTACT.value, note="电话联系").status_code == 201
    assert [e.kind for e in household_ledger(store=world.store, household_no="HA4")] == [LedgerKind.CONTACT]
    assert cards(client.get("/mine").text)[0] == "HA4"  # still overdue


def test_a_plain_form_post_goes_back_to_the_page_with_a_message(client, world):
    sign_in(client, world, "cadre-a")
    answer = client.post("/mine/HA5/visits", data={"kind": "入户走访", "entry_date": str(TODAY), "note": "无脚本"},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/mine/HA5"
    page = client.get("/mine/HA5").text
    assert re.search(r'<p class="flash ok" role="status">已记录户 HA5 的入户走访.* / recorded the home visit', page)
    refused = client.post("/mine/HA5/visits", data={"kind": "入户走访", "entry_date": "2999-01-01"},
                          follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/mine/HA5"
    assert "不能晚于今天" in client.get("/mine/HA5").text


@pytest.mark.parametrize("form, status, code", [
    ({"kind": "捐款捐物"}, 422, "INVALID_VALUE"),
    ({"entry_date": "2026-13-01"}, 422, "INVALID_VALUE"),
    ({"entry_date": "yesterday"}, 422, "INVALID_VALUE"),
    ({"entry_date": "2999-01-01"}, 409, "FUTURE_DATE"),
    ({"note": "很" * 2001}, 422, "INVALID_VALUE"),
    ({"help": "x" * 2001}, 422, "INVALID_VALUE"),
])
def test_bad_inputs_are_refused_clearly_and_record_nothing(client, world, form, status, code):
    sign_in(client, world, "cadre-a")
    answer = visit(client, "HA4", **form)
    assert answer.status_code == status and answer.json()["code"] == code, answer.text
    assert answer.json()["message"] and answer.json()["message_en"]
    assert household_ledger(store=world.store, household_no="HA4") == []


def test_a_visit_is_all_or_nothing(client, world):
    """The problem found cannot be opened (its number is taken in the county): the visit is not
    recorded either."""
    key = "0e9d1c4b-4e52-4d7a-9b8f-5d1f3b7a9c21"
    log_entries(store=world.store, entries=[LedgerEntry(
        entry_date=TODAY, household_no="HA1", cadre_no="CA1", kind=LedgerKind.REPORT_PROBLEM,
        problem_no=problem_number(TODAY, key), note="先占用的编号")])
    sign_in(client, world, "cadre-a")
    answer = visit(client, "HA4", key=key, note="走访", problem="新困难")
    assert answer.status_code == 409 and answer.json()["code"] == "PROBLEM_EXISTS"
    assert household_ledger(store=world.store, household_no="HA4") == []


def test_households_not_the_cadres_answer_as_unknown_ones(client, world):
    sign_in(client, world, "cadre-a")
    theirs, unknown = visit(client, "HB1"), visit(client, "NO-SUCH")
    assert theirs.status_code == unknown.status_code == 404
    assert {k: v for k, v in theirs.json().items() if k not in ("key", "message", "message_en", "request_id")} == \
        {k: v for k, v in unknown.json().items() if k not in ("key", "message", "message_en", "request_id")}
    assert client.get("/mine/HB1").status_code == client.get("/mine/NO-SUCH").status_code == 404


def test_a_household_transferred_meanwhile_refuses_the_entry_with_the_reason(client, world):
    sign_in(client, world, "cadre-a")
    assert client.get("/mine/HA5").status_code == 200  # the page the phone kept
    flows.transfer(store=world.store, household_no="HA5", cadre_no="CA2", reason="干部调整")
    late = visit(client, "HA5", key="kept-offline", note="离线时记录")
    assert late.status_code == 404
    assert late.json()["code"] == "NOT_FOUND" and "HA5" in late.json()["message"] and "HA5" in late.json()["message_en"]
    assert household_ledger(store=world.store, household_no="HA5") == []
    assert client.get("/mine/HA5").status_code == 404 and "HA5" not in cards(client.get("/mine").text)
    plain = client.post("/mine/HA5/visits", data={"kind": "入户走访"}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/mine"


def test_a_problem_is_closed_with_what_was_done(client, world):
    sign_in(client, world, "cadre-a")
    empty = client.post("/mine/HA1/problems/P1/close", data={"resolution": "  "}, headers=JSON)
    assert empty.status_code == 422 and empty.json()["field"] == "resolution"
    closed = client.post("/mine/HA1/problems/P1/close", data={"resolution": "已更换轮椅"}, headers=JSON)
    assert closed.status_code == 200, closed.text
    [problem] = household_problems(store=world.store, household_no="HA1")
    assert problem.closed_on == TODAY and problem.resolution == "已更换轮椅" and problem.resolved_by == "CA1"
    again = client.post("/mine/HA1/problems/P1/close", data={"resolution": "再关一次"}, headers=JSON)
    assert again.status_code == 409 and again.json()["code"] == "PROBLEM_NOT_OPEN"
    other = client.post("/mine/HA1/problems/NOPE/close", data={"resolution": "x"}, headers=JSON)
    assert other.status_code == 409 and other.json()["code"] == "PROBLEM_NOT_OPEN"
    assert "P1" not in client.get("/mine/HA1").text.split('id="problems-h"')[1].split("</section>")[0]


def test_a_write_without_the_sessions_token_is_refused(client, world):
    sign_in(client, world, "cadre-a")
    del client.headers["X-CSRF-Token"]
    answer = visit(client, "HA4")
    assert answer.status_code == 403 and answer.json()["code"] == "CSRF"
    assert household_ledger(store=world.store, household_no="HA4") == []


# --- offline ------------------------------------------------------------------------------------------

def test_the_service_worker_is_served_at_the_root_under_the_strict_policy(client, world):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"  # the browser checks for a new worker each time
    assert "content-security-policy" in worker.headers and "__VERSION__" not in worker.text
    assert re.search(r'const VERSION = "[0-9a-f]{16}";', worker.text)
    assert '"/static/cadre.js"' in worker.text and "/mine" in worker.text
    for asset in ("/static/cadre.js", "/static/console.css", "/sw.js"):
        assert client.get(asset, headers={"Accept-Encoding": "gzip"}).headers.get("content-encoding") == "gzip"
    sign_in(client, world, "cadre-a")
    assert "content-encoding" not in client.get("/mine", headers={"Accept-Encoding": "gzip"}).headers  # BREACH
