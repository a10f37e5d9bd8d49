"""The ``Jiedui-Bookmark`` header: a client that wrote through one worker of the service reads its
own write through another.

Every answer to a request that committed a write carries the header: the store's bookmarks of
those writes (opaque, comma-separated). A request that sends the header back has every
transaction it runs wait until the server it runs on has applied those writes, so a read routed to
a cluster follower, or answered by another worker, shows them. A value that is not bookmarks is
refused (422) before anything runs. On the embedded engine, one process, the header is never
sent and one sent is checked and otherwise ignored (``graph_schema/store/bookmarks.py``).

The console's browser sends no such header, so a console session gets the same as a cookie: a
write answered to a request with the session cookie (or signing in) sets ``jiedui_bookmark`` (HttpOnly,
SameSite=Strict, five minutes), and the pages it then asks for, through whichever worker, wait
for it (the redirect after a form shows what the form did). A cookie that does not parse as
bookmarks is ignored rather than refused: the browser would send it again until it expires.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import body_of, status_of
from api.web.session import COOKIE as SESSION
from graph_schema.errors import InvalidValue
from graph_schema.store import bookmarks

HEADER = "jiedui-bookmark"
COOKIE = "jiedui_bookmark"
COOKIE_SECONDS = 300


class Bookmarks:
    """The middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        sent = headers.get(HEADER)
        cookies = cookie_parser(headers.get("cookie", ""))
        console = SESSION in cookies
        try:
            wait_for = bookmarks.parse(sent) if sent is not None else frozenset()
        except InvalidValue as exc:
            await JSONResponse(body_of(exc), status_of(exc))(scope, receive, send)
            return
        if sent is None and console and COOKIE in cookies:
            try:
                wait_for = bookmarks.parse(unquote(cookies[COOKIE]))
            except InvalidValue:
                pass
        with bookmarks.causal(wait_for) as causal:

            async def send_with_bookmarks(message: Message) -> None:
                if message["type"] == "http.response.start" and causal.made:
                    value = bookmarks.render(causal.made)
                    answer = MutableHeaders(scope=message)
                    answer[HEADER] = value
                    if console or any(k == b"set-cookie" and v.startswith(SESSION.encode() + b"=")
                                      for k, v in message.get("headers", [])):  # signing in
                        secure = "; Secure" if scope.get("scheme") == "https" else ""
                        answer.append("set-cookie", f"{COOKIE}={quote(value, safe='')}; Max-Age={COOKIE_SECONDS}; "
                                                    f"Path=/; HttpOnly; SameSite=Strict{secure}")
                await send(message)

            await self.app(scope, receive, send_with_bookmarks)
