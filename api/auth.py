"""Who is calling: bearer tokens to users, users to scopes, and the audit entries of their requests.

Every route takes a :class:`Caller` (``Depends(caller)``). Scoping happens in the store queries,
through ``caller.scope``; the routes only pass it on.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.report_cache import ReportCache
from api.throttle import client_address
from graph_schema.access import privacy
from graph_schema.access.audit import AuditLog, entry
from graph_schema.access.models import Role, Scope, User
from graph_schema.access.service import Forbidden, Unauthenticated, authenticate, token_hash
from graph_schema.monitoring.common import Report
from graph_schema.pagination import Page, PageRequest
from graph_schema.store import GraphStore

API = "/api/v1"
bearer = HTTPBearer(auto_error=False, description="`jiedui user add` 生成的令牌 / a token from `jiedui user add`")


class TokenCache:
    """Tokens resolved in the last ``ttl`` seconds, so a busy portal does not look its token up on
    every request; a revocation takes effect within ``ttl`` (at once in the revoking process).

    Refused tokens are remembered too: a portal polling with an expired token, or a flood of bad
    ones, costs a store lookup per token per ``ttl`` rather than per request. That is safe because
    a token the store refused never becomes valid later (tokens are random; a new one is new)."""

    def __init__(self, store: GraphStore, ttl: float = 30.0) -> None:
        self._store, self._ttl = store, ttl
        self._users: dict[str, tuple[User | None, float]] = {}  # token hash → user (None: refused)
        self._lock = threading.Lock()

    def cached(self, token: str | None) -> User | None:
        """The user of a token resolved within ``ttl``, None if it has not been looked up lately;
        Unauthenticated for no token or one refused lately (no store call either way)."""
        if not token:
            raise Unauthenticated()
        hit = self._users.get(token_hash(token))
        if hit is None or hit[1] <= time.monotonic():
            return None
        if hit[0] is None:
            raise Unauthenticated()
        return hit[0]

    def user(self, token: str | None) -> User:
        """The user of a token (a store lookup unless cached); Unauthenticated if it is refused."""
        found = self.cached(token)
        if found is not None:
            return found
        assert token  # cached() refused an empty one
        try:
            found = authenticate(store=self._store, token=token)
        except Unauthenticated:
            self._keep(token, None)
            raise
        self._keep(token, found)
        return found

    def _keep(self, token: str, user: User | None) -> None:
        with self._lock:
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[token_hash(token)] = (user, time.monotonic() + self._ttl)

    async def user_async(self, token: str | None) -> User:
        """:meth:`user` for async code: from memory, or looked up on a worker thread, never on the
        event loop."""
        return self.cached(token) or await run_in_threadpool(self.user, token)

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

    def require(self, roles: Iterable[Role], action_zh: str, action_en: str) -> None:
        """Refuse a role that may never do this (objects outside the scope answer NotFound instead);
        the action is named in each language, so that each message reads in one language only."""
        if self.user.role not in roles:
            raise Forbidden(self.user.role, action_zh, action_en)

    def report(self, report: Report, region: str, page: PageRequest, **options: Any) -> Page:
        """One page of a monitoring report (through the report cache), its rows as this caller may
        see them under the privacy policy: what REST, GraphQL and the console list."""
        found = self.reports.run(report, self.store, region, page, **options)
        return replace(found, items=privacy.report_rows(report.name, found.items, self.user))

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


async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """The caller of this request. Async, so that FastAPI does not hop to a worker thread for it:
    a token is looked up in the store (on a worker thread) once per ``TokenCache.ttl``, in memory
    otherwise.

    Failed tokens are counted per client address (``app.state.api_throttle``). The token is checked
    first, so a valid one is answered whatever others sent from its address (a county office
    behind one NAT address keeps working while one of its portals polls with an expired token);
    past the limit, the address's bad tokens get 429 with ``Retry-After`` until its oldest
    failure leaves the window."""
    throttle = request.app.state.api_throttle
    try:
        user = await services(request).tokens.user_async(credentials.credentials if credentials else None)
    except Unauthenticated:
        address = "ip:" + client_address(request.client)
        throttle.check(address)
        throttle.fail(address)
        raise
    return caller_of(request, user)


def caller_of(request: Request, user: User) -> Caller:
    """The caller of this request, once its token (the API's bearer header, the console's session
    cookie) has named the user."""
    svc = services(request)
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    request.state.request_id = request_id
    route = getattr(request.scope.get("route"), "path", request.url.path)  # the template, without the prefix
    prefix = API if request.url.path.startswith(API) and not route.startswith(API) else ""
    operation = f"{request.method} {prefix}{route}"
    return Caller(user, user.scope, request_id, operation, svc.store, svc.audit, svc.reports)


ORGANISERS = (Role.ADMIN, Role.ORGANIZER)
READERS = (Role.ADMIN, Role.ORGANIZER, Role.PORTAL)
