"""The counties' service tallies (graph_schema/service/tally.py): how long making every county's
takes, which is what ``jiedui import`` adds at its end and what a report would wait for if none
were current.

    .venv/bin/python bench/tally_bench.py --store DIR_OR_URI --year 2024

The catalogue's version is raised first (as a catalogue change does), so every county's tallies
are stale; then they are all made again and timed. The reports that read them are timed by
``bench/report_bench.py`` (its warm-up run finds them current).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_schema.service import fact_versions, tally  # noqa: E402
from graph_schema.store import open_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    args = parser.parse_args()
    store = open_store(args.store)
    store.write(lambda tx: fact_versions.raise_versions(tx, [fact_versions.CATALOGUE]))
    started = time.perf_counter()
    made = tally.keep_current(store, args.year)
    took = time.perf_counter() - started
    rows = {label: store.query(f"MATCH (t:{label}) RETURN count(t) AS n")[0]["n"]
            for label in ("RateTally", "TownshipRateTally", "NeedTally")}
    print(f"{dt.date.today()} · 2 cores · {store.dialect.value} · year {args.year} · {made} counties made in "
          f"{took:.1f} s ({took / max(made, 1) * 1000:.0f} ms a county) · rows kept: {rows}")
    store.close()


if __name__ == "__main__":
    main()
