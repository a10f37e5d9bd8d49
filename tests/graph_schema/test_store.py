"""The store contract, on both engines: transactions, parameters, values, bulk paths, schema."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import signal
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import ladybug
import pytest

from graph_schema.errors import QueryParameterError, StoreError
from graph_schema.store import is_neo4j_uri, open_store
from graph_schema.store import embedded
from graph_schema.store.base import Dialect
from graph_schema.store.embedded import DB_FILE, EmbeddedStore
from graph_schema.store.schema import (
    AUDIT, CADRE, HOUSEHOLD, IN_REGION, PART_OF, PROBLEM, REGION, Kind, ladybug_ddl, ladybug_node_ddl, neo4j_ddl,
)
from graph_schema.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _region(code: str) -> dict:
    return {"code": code, "level": "village", "name": f"村{code[-3:]}"}


def count(store, label: str) -> int:
    return store.query(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]


def test_a_unit_of_work_that_raises_writes_nothing(store):
    class Boom(Exception):
        pass

    def work(tx):
        tx.create_nodes(REGION, [_region("620822100201")])
        tx.run("CREATE (:Region {code: $c, level: 'village', name: 'x'})", {"c": "620822100202"})
        raise Boom

    with pytest.raises(Boom):
        store.write(work)
    assert count(store, "Region") == 0


def test_a_failing_statement_aborts_the_whole_unit_and_nothing_after_it_runs(store):
    ran_after = []

    def work(tx):
        tx.run("CREATE (:Region {code: $c, level: 'village', name: 'x'})", {"c": "620822100201"})
        try:
            tx.run("CREATE (:Region {code: $c, level: 'village', name: 'dup'})", {"c": "620822100201"})
        except StoreError:
            pass  # a careless caller swallows the error and carries on
        ran_after.append(True)
        tx.run("CREATE (:Region {code: $c, level: 'village', name: 'y'})", {"c": "620822100203"})

    with pytest.raises(StoreError):
        store.write(work)
    assert count(store, "Region") == 0


def test_a_missing_parameter_is_an_error_not_null(store):
    with pytest.raises(QueryParameterError) as caught:
        store.query("MATCH (r:Region) WHERE r.code = $code RETURN r.code AS code")
    assert caught.value.details["missing"] == ["code"]


def test_values_come_back_normalised(store):
    store.write(lambda tx: tx.create_nodes(HOUSEHOLD, [
        {"household_no": "H1", "head_name": "a", "head_id": "x", "region_code": "620822100201", "size": 3,
         "risk_factors": ["因病", "因残"], "tekun": True},
        {"household_no": "H2", "head_name": "b", "head_id": "y", "region_code": "620822100201", "size": 4,
         "risk_factors": [], "tekun": None},
    ]))
    row = store.query("MATCH (h:Household) RETURN sum(h.size) AS total, count(h) AS n, "
                      "collect(h.household_no) AS nos")[0]
    assert row["total"] == 7 and type(row["total"]) is int
    assert sorted(row["nos"]) == ["H1", "H2"]
    h1 = store.query("MATCH (h:Household {household_no: 'H1'}) RETURN h.risk_factors AS f, h.tekun AS t, "
                     "h.labour AS labour")[0]
    assert h1 == {"f": ["因病", "因残"], "t": True, "labour": None}


def test_dates_round_trip_as_python_dates(store):
    store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
    store.write(lambda tx: tx.create_nodes(HOUSEHOLD, [
        {"household_no": "H1", "head_name": "a", "head_id": "x", "region_code": "620822100201", "size": 1}]))
    store.execute("MATCH (h:Household {household_no: 'H1'}) MATCH (r:Region {code: '620822100201'}) "
                  "CREATE (h)-[:IN_REGION]->(r)")
    from graph_schema.store.schema import PROBLEM
    store.write(lambda tx: tx.create_nodes(PROBLEM, [
        {"problem_key": "620822:P1", "problem_no": "P1", "household_no": "H1", "opened_on": dt.date(2024, 2, 29),
         "reported_by": "C1"}]))
    row = store.query("MATCH (p:Problem) WHERE p.opened_on <= $d RETURN p.opened_on AS d", {"d": dt.date(2024, 3, 1)})
    assert row == [{"d": dt.date(2024, 2, 29)}]


def test_bulk_edges_link_existing_nodes(store):
    def work(tx):
        tx.create_nodes(REGION, [_region(f"620822100{i:03d}") for i in range(201, 211)])
        tx.create_nodes(HOUSEHOLD, [{"household_no": f"H{i}", "head_name": "a", "head_id": "x",
                                     "region_code": f"620822100{i:03d}", "size": 1} for i in range(201, 211)])
        tx.create_rels(IN_REGION, HOUSEHOLD, REGION,
                       [{"src": f"H{i}", "dst": f"620822100{i:03d}"} for i in range(201, 211)])

    store.write(work)
    rows = store.query("MATCH (h:Household)-[:IN_REGION]->(r:Region) RETURN h.household_no AS no, r.code AS code "
                       "ORDER BY no")
    assert len(rows) == 10 and all(r["code"].endswith(r["no"][1:]) for r in rows)


def test_an_ordered_page_counts_every_row_and_returns_only_the_page_in_order(store):
    store.write(lambda tx: tx.create_nodes(HOUSEHOLD, [
        {"household_no": f"H{i:02d}", "head_name": "a", "head_id": "x", "region_code": "620822100201", "size": i % 4}
        for i in range(23)]))
    match = "MATCH (h:Household) WHERE h.size >= $least WITH h, h.size * 10 AS weight "
    columns = {"no": "h.household_no", "weight": "weight"}
    expected = sorted(([-(i % 4) * 10, f"H{i:02d}"] for i in range(23) if i % 4 >= 1))

    def page(skip: int, limit: int, least: int = 1) -> tuple[int, list[list]]:
        total, rows = store.read(lambda tx: tx.ordered_page(match, columns, "weight DESC, no", {"least": least},
                                                            skip, limit))
        return total, [[-r["weight"], r["no"]] for r in rows]

    assert page(0, 5) == (17, expected[:5])
    assert page(15, 5) == (17, expected[15:])
    assert page(17, 5) == page(40, 5) == (17, [])
    assert page(0, 5, least=9) == (0, [])


def test_reads_side_by_side_come_back_in_order_and_run_beside_only_in_a_neo4j_read(store):
    """``Tx.side_by_side``: on Neo4j the works of a read transaction but the first are given to
    the store's pool, each to run in a read transaction of its own, and the transaction takes
    those no thread has begun; everywhere else (the embedded engine, a write) they run one after
    the other in the transaction itself, which sees its own uncommitted write."""
    store.write(lambda tx: tx.create_nodes(HOUSEHOLD, [
        {"household_no": f"H{i}", "head_name": "a", "head_id": "x", "region_code": "620822100201", "size": i}
        for i in range(1, 6)]))
    caller = threading.current_thread().name
    beside = store.dialect is Dialect.NEO4J
    begun = threading.Event()  # a thread of the pool has begun a work

    def size_of(number: int):
        def work(tx):
            if threading.current_thread().name != caller:
                begun.set()
            elif number == 1 and beside:
                assert begun.wait(10)
            row = tx.run("MATCH (h:Household {household_no: $no}) RETURN h.size AS size", {"no": f"H{number}"})
            return row[0]["size"] if row else None, threading.current_thread().name
        return work

    found = store.read(lambda tx: tx.side_by_side([size_of(i) for i in range(1, 6)]))
    assert [size for size, _ in found] == [1, 2, 3, 4, 5]
    threads = {thread for _, thread in found}
    assert threads == {caller} if not beside else (caller in threads and len(threads) > 1), threads
    assert all(thread == caller or thread.startswith("neo4j-beside") for thread in threads)

    def write(tx):
        tx.create_nodes(HOUSEHOLD, [{"household_no": "H9", "head_name": "a", "head_id": "x",
                                     "region_code": "620822100201", "size": 9}])
        return tx.side_by_side([size_of(9), size_of(1)])

    assert store.write(write) == [(9, caller), (1, caller)]


def test_one_read_at_once_runs_the_works_side_by_side_one_after_the_other(neo4j_uri):
    store = open_store(neo4j_uri, Settings(neo4j_reads_at_once=1))
    try:
        threads = store.read(lambda tx: tx.side_by_side([lambda t: threading.current_thread().name] * 3))
    finally:
        store.close()
    assert threads == [threading.current_thread().name] * 3


def test_a_failing_read_beside_fails_the_whole_read_and_the_store_goes_on(store):
    with pytest.raises(StoreError):
        store.read(lambda tx: tx.side_by_side([lambda t: t.run("RETURN 1 AS n"), lambda t: t.run("RETURN 1 + AS n")]))
    assert store.read(lambda tx: tx.side_by_side([lambda t: t.run("RETURN 1 AS n")] * 3)) == [[{"n": 1}]] * 3


def test_a_bulk_edge_to_a_missing_node_fails_the_unit(store):
    def work(tx):
        tx.create_nodes(REGION, [_region("620822100201")])
        tx.create_nodes(HOUSEHOLD, [{"household_no": "H1", "head_name": "a", "head_id": "x",
                                     "region_code": "620822100201", "size": 1}])
        tx.create_rels(IN_REGION, HOUSEHOLD, REGION, [{"src": "H1", "dst": "620822199999"}])

    with pytest.raises(StoreError):
        store.write(work)
    assert count(store, "Household") == 0 and count(store, "Region") == 0


def test_duplicate_keys_are_refused_by_the_engine(store):
    store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
    with pytest.raises(StoreError):
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
    assert count(store, "Region") == 1


def test_wipe_empties_the_graph_and_keeps_the_schema(store):
    store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
    store.wipe()
    assert count(store, "Region") == 0
    store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
    assert count(store, "Region") == 1


def test_embedded_schema_is_created_once_and_data_survives_reopening(tmp_path):
    with EmbeddedStore(tmp_path / "s") as first:
        first.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
    with EmbeddedStore(tmp_path / "s") as again:
        assert count(again, "Region") == 1


def test_an_older_embedded_store_gains_the_newer_columns_on_opening(tmp_path):
    EmbeddedStore(tmp_path / "s").close()
    db = ladybug.Database(str(tmp_path / "s" / DB_FILE))
    conn = ladybug.Connection(db)
    for stmt in ("ALTER TABLE User DROP code_hash", "ALTER TABLE User DROP code_expires_at",
                 "ALTER TABLE ASSISTED DROP volunteers", "ALTER TABLE ASSISTED DROP minutes",
                 "ALTER TABLE ASSISTED DROP record_no", "ALTER TABLE Household DROP phone"):
        conn.execute(stmt)  # as a store made before accounts had codes, volunteer services their figures,
        # the ledger its 记录编号 and households their phones
    conn.close()
    db.close()
    for _ in range(2):  # and opening it again changes nothing
        with EmbeddedStore(tmp_path / "s") as s:
            columns = {t: {r["name"] for r in s.query(f"CALL table_info('{t}') RETURN *")}
                       for t in ("User", "ASSISTED", "Household")}
            assert {"code_hash", "code_expires_at"} <= columns["User"]
            assert {"volunteers", "minutes", "record_no"} <= columns["ASSISTED"]
            assert "phone" in columns["Household"]


def test_embedded_store_refuses_a_second_process(tmp_path):
    import subprocess
    import sys

    with EmbeddedStore(tmp_path / "s"):
        code = ("import sys; from graph_schema.store.embedded import EmbeddedStore\n"
                "from graph_schema.errors import StoreLocked\n"
                f"try:\n    EmbeddedStore({str(tmp_path / 's')!r})\nexcept StoreLocked:\n    sys.exit(7)\n")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 7, done.stderr.decode()


def test_embedded_writes_cannot_nest(tmp_path):
    with EmbeddedStore(tmp_path / "s") as s:
        with pytest.raises(StoreError):
            s.write(lambda tx: s.write(lambda inner: None))


def _villages(first: int, n: int) -> list[dict]:
    return [_region(f"62{i:010d}") for i in range(first, first + n)]


def test_a_large_insert_rolled_back_leaves_the_store_usable(store):
    """On LadybugDB 0.22, rolling back a COPY into a table that holds rows corrupted the process's
    memory and the next write aborted it: the embedded store inserts with CREATE instead."""
    store.write(lambda tx: tx.create_nodes(REGION, _villages(1, 500)))

    def fails(tx):
        tx.create_nodes(REGION, _villages(1000, 500))
        tx.create_rels(PART_OF, REGION, REGION, [{"src": _villages(1000, 1)[0]["code"], "dst": "629999999999"}])

    with pytest.raises(StoreError, match="PART_OF"):
        store.write(fails)
    assert count(store, "Region") == 500
    store.write(lambda tx: tx.create_nodes(REGION, _villages(2000, 500)))
    store.write(lambda tx: tx.create_rels(PART_OF, REGION, REGION, [
        {"src": v["code"], "dst": "620000000001"} for v in _villages(2000, 500)]))
    assert count(store, "Region") == 1000
    assert store.query("MATCH (:Region)-[e:PART_OF]->(:Region {code: '620000000001'}) RETURN count(e) AS n")[0]["n"] == 500


def test_a_reader_connection_goes_with_its_thread(tmp_path):
    """The server's worker threads end after 10 s idle and new ones start with the next burst: a
    connection per thread that outlived its thread would pile up for as long as the service runs."""
    store = EmbeddedStore(tmp_path / "s")
    try:
        store.query("RETURN 1 AS one")
        for _ in range(30):
            worker = threading.Thread(target=store.query, args=("RETURN 1 AS one",))
            worker.start()
            worker.join()
        gc.collect()
        assert len(store._readers) == 1  # this thread's, still in use
        assert store.query("RETURN 2 AS two") == [{"two": 2}]
    finally:
        store.close()


def test_dates_read_from_the_embedded_store_go_with_their_rows(tmp_path):
    """LadybugDB 0.22's binding keeps a reference to every DATE and TIMESTAMP it returns: unless
    the store gives it back, every date a service reads stays in memory for good."""
    store = EmbeddedStore(tmp_path / "s")
    query = ("UNWIND range(1, 50) AS k RETURN date('2024-01-02') AS d, [date('2024-01-03')] AS l, "
             "{at: timestamp('2024-01-02 03:04:05')} AS s")
    try:
        store.query(query)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            store.query(query)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert kept < 64 * 1024, f"{kept} bytes kept after reading 30,000 dates"
        rows = store.query(query)
        gc.collect()
        assert rows[0] == {"d": dt.date(2024, 1, 2), "l": [dt.date(2024, 1, 3)], "s": {"at": dt.datetime(2024, 1, 2, 3, 4, 5)}}
        held = sys.getrefcount(rows[0]["d"])  # outside the assert, whose rewriting holds values too
        assert held == 2  # the row's and the argument's: none kept, none missing
    finally:
        store.close()


def test_the_embedded_store_checkpoints_after_a_count_of_writes(tmp_path):
    wal = tmp_path / "s" / f"{DB_FILE}.wal"
    store = EmbeddedStore(tmp_path / "s", buffer_pool_mb=64, checkpoint_writes=3)
    try:
        store.checkpoint()
        present = []
        for code in ("620822100201", "620822100202", "620822100203"):
            store.write(lambda tx: tx.create_nodes(REGION, [_region(code)]))
            present.append(wal.exists())
        assert present == [True, True, False]  # the third write folded the log into the file
        assert count(store, "Region") == 3
    finally:
        store.close()
    with open_store(str(tmp_path / "s")) as reopened:
        assert count(reopened, "Region") == 3


class _MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


def _allocated_mib() -> float:
    """The C allocator's bytes in use (glibc), where the engine's own memory is."""
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = _MallInfo
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20


def test_many_small_updates_do_not_pile_up_in_memory(tmp_path):
    """The engine holds a committed update (~33 KiB for a one-property SET) until a checkpoint and
    checkpoints only on 16 MiB of WAL (~130 bytes an update): 2,000 updates held ~50 MiB until the
    store checkpointed on its count of writes as well."""
    store = EmbeddedStore(tmp_path / "s", buffer_pool_mb=64, checkpoint_writes=200)
    try:
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
        store.checkpoint()
        before = _allocated_mib()
        for k in range(2000):
            store.write(lambda tx: tx.run("MATCH (r:Region {code: '620822100201'}) SET r.name = $n", {"n": f"村{k}"}))
        held = _allocated_mib() - before
        assert held < 16, f"{held:.0f} MiB held after 2,000 updates"
        assert store.query("MATCH (r:Region) RETURN r.name AS name") == [{"name": "村1999"}]
    finally:
        store.close()


def test_reopening_after_a_bulk_load_gives_back_what_writes_held(tmp_path):
    """LadybugDB 0.22 holds memory for written rows until the database closes, checkpoints or
    not (20,000 households: ~176 MiB)."""
    store = EmbeddedStore(tmp_path / "s", buffer_pool_mb=64)
    try:
        before = _allocated_mib()
        # the size as text does not fit the Arrow column: the rows go as a parameter list, which the binding holds
        rows = [{"household_no": f"620822100201{k:06d}", "head_name": "户主", "size": "3"} for k in range(20_000)]
        store.write(lambda tx: tx.create_nodes(HOUSEHOLD, rows))
        store.checkpoint()
        store.read(lambda tx: store.after_bulk_load())  # it cannot wait for the read it is in: left for later
        kept = _allocated_mib() - before
        store.after_bulk_load()
        held = _allocated_mib() - before
        assert kept > 64, f"only {kept:.0f} MiB held before reopening: the test no longer shows the engine's hold"
        assert held < 16, f"{held:.0f} MiB still held after reopening"
        assert count(store, "Household") == 20_000
    finally:
        store.close()


def test_bulk_creates_scanned_from_arrow_tables_leave_nothing_held(tmp_path):
    """Nodes and edges are created from Arrow tables, whose statements the binding would cache
    with the table for good (measured here: 14 MiB held with the drop, 42 without): the store drops them after each run."""
    store = EmbeddedStore(tmp_path / "s", buffer_pool_mb=256)
    try:
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
        before = _allocated_mib()
        for part in range(8):
            rows = [{"household_no": f"6208221002{part:02d}{k:06d}", "head_name": "户主", "size": 3,
                     "region_code": "620822100201"} for k in range(20_000)]
            edges = [{"src": r["household_no"], "dst": "620822100201"} for r in rows]
            store.write(lambda tx: (tx.create_nodes(HOUSEHOLD, rows), tx.create_rels(IN_REGION, HOUSEHOLD, REGION, edges)))
        store.checkpoint()
        held = _allocated_mib() - before
        assert held < 28, f"{held:.0f} MiB held after eight batches of 20,000 households and their edges"  # 42 MiB kept
        assert count(store, "Household") == 160_000
        assert store.read(lambda tx: tx.run("MATCH (:Household)-[e:IN_REGION]->(:Region) RETURN count(e) AS n"))[0]["n"] == 160_000
    finally:
        store.close()


def test_a_bulk_create_whose_values_do_not_fit_their_column_types_still_writes_them(tmp_path):
    """A value the Arrow column cannot take (a number as text) sends the rows through the
    parameter list, cast in the statement, as before."""
    store = EmbeddedStore(tmp_path / "s", buffer_pool_mb=64)
    try:
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
        store.write(lambda tx: tx.create_nodes(HOUSEHOLD, [
            {"household_no": "620822100201000001", "head_name": "户主", "size": 3, "region_code": "620822100201"},
            {"household_no": "620822100201000002", "head_name": "户主", "size": "4", "region_code": "620822100201"}]))
        got = store.read(lambda tx: tx.run("MATCH (h:Household) RETURN h.household_no AS no, h.size AS size "
                                           "ORDER BY no"))
        assert [(r["no"], r["size"]) for r in got] == [("620822100201000001", 3), ("620822100201000002", 4)]
    finally:
        store.close()


def test_a_store_whose_wal_ends_in_a_torn_record_opens_with_what_was_committed(tmp_path):
    """A kill while COMMIT writes the WAL leaves half a record at its end; LadybugDB refuses to
    open such a database by default. The committed transactions before it must survive, and the
    store must open."""
    store_dir = tmp_path / "s"
    writer = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from graph_schema.store.embedded import EmbeddedStore\n"
        "from graph_schema.store.schema import REGION\n"
        f"store = EmbeddedStore({str(store_dir)!r}, buffer_pool_mb=64)\n"
        "store.write(lambda tx: tx.create_nodes(REGION, [{'code': '62082210%04d' % k, 'level': 'village', 'name': 'x'}"
        " for k in range(50)]))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", writer], timeout=120).returncode == -signal.SIGKILL
    wal = store_dir / f"{DB_FILE}.wal"
    assert wal.stat().st_size > 0, "the committed write should still be in the WAL, not checkpointed"
    with wal.open("ab") as f:
        f.write(bytes(range(256)) * 12)  # the half-written record of a transaction never acknowledged
    store = EmbeddedStore(store_dir, buffer_pool_mb=64)
    try:
        assert count(store, "Region") == 50
    finally:
        store.close()


def test_the_store_reopens_after_a_count_of_writes_while_readers_run(tmp_path):
    store = EmbeddedStore(tmp_path / "s", buffer_pool_mb=64, reopen_writes=5)
    seen, failures, stop = [[], [], []], [], threading.Event()

    def reader(counts):
        while not stop.is_set():
            try:
                counts.append(count(store, "Region"))
            except Exception as exc:  # noqa: BLE001 - any failure fails the test below
                failures.append(exc)

    readers = [threading.Thread(target=reader, args=(counts,)) for counts in seen]
    try:
        for t in readers:
            t.start()
        for k in range(20):  # after the opening's four writes (its schema, the marks of the households' two
            # counts and of the ledger's sums)
            store.write(lambda tx: tx.create_nodes(REGION, [_region(f"6208221{k:05d}")]))
        stop.set()
        for t in readers:
            t.join()
        assert failures == [] and all(counts == sorted(counts) for counts in seen)  # no write lost
        assert store._generation == 4 and count(store, "Region") == 20
        # a write inside a read cannot wait for the read to end: the reopening is left to the next write
        store.read(lambda tx: [store.write(lambda w: w.create_nodes(REGION, [_region(f"6208222{k:05d}")]))
                               for k in range(5)])
        assert store._generation == 4
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822300000")]))
        assert store._generation == 5 and count(store, "Region") == 26
    finally:
        stop.set()
        store.close()


def _primary_key(store, label: str) -> list[str]:
    return [r["name"] for r in store.query(f"CALL table_info('{label}') RETURN *") if r["primary key"]]


def test_a_store_with_audit_entries_keyed_by_their_id_is_rekeyed_on_opening(tmp_path, monkeypatch):
    """Audit entries were keyed by ``audit_id`` (a string) before they were keyed by a SERIAL:
    an older store's entries move to the new key when it is opened, in batches, every value kept,
    and a copy an earlier opening left unfinished is made again."""
    monkeypatch.setattr(embedded, "REKEY_BATCH", 1)  # a batch for each leading character of the key
    from graph_schema.access.audit import AuditEntry, audit_entries, record

    older = [AuditEntry(f"2026-11-0{k}T08:00:00.000000+00:00", "u1", "admin", "read", "GET x", "household",
                        [f"H{k}", "H9"], f"r{k}") for k in (1, 2, 3)]
    (tmp_path / "s").mkdir()
    db = ladybug.Database(str(tmp_path / "s" / DB_FILE), buffer_pool_size=64 * 2**20)
    conn = ladybug.Connection(db)
    old_columns = ", ".join(f"{c} {k.value}{' PRIMARY KEY' if c == 'audit_id' else ''}" for c, k in AUDIT.props.items())
    conn.execute(f"CREATE NODE TABLE AuditEntry({old_columns})")
    conn.execute(f"CREATE NODE TABLE AuditEntry_rekeyed(seq SERIAL PRIMARY KEY, {old_columns.replace(' PRIMARY KEY', '')})")
    conn.execute("CREATE (:AuditEntry_rekeyed {audit_id: 'left-over'})")
    conn.execute("UNWIND $rows AS r CREATE (:AuditEntry {audit_id: r.audit_id, at: r.at, user_id: r.user_id, role: r.role, "
                 "action: r.action, operation: r.operation, object_kind: r.object_kind, object_keys: r.object_keys, "
                 "request_id: r.request_id})", {"rows": [vars(e) for e in older]})
    conn.close()
    db.close()

    with EmbeddedStore(tmp_path / "s", buffer_pool_mb=64) as store:
        assert _primary_key(store, "AuditEntry") == ["seq"]
        assert audit_entries(store=store).items == older[::-1]  # newest first, every value as it was
        store.write(lambda tx: record(tx, [AuditEntry("2026-11-04T08:00:00.000000+00:00", "u1", "admin", "read",
                                                      "GET x", "household", ["H4"], "r4")]))
        seqs = store.query("MATCH (a:AuditEntry) RETURN a.seq AS seq ORDER BY seq")
    with EmbeddedStore(tmp_path / "s", buffer_pool_mb=64) as store:  # rebuilt once only
        assert store.query("MATCH (a:AuditEntry) RETURN a.seq AS seq ORDER BY seq") == seqs
        assert len({e.audit_id for e in audit_entries(store=store).items}) == 4


_OLD_PROBLEMS = [("H1", "620822100201", "P1"), ("H2", "620802101203", "P2")]


def _check_problems_rekeyed(store) -> None:
    """The older store's problems under their county keys, edges kept; a number of one county
    is then free in the other."""
    from graph_schema.ledger.models import LedgerEntry
    from graph_schema.ledger.service import household_problems, log_entry

    assert store.query("MATCH (h:Household)-[:HAS_PROBLEM]->(p:Problem) RETURN h.household_no AS hh, "
                       "p.problem_key AS k, p.problem_no AS n, p.description AS d ORDER BY hh") == [
        {"hh": "H1", "k": "620822:P1", "n": "P1", "d": "轮椅损坏"}, {"hh": "H2", "k": "620802:P2", "n": "P2", "d": "轮椅损坏"}]
    store.write(lambda tx: tx.create_nodes(CADRE, [{"cadre_no": "C1", "name": "c", "unit": "u", "unit_level": "县",
                                                    "station_code": "620802101203", "pair_limit": 3, "on_duty": True}]))
    log_entry(store=store, entry=LedgerEntry(entry_date=dt.date(2024, 3, 1), household_no="H2", cadre_no="C1",
                                             kind="反映困难", problem_no="P1"))
    log_entry(store=store, entry=LedgerEntry(entry_date=dt.date(2024, 3, 2), household_no="H2", cadre_no="C1",
                                             kind="解决困难", problem_no="P2"))
    assert [(p.problem_key, p.open) for p in household_problems(store=store, household_no="H2")] == [
        ("620802:P2", False), ("620802:P1", True)]


def test_an_older_embedded_store_keyed_problems_by_number_and_is_rekeyed_on_opening(tmp_path):
    """Problems were keyed by their number alone (one namespace for every county) before they
    were keyed by county and number: an older store's move to the new key when it is opened."""
    (tmp_path / "s").mkdir()
    db = ladybug.Database(str(tmp_path / "s" / DB_FILE), buffer_pool_size=64 * 2**20)
    conn = ladybug.Connection(db)
    old = ", ".join(f"{c} {k.value}{' PRIMARY KEY' if c == 'problem_no' else ''}"
                    for c, k in PROBLEM.props.items() if c != "problem_key")
    conn.execute(ladybug_node_ddl(HOUSEHOLD))
    conn.execute(f"CREATE NODE TABLE Problem({old})")
    conn.execute("CREATE REL TABLE HAS_PROBLEM(FROM Household TO Problem)")
    for h, region, no in _OLD_PROBLEMS:
        conn.execute("CREATE (:Household {household_no: $h, head_name: 'a', head_id: 'x', region_code: $r, size: 1})",
                     {"h": h, "r": region})
        conn.execute("MATCH (h:Household {household_no: $h}) CREATE (h)-[:HAS_PROBLEM]->(:Problem {problem_no: $n, "
                     "household_no: $h, opened_on: date('2024-01-05'), reported_by: 'C1', description: '轮椅损坏'})",
                     {"h": h, "n": no})
    conn.close()
    db.close()

    with EmbeddedStore(tmp_path / "s", buffer_pool_mb=64) as store:
        assert _primary_key(store, "Problem") == ["problem_key"]
        _check_problems_rekeyed(store)
    with EmbeddedStore(tmp_path / "s", buffer_pool_mb=64) as store:  # once only
        assert count(store, "Problem") == 3


def test_an_older_neo4j_store_keyed_problems_by_number_and_is_rekeyed_on_connecting(neo4j_store):
    from graph_schema.store.neo4j import Neo4jStore

    neo4j_store.wipe()
    neo4j_store._driver.execute_query("DROP CONSTRAINT problem_key IF EXISTS")
    neo4j_store._driver.execute_query("CREATE CONSTRAINT problem_key FOR (n:Problem) REQUIRE n.problem_no IS UNIQUE")
    for h, region, no in _OLD_PROBLEMS:
        neo4j_store.execute("CREATE (h:Household {household_no: $h, head_name: 'a', head_id: 'x', region_code: $r, "
                            "size: 1})-[:HAS_PROBLEM]->(:Problem {problem_no: $n, household_no: $h, "
                            "opened_on: date('2024-01-05'), reported_by: 'C1', description: '轮椅损坏'})",
                            {"h": h, "r": region, "n": no})
    again = Neo4jStore(neo4j_store.location)
    try:
        shown = again.query("SHOW CONSTRAINTS YIELD name, properties WHERE name = 'problem_key' "
                            "RETURN properties AS p")
        assert shown == [{"p": ["problem_key"]}]
        _check_problems_rekeyed(again)
    finally:
        again.close()


def test_neo4j_schema_statements_are_idempotent(neo4j_store):
    from graph_schema.store.neo4j import Neo4jStore

    again = Neo4jStore(neo4j_store.location)  # runs every CREATE … IF NOT EXISTS a second time
    names = {r["name"] for r in again.query("SHOW CONSTRAINTS YIELD name RETURN name AS name")}
    again.close()
    assert {"household_key", "person_key", "cadre_key", "org_key", "region_key"} <= names


def test_store_selection_by_target(tmp_path):
    assert is_neo4j_uri("bolt://h:7687") and is_neo4j_uri("neo4j+s://x") and is_neo4j_uri("NEO4J://x")
    assert not is_neo4j_uri(str(tmp_path)) and not is_neo4j_uri("http://x")
    with open_store(str(tmp_path / "d"), Settings(store="ignored")) as s:
        assert isinstance(s, EmbeddedStore)
    with open_store(None, Settings(store=str(tmp_path / "e"))) as s:
        assert s.location == str(tmp_path / "e")


def test_unreachable_neo4j_is_a_clear_error():
    from graph_schema.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable) as caught:
        open_store("bolt://127.0.0.1:1", Settings(neo4j_max_retry_seconds=1))
    assert "127.0.0.1:1" in str(caught.value)


def test_dialect_query_text_is_locked():
    lady = ladybug_ddl()
    assert "CREATE NODE TABLE IF NOT EXISTS Household(household_no STRING PRIMARY KEY," in lady[1]
    assert any(s.startswith("CREATE REL TABLE IF NOT EXISTS ASSISTED(FROM Cadre TO Household, FROM Org TO "
                            "Household, entry_id STRING") for s in lady)
    neo = neo4j_ddl()
    assert ("CREATE CONSTRAINT household_key IF NOT EXISTS FOR (n:Household) REQUIRE n.household_no IS UNIQUE"
            in neo)
    assert "CREATE INDEX household_region_code IF NOT EXISTS FOR (n:Household) ON (n.region_code)" in neo
    assert "CREATE INDEX assisted_entry_id IF NOT EXISTS FOR ()-[e:ASSISTED]-() ON (e.entry_id)" in neo


def test_casts_differ_only_where_the_dialects_do(store):
    fragment = store.write(lambda tx: tx.cast("r.d", Kind.DATE))
    assert fragment == ("CAST(r.d AS DATE)" if store.dialect.value == "ladybug" else "r.d")
