"""Inbox messages and outgoing text messages."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    """What a message asks of its reader."""

    VISIT_DUE = "走访将到期"  # a cadre's household needs its quarterly home visit within 14 days
    VISIT_OVERDUE = "走访逾期"  # … and the visit is late
    CERT_REMINDER = "证件到期提醒"  # a member's certificate expires: remind them (6 months, 1 month ahead)
    PROBLEM_OPEN = "困难久未解决"  # a problem of the household has been open for more than 30 days
    DIGEST = "辖区日报"  # an organiser's daily figures of their region
    AUX_APPROVED = "辅助结对已批准"  # an organisation's request was approved: the household is open to it
    AUX_DECLINED = "辅助结对未获批准"  # … or declined
    REFERRAL_NEW = "新转介"  # an organiser sent an organisation a person's need to serve

    @property
    def en(self) -> str:
        return {"走访将到期": "home visit due", "走访逾期": "home visit overdue", "证件到期提醒": "certificate expiry",
                "困难久未解决": "problem open over 30 days", "辖区日报": "daily digest",
                "辅助结对已批准": "auxiliary pairing approved",
                "辅助结对未获批准": "auxiliary pairing declined", "新转介": "new referral"}[self.value]


class OutgoingStatus(StrEnum):
    PENDING = "待发送"  # waiting for the sender (again, after a failed attempt)
    SENT = "已发送"  # the gateway took it
    RECORDED = "仅记录"  # no gateway configured: kept, never sent
    DEAD = "死信"  # the gateway refused it for good, or failed too often: an operator must look


def message_key(*parts: object) -> str:
    """A message's key, made from what it is about: the same fact makes the same key."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Message:
    message_id: str
    user_id: str
    kind: MessageKind
    created_on: dt.date
    subject: str
    body: str
    due_on: dt.date | None = None
    household_no: str | None = None
    read_at: str | None = None

    def to_row(self) -> dict:
        return {"message_id": self.message_id, "user_id": self.user_id, "kind": self.kind.value,
                "created_on": self.created_on, "due_on": self.due_on, "subject": self.subject, "body": self.body,
                "household_no": self.household_no, "read_at": self.read_at}

    @classmethod
    def from_row(cls, row: dict) -> Message:
        return cls(**(row | {"kind": MessageKind(row["kind"])}))


@dataclass(frozen=True)
class Outgoing:
    outgoing_id: str
    user_id: str
    phone: str
    body: str
    created_on: dt.date
    status: OutgoingStatus = OutgoingStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    sent_at: str | None = None

    def to_row(self) -> dict:
        return {"outgoing_id": self.outgoing_id, "user_id": self.user_id, "phone": self.phone, "body": self.body,
                "created_on": self.created_on, "status": self.status.value, "attempts": self.attempts,
                "last_error": self.last_error, "sent_at": self.sent_at}

    @classmethod
    def from_row(cls, row: dict) -> Outgoing:
        return cls(**(row | {"status": OutgoingStatus(row["status"])}))
