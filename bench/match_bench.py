"""Matching benchmark: the candidate graph and both solvers at four sizes, and a province proposal.

    .venv/bin/python bench/match_bench.py --sizes 1k,10k,100k,province
    .venv/bin/python bench/match_bench.py --propose-province
    .venv/bin/python bench/match_bench.py --propose-province --store DIR   # keep the loaded store in DIR

Sizes: whole regions of the province preset's synthetic society (seed 1), so villages, townships and
cadres have their real density: 1k ≈ five townships of one county, 10k ≈ three counties, 100k ≈ 32
counties, ``province`` the full preset (84 counties). A county has ~3.2k priority households. The parent
turns the data into an ``Instance`` the way the service does from a store and pickles it; every
measurement (build + OR-Tools, build + networkx) then runs in its own child process, so its times
and its peak RSS are its own. networkx gets 600 s; it is not tried above 10k when 10k took over 60 s.

Propose: loads the full preset into an embedded store once (``synth.load``, in a child process;
a temporary directory deleted afterwards unless ``--store DIR`` names one, which is reused when it
already holds the data), then times the phases of ``matching.service.propose`` for the province
(``62``) in a fresh child per buffer-pool size (``JIEDUI_EMBEDDED_BUFFER_POOL_MB``; 0 = the
engine's default, 80% of memory). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

def _sizes() -> dict:
    from importers.synth import PRESETS, Preset

    return {"1k": Preset(1, 1, 5, 13, 46), "10k": Preset(1, 3, 14, 13, 46), "100k": Preset(4, 8, 14, 13, 46),
            "province": PRESETS["province"]}


SIZES = ("1k", "10k", "100k", "province")
NETWORKX_TIMEOUT = 600
NETWORKX_SKIP_AFTER = 60  # seconds at 10k above which the larger sizes are extrapolated
REGION = "62"


# --- children: each writes one JSON result to the file the parent names ----------------------
def child_solve(instance_path: str, solver: str) -> dict:
    """Build + solve one pickled instance with one solver, so the RSS is that solver's alone."""
    from matching.candidates import build_candidates
    from matching.solve import solve

    instance = pickle.loads(Path(instance_path).read_bytes())
    start = time.perf_counter()
    graph = build_candidates(instance)
    built = time.perf_counter()
    assignment = solve(graph, solver)
    done = time.perf_counter()
    return {"build": built - start, "solve": done - built, "arcs": graph.arcs, "components": graph.components,
            "cost": assignment.cost, "paired": int((assignment.cadre >= 0).sum())}


def child_load(store_dir: str) -> dict:
    """Generate the province preset and write it with ``synth.load``, printing progress."""
    from graph_schema.store import open_store
    from importers import synth

    start = time.perf_counter()
    data = synth.generate("province", seed=1)
    generated = time.perf_counter()
    print(f"generated in {generated - start:.0f} s; loading", file=sys.stderr, flush=True)
    done, last = Counter(), [generated]

    def progress(kind: str, n: int) -> None:
        done[kind] += n
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  {time.perf_counter() - generated:6.0f} s  {kind}: {done[kind]:,}", file=sys.stderr, flush=True)

    store = open_store(store_dir)
    try:
        counts = synth.load(store, data, progress)
    finally:
        store.close()
    return {"generate": generated - start, "load": time.perf_counter() - generated, "counts": counts,
            "households": len(data.households), "cadres": len(data.cadres)}


def child_propose(store_dir: str) -> dict:
    """``propose`` for the province, one phase at a time (the calls ``service.propose`` makes)."""
    from graph_schema.store import open_store
    from matching import service
    from matching.candidates import Reach, build_candidates
    from matching.explain import explain
    from matching.solve import solve

    marks = [("start", time.perf_counter())]
    store = open_store(store_dir)
    marks.append(("open_store", time.perf_counter()))
    loaded = service.load_instance(store=store, region=REGION)
    marks.append(("load_instance", time.perf_counter()))
    graph = build_candidates(loaded.instance)
    marks.append(("build_candidates", time.perf_counter()))
    assignment = solve(graph, "ortools")
    marks.append(("solve (OR-Tools)", time.perf_counter()))
    proposal = service.make_proposal(loaded, explain(graph, assignment), objective=assignment.cost,
                                     reach=Reach.TOWNSHIP, solver="ortools")
    marks.append(("explain + make_proposal", time.perf_counter()))
    store.close()
    return {"phases": {name: t - marks[i][1] for i, (name, t) in enumerate(marks[1:])},
            "households": len(loaded.instance.household_no), "cadres": len(loaded.instance.cadre_no),
            "arcs": graph.arcs, "components": graph.components, "objective": proposal.objective,
            "pairs": len(proposal.pairs), "unpaired": len(proposal.unpaired),
            "reasons": Counter(u.reason_code for u in proposal.unpaired),
            "summary": proposal.summary.model_dump()}


CHILDREN = {"solve": child_solve, "load": child_load, "propose": child_propose}


def run_child(kind: str, *args: str, timeout: float | None = None,
              env: dict | None = None) -> tuple[dict | None, float, float]:
    """(result or None on timeout, wall seconds, peak RSS GiB) of this script run as a child: its
    own ``ru_maxrss`` from ``wait4``, so each measurement's memory is separate from the others'."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, __file__, "--child", kind, out.name, *args],
                                 env={**os.environ, **(env or {})})
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - start > timeout:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                return None, time.perf_counter() - start, usage.ru_maxrss / 1024 ** 2
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"child {kind} {args} failed with status {os.waitstatus_to_exitcode(status)}")
        return json.loads(Path(out.name).read_text()), seconds, usage.ru_maxrss / 1024 ** 2


def secs(value: float) -> str:
    """Milliseconds below a second: the small sizes solve in a few ms."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# --- sizes ---------------------------------------------------------------------------------
def instance_of(data):
    """The instance ``service.load_instance`` would read from a store holding ``data`` (reach
    township): priority households with their risk score and 在岗 current cadre; 在岗 cadres with
    the active pairings they hold outside the instance."""
    from graph_schema.monitoring import risk
    from graph_schema.settings import RiskWeights
    from matching.candidates import Instance

    weights = RiskWeights()
    members: dict[str, list] = {}
    for p in data.persons:
        members.setdefault(p.household_no, []).append(p)
    active = {p.household_no: p.cadre_no for p in data.pairings if p.ended_on is None}
    on_duty = {c.cadre_no: c.on_duty for c in data.cadres}
    households = []
    for h in data.households:
        ms = members.get(h.household_no, [])
        facts = risk.RiskFacts(h.monitoring, h.tekun, h.dibao, h.elderly_carer, h.labour, len(ms),
                               sum(1 for p in ms if p.grade <= 2))
        if facts.priority:
            current = active.get(h.household_no)
            households.append({"household_no": h.household_no, "region_code": h.region_code,
                               "risk_score": risk.score(facts, weights),
                               "current_cadre_no": current if current and on_duty[current] else None})
    inside = {h["household_no"] for h in households}
    held = Counter(c for h, c in active.items() if h not in inside)
    cadres = [{"cadre_no": c.cadre_no, "station_code": c.station_code, "pair_limit": c.pair_limit,
               "held": held[c.cadre_no]} for c in data.cadres if c.on_duty]
    return Instance.from_records(households, cadres)


def bench_sizes(names: list[str], workdir: Path) -> None:
    from importers import synth

    rows, nx_10k = [], None
    for name in names:
        start = time.perf_counter()
        data = synth.generate(_sizes()[name], seed=1)
        instance = instance_of(data)
        path = workdir / f"{name}.pickle"
        path.write_bytes(pickle.dumps(instance))
        row = {"name": name, "households": len(data.households), "priority": len(instance.household_no),
               "cadres": len(instance.cadre_no)}
        del data, instance
        print(f"{name}: instance ready in {time.perf_counter() - start:.0f} s {row}", file=sys.stderr, flush=True)
        row["ortools"], _, row["ortools_rss"] = run_child("solve", str(path), "ortools")
        print(f"  OR-Tools {row['ortools']}", file=sys.stderr, flush=True)
        if nx_10k is not None and nx_10k[0] > NETWORKX_SKIP_AFTER:
            row["networkx"] = "skipped"
        else:
            row["networkx"], wall, row["networkx_rss"] = run_child("solve", str(path), "networkx",
                                                                   timeout=NETWORKX_TIMEOUT)
            print(f"  networkx {row['networkx'] or f'killed after {wall:.0f} s'}", file=sys.stderr, flush=True)
            if name == "10k":
                nx_10k = (row["networkx"]["solve"] if row["networkx"] else math.inf, row["ortools"]["arcs"])
        if isinstance(row["networkx"], dict):
            assert row["networkx"]["cost"] == row["ortools"]["cost"], (name, row["networkx"], row["ortools"])
        rows.append(row)
        path.unlink()
    print_sizes(rows)


def print_sizes(rows: list[dict]) -> None:
    print("\n| size | households (priority) | 在岗 cadres | arcs | components | build graph | OR-Tools solve "
          "| OR-Tools peak RSS | networkx solve | networkx peak RSS | networkx / OR-Tools | optimal cost (both) |")
    print("| --- |" + " --- |" * 11)
    known = [(r["ortools"]["arcs"], r["networkx"]["solve"]) for r in rows if isinstance(r.get("networkx"), dict)]
    growth = math.log(known[-1][1] / known[-2][1]) / math.log(known[-1][0] / known[-2][0]) if len(known) > 1 else 1
    for r in rows:
        o, n = r["ortools"], r["networkx"]
        if isinstance(n, dict):
            nx_cells = [secs(n["solve"]), f"{r['networkx_rss']:.2f} GiB", f"{n['solve'] / o['solve']:.1f}×"]
            cost = f"{o['cost']:,} (equal)"
        elif n is None:
            nx_cells = [f"did not finish in {NETWORKX_TIMEOUT} s", f"{r['networkx_rss']:.2f} GiB (when stopped)",
                        f"> {(NETWORKX_TIMEOUT - o['build']) / o['solve']:.0f}×"]
            cost = f"{o['cost']:,}"
        else:
            guess = known[-1][1] * (o["arcs"] / known[-1][0]) ** growth
            nx_cells = [f"not run: extrapolated from 10k, ~{guess:,.0f} s (time ∝ arcs^{growth:.2f})", "—",
                        f"~{guess / o['solve']:,.0f}×"]
            cost = f"{o['cost']:,}"
        print(f"| {r['name']} | {r['households']:,} ({r['priority']:,}) | {r['cadres']:,} | {o['arcs']:,} | "
              f"{o['components']:,} | {secs(o['build'])} | {secs(o['solve'])} | {r['ortools_rss']:.2f} GiB | "
              + " | ".join(nx_cells) + f" | {cost} |")


# --- the province proposal -----------------------------------------------------------------
def bench_propose(store_arg: str | None, pools: list[int]) -> None:
    base = Path(store_arg) if store_arg else Path(tempfile.mkdtemp(prefix="match-bench-"))
    marker = base / "loaded.json"
    try:
        if marker.exists():
            loaded = json.loads(marker.read_text())
            print(f"reusing the store in {base} (loaded earlier: {loaded})", file=sys.stderr)
        else:
            shutil.rmtree(base / "db", ignore_errors=True)
            loaded, wall, peak = run_child("load", str(base / "db"))
            loaded["peak_rss"] = peak
            marker.write_text(json.dumps(loaded))
        print(f"\nstore: generate {loaded['generate']:.0f} s, synth.load {loaded['load']:.0f} s "
              f"(peak RSS {loaded['peak_rss']:.2f} GiB); {loaded['households']:,} households, "
              f"{loaded['cadres']:,} cadres")
        runs = []
        for pool in pools:
            result, wall, peak = run_child("propose", str(base / "db"),
                                           env={"JIEDUI_EMBEDDED_BUFFER_POOL_MB": str(pool)})
            runs.append((pool, result, wall, peak))
            print(f"pool {pool}: {result}", file=sys.stderr, flush=True)
    finally:
        if not store_arg:
            shutil.rmtree(base, ignore_errors=True)
    print_propose(runs)


def print_propose(runs: list[tuple]) -> None:
    label = lambda pool: f"pool {pool} MiB" if pool else "pool default (80% of RAM)"  # noqa: E731
    print("\n| phase | " + " | ".join(label(pool) for pool, *_ in runs) + " |")
    print("| --- |" + " --- |" * len(runs))
    for phase in runs[0][1]["phases"]:
        print(f"| {phase} | " + " | ".join(f"{r['phases'][phase]:.2f} s" for _, r, *_ in runs) + " |")
    print("| **propose: load_instance to make_proposal** | "
          + " | ".join(f"**{sum(v for k, v in r['phases'].items() if k != 'open_store'):.2f} s**"
                       for _, r, *_ in runs) + " |")
    print("| child process wall time (with imports) | " + " | ".join(f"{w:.2f} s" for _, _, w, _ in runs) + " |")
    print("| peak RSS of the child | " + " | ".join(f"{p:.2f} GiB" for *_, p in runs) + " |")
    r = runs[0][1]
    print(f"\n{r['households']:,} priority households, {r['cadres']:,} 在岗 cadres, {r['arcs']:,} arcs, "
          f"{r['components']:,} components; objective {r['objective']:,}; {r['pairs']:,} pairs, "
          f"{r['unpaired']:,} unpaired {dict(r['reasons'])}; summary {r['summary']}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, out, *args = sys.argv[2:]
        Path(out).write_text(json.dumps(CHILDREN[kind](*args)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help="comma-separated, of " + ",".join(SIZES))
    parser.add_argument("--propose-province", action="store_true")
    parser.add_argument("--store", help="directory for the province store (kept, and reused when loaded)")
    parser.add_argument("--pool-mb", default="1024,0", help="buffer pool sizes for the propose runs (0 = default)")
    args = parser.parse_args()
    if args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            bench_sizes(args.sizes.split(","), Path(tmp))
    if args.propose_province:
        bench_propose(args.store, [int(x) for x in args.pool_mb.split(",")])
    if not (args.sizes or args.propose_province):
        parser.print_help()


if __name__ == "__main__":
    main()
