"""Claims on records outside an organiser's jurisdiction (跨辖区认领), for the organisers whose
region holds both the claimant's region and the record's (and admins): list them, accept one (its
held rows are written) or decline it. The claimant never sees them: that an ID number or a
household number they imported is held elsewhere is exactly what their import must not tell.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api import operations
from api.auth import ORGANISERS, Caller, caller
from api.rest import schemas
from api.rest.schemas import ERRORS, WRITE_ERRORS, PageOut, PageQ, PageSizeQ
from graph_schema.claims.models import Claim
from graph_schema.claims.service import get_claim, list_claims
from graph_schema.enums import ClaimStatus
from graph_schema.models import _strip
from graph_schema.pagination import PageRequest

router = APIRouter(tags=["claims 跨辖区认领"])


class ClaimOut(BaseModel):
    claim_id: str
    key_kind: str = Field(description="household / person / cadre / org")
    record_key: str = Field(description="被认领记录的键 / the key held outside the claimant's region")
    held_region: str = Field(description="该记录现在所在的区划 / where the record is held")
    claimant: str
    claimant_region: str
    common_region: str = Field(description="同时包含两者的区划：其组织者处理 / the region whose organisers decide")
    import_id: str | None = None
    rows: list[dict[str, Any]] = Field(description="被暂存的导入行 / the import rows held: {file, row, kind, model, record}")
    claimed_at: str
    status: str = Field(description="待处理 / 已采纳 / 已驳回")
    decided_at: str | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    outcome: list[dict[str, Any]] | None = Field(None, description="采纳时未能写入的行及原因 / rows accepting could "
                                                                   "not write, and why")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[Annotated[str, Field(max_length=500)] | None, BeforeValidator(_strip)] = None


class AcceptedOut(BaseModel):
    claim: ClaimOut
    refused: list[dict[str, Any]]


def _out(claim: Claim) -> dict:
    return schemas.plain(claim) | {"rows": claim.held_rows,
                                   "outcome": json.loads(claim.outcome) if claim.outcome else None}


@router.get("/claims", response_model=PageOut[ClaimOut], responses=ERRORS)
def claims(who: Annotated[Caller, Depends(caller)],
           status: Annotated[ClaimStatus | None, Query(description="待处理 已采纳 已驳回")] = None,
           page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """调用者可处理的跨辖区认领，最新的在前 / the claims the caller may decide, newest first."""
    who.require(ORGANISERS, "查看跨辖区认领", "see claims")
    found = list_claims(store=who.store, scope=who.scope, status=status, page=PageRequest(page, page_size))
    for kind in {c.key_kind for c in found.items}:
        who.read(kind, [c.record_key for c in found.items if c.key_kind == kind])
    return schemas.page_out(found, _out)


@router.get("/claims/{claim_id}", response_model=ClaimOut, responses=ERRORS)
def claim(claim_id: str, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一条跨辖区认领 / one claim."""
    who.require(ORGANISERS, "查看跨辖区认领", "see claims")
    found = get_claim(store=who.store, claim_id=claim_id, scope=who.scope)
    who.read(found.key_kind, [found.record_key])
    return _out(found)


@router.post("/claims/{claim_id}/accept", response_model=AcceptedOut, responses=WRITE_ERRORS)
def accept(claim_id: str, body: DecisionIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """采纳认领：写入暂存的行（规则重新检查）/ accept: the held rows are written, every rule checked again."""
    done, refused = operations.accept_claim(who, claim_id, body.note)
    return {"claim": _out(done), "refused": refused}


@router.post("/claims/{claim_id}/decline", response_model=ClaimOut, responses=WRITE_ERRORS)
def decline(claim_id: str, body: DecisionIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """驳回认领：不写入，原记录不变 / decline: nothing is written, the record stays as it is."""
    return _out(operations.decline_claim(who, claim_id, body.note))


schemas.summarise(router)
