"""Cadres and organisations at work, in a real browser the width of a phone (390 px) on the demo
county: the county organiser makes the cadres' accounts and downloads their one-time codes, and a
cadre's first sign-in turns a code into a password and lands on the cadre's start page; an
organisation asks to join from the sign-in page, is approved (its code shown once), asks for an
auxiliary pairing by household number, the organiser approves it and sends the reminders, the
organisation reads the news in its inbox and records a donation, and the organiser's coverage
report counts it; the demo organisation accepts a referral an organiser sent it and records the
service, which completes it.

Every page is checked at 390 px: no wider than the window, axe-core with no serious or critical
violation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from browsing import Browser, Server
from graph_schema.identifiers import uscc_check_char

PHONE = 390
PASSWORD = "phone-first-password-1"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Browser]:
    """The browser laid out as a phone for the whole journey."""
    browser.set_width(PHONE)
    try:
        yield browser
    finally:
        browser.set_width(None)


def check(b: Browser, page: str) -> None:
    """The page as a phone shows it: one heading, no wider than the window, axe clean."""
    b.wait_for("main h1")
    assert len(b.find_all("h1")) == 1, page
    assert b.overflow() == 0, f"{page} is {b.overflow()} px wider than a {PHONE} px window"
    b.check_accessibility(f"{page} at {PHONE} px")


def sign_in_with_password(b: Browser, user: str, password: str) -> None:
    b.driver.delete_all_cookies()
    b.go("/login")
    b.find("#user").send_keys(user)
    b.find("#password").send_keys(password)
    b.find("form[action='/login'] button[type=submit]").click()


def first_sign_in(b: Browser, user: str, code: str, lands_on: str) -> None:
    """The code where the password goes, then a password of one's own: signed in, on one's start page."""
    sign_in_with_password(b, user, code)
    b.wait_for("#new-password")  # the answer stays at /login: wait for its form, not for a path
    assert b.heading().startswith("设置密码")
    check(b, "first sign-in: set a password")
    b.find("#new-password").send_keys(PASSWORD)
    b.find("#confirm-password").send_keys(PASSWORD)
    b.find("form[action='/login/first'] button[type=submit]").click()
    b.wait_for_path(re.escape(lands_on))


def test_a_cadre_signs_in_first_with_a_one_time_code_and_sets_a_password(phone: Browser) -> None:
    b = phone
    b.sign_in_as("county-organizer")
    b.find("nav a[href='/accounts']").click()
    b.wait_for_path(r"/accounts")
    assert b.heading().startswith("账号")
    check(b, "accounts")
    b.screenshot("accounts-390", width=PHONE, height=2400)
    b.clear_downloads()
    b.find("form[action='/accounts/create'] button[type=submit]").click()
    book = b.downloaded(".xlsx")
    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("登录码").to_python()
    assert rows[0] == ["姓名", "干部编号", "用户名", "一次性登录码", "有效期至"] and len(rows) > 1
    _, number, user, code, _ = rows[1]
    b.go("/accounts")
    assert code not in b.find("main").text  # the code was given once, in the file
    b.clear_downloads()

    first_sign_in(b, user, code, "/mine")
    assert b.heading().startswith("我的结对户")
    check(b, "the cadre's start page after the first sign-in")
    sign_in_with_password(b, user, code)  # used: it answers as a wrong password
    b.wait_for("p.error")
    assert "不正确" in b.find("p.error").text
    sign_in_with_password(b, user, PASSWORD)
    b.wait_for_path("/mine")


def valid_uscc(serial: int) -> str:
    first17 = f"52620100{serial:09d}"
    return first17 + uscc_check_char(first17)


def coverage_row(b: Browser) -> dict[str, str]:
    """The county's row of the coverage report the dashboard offers (the quarter so far), as the
    organiser downloads it."""
    b.go("/")
    b.wait_for("main h1")
    b.clear_downloads()
    b.find("a[href^='/reports/coverage.csv']").click()
    text = b.downloaded(".csv").read_text(encoding="utf-8-sig")
    b.clear_downloads()
    return next(csv.DictReader(io.StringIO(text)))


def test_an_organisation_joins_asks_for_a_household_and_records_a_donation_the_report_counts(
        phone: Browser, server: Server) -> None:
    b = phone
    county = server.api("/reports/coverage?page_size=1")["items"][0]["region_code"]
    household = server.api(f"/reports/unpaired?region={county}&page_size=1")["items"][0]["household_no"]
    code, name = valid_uscc(424242), "春晖助残志愿者协会"

    # 1. the organisation asks to join, from the sign-in page, without an account
    b.driver.delete_all_cookies()
    b.go("/login")
    b.find("main a[href='/join']").click()
    b.wait_for_path("/join")
    check(b, "join form")
    for field, value in (("name", name), ("uscc", code), ("service_region_code", county), ("contact", "周敏"),
                         ("phone", "13912345678")):
        b.find(f"#join-{field}").send_keys(value)
    b.find("form[action='/join'] button[type=submit]").click()
    b.wait_for("p.flash.ok")
    assert "申请已收到" in b.find("p.flash.ok").text
    check(b, "join form, sent")

    # 2. the county organiser approves it: the organisation's code is shown once
    b.sign_in_as("county-organizer")
    before = coverage_row(b)
    b.find("nav a[href='/join-requests']").click()
    b.wait_for_path(r"/join-requests")
    check(b, "requests to join")
    row = next(tr for tr in b.find_all("table tbody tr") if code in tr.text)
    assert name in row.text and "周敏" in row.text and "已登记" not in row.text
    row.find_element("css selector", "form[action$='/approve'] button[type=submit]").click()
    b.wait_for(".issued")
    issued = b.find(".issued code.code").text
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", issued)
    check(b, "requests to join, approved with the code")
    b.screenshot("join-approved-390", width=PHONE, height=2400)

    # 3. the organisation's first sign-in, and its request for a household, by number
    first_sign_in(b, code, issued, "/aux-pairings")
    check(b, "the organisation's start page")
    b.find("nav a[href='/aux-requests']").click()
    b.wait_for_path(r"/aux-requests")
    check(b, "the organisation's requests")
    b.find("#ask-household").send_keys(household)
    b.find("#ask-reason").send_keys("助残志愿服务：上门理发、打扫卫生")
    b.find("form[action='/aux-requests'] button[type=submit]").click()
    b.wait_for("p.flash")
    assert "已提交申请" in b.find("p.flash").text
    assert "待审批" in next(tr for tr in b.find_all("table tbody tr") if household in tr.text).text
    check(b, "the organisation's requests, one pending")

    # 4. the organiser approves it with the household's consent, and sends the reminders now
    b.sign_in_as("county-organizer")
    b.go("/aux-requests")
    b.wait_for("table caption")
    row = next(tr for tr in b.find_all("table tbody tr") if household in tr.text and code in tr.text)
    row.find_element("css selector", "textarea[name=consent_note]").send_keys("户主电话同意")
    row.find_element("css selector", "form[action$='/approve'] button[type=submit]").click()
    b.wait_for("p.flash")
    assert "已批准" in b.find("p.flash").text
    b.find("nav a[href='/inbox']").click()
    b.wait_for_path(r"/inbox")
    check(b, "the organiser's inbox")
    b.find("form[action='/inbox/notify'] button[type=submit]").click()
    b.wait_for("p.flash")
    assert "条新消息" in b.find("p.flash").text

    # 5. the organisation reads the news (the unread count in the header) and records a donation
    sign_in_with_password(b, code, PASSWORD)
    b.wait_for_path("/aux-pairings")
    assert b.find("nav a[href='/inbox'] .badge").text.startswith("1")
    b.find("nav a[href='/inbox']").click()
    b.wait_for_path(r"/inbox")
    assert "辅助结对已批准" in b.find("main").text and household in b.find("main").text
    check(b, "the organisation's inbox")
    b.screenshot("org-inbox-390", width=PHONE, height=2400)
    b.find("button[name=every]").click()
    b.wait_for("p.flash")
    assert not b.find_all("nav a[href='/inbox'] .badge")
    b.go("/aux-pairings")
    row = next(tr for tr in b.find_all("table tbody tr") if household in tr.text)
    assert "进行中" in row.text and "****" in row.text  # the head's ID number masked
    row.find_element("css selector", f"a[href='/aux-pairings/{household}/record']").click()
    b.wait_for_path(rf"/aux-pairings/{household}/record")
    check(b, "record a donation")
    b.find("input[name=kind][value='捐款捐物']").click()
    b.find("#amount").send_keys("520")
    b.find("#in-kind").send_keys("300.50")
    b.find("#note").send_keys("冬季取暖物资")
    b.find("form[action$='/record'] button[type=submit]").click()
    b.wait_for_path("/aux-pairings")
    assert "已记录捐赠" in b.find("p.flash").text
    check(b, "the organisation's start page after recording")
    b.screenshot("org-start-390", width=PHONE, height=2400)

    # 6. the organiser's coverage report counts it
    b.sign_in_as("county-organizer")
    after = coverage_row(b)
    donated = next(k for k in after if k.startswith("组织捐赠（"))
    times = next(k for k in after if k.startswith("组织捐赠次数"))
    assert Decimal(after[donated]) - Decimal(before[donated]) == Decimal("820.50")
    assert int(after[times]) == int(before[times]) + 1
    assert int(after["辅助结对"]) == int(before["辅助结对"]) + 1


def post(server: Server, path: str, body: dict, user: str = "county-organizer") -> dict:
    """A POST of the REST API with a demo user's token: what an organiser does outside these pages."""
    req = urllib.request.Request(server.url + "/api/v1" + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {server.tokens[user]}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"POST {path}: {exc.code} {exc.read().decode()}") from None


def test_the_organisation_accepts_a_referral_and_records_the_service(phone: Browser, server: Server) -> None:
    b = phone
    found = server.api("/orgs?page_size=1", "demo-org")["items"][0]  # its own
    org, region = found["uscc"], found["service_region_code"]
    household = server.api(f"/households?region={region}&page_size=1")["items"][0]["household_no"]
    member = server.api(f"/households/{household}/members?page_size=1")["items"][0]["id_number"]
    day = dt.date.today().isoformat()  # after anything the demo assessed, so the need is open today
    post(server, "/offers", {"uscc": org, "service_code": "PX01", "region_code": region, "capacity": 50})
    need = post(server, "/needs", {"id_number": member, "service_code": "PX01", "assessed_on": day})["id"]
    post(server, "/referrals", {"id_number": member, "need_id": need, "provider_uscc": org})  # made today, as the offer

    b.sign_in_as("demo-org")
    b.find("nav a[href='/referrals']").click()
    b.wait_for_path(r"/referrals")
    row = next(tr for tr in b.find_all("table tbody tr") if "待接收" in tr.text)
    assert member not in row.text and "****" in row.text  # the ID number masked
    check(b, "the organisation's referrals")
    row.find_element("css selector", "form[action$='/accept'] button[type=submit]").click()
    b.wait_for("p.flash")
    assert "已接收" in b.find("p.flash").text
    b.find("main a[href$='/deliver']").click()
    b.wait_for_path(r"/referrals/.+/deliver")
    check(b, "record the service for a referral")
    b.find("#item").send_keys("上门实用技术培训")
    b.find("form[action$='/deliver'] button[type=submit]").click()
    b.wait_for_path("/referrals")
    assert "已记录服务" in b.find("p.flash").text
    assert "上门实用技术培训" in b.find("main").text and "已完成" in b.find("main").text
    check(b, "the organisation's referrals, one done")
