"""Social organisations: batch upsert (their service region created if missing), lookup."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.errors import NotFound
from graph_schema.org.models import Org
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import BatchResult, require_unique, upsert_linked
from graph_schema.region.service import ensure_regions
from graph_schema.store.base import GraphStore, Tx, keyed
from graph_schema.store.schema import ORG, REGION, SERVES


def upsert_orgs(*, store: GraphStore, orgs: Sequence[Org]) -> BatchResult:
    """Create or update organisations by 统一社会信用代码 (a few thousand: one transaction)."""
    require_unique(orgs, "uscc", "统一社会信用代码")
    return store.write(lambda tx: upsert_orgs_in(tx, orgs))


def upsert_orgs_in(tx: Tx, orgs: Sequence[Org]) -> BatchResult:
    """:func:`upsert_orgs` inside a unit of work (an approved request to join writes the
    organisation and its account together)."""
    ensure_regions(tx, {o.service_region_code for o in orgs})
    return upsert_linked(tx, ORG, [o.to_row() for o in orgs], SERVES, REGION,
                         lambda row: {"dst": row["service_region_code"]})


_COLUMNS = ", ".join(f"o.{col} AS {col}" for col in ORG.columns)


def orgs_in(tx: Tx, usccs: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, Org]:
    """The organisations of ``usccs`` that exist and lie in ``scope``."""
    start, params = keyed(ORG, "o", usccs)
    rows = tx.run(f"{start} WITH o{scope.orgs()} RETURN {_COLUMNS}", params | scope.params)
    return {r["uscc"]: Org.from_row(r) for r in rows}


def get_org(*, store: GraphStore, uscc: str, scope: Scope = EVERYTHING) -> Org:
    """One organisation; NotFound alike whether it does not exist or lies outside ``scope``."""
    found = store.read(lambda tx: orgs_in(tx, [uscc], scope))
    if uscc not in found:
        raise NotFound("社会组织", "organisation", uscc)
    return found[uscc]


def list_orgs(*, store: GraphStore, page: PageRequest = PageRequest(), scope: Scope = EVERYTHING) -> Page[Org]:
    """The organisations in ``scope``, by 统一社会信用代码."""
    return store.read(lambda tx: page_of(tx, f"MATCH (o:Org){scope.orgs()}", "o", _COLUMNS, "uscc", scope.params,
                                         page, Org.from_row))
