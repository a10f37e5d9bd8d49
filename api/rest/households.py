"""Households and their disabled members, pairings, ledger and problems (all scoped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import ORGANISERS, Caller, caller
from api.rest import schemas
from api.rest.inputs import HouseholdNoP, IdNumberP
from api.rest.schemas import (
    ERRORS,
    AuxPairingOut,
    HouseholdOut,
    LedgerEntryOut,
    PageOut,
    PageQ,
    PageSizeQ,
    PairingOut,
    PersonOut,
    ProblemOut,
    RegionQ,
)
from graph_schema.household.service import get_household, get_person, list_households, members_in
from graph_schema.ledger.service import ledger_in, problems_in
from graph_schema.monitoring.common import paginate
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import aux_pairings_in, pairings_in

router = APIRouter(tags=["households 家庭"], responses=ERRORS)


@router.get("/households", response_model=PageOut[HouseholdOut])
def households(who: Annotated[Caller, Depends(caller)],
               region: RegionQ = None,
               page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """户列表：辖区内的家庭，按户编号排序 / households in the caller's jurisdiction, by number."""
    found = list_households(store=who.store, region=region, page=PageRequest(page, page_size), scope=who.scope)
    who.read("household", [h.household_no for h in found.items])
    return schemas.page_out(found, lambda h: schemas.shown("household", h, who.user))


@router.get("/households/{household_no}", response_model=HouseholdOut)
def household(household_no: HouseholdNoP, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一户的基本信息 / one household."""
    found = get_household(store=who.store, household_no=household_no, scope=who.scope)
    who.read("household", [household_no])
    return schemas.shown("household", found, who.user)


def _scoped(who: Caller, household_no: str, part, page: int, page_size: int):
    """A page of a household's related records, after checking in the store that the household
    is in scope. (A household's lists are short: read whole, paged here.)"""
    get_household(store=who.store, household_no=household_no, scope=who.scope)
    who.read("household", [household_no])
    return paginate(who.store.read(lambda tx: part(tx, [household_no]))[household_no], PageRequest(page, page_size))


@router.get("/households/{household_no}/members", response_model=PageOut[PersonOut])
def members(household_no: HouseholdNoP, who: Annotated[Caller, Depends(caller)],
            page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """家庭中的残疾人 / the household's disabled members."""
    people = _scoped(who, household_no, members_in, page, page_size)
    who.read("person", [p.id_number for p in people.items])
    return schemas.page_out(people, lambda p: schemas.shown("person", p, who.user))


@router.get("/households/{household_no}/pairings", response_model=PageOut[PairingOut])
def pairings(household_no: HouseholdNoP, who: Annotated[Caller, Depends(caller)],
             page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """一对一结对（含历史）/ one-to-one pairings, past ones included, oldest first."""
    return schemas.page_out(_scoped(who, household_no, pairings_in, page, page_size),
                            lambda p: schemas.shown("pairing", p, who.user))


@router.get("/households/{household_no}/aux-pairings", response_model=PageOut[AuxPairingOut])
def aux_pairings(household_no: HouseholdNoP, who: Annotated[Caller, Depends(caller)],
                 page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """辅助结对（含历史）/ auxiliary pairings with organisations, oldest first."""
    return schemas.page_out(_scoped(who, household_no, aux_pairings_in, page, page_size),
                            lambda p: schemas.shown("pairing", p, who.user))


@router.get("/households/{household_no}/ledger", response_model=PageOut[LedgerEntryOut])
def ledger(household_no: HouseholdNoP, who: Annotated[Caller, Depends(caller)],
           page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """帮扶台账 / the household's ledger, oldest first."""
    return schemas.page_out(_scoped(who, household_no, ledger_in, page, page_size),
                            lambda e: schemas.ledger_entry(e, who.user))


@router.get("/households/{household_no}/problems", response_model=PageOut[ProblemOut])
def problems(household_no: HouseholdNoP, who: Annotated[Caller, Depends(caller)],
             page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """反映的困难（含已解决）/ the household's problems, solved ones included."""
    return schemas.page_out(_scoped(who, household_no, problems_in, page, page_size),
                            lambda p: schemas.shown("problem", p, who.user))


@router.get("/persons/{id_number}", response_model=PersonOut)
def person(id_number: IdNumberP, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一名残疾人 / one disabled person (by full ID number; admins and organisers only).

    Looking a person up by a full ID number tells whether they are a registered disabled person, so
    the other roles get 403 whatever the number: they reach persons through their households."""
    who.require(ORGANISERS, "按身份证号查询残疾人", "look a person up by ID number")
    found = get_person(store=who.store, id_number=id_number, scope=who.scope)
    who.read("person", [id_number])
    return schemas.shown("person", found, who.user)


schemas.summarise(router)
