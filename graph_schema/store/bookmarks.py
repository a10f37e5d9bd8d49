"""Reading one's own writes across service workers: the bookmarks a request's writes produced,
and the ones its transactions must wait for.

On a Neo4j cluster a read may be routed to a follower that has not yet applied a write committed
a moment ago through another worker; a bookmark names a committed transaction, and a transaction
begun with it waits until the server it runs on has applied that transaction. Within one process
the Neo4j store chains every session through the driver's own bookmark manager; across processes
the client carries the bookmarks (the service's ``Jiedui-Bookmark`` header, ``api/bookmarks.py``).

The current request's bookmarks live in a context variable holding a mutable record, so that the
worker threads a request's code runs on (which see a copy of the context) add to the same record.
The embedded engine is one process and has nothing to wait for: it ignores them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from graph_schema.errors import InvalidValue

#: one bookmark: visible ASCII without commas (Neo4j's are "FB:" and base64); a header holds a few
_ONE = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,512}$")
MAX_BOOKMARKS = 16


@dataclass
class Causal:
    """The bookmarks of one request: those it must wait for, and those its writes made."""

    wait_for: frozenset[str] = frozenset()
    made: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, bookmarks: Iterable[str]) -> None:
        with self._lock:
            self.made.update(bookmarks)


_CURRENT: ContextVar[Causal | None] = ContextVar("jiedui_causal", default=None)


def current() -> Causal | None:
    """The bookmarks of the request being served (None outside one)."""
    return _CURRENT.get()


@contextmanager
def causal(wait_for: Iterable[str] = ()) -> Iterator[Causal]:
    """Within this block every transaction waits for ``wait_for``, and the bookmarks of its
    committed writes are collected in the record it yields."""
    token = _CURRENT.set(Causal(frozenset(wait_for)))
    try:
        yield _CURRENT.get()  # type: ignore[misc]
    finally:
        _CURRENT.reset(token)


def parse(value: str) -> frozenset[str]:
    """The bookmarks of a header value (comma-separated); InvalidValue for anything else."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > MAX_BOOKMARKS or not all(_ONE.fullmatch(v) for v in items):
        raise InvalidValue("Jiedui-Bookmark", value[:80], f"至多 {MAX_BOOKMARKS} 个以逗号分隔的书签（服务此前的应答所给）",
                           f"at most {MAX_BOOKMARKS} comma-separated bookmarks, as an earlier answer gave them")
    return frozenset(items)


def render(bookmarks: Iterable[str]) -> str:
    return ",".join(sorted(bookmarks))
