"""Department lists: batch upsert by (department, item, person, start month)."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.listing.models import Listing
from graph_schema.records import BatchResult, Progress, upsert_nodes, write_in_batches
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import LISTING


def upsert_listings(*, store: GraphStore, listings: Sequence[Listing], progress: Progress | None = None) -> BatchResult:
    """Create or update listings; a listed person need not be known to the registry."""
    return write_in_batches(store, listings, _upsert, progress)


def _upsert(tx: Tx, listings: Sequence[Listing], offset: int) -> BatchResult:
    return upsert_nodes(tx, LISTING, [item.to_row() for item in listings])


def person_listings(*, store: GraphStore, id_number: str) -> list[Listing]:
    columns = ", ".join(f"l.{c} AS {c}" for c in LISTING.columns)
    rows = store.query(f"MATCH (l:Listing) WHERE l.id_number = $id RETURN {columns} ORDER BY dept, item, valid_from",
                       {"id": id_number})
    return [Listing.from_row(r) for r in rows]
