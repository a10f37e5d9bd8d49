"""Scalars beyond GraphQL's own: money in fen, which outgrows GraphQL's 32-bit ``Int`` (a
province's donations of a year are over ¥13 million, 1.3 billion fen; 2³¹ fen is ¥21 million)."""

from __future__ import annotations

from typing import NewType

import strawberry

Fen = NewType("Fen", int)


def _fen(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"金额须为整数（分）/ money is a whole number of fen: {value!r}")
    return value


#: for ``StrawberryConfig(scalar_map=...)``
SCALARS = {
    Fen: strawberry.scalar(name="Fen", serialize=int, parse_value=_fen,
                           description="金额，单位为分（整数，可超出 32 位）/ money in fen: a whole number, may exceed 32 bits"),
}
