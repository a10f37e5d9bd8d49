"""Service-rate tallies: each county's rates for a calendar year, kept by day, so that a city's or
a province's ``service-rates`` reads a few thousand kept rows rather than every person's needs
and deliveries (a province: 853k persons, 592k assessments, 1.3M deliveries).

For the period a report takes by default, 1 January to ``as_of``, each of the seven figures of a
county and category (``monitoring.service_rates``) only grows with ``as_of`` through the year,
except the children's (a child turns seven). What a person adds to them is known from their
facts of the year alone:

- *in need* from the first day ``d`` on which one of their episodes of the category, folded from
  the assessments dated up to that day, is open on a day of the period: 1 January or the date of
  an assessment (nothing else changes the episodes);
- *served* from the later of ``d`` and their first counting delivery of the category in the year;
  each such delivery adds one to *deliveries* from the later of ``d`` and its date;
- the same for *severe* (一级/二级: the grade is today's, as the report reads it);
- *children* from the later of that day and the birth date, until the seventh birthday.

So a county's tally for a year is, per category, the days on which a figure changes and by how
much (``RateTally`` rows), and a report for ``as_of`` sums each county's changes up to that day.
The changes are worked out here with the same functions the report uses (``facts.episodes``,
``Episode.open_during``, ``ServiceFacts.served``, ``PersonFacts.age_on``); the tests hold the sums
to the report's own count for every day of a year.

A tally is kept with the version of its county and of the catalogue it was made from
(``fact_versions``); a write that changes the county's facts raises the version, and the next
report that needs the county makes its tally again (a county: about half a second), so a tally is
never read stale. Only the state of today is tallied: a report for a past day whose state has
changed since takes the report's full path, as does a period that does not start on 1 January.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable

from graph_schema.service import fact_versions
from graph_schema.service.facts import ServiceFacts, episodes, load_facts
from graph_schema.store.base import GraphStore, Tx, chunks
from graph_schema.store.schema import RATE_TALLY, TALLY_MARK

log = logging.getLogger(__name__)

FIGURES = ("persons_in_need", "persons_served", "deliveries", "severe_in_need", "severe_served", "children_in_need",
           "children_served")
Changes = dict[tuple[str, dt.date], dict[str, int]]  # (category, day) → figure → change

_COUNTIES = "MATCH (v:Region) WHERE v.code STARTS WITH $prefix RETURN DISTINCT left(v.code, 6) AS county"
_MARKS = ("UNWIND $keys AS k MATCH (m:TallyMark {mark_id: k}) "
          "RETURN m.county AS county, m.build AS build, m.version AS version, m.catalogue_version AS catalogue_version")
_SUMS = ("MATCH (t:RateTally) WHERE t.build IN $builds AND t.day <= $as_of RETURN t.build AS build, "
         "t.category AS category, " + ", ".join(f"sum(t.{f}) AS {f}" for f in FIGURES))
_KEEP_MARK = ("MATCH (m:TallyMark {mark_id: $mark_id}) SET m.build = $build, m.version = $version, "
              "m.catalogue_version = $catalogue_version")
_DROP_ROWS = "MATCH (t:RateTally) WHERE t.build IN $builds DELETE t"
#: the county's mark, taken first (on Neo4j its write lock is held from here to the commit, so two
#: reports making the same tally at once each see the other's build and drop its rows)
_TAKE_MARK = "MERGE (m:TallyMark {mark_id: $mark_id}) SET m.county = $county, m.year = $year"
_BUILD_OF = "MATCH (m:TallyMark {mark_id: $mark_id}) RETURN m.build AS build"


def _mark_id(county: str, year: int) -> str:
    return f"{county}|{year}"


def _seventh_birthday(born: dt.date) -> dt.date:
    """The first day ``PersonFacts.age_on`` gives 7 (1 March for a child born on 29 February)."""
    try:
        return born.replace(year=born.year + 7)
    except ValueError:
        return dt.date(born.year + 7, 3, 1)


def _born(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def person_changes(facts: ServiceFacts, id_number: str, year: int) -> list[tuple[str, dt.date, str, int]]:
    """``(category, day, figure, change)`` of one person for ``year`` (module docstring); ``facts``
    hold the person's assessments and deliveries dated up to the year's end."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    person = facts.persons[id_number]
    assessed = sorted(facts.assessments.get(id_number, []), key=lambda a: (a.assessed_on, a.need_id))
    days = [first] + sorted({a.assessed_on for a in assessed if first < a.assessed_on <= last})
    entered: dict[str, dt.date] = {}  # category → the first day it is in need
    for day in days:
        seen = [a for a in assessed if a.assessed_on <= day]
        for e in episodes(id_number, person.needs, seen):
            if e.category not in entered and e.open_during(first, day):
                entered[e.category] = day
    born = _born(id_number)
    out: list[tuple[str, dt.date, str, int]] = []

    def span(figure: str, category: str, start: dt.date) -> None:
        """The figure counts the person from ``start`` (for a child, until the seventh birthday)."""
        if figure.startswith("children"):
            if born is None or born > last:
                return
            start, until = max(start, born), _seventh_birthday(born)
            if start >= until or start > last:
                return
            if until <= last:
                out.append((category, until, figure, -1))
        if start <= last:
            out.append((category, start, figure, 1))

    for category, day in entered.items():
        given = sorted(d.delivered_on for d in facts.served(id_number, category, first, last))
        served = max(day, given[0]) if given else None
        span("persons_in_need", category, day)
        span("children_in_need", category, day)
        if person.severe:
            span("severe_in_need", category, day)
        if served is not None:
            span("persons_served", category, served)
            span("children_served", category, served)
            if person.severe:
                span("severe_served", category, served)
        for delivered in given:
            out.append((category, max(day, delivered), "deliveries", 1))
    return out


def county_changes(tx: Tx, county: str, year: int) -> Changes:
    """The changes of every person of the county for the year, summed per category and day."""
    facts = load_facts(tx, county, dt.date(year, 12, 31))
    changes: Changes = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for number in facts.persons:
        for category, day, figure, change in person_changes(facts, number, year):
            changes[category, day][figure] += change
    return changes


def figures_on(changes: Changes, as_of: dt.date) -> dict[str, dict[str, int]]:
    """category → the figures on ``as_of``: the changes up to that day summed."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for (category, day), figures in changes.items():
        if day <= as_of:
            for figure, change in figures.items():
                out[category][figure] += change
    return out


def counties_in(tx: Tx, prefix: str) -> list[str]:
    return sorted(r["county"] for r in tx.run(_COUNTIES, {"prefix": prefix}))


def _stale(tx: Tx, counties: list[str], year: int) -> tuple[dict[str, str], list[str]]:
    """The builds of the counties whose tally is current, and the counties whose is not."""
    current = fact_versions.versions(tx, [*counties, fact_versions.CATALOGUE])
    marks = {r["county"]: r for r in tx.run(_MARKS, {"keys": [_mark_id(c, year) for c in counties]})}
    fresh = {c: marks[c]["build"] for c in counties if c in marks
             and marks[c]["version"] == current[c]
             and marks[c]["catalogue_version"] == current[fact_versions.CATALOGUE]}
    return fresh, [c for c in counties if c not in fresh]


def make_tally(store: GraphStore, county: str, year: int) -> str:
    """Make and keep the county's tally for the year; returns its build."""

    def read(tx: Tx) -> tuple[dict[str, int], Changes]:
        versions = fact_versions.versions(tx, [county, fact_versions.CATALOGUE])  # before the facts
        return versions, county_changes(tx, county, year)

    versions, changes = store.read(read)
    build = uuid.uuid4().hex
    rows = [{"tally_id": f"{build}|{category}|{day.isoformat()}", "build": build, "category": category, "day": day,
             **figures} for (category, day), figures in sorted(changes.items())]

    def keep(tx: Tx) -> None:
        mark_id = _mark_id(county, year)
        tx.run(_TAKE_MARK, {"mark_id": mark_id, "county": county, "year": year})
        old = [r["build"] for r in tx.run(_BUILD_OF, {"mark_id": mark_id}) if r["build"]]
        for part in chunks(rows, 10_000):
            tx.create_nodes(RATE_TALLY, list(part))
        tx.run(_KEEP_MARK, {"mark_id": mark_id, "build": build, "version": versions[county],
                            "catalogue_version": versions[fact_versions.CATALOGUE]})
        if old:
            tx.run(_DROP_ROWS, {"builds": old})

    store.write(keep)
    return build


def county_figures(store: GraphStore, prefix: str, as_of: dt.date) -> dict[tuple[str, str], dict[str, int]]:
    """``(county, category)`` → the figures of the period 1 January … ``as_of`` of the scope's
    counties, from their tallies, first made again for the counties whose tally is stale."""
    year = as_of.year
    counties = store.read(lambda tx: counties_in(tx, prefix))
    fresh, stale = store.read(lambda tx: _stale(tx, counties, year))
    if stale:
        log.info("服务率汇总：重算 %d 个县 / service-rate tallies: making %d counties again", len(stale), len(stale))
    for county in stale:
        fresh[county] = make_tally(store, county, year)
    county_of_build = {b: c for c, b in fresh.items()}
    rows = store.read(lambda tx: tx.run(_SUMS, {"builds": sorted(county_of_build), "as_of": as_of}))
    return {(county_of_build[r["build"]], r["category"]): {f: int(r[f] or 0) for f in FIGURES} for r in rows}


def keep_current(store: GraphStore, year: int, progress: Callable[[int, int], None] | None = None) -> int:
    """Make every county's tally for the year that is stale or missing (after an import, so that
    the first report does not wait for them); how many were made. ``progress(done, total)``."""
    counties = store.read(lambda tx: counties_in(tx, ""))
    _, stale = store.read(lambda tx: _stale(tx, counties, year))
    for done, county in enumerate(stale, 1):
        make_tally(store, county, year)
        if progress:
            progress(done, len(stale))
    return len(stale)


__all__ = ["FIGURES", "county_changes", "county_figures", "counties_in", "figures_on", "keep_current",
           "make_tally", "person_changes"]
