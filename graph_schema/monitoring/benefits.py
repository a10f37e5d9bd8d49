"""Data comparison (数据比对): which persons should receive a subsidy and do not, and which
department lists disagree with the disability registry, on ``as_of``.

The departments' lists are ``Listing`` nodes (部门名单). A listing is *valid* on ``as_of`` when
its 起始年月 has begun (``valid_from`` is empty or ``valid_from <= as_of``) and its 截止年月 has not
passed (``valid_to`` is empty or ``valid_to >=`` the first day of ``as_of``'s month: months are
stored as their first day, so a listing ending in ``as_of``'s month still counts, one that ended
the month before does not).

Findings, one row each, in this order:

1. 重度残疾未享护理补贴: a person graded 一级 or 二级 with no valid listing of 重度残疾人护理补贴.
2. 低保户未享生活补贴: a person whose household is 低保 with no valid listing of 困难残疾人生活补贴.
   (A severely disabled person in a 低保 household may appear under both 1 and 2.)
3. 证件过期仍在补贴名单: a person on a valid listing of either subsidy (困难残疾人生活补贴,
   重度残疾人护理补贴) whose certificate expired before ``as_of``: one row per subsidy.
4. 补贴名单人员不在残疾人库: a valid listing of either subsidy whose ID number matches no person of
   the registry (anywhere): one row per ID number and subsidy; 户编号 and 区划代码 are empty.
5. 监测对象户未标识: a person on a valid 监测对象 listing whose household has no 监测类别.

Scope: a person belongs to the region of their household. A listed person the registry does not
know has no household, so their listing is placed by the first 6 digits of their ID number (the
county that issued it): it is included when the region is a province, a city or a county (a prefix
of at most 6 digits) and the ID number starts with that prefix; a township or village report never
shows finding 4. A person who moved counties is therefore placed by household for findings 1–3
and 5, and never appears under 4 (the registry knows them).

Rows are ordered by finding (the order above), then 区划代码, 户编号, ID number and item. ID numbers
are shown masked (first 6 + 8 asterisks + last 4).

Persons (grade, certificate, household) and households (低保, 监测类别, village) are taken as they
were on ``as_of`` (:mod:`graph_schema.history`); a person the registry gained after ``as_of`` was
not known on that day, so a listing of theirs counts under finding 4. Later imports never change
a past answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from graph_schema import history
from graph_schema.identifiers import RegionLevel, mask_id_number
from graph_schema.listing.models import CARE_SUBSIDY, LIVING_SUBSIDY, MONITORED
from graph_schema.monitoring.common import (
    HOUSEHOLD_IN_SCOPE_NEO4J,
    SCOPED_HOUSEHOLDS,
    Report,
    as_of_or_today,
    paginate,
)
from graph_schema.monitoring.past import affected_households, households_then, keyed_rows, members_then
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import FROM_KEY, Dialect, GraphStore, Tx, aliased
from graph_schema.store.schema import PERSON

SUBSIDIES = (LIVING_SUBSIDY, CARE_SUBSIDY)

SEVERE_WITHOUT_CARE = "重度残疾未享护理补贴"
DIBAO_WITHOUT_LIVING = "低保户未享生活补贴"
EXPIRED_BUT_LISTED = "证件过期仍在补贴名单"
LISTED_UNKNOWN = "补贴名单人员不在残疾人库"
MONITORED_UNMARKED = "监测对象户未标识"
#: The findings in the order the report lists them.
FINDINGS = (SEVERE_WITHOUT_CARE, DIBAO_WITHOUT_LIVING, EXPIRED_BUT_LISTED, LISTED_UNKNOWN, MONITORED_UNMARKED)

_VALID = ("(l.valid_from IS NULL OR l.valid_from <= $as_of) "
          "AND (l.valid_to IS NULL OR l.valid_to >= $month_start)")
_PERSON_COLUMNS = (
    "RETURN p.id_number AS id_number, p.name AS name, p.grade AS grade, p.cert_expiry AS cert_expiry, "
    "h.household_no AS household_no, h.region_code AS region_code, h.dibao AS dibao, h.monitoring AS monitoring"
)
#: The persons of the scope who are entitled to a subsidy (severe, or in a 低保 household). The
#: condition follows a WITH so that the engine starts from the scope, not from every person.
ENTITLED_PERSONS = (
    SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) "
    "WITH h, p WHERE p.grade <= 2 OR coalesce(h.dibao, false) " + _PERSON_COLUMNS
)
#: The valid listings of the compared items of the scope's persons, one row per listing. The
#: conditions on the listing follow a WITH: written in the MATCH, the embedded engine scans every
#: listing first (280 ms for a county instead of 43).
LISTED_PERSONS = (
    SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) "
    f"MATCH (p)-[:LISTED]->(l:Listing) WITH h, p, l WHERE l.item IN $items AND {_VALID} "
    + _PERSON_COLUMNS + ", l.item AS item, l.dept AS dept"
)
#: Valid subsidy listings of ID numbers issued under the scope's county-or-wider prefix that name
#: nobody of the registry (no ``LISTED`` edge).
SUBSIDY_LISTINGS_BY_ID_PREFIX = (
    "MATCH (l:Listing) WHERE l.id_number STARTS WITH $prefix "
    f"WITH l WHERE l.item IN $items AND {_VALID} "
    "OPTIONAL MATCH (x:Person)-[:LISTED]->(l) WITH l, x WHERE x IS NULL "
    "RETURN l.id_number AS id_number, l.name AS name, l.item AS item, l.dept AS dept, "
    "l.valid_from AS valid_from"
)

#: The valid listings of the compared items of persons named by ID number, and of the listings
#: of persons the registry gained after a past ``as_of`` (its findings 4).
LISTINGS_OF = (
    f"UNWIND $keys AS k MATCH (p:Person {{id_number: k}}) {FROM_KEY} (p)-[:LISTED]->(l:Listing) "
    f"WITH p, l WHERE l.item IN $items AND {_VALID} "
    "RETURN p.id_number AS id_number, l.id_number AS listed_id, l.name AS name, l.item AS item, l.dept AS dept, "
    "l.valid_from AS valid_from"
)


#: The findings on the server, for the current day, so that a page is counted, ordered and cut
#: there and only its rows travel (a province's flat reads returned ~1M rows). Each is a match up
#: to its RETURN over the scope's persons ``p`` in households ``h``; a listing's conditions follow
#: a WITH, as above.
_SCOPE_PERSONS = SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) "
#: Findings 1 and 2: the persons ``$entitled`` keeps with no valid listing of ``$item``.
_WITHOUT = ("OPTIONAL MATCH (p)-[:LISTED]->(l:Listing) "
            f"WITH h, p, sum(CASE WHEN l.item = $item AND {_VALID} THEN 1 ELSE 0 END) AS held WHERE held = 0 ")
SEVERE_WITHOUT = _SCOPE_PERSONS + "WITH h, p WHERE p.grade <= 2 " + _WITHOUT
DIBAO_WITHOUT = _SCOPE_PERSONS + "WITH h, p WHERE coalesce(h.dibao, false) " + _WITHOUT
#: Finding 3: one row per expired person and subsidy they are validly listed for.
EXPIRED_LISTED = (
    _SCOPE_PERSONS + "WITH h, p WHERE p.cert_expiry < $as_of "
    f"MATCH (p)-[:LISTED]->(l:Listing) WITH h, p, l WHERE l.item IN $items AND {_VALID} "
    "WITH h, p, l.item AS item, count(*) AS listings "
)
#: Finding 5: persons validly listed as 监测对象 whose household has no 监测类别, with the departments.
MONITORED_UNMARKED_PERSONS = (
    _SCOPE_PERSONS + "WITH h, p WHERE h.monitoring IS NULL "
    f"MATCH (p)-[:LISTED]->(l:Listing) WITH h, p, l WHERE l.item = $item AND {_VALID} "
    "WITH h, p, collect(l.dept) AS depts "
)
#: Finding 4: the ID numbers and subsidies of the listings no person is listed from; the page's
#: listings are then read whole by :data:`UNKNOWN_LISTINGS_OF`.
UNKNOWN_GROUPS = (
    "MATCH (l:Listing) WHERE l.id_number STARTS WITH $prefix "
    f"WITH l WHERE l.item IN $items AND {_VALID} "
    "OPTIONAL MATCH (x:Person)-[:LISTED]->(l) WITH l, x WHERE x IS NULL "
    "WITH l.id_number AS id_number, l.item AS item, count(*) AS listings "
)
UNKNOWN_LISTINGS_OF = (
    "MATCH (l:Listing) WHERE l.id_number STARTS WITH $prefix "
    f"WITH l WHERE l.id_number IN $ids AND l.item IN $items AND {_VALID} "
    "OPTIONAL MATCH (x:Person)-[:LISTED]->(l) WITH l, x WHERE x IS NULL "
    "RETURN l.id_number AS id_number, l.name AS name, l.item AS item, l.dept AS dept, "
    "l.valid_from AS valid_from"
)

#: The same findings for a scope wider than a county (a city, the province) on LadybugDB, each in
#: the form that measured fastest there when timed alone on the province store (docs/benchmarks.md,
#: "benefit-gaps and post-evaluation of a province by scans"). The scope's households are found
#: by a filtered scan of the household table (``h.region_code STARTS WITH``, as
#: ``common.PRIORITY_SCAN``) rather than through their villages; a listing held is asked by
#: ``NOT EXISTS {}`` rather than an OPTIONAL MATCH summed per person (for the province's 低保
#: households 2.2 → 0.2–0.4 s); the severe are looked for only in the households whose kept count
#: has one (graph_schema/store/counts.py); the expired are found from the persons (0.3 → 0.13 s);
#: the unmarked 监测对象 from the few 监测对象 listings rather than from every unmarked household
#: (2.3 → 0.2 s). A county keeps the forms above on both engines: there the village path is the
#: quick one.
_SCOPE_SCAN = "MATCH (h:Household) WHERE h.region_code STARTS WITH $prefix "
_NOT_HELD = f"NOT EXISTS {{ MATCH (p)-[:LISTED]->(l:Listing) WHERE l.item = $item AND {_VALID} }} "
SEVERE_WITHOUT_WIDE = (_SCOPE_SCAN + "AND h.severe_count > 0 MATCH (p:Person)-[:MEMBER_OF]->(h) "
                       "WITH h, p WHERE p.grade <= 2 AND " + _NOT_HELD)
DIBAO_WITHOUT_WIDE = _SCOPE_SCAN + "AND h.dibao MATCH (p:Person)-[:MEMBER_OF]->(h) WITH h, p WHERE " + _NOT_HELD
EXPIRED_LISTED_WIDE = (
    "MATCH (p:Person)-[:MEMBER_OF]->(h:Household) WHERE p.cert_expiry < $as_of AND h.region_code STARTS WITH $prefix "
    f"MATCH (p)-[:LISTED]->(l:Listing) WITH h, p, l WHERE l.item IN $items AND {_VALID} "
    "WITH h, p, l.item AS item, count(*) AS listings "
)
#: Finding 4 wide: the listings' conditions in the scan and the unknown asked by ``NOT EXISTS {}``
#: (1.1 → 0.4–0.6 s).
UNKNOWN_GROUPS_WIDE = (f"MATCH (l:Listing) WHERE l.id_number STARTS WITH $prefix AND l.item IN $items AND {_VALID} "
                       "AND NOT EXISTS { MATCH (:Person)-[:LISTED]->(l) } "
                       "WITH l.id_number AS id_number, l.item AS item, count(*) AS listings ")
MONITORED_UNMARKED_WIDE = (
    f"MATCH (l:Listing) WHERE l.item = $item AND {_VALID} MATCH (p:Person)-[:LISTED]->(l) "
    "MATCH (p)-[:MEMBER_OF]->(h:Household) WITH h, p, l WHERE h.monitoring IS NULL "
    "AND h.region_code STARTS WITH $prefix WITH h, p, collect(l.dept) AS depts "
)
#: Neo4j's wide forms start from an index of what each finding looks for: the severe by
#: ``Person(grade)``, the 低保 households by ``Household(dibao, region_code)``, the expired by
#: ``Person(cert_expiry)``, the 监测对象 listings by ``Listing(item)``, the unknown listings by
#: asking for their edges before their properties. A person's household is then reached in a
#: ``CALL`` subquery: written as a pattern, the planner starts from the scope's households
#: whatever the hints, and expands the relationship chains of all 700,967 of the province (3.4M
#: database hits per finding). Timed alone on the province (docs/benchmarks.md, "Wide reports on
#: Neo4j from indexes, side by side, and counted on the server"): 1.07 → 0.45 s, 1.15 → 0.60,
#: 0.76 → 0.15, 1.32 → 0.40 and 0.86 → 0.31 s.
_NEO4J_WIDE = (
    "MATCH (p:Person) USING INDEX p:Person(grade) WHERE p.grade <= 2 WITH p WHERE " + _NOT_HELD
    + HOUSEHOLD_IN_SCOPE_NEO4J,
    "MATCH (h:Household) USING INDEX h:Household(dibao, region_code) "
    "WHERE h.dibao = true AND h.region_code STARTS WITH $prefix "
    "MATCH (p:Person)-[:MEMBER_OF]->(h) WITH h, p WHERE " + _NOT_HELD,
    "MATCH (p:Person) USING INDEX p:Person(cert_expiry) WHERE p.cert_expiry < $as_of "
    f"MATCH (p)-[:LISTED]->(l:Listing) WITH p, l WHERE l.item IN $items AND {_VALID} " + HOUSEHOLD_IN_SCOPE_NEO4J
    + "WITH h, p, l.item AS item, count(*) AS listings ",
    "MATCH (l:Listing) WHERE l.id_number STARTS WITH $prefix AND NOT EXISTS { (l)<-[:LISTED]-() } "
    f"WITH l WHERE l.item IN $items AND {_VALID} "
    "WITH l.id_number AS id_number, l.item AS item, count(*) AS listings ",
    f"MATCH (l:Listing) USING INDEX l:Listing(item) WHERE l.item = $item WITH l WHERE {_VALID} "
    "MATCH (p:Person)-[:LISTED]->(l) " + HOUSEHOLD_IN_SCOPE_NEO4J
    + "WITH h, p, l WHERE h.monitoring IS NULL WITH h, p, collect(l.dept) AS depts ",
)
_PERSON = {"id_number": "p.id_number", "name": "p.name", "household_no": "h.household_no",
           "region_code": "h.region_code"}
_BY_PERSON = "region_code, household_no, id_number"


@dataclass(frozen=True)
class BenefitGap:
    id_masked: str
    name: str | None
    household_no: str | None
    region_code: str | None
    item: str
    finding: str
    detail: str


def benefit_gaps(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                 page: PageRequest = PageRequest(), **_: object) -> Page[BenefitGap]:
    """The findings of data comparison for ``region`` on ``as_of`` (default today); see the module."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[BenefitGap]:
        prefix = resolve_scope(tx, region)[1]
        params = {"prefix": prefix, "as_of": as_of, "month_start": as_of.replace(day=1)}
        past = history.past(tx, as_of)
        if past is None:
            return _first_page(tx, params, page)
        entitled = tx.run(ENTITLED_PERSONS, params)
        listed = tx.run(LISTED_PERSONS, params | {"items": [*SUBSIDIES, MONITORED]})
        unknown = (tx.run(SUBSIDY_LISTINGS_BY_ID_PREFIX, params | {"items": list(SUBSIDIES)})
                   if len(prefix) <= 6 else [])
        entitled, listed, unknown = _as_it_was(tx, past, entitled, listed, unknown, params)
        found = _registry_findings(entitled, listed, as_of)
        if len(prefix) <= 6:
            found += _unknown_findings(unknown)
        found.sort(key=lambda f: (FINDINGS.index(f[1].finding), f[1].region_code or "", f[1].household_no or "",
                                  f[0], f[1].item))
        return paginate([row for _, row in found], page)

    return store.read(work)


def _first_page(tx: Tx, params: dict, page: PageRequest) -> Page[BenefitGap]:
    """A page of the current answer: the findings in their order, each counted on the server,
    and of those the page reaches only its rows read, ordered and cut there. The first finding's
    part of the page is read beside the others' numbers (:meth:`Tx.side_by_side`); a page that
    lies past it reads the parts it reaches once the numbers are known."""
    subsidies = {"items": list(SUBSIDIES)}
    wide = len(params["prefix"]) < RegionLevel.COUNTY.prefix_length
    severe, dibao, expired, unknown, unmarked = _matches(tx.dialect, wide)
    findings = [
        _Finding(severe, _PERSON | {"grade": "p.grade"}, _BY_PERSON, {"item": CARE_SUBSIDY}, _severe),
        _Finding(dibao, _PERSON, _BY_PERSON, {"item": LIVING_SUBSIDY}, _dibao),
        _Finding(expired, _PERSON | {"item": "item", "cert_expiry": "p.cert_expiry"}, _BY_PERSON + ", item",
                 subsidies, _expired),
        _Finding(unknown, {"id_number": "id_number", "item": "item"}, "id_number, item", subsidies, None),
        _Finding(unmarked, _PERSON | {"depts": "depts"}, _BY_PERSON, {"item": MONITORED}, _unmarked),
    ]
    if len(params["prefix"]) > 6:  # finding 4 is placed by county: none below one
        del findings[3]
    start, end = page.skip, page.skip + page.page_size
    first, *rest = findings
    (total, rows), *numbers = tx.side_by_side(
        [lambda t: _part(t, wide, first, params, start, page.page_size)]
        + [lambda t, match=f.match, more=f.more: t.run(match + "RETURN count(*) AS n", params | more)[0]["n"]
           for f in rest])
    for finding, found in zip(rest, numbers, strict=True):
        skip, limit = max(0, start - total), max(0, end - max(start, total))
        if limit:
            rows += _part(tx, wide, finding, params, skip, limit)[1]
        total += found
    return Page(rows, total, page.page, page.page_size)


@dataclass(frozen=True)
class _Finding:
    """One finding on the server: its match (up to the RETURN), its columns (alias → expression),
    their order, its parameters and how a row becomes a gap (None: an unknown listing's)."""

    match: str
    columns: dict[str, str]
    order: str
    more: dict
    convert: Callable[[dict, dt.date], BenefitGap] | None


def _part(tx: Tx, wide: bool, finding: _Finding, params: dict, skip: int, limit: int) -> tuple[int, list[BenefitGap]]:
    """A finding's number of rows and its gaps from ``skip`` up to ``limit`` of them."""
    found, head = _ordered_page(tx, wide, finding.match, finding.columns, finding.order, params | finding.more,
                                skip, limit)
    if finding.convert is not None:
        return found, [finding.convert(r, params["as_of"]) for r in head]
    ids = sorted({r["id_number"] for r in head})
    listings = tx.run(UNKNOWN_LISTINGS_OF, params | finding.more | {"ids": ids}) if ids else []
    gaps = {(number, g.item): g for number, g in _unknown_findings(listings)}
    return found, [gaps[(r["id_number"], r["item"])] for r in head]


def _matches(dialect: Dialect, wide: bool) -> tuple[str, str, str, str, str]:
    """The five findings' matches for a scope: the village path for a county or narrower; for a
    wider scope, the scans on LadybugDB and the index seeks on Neo4j."""
    if not wide:
        return SEVERE_WITHOUT, DIBAO_WITHOUT, EXPIRED_LISTED, UNKNOWN_GROUPS, MONITORED_UNMARKED_PERSONS
    if dialect is Dialect.NEO4J:
        return _NEO4J_WIDE
    return SEVERE_WITHOUT_WIDE, DIBAO_WITHOUT_WIDE, EXPIRED_LISTED_WIDE, UNKNOWN_GROUPS_WIDE, MONITORED_UNMARKED_WIDE


def _ordered_page(tx: Tx, wide: bool, match: str, columns: dict[str, str], order: str, params: dict,
                  skip: int, limit: int) -> tuple[int, list[dict]]:
    """A finding's number of rows and the page's part of them (:meth:`Tx.ordered_page`), except
    for a wide scope on LadybugDB: there the finding is read whole and ordered here. Its rows are
    the finding's gaps (5,355 for the province's first finding), and the store's count and ordered
    page would each walk the province's persons again (0.4–0.5 s each, against 0.2 s for one read
    of the rows)."""
    if not wide or tx.dialect is not Dialect.LADYBUG:
        return tx.ordered_page(match, columns, order, params, skip, limit)
    keys = [key.strip() for key in order.split(",")]
    rows = tx.run(f"{match}RETURN {aliased(columns)}", params)
    rows.sort(key=lambda r: tuple(r[key] for key in keys))
    return len(rows), rows[skip:skip + limit]


def _gap(r: dict, item: str, finding: str, detail: str) -> BenefitGap:
    return BenefitGap(id_masked=mask_id_number(r["id_number"]), name=r["name"], household_no=r["household_no"],
                      region_code=r["region_code"], item=item, finding=finding, detail=detail)


def _severe(r: dict, as_of: dt.date) -> BenefitGap:
    return _gap(r, CARE_SUBSIDY, SEVERE_WITHOUT_CARE, _severe_detail(r["grade"]))


def _dibao(r: dict, as_of: dt.date) -> BenefitGap:
    return _gap(r, LIVING_SUBSIDY, DIBAO_WITHOUT_LIVING, _DIBAO_DETAIL)


def _expired(r: dict, as_of: dt.date) -> BenefitGap:
    return _gap(r, r["item"], EXPIRED_BUT_LISTED, _expired_detail(r["cert_expiry"]))


def _unmarked(r: dict, as_of: dt.date) -> BenefitGap:
    return _gap(r, MONITORED, MONITORED_UNMARKED, _unmarked_detail(set(r["depts"])))


def _severe_detail(grade: int) -> str:
    return f"{'一二'[grade - 1]}级残疾，护理补贴名单中无有效记录"


_DIBAO_DETAIL = "低保户，生活补贴名单中无有效记录"


def _expired_detail(expiry: dt.date) -> str:
    return f"证件有效期至 {expiry.isoformat()}"


def _unmarked_detail(depts: set[str]) -> str:
    return f"{_depts(depts)}名单列为监测对象，户未标识监测类别"


def _as_it_was(tx: Tx, past: history.Past, entitled: list[dict], listed: list[dict], unknown: list[dict],
               params: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """The three reads with the persons of the households changed since the day (and the persons
    changed since) made again from their state of the day; persons registered since are unknown."""
    prefix = params["prefix"]
    affected = affected_households(tx, past)
    then = households_then(tx, past, affected, prefix)
    members = [p for found in members_then(tx, past, then).values() for p in found]
    gone = {p["id_number"] for found in members_then(tx, None, affected).values() for p in found}
    gone |= past.touched(PERSON)
    rows = [{"id_number": p["id_number"], "name": p["name"], "grade": p["grade"], "cert_expiry": p["cert_expiry"],
             "household_no": p["household_no"], "region_code": then[p["household_no"]]["region_code"],
             "dibao": then[p["household_no"]]["dibao"], "monitoring": then[p["household_no"]]["monitoring"]}
            for p in members]
    by_id = {r["id_number"]: r for r in rows}
    items = {"items": [*SUBSIDIES, MONITORED]}
    listings = keyed_rows(tx, LISTINGS_OF, by_id, params | items)
    entitled = [r for r in entitled if r["id_number"] not in gone] + \
        [r for r in rows if (r["grade"] is not None and r["grade"] <= 2) or r["dibao"]]
    listed = [r for r in listed if r["id_number"] not in gone] + \
        [by_id[r["id_number"]] | {"item": r["item"], "dept": r["dept"]} for r in listings]
    if len(prefix) <= 6:  # listings of the persons the registry did not know yet
        newcomers = [k for k in past.created.get(PERSON.label, ()) if k.startswith(prefix)]
        unknown = unknown + [r | {"id_number": r["listed_id"]} for r in
                             keyed_rows(tx, LISTINGS_OF, newcomers, params | {"items": list(SUBSIDIES)})]
    return entitled, listed, unknown


def _registry_findings(entitled: list[dict], listed: list[dict], as_of: dt.date) -> list[tuple[str, BenefitGap]]:
    persons = {r["id_number"]: r for r in [*entitled, *listed]}
    on_lists: dict[str, dict[str, set[str]]] = {}  # id → item → departments
    for r in listed:
        on_lists.setdefault(r["id_number"], {}).setdefault(r["item"], set()).add(r["dept"])
    out: list[tuple[str, BenefitGap]] = []
    for number, p in persons.items():
        items = on_lists.get(number, {})
        found: list[tuple[str, str, str]] = []  # (item, finding, detail)
        if p["grade"] is not None and p["grade"] <= 2 and CARE_SUBSIDY not in items:
            found.append((CARE_SUBSIDY, SEVERE_WITHOUT_CARE, _severe_detail(p["grade"])))
        if p["dibao"] and LIVING_SUBSIDY not in items:
            found.append((LIVING_SUBSIDY, DIBAO_WITHOUT_LIVING, _DIBAO_DETAIL))
        if p["cert_expiry"] is not None and p["cert_expiry"] < as_of:
            found += [(item, EXPIRED_BUT_LISTED, _expired_detail(p["cert_expiry"]))
                      for item in SUBSIDIES if item in items]
        if MONITORED in items and p["monitoring"] is None:
            found.append((MONITORED, MONITORED_UNMARKED, _unmarked_detail(items[MONITORED])))
        out += [(number, BenefitGap(id_masked=mask_id_number(number), name=p["name"], household_no=p["household_no"],
                                    region_code=p["region_code"], item=item, finding=finding, detail=detail))
                for item, finding, detail in found]
    return out


def _unknown_findings(listings: list[dict]) -> list[tuple[str, BenefitGap]]:
    """Listings no person is ``LISTED`` from: the registry does not know the ID number."""
    grouped: dict[tuple[str, str], list[dict]] = {}
    for r in listings:
        grouped.setdefault((r["id_number"], r["item"]), []).append(r)
    out = []
    for (number, item), rows in grouped.items():
        rows.sort(key=lambda r: (r["dept"], r["valid_from"] or dt.date.min))
        detail = "；".join(f"{r['dept']}名单" + (f"，{r['valid_from']:%Y-%m} 起" if r["valid_from"] else "")
                          for r in rows)
        out.append((number, BenefitGap(id_masked=mask_id_number(number), name=rows[0]["name"], household_no=None,
                                       region_code=None, item=item, finding=LISTED_UNKNOWN, detail=detail)))
    return out


def _depts(depts: set[str]) -> str:
    return "、".join(sorted(depts))


BENEFIT_GAPS = Report(
    name="benefit-gaps", title="数据比对 / benefit gaps", row=BenefitGap,
    headers={"id_masked": "身份证号", "name": "姓名", "household_no": "户编号", "region_code": "区划代码",
             "item": "项目", "finding": "比对发现", "detail": "说明"},
    run=benefit_gaps)
