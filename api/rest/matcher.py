"""Matching: proposals (writes nothing), confirmations (writes what the organiser accepts), and the
exclusion list (回避名单) that every pairing path obeys. Organisers only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, Strict

from api import operations
from api.auth import ORGANISERS, Caller, caller
from api.rest import schemas
from api.rest.inputs import Body, CadreNoP, Day, HouseholdNoP, Instant, JsonFloat, JsonInt, Key, RegionCode
from api.rest.schemas import ERRORS, WRITE_ERRORS, ExclusionOut, PageOut, PageQ, PageSizeQ, PairingOut, RegionQ
from graph_schema.enums import ExclusionReason
from graph_schema.monitoring.common import paginate
from graph_schema.pagination import PageRequest
from graph_schema.pairing.exclusions import exclusions
from matching.candidates import Reach
from matching.proposal import Change, EndReason, Proposal, ProposedPair, Summary, UnpairedItem

router = APIRouter(tags=["matching 匹配"], responses=WRITE_ERRORS)


class ProposeIn(Body):
    region: RegionCode | None = Field(None, description="区划代码，默认本辖区 / region code, default the caller's "
                                                       "jurisdiction")
    reach: Literal["village", "township", "county"] = Field(
        "township", description="干部可结对的最远范围 / how far from their station a cadre may be paired")
    keep_current: bool = Field(False, description="保持现有在岗结对，只安排需要干部的户 / keep every current "
                                                  "pairing with an on-duty cadre; place only the households that need one")


# The proposal as sent back: the matcher's own models, every number and flag as the JSON type
# the document gives it (a proposal is a file people open: a "1" or a false is not a count).
_STRICT = ConfigDict(strict=True)
_Change = Annotated[Change, Strict(False)]
_EndReason = Annotated[EndReason | None, Strict(False)]


class ProposedPairIn(ProposedPair):
    model_config = _STRICT
    cost: JsonInt
    change: _Change
    risk_score: JsonInt
    tier: JsonInt
    cadre_load: JsonInt
    cadre_limit: JsonInt
    end_reason: _EndReason = None


class UnpairedItemIn(UnpairedItem):
    model_config = _STRICT
    risk_score: JsonInt
    change: _Change = Change.NONE
    end_reason: _EndReason = None


class SummaryIn(Summary):
    model_config = _STRICT
    priority: JsonInt
    paired: JsonInt
    kept: JsonInt
    new: JsonInt
    moved: JsonInt
    dropped: JsonInt
    unpaired: JsonInt
    churn: JsonFloat


class ProposalIn(Proposal):
    model_config = _STRICT
    objective: JsonInt
    as_of: Day
    created_at: Instant
    pairs: list[ProposedPairIn]
    unpaired: list[UnpairedItemIn]
    summary: SummaryIn


class ConfirmIn(Body):
    proposal: ProposalIn
    only: list[Key] | None = Field(None, max_length=100_000,
                                   description="只确认这些户 / confirm only these households")


class Refusal(BaseModel):
    household_no: str
    code: str
    message: str
    message_en: str


class ConfirmOut(BaseModel):
    confirmed: list[PairingOut]
    dropped: list[str]
    unchanged: list[str]
    refused: list[Refusal]


class ExcludeIn(Body):
    household_no: Key
    cadre_no: Key
    reason: Annotated[ExclusionReason, Strict(False)] = ExclusionReason.ORGANISER
    note: str | None = Field(None, max_length=500)


class LiftOut(BaseModel):
    household_no: str
    cadre_no: str
    lifted: bool  # False: the pair was not on the list


@router.post("/matching/proposals", response_model=Proposal)
def propose(body: ProposeIn, who: Annotated[Caller, Depends(caller)]) -> Proposal:
    """生成一个区划的最优一对一结对方案（不写入）/ the optimal pairing of a region's priority
    households, explained pair by pair; stores nothing."""
    return operations.propose(who, body.region, Reach.parse(body.reach), body.keep_current)


@router.post("/matching/confirmations", response_model=ConfirmOut)
def confirm(body: ConfirmIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """确认方案（全部或部分户）：规则重新检查，被拒的逐条说明 / confirm a proposal, all of it or some
    households; every rule is checked again and each refused pair says why."""
    result = operations.confirm(who, body.proposal, body.only)
    return {"confirmed": [schemas.plain(p) for p in result.confirmed], "dropped": result.dropped,
            "unchanged": result.unchanged,
            "refused": [{"household_no": no, "code": exc.code, "message": exc.zh, "message_en": exc.en}
                        for no, exc in result.refused]}


@router.get("/exclusions", response_model=PageOut[ExclusionOut], responses=ERRORS)
def list_exclusions(who: Annotated[Caller, Depends(caller)],
                    region: RegionQ = None,
                    page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """回避名单（按户编号、干部编号排序）/ the exclusion list of a region's households."""
    who.require(ORGANISERS, "查看回避名单", "read the exclusion list")
    scope = who.scope.region(region) if region or who.scope.prefix else None
    found = paginate(exclusions(store=who.store, region=scope), PageRequest(page, page_size))
    who.read("household", [e.household_no for e in found.items])
    return schemas.page_out(found, schemas.exclusion)


@router.post("/exclusions", response_model=ExclusionOut, status_code=status.HTTP_201_CREATED)
def exclude(body: ExcludeIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """把干部与户列入回避名单（幂等）/ put a cadre–household pair on the exclusion list (idempotent)."""
    return schemas.exclusion(operations.exclude(who, body.household_no, body.cadre_no, body.reason, body.note))


@router.delete("/exclusions/{household_no}/{cadre_no}", response_model=LiftOut)
def lift(household_no: HouseholdNoP, cadre_no: CadreNoP, who: Annotated[Caller, Depends(caller)]) -> dict:
    """移出回避名单 / take a pair off the exclusion list (``lifted`` false if it was not on it)."""
    lifted = operations.lift_exclusion(who, household_no, cadre_no)
    return {"household_no": household_no, "cadre_no": cadre_no, "lifted": lifted}


schemas.summarise(router)
