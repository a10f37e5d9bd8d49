"""Each user's inbox (what ``notify`` wrote for them), and running ``notify`` from the service.

Every user reads and marks only their own messages. Admins and organisers may run ``notify``
for their jurisdiction (the console's button does the same); it writes the inboxes for the day
and sends the outbox, and adds nothing when run again the same day.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.auth import ORGANISERS, Caller, caller
from api.notify_runs import run_notify
from api.rest import schemas
from api.rest.inputs import Body, Day, Flag, Key
from api.rest.schemas import ERRORS, WRITE_ERRORS, PageOut, PageQ, PageSizeQ
from graph_schema.notify.service import inbox, mark_read, unread_count
from graph_schema.pagination import PageRequest

router = APIRouter(tags=["inbox 消息"])


class MessageOut(BaseModel):
    message_id: str
    kind: str = Field(description="走访将到期 / 走访逾期 / 证件到期提醒 / 困难久未解决 / 辖区日报 / 辅助结对已批准 / "
                                  "辅助结对未获批准 / 新转介")
    created_on: dt.date
    due_on: dt.date | None
    subject: str
    body: str
    household_no: str | None
    read_at: str | None


class InboxOut(PageOut[MessageOut]):
    unread: int = Field(description="未读条数 / unread messages")


class ReadIn(Body):
    message_ids: list[Key] = Field(min_length=1, max_length=1000)


class ReadOut(BaseModel):
    marked: int = Field(description="本次标为已读的条数 / messages marked read now")


class NotifyIn(Body):
    as_of: Day | None = Field(None, description="通知日期，默认今天 / the day (default today)")


class NotifyOut(BaseModel):
    as_of: dt.date
    users: int
    messages: dict[str, int] = Field(description="新增消息，按类型 / new messages by kind")
    reminders: int = Field(description="记录为已提醒的证件到期提醒 / certificate reminders recorded as given")
    texts: dict[str, int] = Field(description="本次短信结果，按状态 / texts handled now, by status")


@router.get("/inbox", response_model=InboxOut, responses=ERRORS)
def my_inbox(who: Annotated[Caller, Depends(caller)],
             unread: Annotated[Flag, Query(description="只看未读 / unread only")] = False,
             page: PageQ = 1, page_size: PageSizeQ = 50) -> dict:
    """本人的消息，最新在前 / the caller's own messages, newest first."""
    found = inbox(store=who.store, user_id=who.user.user_id, unread=unread, page=PageRequest(page, page_size))
    who.read("household", [m.household_no for m in found.items if m.household_no])
    return schemas.page_out(found, vars) | {"unread": unread_count(store=who.store, user_id=who.user.user_id)}


@router.post("/inbox/read", response_model=ReadOut, responses=WRITE_ERRORS)
def read_messages(body: ReadIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """把本人的消息标为已读 / mark some of the caller's own messages read (others' are ignored)."""
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return {"marked": mark_read(store=who.store, user_id=who.user.user_id, message_ids=body.message_ids, at=at)}


@router.post("/notify", response_model=NotifyOut, responses=WRITE_ERRORS)
def notify_now(body: NotifyIn, who: Annotated[Caller, Depends(caller)]) -> dict:
    """为本辖区的用户写入当天消息并发送短信 / write the day's messages for the users of the caller's
    jurisdiction and send the texts (admins and organisers)."""
    who.require(ORGANISERS, "发送提醒", "run the reminders")
    result, sent = run_notify(who, body.as_of)
    return {"as_of": result.as_of, "users": result.users,
            "messages": {k.value: n for k, n in result.messages.items()}, "reminders": result.reminders,
            "texts": {k.value: n for k, n in sent.items()}}


schemas.summarise(router)
