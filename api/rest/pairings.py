"""Pairing changes: one-to-one and auxiliary (organisers; an organisation may end its own).

Every route is one call of :mod:`api.operations`, which checks the role, the scope of every object
named, and records the change in the audit trail; the pairing rules answer 409 with their code.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from api import operations
from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import Body, Day, HouseholdNoP, Key, Uscc, UsccP
from api.rest.schemas import WRITE_ERRORS, AuxPairingOut, PairingOut

router = APIRouter(tags=["pairings 结对"], responses=WRITE_ERRORS)

Reason = Annotated[str, Field(min_length=1, max_length=200, description="结束原因 / why it ends")]


class PairIn(Body):
    household_no: Key
    cadre_no: Key
    started_on: Day | None = Field(None, description="开始日期，默认今天 / start date, default today")


class EndIn(Body):
    reason: Reason
    ended_on: Day | None = Field(None, description="结束日期，默认今天 / end date, default today")


class TransferIn(Body):
    cadre_no: Key
    reason: Reason = "干部调整"


class TransferOut(BaseModel):
    ended: PairingOut
    new: PairingOut


class AuxPairIn(Body):
    household_no: Key
    uscc: Uscc
    started_on: Day | None = Field(None, description="开始日期，默认今天 / start date, default today")


@router.post("/pairings", response_model=PairingOut, status_code=status.HTTP_201_CREATED)
def pair(body: PairIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一对一结对 / pair a household with a cadre (organisers; 409 when a pairing rule refuses)."""
    return schemas.shown("pairing", operations.pair(who, body.household_no, body.cadre_no, body.started_on), who.user)


@router.post("/pairings/{household_no}/end", response_model=PairingOut)
def end(household_no: HouseholdNoP, body: EndIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """结束一对一结对（保留为历史）/ end the household's active pairing; it stays in the history."""
    return schemas.shown("pairing", operations.end_pairing(who, household_no, body.reason, body.ended_on), who.user)


@router.post("/pairings/{household_no}/transfer", response_model=TransferOut)
def transfer(household_no: HouseholdNoP, body: TransferIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """转移结对：结束现结对并与新干部结对，全部成功或全部不变 / move the household to another cadre,
    all or nothing."""
    ended, new = operations.transfer(who, household_no, body.cadre_no, body.reason)
    return {"ended": schemas.shown("pairing", ended, who.user), "new": schemas.shown("pairing", new, who.user)}


@router.post("/aux-pairings", response_model=AuxPairingOut, status_code=status.HTTP_201_CREATED)
def aux_pair(body: AuxPairIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """登记辅助结对（组织者）/ register an organisation's auxiliary pairing (organisers; an
    organisation asks for one with ``POST /aux-requests`` and an organiser approves)."""
    return schemas.shown("pairing", operations.aux_pair(who, body.household_no, body.uscc, body.started_on), who.user)


@router.post("/aux-pairings/{household_no}/{uscc}/end", response_model=AuxPairingOut)
def end_aux(household_no: HouseholdNoP, uscc: UsccP, body: EndIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """结束辅助结对 / end an auxiliary pairing."""
    return schemas.shown("pairing", operations.end_aux_pairing(who, household_no, uscc, body.reason, body.ended_on),
                         who.user)


schemas.summarise(router)
