"""The changes users make through the service, shared by REST and GraphQL.

Each operation checks the role may do it at all (Forbidden), checks in the store that every object
it names lies in the caller's scope (NotFound otherwise, as if it did not exist), calls the one
service that does the work, and records the change in the audit trail before it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

from api.auth import ORGANISERS, READERS, Caller
from graph_schema.access import accounts
from graph_schema.access.models import EVERYTHING, Role, Scope
from graph_schema.access.service import Forbidden
from graph_schema.claims.models import Claim
from graph_schema.cadre.service import cadres_in
from graph_schema.enums import ExclusionReason, LedgerKind, NeedSource, ReferralReason
from graph_schema.errors import InvalidValue, JieduiError, NotFound
from graph_schema.household.service import households_in, persons_in
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger import service as ledger
from graph_schema.org import joining
from graph_schema.org.service import orgs_in
from graph_schema.pairing import exclusions, flows, requests
from graph_schema.pairing import service as pairing
from graph_schema.pairing.models import AuxPairing, AuxRequest, Pairing
from graph_schema.records import BatchResult
from graph_schema.region.service import scope_prefix
from graph_schema.service import catalogue as services_catalogue
from graph_schema.service import deliveries, needs, offers, referrals
from graph_schema.service.models import Delivery, Need, Offer, Referral, ServiceType
from graph_schema.service.referrals import ReferralRequest
from importers import claims
from matching import service as matching
from matching.candidates import Reach
from matching.proposal import Change, Proposal

T = TypeVar("T")
#: who may read auxiliary pairing requests: an organisation its own, organisers and portals their region's
AUX_REQUEST_READERS = (*READERS, Role.ORG)

#: the ledger kinds each acting role may record
CADRE_KINDS = frozenset(LedgerKind) - {LedgerKind.DONATION, LedgerKind.VOLUNTEER}
ORG_KINDS = frozenset(LedgerKind) - {LedgerKind.POLICY}


def require_households(who: Caller, household_nos: Collection[str], scope: Scope | None = None) -> None:
    """NotFound for the first household that does not exist or lies outside the scope."""
    scope = scope or who.scope
    found = who.store.read(lambda tx: households_in(tx, sorted(set(household_nos)), scope))
    missing = sorted(set(household_nos) - set(found))
    if missing:
        raise NotFound("家庭", "household", missing[0])


def require_cadres(who: Caller, cadre_nos: Collection[str]) -> None:
    found = who.store.read(lambda tx: cadres_in(tx, sorted(set(cadre_nos)), who.scope))
    missing = sorted(set(cadre_nos) - set(found))
    if missing:
        raise NotFound("干部", "cadre", missing[0])


def require_org(who: Caller, uscc: str) -> None:
    if uscc not in who.store.read(lambda tx: orgs_in(tx, [uscc], who.scope)):
        raise NotFound("社会组织", "organisation", uscc)


# --- organisers: one-to-one pairings, the exclusion list, matching ---------------------------------

def pair(who: Caller, household_no: str, cadre_no: str, started_on: dt.date | None = None) -> Pairing:
    who.require(ORGANISERS, "结对", "pair")
    require_households(who, [household_no])
    require_cadres(who, [cadre_no])
    made = pairing.pair(store=who.store, household_no=household_no, cadre_no=cadre_no, started_on=started_on)
    who.wrote("household", [household_no])
    return made


def end_pairing(who: Caller, household_no: str, reason: str, ended_on: dt.date | None = None) -> Pairing:
    who.require(ORGANISERS, "结束结对", "end a pairing")
    require_households(who, [household_no])
    ended = pairing.end_pairing(store=who.store, household_no=household_no, reason=reason, ended_on=ended_on)
    who.wrote("household", [household_no])
    return ended


def transfer(who: Caller, household_no: str, cadre_no: str, reason: str = "干部调整") -> tuple[Pairing, Pairing]:
    who.require(ORGANISERS, "转移结对", "transfer a pairing")
    require_households(who, [household_no])
    require_cadres(who, [cadre_no])
    moved = flows.transfer(store=who.store, household_no=household_no, cadre_no=cadre_no, reason=reason)
    who.wrote("household", [household_no])
    return moved


def exclude(who: Caller, household_no: str, cadre_no: str, reason: ExclusionReason,
            note: str | None = None) -> exclusions.Exclusion:
    who.require(ORGANISERS, "维护回避名单", "keep the exclusion list")
    require_households(who, [household_no])
    require_cadres(who, [cadre_no])
    done = exclusions.exclude(store=who.store, household_no=household_no, cadre_no=cadre_no, reason=reason, note=note)
    who.wrote("household", [household_no])
    return done


def lift_exclusion(who: Caller, household_no: str, cadre_no: str) -> bool:
    who.require(ORGANISERS, "维护回避名单", "keep the exclusion list")
    require_households(who, [household_no])
    require_cadres(who, [cadre_no])
    lifted = exclusions.lift_exclusion(store=who.store, household_no=household_no, cadre_no=cadre_no)
    who.wrote("household", [household_no])
    return lifted


def propose(who: Caller, region: str | None, reach: Reach = Reach.TOWNSHIP, keep_current: bool = False) -> Proposal:
    """A matching proposal for a region of the caller's jurisdiction (writes nothing)."""
    who.require(ORGANISERS, "生成结对方案", "propose pairings")
    made = matching.propose(store=who.store, region=who.scope.region(region), reach=reach, keep_current=keep_current)
    who.read("household", [p.household_no for p in made.pairs] + [u.household_no for u in made.unpaired])
    return made


def confirm(who: Caller, proposal: Proposal, only: Collection[str] | None = None) -> matching.ConfirmResult:
    """Confirm a proposal the caller sends back. The file is trusted for nothing: every household
    and cadre it would change must lie in the caller's scope, and the service re-checks every rule."""
    who.require(ORGANISERS, "确认结对方案", "confirm a proposal")
    wanted = set(only) if only is not None else None
    if wanted is not None:
        named = {p.household_no for p in proposal.pairs} | {u.household_no for u in proposal.unpaired}
        unknown = sorted(wanted - named)
        if unknown:
            listed = "、".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
            raise InvalidValue("only", listed, f"方案中没有这些户：{listed}", f"not in the proposal: {listed}",
                               code="NOT_IN_PROPOSAL")
    pairs = [p for p in proposal.pairs if p.change in (Change.NEW, Change.MOVE)
             and (wanted is None or p.household_no in wanted)]
    drops = [u for u in proposal.unpaired if u.change is Change.DROP and (wanted is None or u.household_no in wanted)]
    require_households(who, {p.household_no for p in pairs} | {u.household_no for u in drops})
    require_cadres(who, {p.cadre_no for p in pairs})
    result = matching.confirm(store=who.store, proposal=proposal, only=only)
    who.wrote("household", [p.household_no for p in result.confirmed] + result.dropped)
    return result


# --- cadres and organisations: the ledger and auxiliary pairings -----------------------------------

def log(who: Caller, entry: LedgerEntry) -> str:
    """Record a ledger entry: a cadre for their own households in their own name, an organisation
    in its own name for the households it is paired with, an organiser for their jurisdiction."""
    return log_together(who, [entry])[0]


def log_together(who: Caller, entries: Sequence[LedgerEntry]) -> list[str]:
    """Record several entries all or nothing (a cadre's visit with the problem it found and the
    help given), each under the rules of :func:`log`."""
    role = who.user.role
    for entry in entries:
        if role is Role.CADRE:
            if entry.cadre_no != who.user.cadre_no or entry.kind not in CADRE_KINDS:
                raise Forbidden(role, f"以他人名义或以「{entry.kind.value}」记台账",
                                f"record a '{entry.kind.name.lower().replace('_', ' ')}' entry, or one in another's name")
        elif role is Role.ORG:
            if entry.uscc != who.user.uscc or entry.kind not in ORG_KINDS:
                raise Forbidden(role, f"以他人名义或以「{entry.kind.value}」记台账",
                                f"record a '{entry.kind.name.lower().replace('_', ' ')}' entry, or one in another's name")
        else:
            who.require(ORGANISERS, "记录台账", "record ledger entries")
            if entry.cadre_no:
                require_cadres(who, [entry.cadre_no])
            else:
                require_org(who, entry.uscc or "")
    households = sorted({e.household_no for e in entries})
    require_households(who, households)
    entry_ids = ledger.log_together(store=who.store, entries=entries)
    who.wrote("household", households)
    return entry_ids


def _org_acts(who: Caller, uscc: str) -> None:
    if who.user.role is Role.ORG:
        if uscc != who.user.uscc:
            raise Forbidden(who.user.role, "以其他组织名义结对", "act for another organisation")
    else:
        who.require(ORGANISERS, "登记辅助结对", "register auxiliary pairings")
        require_org(who, uscc)


def aux_pair(who: Caller, household_no: str, uscc: str, started_on: dt.date | None = None) -> AuxPairing:
    """Register an auxiliary pairing: organisers only, whose act is the approval. An organisation
    asks for one instead (:func:`request_aux`), and only an approved request opens a household."""
    who.require(ORGANISERS, "直接登记辅助结对（社会组织请提交申请）",
                "register auxiliary pairings directly (an organisation asks for one)")
    require_org(who, uscc)
    require_households(who, [household_no])
    made = pairing.aux_pair(store=who.store, household_no=household_no, uscc=uscc, started_on=started_on)
    who.wrote("household", [household_no])
    return made


def end_aux_pairing(who: Caller, household_no: str, uscc: str, reason: str,
                    ended_on: dt.date | None = None) -> AuxPairing:
    _org_acts(who, uscc)
    require_households(who, [household_no])
    ended = pairing.end_aux_pairing(store=who.store, household_no=household_no, uscc=uscc, reason=reason,
                                    ended_on=ended_on)
    who.wrote("household", [household_no])
    return ended


# --- auxiliary pairings by request: an organisation asks, an organiser decides ------------------

def _refused(who: Caller, household_no: str, attempt: Callable[[], T]) -> T:
    """Run ``attempt``; a refusal is recorded in the audit trail (who tried which household) before
    it answers, so probing for households leaves a trace even though it learns nothing."""
    try:
        return attempt()
    except JieduiError:
        who.refused("household", [household_no])
        raise


def request_aux(who: Caller, household_no: str, reason: str, service: str | None = None) -> AuxRequest:
    """An organisation asks, in its own name, for an auxiliary pairing with a household of the
    region it serves. An unknown household and one outside that region answer alike (NOT_FOUND)."""
    who.require((Role.ORG,), "申请辅助结对（仅社会组织）", "ask for an auxiliary pairing (organisations only)")
    made = _refused(who, household_no, lambda: requests.request_aux(
        store=who.store, household_no=household_no, uscc=who.user.uscc or "", reason=reason, service=service,
        requested_by=who.user.user_id))
    who.wrote("aux_request", [made.request_id])
    who.wrote("household", [household_no])
    return made


def _decide(who: Caller, request_id: str, decide: Callable[[], T], household_of: Callable[[T], str]) -> T:
    done = decide()
    who.wrote("aux_request", [request_id])
    who.wrote("household", [household_of(done)])
    return done


def approve_aux_request(who: Caller, request_id: str, note: str | None = None,
                        consent_note: str | None = None) -> tuple[AuxRequest, AuxPairing]:
    """An organiser of the household's region approves: the pairing begins now."""
    who.require(ORGANISERS, "审批辅助结对申请", "decide auxiliary pairing requests")
    return _decide(who, request_id, lambda: requests.approve_aux_request(
        store=who.store, request_id=request_id, decided_by=who.user.user_id, scope=who.scope, note=note,
        consent_note=consent_note), lambda done: done[0].household_no)


def decline_aux_request(who: Caller, request_id: str, note: str | None = None) -> AuxRequest:
    who.require(ORGANISERS, "审批辅助结对申请", "decide auxiliary pairing requests")
    return _decide(who, request_id, lambda: requests.decline_aux_request(
        store=who.store, request_id=request_id, decided_by=who.user.user_id, scope=who.scope, note=note),
        lambda done: done.household_no)


def withdraw_aux_request(who: Caller, request_id: str) -> AuxRequest:
    """The organisation takes back its own pending request."""
    who.require((Role.ORG,), "撤回辅助结对申请（仅社会组织）", "withdraw a request (organisations only)")
    return _decide(who, request_id, lambda: requests.withdraw_aux_request(
        store=who.store, request_id=request_id, uscc=who.user.uscc or "", withdrawn_by=who.user.user_id),
        lambda done: done.household_no)


# --- accounts of the roster and organisations asking to join: organisers of the region ------------

def create_accounts(who: Caller, role: Role, region: str | None) -> list[accounts.IssuedCode]:
    """Accounts with one-time codes for the region's cadres (or organisations) that have none."""
    who.require(ORGANISERS, "建账号", "make accounts")
    issued = accounts.create_accounts(store=who.store, role=role, scope=who.scope, region=region)
    who.wrote("user", [i.user_id for i in issued])
    return issued


def reset_account(who: Caller, user_id: str) -> accounts.IssuedCode:
    """A new one-time code for a user of the region's roster: password and sessions gone."""
    who.require(ORGANISERS, "重置账号", "reset accounts")
    issued = accounts.reset_code(store=who.store, user_id=user_id, scope=who.scope)
    who.wrote("user", [user_id])
    return issued


def disable_account(who: Caller, user_id: str, disabled: bool) -> None:
    who.require(ORGANISERS, "停用或启用账号", "disable or enable accounts")
    accounts.set_disabled(store=who.store, user_id=user_id, disabled=disabled, scope=who.scope)
    who.wrote("user", [user_id])


def approve_join(who: Caller, request_id: str, note: str | None = None) -> tuple[joining.JoinRequest,
                                                                                  accounts.IssuedCode]:
    """Approve an organisation's request to join: it enters the roster with an account."""
    who.require(ORGANISERS, "审批入驻申请", "decide requests to join")
    done, issued = joining.approve_join_request(store=who.store, request_id=request_id, decided_by=who.user.user_id,
                                                scope=who.scope, note=note)
    who.wrote("join_request", [request_id])
    who.wrote("org", [done.uscc])
    who.wrote("user", [issued.user_id])
    return done, issued


def decline_join(who: Caller, request_id: str, note: str | None = None) -> joining.JoinRequest:
    who.require(ORGANISERS, "审批入驻申请", "decide requests to join")
    done = joining.decline_join_request(store=who.store, request_id=request_id, decided_by=who.user.user_id,
                                        scope=who.scope, note=note)
    who.wrote("join_request", [request_id])
    return done


# --- claims an organiser's import made on records outside it: decided by the organisers above both --

def accept_claim(who: Caller, claim_id: str, note: str | None = None) -> tuple[Claim, list[dict]]:
    """Accept a claim whose two regions lie in the caller's: its held rows are written."""
    who.require(ORGANISERS, "处理跨辖区认领", "decide claims")
    claim, refused = claims.accept_claim(store=who.store, claim_id=claim_id, decided_by=who.user.user_id,
                                         scope=who.scope, note=note)
    who.wrote("claim", [claim_id])
    who.wrote(claim.key_kind, [claim.record_key])
    return claim, refused


def decline_claim(who: Caller, claim_id: str, note: str | None = None) -> Claim:
    who.require(ORGANISERS, "处理跨辖区认领", "decide claims")
    claim = claims.decline_claim(store=who.store, claim_id=claim_id, decided_by=who.user.user_id, scope=who.scope,
                                 note=note)
    who.wrote("claim", [claim_id])
    return claim


# --- services: the catalogue, offers, needs, referrals and deliveries ------------------------------

def person_households(who: Caller, id_numbers: Collection[str], scope: Scope | None = None) -> dict[str, str]:
    """The household of each person named; NotFound for the first person who does not exist or
    whose household lies outside the scope."""
    scope = scope or who.scope
    found = who.store.read(lambda tx: persons_in(tx, sorted(set(id_numbers)), scope))
    missing = sorted(set(id_numbers) - set(found))
    if missing:
        raise NotFound("残疾人", "person", missing[0])
    return {number: p.household_no for number, p in found.items()}


def _keeps_catalogue(who: Caller) -> None:
    """The catalogue is one for every region: admins and a province's organisers keep it."""
    who.require(ORGANISERS, "维护服务目录", "keep the service catalogue")
    if who.user.role is Role.ORGANIZER and len(who.scope.prefix) > 2:
        raise Forbidden(who.user.role, "维护全省共用的服务目录（仅省级组织者）",
                        "keep the shared catalogue (a province's organisers only)")


def set_service_types(who: Caller, types: Sequence[ServiceType]) -> BatchResult:
    _keeps_catalogue(who)
    return services_catalogue.upsert_service_types(store=who.store, types=types)


def _first_error(result: BatchResult) -> BatchResult:
    if result.errors:
        raise result.errors[0][1]
    return result


def set_offer(who: Caller, offer: Offer) -> BatchResult:
    """An organiser records an offer of an organisation of their region, over a part of it."""
    who.require(ORGANISERS, "维护服务供给", "keep service offers")
    require_org(who, offer.uscc)
    if not who.scope.holds_region(scope_prefix(offer.region_code)):
        raise NotFound("区划", "region", offer.region_code)
    return _first_error(offers.upsert_offers(store=who.store, offers=[offer]))


def record_need(who: Caller, need: Need) -> str:
    """Record an assessed need: a cadre for a member of the households they are paired with (in
    their own name, found on a visit unless they say otherwise); an organiser for their region."""
    role = who.user.role
    if role is Role.CADRE:
        if need.assessor not in (None, who.user.cadre_no):
            raise Forbidden(role, "以他人名义记录需求", "record a need in another's name")
        need = need.model_copy(update={"assessor": who.user.cadre_no, "source": need.source or NeedSource.VISIT})
    else:
        who.require(ORGANISERS, "记录服务需求", "record needs")
    household = person_households(who, [need.id_number])[need.id_number]
    need_id = needs.record_need(store=who.store, need=need)
    who.wrote("household", [household])
    return need_id


def refer(who: Caller, request: ReferralRequest) -> Referral:
    """An organiser sends a need of a person of their region to an organisation serving it (or a
    department); the referral is made in the organiser's name."""
    who.require(ORGANISERS, "转介服务需求", "refer needs")
    household = person_households(who, [request.id_number])[request.id_number]
    if request.provider_uscc:
        require_org(who, request.provider_uscc)
    made = referrals.refer(store=who.store, request=request.model_copy(update={"made_by": who.user.user_id}))
    who.wrote("household", [household])
    return made


def _referral(who: Caller, referral_id: str) -> tuple[Referral, str]:
    """A referral in the caller's reach (NotFound otherwise) and the household it concerns: an
    organisation's are those sent to it; a region scope's those of its persons."""
    found = who.store.read(lambda tx: referrals.get_referral_in(tx, referral_id))
    if found is None or (who.user.role is Role.ORG and found.provider_uscc != who.user.uscc):
        raise NotFound("转介", "referral", referral_id)
    scope = EVERYTHING if who.user.role is Role.ORG else who.scope
    return found, person_households(who, [found.id_number], scope)[found.id_number]


def answer_referral(who: Caller, referral_id: str, accept: bool, reason: ReferralReason | None = None,
                    note: str | None = None, on: dt.date | None = None) -> Referral:
    """The organisation a referral is sent to accepts it or turns it down (with a reason)."""
    if who.user.role not in (Role.ORG, Role.ADMIN):
        raise Forbidden(who.user.role, "答复转介（仅承接的社会组织）", "answer a referral (its organisation only)")
    _, household = _referral(who, referral_id)
    if accept:
        done = referrals.accept_referral(store=who.store, referral_id=referral_id, on=on)
    else:
        if reason is None:
            raise InvalidValue("reason", None, "拒绝转介须说明原因", "a rejection needs a reason")
        done = referrals.reject_referral(store=who.store, referral_id=referral_id, reason=reason, note=note, on=on)
    who.wrote("household", [household])
    return done


def withdraw_referral(who: Caller, referral_id: str, reason: ReferralReason, note: str | None = None,
                      on: dt.date | None = None) -> Referral:
    who.require(ORGANISERS, "撤回转介", "withdraw referrals")
    _, household = _referral(who, referral_id)
    done = referrals.withdraw_referral(store=who.store, referral_id=referral_id, reason=reason, note=note, on=on)
    who.wrote("household", [household])
    return done


def record_delivery(who: Caller, delivery: Delivery) -> str:
    """Record a service delivered: an organisation in its own name, for a person it has an open
    referral of or whose household it is paired with; an organiser for their region."""
    role = who.user.role
    if role is Role.ORG:
        if delivery.uscc != who.user.uscc:
            raise Forbidden(role, "以他人名义记录服务", "record a delivery in another's name")
        held = who.store.read(lambda tx: referrals.referrals_in(tx, [delivery.id_number]))[delivery.id_number]
        referred = any(r.provider_uscc == who.user.uscc and r.status.open for r in held)
        household = person_households(who, [delivery.id_number], EVERYTHING if referred else None)
    else:
        who.require(ORGANISERS, "记录服务", "record deliveries")
        household = person_households(who, [delivery.id_number])
        if delivery.uscc:
            require_org(who, delivery.uscc)
    delivery_id = deliveries.record_delivery(store=who.store, delivery=delivery)
    who.wrote("household", list(household.values()))
    return delivery_id
