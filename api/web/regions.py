"""Region codes as the console writes them: always the 12-digit code, with the region's name
beside it where the store knows it (names repeat across counties, codes do not). The reports
and the URLs take any level's prefix; the console shows and sends the full code only."""

from __future__ import annotations

from collections.abc import Iterable

from graph_schema.identifiers import IdentifierError, normalize_region_code
from graph_schema.region.service import regions_in
from graph_schema.store import GraphStore


def code12(code: str | None) -> str:
    """A region code (2, 4, 6, 9 or 12 digits) as its 12 digits; anything else as it is."""
    if not code:
        return ""
    try:
        return normalize_region_code(code)
    except IdentifierError:
        return str(code)


def region_names(store: GraphStore, codes: Iterable[str | None]) -> dict[str, str]:
    """The names of the regions ``codes`` name (any level), by their 12-digit code, in one read."""
    wanted = sorted({code12(c) for c in codes if c})
    if not wanted:
        return {}
    found = store.read(lambda tx: regions_in(tx, wanted))
    return {code: r.name for code, r in found.items() if r.name and r.name != code}


def label(code: str | None, names: dict[str, str] | None = None) -> str:
    """``名称（620822101201）``, or the 12-digit code alone when its name is not known."""
    full = code12(code)
    name = (names or {}).get(full)
    return f"{name}（{full}）" if name else full or "—"
