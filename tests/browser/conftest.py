"""Fixtures of the browser tests: the service (``server``) and one headless Chromium (``browser``); see
``browsing.py``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from browsing import (JIEDUI, OTHER_COUNTY, OTHER_PASSWORD, OTHER_REGIONS, OTHER_USER, Browser, Server, chromium, cli,
                      require_tools, start_service, stop_service)


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
    proc, url, log = start_service(store, base / "serve.log", "--preset", "county")
    try:
        lines = (store / "demo-tokens.txt").read_text(encoding="utf-8").splitlines()
        tokens = {user: token for user, _role, token in (line.split("\t") for line in lines if line.strip())}
        yield Server(url, store, tokens)
    finally:
        stop_service(proc, log)


@pytest.fixture(scope="session")
def browser(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_tools()
    downloads = tmp_path_factory.mktemp("downloads")
    driver = chromium(downloads)
    try:
        yield Browser(driver, server, downloads)
    finally:
        driver.quit()
        shutil.rmtree(downloads, ignore_errors=True)
