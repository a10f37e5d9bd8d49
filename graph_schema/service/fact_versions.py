"""Each county's service-facts version: raised by every write that changes what the county's
service tallies are counted from, so that a tally made from an older version is known to be stale
(graph_schema/service/tally.py).

A county's rates and open needs are counted from its persons (their registry 需求, grade, ID number and
household, and the household's village), their assessments (``Need``) and their deliveries, and
from the catalogue (which services count toward the rate, and their categories). So the person
and household upserts raise the counties of the households they touch (those a person leaves
too, and both villages of a household that moves), the need and delivery writes those of their
persons, and a catalogue change the version ``catalogue``, which every tally carries beside its
county's.

The raise happens in the writing transaction, after its other locks, in code order: a tally is
made from the version read *before* its facts, so a write that commits while a tally is being
made leaves it one version behind, and the next report makes it again. Neo4j serialises the
raises of one county on its node; the embedded engine has a single writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from graph_schema.store.base import Tx, chunks

CATALOGUE = "catalogue"

_RAISE = ("UNWIND $keys AS k MERGE (v:FactsVersion {county: k}) "
          "SET v.version = coalesce(v.version, 0) + 1")
_READ = "UNWIND $keys AS k MATCH (v:FactsVersion {county: k}) RETURN v.county AS county, v.version AS version"
_OF_HOUSEHOLDS = "UNWIND $keys AS k MATCH (h:Household {household_no: k}) RETURN DISTINCT h.region_code AS village"
_OF_PERSONS = ("UNWIND $keys AS k MATCH (p:Person {id_number: k}) MATCH (h:Household {household_no: p.household_no}) "
               "RETURN DISTINCT h.region_code AS village")


def county_of(village: str) -> str:
    """The county a village (a 12-digit region code) lies in: its first six digits."""
    return village[:6]


def raise_versions(tx: Tx, counties: Iterable[str]) -> None:
    """Raise the versions of ``counties`` (county codes, or :data:`CATALOGUE`)."""
    keys = sorted({c for c in counties if c})
    if keys:
        tx.run(_RAISE, {"keys": keys})


def raise_for_villages(tx: Tx, villages: Iterable[str | None]) -> None:
    raise_versions(tx, {county_of(v) for v in villages if v})


def raise_for_households(tx: Tx, household_nos: Sequence[str]) -> None:
    """Raise the counties of the households' villages (as stored in this transaction)."""
    raise_for_villages(tx, _villages(tx, _OF_HOUSEHOLDS, household_nos))


def raise_for_persons(tx: Tx, id_numbers: Sequence[str]) -> None:
    """Raise the counties of the persons' households' villages."""
    raise_for_villages(tx, _villages(tx, _OF_PERSONS, id_numbers))


def _villages(tx: Tx, query: str, keys: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for part in chunks(sorted(set(keys)), 20_000):
        out |= {r["village"] for r in tx.run(query, {"keys": list(part)}) if r["village"]}
    return out


def versions(tx: Tx, counties: Iterable[str]) -> dict[str, int]:
    """The versions of ``counties`` (0 for a county never written since versions were kept)."""
    keys = sorted(set(counties))
    found = {r["county"]: int(r["version"] or 0) for r in tx.run(_READ, {"keys": keys})} if keys else {}
    return {k: found.get(k, 0) for k in keys}


__all__ = ["CATALOGUE", "county_of", "raise_for_households", "raise_for_persons", "raise_for_villages",
           "raise_versions", "versions"]
