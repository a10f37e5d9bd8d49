"""What the REST API answers with: plain output models, each object as the caller may see it
under the privacy policy (``graph_schema/access/privacy.py``: masked values are plain strings,
withheld ones null, so every field some role is denied is nullable here). The domain models
validate ID checksums, so a masked ID cannot live in them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from api.rest.inputs import SEMANTIC_CODES, RegionCode, whole
from graph_schema.access import privacy
from graph_schema.access.models import User
from graph_schema.pagination import Page

T = TypeVar("T")

PageQ = Annotated[whole(1, 1_000_000), Query(description="页码 / page, from 1")]
PageSizeQ = Annotated[whole(1, 1000), Query(description="每页条数 / rows per page")]
RegionQ = Annotated[RegionCode | None, Query(description="区划代码（2/4/6/9/12位，任意级），默认本辖区 / region code "
                                                         "(2, 4, 6, 9 or 12 digits, any level); default the caller's "
                                                         "jurisdiction")]


class ErrorOut(BaseModel):
    """Every error answer: a stable ``code``, the message in Chinese and in English, the request's
    id, and the details of the error (the field at fault, the key not found, the rule's figures)."""

    model_config = ConfigDict(extra="allow")
    code: str
    message: str
    message_en: str
    request_id: str | None = None


def _error(zh: str, en: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"model": ErrorOut, "description": f"{zh} / {en}"}
    if headers:
        answer["headers"] = {name: {"description": text, "required": True, "schema": {"type": "string"}}
                             for name, text in headers.items()}
    return answer


_SEMANTIC = "; ".join(f"`{code}`: {text}" for code, text in SEMANTIC_CODES.items())
#: The error answers every route may give, for the OpenAPI document (routers add their own).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("未登录或令牌无效", "no, unknown, expired or revoked token",
                {"WWW-Authenticate": "Bearer"}),
    403: _error("角色无权执行此操作", "the role may never do this"),
    404: _error("不存在或不在管辖范围内", "not found, or outside the caller's jurisdiction"),
    422: _error("请求无效：errors 列出不合本文档的字段（code 为 VALIDATION）；本文档无法表达的规则以其代码回答"
                "（在顶层或在 errors 中该字段上）",
                f"invalid input: `errors` names each field that breaks this document (`code` VALIDATION); a rule "
                f"no schema can state answers with its own code, at the top or on its field in `errors` ({_SEMANTIC})"),
    429: _error("无效令牌过多，请稍后再试（见 Retry-After）", "too many bad tokens from this address; see Retry-After",
                {"Retry-After": "等待秒数 / seconds to wait"}),
    503: _error("图库暂时不可用，请稍后重试", "the store is unavailable; retry later"),
}
#: … and those that take a body (which may not even be text) and change data (a business rule
#: may refuse the change).
WRITE_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {
    400: _error("请求体无法解析", "the body cannot be parsed"),
    409: _error("违反业务规则（code 为稳定的规则代码）", "a business rule refused it; `code` names the rule"),
}


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
    risk_factors: list[str] | None = []
    phone: str | None = None


class PersonOut(BaseModel):
    id_number: str
    name: str
    cert_no: str
    household_no: str
    relation: str | None = None
    category: int | None
    grade: int | None
    cert_expiry: dt.date | None = None
    labour_ability: str | None = None
    needs: list[str] | None = []


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


class CadreDetailOut(CadreOut):
    load: int  # active one-to-one pairings now; pair_limit is the most allowed


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


class AuxRequestOut(BaseModel):
    request_id: str
    household_no: str
    uscc: str
    region_code: str
    reason: str | None = Field(description="申请理由（门户不可见）/ why it asks (withheld from portals)")
    service: str | None = None
    status: str = Field(description="待审批 / 已批准 / 已拒绝 / 已撤回")
    requested_at: str
    requested_by: str
    decided_at: str | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    consent_note: str | None = None
    pairing_id: str | None = None


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
    volunteers: int | None = Field(None, description="志愿服务的志愿者人数 / volunteers of a volunteer service")
    minutes: int | None = Field(None, description="志愿服务每人时长（分钟）/ minutes each volunteer gave")
    record_no: str | None = None  # 记录编号, when the entry was given one


class ProblemOut(BaseModel):
    problem_no: str
    household_no: str
    opened_on: dt.date
    closed_on: dt.date | None = None
    reported_by: str
    resolved_by: str | None = None
    description: str | None = None
    resolution: str | None = None


def summarise(router: APIRouter) -> APIRouter:
    """Give each route of ``router`` its docstring's first paragraph (Chinese / English) as its
    OpenAPI summary; the whole docstring stays its description."""
    for route in router.routes:
        if isinstance(route, APIRoute) and not route.summary and route.description:
            first = route.description.strip().split("\n\n")[0]
            route.summary = " ".join(line.strip() for line in first.splitlines()).rstrip("。.")
    return router


def plain(model: BaseModel) -> dict:
    return model.model_dump(mode="json")


def shown(subject: str, model: BaseModel, user: User) -> dict:
    """A domain object as ``user`` may see it: the one place REST applies the privacy policy
    (``subject`` names the object's rows of the policy table: household, person, cadre …)."""
    return privacy.redact(subject, plain(model), user)


def ledger_entry(e, user: User) -> dict:
    return shown("ledger", e, user) | {"entry_id": e.entry_id}


class ExclusionOut(BaseModel):
    household_no: str
    cadre_no: str
    reason: str
    since: dt.date
    note: str | None = None


class AuditEntryOut(BaseModel):
    audit_id: str
    at: str
    user_id: str
    role: str
    action: str
    operation: str
    object_kind: str
    object_keys: list[str]
    request_id: str


def exclusion(e) -> dict:
    return {"household_no": e.household_no, "cadre_no": e.cadre_no, "reason": str(e.reason.value),
            "since": e.since.isoformat(), "note": e.note}
