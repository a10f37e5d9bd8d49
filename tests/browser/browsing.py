"""The console in a real browser: Debian's Chromium (headless) driven by Selenium, against a
``jiedui serve`` started here on the demo county (``--preset county``, the README's command) in a
store of its own.

Before the service starts, the store gets, with the CLI, a second county (a 区划 file imported with
``jiedui import``) and an organiser of it with a password (``jiedui user add … --password``); the
service then loads the demo county and its demo users (tokens in ``<store>/demo-tokens.txt``).

Every page a journey visits is checked with axe-core (from ``front/node_modules``): no violation
of impact serious or critical. The main pages are saved as screenshots in ``docs/screenshots``.
Without Chromium, chromedriver or axe-core the tests fail, saying what is missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("JIEDUI_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("JIEDUI_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
AXE = ROOT / "front" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
JIEDUI = Path(sys.executable).with_name("jiedui")

#: the second county: same province and city as the demo county, a code after it (so the demo's
#: county organiser stays on the demo county)
OTHER_COUNTY = "620122000000"
OTHER_REGIONS = ("区划代码,名称\n620000000000,甘肃省\n620100000000,平坪市\n620122000000,清河区\n"
                 "620122101000,白杨镇\n620122101201,东湾村\n620122101202,西湾村\n")
OTHER_USER, OTHER_PASSWORD = "other-organizer", "qinghe-organiser-2024"
SERIOUS = ("serious", "critical")


def require_tools() -> None:
    """Fail (never skip) when the browser, its driver or axe-core is missing."""
    missing = [f"{what} ({path})" for what, path in (("Chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER))
               if not (path.exists() and os.access(path, os.X_OK))]
    if missing:
        pytest.fail("the browser tests need Debian's Chromium and its driver: missing "
                    + ", ".join(missing) + " (apt-get install chromium chromium-driver)", pytrace=False)
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run scripts/setup.sh (npm ci --prefix front)", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, store: Path, stdin: str | None = None) -> str:
    done = subprocess.run([str(JIEDUI), *args, "--store", str(store)], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    if done.returncode != 0:
        pytest.fail(f"jiedui {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def start_service(store: Path, log_path: Path, *args: str) -> tuple[subprocess.Popen, str, object]:
    """``jiedui serve`` on ``store`` and a free port, waited for until it answers ``/login``:
    the process, its address and its open log."""
    port = free_port()
    log = log_path.open("w")
    proc = subprocess.Popen([str(JIEDUI), "serve", "--store", str(store), "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # an empty store first imports the demo county, service files included
    while True:
        if proc.poll() is not None:
            stop_service(proc, log)
            pytest.fail(f"jiedui serve stopped ({proc.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as answer:
                if answer.status == 200:
                    return proc, url, log
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_service(proc, log)
            pytest.fail(f"jiedui serve did not answer /login in time:\n{log_path.read_text()}")
        time.sleep(0.3)


def stop_service(proc: subprocess.Popen, log) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def chromium(downloads: Path, *, performance: bool = False):
    """A headless Chromium driven by Selenium, downloading into ``downloads``; ``performance``
    also keeps the DevTools performance log (the network events, for page weights)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=zh-CN", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "safebrowsing.enabled": False})
    logs = {"browser": "ALL"} | ({"performance": "ALL"} if performance else {})
    options.set_capability("goog:loggingPrefs", logs)  # console errors, e.g. a CSP refusal
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


@dataclass
class Server:
    url: str
    store: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, path: str, user: str = "county-organizer") -> dict:
        """A GET of the REST API with a demo user's token (to check what the pages did)."""
        req = urllib.request.Request(self.url + "/api/v1" + path,
                                     headers={"Authorization": f"Bearer {self.tokens[user]}"})
        with urllib.request.urlopen(req, timeout=30) as answer:
            return json.loads(answer.read())


class Browser:
    """One Chromium, and what the journeys do with it."""

    def __init__(self, driver, server: Server, downloads: Path) -> None:
        self.driver, self.server, self.downloads = driver, server, downloads
        self.axe_source = AXE.read_text(encoding="utf-8")

    # --- moving around -------------------------------------------------------------------------

    def go(self, path: str) -> None:
        self.driver.get(self.server.url + path)

    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.server.url)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, timeout: float = 30):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def wait_for_path(self, pattern: str, timeout: float = 30) -> None:
        """Wait until the browser has left the page for one whose path matches ``pattern`` (the
        old page's elements would otherwise satisfy a wait for the new one's)."""
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(lambda d: re.fullmatch(pattern, self.path()))
        self.wait_for("main h1")

    def wait_for_reload(self, old, css: str, timeout: float = 30):
        """Wait until ``old`` (an element of the page being left) is gone and ``css`` is on the
        page that replaced it: a page that comes back to the same path would otherwise be read
        while the old one is still shown, or half-way through being replaced."""
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(ec.staleness_of(old))
        return self.wait_for(css, timeout)

    def heading(self) -> str:
        return self.find("h1").text

    def status_of(self, path: str) -> int:
        """The HTTP status of a GET in this browser's session (Selenium does not show it)."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then(r => done(r.status), e => done(-1));", path)

    def sign_in(self, *, token: str | None = None, user: str | None = None, password: str | None = None) -> None:
        self.driver.delete_all_cookies()
        self.go("/login")
        self.check_accessibility("login")
        if token:
            self.find("#token").send_keys(token)
        else:
            self.find("#user").send_keys(user)
            self.find("#password").send_keys(password)
        self.find("form[action='/login'] button[type=submit]").click()
        self.wait_for("nav[aria-label]")

    def sign_in_as(self, user: str) -> None:
        self.sign_in(token=self.server.tokens[user])

    # --- checks and pictures -------------------------------------------------------------------

    def check_accessibility(self, page: str) -> None:
        """axe-core on the page as it is now: no serious or critical violation."""
        self.driver.execute_script(self.axe_source)
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));")
        assert isinstance(found, list), f"axe-core failed on {page}: {found}"
        bad = [v for v in found if v.get("impact") in SERIOUS]
        for v in found:
            if v not in bad:  # shown with -s (or on a failure): worth fixing, not failing
                print(f"axe [{v.get('impact')}] {page}: {v['id']} ({len(v['nodes'])}×) {v['help']}")
        described = "\n".join(
            f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n"
            + "\n".join(f"    {n['target']}: {n.get('failureSummary', '').splitlines()[-1] if n.get('failureSummary') else ''}\n"
                        f"      {n['html'][:200]}" for n in v["nodes"][:5])
            for v in bad)
        assert not bad, f"axe-core: serious or critical violations on {page} ({self.path()}):\n{described}"

    def screenshot(self, name: str, width: int = 1280, height: int = 16000) -> Path:
        """The whole page (at most ``height`` px of it), ``width`` px wide, as docs/screenshots/<name>.png."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.set_width(width)
        full = self.driver.execute_script(
            "return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight));")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(int(full), height), "scale": 1}})
        self.set_width(None)
        path = SHOTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def set_width(self, width: int | None) -> None:
        """Lay the page out as a window ``width`` px wide (a phone: 390); None: as it was."""
        if width is None:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        else:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def overflow(self) -> int:
        """How many px the document is wider than the window (0 when it fits)."""
        return self.driver.execute_script(
            "const d = document.documentElement; return Math.max(0, d.scrollWidth - d.clientWidth);")

    def downloaded(self, suffix: str, timeout: float = 30) -> Path:
        """The downloaded file whose name ends with ``suffix`` (e.g. ``.xlsx``, ``区划.csv``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            if done and done[0].stat().st_size > 0:
                return done[0]
            time.sleep(0.2)
        raise AssertionError(f"no {suffix} file was downloaded (found: {sorted(p.name for p in self.downloads.iterdir())})")

    def clear_downloads(self) -> None:
        for p in self.downloads.iterdir():
            p.unlink()


