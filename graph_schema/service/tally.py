"""The counties' kept tallies: of the service rates and of the open needs by day, of the needs
overdue in the year, and of the disabled persons, so that ``service-rates``, ``service-deserts``,
``unmet-needs`` and ``disability-counts`` read kept rows rather than every person's needs and
deliveries (a province: 853k persons, 592k assessments, 1.3M deliveries).

**Rates.** For the period a report takes by default, 1 January to ``as_of``, each of the seven
figures of a county and category (``monitoring.service_rates``) only grows with ``as_of`` through
the year, except the children's (a child turns seven). What a person adds to them is known from
their facts of the year alone:

- *in need* from the first day ``d`` on which one of their episodes of the category, folded from
  the assessments dated up to that day, is open on a day of the period: 1 January or the date of
  an assessment (nothing else changes the episodes);
- *served* from the later of ``d`` and their first counting delivery of the category in the year;
  each such delivery adds one to *deliveries* from the later of ``d`` and its date;
- the same for *severe* (一级/二级: the grade is today's, as the report reads it);
- *children* from the later of that day and the birth date, until the seventh birthday.

So a county's rate tally for a year is, per category, the days on which a figure changes and by
how much (``RateTally`` rows), and the same for each of its townships (``TownshipRateTally``: a
county's page shows its townships' rows, a city's or a province's the counties'); a report for
``as_of`` sums the changes up to that day.

**Open needs.** Whether a person has a need of a category open on a day
(``monitoring.service_deserts``) changes only on the dates of their assessments (the episodes'
confirmations and closings are those dates): so per village and category, the number of persons
with an open need on 1 January and its changes on later days of the year (``NeedTally`` rows).

**Overdue needs.** A need is overdue on a day after its due day (its confirmation plus its
service's 办理时限) and before the first of the day an assessment closes it and its first counting
delivery since its confirmation (``ServiceFacts.overdue``). So each need overdue on some day of the
year is kept with that span (``OverdueTally`` rows), and ``monitoring.unmet_needs`` reads those of
its day; whether a referral is open for it is read as it stands, as referrals are not tallied.

**Served.** An offer's room (``offers.offer_room``) is its capacity less the persons of the
region it covers whom its organisation served with its service from 1 January (a counting
delivery); a person counts from the day of their first such delivery in the year. So per
organisation, service and region (each village, township and the county itself), the sorted days
of the year of those first deliveries are kept (``ServedTally`` rows), and ``unmet-needs`` reads
an offer's served as one row per county it covers.

**Persons.** Today's disabled persons per village, 残疾类别 and 等级 (``PersonTally`` rows), which
``monitoring.disability`` sums by region (and corrects for a past day as it did the persons it
counted itself). They are today's whatever the year, so that report reads this year's tallies.

The changes are worked out here with the functions the reports use (``facts.episodes``,
``Episode.open_during`` and ``open_on``, ``ServiceFacts.served``, ``PersonFacts.age_on``); the
tests hold the sums to the reports' own counts on every kind of day.

A county's tallies are kept with the version of the county and of the catalogue they were made
from (``fact_versions``); a write that changes the county's facts raises the version, and the next
report that needs the county makes them again (a county: about half a second), so a tally is
never read stale. Only the state of today is tallied: a report for a past day whose state has
changed since takes its full path.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable

from graph_schema.enums import DeliveryOutcome
from graph_schema.identifiers import region_prefix
from graph_schema.models import today
from graph_schema.monitoring.common import SCOPED_HOUSEHOLDS
from graph_schema.service import fact_versions
from graph_schema.service.catalogue import catalogue_in
from graph_schema.service.facts import Episode, ServiceFacts, due_on, episodes, load_facts
from graph_schema.service.models import Offer
from graph_schema.store.base import GraphStore, Tx, aliased, chunks
from graph_schema.store.schema import (NEED_TALLY, OVERDUE_TALLY, PERSON_TALLY, RATE_TALLY, SERVED_TALLY, TALLY_MARK,
                                       TOWNSHIP_RATE_TALLY)

log = logging.getLogger(__name__)

FIGURES = ("persons_in_need", "persons_served", "deliveries", "severe_in_need", "severe_served", "children_in_need",
           "children_served")
Changes = dict[tuple[str, str, dt.date], dict[str, int]]  # (area, category, day) → figure → change
Opened = dict[tuple[str, str, dt.date], int]  # (village, category, day) → change of persons with an open need

_COUNTIES = "MATCH (v:Region) WHERE v.code STARTS WITH $prefix RETURN DISTINCT left(v.code, 6) AS county"
_MARKS = ("UNWIND $keys AS k MATCH (m:TallyMark {mark_id: k}) "
          "RETURN m.county AS county, m.build AS build, m.version AS version, m.catalogue_version AS catalogue_version")
#: per table (the counties' rows, the townships'): the figures of each area and category up to ``$as_of``
_SUMS = {t.label: f"MATCH (t:{t.label}) WHERE t.build IN $builds AND t.day <= $as_of "
                  "RETURN t.area AS area, t.category AS category, sum(t.persons_in_need) AS persons_in_need, "
                  "sum(t.persons_served) AS persons_served, sum(t.deliveries) AS deliveries, "
                  "sum(t.severe_in_need) AS severe_in_need, sum(t.severe_served) AS severe_served, "
                  "sum(t.children_in_need) AS children_in_need, sum(t.children_served) AS children_served"
         for t in (RATE_TALLY, TOWNSHIP_RATE_TALLY)}
_KEEP_MARK = ("MATCH (m:TallyMark {mark_id: $mark_id}) SET m.previous = m.build, m.build = $build, "
              "m.version = $version, m.catalogue_version = $catalogue_version")
#: the scope's villages and categories with a need open on the day, and its persons, as ``village``,
#: ``category`` and ``persons``
OPEN_ON_DAY = ("MATCH (t:NeedTally) WHERE t.build IN $builds AND t.village STARTS WITH $prefix AND t.day <= $as_of "
               "WITH t.village AS village, t.category AS category, sum(t.open) AS persons WHERE persons > 0 ")
#: per village, its categories and persons (a province's 107k pairs as 15k rows: on Neo4j,
#: carrying each pair as a row of its own took three times the aggregation's time)
_OPEN = OPEN_ON_DAY + "RETURN village, collect(category) AS categories, collect(persons) AS persons"
#: the areas (villages' codes cut to ``$width``) of the scope, their persons by category and grade
_PERSONS = ("MATCH (t:PersonTally) WHERE t.build IN $builds AND t.village STARTS WITH $prefix "
            "RETURN left(t.village, $width) AS area, t.category AS category, t.grade AS grade, sum(t.persons) AS n")
#: the county's persons by village, category and grade, as the tally keeps them
_PERSONS_OF = (SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) "
               "RETURN h.region_code AS village, p.category AS category, p.grade AS grade, count(p) AS persons")
#: the county's persons served in the year by an organisation with a counting service (not 未完成),
#: each with the day of their first such delivery: what ``offers.offer_room`` counts in the store
_FIRST_SERVED = (SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) MATCH (p)-[:RECEIVED]->(d:Delivery) "
                 "WITH h, p, d WHERE d.uscc IS NOT NULL AND d.service_code IN $counted AND d.delivered_on >= $first "
                 "AND d.delivered_on <= $last AND d.outcome <> $not_done "
                 "RETURN d.uscc AS uscc, d.service_code AS service_code, h.region_code AS village, "
                 "p.id_number AS id_number, min(d.delivered_on) AS first_day")
_SERVED = "MATCH (t:ServedTally) WHERE t.tally_id IN $keys RETURN t.tally_id AS key, t.days AS days"
_DROP_ROWS = tuple(f"MATCH (t:{t.label}) WHERE t.build IN $builds DELETE t"
                   for t in (RATE_TALLY, TOWNSHIP_RATE_TALLY, NEED_TALLY, PERSON_TALLY, OVERDUE_TALLY, SERVED_TALLY))
#: the needs of the scope overdue on the day, as ``t``
OVERDUE_ON_DAY = ("MATCH (t:OverdueTally) WHERE t.build IN $builds AND t.village STARTS WITH $prefix "
                  "AND t.from_day <= $as_of AND (t.until_day IS NULL OR t.until_day > $as_of) ")
OVERDUE_COLUMNS = {c: f"t.{c}" for c in ("need_id", "id_number", "household_no", "village", "category",
                                         "service_code", "confirmed_on", "due_on")}
_OVERDUE = OVERDUE_ON_DAY + "RETURN " + aliased(OVERDUE_COLUMNS)
#: the county's mark, taken first (on Neo4j its write lock is held from here to the commit, so two
#: reports making the same tally at once each see the other's build and drop its rows)
_TAKE_MARK = "MERGE (m:TallyMark {mark_id: $mark_id}) SET m.county = $county, m.year = $year"
_BUILDS_OF = ("MATCH (m:TallyMark) WHERE m.county = $county AND m.year = $year "
              "RETURN m.mark_id AS mark_id, m.build AS build, m.previous AS previous")
_DROP_MARKS = "UNWIND $keys AS k MATCH (m:TallyMark {mark_id: k}) DELETE m"


#: what the tallies hold: a version that changes it gives it a new number, so that the marks of
#: tallies made before are never read (they and their rows go when the county is made again)
FORMAT = 8


def _mark_id(county: str, year: int) -> str:
    return f"{county}|{year}|{FORMAT}"


def _seventh_birthday(born: dt.date) -> dt.date:
    """The first day ``PersonFacts.age_on`` gives 7 (1 March for a child born on 29 February)."""
    try:
        return born.replace(year=born.year + 7)
    except ValueError:
        return dt.date(born.year + 7, 3, 1)


def by_day(facts: ServiceFacts, id_number: str, year: int) -> list[tuple[dt.date, list[Episode]]]:
    """The person's episodes as they stand on 1 January and on each later day of the year with an
    assessment (folded from the assessments dated up to that day): the days they can change on."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    needs, assessed = facts.persons[id_number].needs, facts.assessments.get(id_number, [])
    days = [first] + sorted({a.assessed_on for a in assessed if first < a.assessed_on <= last})
    return [(day, episodes(id_number, needs, [a for a in assessed if a.assessed_on <= day])) for day in days]


def person_changes(facts: ServiceFacts, id_number: str, year: int,
                   days: list[tuple[dt.date, list[Episode]]]) -> list[tuple[str, dt.date, str, int]]:
    """``(category, day, figure, change)`` of one person's rates for ``year`` (module docstring);
    ``facts`` hold their deliveries dated up to the year's end, ``days`` is :func:`by_day`."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    person = facts.persons[id_number]
    entered: dict[str, dt.date] = {}  # category → the first day it is in need
    for day, found in days:
        for e in found:
            if e.category not in entered and e.open_during(first, day):
                entered[e.category] = day
    born = person.born
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


def open_changes(days: list[tuple[dt.date, list[Episode]]]) -> list[tuple[str, dt.date, int]]:
    """``(category, day, change)`` of one person's open needs (``days``: :func:`by_day`): +1 on
    1 January for each category open then, then +1 or -1 on the days an assessment opens a
    category or closes its last open need (module docstring)."""
    out: list[tuple[str, dt.date, int]] = []
    was: set[str] = set()
    for day, found in days:
        now = {e.category for e in found if e.open_on(day)}
        out += [(c, day, 1) for c in now - was] + [(c, day, -1) for c in was - now]
        was = now
    return out


def overdue_spans(facts: ServiceFacts, id_number: str, year: int) -> list[dict]:
    """The person's needs overdue on some day of ``year`` (module docstring), each with the first
    such day and the day it stops being overdue (None: not in the year): a need is overdue on a
    day after its due day (``facts.due_on``) before the first of the day it closes and its first
    counting delivery since its confirmation (``ServiceFacts.overdue``)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    person, out = facts.persons[id_number], []
    for e in facts.episodes(id_number):
        due = due_on(e, facts.catalogue)
        if due is None or due >= last:
            continue
        ends = [d.delivered_on for d in facts.served(id_number, e.category, e.confirmed_on, last)]
        until = min([*ends, *([e.closed_on] if e.closed_on else [])], default=None)
        since = due + dt.timedelta(days=1)
        if until is not None and until <= max(since, first):
            continue
        out.append({"need_id": e.need_id, "id_number": id_number, "household_no": person.household_no,
                    "village": person.region_code, "category": e.category, "service_code": e.service_code,
                    "confirmed_on": e.confirmed_on, "due_on": due, "from_day": since, "until_day": until})
    return out


def county_changes(tx: Tx, county: str, year: int) -> tuple[Changes, Opened, list[dict]]:
    """The changes of every person of the county for the year: the rates' summed per area (the
    county's 12-digit code, and the person's township's), category and day; the open needs' per
    village, category and day; and the needs overdue in the year."""
    facts = load_facts(tx, county, dt.date(year, 12, 31))
    changes: Changes = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    opened: Opened = defaultdict(int)
    overdue: list[dict] = []
    whole = _county_code(county)
    for number, person in facts.persons.items():
        days = by_day(facts, number, year)
        township = person.region_code[:9] + "000"
        for category, day, figure, change in person_changes(facts, number, year, days):
            changes[whole, category, day][figure] += change
            changes[township, category, day][figure] += change
        for category, day, change in open_changes(days):
            opened[person.region_code, category, day] += change
        overdue += overdue_spans(facts, number, year)
    return changes, {k: v for k, v in opened.items() if v}, overdue


def first_served(tx: Tx, county: str, year: int) -> dict[tuple[str, str, str], list[int]]:
    """``(organisation, service, region)`` → the sorted days of ``year`` (0: 1 January) on which
    each person of the region was first served by the organisation with the service, for each
    village of the county, its township and the county itself (12-digit codes)."""
    first, catalogue = dt.date(year, 1, 1), catalogue_in(tx)
    params = {"prefix": county, "first": first, "last": dt.date(year, 12, 31),
              "counted": sorted(c for c in catalogue.types if catalogue.counted(c)),
              "not_done": DeliveryOutcome.NOT_DONE.value}
    days: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for r in tx.run(_FIRST_SERVED, params):
        village = r["village"]
        for region in (village, village[:9] + "000", _county_code(village[:6])):
            days[r["uscc"], r["service_code"], region].append((r["first_day"] - first).days)
    return {k: sorted(v) for k, v in days.items()}


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

    def read(tx: Tx) -> tuple[dict[str, int], tuple[Changes, Opened, list[dict]], list[dict], dict]:
        versions = fact_versions.versions(tx, [county, fact_versions.CATALOGUE])  # before the facts
        return (versions, county_changes(tx, county, year), tx.run(_PERSONS_OF, {"prefix": county}),
                first_served(tx, county, year))

    versions, (changes, opened, overdue), persons, served = store.read(read)
    build = uuid.uuid4().hex
    rows = [{"tally_id": f"{build}|{area}|{category}|{day.isoformat()}", "build": build, "area": area,
             "category": category, "day": day, **figures} for (area, category, day), figures in sorted(changes.items())]
    whole = _county_code(county)
    county_rows = [r for r in rows if r["area"] == whole]
    township_rows = [r for r in rows if r["area"] != whole]
    open_rows = [{"tally_id": f"{build}|{village}|{category}|{day.isoformat()}", "build": build, "village": village,
                  "category": category, "day": day, "open": change}
                 for (village, category, day), change in sorted(opened.items())]
    person_rows = [{"tally_id": f"{build}|{r['village']}|{r['category']}|{r['grade']}", "build": build, **r}
                   for r in persons]
    overdue_rows = [{"tally_id": f"{build}|{r['need_id']}", "build": build, **r} for r in overdue]
    served_rows = [{"tally_id": _served_key(build, uscc, code, region), "build": build, "uscc": uscc,
                    "service_code": code, "region": region, "days": days}
                   for (uscc, code, region), days in sorted(served.items())]

    def keep(tx: Tx) -> None:
        mark_id = _mark_id(county, year)
        tx.run(_TAKE_MARK, {"mark_id": mark_id, "county": county, "year": year})
        # the build this one replaces stays until the next, for a report that read its name just
        # before (the builds a report reads are named in one transaction and read in the next);
        # the one before it goes, and an older format's marks with their builds
        marks = tx.run(_BUILDS_OF, {"county": county, "year": year})
        old = [b for r in marks for b in (r["previous"], *(() if r["mark_id"] == mark_id else (r["build"],))) if b]
        tx.run(_DROP_MARKS, {"keys": [r["mark_id"] for r in marks if r["mark_id"] != mark_id]})
        for table, made in ((RATE_TALLY, county_rows), (TOWNSHIP_RATE_TALLY, township_rows), (NEED_TALLY, open_rows),
                            (PERSON_TALLY, person_rows), (OVERDUE_TALLY, overdue_rows), (SERVED_TALLY, served_rows)):
            for part in chunks(made, 10_000):
                tx.create_nodes(table, list(part))
        tx.run(_KEEP_MARK, {"mark_id": mark_id, "build": build, "version": versions[county],
                            "catalogue_version": versions[fact_versions.CATALOGUE]})
        for query in _DROP_ROWS if old else ():
            tx.run(query, {"builds": old})

    store.write(keep)
    return build


def current_builds(store: GraphStore, prefix: str, year: int) -> dict[str, str]:
    """county → the build of its current tallies for the year, for the counties of the scope
    ``prefix``, those whose tallies are stale made again first."""
    counties = store.read(lambda tx: counties_in(tx, prefix))
    fresh, stale = store.read(lambda tx: _stale(tx, counties, year))
    if stale:
        log.info("服务汇总：重算 %d 个县 / service tallies: making %d counties again", len(stale), len(stale))
    for county in stale:
        fresh[county] = make_tally(store, county, year)
    return fresh


def _county_code(county: str) -> str:
    """The 12-digit code of a county (its 6-digit prefix)."""
    return county + "000000"


def area_figures(store: GraphStore, prefix: str, as_of: dt.date) -> dict[tuple[str, str], dict[str, int]]:
    """``(area, category)`` → the rates' figures of the period 1 January … ``as_of`` from the
    tallies of the scope's counties: per county (12-digit code) for a city or a province, per
    township for a county (``prefix`` of six digits)."""
    builds = sorted(current_builds(store, prefix, as_of.year).values())
    table = RATE_TALLY if len(prefix) < 6 else TOWNSHIP_RATE_TALLY
    rows = store.read(lambda tx: tx.run(_SUMS[table.label], {"builds": builds, "as_of": as_of}))
    return {(r["area"], r["category"]): {f: int(r[f] or 0) for f in FIGURES} for r in rows}


def open_needs(store: GraphStore, prefix: str, as_of: dt.date) -> dict[tuple[str, str], int]:
    """``(village, category)`` → the persons of the scope's villages with a need of the category
    open on ``as_of``, from their counties' tallies (those with none left out)."""
    builds = sorted(current_builds(store, prefix, as_of.year).values())
    rows = store.read(lambda tx: tx.run(_OPEN, {"builds": builds, "prefix": prefix, "as_of": as_of}))
    return {(r["village"], category): int(persons) for r in rows
            for category, persons in zip(r["categories"], r["persons"])}


def persons_by_area(store: GraphStore, prefix: str, width: int) -> dict[tuple[str, int, int], int]:
    """``(area, category, grade)`` → today's disabled persons of the scope, by area (a village's code
    cut to ``width`` characters), from the counties' tallies of this year."""
    builds = sorted(current_builds(store, prefix, today().year).values())
    rows = store.read(lambda tx: tx.run(_PERSONS, {"builds": builds, "prefix": prefix, "width": width}))
    return {(r["area"], int(r["category"]), int(r["grade"])): int(r["n"]) for r in rows}


def overdue_needs(tx: Tx, builds: list[str], prefix: str, as_of: dt.date) -> list[dict]:
    """The needs of the scope overdue on ``as_of`` (before any referral is looked at), from the
    ``builds`` of its counties' tallies (:func:`current_builds`): rows of :data:`OVERDUE_COLUMNS`."""
    return tx.run(_OVERDUE, {"builds": builds, "prefix": prefix, "as_of": as_of})


def _served_key(build: str, uscc: str, service_code: str, region: str) -> str:
    return f"{build}|{uscc}|{service_code}|{region}"


def served(tx: Tx, builds: dict[str, str], prefix: str, offers: Iterable[Offer], as_of: dt.date) -> dict[str, int]:
    """offer id → the persons of its region its organisation served with its service from 1
    January to ``as_of``, from the ``builds`` (:func:`current_builds`) of the scope ``prefix``'s
    counties, for the offers that lie in the scope (a wider one covers counties it has no build
    of: it is left out, for ``offers.offer_room`` to count)."""
    keys: dict[str, list[str]] = {}  # offer id → its rows' keys: its own, or its counties'
    for o in offers:
        held = region_prefix(o.region_code)
        if not held.startswith(prefix):
            continue
        regions = [(held[:6], o.region_code)] if len(held) >= 6 else \
            [(c, _county_code(c)) for c in builds if c.startswith(held)]
        keys[o.offer_id] = [_served_key(builds[c], o.uscc, o.service_code, region) for c, region in regions]
    upto = (as_of - dt.date(as_of.year, 1, 1)).days
    wanted = sorted({k for held in keys.values() for k in held})
    found = {r["key"]: bisect.bisect_right(r["days"], upto)
             for part in chunks(wanted, 20_000) for r in tx.run(_SERVED, {"keys": list(part)})}
    return {offer_id: sum(found.get(k, 0) for k in held) for offer_id, held in keys.items()}


def keep_current(store: GraphStore, year: int, progress: Callable[[int, int], None] | None = None,
                 prefix: str = "") -> int:
    """Make every county's tally for the year that is stale or missing (after an import, so that
    the first report does not wait for them), of the region ``prefix`` (all: ""); how many were
    made. ``progress(done, total)``."""
    counties = store.read(lambda tx: counties_in(tx, prefix))
    _, stale = store.read(lambda tx: _stale(tx, counties, year))
    for done, county in enumerate(stale, 1):
        make_tally(store, county, year)
        if progress:
            progress(done, len(stale))
    return len(stale)


__all__ = ["FIGURES", "OPEN_ON_DAY", "OVERDUE_COLUMNS", "OVERDUE_ON_DAY", "area_figures", "by_day", "counties_in", "county_changes", "current_builds",
           "first_served", "keep_current", "make_tally", "open_changes", "open_needs", "overdue_needs", "overdue_spans",
           "person_changes", "persons_by_area", "served"]
