"""Who is calling: bearer tokens to users, users to scopes, and the audit entries of their requests.

Every route takes a :class:`Caller` (``Depends(caller)``). Scoping happens in the store queries,
through ``caller.scope``; the routes only pass it on.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.report_cache import ReportCache
from api.throttle import client_address
from graph_schema.access.audit import AuditLog, entry
from graph_schema.access.models import Role, Scope, User
from graph_schema.access.service import Forbidden, Unauthenticated, authenticate, token_hash
from graph_schema.store import GraphStore

API = "/api/v1"
_bearer = HTTPBearer(auto_error=False, description="`jiedui user add` 生成的令牌 / a token from `jiedui user add`")


class TokenCache:
    """Tokens resolved in the last ``ttl`` seconds, so a busy portal does not look its token up on
    every request; a revocation takes effect within ``ttl`` (at once in the revoking process)."""

    def __init__(self, store: GraphStore, ttl: float = 30.0) -> None:
        self._store, self._ttl = store, ttl
        self._users: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()

    def user(self, token: str | None) -> User:
        key = token_hash(token) if token else ""
        now = time.monotonic()
        hit = self._users.get(key)
        if hit and hit[1] > now:
            return hit[0]
        user = authenticate(store=self._store, token=token)
        with self._lock:
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[key] = (user, now + self._ttl)
        return user

    def forget(self) -> None:
        with self._lock:
            self._users.clear()


@dataclass
class Services:
    """What the routes share, kept on ``app.state.services``."""

    store: GraphStore
    audit: AuditLog
    tokens: TokenCache
    reports: ReportCache


@dataclass
class Caller:
    user: User
    scope: Scope
    request_id: str
    operation: str
    store: GraphStore
    audit: AuditLog
    reports: ReportCache

    def require(self, roles: Iterable[Role], action: str) -> None:
        """Refuse a role that may never do this (objects outside the scope answer NotFound instead)."""
        if self.user.role not in roles:
            raise Forbidden(self.user.role, action)

    def read(self, kind: str, keys: Iterable[str]) -> None:
        """Note that this request showed these objects (stored within a second)."""
        keys = sorted(set(keys))
        if keys:
            self.audit.add([entry(self.user, "read", self.operation, kind, keys, self.request_id)])

    def refused(self, kind: str, keys: Iterable[str]) -> None:
        """Note that this request asked for these objects and was refused (stored within a
        second, as reads are): a refusal answers as a missing object does, the trail keeps it."""
        keys = sorted(set(keys))
        if keys:
            self.audit.add([entry(self.user, "refused", self.operation, kind, keys, self.request_id)])

    def wrote(self, kind: str, keys: Iterable[str]) -> None:
        """Note that this request changed these objects; stored before the request answers. Any
        change may alter the monitoring lists, so their cache is emptied."""
        self.reports.clear()
        keys = sorted(set(keys))
        if keys:
            self.audit.add([entry(self.user, "write", self.operation, kind, keys, self.request_id)])
            self.audit.flush()


def services(request: Request) -> Services:
    return request.app.state.services


async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    """The caller of this request. Async, so that FastAPI does not hop to a worker thread for it:
    a token is looked up in the store once per ``TokenCache.ttl``, in memory otherwise.

    Failed tokens are counted per client address (``app.state.api_throttle``): past the limit the
    address gets 429 with ``Retry-After`` until its oldest failure leaves the window."""
    throttle = request.app.state.api_throttle
    address = "ip:" + client_address(request.client)
    throttle.check(address)
    try:
        return caller_with(request, credentials.credentials if credentials else None)
    except Unauthenticated:
        throttle.fail(address)
        raise


def caller_with(request: Request, token: str | None) -> Caller:
    """The caller a token names (the API's bearer header, the console's session cookie)."""
    svc = services(request)
    user = svc.tokens.user(token)
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    request.state.request_id = request_id
    route = getattr(request.scope.get("route"), "path", request.url.path)  # the template, without the prefix
    prefix = API if request.url.path.startswith(API) and not route.startswith(API) else ""
    operation = f"{request.method} {prefix}{route}"
    return Caller(user, user.scope, request_id, operation, svc.store, svc.audit, svc.reports)


ORGANISERS = (Role.ADMIN, Role.ORGANIZER)
READERS = (Role.ADMIN, Role.ORGANIZER, Role.PORTAL)
