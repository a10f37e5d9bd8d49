"""Referrals (转介): a person's need sent to a provider, and the provider's answer.

``(Person)-[:HAS_REFERRAL]->(Referral)``, and ``(Referral)-[:REFERRED_TO]->(Org)`` when the
provider is an organisation (a department is a property). Rules, checked inside the transaction
after locking the persons:

- the need is open on the referral's date (a need id as the person's needs list it: an
  assessment's, or the registry's for a category the registry records);
- the need has no open referral already (confirming a proposal twice changes nothing);
- an organisation has an offer active on that date, of the need's service (any service of its
  category, for a need of a whole category), covering the person's village; a department needs
  none;
- the due date is the referral's date plus the service's 办理时限 (the category's shortest).

Status: 待接收 → 已接收 (the provider accepts) → 已完成 (a counting delivery of its category,
``deliveries.py``); 待接收 or 已接收 → 已拒绝 (the provider) or 已撤回 (the organiser), with a reason
from the closed list. A closed referral never reopens; each change keeps the previous values
as a revision.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.enums import ReferralReason, ReferralStatus, ServiceDept
from graph_schema.errors import (
    DateOrder,
    FutureDate,
    InvalidValue,
    JieduiError,
    NeedNotOpen,
    NoOffer,
    NotFound,
    ReferralExists,
    ReferralStatusConflict,
)
from graph_schema.models import IdNumber, Key, Model, OptionalText, Uscc, today
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import BatchResult, fetch_by_keys, upsert_nodes
from graph_schema.region.service import scope_prefix
from graph_schema.service.catalogue import Catalogue, catalogue_in
from graph_schema.service.facts import Assessment, Episode, covers, episodes
from graph_schema.service.models import Offer, Referral
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, keyed
from graph_schema.store.schema import HAS_REFERRAL, OFFER, ORG, PERSON, REFERRAL, REFERRED_TO

_COLUMNS = ", ".join(f"r.{c} AS {c}" for c in REFERRAL.columns)
_PERSON_FACTS = ("UNWIND $keys AS k MATCH (p:Person {id_number: k}) OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household) "
                 "RETURN p.id_number AS id_number, p.needs AS needs, h.region_code AS village")
_ASSESSMENTS = ("UNWIND $keys AS k MATCH (p:Person {id_number: k}) OPTIONAL MATCH (p)-[:HAS_NEED]->(n:Need) "
                "RETURN p.id_number AS id_number, n.need_id AS need_id, n.service_code AS service_code, "
                "n.category AS category, n.assessed_on AS assessed_on, n.status AS status, n.source AS source")
_OFFER_COLUMNS = ", ".join(f"o.{c} AS {c}" for c in OFFER.columns)
_ORG_OFFERS = ("UNWIND $keys AS k MATCH (g:Org {uscc: k}) OPTIONAL MATCH (g)-[:OFFERS]->(o:Offer) RETURN g.uscc AS org, "
               + _OFFER_COLUMNS)


class ReferralRequest(Model):
    """Send a person's need (``need_id`` as their needs list it) to an organisation or a department."""

    id_number: IdNumber
    need_id: Key
    provider_uscc: Uscc | None = None
    provider_dept: ServiceDept | None = None
    made_on: dt.date = Field(default_factory=today)
    made_by: Key
    note: OptionalText = None
    proposal_id: Key | None = None


def referrals_in(tx: Tx, id_numbers: Sequence[str]) -> dict[str, list[Referral]]:
    """Each person's referrals, oldest first (callers scope the persons)."""
    start, params = keyed(PERSON, "p", id_numbers)
    rows = tx.run(f"{start} {FROM_KEY} (p)-[:HAS_REFERRAL]->(r:Referral) RETURN p.id_number AS person, "
                  f"{_COLUMNS} ORDER BY made_on, referral_id", params)
    out: dict[str, list[Referral]] = {k: [] for k in id_numbers}
    for r in rows:
        if r["referral_id"] is not None:
            out[r["person"]].append(Referral.from_row(r))
    return out


@dataclass
class ReferralState:
    """What the referral rules look at, loaded once for a batch (so a proposal's confirmation and
    a single referral decide alike)."""

    catalogue: Catalogue
    villages: dict[str, str | None]  # id_number → the household's village
    registry: dict[str, list[str]]  # id_number → the 需求 column
    assessments: dict[str, list[Assessment]]
    referrals: dict[str, list[Referral]]
    offers: dict[str, list[Offer]]  # uscc → its offers (only organisations that exist)

    def episode(self, id_number: str, need_id: str, day: dt.date) -> Episode | None:
        seen = [a for a in self.assessments.get(id_number, []) if a.assessed_on <= day]
        return next((e for e in episodes(id_number, self.registry[id_number], seen)
                     if e.need_id == need_id and e.open_on(day)), None)


def load_referral_state(tx: Tx, id_numbers: Sequence[str], usccs: Sequence[str], *, lock: bool = True) -> ReferralState:
    numbers = sorted(set(id_numbers))
    if lock:
        tx.lock(PERSON, numbers)
    catalogue = catalogue_in(tx)
    villages, registry = {}, {}
    for r in tx.run(_PERSON_FACTS, {"keys": numbers}):
        villages[r["id_number"]], registry[r["id_number"]] = r["village"], list(r["needs"] or [])
    assessments: dict[str, list[Assessment]] = defaultdict(list)
    for r in tx.run(_ASSESSMENTS, {"keys": numbers}):
        if r["need_id"] is not None:
            assessments[r["id_number"]].append(Assessment(
                r["need_id"], r["service_code"], catalogue.category(r["service_code"], r["category"]),
                r["assessed_on"], r["status"], r["source"]))
    offers: dict[str, list[Offer]] = {}
    for r in tx.run(_ORG_OFFERS, {"keys": sorted(set(usccs))}):
        offers.setdefault(r["org"], [])
        if r["offer_id"] is not None:
            offers[r["org"]].append(Offer.from_row(r))
    return ReferralState(catalogue, villages, registry, assessments, referrals_in(tx, numbers) if numbers else {},
                         offers)


def decide_referrals(state: ReferralState, requests: Sequence[ReferralRequest]) -> tuple[list[Referral], BatchResult]:
    """Apply the rules in order (see the module docstring), updating ``state``; nothing is written."""
    made: list[Referral] = []
    result = BatchResult()
    for index, request in enumerate(requests):
        try:
            referral = _decide(state, request)
        except JieduiError as exc:
            result.errors.append((index, exc))
            continue
        state.referrals.setdefault(request.id_number, []).append(referral)
        made.append(referral)
        result.created.append(referral.referral_id)
    return made, result


def _decide(state: ReferralState, request: ReferralRequest) -> Referral:
    day, number = request.made_on, request.id_number
    if day > today():
        raise FutureDate("转介日期", day)
    if (request.provider_uscc is None) == (request.provider_dept is None):
        raise InvalidValue("转介对象", "", "须为一个组织或一个部门", "name one organisation or one department")
    if number not in state.villages:
        raise NotFound("残疾人", "person", number)
    episode = state.episode(number, request.need_id, day)
    if episode is None:
        raise NeedNotOpen(request.need_id, day)
    already = next((r for r in state.referrals.get(number, [])
                    if r.need_id == request.need_id and r.status.open), None)
    if already is not None:
        raise ReferralExists(request.need_id, already.referral_id)
    if request.provider_uscc:
        offers = state.offers.get(request.provider_uscc)
        if offers is None:
            raise NotFound("社会组织", "organisation", request.provider_uscc)
        village = state.villages[number] or ""
        if not any(o.active_on(day) and covers(o.region_code, village)
                   and (o.service_code == episode.service_code if episode.service_code
                        else state.catalogue.category(o.service_code) == episode.category) for o in offers):
            raise NoOffer(request.provider_uscc, episode.category, day)
    limit = state.catalogue.time_limit(episode.service_code, episode.category)
    return Referral(
        referral_id=uuid.uuid4().hex, need_id=request.need_id, id_number=number, category=episode.category,
        service_code=episode.service_code, provider_uscc=request.provider_uscc, provider_dept=request.provider_dept,
        made_on=day, made_by=request.made_by, due_on=day + dt.timedelta(days=limit), note=request.note,
        proposal_id=request.proposal_id)


def write_referrals(tx: Tx, referrals: Sequence[Referral]) -> None:
    tx.create_nodes(REFERRAL, [r.to_row() for r in referrals])
    tx.create_rels(HAS_REFERRAL, PERSON, REFERRAL, [{"src": r.id_number, "dst": r.referral_id} for r in referrals])
    tx.create_rels(REFERRED_TO, REFERRAL, ORG, [{"src": r.referral_id, "dst": r.provider_uscc}
                                                for r in referrals if r.provider_uscc])


def refer_many(*, store: GraphStore, requests: Sequence[ReferralRequest]) -> BatchResult:
    """Make referrals in one transaction: the refused ones are in ``errors`` (by index), the others
    are made."""

    def work(tx: Tx) -> BatchResult:
        state = load_referral_state(tx, [r.id_number for r in requests],
                                    [r.provider_uscc for r in requests if r.provider_uscc])
        made, result = decide_referrals(state, requests)
        write_referrals(tx, made)
        return result

    return store.write(work)


def refer(*, store: GraphStore, request: ReferralRequest) -> Referral:
    """Make one referral or raise the rule it breaks."""

    def work(tx: Tx) -> Referral:
        state = load_referral_state(tx, [request.id_number], [request.provider_uscc] if request.provider_uscc else [])
        made, result = decide_referrals(state, [request])
        if result.errors:
            raise result.errors[0][1]
        write_referrals(tx, made)
        return made[0]

    return store.write(work)


def get_referral_in(tx: Tx, referral_id: str) -> Referral | None:
    found = fetch_by_keys(tx, REFERRAL, [referral_id], REFERRAL.columns)
    return Referral.from_row(found[referral_id]) if referral_id in found else None


def _change(store: GraphStore, referral_id: str, on: dt.date | None, action: tuple[str, str],
            allowed: tuple[ReferralStatus, ...], update: dict) -> Referral:
    day = on or today()
    if day > today():
        raise FutureDate("日期", day)

    def work(tx: Tx) -> Referral:
        tx.lock(REFERRAL, [referral_id])
        referral = get_referral_in(tx, referral_id)
        if referral is None:
            raise NotFound("转介", "referral", referral_id)
        if referral.status not in allowed:
            raise ReferralStatusConflict(referral_id, referral.status.value, *action)
        if day < referral.made_on:
            raise DateOrder(f"日期 {day} 早于转介日期 {referral.made_on}",
                            f"{day} is before the referral was made ({referral.made_on})")
        changed = referral.model_copy(update={k: (day if v is _DAY else v) for k, v in update.items()})
        upsert_nodes(tx, REFERRAL, [changed.to_row()])
        return changed

    return store.write(work)


_DAY = object()
_OPEN = (ReferralStatus.PENDING, ReferralStatus.ACCEPTED)


def accept_referral(*, store: GraphStore, referral_id: str, on: dt.date | None = None) -> Referral:
    """The provider accepts a referral waiting for it (待接收 → 已接收)."""
    return _change(store, referral_id, on, ("接收", "accepted"), (ReferralStatus.PENDING,),
                   {"status": ReferralStatus.ACCEPTED, "accepted_on": _DAY})


def reject_referral(*, store: GraphStore, referral_id: str, reason: ReferralReason, note: str | None = None,
                    on: dt.date | None = None) -> Referral:
    """The provider turns an open referral down (→ 已拒绝), with a reason."""
    return _change(store, referral_id, on, ("拒绝", "rejected"), _OPEN,
                   {"status": ReferralStatus.REJECTED, "closed_on": _DAY, "reason": reason, "note": note})


def withdraw_referral(*, store: GraphStore, referral_id: str, reason: ReferralReason, note: str | None = None,
                      on: dt.date | None = None) -> Referral:
    """The organiser withdraws an open referral (→ 已撤回), with a reason."""
    return _change(store, referral_id, on, ("撤回", "withdrawn"), _OPEN,
                   {"status": ReferralStatus.WITHDRAWN, "closed_on": _DAY, "reason": reason, "note": note})


def list_referrals(*, store: GraphStore, scope: Scope = EVERYTHING, region: str | None = None,
                   status: ReferralStatus | None = None, page: PageRequest = PageRequest()) -> Page[Referral]:
    """Referrals, by date made then id: an organisation's scope holds those sent to it; a region
    scope those of the persons under ``region`` (default the scope's own); a cadre's none."""
    if scope.uscc:
        match = "MATCH (r:Referral)-[:REFERRED_TO]->(:Org {uscc: $scope_org})"
        params: dict = dict(scope.params)
    elif scope.cadre_no:
        match = "MATCH (r:Referral) WHERE false"
        params = {}
    else:
        prefix = scope_prefix(region) if region else scope.prefix
        if not scope.holds_region(prefix):
            raise NotFound("区划", "region", region or "")
        match = ("MATCH (v:Region) WHERE v.code STARTS WITH $prefix MATCH (h:Household)-[:IN_REGION]->(v) "
                 "MATCH (p:Person)-[:MEMBER_OF]->(h) MATCH (p)-[:HAS_REFERRAL]->(r:Referral)")
        params = {"prefix": prefix}
    if status is not None:
        match += " WITH r WHERE r.status = $status"
        params["status"] = status.value
    return store.read(lambda tx: page_of(tx, match, "r", _COLUMNS, "made_on, referral_id", params, page,
                                         Referral.from_row))
