"""Soak: a mixed load on the running service for ``JIEDUI_SOAK_SECONDS`` (default 60; the full run
600), on the embedded engine: GraphQL household details and unpaired lists, REST lists and
reports, and ledger writes, from 4 client threads. Every 5 s (30 s in a full run) the server's
memory (RSS, and its buffer-pool and heap parts), the write-ahead log's size and the window's
latency percentiles are sampled. It passes with zero errors and no memory growth trend: the last
third's mean RSS is within 10 % (plus 32 MiB) of the middle third's.
The samples are written to ``JIEDUI_SOAK_JSON`` (default: ``soak.json`` in the test's folder);
``bench/soak_plot.py`` draws them (``docs/reliability.md`` reports a full run)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from graph_schema.store.embedded import DB_FILE

pytestmark = pytest.mark.reliability
SECONDS = int(os.environ.get("JIEDUI_SOAK_SECONDS", "60"))
SAMPLE = 30 if SECONDS >= 300 else 5
JIEDUI = str(Path(sys.executable).parent / "jiedui")

DETAIL = ("query($no: String!) { household(householdNo: $no) { householdNo members { edges { node { name grade } } } "
          "pairings { edges { node { cadreNo cadre { name } } } } ledger(first: 10) { totalCount } "
          "problems { edges { node { problemNo } } } } }")
UNPAIRED = ("{ unpaired(first: 20) { totalCount edges { node { householdNo "
            "household { members { edges { node { name } } } } } } } }")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mib(pid: int) -> dict[str, float]:
    """The server's resident memory, whole and in two parts read from its mappings: the engine's
    buffer pool (the one anonymous mapping reserved far beyond the machine's memory) and the
    allocator's heap (every other anonymous mapping: Python objects and the engine's own mallocs)."""
    total = pool = heap = 0
    size, name = 0, ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and not head[0].endswith(":"):
            start, end = (int(a, 16) for a in head[0].split("-"))
            size, name = end - start, head[5] if len(head) > 5 else ""
        elif head[0] == "Rss:":
            kib = int(head[1])
            total += kib
            if size > 1 << 40:
                pool += kib
            elif name in ("", "[heap]"):
                heap += kib
    return {"rss_mib": round(total / 1024, 1), "pool_mib": round(pool / 1024, 1), "heap_mib": round(heap / 1024, 1)}


class Load:
    def __init__(self, base: str, tokens: dict[str, str], households: list[tuple[str, str]]) -> None:
        self.base, self.tokens, self.households = base, tokens, households
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.requests = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                payload = answer.read()
                ok = answer.status in (200, 201) and (not path.startswith("/graphql") or b'"errors"' not in payload)
                problem = None if ok else f"{method} {path}: {answer.status} {payload[:200]!r}"
        except urllib.error.HTTPError as exc:
            problem = f"{method} {path}: {exc.code} {exc.read()[:200]!r}"
        except OSError as exc:
            problem = f"{method} {path}: {exc}"
        with self.lock:
            self.requests += 1
            self.latencies.append(time.perf_counter() - started)
            if problem:
                self.errors.append(problem)

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        portal, organiser = self.tokens["county-portal"], self.tokens["county-organizer"]
        while not self.stop.is_set():
            household_no, cadre_no = rng.choice(self.households)
            pick = rng.random()
            if pick < 0.45:
                self.call("POST", "/graphql", portal, {"query": DETAIL, "variables": {"no": household_no}})
            elif pick < 0.60:
                self.call("POST", "/graphql", portal, {"query": UNPAIRED})
            elif pick < 0.75:
                self.call("GET", f"/api/v1/households?page={rng.randint(1, 50)}&page_size=20", organiser)
            elif pick < 0.85:
                name = rng.choice(["overdue-visits", "open-problems", "cadre-load", "unpaired"])
                self.call("GET", f"/api/v1/reports/{name}?page_size=20", organiser)
            else:
                self.call("POST", "/api/v1/ledger", organiser, {
                    "entry_date": dt.date.today().isoformat(), "household_no": household_no, "cadre_no": cadre_no,
                    "kind": "联系交流", "note": f"soak {seed} {rng.random():.12f}"})


def test_a_mixed_load_runs_without_errors_or_memory_growth(tmp_path):
    store, port = tmp_path / "store", _port()
    # a fresh store: the service imports the demo county and makes the demo users first
    # a bounded buffer pool: the engine otherwise caches pages up to 80 % of the machine's memory,
    # which would look like growth
    # a short run reopens the database every 200 writes (~25 s), so that even CI's run has the
    # reopening happen under load; a full run keeps the service's own setting
    reopen = {"JIEDUI_EMBEDDED_REOPEN_WRITES": "200"} if SECONDS < 300 else {}
    server = subprocess.Popen([JIEDUI, "serve", "--store", str(store), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=os.environ | {"JIEDUI_EMBEDDED_BUFFER_POOL_MB": "512"} | reopen)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(base + "/login", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        tokens = {line.split("\t")[0]: line.split("\t")[2] for line in (store / "demo-tokens.txt").read_text().splitlines()}
        households = _paired(base, tokens["admin"])
        load = Load(base, tokens, households)
        threads = [threading.Thread(target=load.client, args=(k,), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        samples, started = [], time.monotonic()
        while (elapsed := time.monotonic() - started) < SECONDS:
            time.sleep(SAMPLE)
            with load.lock:
                window, load.latencies = load.latencies, []
            quantiles = statistics.quantiles(window, n=100) if len(window) > 1 else [0.0] * 99
            wal = store / f"{DB_FILE}.wal"
            samples.append({"t": round(time.monotonic() - started), **_memory_mib(server.pid),
                            "wal_mib": round(wal.stat().st_size / 2**20, 1) if wal.exists() else 0.0,
                            "requests": len(window), "p50_ms": round(quantiles[49] * 1000, 1),
                            "p99_ms": round(quantiles[98] * 1000, 1)})
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
        Path(os.environ.get("JIEDUI_SOAK_JSON", tmp_path / "soak.json")).write_text(json.dumps({"seconds": SECONDS, "requests": load.requests,
                                                        "errors": load.errors[:20], "samples": samples}, indent=1))
        print(json.dumps(samples))
        assert load.requests > 0 and load.errors == [], load.errors[:5]
        third = max(1, len(samples) // 3)
        middle = statistics.mean(s["rss_mib"] for s in samples[third:2 * third] or samples)
        last = statistics.mean(s["rss_mib"] for s in samples[-third:])
        assert last <= middle * 1.10 + 32, f"memory grows: {middle:.0f} → {last:.0f} MiB"
    finally:
        server.terminate()
        server.wait(timeout=60)


def _paired(base: str, admin: str) -> list[tuple[str, str]]:
    """(household, its cadre) of the active pairings: what the load reads and writes for."""
    body = json.dumps({"query": "{ cadres(first: 200) { edges { node { cadreNo "
                                "households { edges { node { householdNo } } } } } } }"}).encode()
    request = urllib.request.Request(base + "/graphql", data=body, headers={
        "Authorization": f"Bearer {admin}", "Content-Type": "application/json"})
    answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    return [(h["node"]["householdNo"], e["node"]["cadreNo"]) for e in answer["data"]["cadres"]["edges"]
            for h in e["node"]["households"]["edges"]]
