"""Unmet needs: confirmed needs past their 办理时限 that nobody is handling, and who could.

A need of a person of the region is listed when, on ``as_of`` (definitions in
``graph_schema.service.facts``):

- it is open and overdue: confirmed by an assessment more than its service's 办理时限 before (the
  category's shortest for a need of a whole category), with no counting delivery of its category
  since its confirmation (a registry need is listed only once an assessment confirms it);
- and no referral of the person for its category is open (made, and not closed by then).

Each row names the providers in reach: organisations with an offer active on ``as_of`` of the
need's service (any service of its category for a need of a whole category) that covers the
person's village and has room (``offers.offer_room``), designated institutions (定点资质 valid on
``as_of``) first, then by room left (an unlimited offer first), then by code.

Ordered by the household's risk score (``monitoring.risk``), highest first, then the days past
the time limit, most first, then 户编号 and the need's id. ID numbers are shown masked.

The needs overdue on the day, and the persons the offers of the scope served, are read from the
counties' kept tallies (``graph_schema.service.tally``), the referrals open on it as they stand
(on Neo4j the page is ordered and cut on the server); only the page's persons, and the offers
over their villages, are read. A past day whose state has changed since reads and judges
every person of the region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema.identifiers import mask_id_number
from graph_schema.monitoring import risk
from graph_schema.monitoring.common import Report, as_of_or_today, scope_today
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.service import tally
from graph_schema.service.catalogue import catalogue_in
from graph_schema.service.facts import (
    Episode,
    PersonFacts,
    ServiceFacts,
    due_on,
    household_risk,
    load_facts,
    offers_over,
    persons_by_key,
)
from graph_schema.service.models import Offer
from graph_schema.service.offers import offer_room
from graph_schema.settings import get_settings
from graph_schema.store.base import Dialect, GraphStore, Tx


@dataclass(frozen=True)
class UnmetNeed:
    household_no: str
    region_code: str
    name: str
    id_masked: str
    category: str
    service_code: str | None
    confirmed_on: dt.date
    due_on: dt.date
    days_overdue: int
    risk_level: risk.RiskLevel
    risk_score: int
    providers: list[str]  # 名称（统一社会信用代码）：余量 or 不限, designated first
    need_id: str  # as GET /persons/{id}/needs lists it: what a referral names


def providers_in_reach(facts: ServiceFacts, village: str, category: str, service_code: str | None,
                       room: dict[str, int | None]) -> list[tuple[str, str, int | None, bool]]:
    """``(uscc, name, room, designated)`` of the organisations with an active offer covering the
    village that has room, best first (designated, most room, code); one line per organisation."""
    best: dict[str, tuple[str, str, int | None, bool]] = {}
    for offer, name in facts.offers_covering(village, category, facts.as_of, service_code):
        left = room.get(offer.offer_id)
        if left == 0:
            continue
        found = (offer.uscc, name, left, offer.designated_on(facts.as_of))
        if offer.uscc not in best or _rank(found) < _rank(best[offer.uscc]):
            best[offer.uscc] = found
    return sorted(best.values(), key=_rank)


def _rank(p: tuple[str, str, int | None, bool]) -> tuple:
    _, _, left, designated = p
    return (not designated, left is not None, -(left or 0), p[0])


def _shown(p: tuple[str, str, int | None, bool]) -> str:
    uscc, name, left, designated = p
    return f"{name}（{uscc}）{'定点' if designated else ''}：{'不限' if left is None else f'余{left}'}"


def unmet_needs(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                page: PageRequest = PageRequest(), **_) -> Page[UnmetNeed]:
    as_of = as_of_or_today(as_of)

    _, prefix, current = scope_today(store, region, as_of)
    # the state of today: the needs overdue on the day, and the persons the offers of the scope
    # served, from the counties' kept tallies
    builds = tally.current_builds(store, prefix, as_of.year) if current else None

    def work(tx: Tx) -> Page[UnmetNeed]:
        if builds is None:
            facts, waiting = _waiting(tx, region, as_of)
            return Page(_rows(tx, facts, waiting[page.skip:page.skip + page.page_size]), len(waiting), page.page,
                        page.page_size)
        params = {"builds": sorted(builds.values()), "prefix": prefix, "as_of": as_of}
        total, page_rows = (_kept_page_on_server if tx.dialect is Dialect.NEO4J else _kept_page)(tx, params, page)
        persons = persons_by_key(tx, [r["id_number"] for _, _, r in page_rows])
        shown = [(score, days, persons[r["id_number"]], _episode(r)) for score, days, r in page_rows]
        facts = ServiceFacts(as_of, catalogue_in(tx), offers=offers_over(tx, {p.region_code for _, _, p, _ in shown}))
        asked = [o for _, o in sorted(_asked(facts, shown).items())]
        room = offer_room(tx, asked, as_of, facts.catalogue, tally.served(tx, builds, prefix, asked, as_of))
        return Page(_rows(tx, facts, shown, room), total, page.page, page.page_size)

    return store.read(work)


#: every referral open on the day, for LadybugDB's ordering in Python (a province holds a few
#: thousand: one scan; the engine indexes only primary keys, so no referral is sought by person)
_OPEN_REFERRALS = ("MATCH (r:Referral) WHERE r.made_on <= $as_of AND (r.closed_on IS NULL OR r.closed_on > $as_of) "
                   "RETURN r.id_number AS id_number, r.category AS category")
#: On Neo4j: the needs overdue on the day without an open referral of their category, each with its
#: household's risk score, as ``t`` and ``score``, to be ordered, counted and cut on the server:
#: carrying a province's 18k overdue needs and 13k households' facts to order them here took 1.6 s
#: of the report's 2.3 s (the driver decodes each record in Python)
_KEPT_SCORED_NEO4J = (
    tally.OVERDUE_ON_DAY
    + "AND NOT EXISTS { MATCH (r:Referral) WHERE r.id_number = t.id_number AND r.category = t.category "
      "AND r.made_on <= $as_of AND (r.closed_on IS NULL OR r.closed_on > $as_of) } "
      "MATCH (h:Household {household_no: t.household_no}) "
      "WITH t, h, h.disabled_count AS disabled, h.severe_count AS severe "
      "WITH t, " + risk.SCORE + " AS score "
)
_KEPT_COLUMNS = {**tally.OVERDUE_COLUMNS, "score": "score"}


def _episode(row: dict) -> Episode:
    return Episode(row["need_id"], row["id_number"], row["category"], row["service_code"], row["confirmed_on"], None)


def _kept_page(tx: Tx, params: dict, page: PageRequest) -> tuple[int, list[tuple[int, int, dict]]]:
    """How many needs are overdue on the day (``tally.overdue_needs``) without an open referral of
    their category, and the page's as ``(risk score, days overdue, row)``, in the report's order."""
    weights, as_of = get_settings().risk, params["as_of"]
    referred = {(r["id_number"], r["category"]) for r in tx.run(_OPEN_REFERRALS, {"as_of": as_of})}
    rows = [r for r in tally.overdue_needs(tx, **params) if (r["id_number"], r["category"]) not in referred]
    risks = household_risk(tx, [r["household_no"] for r in rows])
    scored = [(risk.score(risks[r["household_no"]], weights), (as_of - r["due_on"]).days, r) for r in rows]
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]["household_no"], s[2]["need_id"]))
    return len(scored), scored[page.skip:page.skip + page.page_size]


def _kept_page_on_server(tx: Tx, params: dict, page: PageRequest) -> tuple[int, list[tuple[int, int, dict]]]:
    """:func:`_kept_page` on Neo4j, ordered and cut on the server (the most days overdue first is
    the earliest due day first)."""
    total, rows = tx.ordered_page(_KEPT_SCORED_NEO4J, _KEPT_COLUMNS, "score DESC, due_on, household_no, need_id",
                                  params | risk.score_params(get_settings().risk), page.skip, page.page_size)
    return total, [(r["score"], (params["as_of"] - r["due_on"]).days, r) for r in rows]


def unmet_in(tx: Tx, region: str, as_of: dt.date) -> list[UnmetNeed]:
    """The region's unmet needs in the report's order, every person of the region read and judged
    (the reference the tests hold the kept tallies to)."""
    facts, waiting = _waiting(tx, region, as_of)
    return _rows(tx, facts, waiting)


def _waiting(tx: Tx, region: str, as_of: dt.date) -> tuple[ServiceFacts, list[tuple[int, int, PersonFacts, Episode]]]:
    """Every person's facts of the region (for a past day whose state changed since: as remade
    from the history), and the unmet needs as ``(risk score, days overdue, person, need)`` in the
    report's order, before their providers are found: those are looked up for the rows shown only."""
    weights = get_settings().risk
    _, prefix = resolve_scope(tx, region)
    facts = load_facts(tx, prefix, as_of, referrals=True, offers=True)
    waiting = [(person, e) for number, person in facts.persons.items() for e in facts.episodes(number)
               if facts.overdue(e, as_of) and not facts.open_referral(number, e.category, as_of)]
    risks = household_risk(tx, [p.household_no for p, _ in waiting], facts.risk_then)
    scored = [(risk.score(risks[p.household_no], weights), (as_of - due_on(e, facts.catalogue)).days, p, e)
              for p, e in waiting]
    scored.sort(key=lambda r: (-r[0], -r[1], r[2].household_no, r[3].need_id))
    return facts, scored


def _asked(facts: ServiceFacts, waiting: list[tuple[int, int, PersonFacts, Episode]]) -> dict[str, Offer]:
    """The offers the providers of the rows of ``waiting`` are chosen from (active, over the row's
    village, of its need's service or category): only their room is counted, not every offer's
    over the villages (an offer's room does not depend on which others are counted)."""
    return {o.offer_id: o for _, _, p, e in waiting
            for o, _ in facts.offers_covering(p.region_code, e.category, facts.as_of, e.service_code)}


def _rows(tx: Tx, facts: ServiceFacts, waiting: list[tuple[int, int, PersonFacts, Episode]],
          room: dict[str, int | None] | None = None) -> list[UnmetNeed]:
    """The rows of ``waiting`` (from :func:`_waiting`), each with the providers in reach that have
    room (``room``: the :func:`_asked` offers', counted here when not given)."""
    weights, as_of = get_settings().risk, facts.as_of
    if room is None:
        room = offer_room(tx, [o for _, o in sorted(_asked(facts, waiting).items())], as_of, facts.catalogue)
    return [UnmetNeed(
        need_id=e.need_id, id_masked=mask_id_number(person.id_number), name=person.name,
        household_no=person.household_no, region_code=person.region_code, category=e.category,
        service_code=e.service_code, confirmed_on=e.confirmed_on, due_on=due_on(e, facts.catalogue),
        days_overdue=days, risk_level=risk.level(score, weights), risk_score=score,
        providers=[_shown(p) for p in providers_in_reach(facts, person.region_code, e.category, e.service_code,
                                                          room)])
        for score, days, person, e in waiting]


UNMET_NEEDS = Report(
    name="unmet-needs", title="逾期未满足的服务需求 / overdue needs nobody is handling", row=UnmetNeed,
    headers={"household_no": "户编号", "region_code": "区划代码", "name": "姓名", "id_masked": "身份证号",
             "category": "类别", "service_code": "服务编码", "confirmed_on": "确认日期",
             "due_on": "办理期限", "days_overdue": "逾期天数", "risk_level": "风险等级", "risk_score": "风险分值",
             "providers": "可转介机构", "need_id": "需求编号"},
    run=unmet_needs, organisers_only=True)
