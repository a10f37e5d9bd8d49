"""Relay-style connections over the offset pages the services already return.

Every list the services return is totally ordered and paged by SKIP/LIMIT, so a cursor is the
position of an item in that order (base64 of ``o:<offset>``): no new queries, and the same cursor
works for the small lists sliced in Python. Cursors are opaque on purpose: clients pass back what
they were given and never build them, so the encoding may change (e.g. to keyset cursors).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

from graph_schema.errors import InvalidValue
from graph_schema.pagination import PageRequest

T = TypeVar("T")
S = TypeVar("S")

DEFAULT_FIRST = 50
MAX_FIRST = 1000
_PREFIX = "o:"


@strawberry.type(description="分页信息 / where this page lies in the whole list")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="列表中的一项及其游标 / one item and its cursor")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="一页结果（游标分页）/ one page of a list (cursor pagination)")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="全部条数 / items in the whole list")


def encode(offset: int) -> str:
    return base64.b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode(cursor: str) -> int:
    """The offset a cursor stands for; InvalidValue for anything this API did not hand out."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
        if text.startswith(_PREFIX) and text[len(_PREFIX):].isdigit():
            return int(text[len(_PREFIX):])
    except (UnicodeError, binascii.Error, ValueError):
        pass
    raise InvalidValue("after", cursor, "游标无效（请使用返回的 endCursor）",
                       "invalid cursor (pass back an endCursor you were given)")


@dataclass(frozen=True)
class Window(PageRequest):
    """A page request that starts at any offset (a cursor), not only at a page boundary: every
    service reads ``skip`` and ``page_size``, so the services take it unchanged. ``first`` is
    what the client asked for: 0 asks for ``totalCount`` alone (the services, which page by at
    least one row, then read one row that is not shown)."""

    offset: int = 0
    first: int = 1

    @property
    def skip(self) -> int:
        return self.offset


def window(first: int, after: str | None) -> Window:
    """The slice ``first`` items after cursor ``after``; InvalidValue outside 0..1000."""
    if not 0 <= first <= MAX_FIRST:
        raise InvalidValue("first", first, f"须在 0 到 {MAX_FIRST} 之间", f"must be between 0 and {MAX_FIRST}")
    offset = decode(after) + 1 if after else 0
    size = max(first, 1)
    return Window(page=offset // size + 1, page_size=size, max_page_size=MAX_FIRST, offset=offset, first=first)


def connection(items: Sequence[S], total: int, win: Window, convert: Callable[[S], T]) -> Connection[T]:
    """A connection of one page of ``items`` that starts at ``win.offset`` of a list of ``total``."""
    start = win.offset
    edges = [Edge(cursor=encode(start + i), node=convert(item)) for i, item in enumerate(items[:win.first])]
    return Connection(
        edges=edges, total_count=total,
        page_info=PageInfo(has_next_page=start + len(edges) < total, has_previous_page=start > 0,
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None))


def sliced(items: Sequence[S], first: int, after: str | None, convert: Callable[[S], T]) -> Connection[T]:
    """A connection over a list already loaded whole (a household's ledger, an organisation's
    pairings): sliced here, so the loaders still fetch every parent's list in one batch."""
    win = window(first, after)
    return connection(items[win.offset:win.offset + win.first], len(items), win, convert)
