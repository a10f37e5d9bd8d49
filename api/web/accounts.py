"""The organisers' accounts page (账号): the cadres and organisations of their region with their
accounts; accounts made for those without one (their one-time codes come back as the .xlsx the
organiser hands out, the answer to that request and nowhere else), a new code for one account
(shown once, on the answer), and an account disabled or enabled.

Every change goes through :mod:`api.operations` (the role, the region, the audit trail); a user
outside the region answers as one that does not exist. Disabling or resetting empties the
service's token cache, so the user's tokens and sessions are refused from the next request on.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import operations
from api.auth import ORGANISERS
from api.code_files import XLSX, codes_xlsx, file_name
from api.web.lists import PAGE_SIZE, _back, page_number, pager, region_choices, region_of, show
from api.web.pages import Who
from api.web.regions import region_names
from api.web.session import forget
from graph_schema.access.accounts import CODE_DAYS, AccountState, roster_accounts
from graph_schema.access.models import Role
from graph_schema.errors import InvalidValue
from graph_schema.models import today
from graph_schema.monitoring.common import paginate
from graph_schema.pagination import PageRequest

router = APIRouter(include_in_schema=False)
PATH = "/accounts"
#: the roster's roles as the page names them
KINDS = {"cadre": (Role.CADRE, "干部", "cadres"), "org": (Role.ORG, "社会组织", "organisations")}


def _kind(value: str | None) -> Role:
    try:
        return KINDS[value or "cadre"][0]
    except KeyError:
        raise InvalidValue("kind", value, "应为 cadre 或 org", "must be cadre or org") from None


def _page(request: Request, who: Who, region: str | None, kind: str | None, page: int | None,
          issued: Any = None) -> HTMLResponse:
    who.require(ORGANISERS, "管理账号", "manage accounts")
    role, code = _kind(kind), region_of(who, region)
    accounts = roster_accounts(store=who.store, role=role, scope=who.scope, region=code)
    found = paginate(accounts, PageRequest(page_number(page), PAGE_SIZE, 10**9))
    waiting = sum(1 for a in accounts if a.state is AccountState.NONE)
    names = region_names(who.store, [code, *(a.region_code for a in found.items)])
    return show(request, who, "accounts.html", rows=found.items, pager=pager(found, request), region=code,
                regions=region_choices(who), names=names, kind="org" if role is Role.ORG else "cadre", kinds=KINDS,
                waiting=waiting, issued=issued, states=AccountState, days=CODE_DAYS)


@router.get(PATH, response_class=HTMLResponse)
def accounts_page(request: Request, who: Who, region: str | None = None, kind: str | None = None,
                  page: int | None = None) -> HTMLResponse:
    """账号：本区划的干部或社会组织及其账号 / the region's cadres or organisations and their accounts."""
    return _page(request, who, region, kind, page)


def _here(region: str, kind: str) -> str:
    return f"{PATH}?{urlencode({'region': region, 'kind': kind})}"


@router.post(PATH + "/create", response_model=None)
def create(who: Who, region: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "cadre") -> Response:
    """为没有账号的人建账号，一次性登录码以 xlsx 下载（只此一次）/ make the missing accounts; their
    one-time codes are the answer, as an .xlsx, this once."""
    who.require(ORGANISERS, "建账号", "make accounts")
    role, code = _kind(kind), region_of(who, region)
    issued = operations.create_accounts(who, role, code)
    if not issued:
        return _back(_here(code, kind), "没有需要建账号的人 / everyone already has an account")
    name = file_name(role, code, today())
    return Response(codes_xlsx(issued), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"codes-{code}.xlsx\"; filename*=UTF-8''{quote(name)}"})


@router.post(PATH + "/reset", response_class=HTMLResponse)
def reset(request: Request, who: Who, user: Annotated[str, Form()], region: Annotated[str, Form()] = "",
          kind: Annotated[str, Form()] = "cadre") -> HTMLResponse:
    """新的一次性登录码（原密码和会话作废），只在此显示一次 / a new one-time code (the password and
    every session end), shown on this answer only."""
    issued = operations.reset_account(who, user)
    forget(request)
    return _page(request, who, region or None, kind, None, issued=issued)


@router.post(PATH + "/disable")
def disable(request: Request, who: Who, user: Annotated[str, Form()], region: Annotated[str, Form()] = "",
            kind: Annotated[str, Form()] = "cadre", enable: Annotated[bool, Form()] = False) -> RedirectResponse:
    """停用账号（不能登录，令牌失效），或重新启用 / disable an account, or enable it again."""
    operations.disable_account(who, user, not enable)
    forget(request)
    done = f"已启用 / enabled：{user}" if enable else f"已停用 / disabled：{user}"
    return _back(_here(region_of(who, region), kind), done)
