"""The console's monitoring lists: unpaired priority households (with the matcher's suggestion and
its confirmation), overdue visits, open problems (closed here with a 解决困难 entry), benefit gaps,
certificate expiry (reminders recorded here), cadre load, and unmet service needs and overdue
referrals (organisers only: they name persons with their needs).

Routes stay thin: each list is a run of the report cache for a region of the caller's
jurisdiction (``Caller.report``: its rows as the privacy policy lets the caller see them, and a
column the caller's role is denied is not drawn), each change one of ``api.operations`` (role,
scope and audit checks) or a service call that records what it wrote."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import operations
from api.auth import ORGANISERS, READERS, Caller
from api.report_output import XLSX, csv_text, xlsx_bytes
from api.web import columns, regions
from api.web.pages import Who, _top_region, all_rows, render
from graph_schema.access import privacy
from graph_schema.cadre.service import cadres_in
from graph_schema.enums import LedgerKind
from graph_schema.errors import InvalidValue, JieduiError, NotFound
from graph_schema.household.service import get_household, members_in
from graph_schema.identifiers import IdentifierError, mask_id_number, normalize_region_code
from graph_schema.ledger.models import LedgerEntry
from graph_schema.models import today
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.certificates import record_reminders
from graph_schema.monitoring.common import Report, households_named, paginate
from graph_schema.monitoring.risk import RiskLevel
from graph_schema.monitoring.visits import due_for_a_quarter
from graph_schema.pagination import Page, PageRequest
from graph_schema.pairing.service import active_pairing
from graph_schema.pairing.service import cadre_load as current_load
from graph_schema.region.service import children_of, get_region

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FLASH = "jiedui_flash"
#: how the reminder windows read on the page
WINDOW_TEXT = {"6m": "6个月", "1m": "1个月"}
#: the list pages: path → (report name, page heading)
REPORT_PAGES = {
    "/overdue": ("overdue-visits", "走访逾期重点户 / Overdue home visits"),
    "/benefit-gaps": ("benefit-gaps", "数据比对发现 / Benefit gaps"),
    "/cadre-load": ("cadre-load", "干部结对负荷 / Cadre load"),
    "/unmet-needs": ("unmet-needs", "逾期未满足的服务需求 / Unmet service needs"),
    "/overdue-referrals": ("overdue-referrals", "逾期未办结的转介 / Overdue referrals"),
}


# --- what every list page shares -------------------------------------------------------------------

def region_of(who: Caller, region: str | None) -> str:
    """The region a list runs on, as its 12-digit code: the one asked for (inside the
    jurisdiction, else NotFound), by default the caller's own (an admin's: the widest the store
    holds)."""
    region = (region or "").strip() or None
    try:
        if region or who.scope.prefix:
            return regions.code12(who.scope.region(region))
    except IdentifierError as exc:
        raise InvalidValue("区划", region, exc.reason_zh, exc.reason_en, code=exc.code, field_en="region") from exc
    return regions.code12(_top_region(who))


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
        out.append({"code": code12, "name": name if name and name != code12 else None, "depth": depth})
        for child in tree.get(code12, []):
            if len(out) < 3000:
                walk(child.code, child.name, depth + 1)

    walk(top, row.name if row else None, 0)
    return out


def names_of(who: Caller, region: str, choices: list[dict[str, Any]], rows: Sequence[Any] = (),
             fields: tuple[str, ...] = ("region_code", "station_code")) -> dict[str, str]:
    """The names of the regions a list page writes: the filter's (already read) and those its
    rows name, in one more read at most."""
    names = {c["code"]: c["name"] for c in choices if c["name"]}
    named = {getattr(r, f, None) if not isinstance(r, dict) else r.get(f) for r in rows for f in fields}
    missing = [c for c in named | {region} if c and regions.code12(c) not in names]
    return names | regions.region_names(who.store, missing)


def shown_columns(who: Caller, report: Report) -> list[str]:
    """The report's columns the caller's role sees anything of: the only ones a page draws."""
    return privacy.report_columns(report.name, report.fields, who.user.role)


def titles(who: Caller, report: Report) -> dict[str, str]:
    """The bilingual titles of the columns the caller's role sees, in the report's order."""
    shown = set(shown_columns(who, report))
    return {f: t for f, t in columns.titles(report).items() if f in shown}


def page_number(page: int | None) -> int:
    return page if page and page > 0 else 1


def pager(found: Page, request: Request, key: str = "page", anchor: str = "") -> dict[str, Any]:
    """The page links of a list (its page number in the query's ``key``), keeping its filters and
    the other lists' pages; ``anchor`` is where the link lands on the page (``#…``)."""
    kept = {k: v for k, v in request.query_params.items() if k != key and v}

    def url(n: int) -> str:
        return f"{request.url.path}?{urlencode(kept | {key: n})}{anchor}"

    pages = found.pages
    shown = sorted({1, pages, *range(max(1, found.page - 3), min(pages, found.page + 3) + 1)})
    return {"page": found.page, "pages": pages, "total": found.total,
            "links": [{"n": n, "url": url(n), "current": n == found.page} for n in shown],
            "prev": url(found.page - 1) if found.page > 1 else None,
            "next": url(found.page + 1) if found.page < pages else None}


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
    who.require(READERS, "查看未结对重点户", "see unpaired households")
    code = region_of(who, region)
    report = REPORTS["unpaired"]
    rows = all_rows(who, report, code, as_of=today())  # a reason the role may not see matches no row
    reasons = sorted({r for row in rows for r in row.reasons or ()})
    kept = [row for row in rows
            if (not risk or row.risk_level.value == risk) and (not reason or reason in (row.reasons or ()))]
    found = paginate(kept, PageRequest(page_number(page), PAGE_SIZE, 10**9))
    who.read("household", [row.household_no for row in found.items])
    choices = region_choices(who)
    return show(request, who, "lists/unpaired.html", rows=found.items, pager=pager(found, request),
                region=code, regions=choices, names=names_of(who, code, choices, found.items),
                report=REPORTS["unpaired"], total=len(rows), risk=risk or "", reason=reason or "",
                risks=[lvl.value for lvl in RiskLevel], reasons=reasons, may_confirm=who.user.role in ORGANISERS,
                columns=shown_columns(who, report))


def _suggestion(who: Caller, household_no: str) -> dict[str, Any]:
    """The matcher's run over the household's township, and what it says of this household."""
    who.require(ORGANISERS, "查看结对建议", "see pairing suggestions")
    found = get_household(store=who.store, household_no=household_no, scope=who.scope)
    proposal = operations.propose(who, found.region_code[:9])
    pair = next((p for p in proposal.pairs if p.household_no == household_no), None)
    left = next((u for u in proposal.unpaired if u.household_no == household_no), None)
    cadre = load = None
    if pair:
        cadre = who.store.read(lambda tx: cadres_in(tx, [pair.cadre_no], who.scope)).get(pair.cadre_no)
        load = current_load(store=who.store, cadre_nos=[pair.cadre_no])[pair.cadre_no]
    township = regions.code12(found.region_code[:9])
    return {"household": found, "proposal": proposal, "pair": pair, "left": left, "cadre": cadre,
            "load": load, "township": township, "names": regions.region_names(who.store, [township])}


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
        left = values["left"]
        why_zh, _, why_en = (left.reason if left else "匹配器未给出方案 / the matcher made no suggestion").partition(" / ")
        return _back(back, f"户 {household_no} 暂无可确认的结对：{why_zh} / "
                           f"nothing to confirm for household {household_no}: {why_en}", "error")
    result = operations.confirm(who, values["proposal"], only=[household_no])
    if result.refused:
        error: JieduiError = result.refused[0][1]
        return _back(back, f"户 {household_no} 未能结对：{error.zh} / household {household_no} was not paired: {error.en}",
                     "error")
    cadre = values["cadre"]
    name = f"{cadre.name}（{cadre.cadre_no}）" if cadre else pair.cadre_no
    if result.unchanged and not result.confirmed:
        return _back(back, f"户 {household_no} 已与干部 {name} 结对 / household {household_no} is already paired "
                           f"with cadre {pair.cadre_no}")
    return _back(back, f"已结对：户 {household_no} — 干部 {name} / paired household {household_no} with cadre {pair.cadre_no}")


# --- 2. overdue visits, benefit gaps, cadre load: report tables ---------------------------------

def _report_page(request: Request, who: Who, region: str | None, page: int | None,
                 keep: Callable[[list[Any]], list[Any]] | None = None, **values: Any) -> HTMLResponse:
    """One report as a paged table; ``keep`` narrows its rows (a filter of the page)."""
    name, heading = REPORT_PAGES[request.url.path]
    report = REPORTS[name]
    who.require(ORGANISERS if report.organisers_only else READERS, "查看报表", "read reports")
    code = region_of(who, region)
    wanted = PageRequest(page_number(page), PAGE_SIZE, 10**9)
    if keep is None:
        found = who.report(report, code, wanted, as_of=today())
    else:
        found = paginate(keep(all_rows(who, report, code, as_of=today())), wanted)
    who.read("household", [no for row in found.items for no in households_named(row)])
    choices = region_choices(who)
    return show(request, who, "lists/report.html", heading=heading, report=report, region=code,
                regions=choices, names=names_of(who, code, choices, found.items), pager=pager(found, request),
                columns=list(titles(who, report).items()),
                rows=[dataclasses.asdict(r) for r in found.items], **values)


@router.get("/overdue", response_class=HTMLResponse)
def overdue(request: Request, who: Who, region: str | None = None, page: int | None = None,
            due: bool = False) -> HTMLResponse:
    """走访逾期 / overdue home visits; ``due``: only the households the dashboard counts (a cadre
    responsible for a whole quarter has not visited), one row each."""
    keep = (lambda rows: due_for_a_quarter(rows, today())) if due else None
    return _report_page(request, who, region, page, keep, due=due)


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
    who.require(READERS, "查看未解决困难", "see open problems")
    report = REPORTS["open-problems"]
    code = region_of(who, region)
    found = who.report(report, code, PageRequest(page_number(page), PAGE_SIZE), as_of=today())
    who.read("household", [row.household_no for row in found.items])
    choices = region_choices(who)
    return show(request, who, "lists/problems.html", report=report, titles=titles(who, report), rows=found.items,
                pager=pager(found, request), region=code, regions=choices, names=names_of(who, code, choices),
                may_close=who.user.role in ORGANISERS,
                columns=shown_columns(who, report))


@router.post("/problems/{problem_no}/close")
def close_problem(who: Who, problem_no: str, household_no: Annotated[str, Form()],
                  note: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/problems") -> RedirectResponse:
    """解决困难：以该户结对干部的名义记一条解决困难台账 / close a problem with a 解决困难 entry in the
    name of the household's responsible cadre."""
    back = _local(back, "/problems")
    who.require(ORGANISERS, "记录解决困难", "close problems")
    if not note.strip():
        return _back(back, f"问题 {problem_no}：请填写解决情况 / problem {problem_no}: a note is required", "error")
    get_household(store=who.store, household_no=household_no, scope=who.scope)
    active = active_pairing(store=who.store, household_no=household_no)
    if active is None:
        return _back(back, f"问题 {problem_no}：户 {household_no} 没有结对干部，无法以干部名义记录解决；请先结对 / "
                           f"problem {problem_no}: household {household_no} has no responsible cadre; pair it first",
                     "error")
    entry = LedgerEntry(entry_date=today(), household_no=household_no, cadre_no=active.cadre_no,
                        kind=LedgerKind.SOLVE_PROBLEM, note=note.strip(), problem_no=problem_no)
    operations.log(who, entry)
    return _back(back, f"问题 {problem_no} 已解决（户 {household_no}，干部 {active.cadre_no}）/ problem {problem_no} "
                       f"closed (household {household_no}, cadre {active.cadre_no})")


# --- 4. certificate expiry, reminders recorded ----------------------------------------------------

@router.get("/cert-expiry", response_class=HTMLResponse)
def cert_expiry(request: Request, who: Who, region: str | None = None, page: int | None = None) -> HTMLResponse:
    """证件到期提醒 / certificates expiring within six months, reminders sent and due."""
    who.require(READERS, "查看证件到期", "see certificate expiry")
    report = REPORTS["cert-expiry"]
    code = region_of(who, region)
    found = who.report(report, code, PageRequest(page_number(page), PAGE_SIZE), as_of=today())
    who.read("household", [row.household_no for row in found.items])
    choices = region_choices(who)
    return show(request, who, "lists/cert_expiry.html", report=report, titles=titles(who, report), rows=found.items,
                pager=pager(found, request), region=code, regions=choices, names=names_of(who, code, choices),
                may_remind=who.user.role in ORGANISERS, windows=WINDOW_TEXT, columns=shown_columns(who, report))


@router.post("/cert-expiry/remind")
def remind(who: Who, region: Annotated[str, Form()] = "", selected: Annotated[list[str] | None, Form()] = None,
           one: Annotated[str, Form()] = "", every: Annotated[str, Form()] = "",
           back: Annotated[str, Form()] = "/cert-expiry") -> RedirectResponse:
    """记录提醒：一人、所选各人或区划内全部到期的提醒，记为今天发出 / record the due reminders of
    one person (``one``), of the selection, or of the whole region (``every``)."""
    back = _local(back, "/cert-expiry")
    who.require(ORGANISERS, "记录证件到期提醒", "record reminders")
    code = region_of(who, region)
    if every:
        count = record_reminders(store=who.store, region=code)
        who.wrote("region", [code])
        return _back(back, f"已记录 {count} 条提醒（{code}）/ {count} reminders recorded ({code})")
    ids = _selected_ids(who, [one] if one else selected or [])
    if not ids:
        return _back(back, "请先选择要提醒的人 / select at least one person first", "error")
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


# --- 5. every list as a file -----------------------------------------------------------------------

FORMATS = {"xlsx": XLSX, "csv": "text/csv; charset=utf-8"}


@router.get("/reports/{name}.{ext}")
def download(who: Who, name: str, ext: str, region: str | None = None,
             period_start: Annotated[dt.date | None, Query(alias="from")] = None) -> Response:
    """一个列表的全部行，下载为 xlsx 或 csv / every row of a list as a file: the rows and the file
    ``GET /api/v1/reports/{name}?format=`` gives, for a region of the session's jurisdiction,
    recorded as read. Named ``<report>-<12-digit region>-<date>.<ext>``."""
    who.require(READERS, "下载报表", "download reports")
    report = REPORTS.get(name)
    if report is None or ext not in FORMATS:
        raise NotFound("报表", "report", f"{name}.{ext}")
    code = region_of(who, region)
    day = today()
    options: dict[str, Any] = {"as_of": day}
    if report.ranged:
        if period_start and period_start > day:
            raise InvalidValue("from", period_start.isoformat(), "统计期开始晚于今天", "the period starts after today")
        options["period_start"] = period_start
    rows = all_rows(who, report, code, **options)
    who.read("household", [no for row in rows for no in households_named(row)])
    body = xlsx_bytes(report, rows) if ext == "xlsx" else csv_text(report, rows).encode("utf-8-sig")
    return Response(body, media_type=FORMATS[ext], headers={
        "Content-Disposition": f'attachment; filename="{report.name}-{code}-{day.isoformat()}.{ext}"'})
