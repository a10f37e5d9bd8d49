"""Referral proposals: assign a region's waiting needs to the providers' room, exactly.

Pure: arrays in, assignment out (the store is read by :mod:`matching.referral_service`). The
same approach as the cadre matcher (:mod:`matching.solve`): one lexicographic objective folded
into integer costs, solved as a min-cost flow by OR-Tools, with networkx's network simplex on the
same network as the reference.

The network::

    need (supply 1) ──refer: designation·(not designated) + distance·tier──▶ offer ──room──▶ sink
    need ───────────────── unassigned: coverage·rank ──────────────────────────────────────▶ sink

An arc joins a need to an offer that is active, covers the person's village and is of the need's
service (any service of its category for a need of a whole category). An offer's arc to the sink
has its room as capacity (an unlimited offer: every need), so no offer is ever over capacity, and
an ended offer has no arc at all. The objective, in strict order:

1. **Coverage, weighted by risk.** Leaving a need unassigned costs ``coverage × rank``, the dense
   rank of its household's risk score (1 for the lowest present). The needs that can be assigned
   together form a transversal matroid (offers' places are the transversal), so the best set for
   one risk-increasing weight is best for all: as many needs as possible, and never a
   higher-risk need left out for a lower-risk one.
2. **Designated institutions first.** Referring to an offer whose 定点资质 is not valid on the
   day costs ``designation``.
3. **Nearer offers.** ``tier`` counts the levels between the village and the offer's region: 0
   an offer over the village itself, 1 over its township, 2 its county, 3 its city, 4 the province.

Each unit is one more than the largest total all later terms can reach, which makes the sum
lexicographic.

Examples:
    >>> problem = ReferralProblem.of(
    ...     needs=[("n1", 60, [("o1", 1, True)]), ("n2", 20, [("o1", 1, True), ("o2", 2, False)])],
    ...     room={"o1": 1, "o2": None})
    >>> [problem.offers[o] if o >= 0 else None for o in solve_referrals(problem).offer]
    ['o1', 'o2']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from ortools.graph.python import min_cost_flow

from matching.costs import risk_ranks
from matching.solve import SolverError

FURTHEST_TIER = 4


@dataclass(frozen=True)
class ReferralUnits:
    distance: int
    designation: int
    coverage: int

    @classmethod
    def for_needs(cls, needs: int) -> ReferralUnits:
        """Units for ``needs`` needs (each assigned at most once, at most ``FURTHEST_TIER`` away).

        >>> ReferralUnits.for_needs(2)
        ReferralUnits(distance=1, designation=9, coverage=27)
        """
        below_designation = FURTHEST_TIER * needs
        designation = below_designation + 1
        coverage = designation * needs + below_designation + 1
        return cls(distance=1, designation=designation, coverage=coverage)


@dataclass
class ReferralProblem:
    """Needs ``0..n-1`` with their risk scores; offers ``0..m-1`` with their room (-1: unlimited);
    candidate arcs ``(need, offer, tier, designated)`` as parallel arrays."""

    needs: list[str]
    risk: np.ndarray
    offers: list[str]
    room: np.ndarray
    arc_need: np.ndarray
    arc_offer: np.ndarray
    arc_tier: np.ndarray
    arc_designated: np.ndarray

    @classmethod
    def of(cls, needs: Sequence[tuple[str, int, Sequence[tuple[str, int, bool]]]],
           room: dict[str, int | None]) -> ReferralProblem:
        """From ``(need id, risk score, [(offer id, tier, designated)…])`` and each offer's room."""
        offers = sorted(room)
        index = {o: i for i, o in enumerate(offers)}
        arcs = [(i, index[o], tier, designated) for i, (_, _, reach) in enumerate(needs) for o, tier, designated in reach]
        cols = list(zip(*arcs)) if arcs else [(), (), (), ()]
        return cls(needs=[n for n, _, _ in needs], risk=np.array([r for _, r, _ in needs], np.int64),
                   offers=offers, room=np.array([-1 if room[o] is None else room[o] for o in offers], np.int64),
                   arc_need=np.array(cols[0], np.int64), arc_offer=np.array(cols[1], np.int64),
                   arc_tier=np.array(cols[2], np.int64), arc_designated=np.array(cols[3], bool))


@dataclass
class Network:
    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: np.ndarray
    arcs: int  # the first ``arcs`` arcs are the problem's candidate arcs, in order
    units: ReferralUnits


def network(problem: ReferralProblem) -> Network:
    """The flow network of the module docstring. Nodes: needs, offers, the sink."""
    n, m = len(problem.needs), len(problem.offers)
    units = ReferralUnits.for_needs(n)
    sink = n + m
    room = np.where(problem.room < 0, n, np.minimum(problem.room, n))
    tail = np.concatenate((problem.arc_need, np.arange(n), n + np.arange(m)))
    head = np.concatenate((n + problem.arc_offer, np.full(n, sink), np.full(m, sink)))
    capacity = np.concatenate((np.ones(len(problem.arc_need) + n, np.int64), room))
    cost = np.concatenate((units.designation * (~problem.arc_designated).astype(np.int64)
                           + units.distance * problem.arc_tier,
                           units.coverage * risk_ranks(problem.risk) if n else np.zeros(0, np.int64),
                           np.zeros(m, np.int64)))
    supply = np.concatenate((np.ones(n, np.int64), np.zeros(m, np.int64), [-n]))
    return Network(tail.astype(np.int64), head.astype(np.int64), capacity.astype(np.int64), cost.astype(np.int64),
                   supply, len(problem.arc_need), units)


def _ortools(net: Network) -> tuple[np.ndarray, int]:
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.capacity, net.cost)
    smcf.set_nodes_supplies(np.arange(len(net.supply)), net.supply)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"转介方案求解失败（{status!r}）", f"the referral solver failed ({status!r})", status=str(status))
    return smcf.flows(np.arange(len(net.tail))), int(smcf.optimal_cost())


def _networkx(net: Network) -> tuple[np.ndarray, int]:
    g = nx.MultiDiGraph()
    g.add_nodes_from((i, {"demand": -int(s)}) for i, s in enumerate(net.supply))
    g.add_edges_from((int(t), int(h), i, {"capacity": int(c), "weight": int(w)})
                     for i, (t, h, c, w) in enumerate(zip(net.tail, net.head, net.capacity, net.cost)))
    cost, flow = nx.network_simplex(g)
    flows = np.array([flow[int(t)][int(h)][i] for i, (t, h) in enumerate(zip(net.tail, net.head))], np.int64)
    return flows, int(cost)


SOLVERS: dict[str, Callable[[Network], tuple[np.ndarray, int]]] = {"ortools": _ortools, "networkx": _networkx}


@dataclass
class ReferralAssignment:
    offer: np.ndarray  # the offer index of each need, -1 unassigned
    arc: np.ndarray  # the chosen candidate arc of each need, -1 unassigned
    cost: int
    units: ReferralUnits


def solve_referrals(problem: ReferralProblem, solver: str = "ortools") -> ReferralAssignment:
    """The optimal assignment (see the module docstring); ``solver`` "ortools" or "networkx"."""
    net = network(problem)
    flows, cost = SOLVERS[solver](net) if len(problem.needs) else (np.zeros(0, np.int64), 0)
    chosen = np.flatnonzero(flows[:net.arcs] > 0)
    offer = np.full(len(problem.needs), -1, np.int64)
    arc = np.full(len(problem.needs), -1, np.int64)
    offer[problem.arc_need[chosen]] = problem.arc_offer[chosen]
    arc[problem.arc_need[chosen]] = chosen
    return ReferralAssignment(offer=offer, arc=arc, cost=cost, units=net.units)
