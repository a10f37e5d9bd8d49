"""The audit trail: who read or changed which household data, when, through which request.

Entries are written to the graph store by :class:`AuditLog`, in batches: a request that changes data
waits until its entries are stored before it answers; reads are stored within ``interval`` seconds
(one write transaction per batch keeps the single-writer embedded engine free for real writes).
Nothing in the system updates or deletes an entry.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass, field

from graph_schema.access.models import User
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import AUDIT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditEntry:
    at: str
    user_id: str
    role: str
    action: str  # read | write | refused (asked for and refused: probing leaves a trace)
    operation: str  # e.g. "GET /api/v1/households/{household_no}" or "graphql household"
    object_kind: str  # household | person | …
    object_keys: list[str]
    request_id: str
    audit_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def entry(user: User, action: str, operation: str, object_kind: str, keys: list[str], request_id: str) -> AuditEntry:
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
    return AuditEntry(at, user.user_id, user.role.value, action, operation, object_kind, keys, request_id)


def public_entry(operation: str, object_kind: str, keys: list[str], request_id: str) -> AuditEntry:
    """A change made without an account (an organisation asking to join, from the sign-in page):
    its user is ``anonymous`` and its role ``public``."""
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
    return AuditEntry(at, "anonymous", "public", "write", operation, object_kind, keys, request_id)


def record(tx: Tx, entries: list[AuditEntry]) -> None:
    tx.create_nodes(AUDIT, [vars(e) for e in entries])


class AuditLog:
    """A buffer of entries and the thread that stores them."""

    def __init__(self, store: GraphStore, *, interval: float = 0.5) -> None:
        self._store = store
        self._interval = interval
        self._pending: list[AuditEntry] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-log", daemon=True)
        self._thread.start()

    def add(self, entries: list[AuditEntry]) -> None:
        with self._lock:
            self._pending.extend(entries)

    def flush(self) -> None:
        """Store everything added so far (the caller waits for it)."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._store.write(lambda tx: record(tx, batch))

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the thread must survive a failed batch; it is retried
                log.exception("audit entries could not be stored; retrying")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()


def audit_entries(*, store: GraphStore, since: dt.datetime | None = None, user_id: str | None = None,
                  object_key: str | None = None, page: PageRequest = PageRequest()) -> Page[AuditEntry]:
    """Entries from ``since`` on, newest first; optionally of one user or naming one object."""
    since = since or dt.datetime(1970, 1, 1)
    if since.tzinfo is None:  # naive times are UTC, as the entries are
        since = since.replace(tzinfo=dt.timezone.utc)
    since_text = since.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    where = "a.at >= $since" + (" AND a.user_id = $user" if user_id else "") + \
        (" AND $key IN a.object_keys" if object_key else "")
    params = {"since": since_text} | ({"user": user_id} if user_id else {}) | ({"key": object_key} if object_key else {})
    columns = ", ".join(f"a.{c} AS {c}" for c in AUDIT.columns)

    return store.read(lambda tx: page_of(tx, f"MATCH (a:AuditEntry) WHERE {where}", "a", columns,
                                         "at DESC, audit_id", params, page, lambda r: AuditEntry(**r)))
