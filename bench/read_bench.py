"""Reading import files in this process against reading them in a child process with limits.

    .venv/bin/python bench/read_bench.py FOLDER [--runs 3]

For every file of FOLDER (e.g. ``jiedui synth --preset province --format xlsx --out FOLDER``) and
every way, the median wall time and processor time (this process and its children) of ``runs``
reads, and the peak resident memory of the children:

- ``in-process``: :func:`importers.readers.read_table`, as ``jiedui import`` reads;
- ``child, file``: :func:`importers.sandbox.read_isolated`, the table pickled to a temporary file
  and read back once the child has ended (what the service does);
- ``child, pipe``: the same child, the table pickled to a pipe that the parent unpickles as it comes.

Every way must give the same rows. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importers.engine import _known_headers, _spec_by_name  # noqa: E402
from importers.file_limits import FileLimits  # noqa: E402
from importers.readers import read_table  # noqa: E402
from importers.sandbox import _PlainUnpickler, read_isolated  # noqa: E402

PIPE_CHILD = """
import json, pickle, sys
from importers.file_limits import FileLimits
from importers.readers import read_table
t = read_table(sys.argv[1], sys.argv[2].split("|"), FileLimits(**json.loads(sys.argv[3])))
pickler = pickle.Pickler(sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
pickler.fast = True
pickler.dump(("table", t.header_row, t.headers, t.rows, t.encoding))
"""


def by_pipe(path: Path, headers: set[str]) -> list:
    limits = json.dumps(dataclasses.asdict(FileLimits.from_settings()))
    child = subprocess.Popen([sys.executable, "-P", "-c", PIPE_CHILD, str(path), "|".join(sorted(headers)), limits],
                             stdout=subprocess.PIPE)
    payload = _PlainUnpickler(child.stdout).load()
    assert child.wait() == 0
    return payload[3]


WAYS = {
    "in-process": lambda path, headers: read_table(path, headers).rows,
    "child, file": lambda path, headers: read_isolated(path, headers).rows,
    "child, pipe": by_pipe,
}


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| file | rows | way | wall (median) | CPU (median) |")
    print("| --- | --- | --- | --- | --- |")
    totals: dict[str, list[float]] = {way: [0.0] * args.runs for way in WAYS}
    for path in sorted(p for p in args.folder.iterdir() if p.suffix in (".xlsx", ".csv")):
        headers = _known_headers(_spec_by_name(path))
        expected = None
        for way, read in WAYS.items():
            walls, cpus = [], []
            for run in range(args.runs):
                started, used = time.perf_counter(), cpu()
                rows = read(path, headers)
                walls.append(time.perf_counter() - started)
                cpus.append(cpu() - used)
                totals[way][run] += walls[-1]
                expected = rows if expected is None else expected
                assert rows == expected, (path.name, way)
                del rows
            print(f"| {path.name} | {len(expected):,} | {way} | {statistics.median(walls):.2f} s | "
                  f"{statistics.median(cpus):.2f} s |")
    for way, runs in totals.items():
        print(f"| all files | | {way} | {statistics.median(runs):.2f} s | |")
    print(f"\npeak RSS of a child: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
