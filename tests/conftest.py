"""Every store test runs on BOTH engines: embedded LadybugDB and a real Neo4j server.

The Neo4j server comes from ``JIEDUI_TEST_NEO4J_URI`` when set (a run without parallel workers);
otherwise this suite starts one itself with ``scripts/neo4j-server.sh`` (Neo4j 5.26 from Maven
Central), one per pytest-xdist worker, and stops it at the end.
It never skips: without a Neo4j the Neo4j-parametrised tests fail, as they must in CI.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph_schema.store import GraphStore
from graph_schema.store.embedded import EmbeddedStore
from graph_schema.store.neo4j import Neo4jStore

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "scripts" / "neo4j-server.sh"


def _zone_at_noon() -> str:
    """A fixed-offset zone in which it is now between 12:00 and 13:00.

    Tests take "today" when they are collected (parametrised values, module constants) and the
    code takes it when they run; a run of half an hour that spans a midnight would see two days
    and fail at random. Run in this zone, no test sees a midnight for eleven hours. The zone is
    seldom UTC, which also proves that nothing mixes UTC dates with local ones, as a server in
    China (UTC+8) would. An IANA name, so that Chromium and the JVM read it as Python does.
    ``JIEDUI_TEST_TZ`` fixes another zone; parallel workers inherit it."""
    offset = (12 - dt.datetime.now(dt.timezone.utc).hour + 12) % 24 - 12  # hours east of UTC, -12..11
    return f"Etc/GMT{-offset:+d}"  # the Etc zones count west: Etc/GMT-8 is UTC+8


os.environ["TZ"] = os.environ.setdefault("JIEDUI_TEST_TZ", _zone_at_noon())
time.tzset()


def _worker() -> tuple[str, int]:
    """This process's pytest-xdist worker name and count ("" and 1 when the run has no workers)."""
    return os.environ.get("PYTEST_XDIST_WORKER", ""), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def _server_env(worker: str) -> dict[str, str]:
    """The environment of ``neo4j-server.sh`` for this process. Neo4j Community has one user
    database and the ``store`` fixture wipes it before each test, so parallel workers cannot share a
    server: worker ``gwN`` gets its own, on the port after N others (``JIEDUI_NEO4J_PORT``, default
    7688, + N) and in a state directory of its own (``JIEDUI_NEO4J_HOME``, default .neo4j-test, +
    ``-gwN``)."""
    if not worker:
        return dict(os.environ)
    index = int(worker.removeprefix("gw"))
    port = int(os.environ.get("JIEDUI_NEO4J_PORT", "7688")) + index
    home = os.environ.get("JIEDUI_NEO4J_HOME", str(ROOT / ".neo4j-test"))
    return os.environ | {"JIEDUI_NEO4J_PORT": str(port), "JIEDUI_NEO4J_HOME": f"{home}-{worker}"}


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    uri = os.environ.get("JIEDUI_TEST_NEO4J_URI")
    worker, workers = _worker()
    if uri:
        if workers > 1:
            # Each worker's tests wipe the database before they run: on one shared server they would
            # wipe each other's data mid-test and fail at random.
            pytest.fail(f"JIEDUI_TEST_NEO4J_URI names one server, which {workers} parallel workers cannot share: "
                        "run with -n 0 (or leave the variable unset, and each worker starts its own)", pytrace=False)
        yield uri
        return
    env = _server_env(worker)
    started = subprocess.run(["bash", str(SERVER), "start"], capture_output=True, text=True, timeout=900, env=env)
    if started.returncode != 0:
        pytest.fail(f"Neo4j test server did not start:\n{started.stdout}\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(SERVER), "stop"], capture_output=True, text=True, timeout=120, env=env)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On parallel workers, whole files are handed out in collection order (scripts/test.sh:
    ``--dist loadfile --no-loadscope-reorder``): first the files whose few tests run long (the
    reliability runs; the browser journeys, each on a served store with Chromium), then the rest,
    most tests first. A long file handed out last would keep one worker busy while the other has
    nothing left. Each file's tests keep their order; a run in one process is left as it is."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def rank(file: tuple[str, list[pytest.Item]]) -> tuple[bool, int]:
        path, tests = file
        long = path.startswith("tests/browser/") or any(t.get_closest_marker("reliability") for t in tests)
        return not long, -len(tests)

    items[:] = [item for _, tests in sorted(files.items(), key=rank) for item in tests]


@pytest.fixture(scope="session")
def neo4j_store(neo4j_uri: str) -> Iterator[Neo4jStore]:
    store = Neo4jStore(neo4j_uri)
    yield store
    store.close()


@pytest.fixture(params=["embedded", "neo4j"])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of the engine under test."""
    if engine == "embedded":
        # Bounded, so a test that leaks memory fails; 512 MB since the service tables: a past day's
        # reports over the tiny preset touch ~440 MB of pages across the twenty-odd tables (256 filled).
        s = EmbeddedStore(tmp_path / "store", buffer_pool_mb=512)
        yield s
        s.close()
    else:
        s = request.getfixturevalue("neo4j_store")
        s.wipe()
        yield s


@pytest.fixture
def other_client(engine: str, store: GraphStore, request: pytest.FixtureRequest) -> Callable[[], GraphStore]:
    """A second client of the same store, as concurrent users have: a separate connection pool
    on Neo4j; on the embedded engine, which one process opens once, the same store object (the
    tests then use threads)."""
    opened: list[GraphStore] = []

    def make() -> GraphStore:
        if engine == "embedded":
            return store
        client = Neo4jStore(request.getfixturevalue("neo4j_uri"))
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()
