"""The one place where domain errors become HTTP answers: a stable code, a Chinese message, an
English one, the field at fault; never a driver's internals."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.security import CrossOrigin, CsrfRefused
from api.throttle import TooManyAttempts
from graph_schema.access.service import Forbidden, Unauthenticated
from graph_schema.errors import InvalidValue, JieduiError, NotFound, RuleViolation, StoreError
from graph_schema.identifiers import IdentifierError
from graph_schema.models import RuleBroken

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[JieduiError], int]] = [
    (Unauthenticated, 401), (Forbidden, 403), (NotFound, 404), (InvalidValue, 422), (RuleViolation, 409),
    (StoreError, 503), (TooManyAttempts, 429), (CsrfRefused, 403), (CrossOrigin, 403),
]


def status_of(exc: JieduiError) -> int:
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def body_of(exc: JieduiError) -> dict:
    """The JSON an error answers with. A store failure says only that the store failed."""
    if isinstance(exc, StoreError):
        return {"code": exc.code, "message": "图库暂时不可用，请稍后重试", "message_en": "the store is unavailable; retry later"}
    return exc.as_dict()


def _request_id(request: Request) -> dict:
    rid = getattr(request.state, "request_id", None)
    return {"request_id": rid} if rid else {}


def _code_of(error: dict) -> dict:
    """The stable code of a field's error where it has one (an identifier's check character:
    ``ID_CHECKSUM``, ``USCC_CHECKSUM`` …; a rule across fields: ``DATE_ORDER`` …), so a client can tell it from a value the schema refuses."""
    cause = (error.get("ctx") or {}).get("error")
    return {"code": cause.code} if isinstance(cause, (IdentifierError, RuleBroken)) else {}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path, asked of the routes themselves. (Starlette's
    405 names only the methods of the first route whose path matched, so ``GET|POST /exclusions``
    answered ``Allow: GET``.)"""
    routes = request.app.router.routes
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)]


def install(app: FastAPI, html: Callable[[Request, JieduiError, int], Response] | None = None) -> None:
    """The handlers; ``html`` answers the console's pages (an error page) instead of JSON."""
    def console(request: Request) -> bool:
        """Whether to answer with a page: a console address, unless the request asks for JSON
        (the console's own scripts do, as the cadre's offline queue)."""
        accept = request.headers.get("accept", "")
        wants_json = "application/json" in accept and "text/html" not in accept
        return html is not None and not wants_json and not request.url.path.startswith(
            ("/api/", "/graphql", "/openapi.json"))

    @app.exception_handler(JieduiError)
    async def domain(request: Request, exc: JieduiError) -> Response:
        if console(request):
            answer = html(request, exc, status_of(exc))
            if isinstance(exc, TooManyAttempts):
                answer.headers["Retry-After"] = str(exc.retry_after)
            return answer
        if isinstance(exc, StoreError):
            log.error("store error: %s %s", exc.en, exc.details)
        headers = ({"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts)
                   else {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None)
        return JSONResponse(body_of(exc) | _request_id(request), status_code=status_of(exc), headers=headers)

    @app.exception_handler(IdentifierError)
    async def identifier(request: Request, exc: IdentifierError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.reason_zh, "message_en": exc.reason_en}
                            | _request_id(request), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} | _code_of(e) for e in exc.errors()]
        fields, listed = "、".join(e["field"] for e in errors), ", ".join(e["field"] for e in errors)
        if console(request):
            return html(request, JieduiError(f"请求字段无效：{fields}", f"invalid request fields: {listed}"), 422)
        return JSONResponse({"code": "VALIDATION", "message": f"请求字段无效：{fields}",
                             "message_en": f"invalid request fields: {listed}", "errors": errors}
                            | _request_id(request), status_code=422)

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        zh = {404: "没有这个地址", 405: "不支持此请求方法"}.get(exc.status_code, "请求无效")
        if console(request) and exc.status_code in (404, 405):
            return html(request, JieduiError(zh, str(exc.detail)), exc.status_code)
        headers = exc.headers
        if exc.status_code == 405:
            headers = (headers or {}) | {"Allow": ", ".join(allowed_methods(request))}
        return JSONResponse({"code": f"HTTP_{exc.status_code}", "message": zh, "message_en": str(exc.detail)}
                            | _request_id(request), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"code": "INTERNAL", "message": "服务器内部错误，已记录", "message_en": "internal error; logged"}
                            | _request_id(request), status_code=500)
