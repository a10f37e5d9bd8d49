"""The ``Idempotency-Key`` header on every write of the service: REST, GraphQL and the console.

A client that may repeat a request (a cadre's phone replaying the entries it queued offline, any
program retrying after a timeout) names each request with a key of its own (a UUID). The first
request with a key does the work and its answer is kept; a repeat of it, by the same user, is
answered with that answer, marked ``Idempotent-Replayed: true``, and nothing is done again. The
rules (what is kept, for how long, what a reused key or a repeat in flight answers) are those of
:mod:`graph_schema.access.idempotency`; this middleware applies them around the app:

- Only writes (POST, PUT, PATCH, DELETE) that carry the header and that a route serves are
  handled, once the caller is known (a bearer token or the console's session, as the routes know
  them). Without a valid credential, or to a method no route serves there, the request goes on
  unhandled, to be refused as it would be (401, 404, 405). Signing in and out are
  not handled: their answers carry a session, which is never stored.
- The key is 1–255 visible ASCII characters; another value is refused (422 ``VALIDATION``).
- The request's fingerprint is its method, path, query and body (a multipart body without its
  boundary, which browsers draw anew for each send). A body over :data:`MAX_REQUEST` (an import's
  files) is not held for a key: the request runs as if it carried none (imports are idempotent
  themselves: importing the same file again changes nothing).
- The answer is held until it is kept, then sent: a repeat sent as soon as the first answer
  arrives finds it kept. Cookies are never kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import body_of, status_of
from graph_schema.access import idempotency
from graph_schema.access.service import Unauthenticated
from graph_schema.errors import JieduiError, RequestInProgress
from graph_schema.settings import get_settings

HEADER = "idempotency-key"
PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(PATTERN)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: answers that carry a session (signing in, signing out): never kept
EXEMPT = frozenset({"/login", "/logout"})
#: the largest request body held to fingerprint it
MAX_REQUEST = 16 * 1024 * 1024
#: response headers not kept: cookies (a session must never be stored), and what is the sending's own
UNKEPT = frozenset({"set-cookie", "content-length", "date", "server"})
PURGE_EVERY = 3600.0  # seconds between purges of kept answers past their retention


class Idempotency:
    """The middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.retention = dt.timedelta(days=get_settings().idempotency_days)
        self._next_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _KEY.fullmatch(key):
            await _invalid_key(scope, receive, send)
            return
        user_id = await _user_of(scope, headers)
        if user_id is None or not _routed(scope):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        if more is not None:  # too large to hold: on as if without a key
            await self.app(scope, _replaying(body, more, receive), send)
            return
        store = scope["app"].state.services.store
        fingerprint = _fingerprint(scope, headers, b"".join(body))
        try:
            claimed = await run_in_threadpool(idempotency.claim, store=store, user_id=user_id, key=key,
                                              fingerprint=fingerprint)
        except JieduiError as exc:
            extra = {"Retry-After": "1"} if isinstance(exc, RequestInProgress) else None
            await JSONResponse(body_of(exc), status_of(exc), headers=extra)(scope, receive, send)
            return
        if isinstance(claimed, idempotency.Reply):
            await _replay(claimed)(scope, receive, send)
        else:
            await self._first(scope, _replaying(body, None, receive), send, store, claimed)
        await self._purge(store)

    async def _first(self, scope: Scope, receive: Receive, send: Send, store: Any,
                     claimed: idempotency.Claim) -> None:
        """Run the request; keep its answer (or release the key), then send the answer."""
        held: list[Message] = []
        size = 0
        passing = False  # the answer outgrew what is kept: sent as it comes

        async def hold(message: Message) -> None:
            nonlocal size, passing
            if passing:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size > idempotency.MAX_BODY:
                    passing = True
                    for m in held:
                        await send(m)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await run_in_threadpool(idempotency.release, store=store, claimed=claimed)
            raise
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if passing or start is None or start["status"] >= 400:
            await run_in_threadpool(idempotency.release, store=store, claimed=claimed)
        else:
            kept = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start.get("headers", [])
                    if k.decode("latin-1").lower() not in UNKEPT]
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            await run_in_threadpool(idempotency.keep, store=store, claimed=claimed,
                                    reply=idempotency.Reply(start["status"], kept, body))
        if not passing:
            for m in held:
                await send(m)

    async def _purge(self, store: Any) -> None:
        """Now and then, delete the kept answers past their retention (a small table: one scan)."""
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY
        before = dt.datetime.now(dt.timezone.utc) - self.retention
        await run_in_threadpool(idempotency.purge, store=store, before=before)


async def _user_of(scope: Scope, headers: Headers) -> str | None:
    """The user a request's credential names (a bearer token, else the console's session), or
    None: the request is then refused by its route as it would be without a key."""
    from api.web.session import COOKIE  # the console's cookie (api.web imports this package's app)

    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        cookies = _cookies(headers.get("cookie", ""))
        token = cookies.get(COOKIE, "")
    try:
        return (await scope["app"].state.services.tokens.user_async(token.strip() or None)).user_id
    except Unauthenticated:
        return None


def _routed(scope: Scope) -> bool:
    """Whether a route serves this method at this path: any other request is answered by the
    router alone (404, 405), whatever key it carries."""
    return any(route.matches(scope)[0] is Match.FULL for route in scope["app"].router.routes)


def _cookies(raw: str) -> dict[str, str]:
    out = {}
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            out.setdefault(name, value)
    return out


async def _read(receive: Receive) -> tuple[list[bytes], Message | None]:
    """The request body's chunks, up to :data:`MAX_REQUEST`; beyond it, the message that went over
    (the rest is still to be received) as the second value."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return chunks, message  # the client went away: handed on as it came
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST:
            return chunks, message
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks, None


def _replaying(chunks: list[bytes], then: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the chunks already read, then the message that stopped the reading
    (if any), then what the client still sends (the rest of a large body, or its going away)."""
    pending: list[Message] = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    if then is not None:
        pending.append(then)
    elif pending:
        pending[-1]["more_body"] = False
    else:
        pending.append({"type": "http.request", "body": b"", "more_body": False})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _fingerprint(scope: Scope, headers: Headers, body: bytes) -> str:
    """A hash of what makes two requests the same: method, path, query and body. A multipart
    body's boundary, drawn anew by the client for each send, is left out."""
    content_type = headers.get("content-type", "")
    kind, _, params = content_type.partition(";")
    boundary = re.search(r'boundary="?([^";]+)"?', params)
    if boundary:
        body = body.replace(boundary.group(1).encode("latin-1"), b"")
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""),
                 kind.strip().lower().encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _replay(reply: idempotency.Reply) -> Response:
    answer = Response(reply.body, status_code=reply.status)
    answer.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers] + [
        (b"content-length", str(len(reply.body)).encode()), (b"idempotent-replayed", b"true")]
    return answer


async def _invalid_key(scope: Scope, receive: Receive, send: Send) -> None:
    reason = "须为 1–255 个可见 ASCII 字符（建议用 UUID）/ 1–255 visible ASCII characters (a UUID is best)"
    body = {"code": "VALIDATION", "message": "请求字段无效：header.Idempotency-Key",
            "message_en": "invalid request fields: header.Idempotency-Key",
            "errors": [{"field": "header.Idempotency-Key", "reason": reason}]}
    await JSONResponse(body, 422)(scope, receive, send)


def publish(schema: dict[str, Any]) -> dict[str, Any]:
    """State the header in the OpenAPI document, on every write operation."""
    parameter = {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "客户端为每个请求生成的键（如 UUID）：同一用户以同一键重发同一请求时，返回首次的答复且不再执行；"
                       "同一键用于不同请求时 422 IDEMPOTENCY_KEY_REUSED，首次请求尚未完成时 409 "
                       "IDEMPOTENCY_IN_PROGRESS / a key the client makes for each request (a UUID): the same "
                       "request sent again with it by the same user gets the first answer "
                       "(`Idempotent-Replayed: true`) and is not done again; the key sent with another request "
                       "answers 422 IDEMPOTENCY_KEY_REUSED, a repeat while the first still runs 409 "
                       "IDEMPOTENCY_IN_PROGRESS",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": PATTERN},
    }
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method.upper() in WRITES:
                operation.setdefault("parameters", []).append(parameter)
    return schema
