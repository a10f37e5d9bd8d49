"""Social organisations: the list in the caller's scope, one organisation, its auxiliary
pairings and what it recorded in the ledger (donations, volunteer services …)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import UsccP
from api.rest.schemas import ERRORS, AuxPairingOut, LedgerEntryOut, OrgOut, PageOut, PageQ, PageSizeQ
from graph_schema.ledger.service import org_ledger_in
from graph_schema.monitoring.common import paginate
from graph_schema.org.service import get_org, list_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import org_aux_pairings_in

router = APIRouter(tags=["orgs 社会组织"], responses=ERRORS)


@router.get("/orgs", response_model=PageOut[OrgOut])
def orgs(who: Annotated[Caller, Depends(caller)], page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """社会组织列表：服务于辖区（或包含辖区的上级区划）的组织 / organisations serving the jurisdiction
    (or a wider region that holds it), by code. An organisation sees itself; a cadre sees none."""
    found = list_orgs(store=who.store, page=PageRequest(page, page_size), scope=who.scope)
    return schemas.page_out(found, lambda o: schemas.shown("org", o, who.user))


@router.get("/orgs/{uscc}", response_model=OrgOut)
def org(uscc: UsccP, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一个社会组织 / one organisation (by its unified social credit code)."""
    return schemas.shown("org", get_org(store=who.store, uscc=uscc, scope=who.scope), who.user)


@router.get("/orgs/{uscc}/aux-pairings", response_model=PageOut[AuxPairingOut])
def aux_pairings(uscc: UsccP, who: Annotated[Caller, Depends(caller)],
                 page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """组织的辅助结对（含历史，仅辖区内的家庭）/ the organisation's auxiliary pairings, past ones
    included, with households in the caller's scope only, oldest first."""
    get_org(store=who.store, uscc=uscc, scope=who.scope)
    pairings = who.store.read(lambda tx: org_aux_pairings_in(tx, [uscc], who.scope))[uscc]
    found = paginate(pairings, PageRequest(page, page_size))
    who.read("household", [p.household_no for p in found.items])
    return schemas.page_out(found, lambda p: schemas.shown("pairing", p, who.user))


@router.get("/orgs/{uscc}/ledger", response_model=PageOut[LedgerEntryOut])
def ledger(uscc: UsccP, who: Annotated[Caller, Depends(caller)],
           page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """组织记录的帮扶台账（捐款捐物、志愿服务等，仅辖区内的家庭）/ what the organisation recorded
    for households in the caller's scope, oldest first."""
    get_org(store=who.store, uscc=uscc, scope=who.scope)
    entries = who.store.read(lambda tx: org_ledger_in(tx, [uscc], who.scope))[uscc]
    found = paginate(entries, PageRequest(page, page_size))
    who.read("household", [e.household_no for e in found.items])
    return schemas.page_out(found, lambda e: schemas.ledger_entry(e, who.user))


schemas.summarise(router)
