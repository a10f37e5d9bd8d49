"""Signing a test client in to the console, as a browser does."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.security import csrf_token


def sign_in(client: TestClient, world, user: str) -> None:
    """A console session for ``user`` (signed in with its token), with the CSRF token the pages'
    forms and htmx send with every POST: the one bound to the session the sign-in made."""
    answer = client.post("/login", data={"token": world.tokens[user], "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, answer.cookies["jiedui_session"])
