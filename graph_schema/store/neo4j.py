"""The production backend: Neo4j 5 through the official driver (py2neo is end-of-life).

Units of work run as managed transactions, so the driver retries them on transient errors
(deadlocks, leader changes in a cluster); that is why a unit of work must only touch the store.
Reads run as read transactions, which a ``neo4j://`` URI routes to a cluster's followers; every
session of the process is chained by one bookmark manager, so a read waits for the writes this
process committed before it, and for the bookmarks a request brought from another process
(``graph_schema/store/bookmarks.py``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, TransientError

from graph_schema.errors import InvalidValue, StoreError, StoreUnavailable
from graph_schema.store import bookmarks, counts, ledger_sums, paired
from graph_schema.store.base import (
    Dialect, GraphStore, Part, Row, T, Tx, aliased, check_params, chunks, keyed, normalise,
)
from graph_schema.store.schema import MARK, PROBLEM, NodeTable, RelTable, neo4j_ddl

BATCH = 10_000  # rows per UNWIND statement


class _Neo4jTx(Tx):
    dialect = Dialect.NEO4J

    def __init__(self, tx: neo4j.ManagedTransaction,
                 beside: Callable[[Callable[[Tx], Any]], Future] | None = None) -> None:
        self._tx = tx
        self._beside = beside  # a read's: runs a work in a read transaction of its own
        self.dead = False

    def side_by_side(self, works: Sequence[Callable[[Tx], T]]) -> list[T]:
        # the first work runs here while the others wait for the pool's threads, which run each in
        # a read transaction of its own; this one then takes the works no thread has begun, so the
        # works never wait on a busy pool. A work beside sees what this transaction would (a Neo4j
        # transaction reads what is committed when each statement runs, and every session waits
        # for the same bookmarks).
        if self._beside is None or len(works) < 2:
            return super().side_by_side(works)
        futures = [self._beside(work) for work in works[1:]]
        try:
            done = {0: works[0](self)}
            done |= {i: works[i](self) for i, future in enumerate(futures, 1) if future.cancel()}
            return [done[i] if i in done else futures[i - 1].result() for i in range(len(works))]
        finally:
            for future in futures:
                future.cancel()

    def run(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        values = check_params(query, params or {})
        if self.dead:
            raise StoreError("事务已中止，不能继续执行", "the transaction was aborted; no further statement runs")
        try:
            result = self._tx.run(query, values)
            return [{k: normalise(v) for k, v in record.items()} for record in result]
        except TransientError:
            self.dead = True
            raise  # the managed transaction retries the whole unit of work
        except (Neo4jError, DriverError) as exc:
            self.dead = True
            message = getattr(exc, "message", None) or str(exc)
            raise StoreError(f"Neo4j 执行失败：{message}", f"Neo4j failed: {message}",
                             query=query.split("\n", 1)[0][:200]) from exc

    def lock(self, table: NodeTable, keys: Sequence[str]) -> set[str]:
        # writing a property takes the node's exclusive lock until commit (the Neo4j idiom for
        # serialising check-then-write); a deadlock is a transient error the driver retries
        query = (f"UNWIND $keys AS k MATCH (n:{table.label} {{{table.key}: k}}) "
                 "SET n._lock = coalesce(n._lock, 0) + 1 RETURN k AS k")
        return {r["k"] for r in self.run(query, {"keys": sorted(keys)})}

    def gather(self, table: NodeTable, var: str, keys: Sequence[str], where: str, params: Mapping[str, Any],
               head: Mapping[str, str], parts: Sequence[Part]) -> dict[str, Row]:
        # one statement: each part is an OPTIONAL MATCH collected into a list before the next, so
        # the rows never multiply (a household's detail: 0.9 ms, against 2.6 ms as six statements)
        start, values = keyed(table, var, keys)
        query, carried = f"{start}{where} WITH DISTINCT {var}", var
        for i, part in enumerate(parts):
            fields = ", ".join(f"{alias}: {expr}" for alias, expr in part.columns.items())
            query += f" OPTIONAL MATCH {part.pattern} WITH {carried}, collect({{{fields}}}) AS _part{i}"
            carried += f", _part{i}"
        lists = "".join(f", _part{i} AS {part.name}" for i, part in enumerate(parts))
        found = {}
        for row in self.run(f"{query} RETURN {aliased(head)}{lists}", values | dict(params)):
            for part in parts:  # a pattern that matched nothing still collects one map of NULLs
                row[part.name] = [r for r in row[part.name] if r[part.present] is not None]
            found[row[table.key]] = row
        return found

    def ordered_page(self, match: str, columns: Mapping[str, str], order: str, params: Mapping[str, Any],
                     skip: int, limit: int) -> tuple[int, list[Row]]:
        # one pass: the rows are ordered and collected on the server, which returns their number
        # and the page's slice as one record (a province's report matches ~100k rows, each of
        # which would cost the driver ~13 µs to decode, and a second pass for the count)
        fields = ", ".join(f"{alias}: {alias}" for alias in columns)
        query = (f"{match} WITH {aliased(columns)} ORDER BY {order} WITH collect({{{fields}}}) AS rows "
                 "RETURN size(rows) AS n, rows[$skip..$skip + $limit] AS page")
        found = self.run(query, {**params, "skip": skip, "limit": limit})[0]
        return found["n"], found["page"]

    def create_nodes(self, table: NodeTable, rows: Sequence[Mapping[str, Any]]) -> None:
        for part in chunks(rows, BATCH):
            self.run(f"UNWIND $rows AS r CREATE (n:{table.label}) SET n = r", {"rows": list(part)})

    def create_rels(self, rel: RelTable, src: NodeTable, dst: NodeTable,
                    rows: Sequence[Mapping[str, Any]]) -> None:
        query = (
            f"UNWIND $rows AS r MATCH (a:{src.label} {{{src.key}: r.src}}) "
            f"WITH r, a MATCH (b:{dst.label} {{{dst.key}: r.dst}}) "
            f"CREATE (a)-[e:{rel.type}]->(b) SET e = r.props RETURN count(e) AS n"
        )
        for part in chunks(rows, BATCH):
            batch = [{"src": r["src"], "dst": r["dst"],
                      "props": {k: r.get(k) for k in rel.props}} for r in part]
            made = self.run(query, {"rows": batch})[0]["n"]
            if made != len(batch):
                raise StoreError(f"{rel.type} 边的端点缺失（{len(batch) - made} 条）",
                                 f"{len(batch) - made} {rel.type} edges have a missing endpoint")


class Neo4jStore(GraphStore):
    """A Neo4j database reached over Bolt (``bolt://`` direct, ``neo4j://`` routed to a cluster)."""

    dialect = Dialect.NEO4J

    def __init__(self, uri: str, *, user: str = "neo4j", password: str = "", database: str = "neo4j",
                 max_retry_seconds: float = 30.0, reads_at_once: int = 3) -> None:
        self.location = uri
        self._database = database
        self._bookmarks = GraphDatabase.bookmark_manager()
        # the threads that run reads beside a read's own (Tx.side_by_side), for the whole process
        self._beside = ThreadPoolExecutor(reads_at_once - 1, thread_name_prefix="neo4j-beside") \
            if reads_at_once > 1 else None
        auth = (user, password) if password else None
        try:
            # notifications off: "property key does not exist" on a young graph is noise, not news
            self._driver = GraphDatabase.driver(uri, auth=auth, max_transaction_retry_time=max_retry_seconds,
                                                notifications_min_severity="OFF")
            self._driver.verify_connectivity()
        except (ServiceUnavailable, AuthError, ValueError, OSError) as exc:
            raise StoreUnavailable(f"无法连接 Neo4j「{uri}」：{exc}", f"cannot reach Neo4j at '{uri}': {exc}") from exc
        self._rekey_problems()
        for stmt in neo4j_ddl():
            self._driver.execute_query(stmt, database_=database)
        counts.fill(self)  # a store made before the households kept their member counts
        paired.fill(self)  # … or their pairing counts
        ledger_sums.fill(self)  # … or the ledger its sums

    def _rekey_problems(self) -> None:
        """Give an older store's problems, unique by their 问题编号 alone, the key of their county
        and number (:data:`~graph_schema.store.schema.PROBLEM`): the constraint on the number goes,
        each problem's key is set from its household's region code (in slices), and the schema
        statements then make the constraint on the new key. Until that constraint exists, a
        problem without its key is looked for on every connection (none, once done)."""
        t = PROBLEM
        found = self._driver.execute_query(
            "SHOW CONSTRAINTS YIELD name, properties WHERE name = $name RETURN properties AS properties",
            {"name": f"{t.label.lower()}_key"}, database_=self._database).records
        if found and found[0]["properties"] == [t.key]:
            return
        if found:
            self._driver.execute_query(f"DROP CONSTRAINT {t.label.lower()}_key IF EXISTS", database_=self._database)
        while self.execute(
                f"MATCH (h:Household)-[:HAS_PROBLEM]->(p:{t.label}) WHERE p.{t.key} IS NULL WITH h, p LIMIT 10000 "
                f"SET p.{t.key} = substring(h.region_code, 0, 6) + ':' + p.problem_no RETURN count(*) AS n")[0]["n"]:
            pass

    def _unit(self, mode: str, work: Callable[[Tx], T], beside: bool = True) -> T:
        """Run ``work`` as a managed read or write transaction, translating driver failures; a
        read's transaction may run works beside it (``beside``), a write's and those works' may
        not (a write's uncommitted changes are its own; a work beside waits for no other)."""
        causal = bookmarks.current()
        wait_for = neo4j.Bookmarks.from_raw_values(causal.wait_for) if causal and causal.wait_for else None
        try:
            with self._driver.session(database=self._database, bookmark_manager=self._bookmarks,
                                      bookmarks=wait_for) as session:
                execute = session.execute_write if mode == "write" else session.execute_read
                side = self._run_beside if mode == "read" and beside and self._beside else None
                done = execute(lambda tx: work(_Neo4jTx(tx, side)))
                if causal is not None and mode == "write":
                    causal.add(session.last_bookmarks().raw_values)
                return done
        except Neo4jError as exc:
            if exc.code == "Neo.ClientError.Transaction.InvalidBookmark":  # the client's, not the store's
                raise InvalidValue("Jiedui-Bookmark", ",".join(causal.wait_for) if causal else "",
                                   "不是本图库的书签", "not a bookmark of this store") from exc
            raise StoreError(f"Neo4j 执行失败：{exc.message}", f"Neo4j failed: {exc.message}") from exc
        except ServiceUnavailable as exc:
            raise StoreUnavailable(f"Neo4j 不可用：{exc}", f"Neo4j is unavailable: {exc}") from exc

    def _run_beside(self, work: Callable[[Tx], T]) -> Future[T]:
        """``work`` in a read transaction of its own on a thread of the pool, in the caller's
        context (the request's bookmarks)."""
        return self._beside.submit(contextvars.copy_context().run, self._unit, "read", work, False)

    def write(self, work: Callable[[Tx], T]) -> T:
        return self._unit("write", work)

    def read(self, work: Callable[[Tx], T]) -> T:
        return self._unit("read", work)

    def wipe(self) -> None:
        # in slices, edges first, so no transaction holds a large graph (or a region's thousands
        # of edges) in memory at once; the store's marks stay, as the embedded engine's do (an empty
        # store's household counts are exact)
        for query in ("MATCH ()-[e]->() WITH e LIMIT 10000 DELETE e RETURN count(*) AS n",
                      f"MATCH (n) WHERE NOT n:{MARK.label} WITH n LIMIT 10000 DELETE n RETURN count(*) AS n"):
            while self.execute(query)[0]["n"]:
                pass

    def close(self) -> None:
        if self._beside:
            self._beside.shutdown(cancel_futures=True)
        self._driver.close()
