"""Edges into a few nodes of huge degree on the embedded engine: the commit of each batch of new
``(Need)-[:OF]->(ServiceType)`` edges, with the ``OF`` table as the store makes it (both
directions) and with its forward lists only (``storage_direction = 'fwd'``), which was tried and
dropped (docs/benchmarks.md): the engine then refuses to delete a service type at all.

    .venv/bin/python bench/edge_degree_bench.py                       # 300,000 edges, 10 types
    .venv/bin/python bench/edge_degree_bench.py --edges 1000000 --batch 10000

Each variant gets a new database in a temporary folder, the tables of the store's own DDL, and
batches of new needs and their edges, each batch one transaction of two ``LOAD FROM`` statements
as the store writes them. Prints a Markdown table: the whole load, and the commit of the first
and the last batches (the median of five).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ladybug
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_schema.store.schema import NEED, OF, SERVICE_TYPE, ladybug_node_ddl, ladybug_rel_ddl  # noqa: E402


def load(folder: Path, forward_only: bool, edges: int, batch: int, types: int) -> tuple[float, list[float]]:
    """The whole load's seconds and each batch's commit."""
    db = ladybug.Database(str(folder / "graph.lbug"))
    conn = ladybug.Connection(db)
    conn.execute(ladybug_node_ddl(NEED))
    conn.execute(ladybug_node_ddl(SERVICE_TYPE))
    only_needs = ladybug_rel_ddl(dataclasses.replace(OF, ends=(("Need", "ServiceType"),)))
    conn.execute(only_needs + (" WITH (storage_direction = 'fwd')" if forward_only else ""))
    conn.execute("UNWIND range(1, $n) AS i CREATE (:ServiceType {code: 'S' + CAST(i AS STRING)})", {"n": types})
    commits, started = [], time.perf_counter()
    for first in range(0, edges, batch):
        numbers = range(first, min(first + batch, edges))
        rows = pa.table({"need_id": [f"N{i:08d}" for i in numbers],
                         "code": [f"S{i % types + 1}" for i in numbers]})
        conn.execute("BEGIN TRANSACTION")
        conn.execute("LOAD FROM $rows CREATE (:Need {need_id: need_id})", {"rows": rows})
        conn.execute("LOAD FROM $rows MATCH (n:Need {need_id: need_id}) WITH n, code "
                     "MATCH (s:ServiceType {code: code}) CREATE (n)-[:OF]->(s)", {"rows": rows})
        before = time.perf_counter()
        conn.execute("COMMIT")
        commits.append(time.perf_counter() - before)
    whole = time.perf_counter() - started
    walked = conn.execute("MATCH (s:ServiceType)<-[:OF]-(n:Need) RETURN count(n)").get_next()[0]
    assert walked == edges, (walked, edges)
    conn.close()
    db.close()
    return whole, commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--types", type=int, default=10, help="service types the edges go to")
    args = parser.parse_args()
    print(f"{dt.date.today()} · {platform.machine()} · ladybug {ladybug.__version__} · {args.edges:,} edges "
          f"into {args.types} nodes, {args.batch:,} a transaction\n")
    print("| OF stored | whole load (s) | commit, first five batches (s) | commit, last five batches (s) |")
    print("| --- | ---: | ---: | ---: |")
    for forward_only in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            whole, commits = load(Path(tmp), forward_only, args.edges, args.batch, args.types)
        print(f"| {'forward only' if forward_only else 'both directions (the store)'} | {whole:.1f} "
              f"| {statistics.median(commits[:5]):.3f} | {statistics.median(commits[-5:]):.3f} |")


if __name__ == "__main__":
    main()
