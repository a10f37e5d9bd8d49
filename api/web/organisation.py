"""A social organisation's pages beyond its start page (``/aux-pairings``, in ``start.py``): what
it records for one of its households (a donation: cash and in-kind value in yuan; a volunteer
service: the volunteers and the hours each gave) with its own earlier records there, and the end
of one of its auxiliary pairings. Its requests for new pairings are on ``/aux-requests``, the
referrals sent to it and its deliveries on ``/referrals`` (``referrals.py``).

Everything goes through :mod:`api.operations` in the organisation's own name: a household outside
its active pairings answers as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import operations
from api.web import menu
from api.web.lists import _back, show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.enums import LedgerKind
from graph_schema.errors import InvalidValue, RuleViolation
from graph_schema.household.service import get_household
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import ledger_in
from graph_schema.models import today
from importers.cells import CellError, hours_minutes, integer, money_fen

router = APIRouter(include_in_schema=False)
START = "/aux-pairings"
#: what an organisation records here
KINDS = (LedgerKind.DONATION, LedgerKind.VOLUNTEER)
NOTE_MAX = 500


def _record_page(request: Request, who: Who, household_no: str, values: dict[str, str] | None = None,
                 error: str | None = None, status: int = 200) -> HTMLResponse:
    who.require(menu.ORGS, "记录本组织的帮扶", "record one's own help")
    found = get_household(store=who.store, household_no=household_no, scope=who.scope)
    ledger = who.store.read(lambda tx: ledger_in(tx, [household_no]))[household_no]
    mine = [e for e in reversed(ledger) if e.uscc == who.user.uscc]  # its own records only
    who.read("household", [household_no])
    answer = show(request, who, "org/record.html", household=privacy.redact("household", found.model_dump(), who.user),
                  entries=mine, kinds=[k.value for k in KINDS], values=values or {"kind": KINDS[0].value,
                                                                                 "entry_date": today().isoformat()},
                  error=error, note_max=NOTE_MAX, day=today())
    answer.status_code = status
    return answer


@router.get(START + "/{household_no}/record", response_class=HTMLResponse)
def record_form(request: Request, who: Who, household_no: str) -> HTMLResponse:
    """记录捐赠或志愿服务 / record a donation or a volunteer service for one of the households."""
    return _record_page(request, who, household_no)


def _entry(who: Who, household_no: str, values: dict[str, str]) -> LedgerEntry:
    """The entry the form describes, or InvalidValue naming the field at fault."""
    try:
        kind = LedgerKind(values["kind"])
    except ValueError:
        raise InvalidValue("类型", values["kind"], "只能记录捐款捐物或志愿服务", "a donation or a volunteer service only",
                           field_en="kind") from None
    if kind not in KINDS:
        raise InvalidValue("类型", values["kind"], "只能记录捐款捐物或志愿服务", "a donation or a volunteer service only",
                           field_en="kind")
    try:
        day = dt.date.fromisoformat(values["entry_date"])
    except ValueError:
        raise InvalidValue("日期", values["entry_date"], "不是日期", "not a date", field_en="date") from None
    parsed: dict[str, Any] = {}
    for field, name_zh, name_en, parse in (("amount", "金额", "cash", money_fen), ("in_kind", "物资折合", "in kind", money_fen),
                                           ("hours", "服务时长", "hours", hours_minutes),
                                           ("volunteers", "志愿者人数", "volunteers", integer)):
        try:
            parsed[field] = parse(values[field])
        except CellError as exc:
            raise InvalidValue(name_zh, values[field], exc.zh, exc.en, field_en=name_en) from None
    note = values["note"].strip()
    if len(note) > NOTE_MAX:
        raise InvalidValue("内容", note[:20] + "…", f"最多 {NOTE_MAX} 个字符", f"at most {NOTE_MAX} characters",
                           field_en="note")
    if kind is LedgerKind.DONATION:
        if not (parsed["amount"] or parsed["in_kind"]):
            raise InvalidValue("金额", "", "捐赠须填写金额或物资折合", "a donation needs cash or an in-kind value",
                               field_en="cash")
        figures = {"amount_fen": parsed["amount"], "in_kind_fen": parsed["in_kind"]}
    else:
        if parsed["hours"] is None or parsed["volunteers"] is None:
            raise InvalidValue("服务时长", "", "志愿服务须填写志愿者人数和服务时长", "a volunteer service needs volunteers "
                               "and hours", field_en="hours")
        figures = {"volunteers": parsed["volunteers"], "minutes": parsed["hours"]}
    try:
        return LedgerEntry(entry_date=day, household_no=household_no, uscc=who.user.uscc, kind=kind, note=note or None,
                           **figures)
    except ValueError as exc:  # pydantic's bounds (volunteers, hours)
        raise InvalidValue("帮扶记录", "", "志愿者人数 1–10000，服务时长最多 1000 小时", "volunteers 1–10,000 and at "
                           "most 1,000 hours", field_en="entry") from exc


@router.post(START + "/{household_no}/record", response_class=HTMLResponse, response_model=None)
def record(request: Request, who: Who, household_no: str, kind: Annotated[str, Form()] = "",
           entry_date: Annotated[str, Form()] = "", amount: Annotated[str, Form()] = "",
           in_kind: Annotated[str, Form()] = "", hours: Annotated[str, Form()] = "",
           volunteers: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    """Record it in the organisation's own name (the household checked in its scope first)."""
    values = {"kind": kind, "entry_date": entry_date, "amount": amount, "in_kind": in_kind, "hours": hours,
              "volunteers": volunteers, "note": note}
    who.require(menu.ORGS, "记录本组织的帮扶", "record one's own help")
    get_household(store=who.store, household_no=household_no, scope=who.scope)  # outside: 404, nothing parsed
    try:
        entry = _entry(who, household_no, values)
        operations.log(who, entry)
    except (InvalidValue, RuleViolation) as exc:  # a household outside answers 404 all the same
        return _record_page(request, who, household_no, values, f"{exc.zh} / {exc.en}", 422)
    what = "捐赠" if entry.kind is LedgerKind.DONATION else "志愿服务"
    return _back(START, f"已记录{what}：户 {household_no}，{entry.entry_date} / recorded for household {household_no}")


@router.post(START + "/end")
def end(who: Who, household_no: Annotated[str, Form()], reason: Annotated[str, Form()] = "") -> RedirectResponse:
    """结束辅助结对：该户对本组织关闭 / end an auxiliary pairing: the household is closed to the
    organisation again."""
    who.require(menu.ORGS, "结束本组织的辅助结对", "end one's own auxiliary pairings")
    reason = reason.strip()
    if not reason or len(reason) > NOTE_MAX:
        return _back(START, f"户 {household_no}：请填写结束原因（最多 {NOTE_MAX} 字）/ give a reason (at most "
                            f"{NOTE_MAX} characters)", "error")
    try:
        operations.end_aux_pairing(who, household_no, who.user.uscc or "", reason)
    except RuleViolation as exc:
        return _back(START, f"户 {household_no}：{exc.zh} / {exc.en}", "error")
    return _back(START, f"已结束与户 {household_no} 的辅助结对 / the auxiliary pairing with {household_no} has ended")
