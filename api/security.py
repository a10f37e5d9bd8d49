"""Security headers on every answer, and the console's CSRF tokens.

The headers are added by a plain ASGI middleware (no body buffering, a few list appends per
answer). Every page and API answer may carry personal data, so none is cached (``no-store``);
the static assets are the exception. The console loads nothing from elsewhere and runs no inline
script or style, so its policy is ``'self'`` only; so is Swagger UI's (``/docs``), served from
``static/vendor`` with a start-up script file of our own.

CSRF: the session cookie is already SameSite=Strict; on top of it every console POST must carry
a token, an HMAC of the session token under the console's secret (``csrf_token``; the setting
``JIEDUI_CSRF_SECRET``, so that every worker process accepts every other's tokens, else drawn
when the app is made), in the
form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it from ``<body hx-headers>``).
The sign-in form has no session yet, so it is guarded by where the request comes from instead
(:func:`same_origin`): another site must not sign a browser in to an account of its choosing.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_schema.errors import JieduiError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
COMMON = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"),
]


class SecurityHeaders:
    """Adds the headers to every HTTP answer (a header the route set itself is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = list(COMMON)
        extra.append(("content-security-policy", CSP))
        if not path.startswith("/static/"):
            extra.append(("cache-control", "no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- CSRF -----------------------------------------------------------------------------------------

FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CsrfRefused(JieduiError):
    """A console POST without the token of its session (answers 403; nothing is done)."""

    code = "CSRF"

    def __init__(self) -> None:
        super().__init__("表单已失效或来源不明，请刷新页面后重试", "missing or wrong CSRF token; reload the page and retry")


def csrf_token(secret: bytes, session: str | None) -> str:
    """The token a session's forms carry ("" without a session)."""
    if not session:
        return ""
    return hmac.new(secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, session: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(secret, session), str(sent))


def request_secret(request: Request) -> bytes:
    return request.app.state.csrf_secret


class CrossOrigin(JieduiError):
    """A sign-in posted from another site (answers 403; nobody is signed in)."""

    code = "CROSS_ORIGIN"

    def __init__(self) -> None:
        super().__init__("登录请求来自其他网站，已拒绝；请在本系统的登录页登录",
                         "a sign-in sent from another site is refused; sign in on this site's sign-in page")


def same_origin(request: Request) -> bool:
    """Whether a browser sent this request from a page of this site.

    ``Sec-Fetch-Site``, set by the browser and beyond a page's reach, decides when present
    (``same-site`` is refused too: a sibling host may belong to someone else). Browsers without
    it send ``Origin`` on every cross-origin POST (else ``Referer``), compared with the ``Host``
    the request was sent to, so a reverse proxy must pass ``Host`` on. A request with none of the
    three is not a browser's cross-site form (browsers send at least one), so it is let through:
    scripts and tests sign in that way."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    host = request.headers.get("host", "")
    return bool(host) and urlsplit(source).netloc.lower() == host.lower()
