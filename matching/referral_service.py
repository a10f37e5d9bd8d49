"""The referral matcher over the store: propose referrals for a region's waiting needs, confirm them.

``propose_referrals`` reads the region's service facts in one read transaction (the service's own
reads: ``graph_schema.service``), builds the problem of :mod:`matching.referrals`, solves it and
explains each referral; it writes nothing. A need *waits* on ``as_of`` when it is open, has no
open referral of its category, and has had no counting delivery of its category since its
confirmation (a registry need, which has none: since 1 January); the store counts those of the
persons with simple needs that no active offer could cover, and names the other persons, whose
needs are read and folded here (``graph_schema.service.simple_needs``). ``confirm_referrals``
makes the referrals an organiser accepted in one write transaction, re-checking every rule there
(the need still open and not referred, the organisation's offer still covering the person, the
offer's room), so one the graph no longer allows is refused on its own, with its reason, while
the rest are made; confirming twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from graph_schema import history
from graph_schema.enums import ServiceCategory
from graph_schema.errors import InvalidValue, JieduiError, NotFound, OfferFull
from graph_schema.identifiers import RegionLevel, region_level, region_parent
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.region.service import regions_in, resolve_scope
from graph_schema.service.catalogue import catalogue_in
from graph_schema.service.facts import Episode, ServiceFacts, all_offers, facts_of, household_risk, load_facts
from graph_schema.service.models import Referral
from graph_schema.service.offers import offer_room, offers_in
from graph_schema.service.referrals import ReferralRequest, decide_referrals, load_referral_state, write_referrals
from graph_schema.service.simple_needs import waiting_counts
from graph_schema.settings import get_settings
from graph_schema.store.base import GraphStore, Tx
from matching.referral_proposal import (
    NoOfferNeeds,
    ProposedReferral,
    ReferralProposal,
    ReferralSummary,
    UnassignedNeed,
)
from matching.referrals import ReferralProblem, solve_referrals

#: how many levels an offer's region lies above a village
_TIER = {RegionLevel.VILLAGE: 0, RegionLevel.TOWNSHIP: 1, RegionLevel.COUNTY: 2, RegionLevel.CITY: 3,
         RegionLevel.PROVINCE: 4}
_TIER_TEXT = ("本村", "本乡镇", "本县", "本市", "全省")
_ORDER = {c.value: i for i, c in enumerate(ServiceCategory)}  # categories in the catalogue's order


def waiting(facts: ServiceFacts, day: dt.date) -> list[Episode]:
    """The needs that wait on ``day`` (see the module docstring), by person then need."""
    year = dt.date(day.year, 1, 1)
    out = []
    for number in sorted(facts.persons):
        for e in facts.episodes(number):
            if (e.open_on(day) and not facts.open_referral(number, e.category, day)
                    and not facts.served(number, e.category, e.confirmed_on or year, day)):
                out.append(e)
    return out


@dataclass
class WaitingNeeds:
    """A scope's waiting needs in two parts: the service facts of the persons read, and the
    waiting needs the store counted per (village, category) without reading their persons (those
    no active offer could cover, of the persons with simple needs); ``counted`` names the persons
    read whose needs without an offer are among those counts."""

    facts: ServiceFacts
    no_offer: dict[tuple[str, str], int] = field(default_factory=dict)
    counted: set[str] = field(default_factory=set)


def waiting_needs(tx: Tx, prefix: str, day: dt.date, *, in_store: bool = True) -> WaitingNeeds:
    """The waiting needs' facts and counts: with ``in_store`` (and unless the day is a past one
    whose state changed since), split as ``WaitingNeeds`` says, and of the persons read only the
    counting deliveries and the open referrals; without, every person of the scope read and
    nothing counted (the reference the tests hold the split to)."""
    if not in_store or history.past(tx, day) is not None:
        return WaitingNeeds(load_facts(tx, prefix, day, referrals=True, offers=True))
    offers = all_offers(tx)
    catalogue = catalogue_in(tx)
    covered = sorted({f"{o.region_code}|{subject}" for o, _ in offers if o.active_on(day)
                      for subject in (o.service_code, catalogue.category(o.service_code)) if subject})
    rows = waiting_counts(tx, prefix, day, covered)
    read = {r["id_number"]: r for r in rows if r["id_number"] is not None}
    no_offer: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        if r["id_number"] is None:
            no_offer[r["village"], r["category"]] += r["waiting"]
    facts = facts_of(tx, [read[k] for k in sorted(read)], day, referrals=True, waiting_only=True)
    facts.offers = offers
    return WaitingNeeds(facts, dict(no_offer), {k for k, r in read.items() if r["assessments"] <= 1})


def propose_referrals(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                      solver: str = "ortools") -> ReferralProposal:
    """The optimal referral proposal for the region's waiting needs (writes nothing).

    Only the needs some active offer covers enter the flow and have their household's risk read;
    the others (``NO_OFFER``) are counted per township and category."""
    day = as_of or today()
    weights = get_settings().risk

    def work(tx: Tx):
        code, prefix = resolve_scope(tx, region)
        split = waiting_needs(tx, prefix, day)
        facts = split.facts
        active = [(o, name) for o, name in facts.offers if o.active_on(day)]
        offered = {facts.catalogue.category(o.service_code) for o, _ in active}
        reachable, no_offer = [], defaultdict(int)
        for e in waiting(facts, day):
            village = facts.persons[e.id_number].region_code
            covering = (facts.offers_covering(village, e.category, day, e.service_code)
                        if e.service_code or e.category in offered else [])
            if covering:
                reachable.append((e, covering))
            elif e.id_number not in split.counted:
                no_offer[region_parent(village), e.category] += 1
        for (village, category), n in split.no_offer.items():
            no_offer[region_parent(village), category] += n
        # the room of the offers in reach only: counting what an offer has served reads its
        # organisation's deliveries, and a county's proposal would count the whole province's
        in_reach = {o.offer_id: (o, name) for _, covering in reachable for o, name in covering}
        room = offer_room(tx, [o for o, _ in in_reach.values()], day, facts.catalogue)
        risks = household_risk(tx, [facts.persons[e.id_number].household_no for e, _ in reachable], facts.risk_then)
        names = regions_in(tx, sorted({township for township, _ in no_offer}))
        return code, facts, reachable, no_offer, names, in_reach, room, risks

    code, facts, reachable, no_offer, region_names, names, room, risks = store.read(work)
    needs = [e for e, _ in reachable]
    scores = [risk.score(risks[facts.persons[e.id_number].household_no], weights) for e in needs]
    reach = [[(o.offer_id, _TIER[region_level(o.region_code)], o.designated_on(day))
              for o, _ in covering if room.get(o.offer_id) != 0] for _, covering in reachable]
    problem = ReferralProblem.of([(e.need_id, s, r) for e, s, r in zip(needs, scores, reach)],
                                 {offer_id: room[offer_id] for offer_id in names})
    assignment = solve_referrals(problem, solver)
    referrals, unassigned = [], []
    for i, e in enumerate(needs):  # built from values made here: no need to validate each row again
        person = facts.persons[e.id_number]
        level = risk.level(scores[i], weights).value
        common = {"need_id": e.need_id, "id_number": e.id_number, "household_no": person.household_no,
                  "region_code": person.region_code, "category": e.category, "service_code": e.service_code,
                  "risk_score": scores[i], "risk_level": level}
        if assignment.offer[i] < 0:
            unassigned.append(UnassignedNeed.model_construct(
                **common, reason_code="NO_ROOM", reason="覆盖该村的服务供给已满或已分给风险更高的需求"))
            continue
        arc = assignment.arc[i]
        offer, org_name = names[problem.offers[assignment.offer[i]]]
        tier, designated = int(problem.arc_tier[arc]), bool(problem.arc_designated[arc])
        cost = int(assignment.units.designation * (not designated) + assignment.units.distance * tier)
        reasons = [f"风险{level}（{scores[i]}分）", f"{offer.service_code}，{_TIER_TEXT[tier]}范围的供给",
                   "定点机构" if designated else "非定点机构（定点机构无覆盖或已满）",
                   "容量不限" if room[offer.offer_id] is None else f"本年度余量{room[offer.offer_id]}"]
        referrals.append(ProposedReferral.model_construct(
            **common, name=person.name, confirmed_on=e.confirmed_on, uscc=offer.uscc, org_name=org_name,
            offer_id=offer.offer_id, designated=designated, tier=tier, room=room[offer.offer_id], cost=cost,
            reasons=reasons))
    counted = [NoOfferNeeds(region_code=township, region_name=getattr(region_names.get(township), "name", None),
                            category=category, needs=n)
               for (township, category), n in sorted(no_offer.items(), key=lambda kv: (kv[0][0], _ORDER.get(
                   kv[0][1], len(_ORDER))))]
    summary = ReferralSummary(
        needs=len(needs) + sum(no_offer.values()), referred=len(referrals),
        designated=sum(r.designated for r in referrals), unassigned=len(unassigned) + sum(no_offer.values()),
        no_offer=sum(no_offer.values()), no_room=len(unassigned))
    return ReferralProposal(id=uuid.uuid4().hex, scope=code, as_of=day, solver=solver, objective=assignment.cost,
                            created_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
                            referrals=referrals, unassigned=unassigned, no_offer=counted,
                            deserts=f"jiedui report service-deserts --region {code} --as-of {day}", summary=summary)


@dataclass
class ReferralConfirmation:
    made: list[Referral] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # need ids this proposal had referred already
    refused: list[tuple[str, JieduiError]] = field(default_factory=list)  # (need id, why)


def confirm_referrals(*, store: GraphStore, proposal: ReferralProposal, made_by: str,
                      only: Collection[str] | None = None) -> ReferralConfirmation:
    """Make the proposal's referrals (all, or those of the need ids in ``only``), dated today."""
    wanted = set(only) if only is not None else None
    if wanted is not None:
        unknown = sorted(wanted - {r.need_id for r in proposal.referrals})
        if unknown:
            listed = "、".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
            raise InvalidValue("only", listed, f"方案中没有这些需求：{listed}", f"not in the proposal: {listed}")
    chosen = [r for r in proposal.referrals if wanted is None or r.need_id in wanted]
    day = today()

    def work(tx: Tx) -> ReferralConfirmation:
        result = ReferralConfirmation()
        state = load_referral_state(tx, [r.id_number for r in chosen], [r.uscc for r in chosen])
        offers = offers_in(tx, sorted({r.offer_id for r in chosen}))
        room = offer_room(tx, list(offers.values()), day, state.catalogue)
        made: list[Referral] = []
        for r in chosen:
            open_ = [x for x in state.referrals.get(r.id_number, []) if x.need_id == r.need_id and x.status.open]
            if any(x.proposal_id == proposal.id for x in open_):
                result.unchanged.append(r.need_id)
                continue
            if r.offer_id not in offers:
                result.refused.append((r.need_id, NotFound("服务供给", "offer", r.offer_id)))
                continue
            done, decided = decide_referrals(state, [ReferralRequest(
                id_number=r.id_number, need_id=r.need_id, provider_uscc=r.uscc, made_on=day, made_by=made_by,
                proposal_id=proposal.id)])
            if decided.errors:
                result.refused.append((r.need_id, decided.errors[0][1]))
                continue
            if room[r.offer_id] is not None:
                if room[r.offer_id] <= 0:  # the referral rules hold, but the offer is full
                    state.referrals[r.id_number].remove(done[0])
                    result.refused.append((r.need_id, OfferFull(r.offer_id)))
                    continue
                room[r.offer_id] -= 1
            made += done
        write_referrals(tx, made)
        result.made = made
        return result

    return store.write(work)
