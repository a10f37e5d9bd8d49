"""Department lists: batch upsert by (department, item, person, start month)."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.listing.models import Listing
from graph_schema.records import BatchResult, Progress, fetch_by_keys, upsert_nodes, write_in_batches
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, chunks, grouped, keyed
from graph_schema.store.schema import LISTED, LISTING, PERSON

_LISTINGS_OF = ("UNWIND $keys AS k MATCH (l:Listing) WHERE l.id_number = k "
                "RETURN k AS id_number, l.listing_id AS listing_id")


def upsert_listings(*, store: GraphStore, listings: Sequence[Listing], progress: Progress | None = None) -> BatchResult:
    """Create or update listings; a listed person need not be known to the registry."""
    return write_in_batches(store, listings, _upsert, progress)


def _upsert(tx: Tx, listings: Sequence[Listing], offset: int) -> BatchResult:
    rows = [item.to_row() for item in listings]
    result = upsert_nodes(tx, LISTING, rows)
    created = set(result.created)
    new = [r for r in rows if r["listing_id"] in created]
    known = fetch_by_keys(tx, PERSON, sorted({r["id_number"] for r in new}), ["id_number"])
    tx.create_rels(LISTED, PERSON, LISTING,
                   [{"src": r["id_number"], "dst": r["listing_id"]} for r in new if r["id_number"] in known])
    return result


def link_new_persons(tx: Tx, id_numbers: Sequence[str]) -> None:
    """Give persons just added to the registry the ``LISTED`` edges of lists that already name them
    (a listing's ID number never changes: it is part of its key)."""
    for part in chunks(sorted(id_numbers), 20_000):
        rows = tx.run(_LISTINGS_OF, {"keys": list(part)})
        tx.create_rels(LISTED, PERSON, LISTING, [{"src": r["id_number"], "dst": r["listing_id"]} for r in rows])


def person_listings(*, store: GraphStore, id_number: str) -> list[Listing]:
    columns = ", ".join(f"l.{c} AS {c}" for c in LISTING.columns)
    rows = store.query(f"MATCH (l:Listing) WHERE l.id_number = $id RETURN {columns} ORDER BY dept, item, valid_from",
                       {"id": id_number})
    return [Listing.from_row(r) for r in rows]


def listings_in(tx: Tx, id_numbers: Sequence[str]) -> dict[str, list[Listing]]:
    """The department-list entries that name each person, through the LISTED edges (callers scope
    the persons)."""
    columns = ", ".join(f"l.{c} AS {c}" for c in LISTING.columns)
    start, params = keyed(PERSON, "p", id_numbers)
    rows = tx.run(f"{start} {FROM_KEY} (p)-[:LISTED]->(l:Listing) RETURN {columns} ORDER BY dept, item, valid_from",
                  params)
    return grouped(id_numbers, rows, "id_number", Listing.from_row, present="listing_id")
