"""GraphQL at /graphql: a nested query costs a number of store calls bounded by its depth, not by
the number of objects it returns (the DataLoaders batch every level into one read), and those
calls run on worker threads, so a heavy query never holds the other requests."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import httpx

from factories import cadre, household, person
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import LedgerKind
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.pairing.service import aux_pair, pair

VILLAGE_C = "620822100203"
NESTED = """query($first: Int!) { households(region: "620822100203", first: $first) { totalCount edges { node {
  householdNo members { edges { node { name grade } } } risk { score level }
  pairings { edges { node { cadreNo active cadre { name load atLimit households { edges { node { householdNo headName } } } } } } }
  auxPairings { totalCount edges { node { organisation { name } household { householdNo } } } }
  ledger { totalCount edges { node { kind note } } }
  problems { edges { node { problemNo open } } } } } } }"""


def _populate(world, n: int) -> None:
    """``n`` households in one village, each with a member, its own cadre, a visit and a problem;
    every other one also paired with organisation A."""
    day = dt.date.today() - dt.timedelta(days=10)
    nos = [f"HC{i:02d}" for i in range(n)]
    upsert_households(store=world.store, households=[household(no, VILLAGE_C, tekun=True) for no in nos])
    upsert_persons(store=world.store, persons=[person(no, grade=2) for no in nos])
    upsert_cadres(store=world.store, cadres=[cadre(f"CC{i:02d}", VILLAGE_C) for i in range(n)])
    entries = []
    for i, no in enumerate(nos):
        pair(store=world.store, household_no=no, cadre_no=f"CC{i:02d}", started_on=day)
        if i % 2 == 0:
            aux_pair(store=world.store, household_no=no, uscc=world.org_a, started_on=day)
        entries += [LedgerEntry(entry_date=day, household_no=no, cadre_no=f"CC{i:02d}", kind=LedgerKind.VISIT, note="走访"),
                    LedgerEntry(entry_date=day, household_no=no, cadre_no=f"CC{i:02d}", kind=LedgerKind.REPORT_PROBLEM,
                                problem_no=f"PC{i:02d}", note="缺辅具")]
    log_entries(store=world.store, entries=entries)


def _counting(monkeypatch, store) -> list[str]:
    """Count the store's read transactions and single queries (each still runs for real)."""
    calls: list[str] = []
    real_read, real_query = store.read, store.query

    def read(work):
        calls.append("read")
        return real_read(work)

    def query(text, params=None):
        calls.append("query")
        return real_query(text, params)

    monkeypatch.setattr(store, "read", read)
    monkeypatch.setattr(store, "query", query)
    return calls


def test_a_nested_query_costs_the_same_store_calls_for_2_or_20_households(client, world, monkeypatch):
    _populate(world, 20)
    auth = world.auth("organizer-a")
    client.post("/graphql", json={"query": "{ cadres(first: 1) { totalCount } }"}, headers=auth)  # the token is cached
    calls = _counting(monkeypatch, world.store)
    spent = {}
    for n in (2, 20):
        calls.clear()
        got = client.post("/graphql", json={"query": NESTED, "variables": {"first": n}}, headers=auth).json()
        assert "errors" not in got, got
        edges = got["data"]["households"]["edges"]
        assert len(edges) == n and got["data"]["households"]["totalCount"] == 20
        for i, edge in enumerate(edges):  # every level really came back, for every household
            node = edge["node"]
            assert node["members"]["edges"][0]["node"]["grade"] == 2 and node["risk"]["level"] == "中"
            pairing = node["pairings"]["edges"][0]["node"]
            assert pairing["cadre"]["households"]["edges"] == [
                {"node": {"householdNo": node["householdNo"], "headName": "测试户主"}}]
            assert pairing["cadre"]["load"] == 1 and node["ledger"]["totalCount"] == 2
            assert node["problems"]["edges"] == [{"node": {"problemNo": f"PC{i:02d}", "open": True}}]
            assert node["auxPairings"]["totalCount"] == len(node["auxPairings"]["edges"]) == (1 if i % 2 == 0 else 0)
        spent[n] = list(calls)
    # the list; the households' members, pairings, ledger, problems; the cadres and organisations;
    # the cadres' loads and households (already known from the list)
    assert spent[2] == spent[20] == ["read"] * 4


def test_sibling_regions_share_one_coverage_run(client, world, monkeypatch):
    _populate(world, 2)
    auth = world.auth("organizer-a")
    query = '{ region(code: "620822100000") { children { edges { node { code coverage { priorityHouseholds paired } } } } } }'
    client.post("/graphql", json={"query": query}, headers=auth)
    calls = _counting(monkeypatch, world.store)
    got = client.post("/graphql", json={"query": query}, headers=auth).json()["data"]["region"]["children"]["edges"]
    assert [(e["node"]["code"], e["node"]["coverage"]) for e in got] == [
        ("620822100201", {"priorityHouseholds": 1, "paired": 1}),
        ("620822100202", {"priorityHouseholds": 0, "paired": 0}),
        ("620822100203", {"priorityHouseholds": 2, "paired": 2})]
    assert calls == ["read"] * 3  # the region, its children, one coverage run on the township


RUNS = 24


def test_the_event_loop_answers_while_a_heavy_query_runs(client, world):
    """24 coverage runs (a different date each, so none is shared: as many as the cost limit allows)
    take a while; a small request sent a third of the way into them is answered at once. When store
    calls ran on the event loop it waited for the rest of them."""
    upsert_households(store=world.store, households=[
        household(f"HL{i:05d}", f"6208221002{i % 20:02d}", tekun=i % 3 == 0) for i in range(20_000)])
    heavy = {"query": "{ " + " ".join(
        f'c{i}: region(code: "620822") {{ coverage(asOf: "2024-{1 + i % 12:02d}-{1 + i // 12:02d}") {{ pairingRate }} }}'
        for i in range(RUNS)) + " }"}
    small = {"query": "{ __typename }"}  # needs the caller (the token cache) and the loop, nothing else
    auth = world.auth("organizer-a")

    async def run() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=300) as http:
            await http.post("/graphql", json=heavy, headers=auth)  # warm: query plans, connections
            started = time.perf_counter()
            answer = await http.post("/graphql", json=heavy, headers=auth)
            alone = time.perf_counter() - started
            assert "errors" not in answer.json() and len(answer.json()["data"]) == RUNS
            due = alone / 3
            started = time.perf_counter()
            running = asyncio.create_task(http.post("/graphql", json=heavy, headers=auth))
            await asyncio.sleep(due)
            assert (await http.post("/graphql", json=small, headers=auth)).status_code == 200
            waited = time.perf_counter() - started - due  # from when it was due, however late the loop woke
            assert (await running).status_code == 200
            return waited, alone

    waited, alone = asyncio.run(run())
    assert alone > 0.1, f"the heavy query took only {alone:.2f} s: too light to tell"
    assert waited < alone / 4, f"the small request waited {waited:.2f} s; the heavy query takes {alone:.2f} s"


def test_the_embedded_engine_runs_at_most_two_loader_reads_at_once(client, world, monkeypatch):
    """Twelve requests for two households at once: on the embedded engine at most
    ``EMBEDDED_READS_AT_ONCE`` of their reads run together (more only contend in the engine); on
    Neo4j, where a read mostly waits for the server, more run together. Every request is answered.
    (Two households, so that no read is the small one-household read, which runs on the loop.)"""
    from api.graphql.loaders import EMBEDDED_READS_AT_ONCE
    from graph_schema.store.base import Dialect

    auth = world.auth("organizer-a")
    client.post("/graphql", json={"query": "{ __typename }"}, headers=auth)  # the token is cached
    running, most, lock = [0], [0], threading.Lock()
    real_read = world.store.read

    def read(work):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the others to arrive
            return real_read(work)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(world.store, "read", read)
    query = {"query": '{ household(householdNo: "HA1") { householdNo members { edges { node { name } } } } '
                      'other: household(householdNo: "HA2") { householdNo } }'}

    async def run() -> list[dict]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
            answers = await asyncio.gather(*(http.post("/graphql", json=query, headers=auth) for _ in range(12)))
        return [a.json() for a in answers]

    answers = asyncio.run(run())
    assert all(a == answers[0] for a in answers) and answers[0]["data"]["other"] == {"householdNo": "HA2"}
    assert answers[0]["data"]["household"]["householdNo"] == "HA1"
    if world.store.dialect is Dialect.LADYBUG:
        assert most[0] == EMBEDDED_READS_AT_ONCE == 2
    else:
        assert most[0] > EMBEDDED_READS_AT_ONCE


DETAIL = {"query": '{ household(householdNo: "HA1") { householdNo members { edges { node { grade } } } '
                   'ledger { totalCount } } }'}


def _threads_reading(monkeypatch, store) -> list[bool]:
    """For each read transaction of the store, whether it ran on the event loop's thread."""
    on_loop: list[bool] = []
    real_read = store.read

    def read(work):
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real_read(work)

    monkeypatch.setattr(store, "read", read)
    return on_loop


def _detail(client, auth) -> dict:
    got = client.post("/graphql", json=DETAIL, headers=auth).json()
    assert got == {"data": {"household": {"householdNo": "HA1", "members": {"edges": [{"node": {"grade": 1}}]},
                                          "ledger": {"totalCount": 2}}}}, got
    return got


def test_one_households_detail_is_read_on_the_loop_when_the_store_can_begin_it(client, world, monkeypatch):
    """The embedded engine answers one household's detail on the event loop (the hop to a worker
    thread cost more than the read); a list, however short, and any Neo4j read go to a worker."""
    from graph_schema.store.base import Dialect

    auth = world.auth("organizer-a")
    _detail(client, auth)  # the token is cached
    on_loop = _threads_reading(monkeypatch, world.store)
    _detail(client, auth)
    got = client.post("/graphql", json={"query": '{ households(region: "620822", first: 1) { totalCount } }'},
                      headers=auth).json()
    assert got["data"]["households"]["totalCount"] >= 2
    embedded = world.store.dialect is Dialect.LADYBUG
    assert world.store.reads_at_once() is embedded
    assert on_loop[0] is embedded
    assert on_loop[1:] and not any(on_loop[1:])  # the list's reads


def test_the_detail_goes_to_a_worker_while_a_write_commits(client, world, monkeypatch):
    """A write's commit may checkpoint, and the engine then holds new transactions back: while one
    commits the embedded store cannot promise to begin a read at once, so the detail is read on a
    worker thread and the event loop never waits for another request's write. A write merely
    running holds no read back."""
    from graph_schema.store.base import Dialect

    if world.store.dialect is not Dialect.LADYBUG:
        assert not world.store.reads_at_once()  # a server's reads always wait for the network
        return
    auth = world.auth("organizer-a")
    _detail(client, auth)
    working, committing, release = threading.Event(), threading.Event(), threading.Event()
    real = world.store._writer

    class PausedInCommit:
        """The store's writer connection, held in its COMMIT until released."""

        def execute(self, query, *args):
            if query == "COMMIT":
                committing.set()
                assert release.wait(30)
            return real.execute(query, *args)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(world.store, "_writer", PausedInCommit())

    def work(tx):
        working.set()
        assert committing.wait(0) or world.store.reads_at_once()  # running, not committing
        tx.run("MATCH (h:Household {household_no: 'HA1'}) SET h.phone = h.phone")

    writer = threading.Thread(target=world.store.write, args=(work,))
    writer.start()
    try:
        assert committing.wait(30) and working.is_set()
        assert not world.store.reads_at_once()
        on_loop = _threads_reading(monkeypatch, world.store)
        _detail(client, auth)
        assert on_loop == [False]
    finally:
        release.set()
        writer.join(30)
    assert world.store.reads_at_once()


def test_the_detail_goes_to_a_worker_while_the_store_reopens(world):
    """A reopening holds new transactions back until it is done: no read begins at once then."""
    from graph_schema.store.base import Dialect

    if world.store.dialect is not Dialect.LADYBUG:
        assert not world.store.reads_at_once()  # a server's reads always wait for the network
        return
    closed, release = threading.Event(), threading.Event()
    gate = world.store._gate

    def reopen() -> None:
        with gate.alone():
            closed.set()
            assert release.wait(30)

    thread = threading.Thread(target=reopen)
    thread.start()
    try:
        assert closed.wait(30)
        assert not world.store.reads_at_once()
    finally:
        release.set()
        thread.join(30)
    assert world.store.reads_at_once()
