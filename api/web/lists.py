"""The console's monitoring lists: unpaired priority households (with the matcher's suggestion and
its confirmation), overdue visits, open problems (closed here with a 解决困难 entry), benefit gaps,
certificate expiry (reminders recorded here), cadre load, and unmet service needs and overdue
referrals (organisers only: they name persons with their needs).

Routes stay thin: each list is a run of the report cache for a region of the caller's
jurisdiction, each change one of ``api.operations`` (role, scope and audit checks) or a service
call that records what it wrote."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import operations
from api.auth import ORGANISERS, READERS, Caller
from api.report_output import ALL_PAGE
from api.web.pages import Who, _top_region, render
from graph_schema.cadre.service import cadres_in
from graph_schema.enums import LedgerKind
from graph_schema.errors import InvalidValue, JieduiError
from graph_schema.household.service import get_household, members_in
from graph_schema.identifiers import IdentifierError, mask_id_number, normalize_region_code
from graph_schema.ledger.models import LedgerEntry
from graph_schema.models import today
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.certificates import record_reminders
from graph_schema.monitoring.common import Report, paginate
from graph_schema.monitoring.risk import RiskLevel
from graph_schema.pagination import Page, PageRequest
from graph_schema.pairing.service import active_pairing
from graph_schema.region.service import children_of, get_region

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FLASH = "jiedui_flash"
#: how the reminder windows read on the page
WINDOW_TEXT = {"6m": "6个月", "1m": "1个月"}
#: the list pages: path → (report name, page heading)
REPORT_PAGES = {
    "/overdue": ("overdue-visits", "走访逾期重点户 / overdue home visits"),
    "/benefit-gaps": ("benefit-gaps", "数据比对发现 / benefit gaps"),
    "/cadre-load": ("cadre-load", "干部结对负荷 / cadre load"),
    "/unmet-needs": ("unmet-needs", "逾期未满足的服务需求 / unmet service needs"),
    "/overdue-referrals": ("overdue-referrals", "逾期未办结的转介 / overdue referrals"),
}


# --- what every list page shares -------------------------------------------------------------------

def region_of(who: Caller, region: str | None) -> str:
    """The region a list runs on: the one asked for (inside the jurisdiction, else NotFound), by
    default the caller's own (an admin's: the widest the store holds)."""
    region = (region or "").strip() or None
    try:
        if region or who.scope.prefix:
            return who.scope.region(region)
    except IdentifierError as exc:
        raise InvalidValue("区划 region", region, exc.reason_zh, exc.reason_en, code=exc.code) from exc
    return _top_region(who)


def region_choices(who: Caller) -> list[dict[str, Any]]:
    """The caller's jurisdiction and every region under it, down to the villages (at most a few
    thousand: a province's stop higher up), in tree order: the options of the region filter."""
    top = normalize_region_code(who.scope.prefix or _top_region(who))
    row = get_region(store=who.store, code=top)
    tree: dict[str, list] = {}
    level, parents = 0, [top]
    while parents and level < 4 and len(parents) <= 3000:
        found = who.store.read(lambda tx, keys=parents: children_of(tx, keys))
        tree.update(found)
        parents = [c.code for kids in found.values() for c in kids]
        level += 1
    out: list[dict[str, Any]] = []

    def walk(code12: str, name: str | None, depth: int) -> None:
        out.append({"code": _short(code12), "name": name if name and name != code12 else None, "depth": depth})
        for child in tree.get(code12, []):
            if len(out) < 3000:
                walk(child.code, child.name, depth + 1)

    walk(top, row.name if row else None, 0)
    return out


def _short(code12: str) -> str:
    """A region code as its prefix (2, 4, 6, 9 or 12 digits), as the reports take it."""
    for n in (2, 4, 6, 9):
        if code12[n:].strip("0") == "":
            return code12[:n]
    return code12


def all_rows(who: Caller, report: Report, code: str, **options: Any) -> list[Any]:
    """Every row of a report for the region (through the report cache)."""
    first = who.reports.run(report, who.store, code, PageRequest(1, ALL_PAGE, ALL_PAGE), **options)
    if first.total <= len(first.items):
        return first.items
    return who.reports.run(report, who.store, code, PageRequest(1, first.total, first.total), **options).items


def page_number(page: int | None) -> int:
    return page if page and page > 0 else 1


def pager(found: Page, request: Request) -> dict[str, Any]:
    """The page links of a list, keeping its filters."""
    kept = {k: v for k, v in request.query_params.items() if k != "page" and v}

    def url(n: int) -> str:
        return f"{request.url.path}?{urlencode(kept | {'page': n})}"

    pages = found.pages
    shown = sorted({1, pages, *range(max(1, found.page - 3), min(pages, found.page + 3) + 1)})
    return {"page": found.page, "pages": pages, "total": found.total,
            "links": [{"n": n, "url": url(n), "current": n == found.page} for n in shown],
            "prev": url(found.page - 1) if found.page > 1 else None,
            "next": url(found.page + 1) if found.page < pages else None}


def households_named(row: Any) -> list[str]:
    named = [getattr(row, "household_no", None), *getattr(row, "households", [])]
    return [no for no in named if no]


def cell(value: Any) -> Any:
    """A report value as the table shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(WINDOW_TEXT.get(str(v), str(v)) for v in value) or "—"
    if isinstance(value, float):
        return f"{value:.1%}"
    return str(value)


def flash(response: Response, text: str, kind: str = "ok") -> Response:
    """A message for the next page (a short-lived cookie, read once)."""
    response.set_cookie(FLASH, quote(f"{kind}|{text}"), max_age=60, httponly=True, samesite="strict")
    return response


def show(request: Request, who: Caller, name: str, **values: Any) -> HTMLResponse:
    """Render a page with the message the last change left, if any."""
    message = None
    raw = request.cookies.get(FLASH)
    if raw:
        kind, _, text = unquote(raw).partition("|")
        message = {"kind": "error" if kind == "error" else "ok", "text": text}
    answer = render(request, who, name, message=message, cell=cell, **values)
    if raw:
        answer.delete_cookie(FLASH)
    return answer


def _back(path: str, text: str, kind: str = "ok") -> RedirectResponse:
    return flash(RedirectResponse(path, status_code=303), text, kind)  # type: ignore[return-value]


def _local(path: str, fallback: str) -> str:
    return path if path.startswith(fallback) and not path.startswith("//") else fallback


# --- 1. unpaired priority households, the matcher's suggestion, its confirmation -----------------

@router.get("/unpaired", response_class=HTMLResponse)
def unpaired(request: Request, who: Who, region: str | None = None, risk: str | None = None,
             reason: str | None = None, page: int | None = None) -> HTMLResponse:
    """未结对重点户：按风险排序，可按区划、风险等级和原因筛选 / unpaired priority households."""
    who.require(READERS, "查看未结对重点户 see unpaired households")
    code = region_of(who, region)
    rows = all_rows(who, REPORTS["unpaired"], code, as_of=today())
    reasons = sorted({r for row in rows for r in row.reasons})
    kept = [row for row in rows
            if (not risk or row.risk_level.value == risk) and (not reason or reason in row.reasons)]
    found = paginate(kept, PageRequest(page_number(page), PAGE_SIZE, 10**9))
    who.read("household", [row.household_no for row in found.items])
    return show(request, who, "lists/unpaired.html", rows=found.items, pager=pager(found, request),
                region=code, regions=region_choices(who), risk=risk or "", reason=reason or "",
                risks=[lvl.value for lvl in RiskLevel], reasons=reasons, may_confirm=who.user.role in ORGANISERS)


def _suggestion(who: Caller, household_no: str) -> dict[str, Any]:
    """The matcher's run over the household's township, and what it says of this household."""
    who.require(ORGANISERS, "查看结对建议 see pairing suggestions")
    found = get_household(store=who.store, household_no=household_no, scope=who.scope)
    proposal = operations.propose(who, found.region_code[:9])
    pair = next((p for p in proposal.pairs if p.household_no == household_no), None)
    left = next((u for u in proposal.unpaired if u.household_no == household_no), None)
    cadre = None
    if pair:
        cadre = who.store.read(lambda tx: cadres_in(tx, [pair.cadre_no], who.scope)).get(pair.cadre_no)
    return {"household": found, "proposal": proposal, "pair": pair, "left": left, "cadre": cadre}


@router.get("/unpaired/{household_no}/suggest", response_class=HTMLResponse)
def suggest(request: Request, who: Who, household_no: str) -> HTMLResponse:
    """建议结对：匹配器对该户所在乡镇的方案中关于该户的部分 / the matcher's suggestion for one household.
    An htmx request gets the fragment; a plain one (no script) the whole page."""
    values = _suggestion(who, household_no)
    back_to = _local(request.query_params.get("back", "/unpaired"), "/unpaired")
    if request.headers.get("HX-Request"):
        return render(request, who, "lists/_suggestion.html", back=back_to, **values)
    return show(request, who, "lists/suggestion.html", back=back_to, **values)


@router.post("/unpaired/{household_no}/confirm")
def confirm(who: Who, household_no: str, back: Annotated[str, Form()] = "/unpaired") -> RedirectResponse:
    """确认建议：重新生成该户乡镇的方案，只确认该户 / re-propose and confirm this household only."""
    back = _local(back, "/unpaired")
    values = _suggestion(who, household_no)
    pair = values["pair"]
    if pair is None:
        why = values["left"].reason if values["left"] else "匹配器未给出方案 / no suggestion"
        return _back(back, f"户 {household_no} 暂无可确认的结对 / nothing to confirm: {why}", "error")
    result = operations.confirm(who, values["proposal"], only=[household_no])
    if result.refused:
        error: JieduiError = result.refused[0][1]
        return _back(back, f"户 {household_no} 未能结对 / not paired: {error.zh}", "error")
    cadre = values["cadre"]
    name = f"{cadre.name}（{cadre.cadre_no}）" if cadre else pair.cadre_no
    if result.unchanged and not result.confirmed:
        return _back(back, f"户 {household_no} 已与干部 {name} 结对 / already paired with {pair.cadre_no}")
    return _back(back, f"已结对 / paired：户 {household_no} — 干部 {name}")



# --- 2. overdue visits, benefit gaps, cadre load: report tables ---------------------------------

def _report_page(request: Request, who: Who, region: str | None, page: int | None) -> HTMLResponse:
    name, heading = REPORT_PAGES[request.url.path]
    report = REPORTS[name]
    who.require(ORGANISERS if report.organisers_only else READERS, "查看报表 read reports")
    code = region_of(who, region)
    found = who.reports.run(report, who.store, code, PageRequest(page_number(page), PAGE_SIZE), as_of=today())
    who.read("household", [no for row in found.items for no in households_named(row)])
    return show(request, who, "lists/report.html", heading=heading, report=report, region=code,
                regions=region_choices(who), pager=pager(found, request),
                columns=[(f, report.headers.get(f, f)) for f in report.fields],
                rows=[dataclasses.asdict(r) for r in found.items])


@router.get("/overdue", response_class=HTMLResponse)
def overdue(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """走访逾期 / overdue home visits."""
    return _report_page(request, who, region, page)


@router.get("/benefit-gaps", response_class=HTMLResponse)
def benefit_gaps(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """数据比对 / benefit gaps."""
    return _report_page(request, who, region, page)


@router.get("/cadre-load", response_class=HTMLResponse)
def cadre_load(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """干部负荷 / cadre load."""
    return _report_page(request, who, region, page)


@router.get("/unmet-needs", response_class=HTMLResponse)
def unmet_needs(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """逾期未满足的服务需求 / overdue service needs nobody is handling, with who could help."""
    return _report_page(request, who, region, page)


@router.get("/overdue-referrals", response_class=HTMLResponse)
def overdue_referrals(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """逾期未办结的转介 / overdue referrals, by provider."""
    return _report_page(request, who, region, page)


# --- 3. open problems, closed with a 解决困难 entry ------------------------------------------------

@router.get("/problems", response_class=HTMLResponse)
def problems(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """未解决困难 / open problems, oldest first."""
    who.require(READERS, "查看未解决困难 see open problems")
    report = REPORTS["open-problems"]
    code = region_of(who, region)
    found = who.reports.run(report, who.store, code, PageRequest(page_number(page), PAGE_SIZE), as_of=today())
    who.read("household", [row.household_no for row in found.items])
    return show(request, who, "lists/problems.html", report=report, rows=found.items, pager=pager(found, request),
                region=code, regions=region_choices(who), may_close=who.user.role in ORGANISERS)


@router.post("/problems/{problem_no}/close")
def close_problem(who: Who, problem_no: str, household_no: Annotated[str, Form()],
                  note: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/problems") -> RedirectResponse:
    """解决困难：以该户结对干部的名义记一条解决困难台账 / close a problem with a 解决困难 entry in the
    name of the household's responsible cadre."""
    back = _local(back, "/problems")
    who.require(ORGANISERS, "记录解决困难 close problems")
    if not note.strip():
        return _back(back, f"问题 {problem_no}：请填写解决情况 / a note is required", "error")
    get_household(store=who.store, household_no=household_no, scope=who.scope)
    active = active_pairing(store=who.store, household_no=household_no)
    if active is None:
        return _back(back, f"问题 {problem_no}：户 {household_no} 没有结对干部，无法以干部名义记录解决；"
                           "请先结对 / the household has no responsible cadre: pair it first", "error")
    entry = LedgerEntry(entry_date=today(), household_no=household_no, cadre_no=active.cadre_no,
                        kind=LedgerKind.SOLVE_PROBLEM, note=note.strip(), problem_no=problem_no)
    operations.log(who, entry)
    return _back(back, f"问题 {problem_no} 已解决 / closed（户 {household_no}，干部 {active.cadre_no}）")


# --- 4. certificate expiry, reminders recorded ----------------------------------------------------

@router.get("/cert-expiry", response_class=HTMLResponse)
def cert_expiry(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """证件到期提醒 / certificates expiring within six months, reminders sent and due."""
    who.require(READERS, "查看证件到期 see certificate expiry")
    report = REPORTS["cert-expiry"]
    code = region_of(who, region)
    found = who.reports.run(report, who.store, code, PageRequest(page_number(page), PAGE_SIZE), as_of=today())
    who.read("household", [row.household_no for row in found.items])
    return show(request, who, "lists/cert_expiry.html", report=report, rows=found.items,
                pager=pager(found, request), region=code, regions=region_choices(who),
                may_remind=who.user.role in ORGANISERS, windows=WINDOW_TEXT)


@router.post("/cert-expiry/remind")
def remind(who: Who, region: Annotated[str, Form()] = "", selected: Annotated[list[str] | None, Form()] = None,
           one: Annotated[str, Form()] = "", every: Annotated[str, Form()] = "",
           back: Annotated[str, Form()] = "/cert-expiry") -> RedirectResponse:
    """记录提醒：一人、所选各人或区划内全部到期的提醒，记为今天发出 / record the due reminders of
    one person (``one``), of the selection, or of the whole region (``every``)."""
    back = _local(back, "/cert-expiry")
    who.require(ORGANISERS, "记录证件到期提醒 record reminders")
    code = region_of(who, region)
    if every:
        count = record_reminders(store=who.store, region=code)
        who.wrote("region", [code])
        return _back(back, f"已记录 {count} 条提醒 / {count} reminders recorded（{code}）")
    ids = _selected_ids(who, [one] if one else selected or [])
    if not ids:
        return _back(back, "请先选择要提醒的人 / select at least one person", "error")
    count = record_reminders(store=who.store, region=code, id_numbers=ids)
    who.wrote("person", ids)
    return _back(back, f"已记录 {count} 条提醒 / {count} reminders recorded")


def _selected_ids(who: Caller, selected: list[str]) -> list[str]:
    """The full ID numbers of the rows ticked (``household_no|masked ID``): the list shows them
    masked, so they are found among the members of households in the caller's scope."""
    wanted: dict[str, set[str]] = {}
    for value in selected:
        household_no, _, masked = value.partition("|")
        if household_no and masked:
            wanted.setdefault(household_no, set()).add(masked)
    if not wanted:
        return []
    operations.require_households(who, wanted)
    members = who.store.read(lambda tx: members_in(tx, sorted(wanted)))
    return sorted(p.id_number for no, people in members.items() for p in people
                  if mask_id_number(p.id_number) in wanted[no])


