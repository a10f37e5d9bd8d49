"""The CSRF check of every console POST (a dependency of the console's routers), and the Jinja
globals that put the token into every form and into htmx requests."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import Request

from api.import_runs import MAX_FILES, upload_limit
from api.security import FIELD, CsrfRefused, HEADER, csrf_token, csrf_valid, request_secret
from api.web.session import COOKIE

SAFE = {"GET", "HEAD", "OPTIONS"}
EXEMPT = {"/login", "/login/first", "/join"}  # no session yet; each route checks the request's origin itself
UPLOAD = "/imports"  # the one route that refuses an oversized body itself (413) before doing anything


async def check_csrf(request: Request) -> None:
    """Refuse (403) a POST whose session does not match its token. Without a session there is
    nothing to protect: the route itself asks to sign in."""
    if request.method in SAFE or request.url.path in EXEMPT:
        return
    session = request.cookies.get(COOKIE)
    if not session:
        return
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > upload_limit(request):
                if request.url.path == UPLOAD:
                    return  # not read here: the upload route refuses it (413) before reading or doing anything
                raise CsrfRefused()  # no other form is that large: refused unread, not read to find its token
            form = await request.form(max_files=MAX_FILES + 1)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            form = await request.form()
        else:
            form = None
        sent = form.get(FIELD) if form is not None else None
    if not csrf_valid(request_secret(request), session, sent if isinstance(sent, str) else None):
        raise CsrfRefused()


@jinja2.pass_context
def token_of(context: Any) -> str:
    request: Request = context["request"]
    return csrf_token(request_secret(request), request.cookies.get(COOKIE))


@jinja2.pass_context
def csrf_field(context: Any) -> Any:
    return jinja2.utils.markupsafe.Markup(
        f'<input type="hidden" name="{FIELD}" value="{token_of(context)}">')


def install(env: jinja2.Environment) -> None:
    env.globals["csrf_token"] = token_of
    env.globals["csrf_field"] = csrf_field
