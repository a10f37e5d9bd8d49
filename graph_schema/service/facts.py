"""What the service reports and rules read, and the definitions they share (data contract).

**Needs.** A person's needs are the registry's 需求 column (one need per category, 来源 登记, no
assessment date) and the assessments (``Need`` nodes). Assessments are read in date order and
folded into *episodes*, one per need that is open at some time:

- an assessment *covers* an open episode of the same category when either names no service or
  both name the same one ("the same service or category");
- 已满足 or 不再需要 closes every episode it covers, on its date;
- 已确认 continues an open episode of the same subject (the same service, or the category alone):
  the need is the one first confirmed, so a yearly survey does not restart its clock; a registry
  need it continues gets that date as its confirmation. It supersedes the covered episodes of
  another subject (a need for KF01 replaces a need for 康复 in general), which close on its date,
  and opens its own.

An episode is **open** on a day from its confirmation (a registry need: always) until the day an
assessment closes or supersedes it (that day excluded). Assessments dated after ``as_of`` are not
read, so a report for a past date sees the assessments as they were; the persons themselves (the
registry column, the grade, the household and its village) are read as they were on that day too:
those of the households changed since are made again from the history (``monitoring.past``), as
every report's rows are.

The registry's needs are read from the person rather than copied into ``Need`` nodes: they are the
registry's current word, with no date or assessor of their own, and the person's revisions already
keep the column's history; a copy would have to follow every change of the column.

**Deliveries.** A delivery *counts* when its service counts toward the rate (计入服务率) and its 结果
is 完成 or 进行中. An episode is **overdue** on a day when it was confirmed more than its service's
办理时限 before (the category's shortest for a need of a whole category; a registry need is never
overdue until an assessment confirms it) and no counting delivery of its category is dated from
its confirmation to that day.

**Reach.** An offer *covers* a region when its own region is that region or holds it; it is
*active* on a day between its 起始日期 and 截止日期 (both included, open-ended when empty).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graph_schema import history
from graph_schema.enums import DeliveryOutcome, NeedStatus, NeedSource
from graph_schema.identifiers import region_ancestors, region_prefix
from graph_schema.monitoring import risk
from graph_schema.monitoring.common import SCOPED_HOUSEHOLDS
from graph_schema.monitoring.past import affected_households, households_then, keyed_rows, members_then, severity
from graph_schema.service.catalogue import Catalogue, catalogue_in
from graph_schema.service.models import Offer, Referral, registry_need_id
from graph_schema.store.base import FROM_KEY, Tx, chunks
from graph_schema.store.schema import OFFER, REFERRAL

#: The scope's persons (``$prefix``); the WITH makes the engine start from the regions.
_SCOPED_PERSONS = SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) WITH h, p "
_PERSON_COLUMNS = ("p.id_number AS id_number, p.name AS name, h.household_no AS household_no, "
                   "h.region_code AS region_code, p.grade AS grade, p.needs AS needs")
REGISTRY_NEEDS = _SCOPED_PERSONS + f"WHERE size(p.needs) > 0 RETURN {_PERSON_COLUMNS}"
_NEED_COLUMNS = ("n.need_id AS need_id, n.service_code AS service_code, n.category AS category, "
                 "n.assessed_on AS assessed_on, n.status AS status, n.source AS source")
ASSESSED_NEEDS = (
    _SCOPED_PERSONS + "MATCH (p)-[:HAS_NEED]->(n:Need) WITH h, p, n WHERE n.assessed_on <= $as_of "
    f"RETURN {_PERSON_COLUMNS}, {_NEED_COLUMNS}"
)
_DELIVERY_TAIL = (
    "(p)-[:RECEIVED]->(d:Delivery) WITH p, d WHERE d.delivered_on <= $as_of "
    "RETURN p.id_number AS id_number, d.delivery_id AS delivery_id, d.service_code AS service_code, "
    "d.delivered_on AS delivered_on, d.outcome AS outcome, d.uscc AS uscc"
)
DELIVERIES = _SCOPED_PERSONS + "MATCH " + _DELIVERY_TAIL
_REFERRAL_COLUMNS = ", ".join(f"r.{c} AS {c}" for c in REFERRAL.columns)
_OFFER_COLUMNS = ", ".join(f"o.{c} AS {c}" for c in OFFER.columns)
_REFERRAL_TAIL = "(p)-[:HAS_REFERRAL]->(r:Referral) WITH p, r WHERE r.made_on <= $as_of RETURN " + _REFERRAL_COLUMNS
REFERRALS = _SCOPED_PERSONS + "MATCH " + _REFERRAL_TAIL
#: The same three for persons named by ID number (those who lay in the scope on a past day only).
_KEYED_PERSONS = f"UNWIND $keys AS k MATCH (p:Person {{id_number: k}}) {FROM_KEY} "
KEYED_NEEDS = (_KEYED_PERSONS + "(p)-[:HAS_NEED]->(n:Need) WITH p, n WHERE n.assessed_on <= $as_of "
               f"RETURN p.id_number AS id_number, {_NEED_COLUMNS}")
KEYED_DELIVERIES = _KEYED_PERSONS + _DELIVERY_TAIL
KEYED_REFERRALS = _KEYED_PERSONS + _REFERRAL_TAIL
#: What ``waiting`` looks at alone (``facts_of(..., waiting_only=True)``): the counting deliveries
#: (``$counted``: the counting services' codes) and the referrals still open on the day; a
#: province's waiting persons have many more of the others, each a row to carry and convert.
KEYED_COUNTING_DELIVERIES = (
    _KEYED_PERSONS + "(p)-[:RECEIVED]->(d:Delivery) WITH p, d WHERE d.delivered_on <= $as_of "
    "AND d.service_code IN $counted AND coalesce(d.outcome, '') <> $not_done "
    "RETURN p.id_number AS id_number, d.delivery_id AS delivery_id, d.service_code AS service_code, "
    "d.delivered_on AS delivered_on, d.outcome AS outcome, d.uscc AS uscc"
)
KEYED_OPEN_REFERRALS = (
    _KEYED_PERSONS + "(p)-[:HAS_REFERRAL]->(r:Referral) WITH p, r WHERE r.made_on <= $as_of "
    "AND (r.closed_on IS NULL OR r.closed_on > $as_of) RETURN " + _REFERRAL_COLUMNS
)
OFFERS = "MATCH (g:Org)-[:OFFERS]->(o:Offer) RETURN g.name AS org_name, " + _OFFER_COLUMNS
#: the offers held by one of ``$codes`` (:func:`offers_over`)
_OFFERS_OVER = ("MATCH (g:Org)-[:OFFERS]->(o:Offer) WHERE o.region_code IN $codes "
                "RETURN g.name AS org_name, " + _OFFER_COLUMNS)


@dataclass(frozen=True)
class PersonFacts:
    id_number: str
    name: str
    household_no: str
    region_code: str  # the household's village
    grade: int
    needs: tuple[str, ...]  # the registry's 需求 categories

    @property
    def severe(self) -> bool:
        return self.grade <= 2

    @property
    def born(self) -> dt.date | None:
        """The birth date in the ID number (None if it is not a date)."""
        try:
            return dt.date(int(self.id_number[6:10]), int(self.id_number[10:12]), int(self.id_number[12:14]))
        except ValueError:
            return None

    def age_on(self, day: dt.date) -> int | None:
        """Full years on ``day`` (None without a birth date)."""
        born = self.born
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class Assessment:
    need_id: str
    service_code: str | None
    category: str
    assessed_on: dt.date
    status: str
    source: str | None


@dataclass(frozen=True)
class DeliveryFact:
    delivery_id: str
    service_code: str
    category: str | None
    delivered_on: dt.date
    outcome: str
    uscc: str | None
    counts: bool


@dataclass
class Episode:
    """One need, from its confirmation until an assessment closes it (see the module docstring)."""

    need_id: str
    id_number: str
    category: str
    service_code: str | None
    confirmed_on: dt.date | None  # None: the registry's, not yet confirmed by an assessment
    source: str | None
    closed_on: dt.date | None = None

    def open_on(self, day: dt.date) -> bool:
        return (self.confirmed_on is None or self.confirmed_on <= day) and (self.closed_on is None or self.closed_on > day)

    def open_during(self, start: dt.date, end: dt.date) -> bool:
        """Open on at least one day of ``start`` … ``end``."""
        opened = self.confirmed_on or dt.date.min
        if self.closed_on is not None and self.closed_on <= opened:
            return False  # superseded on the day it was confirmed
        return opened <= end and (self.closed_on is None or self.closed_on > start)

    def covered_by(self, a: Assessment) -> bool:
        return (self.closed_on is None and self.category == a.category
                and (self.service_code is None or a.service_code is None or self.service_code == a.service_code))


def episodes(id_number: str, registry: Iterable[str], assessments: Sequence[Assessment]) -> list[Episode]:
    """A person's needs as episodes (see the module docstring), registry needs first."""
    out = [Episode(registry_need_id(id_number, c), id_number, c, None, None, NeedSource.REGISTRY.value)
           for c in registry]
    for a in sorted(assessments, key=lambda a: (a.assessed_on, a.need_id)):
        covered = [e for e in out if e.covered_by(a)]
        if a.status != NeedStatus.CONFIRMED:
            for e in covered:
                e.closed_on = a.assessed_on
            continue
        same = next((e for e in covered if e.service_code == a.service_code), None)
        for e in covered:
            if e is not same:
                e.closed_on = a.assessed_on
        if same is None:
            out.append(Episode(a.need_id, id_number, a.category, a.service_code, a.assessed_on, a.source))
        elif same.confirmed_on is None:
            same.need_id, same.confirmed_on, same.source = a.need_id, a.assessed_on, a.source
    return out


def due_on(episode: Episode, catalogue: Catalogue) -> dt.date | None:
    """The last day within the 办理时限 (None for a registry need not yet confirmed)."""
    if episode.confirmed_on is None:
        return None
    return episode.confirmed_on + dt.timedelta(days=catalogue.time_limit(episode.service_code, episode.category))


def counts(catalogue: Catalogue, service_code: str, outcome: str) -> bool:
    return catalogue.counted(service_code) and outcome != DeliveryOutcome.NOT_DONE


@functools.lru_cache(maxsize=100_000)
def _prefix(region_code: str) -> str:
    return region_prefix(region_code)


@functools.lru_cache(maxsize=100_000)
def _ancestry(village: str) -> tuple[str, ...]:
    """The village's code and its ancestors' (the reports ask for each of a region's needs)."""
    return (village, *region_ancestors(village))


def covers(region_code: str, village: str) -> bool:
    """Whether a region (an offer's) holds a village, or is it."""
    return village.startswith(_prefix(region_code))


@dataclass
class ServiceFacts:
    """The service facts of one scope on ``as_of``: each person with a need, their assessments,
    deliveries and referrals (dated up to ``as_of``), the catalogue and every offer."""

    as_of: dt.date
    catalogue: Catalogue
    persons: dict[str, PersonFacts] = field(default_factory=dict)
    assessments: dict[str, list[Assessment]] = field(default_factory=lambda: defaultdict(list))
    deliveries: dict[str, list[DeliveryFact]] = field(default_factory=lambda: defaultdict(list))
    referrals: dict[str, list[Referral]] = field(default_factory=lambda: defaultdict(list))
    offers: list[tuple[Offer, str]] = field(default_factory=list)  # (offer, the organisation's name)
    #: a past day's risk facts of the households changed since (``household_risk`` reads today's)
    risk_then: dict[str, risk.RiskFacts] = field(default_factory=dict)
    _by_region: dict[str, list[tuple[Offer, str, str | None]]] | None = field(default=None, repr=False)

    def episodes(self, id_number: str) -> list[Episode]:
        person = self.persons[id_number]
        return episodes(id_number, person.needs, self.assessments.get(id_number, []))

    def served(self, id_number: str, category: str, start: dt.date, end: dt.date) -> list[DeliveryFact]:
        """The person's counting deliveries of ``category`` dated ``start`` … ``end``."""
        return [d for d in self.deliveries.get(id_number, [])
                if d.counts and d.category == category and start <= d.delivered_on <= end]

    def open_referral(self, id_number: str, category: str, day: dt.date) -> bool:
        return any(r.category == category and r.open_on(day) for r in self.referrals.get(id_number, []))

    def overdue(self, episode: Episode, day: dt.date) -> bool:
        due = due_on(episode, self.catalogue)
        return (due is not None and episode.open_on(day) and day > due
                and not self.served(episode.id_number, episode.category, episode.confirmed_on, day))

    def offers_covering(self, village: str, category: str, day: dt.date,
                        service_code: str | None = None) -> list[tuple[Offer, str]]:
        """Active offers of the service (any of the category's when ``service_code`` is None) that
        cover the village (found by the village's own code and its ancestors': a few lookups, as a
        region asks this for each of its needs)."""
        if self._by_region is None:  # each offer's category looked up once, not once per need
            self._by_region = defaultdict(list)
            for o, name in self.offers:
                self._by_region[o.region_code].append((o, name, self.catalogue.category(o.service_code)))
        return [(o, name) for code in _ancestry(village) for o, name, of in self._by_region.get(code, ())
                if (o.service_code == service_code if service_code else of == category) and o.active_on(day)]


#: the member counts as the household keeps them (graph_schema/store/counts.py)
_HOUSEHOLD_RISK = (
    "UNWIND $keys AS k MATCH (h:Household {household_no: k}) "
    "RETURN h.household_no AS household_no, h.monitoring AS monitoring, h.tekun AS tekun, h.dibao AS dibao, "
    "h.elderly_carer AS elderly_carer, h.labour AS labour, h.disabled_count AS disabled, h.severe_count AS severe"
)


def household_risk(tx: Tx, household_nos: Sequence[str],
                   then: dict[str, risk.RiskFacts] | None = None) -> dict[str, risk.RiskFacts]:
    """The risk facts (``monitoring.risk``) of some households, in one keyed read; ``then``: a past
    day's facts of the households changed since (``ServiceFacts.risk_then``), which stand."""
    then = then or {}
    out = {h: then[h] for h in household_nos if h in then}
    household_nos = [h for h in household_nos if h not in then]
    for part in chunks(sorted(set(household_nos)), 20_000):
        for r in tx.run(_HOUSEHOLD_RISK, {"keys": list(part)}):
            out[r["household_no"]] = risk.RiskFacts(
                monitoring=r["monitoring"], tekun=r["tekun"], dibao=r["dibao"], elderly_carer=r["elderly_carer"],
                labour=r["labour"], disabled=int(r["disabled"] or 0), severe=int(r["severe"] or 0))
    return out


def _as_then(tx: Tx, facts: ServiceFacts, past: history.Past, prefix: str) -> set[str]:
    """Make the persons of the households changed since a past day as they were on it: today's
    out, the day's members in (grade, 需求 and village of the day), and the day's risk facts of
    those households kept. Returns the ID numbers now read that the scoped reads did not reach."""
    changed = affected_households(tx, past)
    reached = set(facts.persons)
    for number in [n for n, p in facts.persons.items() if p.household_no in changed]:
        del facts.persons[number]
    then = households_then(tx, past, changed, prefix)
    for household_no, members in members_then(tx, past, then).items():
        h = then[household_no]
        for p in members:
            facts.persons[p["id_number"]] = PersonFacts(p["id_number"], p["name"], household_no, h["region_code"],
                                                        p["grade"], tuple(p["needs"] or ()))
        disabled, severe = severity(members)
        facts.risk_then[household_no] = risk.RiskFacts(
            monitoring=h["monitoring"], tekun=h["tekun"], dibao=h["dibao"], elderly_carer=h["elderly_carer"],
            labour=h["labour"], disabled=disabled, severe=severe)
    return set(facts.persons) - reached


_PERSONS_BY_KEY = ("UNWIND $keys AS k MATCH (p:Person {id_number: k}) MATCH (h:Household {household_no: p.household_no}) "
                   f"RETURN {_PERSON_COLUMNS}")


def persons_by_key(tx: Tx, id_numbers: Iterable[str]) -> dict[str, PersonFacts]:
    """The persons of ``id_numbers`` as of today (a few rows a report shows)."""
    return {r["id_number"]: _person(r) for r in keyed_rows(tx, _PERSONS_BY_KEY, set(id_numbers))}


def _person(row: dict) -> PersonFacts:
    return PersonFacts(row["id_number"], row["name"], row["household_no"], row["region_code"], row["grade"],
                       tuple(row["needs"] or ()))


def load_facts(tx: Tx, prefix: str, as_of: dt.date, *, deliveries: bool = True, referrals: bool = False,
               offers: bool = False) -> ServiceFacts:
    """The scope's service facts (``prefix``: a region code prefix) in a few flat reads."""
    catalogue = catalogue_in(tx)
    facts = ServiceFacts(as_of, catalogue)
    params = {"prefix": prefix, "as_of": as_of}
    for row in tx.run(REGISTRY_NEEDS, {"prefix": prefix}):
        facts.persons[row["id_number"]] = _person(row)
    assessed = tx.run(ASSESSED_NEEDS, params)
    for row in assessed:
        if row["id_number"] not in facts.persons:
            facts.persons[row["id_number"]] = _person(row)
    past = history.past(tx, as_of)
    extra = _as_then(tx, facts, past, prefix) if past is not None else set()
    delivered = tx.run(DELIVERIES, params) if deliveries else []
    referred = tx.run(REFERRALS, params) if referrals else []
    if extra:
        assessed += keyed_rows(tx, KEYED_NEEDS, extra, params)
        delivered += keyed_rows(tx, KEYED_DELIVERIES, extra, params) if deliveries else []
        referred += keyed_rows(tx, KEYED_REFERRALS, extra, params) if referrals else []
    _fill(tx, facts, assessed, delivered, referred, offers)
    return facts


def facts_of(tx: Tx, persons: Iterable[dict], as_of: dt.date, *, deliveries: bool = True, referrals: bool = False,
             offers: bool = False, waiting_only: bool = False) -> ServiceFacts:
    """The service facts of some persons only (rows of person columns, as the state of today:
    ``graph_schema.service.simple_needs`` finds them), read by ID number. With ``waiting_only``,
    of their deliveries and referrals only those that decide whether a need waits on ``as_of``:
    the counting deliveries, and the referrals open on that day."""
    facts = ServiceFacts(as_of, catalogue_in(tx))
    for row in persons:
        facts.persons[row["id_number"]] = _person(row)
    keys, params = set(facts.persons), {"as_of": as_of}
    delivered, referred = (KEYED_DELIVERIES, KEYED_REFERRALS) if not waiting_only else (
        KEYED_COUNTING_DELIVERIES, KEYED_OPEN_REFERRALS)
    if waiting_only:
        params |= {"counted": sorted(c for c in facts.catalogue.types if facts.catalogue.counted(c)),
                   "not_done": DeliveryOutcome.NOT_DONE.value}
    _fill(tx, facts, keyed_rows(tx, KEYED_NEEDS, keys, {"as_of": as_of}) if keys else [],
          keyed_rows(tx, delivered, keys, params) if keys and deliveries else [],
          keyed_rows(tx, referred, keys, params) if keys and referrals else [], offers)
    return facts


def _fill(tx: Tx, facts: ServiceFacts, assessed: list[dict], delivered: list[dict], referred: list[dict],
          offers: bool) -> None:
    """Add the rows read to the facts of the persons they hold (and every offer, with ``offers``)."""
    catalogue = facts.catalogue
    for row in assessed:
        if row["id_number"] in facts.persons and row["need_id"] is not None:
            facts.assessments[row["id_number"]].append(Assessment(
                row["need_id"], row["service_code"], catalogue.category(row["service_code"], row["category"]),
                row["assessed_on"], row["status"], row["source"]))
    for row in delivered:
        if row["id_number"] in facts.persons and row["delivery_id"] is not None:
            facts.deliveries[row["id_number"]].append(DeliveryFact(
                row["delivery_id"], row["service_code"], catalogue.category(row["service_code"]),
                row["delivered_on"], row["outcome"], row["uscc"],
                counts(catalogue, row["service_code"], row["outcome"])))
    for row in referred:
        if row["id_number"] in facts.persons and row["referral_id"] is not None:
            facts.referrals[row["id_number"]].append(Referral.from_row(row))
    if offers:
        facts.offers = all_offers(tx)


def all_offers(tx: Tx) -> list[tuple[Offer, str]]:
    """Every offer, with its organisation's name (a province holds a few hundred)."""
    return [(Offer.from_row(row), row["org_name"]) for row in tx.run(OFFERS)]


def offers_over(tx: Tx, villages: Iterable[str]) -> list[tuple[Offer, str]]:
    """The offers that may cover ``villages`` (held by one of them or an ancestor), with their
    organisations' names: what :meth:`ServiceFacts.offers_covering` needs for a page's rows (on
    Neo4j every offer of a province, ~800 rows with their organisations, took 65 ms to carry)."""
    codes = sorted({code for village in villages for code in _ancestry(village)})
    return [(Offer.from_row(row), row["org_name"]) for row in tx.run(_OFFERS_OVER, {"codes": codes})] if codes else []
