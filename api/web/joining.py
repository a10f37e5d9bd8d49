"""Organisations asking to join (入驻申请): the public form beside the sign-in page, and the
organisers' page of requests, where they approve one (the organisation and its account are
made; the account's one-time code is shown once, on the answer to the approval) or decline it.

The form needs no account, so it is guarded as the sign-in is: the request must come from this
site (``api.security.same_origin``), and each client address may send :data:`PER_HOUR` requests
an hour (``app.state.join_throttle``). Every request is in the audit trail, as a write of the
user ``anonymous``. Its answer is the same for every valid request: whether the 统一社会信用代码 is
registered already is told only to the organisers who decide.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api import operations
from api.auth import ORGANISERS, services
from api.security import CrossOrigin, same_origin
from api.throttle import TooManyAttempts, client_address
from api.web.lists import PAGE_SIZE, _back, _local, page_number, pager, show
from api.web.pages import Who, render
from api.web.regions import region_names
from graph_schema.access import privacy
from graph_schema.access.audit import public_entry
from graph_schema.enums import JoinStatus
from graph_schema.errors import InvalidValue, RuleViolation
from graph_schema.identifiers import IdentifierError
from graph_schema.org.joining import JoinRequestIn, ask_to_join, list_join_requests, registered
from graph_schema.pagination import PageRequest
from importers.cells import CellError, phone

router = APIRouter(include_in_schema=False)
PATH = "/join-requests"
PER_HOUR = 10  # as app.state.join_throttle counts them
NOTE_MAX = 500


def _join_page(request: Request, values: dict[str, str], errors: dict[str, str], *, done: bool = False,
               status: int = 200) -> HTMLResponse:
    answer = render(request, None, "join.html", values=values, errors=errors, done=done)
    answer.status_code = status
    return answer


@router.get("/join", response_class=HTMLResponse)
def join_form(request: Request) -> HTMLResponse:
    """社会组织申请入驻 / an organisation asks to join."""
    return _join_page(request, {}, {})


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """Each field's first problem, in both languages."""
    out: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "name"
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, IdentifierError):
            text = f"{cause.reason_zh} / {cause.reason_en}"
        elif field in ("name", "contact"):
            text = "请填写（名称 2–100 字，联系人 1–50 字）/ required (a name of 2–100, a contact of 1–50 characters)"
        else:
            text = "格式不对 / not in the expected form"
        out.setdefault(field, text)
    return out


@router.post("/join", response_class=HTMLResponse)
def join(request: Request, name: Annotated[str, Form()] = "", uscc: Annotated[str, Form()] = "",
         service_region_code: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "",
         phone_number: Annotated[str, Form(alias="phone")] = "") -> HTMLResponse:
    """Store a request to join: checked field by field, then the same answer for every valid one."""
    if not same_origin(request):
        raise CrossOrigin()
    throttle, key = request.app.state.join_throttle, "ip:" + client_address(request.client)
    values = {"name": name, "uscc": uscc, "service_region_code": service_region_code, "contact": contact,
              "phone": phone_number}
    try:
        throttle.check(key)
    except TooManyAttempts as exc:
        answer = _join_page(request, values, {"form": f"{exc.zh} / {exc.en}"}, status=429)
        answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    throttle.fail(key)  # every request counts, good or bad: the form writes without an account
    errors: dict[str, str] = {}
    try:
        checked_phone = phone(phone_number) or ""
    except CellError as exc:
        errors["phone"], checked_phone = f"{exc.zh} / {exc.en}", ""
    if not checked_phone and "phone" not in errors:
        errors["phone"] = "请填写联系电话 / a phone number is required"
    try:
        wanted = JoinRequestIn(name=name, uscc=uscc, service_region_code=service_region_code.strip(), contact=contact,
                               phone=checked_phone or "0" * 7)  # a phone refused above: the others are still checked
    except ValidationError as exc:
        errors = _field_errors(exc) | errors
    if errors:
        return _join_page(request, values, errors, status=422)
    try:
        made = ask_to_join(store=services(request).store, request=wanted)
    except InvalidValue as exc:
        return _join_page(request, values, {"service_region_code": f"{exc.zh} / {exc.en}"}, status=422)
    audit = services(request).audit
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    audit.add([public_entry("POST /join", "join_request", [made.request_id], request_id)])
    audit.flush()
    return _join_page(request, {}, {}, done=True)


# --- the organisers' page -------------------------------------------------------------------------

def _status(value: str | None) -> JoinStatus | None:
    if value == "all":
        return None
    try:
        return JoinStatus(value or JoinStatus.PENDING)
    except ValueError:
        raise InvalidValue("status", value, "不是可选的状态", "not a status") from None


def _requests_page(request: Request, who: Who, status: str | None, page: int | None,
                   issued: Any = None, approved: Any = None) -> HTMLResponse:
    who.require(ORGANISERS, "查看入驻申请", "see requests to join")
    wanted = _status(status)
    found = list_join_requests(store=who.store, scope=who.scope, status=wanted,
                               page=PageRequest(page_number(page), PAGE_SIZE))
    known = registered(store=who.store, usccs=[r.uscc for r in found.items])
    rows = [privacy.redact("join_request", r.model_dump(), who.user) for r in found.items]
    names = region_names(who.store, [r.service_region_code for r in found.items])
    return show(request, who, "join_requests.html", rows=rows, pager=pager(found, request), known=known, names=names,
                status=wanted.value if wanted else "all", statuses=[s.value for s in JoinStatus], note_max=NOTE_MAX,
                issued=issued, approved=approved)


@router.get(PATH, response_class=HTMLResponse)
def requests_page(request: Request, who: Who, status: str | None = None, page: int | None = None) -> HTMLResponse:
    """入驻申请：服务区划在本辖区内的申请 / the requests to join naming a service region of the
    organiser's jurisdiction, pending ones by default."""
    return _requests_page(request, who, status, page)


def _note(text: str) -> str | None:
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise InvalidValue("note", text[:20] + "…", f"最多 {NOTE_MAX} 个字符", f"at most {NOTE_MAX} characters")
    return text or None


@router.post(PATH + "/{request_id}/approve", response_class=HTMLResponse, response_model=None)
def approve(request: Request, who: Who, request_id: str,
            note: Annotated[str, Form()] = "") -> HTMLResponse | RedirectResponse:
    """批准：建立社会组织及其账号，一次性登录码只在此显示一次 / approve: the organisation and its
    account are made; the one-time code is shown on this answer only."""
    try:
        done, issued = operations.approve_join(who, request_id, _note(note))
    except (RuleViolation, InvalidValue) as exc:
        return _back(PATH, f"申请未能批准 / not approved: {exc.zh}", "error")
    return _requests_page(request, who, None, None, issued=issued, approved=done)


@router.post(PATH + "/{request_id}/decline")
def decline(who: Who, request_id: str, note: Annotated[str, Form()] = "",
            back: Annotated[str, Form()] = PATH) -> RedirectResponse:
    """拒绝申请 / decline the request."""
    back = _local(back, PATH)
    try:
        done = operations.decline_join(who, request_id, _note(note))
    except (RuleViolation, InvalidValue) as exc:
        return _back(back, f"申请未能拒绝 / not declined: {exc.zh}", "error")
    return _back(back, f"已拒绝 / declined：{done.name}（{done.uscc}）")
