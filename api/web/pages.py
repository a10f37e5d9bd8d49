"""The console's pages. Routes hold no queries: they call the same scoped services, reports and
operations as the APIs, with the caller the session cookie names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.auth import ORGANISERS, READERS, Caller, services
from api.report_output import ALL_PAGE
from api.web.charts import Bar, bars
from api.security import CrossOrigin, same_origin
from api.throttle import TooManyAttempts, client_address
from api.web import csrf, menu, regions
from api.web.devices import remember_device, trusted_device
from api.web.session import COOKIE, web_caller
from graph_schema.access.accounts import code_matches, redeem_code
from graph_schema.access.service import Unauthenticated, open_session, revoke_token, sign_in
from graph_schema.errors import InvalidValue, JieduiError
from graph_schema.models import today
from graph_schema.notify.service import unread_count
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.common import Report
from graph_schema.monitoring.visits import due_for_a_quarter
from graph_schema.pagination import PageRequest
from graph_schema.region.service import get_region, top_region

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
csrf.install(TEMPLATES.env)
TEMPLATES.env.globals["region_label"] = regions.label
router = APIRouter(include_in_schema=False)
Who = Annotated[Caller, Depends(web_caller)]


def render(request: Request, who: Caller | None, name: str, **values: Any) -> HTMLResponse:
    """A page, with the menu of the caller's role (none when signed out) and their unread count."""
    entries = menu.entries_for(who.user.role) if who else []
    home = menu.landing(who.user.role) if who else "/login"
    fragment = Path(name).name.startswith("_")  # a piece of a page (htmx): no header to fill
    return TEMPLATES.TemplateResponse(request, name, {"who": who, "menu": entries, "home": home, "inbox_path": menu.INBOX,
                                                      "unread": 0 if fragment else _unread(who), **values})


def _unread(who: Caller | None) -> int:
    """The user's unread messages: one count query a page (an error page still renders without)."""
    if who is None:
        return 0
    try:
        return unread_count(store=who.store, user_id=who.user.user_id)
    except JieduiError:
        return 0


def all_rows(who: Caller, report: Report, code: str, **options: Any) -> list[Any]:
    """Every row of a report for the region (through the report cache), as the caller may see them
    (the privacy policy): what a list shows and a download holds."""
    first = who.report(report, code, PageRequest(1, ALL_PAGE, ALL_PAGE), **options)
    if first.total <= len(first.items):
        return first.items
    return who.report(report, code, PageRequest(1, first.total, first.total), **options).items


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, None, "login.html", next=_local(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, user: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> HTMLResponse:
    """Sign in with a user name and password, or with a token; either way the browser gets a
    session token of its own, valid 12 hours (never the bearer token it was given).

    Refused (403) when posted from another site (login CSRF, ``api.security.same_origin``).
    Failures are counted so that a valid credential is never refused because of someone else's:
    a token is checked first, and only bad ones are answered 429 once the client address is past
    its limit; passwords follow ``api/web/devices.py`` (per device cookie for a browser where the
    user signed in before, else per user name and per address; checked before the password, so
    a guess past the limit tells nothing). Signing in resets the count it was held to."""
    if not same_origin(request):
        raise CrossOrigin()
    svc = services(request)
    by_user, by_ip = request.app.state.login_user_throttle, request.app.state.login_ip_throttle
    ip_key = "ip:" + client_address(request.client)
    if token.strip():
        try:
            found = svc.tokens.user(token.strip())
        except Unauthenticated:
            try:
                by_ip.check(ip_key)
            except TooManyAttempts as exc:
                return _too_many(request, next, exc)
            by_ip.fail(ip_key)
            return _wrong(request, next)
        return _signed_in(request, next, open_session(store=svc.store, user_id=found.user_id))
    name = user.strip()
    device = trusted_device(request, name) if name else None
    user_key = ("device:" + device) if device else ("user:" + name if name else "")
    ip_key = "" if device else ip_key
    try:
        by_user.check(user_key)
        by_ip.check(ip_key)
    except TooManyAttempts as exc:
        return _too_many(request, next, exc)
    try:
        session = sign_in(store=svc.store, user_id=name, password=password)
    except Unauthenticated:
        if code_matches(store=svc.store, user_id=name, code=password):
            return _first_password(request, name, password)  # the first sign-in: a password next
        by_user.fail(user_key)
        by_ip.fail(ip_key)
        return _wrong(request, next)
    by_user.reset(user_key)
    response = _signed_in(request, next, session)
    remember_device(request, response, name, device)
    return response


def _first_password(request: Request, user: str, code: str, error: str | None = None,
                    status: int = 200) -> HTMLResponse:
    """The form that turns a one-time code into a password (the code rides along, unchanged, as
    the user typed it: it is checked again, and used up, when the password is set)."""
    answer = render(request, None, "first_password.html", user=user, code=code, error=error)
    answer.status_code = status
    return answer


@router.post("/login/first", response_class=HTMLResponse)
def first_password(request: Request, user: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "",
                   password: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "") -> Response:
    """The first sign-in with a one-time code: the new password is set, the code used up, and the
    user signed in (a 12-hour session) on their role's start page. Guarded as the sign-in is: the
    request's origin, and the same counts of failures (a code no longer good is one)."""
    if not same_origin(request):
        raise CrossOrigin()
    svc = services(request)
    by_user, by_ip = request.app.state.login_user_throttle, request.app.state.login_ip_throttle
    name = user.strip()
    user_key, ip_key = "user:" + name, "ip:" + client_address(request.client)
    try:
        by_user.check(user_key)
        by_ip.check(ip_key)
    except TooManyAttempts as exc:
        return _too_many(request, "/", exc)
    if password != confirm:
        return _first_password(request, name, code, "两次输入的密码不一致 / the two passwords differ", 422)
    try:
        redeem_code(store=svc.store, user_id=name, code=code, password=password)
    except InvalidValue as exc:
        return _first_password(request, name, code, f"{exc.zh} / {exc.en}", 422)
    except Unauthenticated:
        by_user.fail(user_key)
        by_ip.fail(ip_key)
        return _wrong(request, "/")
    by_user.reset(user_key)
    session = open_session(store=svc.store, user_id=name)
    response = _signed_in(request, menu.landing(svc.tokens.user(session).role), session)
    remember_device(request, response, name, None)
    return response


def _signed_in(request: Request, next: str, session: str) -> RedirectResponse:
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, session, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600)
    return response


def _wrong(request: Request, next: str) -> HTMLResponse:
    answer = render(request, None, "login.html", next=_local(next),
                    error="用户名、密码或令牌不正确 / wrong user name, password or token")
    answer.status_code = 401
    return answer


def _too_many(request: Request, next: str, exc: TooManyAttempts) -> HTMLResponse:
    answer = render(request, None, "login.html", next=_local(next), error=f"{exc.zh} / {exc.en}")
    answer.status_code = 429
    answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    """Sign out: the session's own token is revoked (a bearer token the user signed in with is not:
    the session never held it)."""
    token = request.cookies.get(COOKIE)
    if token:
        revoke_token(store=services(request).store, token=token)
        services(request).tokens.forget()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _local(path: str) -> str:
    """Only paths of this site are followed after signing in (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") else "/"


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@router.get("/", response_class=HTMLResponse, response_model=None)
def dashboard(request: Request, who: Who, region: str | None = None) -> Response:
    """The region at a glance: coverage by child region, pairing rate, visits this quarter, open
    problems and benefit gaps. A role without a region (a cadre, an organisation) goes on to its
    own start page instead."""
    if who.user.role not in READERS:
        return RedirectResponse(menu.landing(who.user.role), status_code=303)
    code = regions.code12(who.scope.region(region) if region or who.scope.prefix else _top_region(who))
    day = today()
    run = lambda name, **options: who.reports.run(REPORTS[name], who.store, code, PageRequest(1, 1), **options)  # noqa: E731
    coverage = who.reports.run(REPORTS["coverage"], who.store, code, PageRequest(1, 1000), as_of=day,
                               period_start=_quarter_start(day)).items
    here, children = coverage[0], coverage[1:]
    chart = bars("各下级区划结对率 / pairing rate by child region",
                 "每个下级区划已结对重点户占重点户的比例 / share of priority households paired in each child region",
                 [Bar(c.region_name or c.region_code, c.pairing_rate or 0.0,
                      "—" if c.pairing_rate is None else f"{c.pairing_rate:.1%}") for c in children])
    tiles = {
        "unpaired": run("unpaired", as_of=day).total,
        "overdue": len(due_for_a_quarter(all_rows(who, REPORTS["overdue-visits"], code, as_of=day), day)),
        "problems": run("open-problems", as_of=day).total,
        "gaps": run("benefit-gaps", as_of=day).total,
    }
    if who.user.role in ORGANISERS:  # these two name persons with their needs
        tiles |= {"unmet": run("unmet-needs", as_of=day).total, "referrals": run("overdue-referrals", as_of=day).total}
    rates = {r.category: r for r in who.reports.run(REPORTS["service-rates"], who.store, code, PageRequest(1, 20),
                                                    as_of=day, period_start=dt.date(day.year, 1, 1)).items
             if r.region_code == here.region_code}
    region_row = get_region(store=who.store, code=code)
    return render(request, who, "dashboard.html", here=here, children=children, chart=chart, tiles=tiles,
                  region=region_row, quarter_start=_quarter_start(day), day=day, rates=rates)


def _top_region(who: Caller) -> str:
    """An admin's dashboard starts at the widest region the store holds."""
    code = top_region(store=who.store)
    if code is None:
        raise JieduiError("图库中还没有区划", "the store holds no region yet")
    return code
