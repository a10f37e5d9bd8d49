"""What the REST API answers with: plain output models, ID numbers masked for roles that may not
see them. (The domain models validate ID checksums, so a masked ID cannot live in them.)"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel

from graph_schema.access.models import Scope, mask_id
from graph_schema.pagination import Page

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    pages: int


def page_out(page: Page, convert) -> dict:
    return {"items": [convert(i) for i in page.items], "total": page.total, "page": page.page,
            "page_size": page.page_size, "pages": page.pages}


class HouseholdOut(BaseModel):
    household_no: str
    head_name: str
    head_id: str
    region_code: str
    address: str | None = None
    size: int
    labour: int | None = None
    income_fen: int | None = None
    monitoring: str | None = None
    formerly_poor: bool | None = None
    dibao: bool | None = None
    tekun: bool | None = None
    elderly_carer: bool | None = None
    risk_factors: list[str] = []
    phone: str | None = None


class PersonOut(BaseModel):
    id_number: str
    name: str
    cert_no: str
    household_no: str
    relation: str | None = None
    category: int
    grade: int
    cert_expiry: dt.date | None = None
    labour_ability: str | None = None
    needs: list[str] = []


class CadreOut(BaseModel):
    cadre_no: str
    name: str
    phone: str | None = None
    unit: str
    unit_level: str
    role: str | None = None
    station_code: str
    pair_limit: int
    on_duty: bool


class OrgOut(BaseModel):
    uscc: str
    name: str
    org_type: str | None = None
    service_region_code: str
    service_modes: list[str] = []
    contact: str | None = None
    phone: str | None = None


class PairingOut(BaseModel):
    pairing_id: str
    household_no: str
    cadre_no: str
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str | None = None
    source: str
    proposal_id: str | None = None


class AuxPairingOut(BaseModel):
    pairing_id: str
    household_no: str
    uscc: str
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str | None = None
    source: str


class LedgerEntryOut(BaseModel):
    entry_id: str
    entry_date: dt.date
    household_no: str
    cadre_no: str | None = None
    uscc: str | None = None
    kind: str
    amount_fen: int | None = None
    in_kind_fen: int | None = None
    note: str | None = None
    problem_no: str | None = None


class ProblemOut(BaseModel):
    problem_no: str
    household_no: str
    opened_on: dt.date
    closed_on: dt.date | None = None
    reported_by: str
    resolved_by: str | None = None
    description: str | None = None
    resolution: str | None = None


def plain(model: BaseModel) -> dict:
    return model.model_dump(mode="json")


def household(h, scope: Scope) -> dict:
    row = plain(h)
    if not scope.sees_ids:
        row["head_id"] = mask_id(row["head_id"])
    return row


def person(p, scope: Scope) -> dict:
    row = plain(p)
    if not scope.sees_ids:
        row["id_number"], row["cert_no"] = mask_id(row["id_number"]), mask_id(row["cert_no"])
    return row


def ledger_entry(e) -> dict:
    return plain(e) | {"entry_id": e.entry_id}
