"""The assistance ledger (帮扶台账) and the problems (困难) it opens and closes."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Self

from pydantic import Field, model_validator

from graph_schema.enums import LedgerKind
from graph_schema.models import Fen, Key, Model, OptionalText, RuleBroken, Uscc


#: the bounds of a 志愿服务 entry's figures: people, and minutes each (hours × 60)
VOLUNTEERS_MAX, MINUTES_MAX = 10_000, 60_000
Volunteers = Annotated[int, Field(ge=1, le=VOLUNTEERS_MAX)]
Minutes = Annotated[int, Field(ge=1, le=MINUTES_MAX)]


class LedgerEntry(Model):
    """One thing a cadre or an organisation did for a household.

    Exactly one actor: ``cadre_no`` or ``uscc``. A 反映困难 entry opens problem ``problem_no``;
    a 解决困难 entry with the same number closes it. A 志愿服务 entry may say how many volunteers
    took part (``volunteers``) and for how long each (``minutes``, given in hours by people and
    kept in whole minutes, as money is kept in fen); no other kind carries them. ``record_no``
    (记录编号), when given, is the entry's key, so two identical entries on one day stay two entries.
    """

    entry_date: dt.date
    household_no: Key
    cadre_no: OptionalText = None
    uscc: Uscc | None = None
    kind: LedgerKind
    amount_fen: Fen | None = None
    in_kind_fen: Fen | None = None
    note: OptionalText = None
    problem_no: OptionalText = None
    volunteers: Volunteers | None = None
    minutes: Minutes | None = None
    record_no: Key | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if (self.cadre_no is None) == (self.uscc is None):
            raise ValueError("干部编号与统一社会信用代码必须且只能填写一个 / "
                             "exactly one of cadre number and organisation code must be given")
        if self.kind is LedgerKind.REPORT_PROBLEM and not self.problem_no:
            raise ValueError("反映困难必须填写问题编号 / a reported difficulty needs a problem number")
        if (self.volunteers or self.minutes) and self.kind is not LedgerKind.VOLUNTEER:
            raise RuleBroken("VOLUNTEER_FIGURES", "只有志愿服务记录填写志愿者人数和服务时长 / "
                             "only a volunteer service entry has volunteers and hours")
        return self

    @property
    def actor(self) -> str:
        return self.cadre_no or self.uscc or ""

    @property
    def entry_id(self) -> str:
        """The 记录编号 when given; else derived from the content, so recording the same entry twice
        (a re-import) is a no-op."""
        return self.record_no or self.fingerprint

    @property
    def fingerprint(self) -> str:
        """A digest of what the entry says (its key aside): tells a repeated 记录编号 that names
        the same entry from one that names another. The volunteer figures are no part of it: they
        are recorded in the console or through the APIs, and no contract file carries them, so an
        exported and re-imported entry keeps its id."""
        text = "\x1f".join(str(v) for v in (
            self.entry_date, self.household_no, self.actor, self.kind.value, self.amount_fen,
            self.in_kind_fen, self.note, self.problem_no))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def edge_row(self) -> dict:
        return {"src": self.actor, "dst": self.household_no, "entry_id": self.entry_id,
                "entry_date": self.entry_date, "kind": self.kind.value, "amount_fen": self.amount_fen,
                "in_kind_fen": self.in_kind_fen, "note": self.note, "problem_no": self.problem_no,
                "volunteers": self.volunteers, "minutes": self.minutes, "record_no": self.record_no}


def problem_key(region_code: str, problem_no: str) -> str:
    """A problem's key in the store: the county of its household (the region code's first six
    digits) and its 问题编号. Numbers are unique within a county only, so one county's numbers
    say nothing of another's.

    >>> problem_key("620822100201", "P0001")
    '620822:P0001'
    """
    return f"{region_code[:6]}:{problem_no}"


class Problem(Model):
    """A difficulty reported for a household, open until a 解决困难 entry closes it."""

    problem_key: str
    problem_no: Key
    household_no: Key
    opened_on: dt.date
    closed_on: dt.date | None = None
    reported_by: str
    resolved_by: str | None = None
    description: str | None = None
    resolution: str | None = None

    @property
    def open(self) -> bool:
        return self.closed_on is None
