"""Load test of the service on loopback: a portal's typical GraphQL queries, on either engine.

    .venv/bin/python bench/api_bench.py                       # both engines, 30 s per query
    .venv/bin/python bench/api_bench.py --engines embedded --duration 60 --connections 16
    .venv/bin/python bench/api_bench.py --engines neo4j --workers 1,2 --queries detail   # 1 then 2 workers

For each engine: a fresh store gets the demo county (``jiedui demo``), a portal user of the county
is added, and ``jiedui serve`` runs as it does in production (one process; on Neo4j, with
``--workers``, one run per number of worker processes, over the same store). Neo4j is a throwaway
server from ``scripts/neo4j-server.sh`` on its own port. Each query is driven by ``wrk`` (Debian
package ``wrk``: a C load generator, so the client costs little of the 2 cores) with keep-alive
connections (a 10 s timeout), after a 5 s warm-up; the household detail query rotates over 500
households. An error is a non-200 answer or a GraphQL ``errors`` member. Prints a Markdown table,
with the CPU time the service's processes (with ``--workers``, the supervisor and its workers)
spent per request during the timed run (the Neo4j server's own CPU is not in it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JIEDUI = str(Path(sys.executable).parent / "jiedui")
NEO4J_PORT = "7696"

#: a county's unpaired priority households with their members and pairings (one page)
UNPAIRED = """query Unpaired($region: String!) {
  unpaired(region: $region, first: 20) {
    totalCount
    edges { node { householdNo riskScore riskLevel reasons
      household { headName headId members { edges { node { name idNumber category grade } } }
                  pairings { edges { node { cadreNo startedOn endedOn cadre { name } } } } } } }
  }
}"""

#: one household with everything a detail page shows
DETAIL = """query Household($no: String!) {
  household(householdNo: $no) {
    householdNo headName headId regionCode size monitoring
    risk { score level reasons }
    members { edges { node { name idNumber category grade certExpiry } } }
    pairings { edges { node { cadreNo startedOn endedOn cadre { name phone } } } }
    auxPairings { edges { node { uscc startedOn endedOn } } }
    ledger(first: 20) { totalCount edges { node { entryDate kind note } } }
    problems { edges { node { problemNo openedOn closedOn description } } }
  }
}"""

WRK_SCRIPT = r"""
local bodies = {}
local n = 0
local i = 0
errors = 0
for line in io.lines(os.getenv("BENCH_BODIES")) do n = n + 1; bodies[n] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  i = i % n + 1
  return wrk.format(nil, "/graphql", nil, bodies[i])
end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then errors = errors + 1 end
end
function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format("RESULT {\"requests\": %d, \"seconds\": %.3f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, " ..
    "\"errors\": %d, \"socket_errors\": %d, \"non2xx\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    e, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*args: str) -> str:
    done = subprocess.run([JIEDUI, *args], capture_output=True, text=True, env=os.environ | {"COLUMNS": "200"})
    if done.returncode != 0:
        raise SystemExit(f"jiedui {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _post(base: str, token: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query, "variables": variables}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def _family(pid: int) -> list[int]:
    """The process and its descendants (the worker processes of ``jiedui serve --workers``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo += [int(c) for c in task.read_text().split()]
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far: on a machine shared with
    other work the server's CPU per request is steadier than its rate."""
    total = 0
    for member in _family(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _wrk(base: str, token: str, bodies: list[str], duration: int, connections: int, pid: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        script, lines = Path(folder) / "bench.lua", Path(folder) / "bodies.txt"
        script.write_text(WRK_SCRIPT)
        lines.write_text("\n".join(bodies) + "\n")
        env = os.environ | {"BENCH_BODIES": str(lines), "BENCH_TOKEN": token}
        for seconds, keep in ((5, False), (duration, True)):
            cpu = _cpu_seconds(pid)
            out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                                  base],
                                 capture_output=True, text=True, env=env, check=True).stdout
            cpu = _cpu_seconds(pid) - cpu
        found = re.search(r"RESULT (\{.*\})", out)
        return json.loads(found.group(1)) | {"cpu_seconds": cpu}


def _county(target: str) -> str:
    """The demo county's code, read before the service opens the store (an embedded store is
    opened by one process at a time)."""
    sys.path.insert(0, str(ROOT))
    from graph_schema.store import open_store

    store = open_store(target)
    try:
        return store.query("MATCH (r:Region) WHERE r.level = 'county' RETURN r.code AS code ORDER BY code LIMIT 1")[0][
            "code"][:6]
    finally:
        store.close()


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants."""
    total = 0
    for member in _family(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def bench_engine(engine: str, duration: int, connections: int, workers: list[int], queries: list[str]) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="jiedui-bench-"))
    env_neo4j = os.environ | {"JIEDUI_NEO4J_PORT": NEO4J_PORT, "JIEDUI_NEO4J_HOME": str(work / "neo4j")}
    if engine == "neo4j":
        started = subprocess.run(["bash", str(ROOT / "scripts" / "neo4j-server.sh"), "start"], env=env_neo4j,
                                 capture_output=True, text=True, check=True)
        store = started.stdout.strip().splitlines()[-1]
    else:
        store = str(work / "store")
        workers = [1]  # one process opens an embedded store
    try:
        _run("demo", "--store", store, "--rows", "1")
        county = _county(store)
        token = _run("user", "add", "bench-portal", "--role", "portal", "--region", county,
                     "--store", store).strip().splitlines()[-1]
        rows = []
        for n in workers:
            rows += _bench_service(engine, store, county, token, n, duration, connections, queries)
        return rows
    finally:
        if engine == "neo4j":
            subprocess.run(["bash", str(ROOT / "scripts" / "neo4j-server.sh"), "stop"], env=env_neo4j,
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def _bench_service(engine: str, store: str, county: str, token: str, workers: int, duration: int, connections: int,
                   queries: list[str]) -> list[str]:
    """The queries against ``jiedui serve --workers workers`` over the loaded store."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([JIEDUI, "serve", "--store", store, "--port", str(port), "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        listed = _post(base, token, "query($r: String!) { households(region: $r, first: 500) "
                                    "{ edges { node { householdNo } } } }", {"r": county})
        numbers = [e["node"]["householdNo"] for e in listed["data"]["households"]["edges"]]
        probe = _post(base, token, DETAIL, {"no": numbers[0]})
        assert "errors" not in probe and probe["data"]["household"], probe
        probe = _post(base, token, UNPAIRED, {"region": county})
        assert "errors" not in probe and probe["data"]["unpaired"]["totalCount"] > 0, probe
        rows = []
        cases = {"detail": ("household detail", [json.dumps({"query": DETAIL, "variables": {"no": n}}) for n in numbers]),
                 "unpaired": ("county unpaired list, page of 20",
                              [json.dumps({"query": UNPAIRED, "variables": {"region": county}})])}
        for name, bodies in (cases[q] for q in queries):
            r = _wrk(base, token, bodies, duration, connections, server.pid)
            rate = r["requests"] / r["seconds"]
            failed = r["errors"] + r["socket_errors"]
            rows.append(f"| {engine} | {workers} | {name} | {connections} | {rate:.0f} | {r['p50_ms']:.1f} | "
                        f"{r['p99_ms']:.1f} | {failed} / {r['requests']} ({100 * failed / max(1, r['requests']):.2f} %) | "
                        f"{1000 * r['cpu_seconds'] / max(1, r['requests']):.2f} | {_rss_mib(server.pid):.0f} |")
        return rows
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="embedded,neo4j")
    parser.add_argument("--duration", type=int, default=30, help="seconds per query, after a 5 s warm-up")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", default="1", help="worker processes on Neo4j, one run each: 1 or 1,2 …")
    parser.add_argument("--queries", default="detail,unpaired", help="detail, unpaired or both")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"{dt.date.today()} · 2 cores · wrk 1 thread, {args.connections} keep-alive connections, "
          f"{args.duration} s after a 5 s warm-up\n")
    print("| engine | workers | query | connections | requests/s | p50 (ms) | p99 (ms) | errors | "
          "service CPU per request (ms) | server RSS after (MiB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    workers = [int(n) for n in args.workers.split(",")]
    for engine in args.engines.split(","):
        for row in bench_engine(engine, args.duration, args.connections, workers, args.queries.split(",")):
            print(row, flush=True)


if __name__ == "__main__":
    main()
