"""Users, for administrators: revoking a user's tokens while the service runs.

The embedded store is held by the running service, so ``jiedui user revoke`` cannot open it then;
it calls this route instead (``--server``). The service's token cache forgets at once, so the
revoked tokens are refused from the next request on; the revocation is audited as a write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from api.auth import Caller, caller, services
from api.rest import schemas
from api.rest.schemas import WRITE_ERRORS
from graph_schema.access.models import Role
from graph_schema.access.service import revoke_tokens

router = APIRouter(tags=["users 用户"], responses=WRITE_ERRORS)


class RevokedOut(BaseModel):
    user_id: str
    revoked: int  # tokens (and console sessions) that were still valid


@router.post("/users/{user_id}/revoke", response_model=RevokedOut)
def revoke(user_id: Annotated[str, Path(min_length=1, max_length=64)], request: Request,
           who: Annotated[Caller, Depends(caller)]) -> dict:
    """吊销用户的全部令牌与控制台会话，立即生效（仅管理员）/ revoke all of a user's tokens and console
    sessions, at once (administrators only)."""
    who.require([Role.ADMIN], "吊销用户令牌", "revoke a user's tokens")
    revoked = revoke_tokens(store=who.store, user_id=user_id)
    services(request).tokens.forget()
    who.wrote("user", [user_id])
    return {"user_id": user_id, "revoked": revoked}


schemas.summarise(router)
