"""The embedded backend: LadybugDB in a directory, no server.

What LadybugDB 0.22 does that this adapter must absorb (measured; docs/architecture.md):
- one write transaction at a time per database: writes are serialised behind one lock;
- an error inside ``BEGIN TRANSACTION … COMMIT`` silently rolls back and later statements would
  auto-commit: after any exception the transaction is marked dead and nothing more runs in it;
- a ``$parameter`` missing from the call becomes NULL: ``check_params`` refuses such calls;
- a batch whose values are all NULL is typed STRING: writes ``CAST`` each value to its column type;
- ``COPY … FROM`` is not used, though it is the fastest insert (about 3× ``UNWIND … CREATE`` in
  10k-row batches): a SIGKILL while a transaction with a COPY commits was measured to keep the
  transaction's other statements and lose its COPYs, and rolling back a COPY into a table that
  already holds rows corrupts the process's memory (the next write aborts it). See
  ``docs/reliability.md``. New nodes and edges are created by ``LOAD FROM`` an Arrow table in the
  transaction instead (:meth:`_LadybugTx.create_nodes`): about 5× ``UNWIND`` and as safe;
- the Python binding keeps a reference to every DATE or TIMESTAMP value it returns, so each one
  read would stay in memory for good: the adapter gives those references back (:func:`_give_back`);
- a committed write stays in the engine's memory until the next checkpoint, and the engine
  checkpoints only on the WAL's size (16 MiB): a ``SET`` of one property holds ~33 KiB for ~130
  bytes of WAL. The adapter also checkpoints after every ``checkpoint_writes`` write transactions,
  and after every checkpoint it hands the allocator's free pages back to the system (:func:`_trim`);
- a process killed while its ``COMMIT`` writes the WAL can leave a torn last record, and by default
  the engine then refuses to open the database at all ("Checksum verification failed, the WAL file
  is corrupted": 1 and 2 of 30 kills during the commit of a 100,000-row transaction, by
  ``LOAD FROM`` and by ``UNWIND``). That record is the transaction that was never acknowledged, so
  the store opens with ``throw_on_wal_replay_failure=False``: the replay keeps every committed
  transaction and drops the torn one (80 of 80 such kills opened, each all or nothing);
- some memory stays held for what was written until the database closes, checkpoints or not
  (20,000 new households: ~176 MiB): the adapter reopens the database after every
  ``reopen_writes`` write transactions (:meth:`EmbeddedStore.reopen`).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa

from graph_schema.errors import StoreError, StoreLocked, StoreUnavailable
from graph_schema.store import counts, ledger_sums, paired
from graph_schema.store.base import Dialect, GraphStore, Row, T, Tx, check_params, normalise
from graph_schema.store.schema import (
    HAS_PROBLEM, HOUSEHOLD, NODE_TABLES, PROBLEM, REL_TABLES, TALLY_TABLES, Kind, NodeTable, RelTable, ladybug_ddl,
    ladybug_node_ddl, ladybug_rel_ddl,
)

DB_FILE = "graph.lbug"
REKEY_BATCH = 250_000  # rows a transaction while a table moves to a new key
log = logging.getLogger(__name__)


_decref = ctypes.pythonapi.Py_DecRef
_decref.argtypes, _decref.restype = [ctypes.py_object], None


@functools.cache
def _binding_keeps_dates() -> bool:
    """Whether this binding holds one reference too many to each date it returns.

    LadybugDB 0.22's does, for DATE and TIMESTAMP values (and no other type): each one read stays
    in memory for good, 32 bytes a date. A household's detail reads about 17 and a county's
    unpaired list about 40 a row, so a running service grew by about 0.5 KiB a request. Asked of
    the binding itself, so that a fixed one is left alone: two reads of one date must give two
    objects, each held once more than the caller holds it.
    """
    db = ladybug.Database(buffer_pool_size=16 * 1024 * 1024)
    conn = ladybug.Connection(db)
    try:
        first, second = (conn.execute("RETURN date('2000-01-01') AS d").get_all()[0][0] for _ in range(2))
        return first is not second and sys.getrefcount(first) == 3  # `first`, the argument, the binding
    finally:
        conn.close()
        db.close()


def _give_back(value: Any) -> None:
    """Drop the reference the binding kept to each date in a result value (see
    :func:`_binding_keeps_dates`), so that the date goes when the row goes."""
    if isinstance(value, dt.date):  # datetime too
        _decref(value)
    elif isinstance(value, list):
        for item in value:
            _give_back(item)
    elif isinstance(value, dict):
        for item in value.values():
            _give_back(item)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; other C libraries have no such call
    except AttributeError:
        return None


def _trim() -> None:
    """Give the C allocator's free pages back to the system.

    glibc keeps what a checkpoint frees for later rounds, so without this the process holds the
    largest round it ever had: measured, ``malloc_trim(0)`` after a checkpoint returned 14 MiB.
    """
    if (trim := _malloc_trim()) is not None:
        trim(0)


def _translate(exc: Exception, query: str) -> StoreError:
    text = str(exc)
    return StoreError(f"嵌入式图库执行失败：{text}", f"embedded store failed: {text}",
                      query=query.split("\n", 1)[0][:200])


_ARROW_TYPES = {Kind.STRING: pa.string(), Kind.INT: pa.int64(), Kind.BOOL: pa.bool_(), Kind.DATE: pa.date32(),
                Kind.STRINGS: pa.list_(pa.string()), Kind.INTS: pa.list_(pa.int64())}


def _arrow_rows(rows: Sequence[Mapping[str, Any]], kinds: Mapping[str, Kind]) -> pa.Table | None:
    """The rows as an Arrow table with one column of its property's own type each; None when a
    value does not fit its type (a date given as text, say), and the caller then passes the rows as
    a parameter list and casts each value in the statement."""
    try:
        return pa.table({c: pa.array([r.get(c) for r in rows], type=_ARROW_TYPES[k]) for c, k in kinds.items()})
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None


def _forget_scans(conn: ladybug.Connection, query: str) -> None:
    """Drop what LadybugDB 0.22's binding cached for ``query``: a prepared statement for each
    Arrow table it scanned, keyed by the table's identity and holding the table, which would
    otherwise stay in memory (measured: 50,000 rows each, 13 MiB a batch kept)."""
    cache = getattr(conn, "_pybind_implicit_prepared_cache", None)
    if cache is None:  # another binding: nothing of this kind to drop
        return
    with conn._prepared_cache_lock:
        for key in [key for key in cache if key[0] == query]:
            del cache[key]


class _LadybugTx(Tx):
    dialect = Dialect.LADYBUG

    def __init__(self, conn: ladybug.Connection) -> None:
        self._conn = conn
        self.dead = False

    def run(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        values = check_params(query, params or {})
        return self._execute(query, values)

    def _execute(self, query: str, values: dict[str, Any]) -> list[Row]:
        if self.dead:
            raise StoreError("事务已中止，不能继续执行", "the transaction was aborted; no further statement runs")
        try:
            result = self._conn.execute(query, values)
            names = result.get_column_names()
            raw = result.get_all()
            if raw and _binding_keeps_dates():  # nothing to give back from an empty result
                dated = [i for i, kind in enumerate(result.get_column_data_types()) if "DATE" in kind or "TIMESTAMP" in kind]
                for row in raw:
                    for i in dated:
                        _give_back(row[i])
            result.close()
            return [dict(zip(names, map(normalise, row))) for row in raw]
        except RuntimeError as exc:
            self.dead = True
            raise _translate(exc, query) from exc

    def create_nodes(self, table: NodeTable, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        scanned = _arrow_rows(rows, table.props)
        if scanned is None:
            props = ", ".join(f"{c}: {self.cast('r.' + c, k)}" for c, k in table.props.items())
            self._execute(f"UNWIND $rows AS r CREATE (:{table.label} {{{props}}})",
                          {"rows": [{c: r.get(c) for c in table.props} for r in rows]})
            return
        props = ", ".join(f"{c}: `{c}`" for c in table.props)
        self._scan(f"LOAD FROM $rows CREATE (:{table.label} {{{props}}})", scanned)

    def create_rels(self, rel: RelTable, src: NodeTable, dst: NodeTable,
                    rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        # OPTIONAL MATCH: a second plain MATCH after UNWIND scans the whole table (4× slower)
        scanned = _arrow_rows(rows, {"src": Kind.STRING, "dst": Kind.STRING, **rel.props})
        if scanned is None:
            props = ", ".join(f"{c}: {self.cast('r.' + c, k)}" for c, k in rel.props.items())
            made = self._execute(
                f"UNWIND $rows AS r OPTIONAL MATCH (a:{src.label} {{{src.key}: r.src}}) "
                f"OPTIONAL MATCH (b:{dst.label} {{{dst.key}: r.dst}}) WITH r, a, b WHERE a IS NOT NULL AND b IS NOT NULL "
                f"CREATE (a)-[:{rel.type} {{{props}}}]->(b) RETURN count(*) AS n",
                {"rows": [{"src": r["src"], "dst": r["dst"], **{c: r.get(c) for c in rel.props}} for r in rows]})
        else:
            props = ", ".join(f"{c}: `{c}`" for c in rel.props)
            carried = "".join(f"`{c}`, " for c in rel.props)  # the scanned columns the CREATE reads
            made = self._scan(
                f"LOAD FROM $rows OPTIONAL MATCH (a:{src.label} {{{src.key}: `src`}}) "
                f"OPTIONAL MATCH (b:{dst.label} {{{dst.key}: `dst`}}) WITH {carried}a, b WHERE a IS NOT NULL AND b IS NOT NULL "
                f"CREATE (a)-[:{rel.type} {{{props}}}]->(b) RETURN count(*) AS n", scanned)
        made = made[0]["n"]
        if made != len(rows):
            self.dead = True
            raise StoreError(f"{rel.type} 边的端点缺失（{len(rows) - made} 条）",
                             f"{len(rows) - made} {rel.type} edges have a missing endpoint")

    def _scan(self, query: str, rows: pa.Table) -> list[Row]:
        """Run ``query`` over an Arrow table of rows: a scan of typed columns, not a parameter
        list whose every value the binding inspects (about 5× faster: ``docs/benchmarks.md``).
        The binding caches a statement for each table it scans, and the table with it, for good:
        the entry is dropped once the statement has run."""
        try:
            return self._execute(query, {"rows": rows})
        finally:
            _forget_scans(self._conn, query)

    def lock(self, table: NodeTable, keys: Sequence[str]) -> set[str]:
        # every write already holds the store's single writer lock: nothing more to take
        query = f"UNWIND $keys AS k MATCH (n:{table.label} {{{table.key}: k}}) RETURN k AS k"
        return {r["k"] for r in self.run(query, {"keys": list(keys)})}

    def cast(self, expr: str, kind: Kind) -> str:
        return f"CAST({expr} AS {kind.value})"


class _Gate:
    """Transactions run side by side, or the database is reopened with none running.

    A thread already inside a transaction passes again (a read inside a read), so nothing waits
    for itself; a reopening waits for the running ones and holds back the new ones until it is done.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0
        self._closed = False
        self._depth = threading.local()

    def inside(self) -> bool:
        return getattr(self._depth, "n", 0) > 0

    def open(self) -> bool:
        """No reopening waits or runs (read without the lock: a hint)."""
        return not self._closed

    @contextmanager
    def unit(self) -> Iterator[None]:
        if not self.inside():
            with self._changed:
                self._changed.wait_for(lambda: not self._closed)
                self._running += 1
        self._depth.n = getattr(self._depth, "n", 0) + 1
        try:
            yield
        finally:
            self._depth.n -= 1
            if not self._depth.n:
                with self._changed:
                    self._running -= 1
                    self._changed.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._closed)
            self._closed = True
            self._changed.wait_for(lambda: not self._running)
        try:
            yield
        finally:
            with self._changed:
                self._closed = False
                self._changed.notify_all()


class EmbeddedStore(GraphStore):
    """A LadybugDB database in ``directory`` (created, with its schema, on first open)."""

    dialect = Dialect.LADYBUG

    def __init__(self, directory: str | Path, *, buffer_pool_mb: int = 0, query_threads: int = 0,
                 checkpoint_writes: int = 0, reopen_writes: int = 0) -> None:
        self.directory = Path(directory)
        self.location = str(self.directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"无法创建图库目录「{self.directory}」：{exc}",
                                   f"cannot create the store directory '{self.directory}': {exc}") from exc
        self._buffer_pool_mb = buffer_pool_mb
        self._query_threads = query_threads
        self._checkpoint_writes = checkpoint_writes  # 0: only the engine's own, on the WAL's size
        self._reopen_writes = reopen_writes  # 0: never
        self._writes = self._writes_since_open = 0
        self._write_lock = threading.Lock()
        self._writer_thread: int | None = None
        self._committing = False  # a write's COMMIT or a CHECKPOINT is running (set by the writer alone)
        self._gate = _Gate()
        self._generation = 0  # of the open database; a reader connection of an earlier one is dropped
        self._local = threading.local()
        # one reader connection per thread; a thread's connection goes (and closes) with the thread,
        # as the server's worker threads come and go with the load
        self._readers: weakref.WeakSet[ladybug.Connection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._open()
        self.write(lambda tx: [tx.run(stmt) for stmt in ladybug_ddl()])
        self._add_missing_columns()
        for table in NODE_TABLES:
            if table.serial:
                self._rekey_by_serial(table)
        self._rekey_problems()
        counts.fill(self)  # a store made before the households kept their member counts
        paired.fill(self)  # … or their pairing counts
        ledger_sums.fill(self)  # … or the ledger its sums

    def _add_missing_columns(self) -> None:
        """Give a table made by an older version the properties declared since (``CREATE … IF NOT
        EXISTS`` leaves an existing table as it is): existing rows read them as NULL."""
        tables = [(t.label, t.stored) for t in (*NODE_TABLES, *TALLY_TABLES)] + [(r.type, r.props) for r in REL_TABLES]
        for label, props in tables:
            present = {row["name"] for row in self.query(f"CALL table_info('{label}') RETURN *")}
            added = [f"ALTER TABLE {label} ADD {c} {kind.value}" for c, kind in props.items() if c not in present]
            if added:
                self.write(lambda tx, added=added: [tx.run(stmt) for stmt in added])

    def _rekey_by_serial(self, t: NodeTable) -> None:
        """Move a table keyed by its string in this store onto the ``SERIAL`` key it has since been
        given (:attr:`NodeTable.serial`), every row and value unchanged.

        Rows are copied to a new table in batches of about :data:`REKEY_BATCH` (one transaction each; copying
        in one took ~0.75 KiB of memory a row), by the leading characters of their key; the old
        table is dropped and the new one renamed only in a last transaction, once the counts agree.
        A copy cut short is dropped and made again on the next opening.
        """
        keyed_by = [r["name"] for r in self.query(f"CALL table_info('{t.label}') RETURN *") if r["primary key"]]
        if keyed_by == [t.serial]:
            return
        rebuilt, values = f"{t.label}_rekeyed", ", ".join(f"{c}: n.{c}" for c in t.props)
        self.write(lambda tx: [tx.run(f"DROP TABLE IF EXISTS {rebuilt}"), tx.run(ladybug_node_ddl(t, rebuilt))])
        rows = self.query(f"MATCH (n:{t.label}) RETURN count(*) AS n")[0]["n"]
        width = 0
        while 16 ** width * REKEY_BATCH < rows:  # keys made by this system are hex
            width += 1
        prefix = f"substring(n.{t.key}, 1, {width})"
        log.warning("正在把 %s（%d 行）改为以 %s 为主键 / rekeying %s (%d rows) by %s",
                    t.label, rows, t.serial, t.label, rows, t.serial)
        prefixes = [r["p"] for r in self.query(f"MATCH (n:{t.label}) RETURN DISTINCT {prefix} AS p")]
        for done, p in enumerate(prefixes, 1):
            log.info("%s: batch %d of %d", t.label, done, len(prefixes))
            self.write(lambda tx: tx.run(f"MATCH (n:{t.label}) WHERE {prefix} = $p CREATE (:{rebuilt} {{{values}}})",
                                         {"p": p}))
        copied = self.query(f"MATCH (n:{rebuilt}) RETURN count(*) AS n")[0]["n"]
        if copied != rows:
            raise StoreError(f"{t.label} 改主键时行数不符（{rows} → {copied}），原表未动",
                             f"rekeying {t.label} copied {copied} of {rows} rows; the table is left as it was")
        self.write(lambda tx: [tx.run(f"DROP TABLE {t.label}"), tx.run(f"ALTER TABLE {rebuilt} RENAME TO {t.label}")])
        self.checkpoint()

    def _rekey_problems(self) -> None:
        """Move an older store's problems, keyed by their 问题编号 alone, onto the key of their
        county and number (:data:`~graph_schema.store.schema.PROBLEM`), every value unchanged.

        The problems are copied to a new table with their keys made from their household's
        region code; then, in one transaction, the old table and its ``HAS_PROBLEM`` edges are
        dropped, the new table takes the old name and the edges are made again. A copy cut short
        is dropped and made again on the next opening. (Problems are few: a province's year is
        tens of thousands, one transaction.)
        """
        t = PROBLEM
        keyed_by = [r["name"] for r in self.query(f"CALL table_info('{t.label}') RETURN *") if r["primary key"]]
        if keyed_by == [t.key]:
            return
        rebuilt = f"{t.label}_rekeyed"
        values = ", ".join(f"{c}: n.{c}" for c in t.props if c != t.key)
        self.write(lambda tx: [tx.run(f"DROP TABLE IF EXISTS {rebuilt}"), tx.run(ladybug_node_ddl(t, rebuilt))])
        rows = self.query(f"MATCH (n:{t.label}) RETURN count(*) AS n")[0]["n"]
        log.warning("正在把问题改为以县和问题编号为主键（%d 行）/ rekeying %d problems by county and number", rows, rows)
        self.write(lambda tx: tx.run(
            f"MATCH (h:Household)-[:HAS_PROBLEM]->(n:{t.label}) "
            f"CREATE (:{rebuilt} {{{t.key}: substring(h.region_code, 1, 6) + ':' + n.problem_no, {values}}})"))
        edges = self.query(f"MATCH (n:{rebuilt}) RETURN n.household_no AS src, n.{t.key} AS dst")
        if len(edges) != rows:
            raise StoreError(f"问题改主键时行数不符（{rows} → {len(edges)}），原表未动",
                             f"rekeying the problems copied {len(edges)} of {rows} rows; the table is left as it was")

        def swap(tx: Tx, rel: RelTable = HAS_PROBLEM) -> None:
            tx.run(f"DROP TABLE {rel.type}")
            tx.run(f"DROP TABLE {t.label}")
            tx.run(f"ALTER TABLE {rebuilt} RENAME TO {t.label}")
            tx.run(ladybug_rel_ddl(rel))
            tx.create_rels(rel, HOUSEHOLD, t, edges)

        self.write(swap)
        self.checkpoint()

    def _open(self) -> None:
        try:
            self._db = ladybug.Database(str(self.directory / DB_FILE),
                                        buffer_pool_size=self._buffer_pool_mb * 1024 * 1024,
                                        throw_on_wal_replay_failure=False)  # a torn last record: see above
        except RuntimeError as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(
                    f"图库目录「{self.directory}」正被另一个进程使用",
                    f"the store directory '{self.directory}' is in use by another process") from exc
            raise StoreUnavailable(f"无法打开图库目录「{self.directory}」：{exc}",
                                   f"cannot open the store directory '{self.directory}': {exc}") from exc
        self._writer = ladybug.Connection(self._db)

    def _shut(self) -> None:
        for conn in [*self._readers, self._writer]:
            conn.close()
        self._readers.clear()
        self._db.close()

    def reopen(self) -> None:
        """Close the database and open it again, once no transaction runs (new ones wait).

        LadybugDB 0.22 holds some memory for every write for as long as the database stays open,
        checkpoints or not (an import of the demo county: ~430 MiB; a service's steady load: a
        slow rise). Only closing gives it back, as restarting the service would.
        """
        if self._gate.inside():
            raise StoreError("事务中不能重新打开图库", "the store cannot be reopened inside a transaction")
        with self._gate.alone():
            self._shut()
            _trim()  # what the engine held for the database goes back to the system
            self._generation += 1
            self._writes = self._writes_since_open = 0
            self._open()

    def after_bulk_load(self) -> None:
        """Reopen: the engine held ~430 MiB after importing the demo county, until the database closed.

        Inside a transaction (a caller's read around the load) the reopening would wait for that
        transaction, so it is left to the count of writes.
        """
        self._give_back()

    def between_bulk_loads(self) -> None:
        """Reopen, as at the end of a load: the memory held grows with every file an import writes
        (the city preset: ~1 GiB by the last of its files, given back only by closing)."""
        self._give_back()

    def _give_back(self) -> None:
        if self._gate.inside():
            log.info("bulk load inside a transaction: the store is reopened on its count of writes")
            return
        self.reopen()

    def _reader(self) -> ladybug.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.generation != self._generation:
            conn = self._local.conn = (ladybug.Connection(self._db, num_threads=self._query_threads)
                                       if self._query_threads else ladybug.Connection(self._db))
            self._local.generation = self._generation
            with self._readers_lock:
                self._readers.add(conn)
        return conn

    def _unit(self, conn: ladybug.Connection, begin: str, work: Callable[[Tx], T]) -> T:
        conn.execute(begin)
        tx = _LadybugTx(conn)
        try:
            result = work(tx)
        except BaseException:
            tx.dead = True
            try:
                conn.execute("ROLLBACK")
            except RuntimeError:
                pass  # already rolled back by the engine on the failing statement
            raise
        writer = conn is self._writer
        if writer:
            self._committing = True  # the engine may checkpoint in the commit (reads_at_once)
        try:
            conn.execute("COMMIT")
        except RuntimeError as exc:
            raise _translate(exc, "COMMIT") from exc
        finally:
            if writer:
                self._committing = False
        return result

    def write(self, work: Callable[[Tx], T]) -> T:
        if self._writer_thread == threading.get_ident():
            raise StoreError("写事务不能嵌套", "write transactions cannot be nested")
        with self._gate.unit(), self._write_lock:  # this order only: a reopening holds the gate
            self._writer_thread = threading.get_ident()
            try:
                result = self._unit(self._writer, "BEGIN TRANSACTION", work)
            finally:
                self._writer_thread = None
            self._writes += 1
            self._writes_since_open += 1
            if self._checkpoint_writes and self._writes >= self._checkpoint_writes:
                try:
                    self._checkpoint_held()
                except StoreError:  # the write is committed: its caller is not told of this
                    log.warning("checkpoint after %d writes failed; the engine's own will follow",
                                self._checkpoint_writes, exc_info=True)
            due = self._reopen_writes and self._writes_since_open >= self._reopen_writes
            if due:
                self._writes_since_open = 0  # taken by this writer alone
        if due and self._gate.inside():  # a write inside a read cannot wait for it: the next write will
            self._writes_since_open = self._reopen_writes
        elif due:
            self.reopen()
        return result

    def reads_at_once(self) -> bool:
        """No reopening under way, and no write committing or checkpointing: the engine checkpoints
        in a commit once its WAL has grown enough, and holds new transactions back until the
        checkpoint ends. (A write merely running holds no read back.)"""
        return self._gate.open() and not self._committing

    def read(self, work: Callable[[Tx], T]) -> T:
        with self._gate.unit():
            return self._unit(self._reader(), "BEGIN TRANSACTION READ ONLY", work)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file, so the pages a bulk load dirtied can
        leave the buffer pool, and the memory the writes held goes back to the system."""
        with self._gate.unit(), self._write_lock:
            self._checkpoint_held()

    def _checkpoint_held(self) -> None:
        """Checkpoint with the write lock held (the committed writes are safe in the WAL either way)."""
        self._writes = 0
        self._committing = True
        try:
            self._writer.execute("CHECKPOINT")
        except RuntimeError as exc:
            raise _translate(exc, "CHECKPOINT") from exc
        finally:
            self._committing = False
            _trim()

    def wipe(self) -> None:
        def delete_all(tx: Tx) -> None:
            for rel in REL_TABLES:
                tx.run(f"MATCH ()-[e:{rel.type}]->() DELETE e")
            for table in (*NODE_TABLES, *TALLY_TABLES):  # the marks stay, as on Neo4j
                tx.run(f"MATCH (n:{table.label}) DELETE n")
        self.write(delete_all)

    def close(self) -> None:
        # no trim here: a process that opens another store reuses what this one freed (trimming
        # made the next opening three times slower), and one that ends gives it all back
        with self._gate.alone():
            self._shut()
