"""The inbox in the console (消息): the signed-in user's own messages, newest first, the unread
ones marked and marked read here; and for organisers (and admins) the button that runs the day's
reminders for their region at once (``api/notify_runs.py``, as ``POST /api/v1/notify`` does).

Every page's header carries the user's unread count (``pages.render``: one count query a page).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import ORGANISERS
from api.notify_runs import run_notify
from api.web.lists import PAGE_SIZE, _back, page_number, pager, show
from api.web.pages import Who
from graph_schema.notify.service import inbox, mark_read
from graph_schema.pagination import PageRequest

router = APIRouter(include_in_schema=False)
PATH = "/inbox"


@router.get(PATH, response_class=HTMLResponse)
def inbox_page(request: Request, who: Who, unread: bool = False, page: int | None = None) -> HTMLResponse:
    """消息：本人的提醒，最新的在前 / the user's own messages, newest first."""
    found = inbox(store=who.store, user_id=who.user.user_id, unread=unread,
                  page=PageRequest(page_number(page), PAGE_SIZE))
    who.read("household", [m.household_no for m in found.items if m.household_no])
    return show(request, who, "inbox.html", messages=found.items, pager=pager(found, request), unread_only=unread,
                may_notify=who.user.role in ORGANISERS)


@router.post(PATH + "/read")
def read(who: Who, ids: Annotated[list[str] | None, Form()] = None,
         every: Annotated[bool, Form()] = False) -> RedirectResponse:
    """标为已读：所选的，或全部未读的 / mark read: the ones ticked, or every unread one. Only the
    user's own messages are touched, whatever ids are sent."""
    wanted = list(ids or [])
    if every:
        wanted = [m.message_id for m in inbox(store=who.store, user_id=who.user.user_id, unread=True,
                                              page=PageRequest(1, 10_000, 10_000)).items]
    if not wanted:
        return _back(PATH, "请先选择消息 / tick a message first", "error")
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    marked = mark_read(store=who.store, user_id=who.user.user_id, message_ids=wanted[:10_000], at=at)
    return _back(PATH, f"已标为已读 {marked} 条 / {marked} marked read")


@router.post(PATH + "/notify")
def notify_now(who: Who) -> RedirectResponse:
    """立即发送提醒：为本辖区的用户写入今天的消息并发送短信 / send the reminders now: the day's
    messages for the users of the region, and their texts (running it again adds nothing)."""
    who.require(ORGANISERS, "发送提醒", "run the reminders")
    result, sent = run_notify(who, None)
    made = sum(result.messages.values())
    texts = sum(sent.values())
    return _back(PATH, f"已为 {result.users} 位用户写入 {made} 条新消息，短信 {texts} 条 / {made} new messages for "
                       f"{result.users} users, {texts} texts")
