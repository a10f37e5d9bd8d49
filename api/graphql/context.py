"""What every resolver of one request shares: the caller, the request's DataLoaders, and the
household and person keys the answer shows (recorded in the audit trail once, at the end)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from strawberry.fastapi import BaseContext

from api.auth import Caller, bearer, caller
from api.graphql.loaders import Loaders
from graph_schema.access import privacy


class Context(BaseContext):
    def __init__(self, who: Caller) -> None:
        super().__init__()
        self.who = who
        self.scope = who.scope
        self.loaders = Loaders(who)
        self.seen: dict[str, set[str]] = {"household": set(), "person": set()}

    def shown(self, subject: str, obj: BaseModel | dict[str, Any]) -> dict[str, Any]:
        """A domain object's fields as this caller may see them: the one place GraphQL applies
        the privacy policy (``subject`` names the object's rows of the table)."""
        values = obj if isinstance(obj, dict) else obj.model_dump()
        return privacy.redact(subject, values, self.who.user)

    def saw(self, kind: str, keys: Iterable[str]) -> None:
        """Note objects the answer shows (``household`` or ``person``)."""
        self.seen[kind].update(keys)

    def name_operation(self, operation: str) -> None:
        """Name the audit entries after the GraphQL operation rather than ``POST /graphql``."""
        self.who = replace(self.who, operation=operation)

    def record_reads(self) -> None:
        """One audit entry per kind for the whole request, however many objects it showed."""
        for kind, keys in self.seen.items():
            self.who.read(kind, keys)
            keys.clear()


async def request_context(request: Request) -> Context:
    """The GraphQL context of one request; no token or a bad one answers 401 before any GraphQL
    runs, exactly as the REST routes do (``caller`` raises, the app's handler answers).

    ``caller`` and the bearer scheme are called here rather than declared as dependencies: FastAPI
    solved each declared level anew on every request (~0.1 ms of a household detail request,
    whose route already has three levels from strawberry)."""
    return Context(await caller(request, await bearer(request)))
