"""The page of auxiliary pairing requests (辅助结对申请). For organisers: the requests of the
households of their region, filtered by region and status, each pending one approved (with the
household's consent, as recorded) or declined here. For an organisation: a form to ask for a
household of the region it serves, by its number (no browsing of names), and its own requests
with their status, a pending one withdrawn here.

Reads go through the scoped service, decisions through :mod:`api.operations` (role, scope, the
rules checked again, the audit trail), as the APIs do. A decision the rules refuse comes back to
the page as a message; a request outside the jurisdiction answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api import operations
from api.auth import ORGANISERS
from api.web.lists import PAGE_SIZE, _back, _local, page_number, pager, region_of, region_choices, show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.enums import AuxRequestStatus
from graph_schema.access.models import Role
from graph_schema.errors import InvalidValue, NotFound, RuleViolation
from graph_schema.org.service import orgs_in
from graph_schema.pagination import PageRequest
from graph_schema.pairing.requests import list_aux_requests

router = APIRouter(include_in_schema=False)
PATH = "/aux-requests"
NOTE_MAX = 500


def _status(value: str | None) -> AuxRequestStatus | None:
    """The status filter: pending by default, ``all`` for every status."""
    if value == "all":
        return None
    try:
        return AuxRequestStatus(value or AuxRequestStatus.PENDING)
    except ValueError:
        raise InvalidValue("status", value, "不是可选的状态", "not a status") from None


@router.get(PATH, response_class=HTMLResponse)
def requests_page(request: Request, who: Who, region: str | None = None, status: str | None = None,
                  page: int | None = None) -> HTMLResponse:
    """辅助结对申请：本辖区户的申请，待审批的可批准或拒绝 / the auxiliary pairing requests of the
    region's households; pending ones are approved or declined here (an organisation: its own)."""
    who.require(operations.AUX_REQUEST_READERS, "查看辅助结对申请", "see auxiliary pairing requests")
    if who.user.role is Role.ORG:
        return _org_page(request, who, status, page)
    code = region_of(who, region)
    wanted = _status(status)
    found = list_aux_requests(store=who.store, scope=who.scope, status=wanted, region=code,
                              page=PageRequest(page_number(page), PAGE_SIZE))
    who.read("household", [q.household_no for q in found.items])
    usccs = sorted({q.uscc for q in found.items})
    orgs = who.store.read(lambda tx: orgs_in(tx, usccs, who.scope)) if usccs else {}
    rows = [privacy.redact("aux_request", q.model_dump(), who.user) for q in found.items]
    return show(request, who, "lists/aux_requests.html", rows=rows, pager=pager(found, request), region=code,
                regions=region_choices(who), status=wanted.value if wanted else "all",
                statuses=[s.value for s in AuxRequestStatus], orgs=orgs, may_decide=who.user.role in ORGANISERS,
                note_max=NOTE_MAX)


def _note(text: str) -> str | None:
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise InvalidValue("note", text[:20] + "…", f"最多 {NOTE_MAX} 个字符", f"at most {NOTE_MAX} characters")
    return text or None


@router.post(PATH + "/{request_id}/approve")
def approve(who: Who, request_id: str, note: Annotated[str, Form()] = "", consent_note: Annotated[str, Form()] = "",
            back: Annotated[str, Form()] = PATH) -> RedirectResponse:
    """批准申请：辅助结对即日开始 / approve: the auxiliary pairing begins today."""
    back = _local(back, PATH)
    try:
        done, _ = operations.approve_aux_request(who, request_id, _note(note), _note(consent_note))
    except (RuleViolation, InvalidValue) as exc:
        return _back(back, f"申请未能批准 / not approved: {exc.zh}", "error")
    return _back(back, f"已批准 / approved：户 {done.household_no} — 社会组织 {done.uscc}，辅助结对即日开始")


@router.post(PATH + "/{request_id}/decline")
def decline(who: Who, request_id: str, note: Annotated[str, Form()] = "",
            back: Annotated[str, Form()] = PATH) -> RedirectResponse:
    """拒绝申请 / decline the request."""
    back = _local(back, PATH)
    try:
        done = operations.decline_aux_request(who, request_id, _note(note))
    except (RuleViolation, InvalidValue) as exc:
        return _back(back, f"申请未能拒绝 / not declined: {exc.zh}", "error")
    return _back(back, f"已拒绝 / declined：户 {done.household_no} — 社会组织 {done.uscc}")


# --- an organisation's own requests ----------------------------------------------------------------

def _org_page(request: Request, who: Who, status: str | None, page: int | None,
              values: dict[str, str] | None = None, error: str | None = None, code: int = 200) -> HTMLResponse:
    wanted = None if not status else _status(status)
    found = list_aux_requests(store=who.store, scope=who.scope, status=wanted,
                              page=PageRequest(page_number(page), PAGE_SIZE))
    rows = [privacy.redact("aux_request", q.model_dump(), who.user) for q in found.items]
    answer = show(request, who, "org/requests.html", rows=rows, pager=pager(found, request),
                  status=wanted.value if wanted else "all", statuses=[s.value for s in AuxRequestStatus],
                  values=values or {}, error=error, note_max=NOTE_MAX)
    answer.status_code = code
    return answer


@router.post(PATH, response_class=HTMLResponse, response_model=None)
def ask(request: Request, who: Who, household_no: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
        service: Annotated[str, Form()] = "") -> HTMLResponse | RedirectResponse:
    """按户编号申请辅助结对 / ask for an auxiliary pairing with a household, by its number. A number
    that does not exist and one outside the region served answer alike."""
    who.require((Role.ORG,), "申请辅助结对（仅社会组织）", "ask for an auxiliary pairing (organisations only)")
    values = {"household_no": household_no, "reason": reason, "service": service}
    number, why = household_no.strip(), reason.strip()
    try:
        if not number or len(number) > 64:
            raise InvalidValue("户编号", household_no, "请填写户编号", "a household number is required",
                               field_en="household number")
        if not why:
            raise InvalidValue("理由", reason, "请说明申请理由", "say why you ask", field_en="reason")
        made = operations.request_aux(who, number, _note(why) or "", _note(service))
    except (InvalidValue, RuleViolation, NotFound) as exc:
        return _org_page(request, who, None, None, values, f"{exc.zh} / {exc.en}", 422 if isinstance(exc, InvalidValue)
                         else 404 if isinstance(exc, NotFound) else 409)
    return _back(PATH, f"已提交申请：户 {made.household_no}，待组织者审批 / asked for household {made.household_no}: "
                       "an organiser decides")


@router.post(PATH + "/{request_id}/withdraw")
def withdraw(who: Who, request_id: str) -> RedirectResponse:
    """撤回待审批的申请 / withdraw a pending request."""
    try:
        done = operations.withdraw_aux_request(who, request_id)
    except RuleViolation as exc:
        return _back(PATH, f"申请未能撤回 / not withdrawn: {exc.zh}", "error")
    return _back(PATH, f"已撤回 / withdrawn：户 {done.household_no}")
