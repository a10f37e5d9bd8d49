"""The cadre's phone pages on a village network: what the first load transfers, and how long a
later visit takes to open from the phone on an emulated slow-3G link.

    .venv/bin/python bench/cadre_bench.py               # 3 first loads, 5 slow-3G opens per page
    .venv/bin/python bench/cadre_bench.py --runs 5 --opens 10

A fresh store gets the ``tiny`` demo county (``jiedui demo``); a cadre with households overdue
for a quarter gets a password (``jiedui user add``), and ``jiedui serve`` runs as in production.
Each run is a fresh headless Chromium (no service worker, no cache) 390 px wide that reaches the
service through a counting TCP relay (tests/browser/offline.py): it signs in and waits until the
service worker has kept the cadre's pages. **First load** is what the service sent through the
relay from the sign-in to that moment (compressed as sent, headers included), and DevTools' own
``encodedDataLength`` over the page's and the worker's requests. Then DevTools' "Slow 3G"
conditions (2 s latency, 50 kB/s each way) are applied to the page and the worker, and ``/mine``
and the first household's page are opened ``--opens`` times each: **slow-3G open** is the
navigation's time from its start to the end of its load event. Prints a Markdown table.

Needs Debian's Chromium and chromedriver, as the browser tests do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from browsing import Browser, Server, chromium, cli, start_service, stop_service  # noqa: E402
from offline import ONLINE, SLOW_3G, Emulation, Relay, choose_cadre, navigation_ms, page_bytes  # noqa: E402

USER, PASSWORD = "bench-cadre", "cadre-on-a-slow-link-2026"


def first_load(url: str, relay: Relay, downloads: Path) -> tuple[int, int, list[str], dict]:
    """One fresh browser's sign-in: relay bytes, DevTools bytes, the cadre's households, and the
    browser (still open) for the slow-3G opens."""
    driver = chromium(downloads, performance=True)
    emulation = Emulation(driver)
    browser = Browser(driver, Server(url, Path()), downloads)
    browser.set_width(390)
    browser.go("/login")
    browser.find("#user").send_keys(USER)
    browser.find("#password").send_keys(PASSWORD)
    page_bytes(driver)
    emulation.worker_bytes.clear()
    relay.answered = 0
    browser.find("form[action='/login'] button[type=submit]").click()
    browser.wait_for_path("/mine")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 120).until(lambda d: d.execute_script(
        "const o = document.getElementById('outbox'); return o && o.dataset.offline === 'ready'"))
    wire, devtools = relay.answered, page_bytes(driver) + sum(emulation.worker_bytes.values())
    households = [a.get_attribute("href").rsplit("/", 1)[1] for a in browser.find_all("ol.cases li.case h2 a")]
    return wire, devtools, households, {"browser": browser, "emulation": emulation}


def slow_opens(browser: Browser, emulation: Emulation, paths: list[str], opens: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {p: [] for p in paths}
    emulation.set(SLOW_3G)
    try:
        for _ in range(opens):
            for path in paths:
                browser.go(path)
                found[path].append(navigation_ms(browser.driver))
    finally:
        emulation.set(ONLINE)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh browsers, each measuring a first load")
    parser.add_argument("--opens", type=int, default=5, help="slow-3G opens of each page, in the last browser")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadre-bench-") as tmp:
        base = Path(tmp)
        store = base / "store"
        cli("demo", "--preset", "tiny", "--rows", "1", store=store)
        rows = json.loads(cli("report", "overdue-visits", "--region", "62", "--format", "json", store=store))
        cadre_no, _county = choose_cadre(rows)
        cli("user", "add", USER, "--role", "cadre", "--cadre", cadre_no, "--password", store=store,
            stdin=PASSWORD + "\n")
        proc, url, log = start_service(store, base / "serve.log")
        relay = Relay(int(url.rsplit(":", 1)[1]))
        loads: list[tuple[int, int]] = []
        opened: dict[str, list[float]] = {}
        try:
            for run in range(args.runs):
                wire, devtools, households, held = first_load(f"http://127.0.0.1:{relay.port}", relay,
                                                              base / f"downloads-{run}")
                loads.append((wire, devtools))
                try:
                    if run == args.runs - 1:
                        opened = slow_opens(held["browser"], held["emulation"], ["/mine", f"/mine/{households[0]}"],
                                            args.opens)
                finally:
                    held["emulation"].close()
                    held["browser"].driver.quit()
        finally:
            relay.close()
            stop_service(proc, log)
    print(f"cadre pages, {dt.date.today()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {args.runs} first loads, {args.opens} slow-3G opens per page\n")
    print("| measure | median | max | budget |\n| --- | ---: | ---: | ---: |")
    wires, tools = [w for w, _ in loads], [d for _, d in loads]
    print(f"| first load, bytes the service sent (relay) | {statistics.median(wires) / 1024:.1f} KB "
          f"| {max(wires) / 1024:.1f} KB | 150 KB |")
    print(f"| first load, DevTools encodedDataLength (page + worker) | {statistics.median(tools) / 1024:.1f} KB "
          f"| {max(tools) / 1024:.1f} KB | 150 KB |")
    for path, times in opened.items():
        name = "/mine" if path == "/mine" else "/mine/{household}"
        print(f"| slow-3G open of {name} from the phone | {statistics.median(times):.0f} ms "
              f"| {max(times):.0f} ms | 1000 ms |")


if __name__ == "__main__":
    main()
