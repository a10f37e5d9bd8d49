"""Households and their disabled members: batch upserts, lookups, listings by region."""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.errors import NotFound
from graph_schema.household.models import Household, Person
from graph_schema.listing.service import link_new_persons
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import (
    BatchResult,
    Progress,
    require_unique,
    upsert_linked,
    write_in_batches,
)
from graph_schema.region.service import ensure_regions
from graph_schema.service import fact_versions
from graph_schema.store import counts, ledger_sums, paired
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, grouped, keyed
from graph_schema.store.schema import HOUSEHOLD, IN_REGION, MEMBER_OF, PERSON, REGION


def upsert_households(*, store: GraphStore, households: Sequence[Household],
                      progress: Progress | None = None) -> BatchResult:
    """Create or update households by 户编号; each batch of 10k is one transaction."""
    require_unique(households, "household_no", "户编号")
    return write_in_batches(store, households, _upsert_households, progress)


def _upsert_households(tx: Tx, households: Sequence[Household], offset: int) -> BatchResult:
    ensure_regions(tx, {h.region_code for h in households})
    result = upsert_linked(tx, HOUSEHOLD, [h.to_row() for h in households], IN_REGION, REGION,
                           lambda row: {"dst": row["region_code"]})
    counts.start_at_zero(tx, result.created)
    counts.reprioritise(tx, result.updated)  # its 监测类别, 特困 or 以老养残 may have changed
    paired.start_at_zero(tx, result.created)
    moved = {h.household_no: (result.previous[h.household_no]["region_code"], h.region_code) for h in households
             if "region_code" in result.previous.get(h.household_no, {})}
    # its members move with it, and its ledger
    fact_versions.raise_for_villages(tx, [village for pair in moved.values() for village in pair])
    ledger_sums.move(tx, moved)
    return result


def upsert_persons(*, store: GraphStore, persons: Sequence[Person],
                   progress: Progress | None = None) -> BatchResult:
    """Create or update disabled persons by 身份证号. A person whose household does not exist is
    refused (reported in ``errors``) and the others are written."""
    require_unique(persons, "id_number", "身份证号")
    return write_in_batches(store, persons, _upsert_persons, progress)


def _upsert_persons(tx: Tx, persons: Sequence[Person], offset: int) -> BatchResult:
    # the households the persons go to and those they leave are locked first and recounted last,
    # so their member counts change in this transaction (graph_schema/store/counts.py)
    known = counts.lock_households_of(tx, [p.id_number for p in persons], sorted({p.household_no for p in persons}))
    errors = [(offset + i, NotFound("家庭", "household", p.household_no))
              for i, p in enumerate(persons) if p.household_no not in known]
    accepted = [p for p in persons if p.household_no in known]
    result = upsert_linked(tx, PERSON, [p.to_row() for p in accepted], MEMBER_OF, HOUSEHOLD,
                           lambda row: {"dst": row["household_no"], "relation": row["relation"]})
    link_new_persons(tx, result.created)
    if result.created or result.updated:
        counts.recount(tx, known)
        fact_versions.raise_for_households(tx, sorted(known))
    result.errors = errors
    return result


_HOUSEHOLD_COLUMNS = ", ".join(f"h.{c} AS {c}" for c in HOUSEHOLD.columns)
_PERSON_COLUMNS = ", ".join(f"p.{c} AS {c}" for c in PERSON.columns)


def households_in(tx: Tx, household_nos: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, Household]:
    """The households of ``household_nos`` that exist and lie in ``scope``."""
    start, params = keyed(HOUSEHOLD, "h", household_nos)
    rows = tx.run(f"{start}{scope.households()} RETURN {_HOUSEHOLD_COLUMNS}", params | scope.params)
    return {r["household_no"]: Household.from_row(r) for r in rows}


def get_household(*, store: GraphStore, household_no: str, scope: Scope = EVERYTHING) -> Household:
    """One household; NotFound alike whether it does not exist or lies outside ``scope``."""
    found = store.read(lambda tx: households_in(tx, [household_no], scope))
    if household_no not in found:
        raise NotFound("家庭", "household", household_no)
    return found[household_no]


def members_in(tx: Tx, household_nos: Sequence[str]) -> dict[str, list[Person]]:
    """The disabled members of each household, by ID number (callers scope the households)."""
    start, params = keyed(HOUSEHOLD, "h", household_nos)
    rows = tx.run(f"{start} {FROM_KEY} (p:Person)-[:MEMBER_OF]->(h) RETURN {_PERSON_COLUMNS} ORDER BY id_number",
                  params)
    return grouped(household_nos, rows, "household_no", Person.from_row, present="id_number")


def household_members(*, store: GraphStore, household_no: str) -> list[Person]:
    return store.read(lambda tx: members_in(tx, [household_no]))[household_no]


def persons_in(tx: Tx, id_numbers: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, Person]:
    """The persons of ``id_numbers`` whose household lies in ``scope`` (two index lookups: a
    path from the person would be planned as a scan on the embedded engine)."""
    start, params = keyed(PERSON, "p", id_numbers)
    rows = tx.run(f"{start} RETURN {_PERSON_COLUMNS}", params)
    in_scope = households_in(tx, sorted({r["household_no"] for r in rows}), scope)
    return {r["id_number"]: Person.from_row(r) for r in rows if r["household_no"] in in_scope}


def get_person(*, store: GraphStore, id_number: str, scope: Scope = EVERYTHING) -> Person:
    found = store.read(lambda tx: persons_in(tx, [id_number], scope))
    if id_number not in found:
        raise NotFound("残疾人", "person", id_number)
    return found[id_number]


def list_households(*, store: GraphStore, region: str | None = None, page: PageRequest = PageRequest(),
                    scope: Scope = EVERYTHING) -> Page[Household]:
    """Households under a region (any level; default the whole scope), ordered by 户编号.
    A region outside a region scope is NotFound, as if it did not exist."""
    match, params = scope.region_households(region)
    return store.read(lambda tx: page_of(tx, match, "h", _HOUSEHOLD_COLUMNS, "household_no", params, page,
                                         Household.from_row))


def has_households(*, store: GraphStore) -> bool:
    """Whether the store holds any household (an empty store gets the demo data)."""
    return bool(store.query("MATCH (h:Household) RETURN h.household_no AS h LIMIT 1"))
