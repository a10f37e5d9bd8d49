"""The matcher's integer cost model: one lexicographic objective as one min-cost-flow cost.

Both solvers (and the networkx model) take their costs from here, so they solve the very same
problem and must reach the very same optimal cost.

The objective, in strict order (an earlier term is never traded for any amount of a later one):

1. **Coverage, weighted by risk.** Leaving household *h* unpaired costs ``coverage × rank(h)``,
   where ``rank`` is the dense rank of its risk score (1 for the lowest score present). The
   households that can be covered together form a matroid (a transversal matroid: cadres with
   room are the "transversal"), so a set that is best for one risk-increasing weight is best
   for all of them: it covers as many households as possible *and* never leaves a higher-risk
   household out to cover a lower-risk one. Ranks keep the numbers small.
2. **Continuity.** A household that has an active pairing with a 在岗 cadre and does not keep
   it (paired to someone else, or left unpaired) costs ``continuity``. Counting the unpaired case
   matters: otherwise a paired household could be swapped for an equally risky unpaired one for
   free, and a re-run on an unchanged graph would not be stable.
3. **Distance.** Each tier away costs ``distance``: 0 same village, 1 same township, 2 same
   county, 3 further (only an existing pairing can reach that far).
4. **Load balance.** A cadre's *k*-th active pairing costs ``2k − 1`` (so a cadre's load term is
   its load squared), counting the pairings it already holds outside the problem.

Each unit is one more than the largest total every later term can reach in the component being
solved, which makes the weighted sum lexicographic. The units therefore depend on the size of the
component; the solvers work per independent component, which keeps them far below the 64-bit
range that OR-Tools checks (it refuses with ``BAD_COST_RANGE`` rather than overflow).

Examples:
    >>> units = Units.for_component(households=2, with_current=1, load_bound=4)
    >>> (units.distance, units.continuity, units.coverage)
    (5, 35, 70)
    >>> load_step(1), load_step(3)
    (1, 5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FURTHEST_TIER = 3


def load_step(k: np.ndarray | int) -> np.ndarray | int:
    """The cost of a cadre's ``k``-th active pairing (1-based): convex, so load spreads out."""
    return 2 * k - 1


def risk_ranks(scores: np.ndarray) -> np.ndarray:
    """Dense ranks of risk scores, 1 for the lowest (ties share a rank)."""
    _, inverse = np.unique(scores, return_inverse=True)
    return inverse.astype(np.int64) + 1


@dataclass(frozen=True)
class Units:
    """The cost of one unit of each objective term in one component."""

    distance: int
    continuity: int
    coverage: int

    @classmethod
    def for_component(cls, *, households: int, with_current: int, load_bound: int) -> Units:
        """Units for a component of ``households`` households, ``with_current`` of which hold an
        active pairing with a 在岗 cadre, whose load term can total at most ``load_bound``."""
        distance = load_bound + 1
        below_continuity = FURTHEST_TIER * distance * households + load_bound
        continuity = below_continuity + 1
        coverage = continuity * with_current + below_continuity + 1
        return cls(distance=distance, continuity=continuity, coverage=coverage)

    def arc(self, tier: np.ndarray, moved: np.ndarray) -> np.ndarray:
        """Cost of pairing along candidate arcs with ``tier`` and ``moved`` (0/1) arrays."""
        return self.continuity * moved.astype(np.int64) + self.distance * tier.astype(np.int64)

    def unpaired(self, rank: np.ndarray, has_current: np.ndarray) -> np.ndarray:
        """Cost of leaving households of these risk ranks (and current pairings, 0/1) unpaired."""
        return self.coverage * rank.astype(np.int64) + self.continuity * has_current.astype(np.int64)
