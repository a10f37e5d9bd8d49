"""``jiedui user …`` (users and their tokens) and ``jiedui audit`` (the audit trail)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import StoreOption, cli_store, console, fail
from api.code_files import codes_xlsx, open_codes_file
from graph_schema.access.audit import audit_entries
from graph_schema.access.accounts import CODE_DAYS, create_accounts
from graph_schema.access.models import EVERYTHING, Role
from graph_schema.access.service import add_user, demo_bounds, issue_token, list_users, revoke_tokens, set_password
from graph_schema.errors import JieduiError, StoreLocked
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore, open_store

user_app = typer.Typer(help="用户与令牌 / users and their tokens", no_args_is_help=True)

RoleOption = Annotated[Role, typer.Option("--role", help="admin | organizer | cadre | org | portal")]


@user_app.command("add")
def add(
    user_id: Annotated[str, typer.Argument(help="用户名 / user name", show_default=False)],
    role: RoleOption,
    region: Annotated[str | None, typer.Option("--region", help="organizer、portal 的辖区 / jurisdiction")] = None,
    cadre: Annotated[str | None, typer.Option("--cadre", help="cadre 角色的干部编号 / the cadre's number")] = None,
    org: Annotated[str | None, typer.Option("--org", help="org 角色的统一社会信用代码 / the org's code")] = None,
    days: Annotated[int, typer.Option(help="令牌有效天数 / token validity in days")] = 90,
    password: Annotated[bool, typer.Option(
        "--password", help="同时设置控制台登录密码（提示输入，不回显；非终端时从标准输入读一行）/ also set a "
                           "password for the console (prompted, hidden; read as one line of stdin when not a terminal)")
    ] = False,
    store: StoreOption = None,
) -> None:
    """新建用户并生成令牌（只显示这一次）/ add a user and print their token (shown once)."""
    secret = _read_password() if password else None
    with cli_store(store) as s:
        try:
            add_user(store=s, user_id=user_id, role=role, region=region, cadre_no=cadre, uscc=org)
            if secret is not None:
                set_password(store=s, user_id=user_id, password=secret)
            token = issue_token(store=s, user_id=user_id, days=days)
        except JieduiError as exc:
            raise fail(exc) from exc
    console.print(token, soft_wrap=True, highlight=False)


def _read_password() -> str:
    """The new password: prompted twice without echo on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("token")
def token(user_id: Annotated[str, typer.Argument(show_default=False)], days: int = 90,
          store: StoreOption = None) -> None:
    """为用户另发一个令牌 / issue another token for a user."""
    with cli_store(store) as s:
        try:
            console.print(issue_token(store=s, user_id=user_id, days=days), soft_wrap=True, highlight=False)
        except JieduiError as exc:
            raise fail(exc) from exc


@user_app.command("revoke")
def revoke(
    user_id: Annotated[str, typer.Argument(show_default=False)],
    server: Annotated[str | None, typer.Option(
        "--server", envvar="JIEDUI_SERVER",
        help="经运行中的服务吊销（如 http://127.0.0.1:8000），管理员令牌取自环境变量 JIEDUI_ADMIN_TOKEN / "
             "revoke through the running service; an admin token is read from JIEDUI_ADMIN_TOKEN")] = None,
    store: StoreOption = None,
) -> None:
    """吊销用户的全部令牌与控制台会话 / revoke all of a user's tokens and console sessions.

    The running service holds an embedded store, so while it runs revoke through it
    (``--server``): its token cache then forgets the revoked tokens at once. Without ``--server``
    the store is opened directly (the service stopped, or a Neo4j store; a running service then
    refuses the tokens within its cache's 30 seconds)."""
    if server:
        revoked = _revoke_through(server, user_id)
    else:
        try:
            s = open_store(store)
        except StoreLocked as exc:
            raise fail(JieduiError(f"{exc.zh}；服务运行时请用 --server 经服务吊销",
                                   f"{exc.en}; while the service runs, revoke through it with --server")) from exc
        except JieduiError as exc:
            raise fail(exc) from exc
        try:
            revoked = revoke_tokens(store=s, user_id=user_id)
        except JieduiError as exc:
            raise fail(exc) from exc
        finally:
            s.close()
    console.print(f"已吊销 / revoked: {revoked}")


ADMIN_TOKEN = "JIEDUI_ADMIN_TOKEN"


def _revoke_through(server: str, user_id: str) -> int:
    """``POST /api/v1/users/{user_id}/revoke`` on the running service, as the admin whose token
    is in :data:`ADMIN_TOKEN` (an environment variable, so the token stays out of the shell's
    history and the process list)."""
    token = os.environ.get(ADMIN_TOKEN, "").strip()
    if not token:
        raise fail(JieduiError(f"请在环境变量 {ADMIN_TOKEN} 中提供管理员令牌",
                               f"put an admin token in the environment variable {ADMIN_TOKEN}"))
    url = f"{server.rstrip('/')}/api/v1/users/{urllib.parse.quote(user_id, safe='')}/revoke"
    request = urllib.request.Request(url, method="POST", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())["revoked"]
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
            error = JieduiError(body["message"], body["message_en"])
        except (ValueError, KeyError, TypeError):
            error = JieduiError(f"服务答复 HTTP {exc.code}", f"the service answered HTTP {exc.code}")
        raise fail(error) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise fail(JieduiError(f"无法连接服务 {server}：{exc}", f"cannot reach the service at {server}: {exc}")) from exc


def _import_roster(role: Role, region: str, out: Path, days: int, store: str | None) -> None:
    """Accounts for the roster's people of ``region`` who have none; their codes go to ``out``."""
    if out.suffix.lower() != ".xlsx":
        raise fail(JieduiError("--out 须为 .xlsx 文件", "--out must name an .xlsx file"))
    with cli_store(store) as s:
        try:
            file = open_codes_file(out)
        except JieduiError as exc:
            raise fail(exc) from exc
        with file:
            try:
                issued = create_accounts(store=s, role=role, scope=EVERYTHING, region=region, days=days)
            except JieduiError as exc:
                out.unlink()
                raise fail(exc) from exc
            if issued:
                file.write(codes_xlsx(issued))
    if not issued:
        out.unlink()
        console.print("没有需要建账号的人 / everyone already has an account")
        return
    console.print(f"已建账号 / accounts made: {len(issued)}；一次性登录码已写入 / codes written to {out}（仅本人可读 / "
                  f"owner only），有效期 / valid {days} 天 days", highlight=False)


RegionArg = Annotated[str, typer.Option("--region", help="区划代码 / region code", show_default=False)]
OutArg = Annotated[Path, typer.Option("--out", help="登录码文件（.xlsx，不覆盖已有文件）/ the codes file (.xlsx, never "
                                                   "overwritten)", show_default=False)]
DaysArg = Annotated[int, typer.Option("--days", help="登录码有效天数 / days the codes stay valid")]


@user_app.command("import-cadres")
def import_cadres(region: RegionArg, out: OutArg, days: DaysArg = CODE_DAYS, store: StoreOption = None) -> None:
    """为本区划在岗且没有账号的干部建账号，一次性登录码写入 xlsx（不在屏幕显示）/ make an account for
    every cadre on duty in the region who has none; the one-time codes go to the .xlsx only."""
    _import_roster(Role.CADRE, region, out, days, store)


@user_app.command("import-orgs")
def import_orgs(region: RegionArg, out: OutArg, days: DaysArg = CODE_DAYS, store: StoreOption = None) -> None:
    """为服务区划在本区划内且没有账号的社会组织建账号，一次性登录码写入 xlsx / make an account for every
    organisation serving within the region that has none; the one-time codes go to the .xlsx only."""
    _import_roster(Role.ORG, region, out, days, store)


@user_app.command("list")
def list_(store: StoreOption = None) -> None:
    """列出用户 / list users."""
    table = Table("用户 user", "角色 role", "范围 bound")
    with cli_store(store) as s:
        for u in list_users(store=s):
            table.add_row(u.user_id, u.role.value, u.region_code or u.cadre_no or u.uscc or "全部 all")
    console.print(table)


def audit_command(
    since: Annotated[dt.datetime | None, typer.Option(help="起始时间（UTC）/ from this time on (UTC)")] = None,
    user: Annotated[str | None, typer.Option(help="只看此用户 / one user only")] = None,
    key: Annotated[str | None, typer.Option("--object", help="只看涉及此对象的 / naming this object")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    store: StoreOption = None,
) -> None:
    """审计日志：谁在何时读取或修改了哪些家庭数据 / the audit trail, newest first."""
    with cli_store(store) as s:
        found = audit_entries(store=s, since=since, user_id=user, object_key=key,
                              page=PageRequest(page, page_size))
    table = Table("时间 at", "用户 user", "角色 role", "操作 action", "接口 operation", "对象 objects", "请求 request",
                  title=f"审计日志 / audit trail（共 {found.total} 条）")
    for e in found.items:
        keys = ", ".join(e.object_keys[:5]) + (f" …(+{len(e.object_keys) - 5})" if len(e.object_keys) > 5 else "")
        table.add_row(e.at, e.user_id, e.role, e.action, e.operation, f"{e.object_kind}: {keys}", e.request_id)
    console.print(table)


def first_users(store: GraphStore, *, demo: bool) -> None:
    """The users a new store starts with: an ``admin`` and, on the demo data, one demo user per
    role; their tokens printed (and, for an embedded store, kept in its folder as demo-tokens.txt,
    readable by the owner only)."""
    region, cadre, org = demo_bounds(store=store)
    wanted = [("admin", Role.ADMIN, {})]
    if demo and region:
        wanted += [("county-organizer", Role.ORGANIZER, {"region": region}),
                   ("county-portal", Role.PORTAL, {"region": region})]
        if cadre:
            wanted.append(("demo-cadre", Role.CADRE, {"cadre_no": cadre}))
        if org:
            wanted.append(("demo-org", Role.ORG, {"uscc": org}))
    lines = []
    for user_id, role, bound in wanted:
        add_user(store=store, user_id=user_id, role=role, **bound)
        lines.append(f"{user_id}\t{role.value}\t{issue_token(store=store, user_id=user_id)}")
    console.print("初始用户与令牌 / first users and their tokens:\n" + "\n".join(lines), highlight=False)
    folder = Path(store.location)
    if folder.is_dir():
        path = folder / "demo-tokens.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)
        console.print(f"（已保存于 / kept in {path}）")
