"""The proposal: what the matcher suggests, as the JSON file an organiser reviews and confirms.

``{id, scope, as_of, reach, pairs: [{household_no, cadre_no, cost, reasons, …}],
unpaired: [{household_no, reason, …}], summary}``. ``change`` says what confirming a pair does:
``keep`` (nothing: the household keeps its cadre), ``new`` (pair a household that has none),
``move`` (end the household's pairing with ``previous_cadre_no`` and pair anew). An unpaired item
with ``change = drop`` gives up the household's current pairing; confirming it ends that pairing.
``end_reason`` says why a move or a drop ends the current pairing, and its text (:func:`end_text`)
is what the ended pairing records as its 结束原因.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ValidationError

from graph_schema.errors import InvalidValue


class Change(StrEnum):
    KEEP = "keep"
    NEW = "new"
    MOVE = "move"
    DROP = "drop"
    NONE = "none"  # an unpaired household that stays unpaired


class EndReason(StrEnum):
    """Why confirming a proposal ends a household's current pairing."""

    DISPLACED = "displaced"  # drop: the cadre's place went to a higher-risk household
    EXCLUDED = "excluded"  # the household and its cadre are on the exclusion list
    OVER_LIMIT = "over_limit"  # the cadre holds more households than their limit (lowered since)
    OFF_DUTY = "off_duty"  # move: the cadre is no longer 在岗
    COVERAGE = "coverage"  # move: to another cadre, so that more priority households are covered


_END_TEXTS = {
    (Change.DROP, EndReason.DISPLACED): "按匹配方案让出名额给风险更高的户",
    (Change.DROP, EndReason.EXCLUDED): "原干部与该户在回避名单上，范围内无其他干部可以结对",
    (Change.DROP, EndReason.OVER_LIMIT): "原干部结对户数超过结对上限，范围内无其他干部可以结对",
    (Change.MOVE, EndReason.EXCLUDED): "原干部与该户在回避名单上，按匹配方案改由其他干部结对",
    (Change.MOVE, EndReason.OVER_LIMIT): "原干部结对户数超过结对上限，按匹配方案改由其他干部结对",
    (Change.MOVE, EndReason.OFF_DUTY): "原干部不在岗，按匹配方案重新结对",
    (Change.MOVE, EndReason.COVERAGE): "按匹配方案调整结对，以覆盖更多重点户",
}


def end_text(change: Change, reason: EndReason | None) -> str:
    """The 结束原因 a confirmed move or drop records (a proposal file made before reasons were
    given, or naming one that does not fit its change, gets the general one)."""
    general = _END_TEXTS[(Change.DROP, EndReason.DISPLACED)] if change is Change.DROP else "按匹配方案调整结对"
    return _END_TEXTS.get((change, reason), general)


class ProposedPair(BaseModel):
    household_no: str
    cadre_no: str
    region_code: str
    cost: int
    change: Change
    previous_cadre_no: str | None = None
    risk_score: int
    risk_level: str
    tier: int
    cadre_load: int
    cadre_limit: int
    reasons: list[str]
    end_reason: EndReason | None = None  # a move: why the current pairing ends


class UnpairedItem(BaseModel):
    household_no: str
    region_code: str
    reason: str
    reason_code: str
    risk_score: int
    risk_level: str
    change: Change = Change.NONE
    previous_cadre_no: str | None = None
    end_reason: EndReason | None = None  # a drop: why the current pairing ends


class Summary(BaseModel):
    """Counts of the proposal; churn = pairs changed (new, moved, dropped) / pairs kept."""

    priority: int
    paired: int
    kept: int
    new: int
    moved: int
    dropped: int
    unpaired: int
    churn: float


class Proposal(BaseModel):
    id: str
    scope: str
    as_of: dt.date
    reach: str
    solver: str
    objective: int
    created_at: dt.datetime
    pairs: list[ProposedPair]
    unpaired: list[UnpairedItem]
    summary: Summary

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Proposal:
        """Read a proposal file, naming the file and the field at fault if it is not one."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except FileNotFoundError as exc:
            raise InvalidValue("方案文件", str(path), "文件不存在", "no such file", field_en="proposal file") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(文件 file)"
            raise InvalidValue(f"{path.name}: {where}", str(first.get("input"))[:80] if first["loc"] else None,
                               f"不是有效的匹配方案（{first['msg']}）",
                               f"not a valid matching proposal ({first['msg']})") from exc
