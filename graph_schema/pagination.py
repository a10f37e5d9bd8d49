"""Pages of results: every list the system returns is paginated and totally ordered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from graph_schema.errors import InvalidValue

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
