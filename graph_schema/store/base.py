"""The ``GraphStore`` interface that every service uses, whichever engine is behind it.

A unit of work is a plain function ``work(tx) -> T``. ``store.write(work)`` runs it in one
all-or-nothing transaction (retried on Neo4j's transient errors, so it must not have side effects
outside the store), ``store.read(work)`` in a read transaction. Services never see a driver object.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, TypeVar

from graph_schema.errors import QueryParameterError
from graph_schema.store.schema import Kind, NodeTable, RelTable

T = TypeVar("T")
Row = dict[str, Any]

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class Dialect(StrEnum):
    LADYBUG = "ladybug"
    NEO4J = "neo4j"


@functools.lru_cache(maxsize=4096)
def _names(query: str) -> frozenset[str]:
    """The ``$parameters`` a query names (queries repeat: the service runs the same few thousand)."""
    return frozenset(_PARAM.findall(query))


def check_params(query: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse a query whose ``$parameters`` are not all given (Ladybug would bind NULL silently),
    and turn enum members into their plain values so both drivers accept them."""
    missing = sorted(_names(query) - params.keys())
    if missing:
        raise QueryParameterError(
            f"查询缺少参数：{', '.join(missing)}", f"query parameters not given: {', '.join(missing)}",
            missing=missing)
    return {k: plain(v) for k, v in params.items()}


_SCALARS = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})


def plain(value: Any) -> Any:
    """A parameter value as the drivers take it: enums by value, containers recursively.
    (On the batch paths this sees every cell, hence the exact-type fast path.)"""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def normalise(value: Any) -> Any:
    """A result value as services expect it, identical on both engines."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Decimal):  # Ladybug's sum() of integers
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    to_native = getattr(value, "to_native", None)  # neo4j.time.Date / DateTime
    if to_native is not None:
        return to_native()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


#: How a batched read walks from nodes found by key (:func:`keyed`): ``… OPTIONAL MATCH (h)<-…``,
#: dropping the rows whose far end is NULL. After ``UNWIND``, the embedded engine plans a plain
#: second MATCH (or a path ending at the keyed node) as a hash join over a scan of the far table,
#: 5–8 ms for one key in a county; OPTIONAL MATCH follows the edges from the keyed node, ~0.3 ms.
FROM_KEY = "OPTIONAL MATCH"


def grouped(keys: Sequence[str], rows: Iterable[Row], by: str, convert: Callable[[Row], T],
            present: str | None = None) -> dict[str, list[T]]:
    """The rows of a batched read as lists under every key asked for (empty for a key with none),
    in row order; a row whose ``present`` column is NULL (an OPTIONAL MATCH that found nothing) is
    dropped."""
    out: dict[str, list[T]] = {k: [] for k in keys}
    for r in rows:
        if present is None or r[present] is not None:
            out[r[by]].append(convert(r))
    return out


@dataclass(frozen=True)
class Part:
    """A list that hangs off a node read by key (:meth:`Tx.gather`): the rows ``pattern`` matches
    from the node, each with ``columns`` (alias → expression); ``present`` names the column that
    is NULL when the pattern matched nothing."""

    name: str
    pattern: str
    columns: Mapping[str, str]
    present: str


def aliased(columns: Mapping[str, str]) -> str:
    """A RETURN list of ``columns`` (alias → expression)."""
    return ", ".join(f"{expr} AS {alias}" for alias, expr in columns.items())


def keyed(table: NodeTable, var: str, keys: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The start of a batched read by key, and its parameters: ``MATCH (var:Label {key: $key})`` for
    one key, ``UNWIND $keys AS k MATCH (var:Label {key: k})`` for several. Queries return the
    node's key property, never ``k``, so both forms share the rest of the query. (On the embedded
    engine the one-key form costs ~0.1 ms, the UNWIND form ~0.3 ms whatever the batch size: a
    detail page asks for one household at a time.)"""
    if len(keys) == 1:
        return f"MATCH ({var}:{table.label} {{{table.key}: $key}})", {"key": keys[0]}
    return f"UNWIND $keys AS k MATCH ({var}:{table.label} {{{table.key}: k}})", {"keys": list(keys)}


class Tx(ABC):
    """One open transaction. After any exception the transaction is gone: the store rolls it
    back and the unit of work must not run further statements (Ladybug would auto-commit them)."""

    dialect: Dialect

    @abstractmethod
    def run(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run one Cypher statement; every returned column must be aliased."""

    @abstractmethod
    def create_nodes(self, table: NodeTable, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new nodes (the caller guarantees their keys are new): the bulk path."""

    @abstractmethod
    def create_rels(self, rel: RelTable, src: NodeTable, dst: NodeTable,
                    rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new edges; each row has ``src`` and ``dst`` keys plus the edge properties."""

    @abstractmethod
    def lock(self, table: NodeTable, keys: Sequence[str]) -> set[str]:
        """Hold ``keys``' nodes against concurrent writers until the transaction ends, and return
        the keys that exist. Callers lock households before cadres, each in sorted order, so two
        transactions never wait on each other in a cycle."""

    def cast(self, expr: str, kind: Kind) -> str:
        """The fragment that types a row value: Ladybug needs it where a whole batch is NULL."""
        return expr

    def ordered_page(self, match: str, columns: Mapping[str, str], order: str, params: Mapping[str, Any],
                     skip: int, limit: int) -> tuple[int, list[Row]]:
        """How many rows ``match`` (a statement up to its RETURN) finds, and the ``limit`` of them
        after ``skip`` in ``order`` (which names ``columns``' aliases), each as its ``columns``
        (alias → expression): a report's first page without shipping the rest.

        Here: a count, then the page (``ORDER BY … SKIP … LIMIT``), two passes over the match; no
        page is asked past the end (LadybugDB 0.22 crashed on ``ORDER BY … SKIP`` far beyond the
        rows of a joined match). Neo4j overrides it with one statement that collects the ordered
        rows on the server and returns their number and the page's slice."""
        total = self.run(f"{match} RETURN count(*) AS n", params)[0]["n"]
        if skip >= total:
            return total, []
        return total, self.run(f"{match} RETURN {aliased(columns)} ORDER BY {order} SKIP $skip LIMIT $limit",
                               {**params, "skip": skip, "limit": limit})

    def side_by_side(self, works: Sequence[Callable[[Tx], T]]) -> list[T]:
        """Each of ``works``' results, in order: independent reads of one answer, such as a wide
        report's findings, each a function of a transaction.

        Here: one after the other in this transaction. Neo4j overrides it for a read
        transaction: there each statement runs on one core of the server (Community has no
        parallel runtime), so the works but the first run at once in read transactions of their
        own."""
        return [work(self) for work in works]

    def gather(self, table: NodeTable, var: str, keys: Sequence[str], where: str, params: Mapping[str, Any],
               head: Mapping[str, str], parts: Sequence[Part]) -> dict[str, Row]:
        """The nodes of ``keys`` that ``where`` keeps (a fragment after the keyed ``MATCH`` that
        binds ``var``, such as a scope's), each as its ``head`` columns (alias → expression, the
        node's key among them under its own name) plus one list of rows per part, under the
        part's name, in no particular order.

        Here: one statement for the nodes, then one per part, over the nodes found (none when
        none is). On LadybugDB that is the fast form: a single statement that collects the parts
        (``OPTIONAL MATCH … WITH n, collect({…})`` per part) took four times as long as the
        separate statements for one household. Neo4j overrides it with that single statement,
        since there each statement is a round trip."""
        start, values = keyed(table, var, keys)
        found = {r[table.key]: r for r in self.run(f"{start}{where} RETURN {aliased(head)}", values | dict(params))}
        if found and parts:
            start, values = keyed(table, var, sorted(found))
            for part in parts:
                for row in found.values():
                    row[part.name] = []
                rows = self.run(f"{start} {FROM_KEY} {part.pattern} "
                                f"RETURN {var}.{table.key} AS _key, {aliased(part.columns)}", values)
                for r in rows:
                    if r[part.present] is not None:
                        found[r.pop("_key")][part.name].append(r)
        return found


class GraphStore(ABC):
    """A graph store: an embedded LadybugDB directory or a Neo4j database."""

    dialect: Dialect
    #: where the store lives, for messages (a directory or a URI without credentials)
    location: str

    @abstractmethod
    def write(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one write transaction, all or nothing."""

    @abstractmethod
    def read(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one read transaction."""

    @abstractmethod
    def close(self) -> None: ...

    def reads_at_once(self) -> bool:
        """Whether a read started now would begin at once, in this process, rather than wait (for
        a server, for a reopening, for a write's checkpoint): only then may a small read run on
        the caller's thread instead of a worker's (``api/graphql/loaders.py``). A guess made
        without a lock, so a read may still wait briefly; never true for a server's store, whose
        every read waits for the network."""
        return False

    def checkpoint(self) -> None:
        """After a bulk load: make the store durable and compact (a no-op where the engine does
        this by itself)."""

    def after_bulk_load(self) -> None:
        """At the end of a bulk load (an import, a restore): give back the memory the engine kept
        for it (a no-op where the engine keeps none; a Neo4j server manages its own)."""

    def between_bulk_loads(self) -> None:
        """Between the parts of a bulk load (the files of an import): give back the memory the
        engine kept for the parts written, so that the load's peak is that of its largest part
        (a no-op where the engine keeps none)."""

    @abstractmethod
    def wipe(self) -> None:
        """Delete every node and edge (tests and ``init --force``); the schema stays."""

    def query(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """A single read statement."""
        return self.read(lambda tx: tx.run(query, params))

    def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """A single write statement in its own transaction."""
        return self.write(lambda tx: tx.run(query, params))

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chunks(rows: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]
