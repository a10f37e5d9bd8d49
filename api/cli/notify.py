"""``jiedui notify``: write every user's inbox for a day and send the outbox's text messages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import StoreOption, cli_store, console, fail
from graph_schema.errors import JieduiError
from graph_schema.notify.models import OutgoingStatus
from graph_schema.notify.senders import configured_sender, dispatch
from graph_schema.notify.service import notify, outbox
from graph_schema.pagination import PageRequest
from graph_schema.settings import get_settings


def notify_command(
    as_of: Annotated[dt.datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="通知日期，默认今天 / the day to notify for (default today)")] = None,
    region: Annotated[str | None, typer.Option(
        "--region", help="只通知此区划的用户 / only the users under this region")] = None,
    dead: Annotated[bool, typer.Option(
        "--dead-letters", help="只列出发送失败的短信 / only list the texts that could not be sent")] = False,
    store: StoreOption = None,
) -> None:
    """写入各用户的消息（走访、证件到期、困难、日报）并发送短信 / write the inboxes and send the texts.

    Run it daily (cron), or let the service do it at JIEDUI_NOTIFY_AT. Texts go to JIEDUI_SMS_URL;
    without it they are only recorded. Running it twice a day adds nothing the second time."""
    settings = get_settings()
    with cli_store(store) as s:
        try:
            if dead:
                _print_dead(s)
                return
            result = notify(store=s, as_of=as_of.date() if as_of else None, region=region)
            sent = dispatch(store=s, sender=configured_sender(settings.sms_url, settings.sms_timeout_seconds),
                            max_attempts=settings.sms_max_attempts)
        except JieduiError as exc:
            raise fail(exc) from exc
    table = Table("消息 message", "新增 new", title=f"{result.as_of} 通知 / notified: {result.users} 位用户 users")
    for kind, n in sorted(result.messages.items()):
        table.add_row(f"{kind.value} {kind.en}", str(n))
    console.print(table)
    texts = ", ".join(f"{status.value} {n}" for status, n in sorted(sent.items())) or "0"
    console.print(f"证件提醒已记录 / certificate reminders recorded: {result.reminders} · 短信 / texts: {texts}")


def _print_dead(s) -> None:
    found = outbox(store=s, status=OutgoingStatus.DEAD, page=PageRequest(1, 1000))
    table = Table("日期 day", "用户 user", "电话 phone", "尝试 tries", "错误 error", title=f"死信 / dead letters: {found.total}")
    for o in found.items:
        table.add_row(str(o.created_on), o.user_id, o.phone, str(o.attempts), o.last_error or "")
    console.print(table)
