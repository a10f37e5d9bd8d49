"""The audit trail, read-only: who read or changed which household data, when, by which request.

Administrators only. No route changes or deletes an entry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Caller, caller
from api.rest import schemas
from api.rest.inputs import Instant
from api.rest.schemas import ERRORS, AuditEntryOut, PageOut, PageQ, PageSizeQ
from graph_schema.access.audit import audit_entries
from graph_schema.access.models import Role
from graph_schema.pagination import PageRequest


router = APIRouter(tags=["audit 审计"], responses=ERRORS)


@router.get("/audit", response_model=PageOut[AuditEntryOut])
def audit(who: Annotated[Caller, Depends(caller)],
          since: Annotated[Instant | None, Query(description=(
              "自此时起（RFC 3339，须带时区，1900–2999 年）/ from this time on (RFC 3339 with its offset, "
              "years 1900–2999)"))] = None,
          user: Annotated[str | None, Query(max_length=64, description="用户名 / user")] = None,
          object: Annotated[str | None, Query(max_length=64, description="对象键，如户编号 / object key, e.g. a "  # noqa: A002
                                                                         "household number")] = None,
          page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """审计日志，最新在前（仅管理员）/ audit entries, newest first (administrators only)."""
    who.require([Role.ADMIN], "查看审计日志", "read the audit log")
    found = audit_entries(store=who.store, since=since, user_id=user, object_key=object,
                          page=PageRequest(page, page_size))
    return schemas.page_out(found, vars)


schemas.summarise(router)
