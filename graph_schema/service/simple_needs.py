"""The service reports' store-side shortcuts: what the store can count or filter itself so that the
Python definitions of ``graph_schema.service.facts`` run over few persons.

**Service rates.** A person whose needs are *simple* — the registry's 需求 column and at most one
assessment dated up to the day — needs no episode folding: for the period ``start`` … ``as_of``
the categories in need are

- every registry category other than the assessment's;
- the assessment's category when it is 已确认 (it opens or continues an episode, open from its
  date, which lies in or before the period's end);
- the assessment's category when it is 已满足 or 不再需要, is also a registry category, and is
  dated after ``start`` (the registry need was open until that day).

These persons are counted per village and category in the store (``simple_rate_counts``); the
others (two assessments or more) are read and folded in Python (``complex_persons``). The two
sets are disjoint and together are the persons ``load_facts`` reads, so the sums are the same.

**Referral proposals.** A need *waits* when it is open, has no open referral of its category and
no counting delivery of its category dated from its confirmation (a registry need: 1 January) to
the day. A simple person's needs on the day are

- every registry category other than the assessment's, not confirmed (served or not since 1
  January);
- when the assessment is 已确认, its category, confirmed on its date (served or not since then), of
  its service when it names one: it continues a registry need of the category, or supersedes it;
  when it is 已满足 or 不再需要, no need of its category (it closed the registry's).

``waiting_counts`` counts the simple persons' waiting needs in the store per village and category,
except those an active offer could cover (``$covered``: "region|category" and "region|service"
of the active offers, matched against the village and its four ancestors' codes), and names the
persons with such a need, and the persons with two assessments or more, for the proposal to read
and fold in Python: a province's 229k needs without an offer are counted, not read.

Both read the state of today (and assessments, deliveries dated up to the day): for a past day
whose state has changed since, the reports use the full read (``load_facts``), which remakes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from graph_schema.enums import DeliveryOutcome, NeedStatus
from graph_schema.monitoring.common import SCOPED_HOUSEHOLDS
from graph_schema.service.catalogue import Catalogue, catalogue_in
from graph_schema.store.base import Dialect, Tx

#: the scope's persons; ``h.region_code`` is the village a report counts a person in
_PERSONS = SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) WITH h, p "
#: a person's assessments up to the day, counted, with the category, status and date of the one
#: there is when there is one (the catalogue's category for a service code: its ``OF`` edge)
_ASSESSMENTS = (
    "OPTIONAL MATCH (p)-[:HAS_NEED]->(n:Need) WHERE n.assessed_on <= $as_of "
    "OPTIONAL MATCH (n)-[:OF]->(s:ServiceType) "
    "WITH h, p, count(n) AS k, max(coalesce(s.category, n.category)) AS cat, max(n.status) AS status, "
    "max(n.assessed_on) AS dated "
)
#: a counting delivery (计入服务率, 结果 not 未完成) of category ``c`` to ``p`` dated up to ``$as_of``;
#: ``$counted`` lists "code|category" of the counting services (a join to the ``ServiceType`` nodes
#: made the embedded engine walk every delivery's edge from the few services: 1 s for one county)
_COUNTING = (
    "(p)-[:RECEIVED]->(d:Delivery) WHERE (d.service_code + '|' + c) IN $counted "
    "AND coalesce(d.outcome, '') <> $not_done AND d.delivered_on <= $as_of "
)
#: the birth date of the ID number (characters 7–14) as YYYYMMDD; left/right read alike on both engines
_CHILD = "right(left(p.id_number, 14), 8) > $child_after AND right(left(p.id_number, 14), 8) <= $child_until"
_FIGURES = (
    "OPTIONAL MATCH " + _COUNTING + "AND d.delivered_on >= $start "
    "WITH village, c, p, count(d) AS given "
    "RETURN village, c AS category, count(*) AS persons_in_need, "
    "sum(CASE WHEN given > 0 THEN 1 ELSE 0 END) AS persons_served, sum(given) AS deliveries, "
    "sum(CASE WHEN p.grade <= 2 THEN 1 ELSE 0 END) AS severe_in_need, "
    "sum(CASE WHEN p.grade <= 2 AND given > 0 THEN 1 ELSE 0 END) AS severe_served, "
    "sum(CASE WHEN " + _CHILD + " THEN 1 ELSE 0 END) AS children_in_need, "
    "sum(CASE WHEN " + _CHILD + " AND given > 0 THEN 1 ELSE 0 END) AS children_served"
)
#: the simple persons' categories in need: the registry's, and the assessment's when it is
#: 已确认 (the rules of the docstring; a registry category equal to the assessment's is kept when
#: the assessment is 已确认 or closed it after ``$start``, and counted once)
SIMPLE_COUNTS = (
    _PERSONS + _ASSESSMENTS + "WHERE k <= 1 "
    "UNWIND coalesce(p.needs, []) + CASE WHEN k = 1 AND status = $confirmed THEN [cat] ELSE [] END AS c "
    "WITH DISTINCT h.region_code AS village, p, c, k, cat, status, dated "
    "WHERE k = 0 OR c <> cat OR status = $confirmed OR dated > $start " + _FIGURES
)
_PERSON_COLUMNS = ("p.id_number AS id_number, p.name AS name, h.household_no AS household_no, "
                   "h.region_code AS region_code, p.grade AS grade, p.needs AS needs")
#: the persons with two assessments or more up to the day
COMPLEX_PERSONS = (
    _PERSONS + "MATCH (p)-[:HAS_NEED]->(n:Need) WHERE n.assessed_on <= $as_of WITH h, p, count(n) AS k "
    "WHERE k >= 2 RETURN " + _PERSON_COLUMNS
)
#: whether an offer of ``$covered`` held at the village or one of its four ancestors (12-digit
#: codes) reaches the need's ``subject`` (its service, or its category when it names none)
_COVERED = (
    "(h.region_code + '|' + subject) IN $covered OR (left(h.region_code, 9) + '000|' + subject) IN $covered "
    "OR (left(h.region_code, 6) + '000000|' + subject) IN $covered "
    "OR (left(h.region_code, 4) + '00000000|' + subject) IN $covered "
    "OR (left(h.region_code, 2) + '0000000000|' + subject) IN $covered"
)
#: the simple persons' needs (the docstring's rules; the assessment's need is tagged ``cat*`` so
#: that it is told from a registry need of the same category), each kept when it waits; a need some
#: active offer could cover (its service's, or its category's when it names none) names its person
#: instead of being counted. A person with two assessments or more is named when one of their
#: categories (the registry's or an assessment's) has no open referral and has had no counting
#: delivery since the later of 1 January and their latest assessment (every episode of it started
#: by then). (The needs are matched from the person with OPTIONAL MATCH: a plain MATCH made the
#: embedded engine scan every need of the store.)
WAITING_COUNTS = (
    _PERSONS + "OPTIONAL MATCH (p)-[:HAS_NEED]->(n:Need) WHERE n.assessed_on <= $as_of "
    "OPTIONAL MATCH (n)-[:OF]->(s:ServiceType) "
    "WITH h, p, count(n) AS k, collect(coalesce(s.category, n.category)) AS cats, "
    "max(coalesce(s.category, n.category)) AS cat, max(n.service_code) AS code, max(n.status) AS status, "
    "max(n.assessed_on) AS dated "
    "WHERE k > 0 OR size(p.needs) > 0 "
    "UNWIND coalesce(p.needs, []) + CASE WHEN k >= 2 THEN cats WHEN k = 1 AND status = $confirmed THEN [cat + '*'] "
    "ELSE [] END AS item "
    "WITH h, p, k, cat, code, dated, item, k = 1 AND item = cat + '*' AS own "
    "WITH h, p, k, own, CASE WHEN own THEN cat ELSE item END AS c, "
    "CASE WHEN own OR (k >= 2 AND dated > $year) THEN dated ELSE $year END AS since, "
    "CASE WHEN own AND code IS NOT NULL THEN code WHEN own THEN cat ELSE item END AS subject, "
    "k = 1 AND NOT own AND item = cat AS replaced "
    "WHERE NOT replaced AND NOT EXISTS { MATCH " + _COUNTING + "AND d.delivered_on >= since } "
    "AND NOT EXISTS { MATCH (p)-[:HAS_REFERRAL]->(r:Referral) WHERE r.category = c "
    "AND r.made_on <= $as_of AND (r.closed_on IS NULL OR r.closed_on > $as_of) } "
    "WITH h, p, k, c, k >= 2 OR " + _COVERED + " AS read "
    "RETURN h.region_code AS village, CASE WHEN read THEN NULL ELSE c END AS category, "
    "CASE WHEN read THEN p.id_number END AS id_number, CASE WHEN read THEN p.name END AS name, "
    "CASE WHEN read THEN h.household_no END AS household_no, CASE WHEN read THEN p.grade END AS grade, "
    "CASE WHEN read THEN p.needs END AS needs, CASE WHEN read THEN k END AS assessments, count(*) AS waiting"
)


#: the county prefixes of a wider scope's villages
_COUNTIES = "MATCH (v:Region) WHERE v.code STARTS WITH $prefix RETURN DISTINCT left(v.code, 6) AS county"


def _by_county(tx: Tx, query: str, params: dict, *, every_engine: bool = False,
               narrow: Callable[[dict], dict] | None = None) -> list[dict]:
    """``query`` over the scope; on Neo4j (with ``every_engine``, on both engines) over a city or
    a province one county at a time: the server caps a transaction's memory
    (``db.memory.transaction.max``), and the per-person aggregations over a province's persons
    exceed it; the embedded engine ran the waiting candidates' two queries faster so too (11 of
    the province's 99 county prefixes in 1.5 s, about 14 s for all, where the province at once had
    taken 31 s). The rows are per village or per person, so the counties' rows together are the
    scope's. ``narrow`` makes the parameters of one county's (or a narrower scope's) query."""
    narrow = narrow or (lambda p: p)
    if (tx.dialect is not Dialect.NEO4J and not every_engine) or len(params["prefix"]) >= 6:
        return tx.run(query, narrow(params))
    counties = sorted(r["county"] for r in tx.run(_COUNTIES, {"prefix": params["prefix"]}))
    return [row for county in counties for row in tx.run(query, narrow({**params, "prefix": county}))]


def _ymd(day: dt.date, years_back: int = 0) -> str:
    """``day`` as YYYYMMDD, ``years_back`` years earlier by the calendar (29 February stays: the
    string compares as the (year, month, day) the age rule compares)."""
    return f"{day.year - years_back:04d}{day.month:02d}{day.day:02d}"


def counted_pairs(catalogue: Catalogue) -> list[str]:
    """``$counted``: "code|category" of each service that counts toward the rate."""
    return sorted(f"{code}|{t.category.value}" for code, t in catalogue.types.items() if t.counts)


def simple_rate_counts(tx: Tx, prefix: str, start: dt.date, as_of: dt.date) -> list[dict]:
    """Rows ``(village, category, persons_in_need, persons_served, deliveries, severe_*, children_*)``
    of the simple persons (module docstring). A child is aged 0–6 on ``as_of``: born after the
    day seven years before and not after the day itself."""
    params = {"prefix": prefix, "start": start, "as_of": as_of, "confirmed": NeedStatus.CONFIRMED.value,
              "not_done": DeliveryOutcome.NOT_DONE.value, "child_after": _ymd(as_of, 7), "child_until": _ymd(as_of),
              "counted": counted_pairs(catalogue_in(tx))}
    return _by_county(tx, SIMPLE_COUNTS, params)


def complex_persons(tx: Tx, prefix: str, as_of: dt.date) -> list[dict]:
    """The scope's persons with two assessments or more dated up to ``as_of`` (person columns)."""
    return _by_county(tx, COMPLEX_PERSONS, {"prefix": prefix, "as_of": as_of})


def waiting_counts(tx: Tx, prefix: str, as_of: dt.date, covered: list[str]) -> list[dict]:
    """The simple persons' waiting needs that no offer of ``covered`` ("region|category" and
    "region|service", the region's 12-digit code) could reach, as rows ``(village, category,
    waiting)`` with ``id_number`` None, and the persons to read (module docstring) as rows of
    person columns with ``assessments`` (their count up to the day: a simple person's needs that
    no offer reaches are among the counted), each once. Each county is asked about the offers
    held in it or above it only (a province's 900 keys, 16 for one county)."""
    params = {"prefix": prefix, "as_of": as_of, "year": dt.date(as_of.year, 1, 1), "covered": covered,
              "confirmed": NeedStatus.CONFIRMED.value, "not_done": DeliveryOutcome.NOT_DONE.value,
              "counted": counted_pairs(catalogue_in(tx))}

    def narrow(p: dict) -> dict:
        county = p["prefix"][:6]
        above = {county[:4].ljust(12, "0"), county[:2].ljust(12, "0")}
        return p | {"covered": [k for k in covered if k.startswith(county) or k.split("|")[0] in above]}

    rows = _by_county(tx, WAITING_COUNTS, params, every_engine=True, narrow=narrow)
    for r in rows:
        if r["id_number"] is not None:
            r["region_code"] = r["village"]
    return rows
