"""Device cookies: the browsers where a user has signed in before, so that guessing from elsewhere
never locks them out (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

After a successful password sign-in the browser gets a cookie, one per user name, holding a random
id and an HMAC of the user name and that id under the console's secret (``JIEDUI_CSRF_SECRET``,
the same in every worker process; else drawn at start). A later sign-in that
presents a valid cookie for the name it types is a *trusted* attempt: its failures are counted
against that cookie alone, and the client address's count does not apply to it. Every other
attempt is *untrusted*: counted per user name and per client address, and refused past either
limit. So password spraying from one address stays slow, a user whose name someone is guessing
still signs in from their own browser, and an office behind one NAT address keeps signing in
while a stranger (or a colleague's misconfigured script) fails from the same address.

The cookie is HttpOnly, SameSite=Strict and sent only to ``/login``; it grants nothing by
itself. Without ``JIEDUI_CSRF_SECRET``, a restart of the service draws a new secret, so every
browser is untrusted again until its next successful sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response

from api.security import request_secret

MAX_AGE = 180 * 24 * 3600
PATH = "/login"


def cookie_name(user_id: str) -> str:
    """One cookie per user name, so users who share a browser are each trusted there."""
    return "jiedui_device_" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


def _mac(secret: bytes, user_id: str, device_id: str) -> str:
    message = b"device:" + base64.b64encode(user_id.encode()) + b":" + device_id.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def trusted_device(request: Request, user_id: str) -> str | None:
    """The id of this browser's valid device cookie for ``user_id``, or None."""
    value = request.cookies.get(cookie_name(user_id), "")
    device_id, _, mac = value.partition(".")
    if not device_id or not mac:
        return None
    return device_id if hmac.compare_digest(_mac(request_secret(request), user_id, device_id), mac) else None


def remember_device(request: Request, response: Response, user_id: str, device_id: str | None) -> None:
    """Give (or renew) this browser's device cookie for ``user_id`` after a successful sign-in."""
    device_id = device_id or secrets.token_urlsafe(16)
    response.set_cookie(cookie_name(user_id), f"{device_id}.{_mac(request_secret(request), user_id, device_id)}",
                        max_age=MAX_AGE, path=PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
