"""What the reports share to answer for a past day: which households, persons and cadres changed
since, and how they were on the day.

A report for a past day is its current answer corrected for what changed since
(:mod:`graph_schema.history`): the rows of the records changed or created since the day are
dropped from the current answer and made again from those records' state of the day, by the
same rules in Python. A past report therefore costs the current one plus the changed records,
and a report for today never comes here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from graph_schema.history import Past, then
from graph_schema.records import fetch_by_keys
from graph_schema.store.base import FROM_KEY, Tx, chunks
from graph_schema.store.schema import CADRE, HOUSEHOLD, PERSON, REGION

#: The pairings active on ``$as_of`` (started on or before it, not ended on or before it).
ACTIVE_ON = "r.started_on <= $as_of AND (r.ended_on IS NULL OR r.ended_on > $as_of)"
#: The start of a read of the households ``$keys`` (an index lookup each); leaves ``h``.
KEYED_HOUSEHOLDS = "UNWIND $keys AS k MATCH (h:Household {household_no: k}) "

_PERSON_COLUMNS = ", ".join(f"p.{c} AS {c}" for c in PERSON.columns)
_MEMBERS = f"{KEYED_HOUSEHOLDS}{FROM_KEY} (p:Person)-[:MEMBER_OF]->(h) RETURN {_PERSON_COLUMNS}"
_PAIRED_ON = (f"{KEYED_HOUSEHOLDS}{FROM_KEY} (c:Cadre)-[r:PAIRED_WITH]->(h) WHERE {ACTIVE_ON} "
              "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no")
_HOUSEHOLDS_OF_CADRES = (
    f"UNWIND $keys AS k MATCH (c:Cadre {{cadre_no: k}}) {FROM_KEY} (c)-[r:PAIRED_WITH]->(h:Household) "
    f"WHERE {ACTIVE_ON} RETURN h.household_no AS household_no"
)


def keyed_rows(tx: Tx, query: str, keys: Collection[str], params: dict | None = None) -> list[dict]:
    """``query`` (which reads ``$keys``) over ``keys`` in chunks."""
    return [row for part in chunks(sorted(keys), 20_000)
            for row in tx.run(query, {**(params or {}), "keys": list(part)})]


def affected_households(tx: Tx, past: Past, *, members: bool = True, cadres_on: dt.date | None = None) -> set[str]:
    """The households whose rows a report may have to make again: those changed or created since
    the day; with ``members``, those that gained, lost or changed a disabled member since; with
    ``cadres_on``, those paired on that date with a cadre whose state changed since."""
    keys = past.touched(HOUSEHOLD)
    if members:
        persons = past.touched(PERSON)
        keys |= set(past.earlier(PERSON, "household_no").values())
        now = fetch_by_keys(tx, PERSON, sorted(persons), ["id_number", "household_no"])
        keys |= {r["household_no"] for r in now.values()}
    if cadres_on is not None:
        cadres = past.touched(CADRE)
        keys |= {r["household_no"] for r in keyed_rows(tx, _HOUSEHOLDS_OF_CADRES, cadres, {"as_of": cadres_on})
                 if r["household_no"]}
    return keys


def households_then(tx: Tx, past: Past, keys: Collection[str], prefix: str) -> dict[str, dict]:
    """The households of ``keys`` that existed on the day and lay under ``prefix`` then, as rows of
    every household column with the values of the day."""
    rows = fetch_by_keys(tx, HOUSEHOLD, sorted(keys), HOUSEHOLD.columns).values()
    return {r["household_no"]: r for r in then(past, HOUSEHOLD, rows) if r["region_code"].startswith(prefix)}


def members_then(tx: Tx, past: Past | None, household_nos: Collection[str]) -> dict[str, list[dict]]:
    """The disabled members of each household on the day (every person column, values of the
    day), by ID number: today's members and those who belonged to it then, less those since
    registered or moved away (today's members when ``past`` is None)."""
    rows = {r["id_number"]: r for r in keyed_rows(tx, _MEMBERS, household_nos) if r["id_number"]}
    wanted = set(household_nos)
    if past is not None:
        moved = [k for k, h in past.earlier(PERSON, "household_no").items() if h in wanted and k not in rows]
        rows |= fetch_by_keys(tx, PERSON, sorted(moved), PERSON.columns)
    out: dict[str, list[dict]] = {h: [] for h in household_nos}
    for r in sorted(then(past, PERSON, rows.values()), key=lambda r: r["id_number"]):
        if r["household_no"] in out:
            out[r["household_no"]].append(r)
    return out


def paired_on(tx: Tx, household_nos: Collection[str], as_of: dt.date) -> dict[str, list[str]]:
    """The cadres of the one-to-one pairings of each household active on ``as_of``."""
    out: dict[str, list[str]] = {h: [] for h in household_nos}
    for r in keyed_rows(tx, _PAIRED_ON, household_nos, {"as_of": as_of}):
        if r["cadre_no"] is not None:
            out[r["household_no"]].append(r["cadre_no"])
    return out


def cadres_then(tx: Tx, past: Past, cadre_nos: Collection[str]) -> dict[str, dict]:
    """Cadres a dated fact names (a pairing), with their values of the day; one created since has
    no state of that day, so its first recorded values stand."""
    rows = fetch_by_keys(tx, CADRE, sorted(cadre_nos), CADRE.columns)
    return {k: past.row(CADRE, r) for k, r in rows.items()}


def severity(members: list[dict]) -> tuple[int, int]:
    """(disabled members, those graded 一级 or 二级): the member counts the priority rule reads."""
    return len(members), sum(1 for p in members if p["grade"] is not None and p["grade"] <= 2)


def regions_then(past: Past, regions: list[tuple[str, str | None, str]]) -> list[tuple[str, str | None, str]]:
    """The rows of a statistics table (the region, then its children: ``(code, name, prefix)``) as
    they were on the day: children created since left out, every name as it was."""
    names = past.earlier(REGION, "name")
    return [(code, names.get(code, name), prefix) for i, (code, name, prefix) in enumerate(regions)
            if i == 0 or past.existed(REGION, code)]
