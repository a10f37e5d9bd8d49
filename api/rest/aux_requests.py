"""Auxiliary pairings by request and approval: an organisation asks for a household of the region
it serves, an organiser of the household's region approves (the pairing begins) or declines, the
organisation may withdraw a pending request. Only an approved request opens the household.

Every route is one call of :mod:`api.operations` (role, scope, audit) or of the scoped reads; a
request outside the caller's scope answers 404 as one that does not exist, and so does a
household an organisation may not ask for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, BeforeValidator, Field

from api import operations
from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import Body
from api.rest.inputs import optional_text as _optional
from api.rest.schemas import ERRORS, WRITE_ERRORS, AuxPairingOut, AuxRequestOut, PageOut, PageQ, PageSizeQ, RegionQ
from graph_schema.enums import AuxRequestStatus
from graph_schema.models import _strip
from graph_schema.pagination import PageRequest
from graph_schema.pairing.requests import get_aux_request, list_aux_requests

router = APIRouter(tags=["aux-requests 辅助结对申请"])


def _text(most: int, description: str):
    """Text of 1 to ``most`` characters, stripped as the domain strips it."""
    return Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=most, description=description)]


class RequestIn(Body):
    household_no: _text(64, "户编号 / the household's number")
    reason: _text(500, "申请理由 / why the organisation asks")
    service: _optional(100, "拟提供的服务，如 康复、助学 / the service it offers") = None


class ApproveIn(Body):
    note: _optional(500, "审批意见 / the decision's note") = None
    consent_note: _optional(500, "家庭同意情况（谁、何时、如何同意）/ the household's consent") = None


class DeclineIn(Body):
    note: _optional(500, "拒绝理由 / why it is declined") = None


class ApprovalOut(BaseModel):
    request: AuxRequestOut
    pairing: AuxPairingOut


@router.post("/aux-requests", response_model=AuxRequestOut, status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS)
def ask(body: RequestIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """申请辅助结对（社会组织，以本组织名义）/ an organisation asks for an auxiliary pairing.

    The household must lie in the region the organisation serves; one that does not exist and
    one outside that region both answer 404 with the same code and message. The request waits
    for an organiser of the household's region; until it is approved the household stays closed
    to the organisation.
    """
    return schemas.shown("aux_request", operations.request_aux(who, body.household_no, body.reason, body.service),
                         who.user)


@router.get("/aux-requests", response_model=PageOut[AuxRequestOut], responses=ERRORS)
def requests(who: Annotated[Caller, Depends(caller)],
             status_: Annotated[AuxRequestStatus | None, Query(alias="status", description="待审批 已批准 已拒绝 已撤回")] = None,
             region: RegionQ = None, page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """辅助结对申请，最新的在前 / auxiliary pairing requests, newest first: an organisation's own,
    those of the households of an organiser's (or portal's) region."""
    who.require(operations.AUX_REQUEST_READERS, "查看辅助结对申请", "see auxiliary pairing requests")
    found = list_aux_requests(store=who.store, scope=who.scope, status=status_, region=region,
                              page=PageRequest(page, page_size))
    who.read("household", [q.household_no for q in found.items])
    return schemas.page_out(found, lambda q: schemas.shown("aux_request", q, who.user))


@router.get("/aux-requests/{request_id}", response_model=AuxRequestOut, responses=ERRORS)
def request(request_id: str, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一条辅助结对申请 / one auxiliary pairing request."""
    who.require(operations.AUX_REQUEST_READERS, "查看辅助结对申请", "see auxiliary pairing requests")
    found = get_aux_request(store=who.store, request_id=request_id, scope=who.scope)
    who.read("household", [found.household_no])
    return schemas.shown("aux_request", found, who.user)


@router.post("/aux-requests/{request_id}/approve", response_model=ApprovalOut, responses=WRITE_ERRORS)
def approve(request_id: str, body: ApproveIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """批准申请，辅助结对即日开始（组织者）/ approve: the auxiliary pairing begins today (organisers).

    The rules are checked again: the household still in the organisation's region and in the
    organiser's jurisdiction, no active pairing of the two. ``consent_note`` records the
    household's consent.
    """
    done, pairing = operations.approve_aux_request(who, request_id, body.note, body.consent_note)
    return {"request": schemas.shown("aux_request", done, who.user), "pairing": schemas.shown("pairing", pairing, who.user)}


@router.post("/aux-requests/{request_id}/decline", response_model=AuxRequestOut, responses=WRITE_ERRORS)
def decline(request_id: str, body: DeclineIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """拒绝申请（组织者）/ decline a pending request (organisers)."""
    return schemas.shown("aux_request", operations.decline_aux_request(who, request_id, body.note), who.user)


@router.post("/aux-requests/{request_id}/withdraw", response_model=AuxRequestOut, responses=WRITE_ERRORS)
def withdraw(request_id: str, who: Annotated[Caller, Depends(caller)]) -> dict:
    """撤回本组织待审批的申请（社会组织）/ the organisation withdraws its own pending request."""
    return schemas.shown("aux_request", operations.withdraw_aux_request(who, request_id), who.user)


schemas.summarise(router)
