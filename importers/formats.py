"""Values as the contract files write them (the inverse of ``cells``): what the exporter and the
synthetic generator put in a cell, so that importing it gives back the same value."""

from __future__ import annotations

import datetime as dt
from enum import Enum, IntEnum


def yuan(fen: int | None) -> str:
    """50000 → "500", 12345 → "123.45", 12340 → "123.4" (integer arithmetic: exact and fast)."""
    if fen is None:
        return ""
    sign, (whole, cents) = ("-" if fen < 0 else ""), divmod(abs(fen), 100)
    return sign + (str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0"))


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def day(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def month(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%Y-%m}"


def word(value: Enum | str | int | None) -> str:
    """An enum as organisers write it: its Chinese value (IntEnums such as 残疾等级 by ``zh``)."""
    if value is None:
        return ""
    if isinstance(value, IntEnum):
        return value.zh  # type: ignore[attr-defined]
    return str(value.value if isinstance(value, Enum) else value)


def words(values: list | None) -> str:
    return "、".join(word(v) for v in values or [])


def number(value: int | None) -> str:
    return "" if value is None else str(value)


def text(value: str | None) -> str:
    return value or ""
