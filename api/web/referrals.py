"""An organisation's referrals (转介) in the console: the needs organisers have sent to it, each
accepted or turned down (with a reason from the closed list) here, and the service it delivers for
one recorded here, which completes the referral when it counts; below, its deliveries to the
persons of the referrals listed.

Reads go through the services' own functions with the organisation's scope (it sees only the
referrals sent to it, the ID numbers masked as the privacy table says), changes through
:mod:`api.operations` as the REST routes do (role, the referral's provider, the audit trail). A
referral sent to another provider answers as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import operations
from api.web import menu
from api.web.lists import PAGE_SIZE, _back, page_number, pager, show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.enums import DeliveryOutcome, ReferralReason, ReferralStatus
from graph_schema.errors import InvalidValue, NotFound, RuleViolation
from graph_schema.household.service import persons_in
from graph_schema.models import today
from graph_schema.pagination import PageRequest
from graph_schema.service.catalogue import Catalogue, get_catalogue
from graph_schema.service.deliveries import deliveries_in
from graph_schema.service.models import Delivery, Referral
from graph_schema.service.referrals import get_referral_in, list_referrals

router = APIRouter(include_in_schema=False)
PATH = "/referrals"
NOTE_MAX = 500


def _status(value: str | None) -> ReferralStatus | None:
    if not value or value == "all":
        return None
    try:
        return ReferralStatus(value)
    except ValueError:
        raise InvalidValue("状态", value, "不是可选的状态", "not a status", field_en="status") from None


def _mine(who: Who, referral_id: str) -> Referral:
    """A referral sent to the caller's organisation (NotFound otherwise, as for an unknown id)."""
    who.require(menu.ORGS, "处理转介（仅承接的社会组织）", "handle referrals (their organisation only)")
    found = who.store.read(lambda tx: get_referral_in(tx, referral_id))
    if found is None or found.provider_uscc != who.user.uscc:
        raise NotFound("转介", "referral", referral_id)
    return found


def _service_name(catalogue: Catalogue, code: str | None) -> str:
    return catalogue.types[code].name if code and code in catalogue.types else "—"


@router.get(PATH, response_class=HTMLResponse)
def referrals_page(request: Request, who: Who, status: str | None = None, page: int | None = None) -> HTMLResponse:
    """转介：发给本组织的服务需求，可接收或拒绝，并记录服务 / the referrals sent to the
    organisation: accept or turn one down, record the service given."""
    who.require(menu.ORGS, "查看发给本组织的转介", "see the referrals sent to one's organisation")
    wanted = _status(status)
    found = list_referrals(store=who.store, scope=who.scope, status=wanted,
                           page=PageRequest(page_number(page), PAGE_SIZE))
    numbers = sorted({r.id_number for r in found.items})
    persons, given = who.store.read(lambda tx: (persons_in(tx, numbers), deliveries_in(tx, numbers)))
    who.read("person", numbers)
    catalogue = get_catalogue(store=who.store)
    names = {n: privacy.redact("person", {"name": p.name}, who.user)["name"] for n, p in persons.items()}
    rows = [privacy.redact("service_record", r.model_dump(), who.user) | {
        "service": _service_name(catalogue, r.service_code), "person": names.get(r.id_number, "—")}
        for r in found.items]
    delivered = [privacy.redact("service_record", d.model_dump() | {"delivery_id": d.delivery_id}, who.user) | {
        "service": _service_name(catalogue, d.service_code), "person": names.get(d.id_number, "—")}
        for number in numbers for d in given[number] if d.uscc == who.user.uscc]
    return show(request, who, "org/referrals.html", rows=rows, pager=pager(found, request), delivered=delivered,
                status=wanted.value if wanted else "all", statuses=[s.value for s in ReferralStatus],
                reasons=[r.value for r in ReferralReason], note_max=NOTE_MAX, today=today())


def _note(text: str) -> str | None:
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise InvalidValue("说明", text[:20] + "…", f"最多 {NOTE_MAX} 个字符", f"at most {NOTE_MAX} characters",
                           field_en="note")
    return text or None


@router.post(PATH + "/{referral_id}/accept")
def accept(who: Who, referral_id: str) -> RedirectResponse:
    """接收转介 / accept a referral."""
    _mine(who, referral_id)
    try:
        operations.answer_referral(who, referral_id, True)
    except RuleViolation as exc:
        return _back(PATH, f"转介未能接收 / not accepted: {exc.zh} / {exc.en}", "error")
    return _back(PATH, f"已接收转介 / accepted: {referral_id}")


@router.post(PATH + "/{referral_id}/reject")
def reject(who: Who, referral_id: str, reason: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "") -> RedirectResponse:
    """拒绝转介，须选原因 / turn a referral down, with a reason from the list."""
    _mine(who, referral_id)
    try:
        try:
            why = ReferralReason(reason)
        except ValueError:
            raise InvalidValue("原因", reason, "请从列表中选择拒绝原因", "choose a reason from the list",
                               field_en="reason") from None
        operations.answer_referral(who, referral_id, False, why, _note(note))
    except (InvalidValue, RuleViolation) as exc:
        return _back(PATH, f"转介未能拒绝 / not turned down: {exc.zh} / {exc.en}", "error")
    return _back(PATH, f"已拒绝转介 / turned down: {referral_id}")


def _deliver_page(request: Request, who: Who, referral: Referral, values: dict[str, str] | None = None,
                  error: str | None = None, status: int = 200) -> HTMLResponse:
    catalogue = get_catalogue(store=who.store)
    codes = catalogue.codes(referral.category.value)
    choices = [(c, catalogue.types[c].name) for c in codes]
    person = who.store.read(lambda tx: persons_in(tx, [referral.id_number])).get(referral.id_number)
    shown = privacy.redact("service_record", referral.model_dump(), who.user) | {
        "service": _service_name(catalogue, referral.service_code),
        "person": privacy.redact("person", {"name": person.name}, who.user)["name"] if person else "—"}
    answer = show(request, who, "org/deliver.html", referral=shown, choices=choices,
                  outcomes=[o.value for o in DeliveryOutcome], note_max=NOTE_MAX, error=error, today=today(),
                  values=values or {"service_code": referral.service_code or (codes[0] if codes else ""),
                                    "delivered_on": today().isoformat(), "quantity": "1",
                                    "outcome": DeliveryOutcome.DONE.value})
    answer.status_code = status
    return answer


@router.get(PATH + "/{referral_id}/deliver", response_class=HTMLResponse)
def deliver_form(request: Request, who: Who, referral_id: str) -> HTMLResponse:
    """记录为这项转介提供的服务 / record the service given for a referral."""
    return _deliver_page(request, who, _mine(who, referral_id))


def _delivery(who: Who, referral: Referral, values: dict[str, str]) -> Delivery:
    """The delivery the form describes, or InvalidValue naming the field at fault."""
    try:
        day = dt.date.fromisoformat(values["delivered_on"])
    except ValueError:
        raise InvalidValue("服务日期", values["delivered_on"], "不是日期", "not a date", field_en="date") from None
    if day > today():
        raise InvalidValue("服务日期", values["delivered_on"], "不能晚于今天", "cannot be after today", field_en="date")
    if day < referral.made_on:
        raise InvalidValue("服务日期", values["delivered_on"], f"早于转介日期 {referral.made_on}",
                           f"before the referral was made ({referral.made_on})", field_en="date")
    try:
        quantity = int(values["quantity"].strip() or "1")
    except ValueError:
        raise InvalidValue("数量", values["quantity"], "应为整数", "must be a whole number", field_en="quantity") from None
    try:
        outcome = DeliveryOutcome(values["outcome"])
    except ValueError:
        raise InvalidValue("结果", values["outcome"], "请选择结果", "choose an outcome", field_en="outcome") from None
    try:
        return Delivery(id_number=referral.id_number, service_code=values["service_code"].strip(), delivered_on=day,
                        uscc=who.user.uscc, quantity=quantity, item=_note(values["item"]), outcome=outcome)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "delivery"
        raise InvalidValue({"quantity": "数量", "service_code": "服务项目"}.get(field, "服务记录"), values.get(field, ""),
                           "不合要求（数量 1–1000000）", "not accepted (a quantity of 1–1,000,000)",
                           field_en=field) from None


@router.post(PATH + "/{referral_id}/deliver", response_class=HTMLResponse, response_model=None)
def deliver(request: Request, who: Who, referral_id: str, service_code: Annotated[str, Form()] = "",
            delivered_on: Annotated[str, Form()] = "", quantity: Annotated[str, Form()] = "1",
            outcome: Annotated[str, Form()] = "", item: Annotated[str, Form()] = "") -> Response:
    """Record it in the organisation's own name; a delivery that counts completes the referral."""
    referral = _mine(who, referral_id)
    values = {"service_code": service_code, "delivered_on": delivered_on, "quantity": quantity, "outcome": outcome,
              "item": item}
    try:
        if service_code not in get_catalogue(store=who.store).codes(referral.category.value):
            raise InvalidValue("服务项目", service_code, f"不是「{referral.category.value}」类的服务",
                               f"not a service of the category {referral.category.value}", field_en="service")
        operations.record_delivery(who, _delivery(who, referral, values))
    except (InvalidValue, RuleViolation, NotFound) as exc:
        return _deliver_page(request, who, referral, values, f"{exc.zh} / {exc.en}", 422)
    return _back(PATH, f"已记录服务 / recorded: {referral.category.value}，{delivered_on}")
