"""Households and their disabled members: batch upserts, lookups, listings by region."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.errors import NotFound
from graph_schema.household.models import Household, Person
from graph_schema.listing.service import link_new_persons
from graph_schema.pagination import Page, PageRequest
from graph_schema.records import (
    BatchResult,
    Progress,
    fetch_by_keys,
    get_node,
    require_unique,
    upsert_linked,
    write_in_batches,
)
from graph_schema.region.service import ensure_regions, scope_prefix
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import HOUSEHOLD, IN_REGION, MEMBER_OF, PERSON, REGION


def upsert_households(*, store: GraphStore, households: Sequence[Household],
                      progress: Progress | None = None) -> BatchResult:
    """Create or update households by 户编号; each batch of 10k is one transaction."""
    require_unique(households, "household_no", "户编号")
    return write_in_batches(store, households, _upsert_households, progress)


def _upsert_households(tx: Tx, households: Sequence[Household], offset: int) -> BatchResult:
    ensure_regions(tx, {h.region_code for h in households})
    return upsert_linked(tx, HOUSEHOLD, [h.to_row() for h in households], IN_REGION, REGION,
                         lambda row: {"dst": row["region_code"]})


def upsert_persons(*, store: GraphStore, persons: Sequence[Person],
                   progress: Progress | None = None) -> BatchResult:
    """Create or update disabled persons by 身份证号. A person whose household does not exist is
    refused (reported in ``errors``) and the others are written."""
    require_unique(persons, "id_number", "身份证号")
    return write_in_batches(store, persons, _upsert_persons, progress)


def _upsert_persons(tx: Tx, persons: Sequence[Person], offset: int) -> BatchResult:
    known = fetch_by_keys(tx, HOUSEHOLD, sorted({p.household_no for p in persons}), ["household_no"])
    errors = [(offset + i, NotFound("家庭", "household", p.household_no))
              for i, p in enumerate(persons) if p.household_no not in known]
    accepted = [p for p in persons if p.household_no in known]
    result = upsert_linked(tx, PERSON, [p.to_row() for p in accepted], MEMBER_OF, HOUSEHOLD,
                           lambda row: {"dst": row["household_no"], "relation": row["relation"]})
    link_new_persons(tx, result.created)
    result.errors = errors
    return result


def get_household(*, store: GraphStore, household_no: str) -> Household:
    row = store.read(lambda tx: get_node(tx, HOUSEHOLD, household_no))
    if row is None:
        raise NotFound("家庭", "household", household_no)
    return Household.from_row(row)


def household_members(*, store: GraphStore, household_no: str) -> list[Person]:
    columns = ", ".join(f"p.{c} AS {c}" for c in PERSON.columns)
    rows = store.query(
        f"MATCH (p:Person)-[:MEMBER_OF]->(h:Household {{household_no: $no}}) RETURN {columns} ORDER BY id_number",
        {"no": household_no},
    )
    return [Person.from_row(r) for r in rows]


def get_person(*, store: GraphStore, id_number: str) -> Person:
    row = store.read(lambda tx: get_node(tx, PERSON, id_number))
    if row is None:
        raise NotFound("残疾人", "person", id_number)
    return Person.from_row(row)


def list_households(*, store: GraphStore, region: str | None = None,
                    page: PageRequest = PageRequest()) -> Page[Household]:
    """Households under a region (any level), ordered by 户编号."""
    params = {"prefix": scope_prefix(region), "skip": page.skip, "limit": page.page_size}
    columns = ", ".join(f"h.{c} AS {c}" for c in HOUSEHOLD.columns if c != "version")

    def work(tx: Tx) -> Page[Household]:
        total = tx.run("MATCH (h:Household) WHERE h.region_code STARTS WITH $prefix RETURN count(h) AS n",
                       {"prefix": params["prefix"]})[0]["n"]
        rows = tx.run(
            f"MATCH (h:Household) WHERE h.region_code STARTS WITH $prefix RETURN {columns} "
            "ORDER BY household_no SKIP $skip LIMIT $limit", params)
        return Page([Household.from_row(r) for r in rows], total, page.page, page.page_size)

    return store.read(work)
