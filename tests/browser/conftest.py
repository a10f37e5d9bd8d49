"""Fixtures of the browser tests: the service (``server``) and one headless Chromium (``browser``); see
``browsing.py``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from browsing import (AXE, CHROMEDRIVER, CHROMIUM, JIEDUI, OTHER_COUNTY, OTHER_PASSWORD, OTHER_REGIONS, OTHER_USER, ROOT,
                      Browser, Server, cli, free_port)


def require_tools() -> None:
    """Fail (never skip) when the browser, its driver or axe-core is missing."""
    missing = [f"{what} ({path})" for what, path in (("Chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER))
               if not (path.exists() and os.access(path, os.X_OK))]
    if missing:
        pytest.fail("the browser tests need Debian's Chromium and its driver: missing "
                    + ", ".join(missing) + " (apt-get install chromium chromium-driver)", pytrace=False)
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run scripts/setup.sh (npm ci --prefix front)", pytrace=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_tools()
    if not JIEDUI.exists():
        pytest.fail(f"the jiedui command is missing beside the interpreter ({JIEDUI}): run scripts/setup.sh")
    base = tmp_path_factory.mktemp("console")
    store = base / "store"
    regions = base / "其他县" / "区划.csv"
    regions.parent.mkdir()
    regions.write_text(OTHER_REGIONS, encoding="utf-8-sig")
    cli("import", str(regions), store=store)
    cli("user", "add", OTHER_USER, "--role", "organizer", "--region", OTHER_COUNTY, "--password",
         store=store, stdin=OTHER_PASSWORD + "\n")
    port = free_port()
    log = (base / "serve.log").open("w")
    proc = subprocess.Popen([str(JIEDUI), "serve", "--store", str(store), "--port", str(port), "--preset", "county"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # the demo county, service files included, is imported first
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jiedui serve stopped ({proc.returncode}):\n{(base / 'serve.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "/login", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jiedui serve did not answer /login in time:\n{(base / 'serve.log').read_text()}")
            time.sleep(0.3)
        lines = (store / "demo-tokens.txt").read_text(encoding="utf-8").splitlines()
        tokens = {user: token for user, _role, token in (line.split("\t") for line in lines if line.strip())}
        yield Server(url, store, tokens)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=zh-CN", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "safebrowsing.enabled": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors, e.g. a CSP refusal
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield Browser(driver, server, downloads)
    finally:
        driver.quit()
        shutil.rmtree(downloads, ignore_errors=True)
