"""The cadre's pages, phone-first and usable offline: my households ordered by when a visit is
due (``/mine``), each household's page with the record form (``/mine/{household_no}``), and the
two writes the form makes: a visit or contact (with the problem found and the help given), and
the closing of a problem.

The households are read through the cadre's scope (``graph_schema/cadre/caseload.py``), shown as
the privacy policy lets a cadre see them, and recorded as read; every write goes through
``api.operations`` (role, scope, audit), all of a visit's entries in one transaction. A write
answers JSON when asked for it (``Accept: application/json``: the page's script, which sends the
entries it kept offline with an ``Idempotency-Key``), else it redirects back with a message, so
the forms work without a script too.

Offline: ``/sw.js``, the service worker (``static/sw.js``), is served at the root and controls
the pages under ``/mine``; ``static/cadre.js`` registers it, keeps form posts in IndexedDB while
the service cannot be reached, sends them when it can, and shows how many wait. How and why is
in docs/architecture.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api import operations
from api.auth import Caller
from api.web import menu, regions
from api.web.lists import flash, show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.access.models import User
from graph_schema.cadre.caseload import Case, caseload
from graph_schema.enums import LedgerKind, NeedSource, ServiceCategory
from graph_schema.errors import InvalidValue, JieduiError
from graph_schema.ledger.models import LedgerEntry
from graph_schema.models import today
from graph_schema.service.models import Need, digest

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
#: what a cadre records from the form: a home visit or a contact (a call, a meeting elsewhere)
KINDS = {LedgerKind.VISIT.value: "入户走访 / home visit", LedgerKind.CONTACT.value: "联系交流 / contact"}
#: The form's "needs found": categories of the service catalogue, recorded as assessed needs
#: (``Need``, source 入户走访, graph_schema/service/) of the member the cadre picks, dated the
#: visit's day: not the registry's 需求 column, which the next import of 残疾人.csv would overwrite.
NEEDS_FOUND = {c.value: f"{c.value} / {en}" for c, en in zip(ServiceCategory, (
    "rehabilitation", "assistive devices", "home accessibility", "care", "employment", "training", "education",
    "other"), strict=True)}
TEXT_LIMIT = 2000
#: the files the service worker keeps for offline use; a change to any of them is a new worker
OFFLINE_ASSETS = ("/static/console.css", "/static/cadre.js", "/static/vendor/htmx.min.js")


def _require_cadre(who: Caller) -> str:
    who.require(menu.CADRES, "查看本人结对户", "see one's own households")
    return who.user.cadre_no or ""


@router.get("/mine", response_class=HTMLResponse)
def my_households(request: Request, who: Who) -> HTMLResponse:
    """我的结对户 / the households the cadre is paired with now, the visit due soonest first."""
    cadre_no = _require_cadre(who)
    day = today()
    cases = caseload(store=who.store, cadre_no=cadre_no, scope=who.scope, as_of=day)
    _read(who, cases)
    names = regions.region_names(who.store, [c.household.region_code for c in cases])
    return show(request, who, "cadre/mine.html", cases=[_shown(c, who.user, day) for c in cases], names=names,
                day=day, counts=_counts(cases), rendered=_now())


@router.get("/mine/{household_no}", response_class=HTMLResponse)
def my_household(request: Request, who: Who, household_no: str) -> HTMLResponse:
    """一户（干部）：走访状态、记录表、未解决困难、成员、最近记录 / one of the cadre's households."""
    cadre_no = _require_cadre(who)
    day = today()
    case = caseload(store=who.store, cadre_no=cadre_no, scope=who.scope, as_of=day, only=household_no)[0]
    _read(who, [case])
    names = regions.region_names(who.store, [case.household.region_code])
    return show(request, who, "cadre/household.html", case=_shown(case, who.user, day), names=names, day=day,
                kinds=KINDS, needs_found=NEEDS_FOUND, rendered=_now(),
                shows=lambda field: privacy.shows(field, who.user.role))


@router.post("/mine/{household_no}/visits", response_model=None)
def record(request: Request, who: Who, household_no: str,
           kind: Annotated[str, Form()] = LedgerKind.VISIT.value, entry_date: Annotated[str, Form()] = "",
           note: Annotated[str, Form()] = "", problem: Annotated[str, Form()] = "",
           help: Annotated[str, Form()] = "",  # noqa: A002 - the form's own word
           needs: Annotated[list[str] | None, Form()] = None, need_for: Annotated[str, Form()] = "") -> Response:
    """记录走访或联系 / record a visit or a contact: the entry, the problem found (a 反映困难 that
    opens a problem) and the help given (帮办实事), all or nothing; then the needs found, each an
    assessed need of the member ``need_for`` names. The needs are checked before anything is
    written, and recording one again changes nothing (its key is the person, category and day),
    so a repeat of the request after a failure between the two writes completes it."""
    cadre_no = _require_cadre(who)
    try:
        if kind not in KINDS:
            raise InvalidValue("kind", kind, "只能是入户走访或联系交流", "must be 入户走访 or 联系交流")
        day = _day(entry_date)
        note_, problem_, help_ = (_text(name, value) for name, value in
                                  (("note", note), ("problem", problem), ("help", help)))
        entries = [LedgerEntry(entry_date=day, household_no=household_no, cadre_no=cadre_no, kind=LedgerKind(kind),
                               note=note_)]
        problem_no = None
        if problem_:
            problem_no = problem_number(day, request.headers.get("idempotency-key"))
            entries.append(LedgerEntry(entry_date=day, household_no=household_no, cadre_no=cadre_no,
                                       kind=LedgerKind.REPORT_PROBLEM, problem_no=problem_no, note=problem_))
        if help_:
            entries.append(LedgerEntry(entry_date=day, household_no=household_no, cadre_no=cadre_no,
                                       kind=LedgerKind.PRACTICAL_HELP, note=help_))
        found = _needs_found(who, cadre_no, household_no, needs or [], need_for, day)
        operations.log_together(who, entries)
        for need in found:
            operations.record_need(who, need)
    except JieduiError as exc:
        return _refused(request, household_no, exc)
    zh = f"已记录户 {household_no} 的{kind}（{day}）" + (f"，困难编号 {problem_no}" if problem_no else "") + (
        f"，需求 {len(found)} 项" if found else "")
    en = f"recorded the {KINDS[kind].split(' / ')[1]} of household {household_no} on {day}" + (
        f", problem {problem_no}" if problem_no else "") + (f", {len(found)} needs found" if found else "")
    return _done(request, household_no, zh, en, status=201, problem_no=problem_no)


@router.post("/mine/{household_no}/problems/{problem_no}/close", response_model=None)
def close_problem(request: Request, who: Who, household_no: str, problem_no: str,
                  resolution: Annotated[str, Form()] = "") -> Response:
    """关闭困难：记一条解决困难台账 / close a problem with a 解决困难 entry, in the cadre's name."""
    cadre_no = _require_cadre(who)
    try:
        text = _text("resolution", resolution)
        if not text:
            raise InvalidValue("resolution", "", "请填写解决情况", "say what was done")
        operations.log(who, LedgerEntry(entry_date=today(), household_no=household_no, cadre_no=cadre_no,
                                        kind=LedgerKind.SOLVE_PROBLEM, problem_no=problem_no, note=text))
    except JieduiError as exc:
        return _refused(request, household_no, exc)
    return _done(request, household_no, f"问题 {problem_no} 已解决（户 {household_no}）",
                 f"problem {problem_no} of household {household_no} is closed", status=200)


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The service worker, served at the root so that it may control ``/mine`` (its default
    scope is its own folder, ``/``, so no ``Service-Worker-Allowed`` header is needed). Its text
    carries a version made from the files it keeps, so a changed file installs a new worker."""
    return Response(SERVICE_WORKER, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


def problem_number(day: dt.date, key: str | None) -> str:
    """A number for a problem a cadre found: ``ZF`` (走访), the day and six characters of a hash of
    the request's idempotency key (a random one without), so that a repeat of the request names
    the same problem. A county's cadres draw from 16.7 million numbers a day; the rare clash is
    refused (``PROBLEM_EXISTS``) with nothing recorded, and the entry made again gets a new key.

    >>> problem_number(dt.date(2026, 12, 6), "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    'ZF20261206-5C28B2'
    """
    source = key or uuid.uuid4().hex
    return f"ZF{day:%Y%m%d}-{hashlib.sha256(source.encode()).hexdigest()[:6].upper()}"


def member_key(id_number: str) -> str:
    """How the form names a member: not the ID number, which a cadre sees masked."""
    return digest("member", id_number)[:16]


def _needs_found(who: Caller, cadre_no: str, household_no: str, categories: list[str], need_for: str,
                 day: dt.date) -> list[Need]:
    """The needs a visit found, checked (the categories, the member: one of the household's)."""
    if not categories:
        return []
    for category in categories:
        if category not in NEEDS_FOUND:
            raise InvalidValue("needs", category, "不是服务目录中的类别", "is not a category of the service catalogue")
    members = caseload(store=who.store, cadre_no=cadre_no, scope=who.scope, only=household_no)[0].members
    chosen = [m for m in members if member_key(m.id_number) == need_for or (not need_for and len(members) == 1)]
    if not chosen:
        raise InvalidValue("need_for", need_for, "请选择有此需求的家庭成员", "choose the member who has the need")
    return [Need(id_number=chosen[0].id_number, category=ServiceCategory(c), assessed_on=day,
                 source=NeedSource.VISIT, assessor=cadre_no) for c in dict.fromkeys(categories)]


# --- what the pages share -----------------------------------------------------------------------

def _read(who: Caller, cases: list[Case]) -> None:
    who.read("household", [c.household.household_no for c in cases])
    who.read("person", [m.id_number for c in cases for m in c.members])


def _now() -> str:
    """When the page was made (the script says so on a copy kept on the phone)."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _counts(cases: list[Case]) -> dict[str, int]:
    return {s: sum(1 for c in cases if c.standing.value == s) for s in ("overdue", "quarter", "later")}


def _shown(case: Case, user: User, day: dt.date) -> dict[str, Any]:
    """A household as the cadre's page shows it: every record through the privacy policy."""
    def seen(subject: str, record: Any) -> dict[str, Any]:
        return privacy.redact(subject, record.model_dump(), user)

    members = []
    for person in case.members:
        shown = seen("person", person)
        members.append(shown | {"key": member_key(person.id_number),
            "category": person.category.zh if shown["category"] is not None else None,
            "grade": person.grade.zh if shown["grade"] is not None else None,
            "relation": person.relation.value if shown["relation"] is not None else None,
            "needs": case.needs[person.id_number] if shown["needs"] is not None else [],
            "labour_ability": person.labour_ability.value if shown["labour_ability"] is not None else None})
    return {"household": seen("household", case.household), "paired_on": case.paired_on,
            "last_visit": case.last_visit, "due": case.due, "standing": case.standing.value,
            "overdue_days": case.days_overdue(day), "members": members,
            "needs": list(dict.fromkeys(n for m in members for n in m["needs"])),
            "recent": [seen("ledger", e) | {"actor": e.actor} for e in case.recent],
            "problems": [seen("problem", p) for p in case.open_problems]}


def _day(text: str) -> dt.date:
    if not text.strip():
        return today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidValue("entry_date", text, "日期须为 YYYY-MM-DD", "a date is written YYYY-MM-DD") from exc


def _text(name: str, value: str) -> str | None:
    text = value.strip()
    if len(text) > TEXT_LIMIT:
        raise InvalidValue(name, text[:20] + "…", f"不能超过 {TEXT_LIMIT} 字", f"at most {TEXT_LIMIT} characters")
    return text or None


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _done(request: Request, household_no: str, zh: str, en: str, *, status: int, **extra: Any) -> Response:
    page = f"/mine/{household_no}"
    if _wants_json(request):
        return JSONResponse({"message": zh, "message_en": en, "household_no": household_no, "page": page, **extra},
                            status_code=status)
    return flash(RedirectResponse(page, status_code=303), f"{zh} / {en}")


def _refused(request: Request, household_no: str, exc: JieduiError) -> Response:
    """A refused write: raised on (the app answers JSON, with the status its kind has) for the
    page's script; back to the household's page with the reason for a plain form, or to the
    cadre's households when the household is no longer theirs."""
    if _wants_json(request):
        raise exc
    back = "/mine" if exc.code == "NOT_FOUND" else f"/mine/{household_no}"
    return flash(RedirectResponse(back, status_code=303), f"未能记录：{exc.zh} / not recorded: {exc.en}", "error")


def _version() -> str:
    digest = hashlib.sha256((STATIC / "sw.js").read_bytes())
    for path in OFFLINE_ASSETS:
        digest.update((STATIC / path.removeprefix("/static/")).read_bytes())
    return digest.hexdigest()[:16]


SERVICE_WORKER = (STATIC / "sw.js").read_text(encoding="utf-8").replace("__VERSION__", _version())
