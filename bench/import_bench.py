"""Import benchmark: the synthetic preset's eight contract files into an empty store.

    .venv/bin/python bench/import_bench.py --preset county --engine both
    .venv/bin/python bench/import_bench.py --preset province --engine embedded

Each import runs as ``jiedui import`` in a child process, so the wall time and the peak memory
(max RSS of that process) are the command's own. Neo4j is the test server of
scripts/neo4j-server.sh unless --neo4j-uri names one. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importers.synth_files import synth_to_dir  # noqa: E402

JIEDUI = str(ROOT / ".venv" / "bin" / "jiedui")
SERVER = ROOT / "scripts" / "neo4j-server.sh"


def rows_in(folder: Path) -> int:
    total = 0
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as f:
            total += sum(1 for _ in csv.reader(f)) - 1
    return total


def timed_import(folder: Path, store: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS GiB of the child itself, exit code)."""
    start = time.perf_counter()
    child = subprocess.Popen([JIEDUI, "import", str(folder), "--store", store, "--report",
                              str(folder.parent / "r.csv")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024 / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="county")
    parser.add_argument("--engine", choices=["embedded", "neo4j", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--neo4j-uri", default=os.environ.get("JIEDUI_TEST_NEO4J_URI"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        start = time.perf_counter()
        synth_to_dir(args.preset, args.seed, folder)
        rows = rows_in(folder)
        print(f"{args.preset}: {rows} rows written in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        results = []
        for engine in (["embedded", "neo4j"] if args.engine == "both" else [args.engine]):
            started = False
            if engine == "embedded":
                target = str(Path(tmp) / "store")
            else:
                target = args.neo4j_uri
                if not target:
                    target = subprocess.run(["bash", str(SERVER), "start"], check=True, capture_output=True,
                                            text=True).stdout.strip().splitlines()[-1]
                    started = True
            try:
                seconds, peak, code = timed_import(folder, target)
            finally:
                if started:
                    subprocess.run(["bash", str(SERVER), "stop"], check=False)
            results.append((engine, seconds, peak, code))
            print(results[-1], file=sys.stderr)
    print(f"\n{dt.date.today()} · {platform.machine()} · {os.cpu_count()} cores · preset {args.preset} "
          f"(seed {args.seed}) · {rows:,} rows in 8 files\n")
    print("| engine | wall time | rows/s | peak RSS of `jiedui import` | exit |")
    print("| --- | --- | --- | --- | --- |")
    for engine, seconds, peak, code in results:
        print(f"| {engine} | {seconds:.1f} s | {rows / seconds:,.0f} | {peak:.2f} GiB | {code} |")


if __name__ == "__main__":
    main()
