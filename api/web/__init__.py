"""The organisers' web console: server-rendered pages (Jinja2) with light interactivity (htmx),
over the same scoped reads and the same operations as the APIs. Every asset is served from here
(``static/vendor`` is filled from the npm registry by ``scripts/setup.sh``): the console works on
an intranet with no way out."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

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


class CompressedAssets:
    """gzip for the console's own files (the style sheet, the scripts, the service worker): a phone
    on a village network loads a third of their size. Pages are not compressed: they carry the
    session's CSRF token beside text a request can place on the page, and the size of a
    compressed answer would let an eavesdropper guess the token byte by byte (BREACH)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path.startswith("/static/") or path == "/sw.js"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(CompressedAssets)
    from api.web import (accounts, aux_requests, cadre, household, inbox, joining, lists, organisation,  # the pages
                         referrals, start)

    checked = [Depends(csrf.check_csrf)]  # every console POST carries its session's CSRF token
    for module in (pages, jobs, imports, matching, lists, household, aux_requests, start, cadre, accounts, joining,
                   organisation, referrals, inbox):
        app.include_router(module.router, dependencies=checked)

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, exc: SignInNeeded) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)
