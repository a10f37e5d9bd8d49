"""The service catalogue (服务目录): the default entries the system ships, overlaid by the entries
the store holds (an import of 服务目录 adds or changes them).

The defaults are written into the store the first time anything refers to a service (a need, an
offer, a delivery, a catalogue import), as regions named by other records are, so that every
``OF`` edge has its ``ServiceType`` node and an empty store stays empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph_schema.errors import NotFound
from graph_schema.records import BatchResult, fetch_by_keys, require_unique, upsert_nodes
from graph_schema.service import fact_versions
from graph_schema.service.models import DEFAULT_CATALOGUE, DEFAULT_TIME_LIMIT, ServiceType
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import SERVICE_TYPE

_COLUMNS = ", ".join(f"s.{c} AS {c}" for c in SERVICE_TYPE.columns)
_ALL = "MATCH (s:ServiceType) RETURN " + _COLUMNS


@dataclass(frozen=True)
class Catalogue:
    """The catalogue in effect, by code."""

    types: dict[str, ServiceType]

    def __post_init__(self) -> None:
        # plain lookups: reports ask for a category once per delivery read (an enum's value is slow)
        object.__setattr__(self, "_categories", {c: t.category.value for c, t in self.types.items()})
        object.__setattr__(self, "_counted", {c for c, t in self.types.items() if t.counts})

    def __contains__(self, code: object) -> bool:
        return code in self.types

    def get(self, code: str) -> ServiceType:
        found = self.types.get(code)
        if found is None:
            raise NotFound("服务编码", "service", code)
        return found

    def category(self, code: str | None, fallback: str | None = None) -> str | None:
        """A service's category (the catalogue's word is final: a stored need keeps the category
        it was recorded with only when its code has left the catalogue)."""
        return self._categories.get(code, fallback) if code else fallback

    def codes(self, category: str) -> list[str]:
        return sorted(c for c, k in self._categories.items() if k == category)

    def counted(self, code: str) -> bool:
        return code in self._counted

    def time_limit(self, code: str | None, category: str) -> int:
        """The service's 办理时限, or for a need of a whole category the shortest of its services."""
        if code and code in self.types:
            return self.types[code].time_limit
        limits = [t.time_limit for t in self.types.values() if t.category.value == category]
        return min(limits) if limits else DEFAULT_TIME_LIMIT

    def sorted(self) -> list[ServiceType]:
        return [self.types[c] for c in sorted(self.types)]


def catalogue_in(tx: Tx) -> Catalogue:
    types = {t.code: t for t in DEFAULT_CATALOGUE}
    types.update({r["code"]: ServiceType.from_row(r) for r in tx.run(_ALL)})
    return Catalogue(types)


def get_catalogue(*, store: GraphStore) -> Catalogue:
    """The catalogue in effect: the defaults, overlaid by what the store holds."""
    return store.read(catalogue_in)


def ensure_catalogue(tx: Tx, besides: Iterable[str] = ()) -> None:
    """Write the default entries the store lacks (see the module docstring), except those of
    ``besides`` (the codes a catalogue import is about to write itself)."""
    wanted = [t for t in DEFAULT_CATALOGUE if t.code not in set(besides)]
    stored = fetch_by_keys(tx, SERVICE_TYPE, [t.code for t in wanted], ["code"])
    tx.create_nodes(SERVICE_TYPE, [t.to_row() for t in wanted if t.code not in stored])


def upsert_service_types(*, store: GraphStore, types: Sequence[ServiceType]) -> BatchResult:
    """Add or change catalogue entries (a changed entry keeps its previous values as a revision)."""
    require_unique(types, "code", "服务编码")

    def work(tx: Tx) -> BatchResult:
        ensure_catalogue(tx, {t.code for t in types})
        result = upsert_nodes(tx, SERVICE_TYPE, [t.to_row() for t in types])
        if result.created or result.updated:  # what counts toward the rate, and in which category
            fact_versions.raise_versions(tx, [fact_versions.CATALOGUE])
        return result

    return store.write(work)
