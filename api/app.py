"""The web service: REST under ``/api/v1``, GraphQL at ``/graphql``, the console at ``/``, over one
store."""

from __future__ import annotations

from collections.abc import AsyncIterator
import asyncio
import gc
import hashlib
import secrets
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api import errors
from api.auth import API, Services, TokenCache
from api.bookmarks import Bookmarks
from api.idempotency import Idempotency, publish
from api.report_cache import ReportCache
from api.security import SecurityHeaders
from api.throttle import Throttle
from api.graphql import router as graphql_router
from api.notify_runs import daily
from api.tally_runs import kept_current
from api.rest import (audit, aux_requests, cadres, claims, households, imports, inbox, ledger, matcher, orgs, pairings,
                      reports, services, users)
from api import web
from graph_schema.access.audit import AuditLog
from graph_schema.settings import get_settings
from graph_schema.store import GraphStore


def create_app(store: GraphStore, *, audit_interval: float = 0.5, token_ttl: float = 30.0,
               report_ttl: float = 0.0, owns_store: bool = False, daily_notify: bool = True,
               keep_tallies: bool = False) -> FastAPI:
    """The app over an open store (the caller owns the store and closes it after the app stops,
    unless ``owns_store``: then the app closes it). ``report_ttl`` > 0 keeps report runs that long
    (``api/report_cache.py``; ``jiedui serve`` does). ``daily_notify``: run ``notify`` daily at
    ``JIEDUI_NOTIFY_AT`` (the workers of ``jiedui serve --workers`` do not: their supervisor does, once).
    ``keep_tallies``: keep the service tallies of the year current (``api/tally_runs.py``;
    ``jiedui serve`` does, once)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        at = get_settings().notify_at
        jobs = []
        if at and daily_notify:
            jobs.append(asyncio.create_task(daily(store, at)))
        if keep_tallies:
            jobs.append(asyncio.create_task(kept_current(store)))
        yield
        for job in jobs:
            job.cancel()
        app.state.services.audit.close()
        if owns_store:
            store.close()

    app = FastAPI(
        title="jiedui 结对帮扶图谱", version="1.0",
        description="结对帮扶图谱管理：家庭、残疾人、干部、社会组织、结对、台账与监测预警。"
                    "每个请求须带 `Authorization: Bearer <token>`（`jiedui user add` 生成）。",
        lifespan=lifespan, docs_url=None, redoc_url=None,
    )
    app.state.services = Services(store, AuditLog(store, interval=audit_interval), TokenCache(store, token_ttl),
                                  ReportCache(report_ttl))
    app.state.csrf_secret = csrf_secret(get_settings().csrf_secret)
    # failed sign-ins to the console: per device cookie or user name, and (more) per client address
    # (api/web/devices.py); failed bearer tokens on the APIs per client address. Only failures are
    # counted, and a valid credential is never refused for the failures of others.
    app.state.login_user_throttle = Throttle(5, 300.0)
    app.state.login_ip_throttle = Throttle(20, 300.0)
    app.state.api_throttle = Throttle(30, 60.0)
    # organisations asking to join, from the sign-in page without an account: every request counts
    app.state.join_throttle = Throttle(10, 3600.0)
    app.add_middleware(Idempotency)  # inside the security headers, so a replayed answer gets them too
    app.add_middleware(SecurityHeaders)
    # outermost: the bookmarks of every write of the request, the kept idempotent answer's too
    app.add_middleware(Bookmarks, secret=app.state.csrf_secret)
    errors.install(app, html=web.error_page)
    # first: a request is matched against the routes in order, and GraphQL carries the busiest
    # queries (behind the REST routes, each of its requests was matched against all of them first)
    app.include_router(graphql_router())
    app.include_router(households.router, prefix=API)
    for module in (cadres, orgs, pairings, aux_requests, matcher, ledger, services, imports, claims, reports, audit,
                   inbox, users):
        app.include_router(module.router, prefix=API)
    web.install(app)
    _publish_idempotency(app)

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        """Swagger UI from the service's own static files (FastAPI's page loads it from a CDN)."""
        return HTMLResponse(DOCS_PAGE)

    return app


def worker_app() -> FastAPI:
    """The app of one worker process of ``jiedui serve --workers N`` (uvicorn's app factory): the
    store named by the settings, opened by this process (a driver and its connection pool of its
    own), closed when the worker stops. ``jiedui serve`` has already loaded the demo data and
    made the first users, put the store and the CSRF secret in the environment, and runs the
    daily ``notify`` and keeps the service tallies itself (once, not once per worker)."""
    from graph_schema.store import open_store

    settings = get_settings()
    app = create_app(open_store(settings.store, settings), report_ttl=settings.report_cache_seconds,
                     token_ttl=settings.token_cache_seconds,
                     owns_store=True, daily_notify=False)
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Move everything made so far (the modules, the GraphQL schema, the app) out of the garbage
    collector's reach, once the app is built and before it serves.

    Those ~170,000 objects live as long as the process, yet every full collection walked them
    again; with 16 requests in flight, enough objects outlive a young collection that a full one
    ran about every 300 requests, and the collector took ~0.6 ms of CPU per household detail
    request (measured in this process: ~0.25 ms once they are frozen; 0.12 ms with one request
    at a time). Objects made later are collected as before. An import run by this process ends
    with ``gc.unfreeze`` (``importers/engine.py``), which hands these back to the collector too:
    correct, only slower, until the service restarts."""
    gc.collect()
    gc.freeze()


def csrf_secret(configured: str) -> bytes:
    """The CSRF secret: from the setting (the same in every worker), else drawn for this process."""
    return hashlib.sha256(configured.encode()).digest() if configured else secrets.token_bytes(32)


def _publish_idempotency(app: FastAPI) -> None:
    """The OpenAPI document states the ``Idempotency-Key`` header on every write it describes."""
    generate = app.openapi
    published: list[dict] = []  # the document last published (FastAPI makes a new one when routes change)

    def openapi() -> dict:
        schema = generate()
        if not published or published[0] is not schema:
            published[:] = [publish(schema)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>jiedui API 文档 / API documentation</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script><script src="/static/swagger-init.js"></script>
</body></html>
"""
