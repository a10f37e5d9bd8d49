"""The organisers' web console: server-rendered pages (Jinja2) with light interactivity (htmx),
over the same scoped reads and the same operations as the APIs. Every asset is served from here
(``static/vendor`` is filled from the npm registry by ``scripts/setup.sh``): the console works on
an intranet with no way out."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.auth import caller_of, services
from api.web import csrf, imports, jobs, matching, pages
from api.web.session import COOKIE, SignInNeeded, sign_in_url
from graph_schema.errors import JieduiError

STATIC = Path(__file__).parent / "static"


def error_page(request: Request, exc: JieduiError, status: int) -> HTMLResponse:
    """The error as a page with the menu of the signed-in user's role and a link to their start
    page: a refusal is never a dead end."""
    try:
        who = caller_of(request, services(request).tokens.user(request.cookies.get(COOKIE)))
    except JieduiError:  # signed out, or the session is the problem
        who = None
    answer = pages.render(request, who, "error.html", error=exc, status=status)
    answer.status_code = status
    return answer


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    from api.web import (accounts, aux_requests, household, inbox, joining, lists, organisation,  # the pages
                         referrals, start)

    checked = [Depends(csrf.check_csrf)]  # every console POST carries its session's CSRF token
    for module in (pages, jobs, imports, matching, lists, household, aux_requests, start, accounts, joining,
                   organisation, referrals, inbox):
        app.include_router(module.router, dependencies=checked)

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, exc: SignInNeeded) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)
