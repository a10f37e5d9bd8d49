"""Social organisations: batch upsert (their service region created if missing), lookup."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.errors import NotFound
from graph_schema.org.models import Org
from graph_schema.records import BatchResult, get_node, require_unique, upsert_linked
from graph_schema.region.service import ensure_regions
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import ORG, REGION, SERVES


def upsert_orgs(*, store: GraphStore, orgs: Sequence[Org]) -> BatchResult:
    """Create or update organisations by 统一社会信用代码 (a few thousand: one transaction)."""
    require_unique(orgs, "uscc", "统一社会信用代码")

    def work(tx: Tx) -> BatchResult:
        ensure_regions(tx, {o.service_region_code for o in orgs})
        return upsert_linked(tx, ORG, [o.to_row() for o in orgs], SERVES, REGION,
                             lambda row: {"dst": row["service_region_code"]})

    return store.write(work)


def get_org(*, store: GraphStore, uscc: str) -> Org:
    row = store.read(lambda tx: get_node(tx, ORG, uscc))
    if row is None:
        raise NotFound("社会组织", "organisation", uscc)
    return Org.from_row(row)
