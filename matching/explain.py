"""Why each pair was proposed, and why each household left unpaired could not be paired."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from matching.candidates import TIER_NAMES, CandidateGraph
from matching.solve import Assignment


class UnpairedReason(StrEnum):
    NO_CADRE_IN_REACH = "NO_CADRE_IN_REACH"
    ALL_EXCLUDED = "ALL_EXCLUDED"
    ALL_AT_LIMIT = "ALL_AT_LIMIT"


UNPAIRED_TEXT = {
    UnpairedReason.NO_CADRE_IN_REACH: "范围内没有在岗干部 / no cadre on duty within reach",
    UnpairedReason.ALL_EXCLUDED: "范围内的干部均在回避名单上 / every cadre within reach is excluded",
    UnpairedReason.ALL_AT_LIMIT: "范围内的干部均已满额（名额给了风险更高、原已结对或更近的户，条件相同时户编号在前者优先）"
                                 "/ every cadre within reach is at their limit (their places went to households of "
                                 "higher risk, already paired with them or closer; at equal terms, to lower household "
                                 "numbers)",
}


@dataclass(frozen=True)
class PairTerms:
    """The cost terms of one proposed pair (see :mod:`matching.costs`)."""

    household: int
    cadre: int
    tier: int
    kept: bool  # the household keeps its current 在岗 cadre
    moved: bool  # the household leaves its current 在岗 cadre
    load: int  # the cadre's active pairings once the proposal is confirmed
    limit: int
    cost: int  # the arc's cost in the solved objective: continuity·moved + distance·tier

    def reasons(self) -> list[str]:
        """The distance and load terms in words (risk and continuity need the service's context)."""
        return [f"距离 distance: {TIER_NAMES[self.tier]}", f"方案中干部负荷 cadre load in the proposal: {self.load}/{self.limit}"]


@dataclass(frozen=True)
class UnpairedTerms:
    household: int
    reason: UnpairedReason
    in_reach: int
    excluded: int


def explain(graph: CandidateGraph, assignment: Assignment) -> tuple[list[PairTerms], list[UnpairedTerms]]:
    """Terms of every pair and the reason of every household left unpaired, in household order.

    In an optimal solution an unpaired household's cadres within reach have no free place left (a
    free place would lower the cost), so "all at their limit" is exact, not a guess.
    """
    inst = graph.instance
    paired = np.flatnonzero(assignment.cadre >= 0)
    load = inst.held.astype(np.int64) + np.bincount(assignment.cadre[paired], minlength=len(inst.cadre_no))
    pairs = []
    for h in paired.tolist():
        arc, c = int(assignment.arc[h]), int(assignment.cadre[h])
        units = assignment.units[int(graph.household_component[h])]
        current = int(inst.current[h])
        tier = int(graph.arc_tier[arc])
        moved = current >= 0 and current != c
        pairs.append(PairTerms(household=h, cadre=c, tier=tier, kept=current == c, moved=moved,
                               load=int(load[c]), limit=int(inst.pair_limit[c]),
                               cost=units.continuity * moved + units.distance * tier))
    unpaired = []
    arcs = np.bincount(graph.arc_household, minlength=len(inst.household_no))
    for h in np.flatnonzero(assignment.cadre < 0).tolist():
        in_reach, excluded = int(graph.in_reach[h]), int(graph.excluded_in_reach[h])
        if arcs[h]:
            reason = UnpairedReason.ALL_AT_LIMIT
        elif in_reach == 0 and inst.current[h] < 0:
            reason = UnpairedReason.NO_CADRE_IN_REACH
        else:  # cadres were within reach (or already paired with it), and the list ruled them all out
            reason = UnpairedReason.ALL_EXCLUDED
        unpaired.append(UnpairedTerms(household=h, reason=reason, in_reach=in_reach, excluded=excluded))
    return pairs, unpaired
