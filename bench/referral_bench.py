"""Referral proposal benchmark: ``propose_referrals`` on a store holding a synthetic preset.

    .venv/bin/python bench/referral_bench.py --store DIR                    # embedded
    .venv/bin/python bench/referral_bench.py --store bolt://127.0.0.1:7699  # Neo4j
    .venv/bin/python bench/referral_bench.py --store DIR --regions 620121,62 --runs 3

For each region (default: the store's first county, and the whole store, ``62``): the median of
``--runs`` proposals for the preset's as-of date after one warm-up, with the waiting needs, the
referrals proposed and the size of the proposal file (written to a temporary directory). Writes
nothing to the store. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_schema.store import open_store  # noqa: E402
from matching.referral_service import propose_referrals  # noqa: E402

AS_OF = dt.date(2024, 12, 31)  # the synthetic preset's as-of date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regions", help="comma-separated region codes (default: the first county and 62)")
    args = parser.parse_args()
    store = open_store(args.store)
    if args.regions:
        regions = args.regions.split(",")
    else:
        county = store.query("MATCH (r:Region) WHERE r.level = 'county' RETURN r.code AS code "
                             "ORDER BY code LIMIT 1")[0]["code"][:6]
        regions = [county, "62"]
    print(f"{dt.date.today()} · {platform.system()} · 2 cores · {store.dialect.value} · "
          f"runs {args.runs} (median, after one warm-up)\n")
    print("| region | proposal (ms) | waiting needs | referred | file (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for region in regions:
        proposal = propose_referrals(store=store, region=region, as_of=AS_OF)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            propose_referrals(store=store, region=region, as_of=AS_OF)
            times.append((time.perf_counter() - started) * 1000)
        with tempfile.TemporaryDirectory() as folder:
            proposal.write(Path(folder) / "proposal.json")
            size = (Path(folder) / "proposal.json").stat().st_size / 1e6
        print(f"| {region} | {statistics.median(times):,.0f} | {proposal.summary.needs:,} | "
              f"{proposal.summary.referred:,} | {size:,.1f} |", flush=True)
    store.close()


if __name__ == "__main__":
    main()
