"""Regions: upsert, lookup, children; and the implicit creation of regions named by other records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from graph_schema.errors import InvalidValue, NotFound, UnknownRegion
from graph_schema.identifiers import (
    IdentifierError,
    normalize_region_code,
    region_ancestors,
    region_parent,
    region_prefix,
)
from graph_schema.records import (
    BatchResult,
    create_recorded,
    fetch_by_keys,
    get_node,
    require_unique,
    stamp,
    upsert_nodes,
)
from graph_schema.region.models import Region
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import PART_OF, REGION


def _missing(tx: Tx, codes: Iterable[str]) -> list[str]:
    """``codes`` and their ancestors that the store lacks."""
    wanted: set[str] = set()
    for code in set(codes):
        wanted.add(code)
        wanted.update(region_ancestors(code))
    existing = fetch_by_keys(tx, REGION, sorted(wanted), ["code"]) if wanted else {}
    return sorted(wanted - existing.keys())


def _link(tx: Tx, codes: Iterable[str]) -> None:
    tx.create_rels(PART_OF, REGION, REGION,
                   [{"src": c, "dst": region_parent(c)} for c in codes if region_parent(c)])


def ensure_regions(tx: Tx, codes: Iterable[str]) -> list[str]:
    """Create every region in ``codes`` and their ancestors that the store lacks, named by code
    (a region "may be created implicitly from codes used in other files"); returns those created."""
    missing = _missing(tx, codes)
    create_recorded(tx, REGION, [Region(code=c).to_row() for c in missing], stamp())
    _link(tx, missing)
    return missing


def unknown_regions(tx: Tx, codes: Iterable[str], named: Iterable[str] = ()) -> set[str]:
    """The codes of ``codes`` (12 digits) that name no known region: neither in the store nor in
    ``named`` (the region rows about to be written, e.g. 区划.csv of the same import) nor an ancestor
    of one of those, which follow from its code. A code whose township is known but which itself
    is not (a mistyped village) is unknown: that is the typo this rule is for. Every file that
    carries region codes is checked with this one rule (``UNKNOWN_REGION``)."""
    wanted = set(codes)
    if not wanted:
        return set()
    known = set(named)
    known.update(a for code in list(known) for a in region_ancestors(code))
    asked = sorted(wanted - known)
    return set(asked) - fetch_by_keys(tx, REGION, asked, ["code"]).keys() if asked else set()


def require_regions(tx: Tx, codes: Iterable[str]) -> None:
    """Refuse a write that names a region the store does not hold (``UNKNOWN_REGION``)."""
    missing = unknown_regions(tx, codes)
    if missing:
        raise UnknownRegion(min(missing))


def upsert_regions(*, store: GraphStore, regions: Sequence[Region]) -> BatchResult:
    """Create or rename regions; their missing ancestors are created too, named by code."""
    require_unique(regions, "code", "区划代码")

    def work(tx: Tx) -> BatchResult:
        named = {r.code for r in regions}
        implicit = [c for c in _missing(tx, named) if c not in named]
        create_recorded(tx, REGION, [Region(code=c).to_row() for c in implicit], stamp())
        result = upsert_nodes(tx, REGION, [r.to_row() for r in regions])
        _link(tx, [*implicit, *result.created])
        return result

    return store.write(work)


def get_region(*, store: GraphStore, code: str) -> Region | None:
    row = store.read(lambda tx: get_node(tx, REGION, normalize_region_code(code)))
    return Region.from_row(row) if row else None


_CHILDREN = ("MATCH (c:Region)-[:PART_OF]->(p:Region {code: $code}) RETURN c.code AS code, c.name AS name "
             "ORDER BY code")


def children_in(tx: Tx, code: str) -> list[Region]:
    """The regions one level down, ordered by code, inside an open transaction."""
    return [Region.from_row(r) for r in tx.run(_CHILDREN, {"code": normalize_region_code(code)})]


def child_regions(*, store: GraphStore, code: str) -> list[Region]:
    """The regions one level down, ordered by code."""
    return store.read(lambda tx: children_in(tx, code))


_ROOTS = "MATCH (r:Region) WHERE NOT (r)-[:PART_OF]->(:Region) RETURN r.code AS code ORDER BY code LIMIT 1"


def top_region(*, store: GraphStore) -> str | None:
    """The widest region the store holds (the first by code when there are several), or None."""
    rows = store.query(_ROOTS)
    return rows[0]["code"] if rows else None


def resolve_scope(tx: Tx, region: str) -> tuple[str, str]:
    """``(12-digit code, prefix)`` of a region that scopes a query (2, 4, 6, 9 or 12 digits, or
    zero-padded); InvalidValue for a malformed code, NotFound for one the store does not hold."""
    try:
        code = normalize_region_code(region)
    except IdentifierError as exc:
        raise InvalidValue("区划", region, exc.reason_zh, exc.reason_en, code=exc.code, field_en="region") from exc
    if not fetch_by_keys(tx, REGION, [code], ["code"]):
        raise NotFound("区划", "region", code)
    return code, region_prefix(code)


def scope_prefix(code: str | None) -> str:
    """The code prefix that selects everything under a region ('' for no scope)."""
    return region_prefix(normalize_region_code(code)) if code else ""


__all__ = ["child_regions", "children_in", "ensure_regions", "get_region", "region_parent", "require_regions",
           "resolve_scope", "scope_prefix", "top_region", "unknown_regions", "upsert_regions"]


def regions_in(tx: Tx, codes: Sequence[str]) -> dict[str, Region]:
    """The regions of ``codes`` (12 digits) that the store holds, in one lookup (GraphQL asks for
    many at once)."""
    return {code: Region.from_row(row) for code, row in fetch_by_keys(tx, REGION, list(codes), ["code", "name"]).items()}


def children_of(tx: Tx, codes: Sequence[str]) -> dict[str, list[Region]]:
    """The regions one level down of each of ``codes`` (12 digits), ordered by code: one query for
    many parents, where :func:`children_in` takes one."""
    out: dict[str, list[Region]] = {code: [] for code in codes}
    rows = tx.run("UNWIND $keys AS k MATCH (c:Region)-[:PART_OF]->(p:Region {code: k}) "
                  "RETURN k AS parent, c.code AS code, c.name AS name ORDER BY parent, code", {"keys": list(codes)})
    for r in rows:
        out[r["parent"]].append(Region(code=r["code"], name=r["name"]))
    return out
