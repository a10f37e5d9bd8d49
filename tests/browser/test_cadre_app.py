"""The cadre's phone pages in a real browser, at 390 px: a cadre signs in with a password, sees an
overdue household first, records a home visit with a problem and a need found, and the organiser's
overdue list no longer shows it; then, with the network cut (DevTools emulation, reaching the service worker
too) and separately with the service unreachable while the browser believes it is online (a
relay that resets every connection, then one that loses the answers), records three visits each
time: when the network returns exactly three entries are stored, also after the page sends them
again. An entry for a household transferred meanwhile comes back with the service's reason.
Every page passes axe-core; the page weight and the slow-3G opening time are measured.

The village is the demo data's ``tiny`` preset, imported with ``jiedui demo`` before the service
starts, with a cadre user (a password) and an organiser user made by ``jiedui user add``; the
cadre is one who has a household overdue for a whole quarter. The browser is a Chromium of its
own (a fresh profile: no worker, no cache) and reaches the service through ``offline.Relay``.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from browsing import Browser, Server, chromium, cli, require_tools, start_service, stop_service
from offline import OFFLINE, ONLINE, SLOW_3G, Emulation, Relay, choose_cadre, navigation_ms, page_bytes

CADRE_USER, CADRE_PASSWORD = "village-cadre", "cadre-in-the-village-2026"
ORGANISER = "village-organizer"
#: the page-weight budget of the cadre's first load, and the time a later visit may take on slow 3G
FIRST_LOAD_BUDGET = 150 * 1024
CACHED_OPEN_BUDGET_MS = 1000

#: what one journey leaves for the next (the tests run in file order), and the figures measured
journal: dict[str, object] = {}


@dataclass
class Village:
    url: str  # through the relay: what the browser uses
    direct: str  # the service itself: what the checks use
    relay: Relay
    cadre_no: str
    county: str
    token: str  # the organiser's
    households: list[str] = field(default_factory=list)

    def api(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.direct + "/api/v1" + path, data=data, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def notes(self, household: str) -> list[str]:
        """The notes of the household's ledger entries (the organiser sees them all)."""
        return [e["note"] or "" for e in self.api(f"/households/{household}/ledger?page_size=1000")["items"]]

    def recorded(self, tag: str) -> int:
        return sum(tag in note for h in self.households for note in self.notes(h))


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Village]:
    require_tools()
    base = tmp_path_factory.mktemp("cadre-app")
    store = base / "store"
    cli("demo", "--preset", "tiny", "--rows", "1", store=store)
    rows = json.loads(cli("report", "overdue-visits", "--region", "62", "--format", "json", store=store))
    cadre_no, county = choose_cadre(rows)
    cli("user", "add", CADRE_USER, "--role", "cadre", "--cadre", cadre_no, "--password", store=store,
        stdin=CADRE_PASSWORD + "\n")
    token = cli("user", "add", ORGANISER, "--role", "organizer", "--region", county, store=store).strip()
    proc, url, log = start_service(store, base / "serve.log")
    relay = Relay(int(url.rsplit(":", 1)[1]))
    try:
        yield Village(f"http://127.0.0.1:{relay.port}", url, relay, cadre_no, county, token)
    finally:
        relay.close()
        stop_service(proc, log)


@pytest.fixture(scope="module")
def phone(village: Village, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Browser, Emulation]]:
    downloads = tmp_path_factory.mktemp("cadre-downloads")
    driver = chromium(downloads, performance=True)
    emulation = Emulation(driver)
    browser = Browser(driver, Server(village.url, Path()), downloads)
    browser.set_width(390)
    try:
        yield browser, emulation
    finally:
        emulation.close()
        driver.quit()


# --- what the journeys share -----------------------------------------------------------------------

def wait(browser: Browser, condition, timeout: float = 45, message: str = "") -> None:
    WebDriverWait(browser.driver, timeout).until(lambda d: condition(), message)


def offline_ready(browser: Browser) -> None:
    """cadre.js has registered the worker and had the household pages kept."""
    state = lambda: browser.driver.execute_script(  # noqa: E731
        "const o = document.getElementById('outbox'); return o && o.dataset.offline")
    try:
        wait(browser, lambda: state() == "ready", 60)
    except Exception as exc:
        kept = browser.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "caches.open('jiedui-pages').then(c => c.keys()).then(k => navigator.serviceWorker.getRegistration('/mine')"
            ".then(r => done([k.map(r => r.url), !!navigator.serviceWorker.controller, r && [!!r.installing, !!r.waiting, "
            "r.active && r.active.state]])), e => done(String(e)));")
        raise AssertionError(f"the service worker never became ready ({state()!r}) on {browser.path()} "
                             f"({browser.driver.title}); pages kept: {kept}; the browser said: "
                             f"{browser.driver.get_log('browser')[-10:]}") from exc


def waiting(browser: Browser) -> int:
    text = browser.find("#outbox-count").text
    return int(text.split("待发送 ")[1].split(" 条")[0])


def wait_waiting(browser: Browser, n: int, timeout: float = 60) -> None:
    wait(browser, lambda: waiting(browser) == n, timeout, f"the outbox never showed {n} waiting")


def cards(browser: Browser) -> list[str]:
    return [a.get_attribute("href").rsplit("/", 1)[1] for a in browser.find_all("ol.cases li.case h2 a")]


def open_household(browser: Browser, household: str) -> None:
    browser.go(f"/mine/{household}")
    wait(browser, lambda: household in browser.heading(), 30, f"/mine/{household} did not open")


def record(browser: Browser, household: str, note: str, problem: str = "", need: str = "") -> None:
    """Fill and send the record form of the household's page (the page stays where it is);
    ``need``: a category of need found, for the first member the form offers."""
    open_household(browser, household)
    assert browser.find("#entry_date").get_attribute("value") == time.strftime("%Y-%m-%d")  # today by default
    browser.find("#note").send_keys(note)
    if problem:
        browser.find("#problem").send_keys(problem)
    if need:
        browser.find(f"input[name=needs][value='{need}']").click()
    browser.find("form.record button[type=submit]").click()


def outbox_entries(browser: Browser) -> list[dict]:
    return browser.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const asked = indexedDB.open("jiedui-outbox", 1);
        asked.onsuccess = () => {
          const all = asked.result.transaction("entries").objectStore("entries").getAll();
          all.onsuccess = () => { asked.result.close(); done(all.result); };
        };""")


def put_back(browser: Browser, entries: list[dict]) -> None:
    """Put entries back in the outbox as waiting: the page will send them again."""
    browser.driver.execute_async_script("""
        const [entries, done] = [arguments[0], arguments[arguments.length - 1]];
        const asked = indexedDB.open("jiedui-outbox", 1);
        asked.onsuccess = () => {
          const tx = asked.result.transaction("entries", "readwrite");
          for (const e of entries) tx.objectStore("entries").put(Object.assign(e, {state: "waiting"}));
          tx.oncomplete = () => { asked.result.close(); done(true); };
        };""", entries)


# --- the journeys -------------------------------------------------------------------------------------

def test_the_cadre_signs_in_and_sees_an_overdue_household_first(phone, village: Village) -> None:
    browser, emulation = phone
    browser.go("/login")
    browser.check_accessibility("login at 390 px")
    browser.find("#user").send_keys(CADRE_USER)
    browser.find("#password").send_keys(CADRE_PASSWORD)
    page_bytes(browser.driver)  # empties the log: what follows is the first load
    emulation.worker_bytes.clear()
    village.relay.answered = 0
    browser.find("form[action='/login'] button[type=submit]").click()
    browser.wait_for_path("/mine")
    offline_ready(browser)
    journal["first load (relay, bytes on the wire)"] = village.relay.answered
    journal["first load (DevTools encodedDataLength, page + worker)"] = page_bytes(browser.driver) + sum(
        emulation.worker_bytes.values())
    assert emulation.workers, "no service worker was attached"
    assert village.relay.answered < FIRST_LOAD_BUDGET, journal

    village.households = cards(browser)
    assert village.households, "the cadre has no household"
    first = village.households[0]
    card = browser.find("ol.cases li.case")
    assert "overdue" in card.get_attribute("class") and "逾期" in card.text, card.text
    overdue = village.api(f"/reports/overdue-visits?region={village.county}&page_size=1000")["items"]
    assert {(r["household_no"], r["cadre_no"]) for r in overdue} >= {(first, village.cadre_no)}
    assert waiting(browser) == 0
    assert browser.overflow() == 0
    browser.check_accessibility("cadre /mine at 390 px")
    browser.screenshot("cadre-390", width=390, height=2400)
    browser.set_width(390)
    journal["overdue"] = first


def test_a_home_visit_with_a_problem_leaves_the_organisers_overdue_list(phone, village: Village) -> None:
    browser, _ = phone
    household = journal["overdue"]
    open_household(browser, household)
    browser.check_accessibility("cadre household page at 390 px")
    assert browser.overflow() == 0
    tag = uuid.uuid4().hex[:8]
    members = village.api(f"/households/{household}/members?page_size=100")["items"]
    first_member = members[0]["id_number"]  # the form offers the members in the order the service lists them
    had = {n["category"] for n in village.api(f"/persons/{first_member}/needs")["needs"] if n["open"]}
    need = next(c for c in ("托养", "教育", "就业", "培训", "其他") if c not in had)
    record(browser, household, f"入户走访，家中整洁 {tag}", problem=f"轮椅损坏，需要更换 {tag}", need=need)
    wait(browser, lambda: tag in browser.find("section[aria-labelledby=recent-h]").text, 30,
         "the recorded visit did not show on the page")
    problems = browser.find("section[aria-labelledby=problems-h]").text
    assert "问题 ZF" in problems and tag in problems
    assert need in browser.find("section[aria-labelledby=members-h]").text
    found = village.api(f"/persons/{first_member}/needs")["assessments"]
    assert [(a["category"], a["source"]) for a in found if a["category"] == need] == [(need, "入户走访")]
    assert "逾期" not in browser.find("p.standing").text
    browser.check_accessibility("cadre household page after recording")
    entries = village.api(f"/households/{household}/ledger?page_size=1000")["items"]
    assert sorted(e["kind"] for e in entries if tag in (e["note"] or "")) == ["入户走访", "反映困难"]

    browser.sign_in(token=village.token)  # the organiser, in the same browser
    for path in ("/overdue", "/overdue?due=true"):
        browser.go(path)
        browser.wait_for("table caption")
        shown = [a.text for a in browser.find_all("main table tbody a[href^='/households/']")]
        assert household not in shown, (path, shown)
    browser.check_accessibility("organiser's overdue list")
    rows = village.api(f"/reports/overdue-visits?region={village.county}&page_size=1000")["items"]
    assert (household, village.cadre_no) not in {(r["household_no"], r["cadre_no"]) for r in rows}
    browser.sign_in(user=CADRE_USER, password=CADRE_PASSWORD)
    assert browser.path() == "/mine"
    offline_ready(browser)


def test_offline_three_visits_wait_on_the_phone_and_are_stored_once(phone, village: Village) -> None:
    browser, emulation = phone
    tag = uuid.uuid4().hex[:8]
    emulation.set(OFFLINE)
    try:
        assert browser.driver.execute_script("return navigator.onLine") is False
        for n in range(3):
            household = village.households[n % len(village.households)]
            record(browser, household, f"离线走访 {n} {tag}")
            wait_waiting(browser, n + 1)
            assert "已保存在本机" in browser.find("#outbox-note").text
        assert len(browser.find_all("#outbox-waiting li")) == 3
        browser.check_accessibility("cadre page with three entries waiting, offline")
        assert browser.overflow() == 0
        kept = outbox_entries(browser)
        assert len(kept) == 3 and len({e["key"] for e in kept}) == 3
        assert village.recorded(tag) == 0
    finally:
        emulation.set(ONLINE)
    wait_waiting(browser, 0)  # the browser says it is online again: the page sends them
    assert village.recorded(tag) == 3
    browser.driver.refresh()
    offline_ready(browser)
    assert waiting(browser) == 0 and village.recorded(tag) == 3
    # the page sends the same three again, as one that never saw the answers would: each is
    # answered with its first answer, and nothing is recorded twice
    put_back(browser, kept)
    browser.driver.refresh()
    wait_waiting(browser, 0)
    assert village.recorded(tag) == 3
    assert not browser.find_all("#outbox-refused li")


def test_with_the_service_unreachable_three_visits_wait_and_are_stored_once(phone, village: Village) -> None:
    browser, _ = phone
    tag = uuid.uuid4().hex[:8]
    village.relay.down()
    try:
        for n in range(3):
            household = village.households[n % len(village.households)]
            record(browser, household, f"信号弱 {n} {tag}")
            wait_waiting(browser, n + 1)
            assert browser.driver.execute_script("return navigator.onLine") is True  # it believes so
        assert "暂时无法连接" in browser.find("#outbox-note").text
        # the first entry reaches the service but its answer is lost on the way back
        village.relay.lose_answers()
        browser.go("/mine")
        wait(browser, lambda: village.recorded(tag) == 1, 45, "the first entry never reached the service")
        time.sleep(1)
        assert waiting(browser) == 3  # the page never learnt it was recorded
    finally:
        village.relay.up()
    browser.go("/mine")
    wait_waiting(browser, 0)
    assert village.recorded(tag) == 3
    browser.driver.refresh()
    offline_ready(browser)
    assert waiting(browser) == 0 and village.recorded(tag) == 3


def test_an_entry_for_a_household_transferred_meanwhile_comes_back_with_the_reason(phone, village: Village) -> None:
    browser, emulation = phone
    household = village.households[-1]
    tag = uuid.uuid4().hex[:8]
    emulation.set(OFFLINE)
    try:
        record(browser, household, f"转走前的走访 {tag}")
        wait_waiting(browser, 1)
        village.relay.down()  # back online, the page would send it at once: the transfer comes first
    finally:
        emulation.set(ONLINE)
    try:
        target = next(c["cadre_no"] for c in village.api("/cadres?page_size=1000")["items"]
                      if c["cadre_no"] != village.cadre_no and c["on_duty"]
                      and village.api(f"/cadres/{c['cadre_no']}")["load"] < c["pair_limit"])
        village.api(f"/pairings/{household}/transfer", {"cadre_no": target, "reason": "干部调整"})
    finally:
        village.relay.up()
    browser.go("/mine")  # (the household's own page is gone with the pairing: 404)
    wait(browser, lambda: browser.find_all("#outbox-refused li"), 45, "the refused entry was never shown")
    refused = browser.find("#outbox-refused").text
    assert household in refused and "不存在" in refused and "does not exist" in refused, refused
    assert waiting(browser) == 0 and village.recorded(tag) == 0
    browser.check_accessibility("cadre page with a refused entry")
    browser.find("#outbox-refused li button").click()
    wait(browser, lambda: not browser.find("#outbox-refused").is_displayed(), 10)
    browser.go("/mine")
    assert household not in cards(browser)
    village.households.remove(household)


def test_the_cadres_pages_are_usable_at_1280_and_say_when_a_page_was_never_kept(phone, village: Village) -> None:
    browser, emulation = phone
    browser.set_width(None)
    try:
        for path in ("/mine", f"/mine/{village.households[0]}"):
            browser.go(path)
            browser.wait_for("main h1")
            assert browser.overflow() == 0, path
            browser.check_accessibility(f"cadre {path} at 1280 px")
    finally:
        browser.set_width(390)
    emulation.set(OFFLINE)
    try:
        browser.go("/mine/never-opened-here")
        assert "此页未保存在本机" in browser.heading()
        browser.check_accessibility("the worker's page for a page never kept")
    finally:
        emulation.set(ONLINE)
    refused = [e["message"] for e in browser.driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []


def test_a_later_visit_opens_from_the_phone_on_slow_3g(phone, village: Village) -> None:
    browser, emulation = phone
    browser.go("/mine")
    offline_ready(browser)
    timings: dict[str, list[float]] = {"/mine": [], f"/mine/{village.households[0]}": []}
    emulation.set(SLOW_3G)
    try:
        for _ in range(3):
            for path, found in timings.items():
                browser.go(path)
                found.append(navigation_ms(browser.driver))
    finally:
        emulation.set(ONLINE)
    for path, found in timings.items():
        journal[f"slow 3G open of {path} (ms, median of 3)"] = round(statistics.median(found))
    print("\n" + "\n".join(f"{k}: {v}" for k, v in journal.items() if k not in ("overdue",)))
    assert all(statistics.median(found) < CACHED_OPEN_BUDGET_MS for found in timings.values()), journal
