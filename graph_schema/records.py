"""Upsert by natural key, with history: the one write path every entity's service shares.

Rows are compared with what is stored; new rows go in through the bulk insert path (UNWIND
CREATE on both engines) and a ``Creation`` node records their keys and the time, changed rows
are updated property by property and their previous values are kept as a ``Revision`` node with
the time, unchanged rows are not written at all. So an import run twice writes nothing the second
time, a changed row stays traceable, and the state of any past day can be told
(:mod:`graph_schema.history`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph_schema.errors import InvalidValue, JieduiError
from graph_schema import models
from graph_schema.settings import get_settings
from graph_schema.store.base import GraphStore, T, Tx, chunks
from graph_schema.store.schema import CREATION, REVISION, NodeTable


Progress = Callable[[int], None]
"""Called with the number of items just written, so a command can advance a progress bar."""


@dataclass
class BatchResult:
    """What a batch write did, key by key; ``errors`` holds ``(index in the batch, error)`` of the
    items that were refused while the others were written."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int, JieduiError]] = field(default_factory=list)
    #: key of an updated row → the values its changed columns had (what its ``Revision`` keeps), for
    #: a write that must know where a record was before (a household's village, a need's person)
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __iadd__(self, other: "BatchResult") -> "BatchResult":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors += other.errors
        self.previous |= other.previous
        return self

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "rejected": len(self.errors)}


def write_in_batches(store: GraphStore, items: Sequence[T], work: Callable[[Tx, Sequence[T], int], BatchResult],
                     progress: Progress | None = None) -> BatchResult:
    """Run ``work(tx, batch, offset)`` on each batch of ``items`` in its own write transaction and
    add up the results; ``offset`` lets errors name the item's index in ``items``. A batch is
    ``JIEDUI_BATCH_SIZE`` items (10k: large enough for the bulk insert to pay off, small enough
    that a transaction stays well inside Neo4j's transaction memory)."""
    result = BatchResult()
    size = get_settings().batch_size
    for start in range(0, len(items), size):
        part = items[start : start + size]
        result += store.write(lambda tx: work(tx, part, start))  # noqa: B023 - called before the next loop
        if progress:
            progress(len(part))
    return result


def fetch_by_keys(tx: Tx, table: NodeTable, keys: Sequence[str], columns: Sequence[str]) -> dict[str, dict]:
    """The stored rows of ``keys`` (UNWIND + MATCH: an index lookup on both engines)."""
    found: dict[str, dict] = {}
    returned = ", ".join(f"n.{c} AS {c}" for c in columns)
    query = f"UNWIND $keys AS k MATCH (n:{table.label} {{{table.key}: k}}) RETURN {returned}"
    for part in chunks(list(keys), 20_000):
        for row in tx.run(query, {"keys": list(part)}):
            found[row[table.key]] = row
    return found


def _same(stored: Any, new: Any) -> bool:
    if isinstance(stored, list) or isinstance(new, list):
        return list(stored or []) == list(new or [])
    return stored == new


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _changes(tx: Tx, table: NodeTable, rows: Sequence[dict[str, Any]]) -> list[tuple[dict, dict | None]]:
    """Each row with what it would change: None for a new row, ``{}`` for an unchanged one, else
    the stored values of the columns it changes. Only the columns present in the rows count."""
    columns = list(rows[0])
    stored = fetch_by_keys(tx, table, [r[table.key] for r in rows], columns)
    out = []
    for row in rows:
        old = stored.get(row[table.key])
        out.append((row, None if old is None else {c: old.get(c) for c in columns if not _same(old.get(c), row.get(c))}))
    return out


def preview_nodes(tx: Tx, table: NodeTable, rows: Sequence[dict[str, Any]]) -> BatchResult:
    """What :func:`upsert_nodes` would do with ``rows``, writing nothing (an import's dry run)."""
    result = BatchResult()
    for row, diff in _changes(tx, table, rows) if rows else []:
        (result.created if diff is None else result.updated if diff else result.unchanged).append(row[table.key])
    return result


_last = {"reading": None, "stamp": None}  # the clock's last reading, the stamp given for it
_stamp_lock = threading.Lock()


def stamp() -> str:
    """The time a change is recorded at: UTC, ISO 8601 to the microsecond, so that the stamps of
    ``Revision`` and ``Creation`` nodes sort as text. Should the clock read the same twice, the
    second stamp is a microsecond later, so that two changes of one record keep their order."""
    with _stamp_lock:
        reading = models.now().astimezone(dt.timezone.utc)
        moment = _last["stamp"] + dt.timedelta(microseconds=1) if reading == _last["reading"] else reading
        _last["reading"], _last["stamp"] = reading, moment
    return moment.isoformat(timespec="microseconds")


def create_recorded(tx: Tx, table: NodeTable, rows: Sequence[dict[str, Any]], at: str) -> None:
    """Insert new nodes (bulk path) and record that they were created ``at`` (one ``Creation``)."""
    if not rows:
        return
    tx.create_nodes(table, rows)
    tx.create_nodes(CREATION, [{"creation_id": uuid.uuid4().hex, "label": table.label, "recorded_at": at,
                                "keys": [r[table.key] for r in rows]}])


def upsert_nodes(tx: Tx, table: NodeTable, rows: Sequence[dict[str, Any]]) -> BatchResult:
    """Insert or update ``rows`` (one per key: the caller deduplicates, since rows of one
    statement do not see each other's writes). Only the columns present in the rows are
    compared and written, so properties the services manage (``version``) are left alone."""
    result = BatchResult()
    if not rows:
        return result
    columns = list(rows[0])
    new, changed, revisions = [], [], []
    at = stamp()
    for row, diff in _changes(tx, table, rows):
        key = row[table.key]
        if diff is None:
            new.append(row)
            result.created.append(key)
            continue
        if not diff:
            result.unchanged.append(key)
            continue
        changed.append(row)
        result.updated.append(key)
        result.previous[key] = diff
        revisions.append({
            "revision_id": uuid.uuid4().hex, "label": table.label, "entity_key": key, "recorded_at": at,
            "previous": json.dumps({c: _jsonable(v) for c, v in diff.items()}, ensure_ascii=False),
        })
    create_recorded(tx, table, new, at)
    if changed:
        sets = ", ".join(f"n.{c} = {tx.cast('r.' + c, table.props[c])}" for c in columns if c != table.key)
        query = f"UNWIND $rows AS r MATCH (n:{table.label} {{{table.key}: r.{table.key}}}) SET {sets}"
        for part in chunks(changed, 10_000):
            tx.run(query, {"rows": list(part)})
        tx.create_nodes(REVISION, revisions)
    return result


def history(tx: Tx, table: NodeTable, key: str) -> list[dict[str, Any]]:
    """Earlier values of one record, oldest first: ``[{recorded_at, previous: {column: value}}]``."""
    rows = tx.run(
        "MATCH (v:Revision) WHERE v.entity_key = $key AND v.label = $label "
        "RETURN v.recorded_at AS recorded_at, v.previous AS previous, v.revision_id AS revision_id "
        "ORDER BY recorded_at, revision_id",
        {"key": key, "label": table.label},
    )
    return [{"recorded_at": r["recorded_at"], "previous": json.loads(r["previous"])} for r in rows]


def relink(tx: Tx, rel, src: NodeTable, dst: NodeTable, rows: Sequence[dict[str, Any]], *,
           replace: bool) -> None:
    """Give each ``rows[i]['src']`` node exactly one ``rel`` edge, to ``rows[i]['dst']``.

    ``replace`` deletes the node's existing edges of that type first (for updated records, whose
    region or household may have changed); new records have none to delete.
    """
    if not rows:
        return
    if replace:
        query = (f"UNWIND $keys AS k MATCH (a:{src.label} {{{src.key}: k}})-[e:{rel.type}]->(:{dst.label}) "
                 "DELETE e")
        for part in chunks([r["src"] for r in rows], 20_000):
            tx.run(query, {"keys": list(part)})
    tx.create_rels(rel, src, dst, rows)


def upsert_linked(tx: Tx, table: NodeTable, rows: Sequence[dict[str, Any]], rel, dst: NodeTable,
                  link: Callable[[dict[str, Any]], dict[str, Any]]) -> BatchResult:
    """Upsert ``rows`` and keep each one's single ``rel`` edge (household → region, person →
    household …) pointing where ``link(row)`` says: ``{"dst": key, **edge properties}``."""
    result = upsert_nodes(tx, table, rows)
    by_key = {r[table.key]: r for r in rows}
    for keys, replace in ((result.created, False), (result.updated, True)):
        relink(tx, rel, table, dst, [{"src": k, **link(by_key[k])} for k in keys], replace=replace)
    return result


def get_node(tx: Tx, table: NodeTable, key: str) -> dict[str, Any] | None:
    found = fetch_by_keys(tx, table, [key], table.columns)
    return found.get(key)


def require_unique(items: Sequence[Any], key: str, field_zh: str) -> None:
    """Refuse a batch that names one natural key twice: its rows would not see each other."""
    seen: set[str] = set()
    for item in items:
        value = getattr(item, key)
        if value in seen:
            raise InvalidValue(field_zh, value, "同一批次中重复", "appears twice in one batch", code="DUPLICATE_KEY")
        seen.add(value)
