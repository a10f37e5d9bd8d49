"""Priority households (重点户) and their risk score: the definition, in Cypher and in Python.

A household is a priority household when any of these holds (data contract): it has a 监测类别;
是否特困 is 是; a member is 一级 or 二级; it has two or more disabled members (一户多残); 是否以老养残
is 是.

Its risk score adds the weights of ``Settings.risk`` (``JIEDUI_RISK__<NAME>`` to change one):

=====================  ==========================================  =======
fact                   condition                                   default
=====================  ==========================================  =======
突发严重困难户          监测类别                                      40
脱贫不稳定户            监测类别                                      30
边缘易致贫户            监测类别                                      25
特困                    是否特困 = 是                                 25
重度残疾               a member graded 一级/二级 (+5 per extra one)  20
一户多残                two or more disabled members                  15
以老养残                是否以老养残 = 是                             15
低保                    是否低保 = 是                                 10
缺劳力                  劳动力人数 = 0                                10
=====================  ==========================================  =======

Level: 高 at 50 or more, 中 at 30 or more, else 低. Lists are ordered by score, highest first,
then by 户编号, so a page is stable. The Cypher forms of the priority condition and of the score
and the Python form of the whole definition are tested to agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph_schema.enums import MonitoringCategory
from graph_schema.settings import RiskWeights


class RiskLevel(StrEnum):
    HIGH = "高"
    MEDIUM = "中"
    LOW = "低"


@dataclass(frozen=True)
class RiskFacts:
    """What the score depends on, as the priority query returns it."""

    monitoring: str | None
    tekun: bool | None
    dibao: bool | None
    elderly_carer: bool | None
    labour: int | None
    disabled: int
    severe: int

    @property
    def priority(self) -> bool:
        return bool(self.monitoring or self.tekun or self.elderly_carer or self.severe or self.disabled >= 2)


def _monitoring_weights(w: RiskWeights) -> dict[str, int]:
    return {MonitoringCategory.SUDDEN_HARDSHIP: w.sudden_hardship, MonitoringCategory.UNSTABLE: w.unstable,
            MonitoringCategory.MARGINAL: w.marginal}


def score(f: RiskFacts, w: RiskWeights) -> int:
    total = _monitoring_weights(w).get(f.monitoring, 0) if f.monitoring else 0
    total += w.tekun if f.tekun else 0
    total += w.severe_member + (f.severe - 1) * w.extra_severe_member if f.severe else 0
    total += w.multiple_disabled if f.disabled >= 2 else 0
    total += w.elderly_carer if f.elderly_carer else 0
    total += w.dibao if f.dibao else 0
    total += w.no_labour if f.labour == 0 else 0
    return total


#: :func:`score` in Cypher, of a household ``h`` whose member counts are ``disabled`` and
#: ``severe`` (variables in scope), the weights as the parameters of :func:`score_params`: so that
#: a page of a list is ordered, counted and cut on the server and only its rows travel (on Neo4j
#: every record costs the driver ~13 µs to decode, and a province holds ~100k of them). A test
#: holds the two orders equal over synthetic households and random weights.
SCORE = (
    "CASE h.monitoring WHEN $sudden_hardship THEN $w_sudden_hardship WHEN $unstable THEN $w_unstable "
    "WHEN $marginal THEN $w_marginal ELSE 0 END "
    "+ CASE WHEN coalesce(h.tekun, false) THEN $w_tekun ELSE 0 END "
    "+ CASE WHEN severe > 0 THEN $w_severe_member + (severe - 1) * $w_extra_severe_member ELSE 0 END "
    "+ CASE WHEN disabled >= 2 THEN $w_multiple_disabled ELSE 0 END "
    "+ CASE WHEN coalesce(h.elderly_carer, false) THEN $w_elderly_carer ELSE 0 END "
    "+ CASE WHEN coalesce(h.dibao, false) THEN $w_dibao ELSE 0 END "
    "+ CASE WHEN h.labour = 0 THEN $w_no_labour ELSE 0 END"
)


def score_params(weights: RiskWeights) -> dict[str, object]:
    """The parameters of :data:`SCORE`: each weight, and the categories it keys."""
    return {**{f"w_{name}": value for name, value in weights.model_dump().items()},
            "sudden_hardship": MonitoringCategory.SUDDEN_HARDSHIP, "unstable": MonitoringCategory.UNSTABLE,
            "marginal": MonitoringCategory.MARGINAL}


def level(value: int, w: RiskWeights) -> RiskLevel:
    if value >= w.high_level:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if value >= w.medium_level else RiskLevel.LOW


def reasons(f: RiskFacts) -> list[str]:
    """The triggering facts, in the words organisers use."""
    out = [f.monitoring] if f.monitoring else []
    if f.tekun:
        out.append("特困")
    if f.severe:
        out.append(f"重度残疾成员{f.severe}人")
    if f.disabled >= 2:
        out.append(f"一户多残（{f.disabled}人）")
    if f.elderly_carer:
        out.append("以老养残")
    if f.dibao:
        out.append("低保")
    if f.labour == 0:
        out.append("无劳动力")
    return out


def priority_condition(disabled: str = "disabled", severe: str = "severe") -> str:
    """The priority condition in Cypher. ``h`` is the household, ``disabled`` and ``severe`` the
    expressions of its member counts (variables in scope, or the household's kept counts). The
    household keeps its value as a flag (:data:`KEPT_PRIORITY_CONDITION`); the score is
    :data:`SCORE`."""
    return (f"(h.monitoring IS NOT NULL OR coalesce(h.tekun, false) OR coalesce(h.elderly_carer, false) "
            f"OR {severe} > 0 OR {disabled} >= 2)")


#: The priority condition as the household keeps it, with its member counts
#: (graph_schema/store/counts.py): one flag, which Neo4j finds by the index on (``priority``,
#: ``region_code``).
KEPT_PRIORITY_CONDITION = "h.priority = true"
