"""The ledger (帮扶台账): recording one entry, and the problems it opens and closes.

Solving a problem is a ledger entry too: 解决困难 with the problem's number closes it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, BeforeValidator, Field

from api import operations
from api.auth import Caller, caller
from api.rest import schemas
from api.rest.schemas import ERRORS, WRITE_ERRORS, Day, PageOut, PageQ, PageSizeQ, ProblemOut, RegionQ
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import list_problems
from graph_schema.models import _strip
from graph_schema.pagination import PageRequest

router = APIRouter(tags=["ledger 台账"])

Money = Annotated[int, Field(ge=0, le=100_000_000_000, description="分 / fen (1 yuan = 100 fen)")]


def _text(most: int):
    """Optional text of at most ``most`` characters, stripped as the domain strips it (blank = None)."""
    return Annotated[Annotated[str, Field(max_length=most)] | None, BeforeValidator(_strip)]


class LedgerEntryIn(LedgerEntry):
    """A ledger entry as posted: the domain's own model (its rules apply: exactly one actor, a
    反映困难 needs a problem number), with the bounds a request needs on top (no amount beyond
    ¥1 billion, no text beyond what a clerk writes)."""

    entry_date: Day
    cadre_no: _text(64) = None
    amount_fen: Money | None = None
    in_kind_fen: Money | None = None
    note: _text(2000) = None
    problem_no: _text(64) = None


class EntryIdOut(BaseModel):
    entry_id: str  # derived from the content: recording the same entry again changes nothing


@router.post("/ledger", response_model=EntryIdOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def log(entry: LedgerEntryIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """记一条帮扶台账 / record one ledger entry.

    A cadre records in their own name for the households they are paired with; an organisation in
    its own name for its households; an organiser for any household of the jurisdiction. 反映困难
    opens problem ``problem_no``; 解决困难 with the same number closes it. Amounts are in fen (分).
    """
    return {"entry_id": operations.log(who, entry)}


@router.get("/problems", response_model=PageOut[ProblemOut], responses=ERRORS)
def problems(who: Annotated[Caller, Depends(caller)],
             region: RegionQ = None,
             open: Annotated[bool | None, Query(description="true 未解决，false 已解决，缺省全部 / true: open, "  # noqa: A002
                                                             "false: solved, absent: both")] = None,
             page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """辖区内家庭反映的困难，按反映日期排序 / the problems of the households in the caller's scope,
    oldest first."""
    found = list_problems(store=who.store, region=region, open_only=open, page=PageRequest(page, page_size),
                          scope=who.scope)
    who.read("household", [p.household_no for p in found.items])
    return schemas.page_out(found, lambda p: schemas.shown("problem", p, who.user))


schemas.summarise(router)
