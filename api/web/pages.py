"""The console's pages. Routes hold no queries: they call the same scoped services, reports and
operations as the APIs, with the caller the session cookie names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.auth import ORGANISERS, READERS, Caller, services
from api.web.charts import Bar, bars
from api.throttle import TooManyAttempts, client_address
from api.web import csrf
from api.web.session import COOKIE, web_caller
from graph_schema.access.service import Unauthenticated, revoke_token, sign_in
from graph_schema.errors import JieduiError
from graph_schema.models import today
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.pagination import PageRequest
from graph_schema.region.service import get_region

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
csrf.install(TEMPLATES.env)
router = APIRouter(include_in_schema=False)
Who = Annotated[Caller, Depends(web_caller)]


def render(request: Request, who: Caller | None, name: str, **values: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"who": who, **values})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, None, "login.html", next=_local(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, user: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> HTMLResponse:
    """Sign in with a user name and password, or with a token. Failures are counted per user
    name and per client address; past either limit the page answers 429 with ``Retry-After``
    (checked before the password, so a guess past the limit tells nothing). Signing in resets
    the user's count."""
    svc = services(request)
    by_user, by_ip = request.app.state.login_user_throttle, request.app.state.login_ip_throttle
    name = user.strip()
    user_key = "user:" + name if name and not token.strip() else ""
    ip_key = "ip:" + client_address(request.client)
    try:
        by_user.check(user_key)
        by_ip.check(ip_key)
    except TooManyAttempts as exc:
        answer = render(request, None, "login.html", next=_local(next),
                        error=f"{exc.zh} / {exc.en}")
        answer.status_code = 429
        answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    try:
        if token.strip():
            svc.tokens.user(token.strip())
            session = token.strip()
        else:
            session = sign_in(store=svc.store, user_id=name, password=password)
    except Unauthenticated:
        by_user.fail(user_key)
        by_ip.fail(ip_key)
        answer = render(request, None, "login.html", next=_local(next),
                        error="用户名、密码或令牌不正确 / wrong user name, password or token")
        answer.status_code = 401
        return answer
    if user_key:
        by_user.reset(user_key)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, session, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600)
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
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


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, who: Who, region: str | None = None) -> HTMLResponse:
    """The region at a glance: coverage by child region, pairing rate, visits this quarter, open
    problems and benefit gaps."""
    who.require(READERS, "查看工作台 see the dashboard")
    code = who.scope.region(region) if region or who.scope.prefix else _top_region(who)
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
        "overdue": run("overdue-visits", as_of=day).total,
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
    rows = who.store.query("MATCH (r:Region) WHERE NOT (r)-[:PART_OF]->(:Region) RETURN r.code AS code ORDER BY code LIMIT 1")
    if not rows:
        raise JieduiError("图库中还没有区划", "the store holds no region yet")
    return rows[0]["code"]
