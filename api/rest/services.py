"""Services: the catalogue, offers, a person's needs and deliveries, referrals and their answers.

Who may do what (``api/operations.py``): admins and a province's organisers keep the catalogue;
organisers keep the offers of their region, record needs and deliveries there and make and
withdraw referrals; a cadre records the needs found on a visit to the households they are paired
with; an organisation sees the referrals sent to it, accepts or rejects them and records its
deliveries. Portals read the service reports without names (``/reports``), not these records.
ID numbers are masked for the roles that may not see them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field, Strict

from api import operations
from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import (
    KEY_PATTERN,
    Body,
    Day,
    IdNumber,
    IdNumberP,
    Key,
    Money,
    RegionCode,
    Uscc,
    counted,
    optional_text,
)
from api.rest.schemas import ERRORS, WRITE_ERRORS, PageOut, PageQ, PageSizeQ, RegionQ
from graph_schema.access import privacy
from graph_schema.access.models import Role, User
from graph_schema.access.service import Forbidden
from graph_schema.enums import (
    DeliveryOutcome,
    NeedSource,
    NeedStatus,
    OfferMode,
    ReferralReason,
    ReferralStatus,
    ServiceCategory,
    ServiceDept,
    ServiceUnit,
)
from graph_schema.household.service import get_person
from graph_schema.monitoring.common import paginate
from graph_schema.pagination import PageRequest
from graph_schema.service.catalogue import get_catalogue
from graph_schema.service.deliveries import deliveries_in
from graph_schema.service.models import DEFAULT_TIME_LIMIT, Delivery, Need, Offer, Referral, ServiceType
from graph_schema.service.needs import person_needs
from graph_schema.service.offers import list_offers
from graph_schema.service.referrals import ReferralRequest, list_referrals, referrals_in

router = APIRouter(tags=["services 服务"])

# --- what the routes answer -------------------------------------------------------------------

class ServiceTypeOut(BaseModel):
    code: str
    name: str
    category: str
    counts: bool  # 计入服务率
    unit: str | None = None
    time_limit: int  # 办理时限, days
    lead_dept: str | None = None


class OfferOut(BaseModel):
    offer_id: str
    uscc: str
    service_code: str
    region_code: str
    capacity: int | None = None  # persons a year; None: not limited
    modes: list[str] = []
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    designated_until: dt.date | None = None


class AssessmentOut(BaseModel):
    need_id: str
    service_code: str | None = None
    category: str | None = None
    assessed_on: dt.date
    status: str
    source: str | None = None
    assessor: str | None = None
    note: str | None = None


class NeedOut(BaseModel):
    """A need as the assessments add up (``graph_schema.service.facts``)."""

    need_id: str
    category: str
    service_code: str | None = None
    confirmed_on: dt.date | None = None  # None: the registry's 需求 column, not yet assessed
    source: str | None = None
    closed_on: dt.date | None = None
    open: bool


class PersonNeedsOut(BaseModel):
    id_number: str
    as_of: dt.date
    needs: list[NeedOut]
    assessments: list[AssessmentOut]


class DeliveryOut(BaseModel):
    delivery_id: str
    record_no: str | None = None
    id_number: str
    service_code: str
    delivered_on: dt.date
    ended_on: dt.date | None = None
    uscc: str | None = None
    dept: str | None = None
    quantity: int
    item: str | None = None
    cost_fen: int | None = None
    subsidy_fen: int | None = None
    outcome: str


class ReferralOut(BaseModel):
    referral_id: str
    need_id: str
    id_number: str
    category: str
    service_code: str | None = None
    provider_uscc: str | None = None
    provider_dept: str | None = None
    made_on: dt.date
    made_by: str
    due_on: dt.date
    status: str
    accepted_on: dt.date | None = None
    closed_on: dt.date | None = None
    reason: str | None = None
    note: str | None = None
    delivery_id: str | None = None
    proposal_id: str | None = None


class IdOut(BaseModel):
    id: str


class CountsOut(BaseModel):
    created: int
    updated: int
    unchanged: int


def _shown(row: dict, user: User) -> dict:
    """A person's service record as the caller may see it (the privacy table's
    ``service_record`` rows: the ID number masked for the roles that see it masked …)."""
    return privacy.redact("service_record", row, user)


def _delivery(d: Delivery, user: User) -> dict:
    return _shown(schemas.plain(d) | {"delivery_id": d.delivery_id}, user)


def referral_out(r: Referral, user: User) -> dict:
    return _shown(schemas.plain(r), user)


# --- what the routes take ----------------------------------------------------------------------
# The domain's models and their rules, with the bounds and patterns of ``api.rest.inputs`` on top,
# so the document states what the server checks; the rules across fields answer 422 with their
# codes (``DATE_ORDER`` …, in ``SEMANTIC_CODES``).

def _enum(kind: type) -> object:
    """An enumeration as a JSON body carries it: its value, as text."""
    return Annotated[kind, Strict(False)]


Name = Annotated[str, Field(min_length=1, max_length=100, pattern=KEY_PATTERN)]
Days = counted(1, 730)


class ServiceTypeIn(ServiceType):
    model_config = ConfigDict(strict=True)

    code: Key
    name: Name
    category: _enum(ServiceCategory)
    unit: _enum(ServiceUnit) | None = None
    time_limit: Days = DEFAULT_TIME_LIMIT
    lead_dept: _enum(ServiceDept) | None = None


class NeedIn(Need):
    """An assessment as posted; a cadre's is in their own name."""

    model_config = ConfigDict(strict=True)

    id_number: IdNumber
    service_code: Key | None = None
    category: _enum(ServiceCategory) | None = None
    assessed_on: Day
    status: _enum(NeedStatus) = NeedStatus.CONFIRMED
    source: _enum(NeedSource) | None = None
    assessor: optional_text(64) = None
    note: optional_text(2000) = None


class OfferIn(Offer):
    model_config = ConfigDict(strict=True)

    uscc: Uscc
    service_code: Key
    region_code: RegionCode
    capacity: counted(0, 10_000_000) | None = None
    modes: Annotated[list[_enum(OfferMode)], Field(max_length=len(OfferMode))] = []
    valid_from: Day | None = None
    valid_to: Day | None = None
    designated_until: Day | None = None


class DeliveryIn(Delivery):
    model_config = ConfigDict(strict=True)

    record_no: Key | None = None
    id_number: IdNumber
    service_code: Key
    delivered_on: Day
    ended_on: Day | None = None
    uscc: Uscc | None = None
    dept: _enum(ServiceDept) | None = None
    quantity: counted(1, 1_000_000) = 1
    item: optional_text(200) = None
    cost_fen: Money | None = None
    subsidy_fen: Money | None = None
    outcome: _enum(DeliveryOutcome) = DeliveryOutcome.DONE


class ReferralIn(Body):
    """Send a person's need (``need_id`` as ``GET /persons/{id}/needs`` lists it) to an organisation
    (``provider_uscc``) or a department (``provider_dept``)."""

    id_number: IdNumber
    need_id: Key
    provider_uscc: Uscc | None = None
    provider_dept: _enum(ServiceDept) | None = None
    made_on: Day | None = None
    note: optional_text(2000) = None


class AcceptIn(Body):
    on: Day | None = None  # default today


class AnswerIn(Body):
    """Turning down or withdrawing a referral: the reason is required."""

    reason: _enum(ReferralReason)
    note: optional_text(2000) = None
    on: Day | None = None  # default today


# --- the catalogue and offers ------------------------------------------------------------------

@router.get("/service-types", response_model=list[ServiceTypeOut], responses=ERRORS)
def service_types(who: Annotated[Caller, Depends(caller)]) -> list[dict]:
    """服务目录 / the service catalogue in effect (the defaults, and what imports changed)."""
    return [schemas.plain(t) for t in get_catalogue(store=who.store).sorted()]


@router.put("/service-types", response_model=CountsOut, responses=WRITE_ERRORS)
def put_service_types(types: Annotated[list[ServiceTypeIn], Field(max_length=1000)],
                      who: Annotated[Caller, Depends(caller)]) -> dict:
    """增改服务目录 / add or change catalogue entries (admins and a province's organisers)."""
    return operations.set_service_types(who, types).counts()


@router.get("/offers", response_model=PageOut[OfferOut], responses=ERRORS)
def offers(who: Annotated[Caller, Depends(caller)], region: RegionQ = None,
           uscc: Annotated[str | None, Query(max_length=18, description="只看一个组织 / one organisation")] = None,
           page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """服务供给 / offers reaching into a region of the caller's jurisdiction (an organisation: its
    own), by key."""
    found = list_offers(store=who.store, region=region, uscc=uscc, page=PageRequest(page, page_size), scope=who.scope)
    return schemas.page_out(found, lambda o: schemas.plain(o) | {"offer_id": o.offer_id})


@router.post("/offers", response_model=CountsOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def post_offer(offer: OfferIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """记录服务供给 / record (or change) an organisation's offer over a region (organisers)."""
    return operations.set_offer(who, offer).counts()


# --- a person's needs and deliveries -----------------------------------------------------------

def _person_readers(who: Caller) -> None:
    if who.user.role is Role.PORTAL:
        raise Forbidden(who.user.role, "查看个人服务记录", "read a person's service records")


@router.get("/persons/{id_number}/needs", response_model=PersonNeedsOut, responses=ERRORS)
def needs(id_number: IdNumberP, who: Annotated[Caller, Depends(caller)],
          as_of: Annotated[Day | None, Query(description="截止日期，默认今天 / as of (default today)")] = None) -> dict:
    """一名残疾人的服务需求 / a person's needs (registry and assessed) as they stand on ``as_of``,
    and the assessments recorded."""
    _person_readers(who)
    person = get_person(store=who.store, id_number=id_number, scope=who.scope)
    day = as_of or dt.date.today()
    found = who.store.read(lambda tx: person_needs(tx, id_number, [n.value for n in person.needs], day))
    who.read("household", [person.household_no])
    return _shown({
        "id_number": id_number, "as_of": day,
        "needs": [{"need_id": e.need_id, "category": e.category, "service_code": e.service_code,
                   "confirmed_on": e.confirmed_on, "source": e.source, "closed_on": e.closed_on,
                   "open": e.open_on(day)} for e in found.episodes],
        "assessments": [schemas.plain(n) | {"need_id": n.need_id} for n in found.assessments]}, who.user)


@router.post("/needs", response_model=IdOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def post_need(need: NeedIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """记录一次需求评估 / record an assessed need (a cadre for their households; organisers).

    A later assessment of the same service or category supersedes an earlier one (已满足 or 不再需要
    closes it); recording the same assessment again changes nothing."""
    return {"id": operations.record_need(who, need)}


@router.get("/persons/{id_number}/deliveries", response_model=PageOut[DeliveryOut], responses=ERRORS)
def deliveries(id_number: IdNumberP, who: Annotated[Caller, Depends(caller)], page: PageQ = 1,
               page_size: PageSizeQ = 50) -> dict:
    """一名残疾人接受的服务 / the services a person received, oldest first."""
    _person_readers(who)
    person = get_person(store=who.store, id_number=id_number, scope=who.scope)
    found = who.store.read(lambda tx: deliveries_in(tx, [id_number]))[id_number]
    who.read("household", [person.household_no])
    return schemas.page_out(paginate(found, PageRequest(page, page_size)), lambda d: _delivery(d, who.user))


@router.post("/deliveries", response_model=IdOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def post_delivery(delivery: DeliveryIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """记录一次服务 / record a service delivered (an organisation in its own name for a person it
    has an open referral of or is paired with; organisers). A counting delivery completes the
    person's open referrals of its category."""
    return {"id": operations.record_delivery(who, delivery)}


# --- referrals ---------------------------------------------------------------------------------

@router.get("/referrals", response_model=PageOut[ReferralOut], responses=ERRORS)
def referrals(who: Annotated[Caller, Depends(caller)], region: RegionQ = None,
              state: Annotated[ReferralStatus | None, Query(alias="status", description="状态 / status")] = None,
              page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """转介列表 / referrals: an organisation's are those sent to it; an organiser's those of the
    persons of their region; by date made."""
    if who.user.role in (Role.PORTAL, Role.CADRE):
        raise Forbidden(who.user.role, "查看转介", "read referrals")
    found = list_referrals(store=who.store, scope=who.scope, region=region, status=state,
                           page=PageRequest(page, page_size))
    who.read("person", [r.id_number for r in found.items])
    return schemas.page_out(found, lambda r: referral_out(r, who.user))


@router.get("/persons/{id_number}/referrals", response_model=PageOut[ReferralOut], responses=ERRORS)
def person_referrals(id_number: IdNumberP, who: Annotated[Caller, Depends(caller)], page: PageQ = 1,
                     page_size: PageSizeQ = 50) -> dict:
    """一名残疾人的转介 / a person's referrals, oldest first (an organisation: those sent to it)."""
    _person_readers(who)
    if who.user.role is Role.ORG:
        found = [r for r in who.store.read(lambda tx: referrals_in(tx, [id_number]))[id_number]
                 if r.provider_uscc == who.user.uscc]
        if not found:
            get_person(store=who.store, id_number=id_number, scope=who.scope)
    else:
        get_person(store=who.store, id_number=id_number, scope=who.scope)
        found = who.store.read(lambda tx: referrals_in(tx, [id_number]))[id_number]
    who.read("person", [id_number])
    return schemas.page_out(paginate(found, PageRequest(page, page_size)), lambda r: referral_out(r, who.user))


@router.post("/referrals", response_model=ReferralOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def post_referral(body: ReferralIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """转介一项需求 / send a person's open need to an organisation that offers the service over
    their village, or to a department (organisers). Due after the service's 办理时限."""
    request = ReferralRequest(id_number=body.id_number, need_id=body.need_id, provider_uscc=body.provider_uscc,
                              provider_dept=body.provider_dept, made_by=who.user.user_id, note=body.note,
                              **({"made_on": body.made_on} if body.made_on else {}))
    return referral_out(operations.refer(who, request), who.user)


@router.post("/referrals/{referral_id}/accept", response_model=ReferralOut, responses=WRITE_ERRORS)
def accept(referral_id: Key, body: AcceptIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """接收转介 / the organisation a referral is sent to accepts it."""
    return referral_out(operations.answer_referral(who, referral_id, True, on=body.on), who.user)


@router.post("/referrals/{referral_id}/reject", response_model=ReferralOut, responses=WRITE_ERRORS)
def reject(referral_id: Key, body: AnswerIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """拒绝转介 / the organisation a referral is sent to turns it down, with a reason."""
    return referral_out(operations.answer_referral(who, referral_id, False, body.reason, body.note, body.on), who.user)


@router.post("/referrals/{referral_id}/withdraw", response_model=ReferralOut, responses=WRITE_ERRORS)
def withdraw(referral_id: Key, body: AnswerIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """撤回转介 / the organiser withdraws an open referral, with a reason."""
    return referral_out(operations.withdraw_referral(who, referral_id, body.reason, body.note, body.on), who.user)


schemas.summarise(router)
