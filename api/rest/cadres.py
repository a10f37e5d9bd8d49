"""Cadres: the list in the caller's scope, one cadre with their load, their current households."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import CadreNoP
from api.rest.schemas import ERRORS, CadreDetailOut, CadreOut, HouseholdOut, PageOut, PageQ, PageSizeQ
from graph_schema.cadre.service import get_cadre, list_cadres
from graph_schema.household.service import households_in
from graph_schema.monitoring.common import paginate
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import cadre_households_in, cadre_load

router = APIRouter(tags=["cadres 干部"], responses=ERRORS)


@router.get("/cadres", response_model=PageOut[CadreOut])
def cadres(who: Annotated[Caller, Depends(caller)], page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """干部列表：辖区内驻点的干部，按干部编号排序 / cadres stationed in the caller's jurisdiction, by number.

    A cadre sees themself; an organisation sees none."""
    found = list_cadres(store=who.store, page=PageRequest(page, page_size), scope=who.scope)
    return schemas.page_out(found, lambda c: schemas.shown("cadre", c, who.user))


@router.get("/cadres/{cadre_no}", response_model=CadreDetailOut)
def cadre(cadre_no: CadreNoP, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一名干部及其当前结对户数与上限 / one cadre, with their current load and pairing limit."""
    found = get_cadre(store=who.store, cadre_no=cadre_no, scope=who.scope)
    return schemas.shown("cadre", found, who.user) | {"load": cadre_load(store=who.store, cadre_nos=[cadre_no])[cadre_no]}


@router.get("/cadres/{cadre_no}/households", response_model=PageOut[HouseholdOut])
def cadre_households(cadre_no: CadreNoP, who: Annotated[Caller, Depends(caller)],
                     page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """干部当前结对的家庭（仅辖区内）/ the households the cadre is paired with now, those in scope only.
    (At most the cadre's pairing limit: read whole, paged here.)"""
    get_cadre(store=who.store, cadre_no=cadre_no, scope=who.scope)

    def work(tx):
        numbers = cadre_households_in(tx, [cadre_no], who.scope)[cadre_no]
        found = households_in(tx, numbers, who.scope)
        return [found[no] for no in numbers if no in found]

    households = paginate(who.store.read(work), PageRequest(page, page_size))
    who.read("household", [h.household_no for h in households.items])
    return schemas.page_out(households, lambda h: schemas.shown("household", h, who.user))


schemas.summarise(router)
