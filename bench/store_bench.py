"""Store benchmark: create N households with members and M pairings through the services' batch
path, then time the unpaired-priority query for the whole province and for one county.

    .venv/bin/python bench/store_bench.py --engine both            # 100k households, 50k pairings
    .venv/bin/python bench/store_bench.py --engine embedded --households 10000 --pairings 5000

With ``--engine neo4j`` or ``both`` it starts the test server (scripts/neo4j-server.sh) unless
``--neo4j-uri`` names a running one. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_schema.cadre.service import upsert_cadres  # noqa: E402
from graph_schema.household.service import upsert_households, upsert_persons  # noqa: E402
from graph_schema.monitoring.unpaired import unpaired_priority  # noqa: E402
from graph_schema.pairing.models import PairRequest  # noqa: E402
from graph_schema.pairing.service import pair_many  # noqa: E402
from graph_schema.region.service import upsert_regions  # noqa: E402
from graph_schema.store.embedded import EmbeddedStore  # noqa: E402
from graph_schema.store.neo4j import Neo4jStore  # noqa: E402
from importers import synth  # noqa: E402


def pairings_for(data: synth.SynthData, wanted: int) -> list[PairRequest]:
    """``wanted`` pairings with cadres of the same village, within limits, on-duty cadres only."""
    room: dict[str, list[list]] = defaultdict(list)
    for c in data.cadres:
        if c.on_duty:
            room[c.station_code].append([c.cadre_no, c.pair_limit])
    out = []
    for h in data.households:
        slots = room[h.region_code]
        while slots and slots[0][1] == 0:
            slots.pop(0)
        if not slots:
            continue
        slots[0][1] -= 1
        out.append(PairRequest(household_no=h.household_no, cadre_no=slots[0][0], started_on=dt.date(2024, 1, 1)))
        if len(out) == wanted:
            break
    return out


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def run(engine: str, store, data, pairs, runs: int) -> dict:
    steps = {}
    _, steps["regions"] = timed(lambda: upsert_regions(store=store, regions=data.regions))
    _, steps["households"] = timed(lambda: upsert_households(store=store, households=data.households))
    _, steps["persons"] = timed(lambda: upsert_persons(store=store, persons=data.persons))
    _, steps["cadres"] = timed(lambda: upsert_cadres(store=store, cadres=data.cadres))
    made, steps["pairings"] = timed(lambda: pair_many(store=store, requests=pairs))
    assert len(made.created) == len(pairs), made.errors[:3]
    _, steps["re-upsert households (unchanged)"] = timed(
        lambda: upsert_households(store=store, households=data.households))
    county = data.households[0].region_code[:6]
    queries = {}
    for label, region in (("province", "62"), (f"county {county}", county)):
        times, total = [], 0
        for _ in range(runs):
            page, seconds = timed(lambda: unpaired_priority(store=store, region=region))
            times.append(seconds)
            total = page.total
        queries[label] = (statistics.median(times), min(times), max(times), total)
    return {"engine": engine, "steps": steps, "queries": queries,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["embedded", "neo4j", "both"], default="both")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--pairings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--neo4j-uri", default=os.environ.get("JIEDUI_TEST_NEO4J_URI"))
    args = parser.parse_args()

    data, gen_seconds = timed(lambda: synth.generate("province", seed=42, households=args.households))
    data.cadres = [c.model_copy(update={"pair_limit": 5}) for c in data.cadres]
    pairs = pairings_for(data, args.pairings)
    print(f"generated {len(data.households)} households, {len(data.persons)} persons, {len(data.cadres)} cadres, "
          f"{len(pairs)} pairings in {gen_seconds:.1f}s", file=sys.stderr)
    results = []
    engines = ["embedded", "neo4j"] if args.engine == "both" else [args.engine]
    started_server = False
    for engine in engines:
        if engine == "embedded":
            with tempfile.TemporaryDirectory() as tmp, EmbeddedStore(Path(tmp) / "bench") as store:
                results.append(run(engine, store, data, pairs, args.runs))
            print(results[-1], file=sys.stderr)
        else:
            uri = args.neo4j_uri
            if not uri:
                uri = subprocess.run(["bash", str(ROOT / "scripts/neo4j-server.sh"), "start"], check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1]
                started_server = True
            try:
                with Neo4jStore(uri) as store:
                    store.wipe()
                    results.append(run(engine, store, data, pairs, args.runs))
                    print(results[-1], file=sys.stderr)
                    store.wipe()
            finally:
                if started_server:
                    subprocess.run(["bash", str(ROOT / "scripts/neo4j-server.sh"), "stop"], check=False)
    print(f"\n{dt.date.today()} · {platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
          f"{len(data.households)} households, {len(data.persons)} persons, {len(data.cadres)} cadres, "
          f"{len(pairs)} pairings\n")
    print("| step | " + " | ".join(r["engine"] for r in results) + " |")
    print("| --- |" + " --- |" * len(results))
    for step in results[0]["steps"]:
        print(f"| {step} | " + " | ".join(f"{r['steps'][step]:.2f} s" for r in results) + " |")
    total = [sum(v for k, v in r["steps"].items() if not k.startswith("re-")) for r in results]
    print("| **create total** | " + " | ".join(f"**{t:.2f} s**" for t in total) + " |")
    for label in results[0]["queries"]:
        cells = [f"{q[0] * 1000:.0f} ms (min {q[1] * 1000:.0f}, max {q[2] * 1000:.0f}; {q[3]} households)"
                 for q in (r["queries"][label] for r in results)]
        print(f"| unpaired priority, {label}, median of {args.runs} | " + " | ".join(cells) + " |")
    print("| peak RSS of the Python process | " + " | ".join(f"{r['peak_rss_mib']:.0f} MiB" for r in results) + " |")


if __name__ == "__main__":
    main()
