"""The ``Jiedui-Bookmark`` header: a client that wrote through one worker of the service reads its
own write through another.

Every answer to a request that committed a write carries the header: the store's bookmarks of
those writes (opaque, comma-separated). A request that sends the header back has every
transaction it runs wait until the server it runs on has applied those writes, so a read routed to
a cluster follower, or answered by another worker, shows them. A value that is not bookmarks is
refused (422) before anything runs. On the embedded engine, one process, the header is never
sent and one sent is checked and otherwise ignored (``graph_schema/store/bookmarks.py``).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import body_of, status_of
from graph_schema.errors import InvalidValue
from graph_schema.store import bookmarks

HEADER = "jiedui-bookmark"


class Bookmarks:
    """The middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get(HEADER)
        try:
            wait_for = bookmarks.parse(sent) if sent is not None else frozenset()
        except InvalidValue as exc:
            await JSONResponse(body_of(exc), status_of(exc))(scope, receive, send)
            return
        with bookmarks.causal(wait_for) as causal:

            async def send_with_bookmarks(message: Message) -> None:
                if message["type"] == "http.response.start" and causal.made:
                    MutableHeaders(scope=message)["jiedui-bookmark"] = bookmarks.render(causal.made)
                await send(message)

            await self.app(scope, receive, send_with_bookmarks)
