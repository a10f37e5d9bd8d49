"""The console's session: signing in (with a token, as the API takes, or a user name and password)
gives the browser a 12-hour session token of its own, kept in an HttpOnly, SameSite=Strict cookie;
every page resolves it to the same ``Caller`` as the API."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from api.auth import Caller, caller_of, services
from graph_schema.access.service import Unauthenticated

COOKIE = "jiedui_session"


class SignInNeeded(Exception):
    """The page needs a signed-in user: the app answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


async def web_caller(request: Request) -> Caller:
    try:
        user = await services(request).tokens.user_async(request.cookies.get(COOKIE))
    except Unauthenticated as exc:
        raise SignInNeeded(request.url.path) from exc
    return caller_of(request, user)


def sign_in_url(next_path: str) -> str:
    return f"/login?next={quote(next_path)}"


def forget(request: Request) -> None:
    services(request).tokens.forget()
