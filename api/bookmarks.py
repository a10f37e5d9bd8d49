"""The ``Jiedui-Bookmark`` header: a client that wrote through one worker of the service reads its
own write through another.

Every answer to a request that committed a write carries the header: the store's bookmarks of
those writes (opaque, comma-separated). A request that sends the header back has every
transaction it runs wait until the server it runs on has applied those writes, so a read routed to
a cluster follower, or answered by another worker, shows them. A value that is not bookmarks this service
gave is refused (422) before anything runs.

Each bookmark is sent signed (``FB:…~<HMAC>``, under the console's secret, ``JIEDUI_CSRF_SECRET``,
which every worker shares), and only signed ones are waited for: a transaction begun with a
bookmark the database has not reached waits for it, which for a forged one from the future meant
two minutes of a worker thread (Neo4j's 30 s wait, retried by the driver); a bookmark the service
gave names a committed transaction, which the cluster's servers apply within moments. On the embedded engine, one process, the header is never
sent and one sent is checked and otherwise ignored (``graph_schema/store/bookmarks.py``).

The console's browser sends no such header, so a console session gets the same as a cookie: a
write answered to a request with the session cookie (or signing in) sets ``jiedui_bookmark`` (HttpOnly,
SameSite=Strict, five minutes), and the pages it then asks for, through whichever worker, wait
for it (the redirect after a form shows what the form did). A cookie that does not parse as
bookmarks is ignored rather than refused: the browser would send it again until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
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


def _mac(secret: bytes, bookmark: str) -> str:
    return hmac.new(secret, b"bookmark:" + bookmark.encode(), hashlib.sha256).hexdigest()[:32]


def sign(secret: bytes, made: Iterable[str]) -> str:
    """The header value of these bookmarks: each followed by ``~`` and its signature."""
    return bookmarks.render(f"{b}~{_mac(secret, b)}" for b in made)


def verified(secret: bytes, value: str) -> frozenset[str]:
    """The bookmarks of a header value, each checked against its signature; InvalidValue for a
    value that is not bookmarks this service gave."""
    found = set()
    for item in bookmarks.parse(value):
        bookmark, _, mac = item.rpartition("~")
        if not bookmark or not hmac.compare_digest(mac, _mac(secret, bookmark)):
            raise InvalidValue("Jiedui-Bookmark", value[:80], "不是本服务给出的书签", "not a bookmark this service gave")
        found.add(bookmark)
    return frozenset(found)


class Bookmarks:
    """The middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        self.app, self.secret = app, secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        sent = headers.get(HEADER)
        cookies = cookie_parser(headers.get("cookie", ""))
        console = SESSION in cookies
        try:
            wait_for = verified(self.secret, sent) if sent is not None else frozenset()
        except InvalidValue as exc:
            await JSONResponse(body_of(exc), status_of(exc))(scope, receive, send)
            return
        if sent is None and console and COOKIE in cookies:
            try:
                wait_for = verified(self.secret, unquote(cookies[COOKIE]))
            except InvalidValue:
                pass
        with bookmarks.causal(wait_for) as causal:

            async def send_with_bookmarks(message: Message) -> None:
                if message["type"] == "http.response.start" and causal.made:
                    value = sign(self.secret, causal.made)
                    answer = MutableHeaders(scope=message)
                    answer[HEADER] = value
                    if console or any(k == b"set-cookie" and v.startswith(SESSION.encode() + b"=")
                                      for k, v in message.get("headers", [])):  # signing in
                        secure = "; Secure" if scope.get("scheme") == "https" else ""
                        answer.append("set-cookie", f"{COOKIE}={quote(value, safe='')}; Max-Age={COOKIE_SECONDS}; "
                                                    f"Path=/; HttpOnly; SameSite=Strict{secure}")
                await send(message)

            await self.app(scope, receive, send_with_bookmarks)
