"""The referral proposal: what the referral matcher suggests, as the JSON file an organiser reviews
and confirms with ``jiedui match confirm`` (the same command as a pairing proposal: ``kind`` tells
them apart).

``{kind: "referrals", id, scope, as_of, solver, objective, referrals: [{need_id, id_number,
household_no, category, uscc, offer_id, designated, tier, reasons…}], unassigned: [{need_id,
reason, reason_code: "NO_ROOM"…}], no_offer: [{region_code, region_name, category, needs}],
deserts, summary}``. The file holds full ID numbers (a referral names its person): it is an
organiser's working file, to be kept like an export.

A need no active offer covers (``NO_OFFER``) is not listed one by one: nothing in the proposal can
be done about it, and in a province such needs are most of the waiting ones (229k of 246k), which
made the file 91 MB (12 MB without them). They are counted per township and category
(``no_offer``), the level at which an organiser asks for a provider, and the ``service-deserts``
report (``deserts``: its command) names the villages. The needs that an offer covers but whose
offers are full or went to higher-risk needs (``NO_ROOM``) are listed, as they are the ones a
larger capacity would serve. A file made before, which lists them in ``unassigned``, still reads
and confirms.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from graph_schema.errors import InvalidValue

KIND = "referrals"


class ProposedReferral(BaseModel):
    need_id: str
    id_number: str
    name: str
    household_no: str
    region_code: str
    category: str
    service_code: str | None = None
    confirmed_on: dt.date | None = None
    risk_score: int
    risk_level: str
    uscc: str
    org_name: str
    offer_id: str
    designated: bool
    tier: int  # 0 an offer over the village itself … 4 over the whole province
    room: int | None  # the offer's room before this proposal (None: not limited)
    cost: int
    reasons: list[str]


class UnassignedNeed(BaseModel):
    need_id: str
    id_number: str
    household_no: str
    region_code: str
    category: str
    service_code: str | None = None
    risk_score: int
    risk_level: str
    reason: str
    reason_code: str  # NO_ROOM: every offer in reach is full or went to higher-risk needs


class NoOfferNeeds(BaseModel):
    """The waiting needs of one category in one township that no active offer covers."""

    region_code: str  # the township (乡镇), 12 digits
    region_name: str | None = None
    category: str
    needs: int


class ReferralSummary(BaseModel):
    needs: int
    referred: int
    designated: int
    unassigned: int  # no_offer + no_room
    no_offer: int
    no_room: int


class ReferralProposal(BaseModel):
    kind: Literal["referrals"] = KIND
    id: str
    scope: str
    as_of: dt.date
    solver: str
    objective: int
    created_at: dt.datetime
    referrals: list[ProposedReferral]
    unassigned: list[UnassignedNeed]
    no_offer: list[NoOfferNeeds] = []
    deserts: str | None = None  # the command of the service-deserts report for the scope and day
    summary: ReferralSummary

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> ReferralProposal:
        """Read a referral proposal file, naming the file and the field at fault if it is not one."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except FileNotFoundError as exc:
            raise InvalidValue("方案文件", str(path), "文件不存在", "no such file") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(文件 file)"
            raise InvalidValue(f"{path.name}: {where}", str(first.get("input"))[:80] if first["loc"] else None,
                               f"不是有效的转介方案（{first['msg']}）",
                               f"not a valid referral proposal ({first['msg']})") from exc


def is_referral_file(path: Path) -> bool:
    """Whether a proposal file holds referrals (``kind``) rather than pairings."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False  # the pairing proposal's reader names the problem
    return isinstance(data, dict) and data.get("kind") == KIND
