"""Shared pieces of the typed models: the base class, reusable field types and the row mapping.

A model's field names are its store property names, so ``to_row`` and ``from_row`` are a plain
dump and load; the domain models live next to their services (``household/models.py`` …).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from graph_schema.identifiers import (
    normalize_cert_number,
    normalize_id_number,
    normalize_region_code,
    normalize_uscc,
)


def _strip(value: Any) -> Any:
    """Surrounding spaces (also the full-width one) never carry meaning in a name or an address."""
    if isinstance(value, str):
        value = value.strip().strip("\u3000").strip()
        return value or None
    return value


def _empty_list(value: Any) -> Any:
    return [] if value is None else value


IdNumber = Annotated[str, BeforeValidator(normalize_id_number)]
CertNumber = Annotated[str, BeforeValidator(normalize_cert_number)]
Uscc = Annotated[str, BeforeValidator(normalize_uscc)]
RegionCode = Annotated[str, BeforeValidator(normalize_region_code)]
Text = Annotated[str, BeforeValidator(_strip)]
OptionalText = Annotated[str | None, BeforeValidator(_strip)]
Key = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=64)]
Fen = Annotated[int, Field(ge=0)]
"""Money in fen (分): integers, so sums are exact on both engines."""


def list_of(item: Any) -> Any:
    """A list field where an empty cell means an empty list."""
    return Annotated[list[item], BeforeValidator(_empty_list)]


class RuleBroken(ValueError):
    """A rule across the fields of one record (a period in order, a provider named …) broken: its
    ``code`` is stable, so an API answer can name the rule beside the message."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class Model(BaseModel):
    """Base of every domain model: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    def to_row(self) -> dict[str, Any]:
        """The store row: field names are property names, enums become their values.
        (Flat by construction, so one pass suffices: this runs for every imported record.)"""
        row = self.model_dump()
        for key, value in row.items():
            if isinstance(value, Enum):
                row[key] = value.value
            elif isinstance(value, list) and value and isinstance(value[0], Enum):
                row[key] = [item.value for item in value]
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        return cls.model_validate({k: v for k, v in row.items() if k in cls.model_fields})


def now() -> dt.datetime:
    """The current time, in UTC: what the store stamps a change or a new record with. The one
    clock of the system, so that a test can set it (``today`` follows it)."""
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today's date where the system runs."""
    return now().astimezone().date()


__all__ = [
    "CertNumber", "Fen", "IdNumber", "Key", "Model", "OptionalText", "RegionCode",
    "Text", "Uscc", "list_of", "now", "today",
]
