"""The ledger (帮扶台账): recording one entry, and the problems it opens and closes.

Solving a problem is a ledger entry too: 解决困难 with the problem's number closes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Strict

from api import operations
from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import Day, Flag, Key, Money, Uscc, counted, optional_text
from api.rest.schemas import ERRORS, WRITE_ERRORS, PageOut, PageQ, PageSizeQ, ProblemOut, RegionQ
from graph_schema.enums import LedgerKind
from graph_schema.ledger.models import MINUTES_MAX, VOLUNTEERS_MAX, LedgerEntry
from graph_schema.ledger.service import list_problems
from graph_schema.pagination import PageRequest

router = APIRouter(tags=["ledger 台账"])

Note = optional_text(2000)


def _rules_as_schema(schema: dict[str, Any]) -> None:
    """The domain's rules, stated in the document: exactly one actor (a cadre or an
    organisation), and a problem number on every 反映困难."""
    schema["oneOf"] = [
        {"title": "干部记录 / by a cadre", "required": ["cadre_no"],
         "properties": {"cadre_no": {"type": "string"}, "uscc": {"type": "null"}}},
        {"title": "社会组织记录 / by an organisation", "required": ["uscc"],
         "properties": {"uscc": {"type": "string"}, "cadre_no": {"type": "null"}}},
    ]
    schema["if"] = {"required": ["kind"], "properties": {"kind": {"const": LedgerKind.REPORT_PROBLEM.value}}}
    schema["then"] = {"required": ["problem_no"], "properties": {"problem_no": {"type": "string"}}}


class LedgerEntryIn(LedgerEntry):
    """A ledger entry as posted: the domain's own model (its rules apply: exactly one actor, a
    反映困难 needs a problem number, both stated in the document), with the bounds a request needs
    on top (keys as the document's patterns say, no amount beyond ¥1 billion, no text beyond what
    a clerk writes) and no value of another JSON type converted."""

    model_config = ConfigDict(strict=True, json_schema_extra=_rules_as_schema)

    entry_date: Day
    household_no: Key
    cadre_no: Key | None = None
    uscc: Uscc | None = None
    kind: Annotated[LedgerKind, Strict(False)]
    amount_fen: Money | None = None
    in_kind_fen: Money | None = None
    note: Note = None
    problem_no: Key | None = None
    volunteers: counted(1, VOLUNTEERS_MAX) | None = None
    minutes: counted(1, MINUTES_MAX) | None = None


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
             open: Annotated[Flag | None, Query(description="true 未解决，false 已解决，缺省全部 / true: open, "  # noqa: A002
                                                             "false: solved, absent: both")] = None,
             page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """辖区内家庭反映的困难，按反映日期排序 / the problems of the households in the caller's scope,
    oldest first."""
    found = list_problems(store=who.store, region=region, open_only=open, page=PageRequest(page, page_size),
                          scope=who.scope)
    who.read("household", [p.household_no for p in found.items])
    return schemas.page_out(found, lambda p: schemas.shown("problem", p, who.user))


schemas.summarise(router)
