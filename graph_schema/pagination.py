"""Pages of results: every list the system returns is paginated and totally ordered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from graph_schema.errors import InvalidValue

if TYPE_CHECKING:
    from graph_schema.store.base import Tx

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 50
    max_page_size: int = field(default=1000, repr=False)

    def __post_init__(self) -> None:
        if self.page < 1:
            raise InvalidValue("page", self.page, "页码从 1 开始", "pages start at 1")
        if not 1 <= self.page_size <= self.max_page_size:
            raise InvalidValue("page_size", self.page_size, f"每页条数须在 1 到 {self.max_page_size} 之间",
                               f"page size must be between 1 and {self.max_page_size}")

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.page_size


def page_of(tx: Tx, match: str, counted: str, returns: str, order: str, params: Mapping[str, Any],
            page: PageRequest, convert: Callable[[dict], T]) -> Page[T]:
    """One page of the rows ``match`` finds, in ``order``, and their total (``count(counted)``).
    No row query runs past the end: LadybugDB 0.22 crashed on ``ORDER BY … SKIP`` far beyond
    the rows of a joined match."""
    total = tx.run(f"{match} RETURN count({counted}) AS n", params)[0]["n"]
    rows = tx.run(f"{match} RETURN {returns} ORDER BY {order} SKIP $skip LIMIT $limit",
                  {**params, "skip": page.skip, "limit": page.page_size}) if page.skip < total else []
    return Page([convert(r) for r in rows], total, page.page, page.page_size)
