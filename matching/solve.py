"""Exact min-cost-flow solves of the candidate graph, one independent component at a time.

Each component becomes the flow network

    household (supply 1) ──pair: continuity·moved + distance·tier──▶ cadre ──k-th place: 2k−1──▶ sink
    household ───────────── unpaired: coverage·rank + continuity·had_cadre ─────────────────▶ sink

with the costs of :mod:`matching.costs`. A cadre has one unit-capacity arc to the sink per free
place, so the limit is a hard constraint and the convex load cost spreads pairings; every
household reaches the sink, so the network is always feasible. OR-Tools' ``SimpleMinCostFlow``
(cost scaling, C++) is the fast solver; networkx's network simplex on the same network is the
reference. Both are exact, so their optimal costs must be equal; and since the tie rule of
:mod:`matching.ties` then picks one of the optima, whatever the solver found, so are their
assignments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from ortools.graph.python import min_cost_flow

from graph_schema.errors import JieduiError
from matching.candidates import CandidateGraph
from matching.costs import Units, load_step, risk_ranks
from matching.ties import canonical


class SolverError(JieduiError):
    code = "SOLVER_ERROR"


@dataclass
class Network:
    """One component as a flow network. Local nodes: households ``0..n-1``, cadres ``n..n+m-1``,
    the sink ``n+m``; the first ``pair_arcs`` arcs are the candidate arcs ``arcs`` of the graph."""

    households: np.ndarray  # global household indices
    cadres: np.ndarray  # global cadre indices
    arcs: slice  # the candidate arcs of the graph this network holds, in order
    units: Units
    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: np.ndarray

    @property
    def pair_arcs(self) -> int:
        return self.arcs.stop - self.arcs.start


def component_network(graph: CandidateGraph, k: int) -> Network:
    """The flow network of component ``k`` (see the module docstring)."""
    inst = graph.instance
    households, cadres = graph.households_of(k), graph.cadres_of(k)
    n, m = len(households), len(cadres)
    arcs = slice(int(graph.bounds[k]), int(graph.bounds[k + 1]))
    arc_h, arc_c = graph.arc_household[arcs], graph.arc_cadre[arcs]
    current = inst.current[households]
    capacity = inst.capacity[cadres]
    held = inst.held[cadres].astype(np.int64)
    load_bound = int(np.sum((held + capacity) ** 2 - held ** 2))
    units = Units.for_component(households=n, with_current=int(np.sum(current >= 0)), load_bound=load_bound)

    moved = (inst.current[arc_h] >= 0) & (inst.current[arc_h] != arc_c)
    place_cadre = np.repeat(np.arange(m), capacity)
    place_k = np.arange(len(place_cadre)) - np.repeat(np.cumsum(capacity) - capacity, capacity) + 1
    sink = n + m
    tail = np.concatenate((np.searchsorted(households, arc_h), np.arange(n), n + place_cadre))
    head = np.concatenate((n + np.searchsorted(cadres, arc_c), np.full(n, sink), np.full(len(place_cadre), sink)))
    cost = np.concatenate((units.arc(graph.arc_tier[arcs], moved),
                           units.unpaired(risk_ranks(inst.risk_score[households]), current >= 0),
                           load_step(held[place_cadre] + place_k)))
    supply = np.concatenate((np.ones(n, np.int64), np.zeros(m, np.int64), [-n]))
    return Network(households=households, cadres=cadres, arcs=arcs, units=units, tail=tail.astype(np.int64),
                   head=head.astype(np.int64), capacity=np.ones(len(tail), np.int64), cost=cost.astype(np.int64),
                   supply=supply)


def solve_ortools(net: Network) -> tuple[np.ndarray, int]:
    """Flows on the network's arcs and the optimal cost, by OR-Tools' cost-scaling algorithm.

    Raises:
        SolverError: the costs exceed OR-Tools' 64-bit range (a component far larger than a county)
            or the solver reports anything but optimal.
    """
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.capacity, net.cost)
    smcf.set_nodes_supplies(np.arange(len(net.supply)), net.supply)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"匹配求解失败（{status!r}）：问题过大时请缩小范围或距离",
                          f"the min-cost-flow solver failed ({status!r}); narrow the scope or the reach",
                          status=str(status), households=len(net.households))
    return smcf.flows(np.arange(len(net.tail))), int(smcf.optimal_cost())


def to_networkx(net: Network) -> nx.MultiDiGraph:
    """The network as a networkx graph (``demand`` on nodes, ``capacity``/``weight`` on arcs):
    the reference model, and a convenient form for analysis. Arc keys are the arc positions."""
    g = nx.MultiDiGraph()
    g.add_nodes_from((i, {"demand": -int(s)}) for i, s in enumerate(net.supply))
    g.add_edges_from((int(t), int(h), i, {"capacity": int(c), "weight": int(w)})
                     for i, (t, h, c, w) in enumerate(zip(net.tail, net.head, net.capacity, net.cost)))
    return g


def solve_networkx(net: Network) -> tuple[np.ndarray, int]:
    """Flows and optimal cost by networkx's network simplex (exact; slow beyond a few thousand arcs)."""
    cost, flow = nx.network_simplex(to_networkx(net))
    flows = np.zeros(len(net.tail), np.int64)
    for i, (t, h) in enumerate(zip(net.tail.tolist(), net.head.tolist())):
        flows[i] = flow[t][h][i]
    return flows, int(cost)


SOLVERS: dict[str, Callable[[Network], tuple[np.ndarray, int]]] = {
    "ortools": solve_ortools, "networkx": solve_networkx}


@dataclass
class Assignment:
    """The solution: the cadre index of each household (-1 unpaired) and the optimal cost (the sum
    of the components' optima, which depend only on the instance, not on the solver)."""

    cadre: np.ndarray
    arc: np.ndarray  # index of the chosen candidate arc per household, -1 unpaired
    cost: int
    units: list[Units]  # per component


def solve(graph: CandidateGraph, solver: str = "ortools") -> Assignment:
    """Solve every component exactly with ``solver`` ("ortools" or "networkx"), and among equally
    good solutions take the one the tie rule names (:mod:`matching.ties`): the same whichever
    solver ran.

    Pure: graph in, assignment out; the store is never touched.

    Examples:
        >>> from matching.candidates import Instance, build_candidates
        >>> inst = Instance.from_records(
        ...     [{"household_no": "H1", "region_code": "620822100001", "risk_score": 60},
        ...      {"household_no": "H2", "region_code": "620822100001", "risk_score": 20}],
        ...     [{"cadre_no": "C1", "station_code": "620822100001", "pair_limit": 1}])
        >>> [inst.cadre_no[c] if c >= 0 else None for c in solve(build_candidates(inst)).cadre]
        ['C1', None]
    """
    run = SOLVERS[solver]
    n = len(graph.instance.household_no)
    household_rank, cadre_rank = _ranks(graph.instance.household_no), _ranks(graph.instance.cadre_no)
    cadre = np.full(n, -1, np.int32)
    arc = np.full(n, -1, np.int64)
    total, units = 0, []
    for k in range(graph.components):
        net = component_network(graph, k)
        flows, cost = run(net)
        flows = canonical(net, flows, household_rank[net.households], cadre_rank[net.cadres])
        chosen = np.flatnonzero(flows[:net.pair_arcs] > 0) + net.arcs.start
        cadre[graph.arc_household[chosen]] = graph.arc_cadre[chosen]
        arc[graph.arc_household[chosen]] = chosen
        total += cost
        units.append(net.units)
    return Assignment(cadre=cadre, arc=arc, cost=total, units=units)


def _ranks(keys: list[str]) -> np.ndarray:
    """The place of each key in sorted order (户编号, 干部编号: the order the tie rule goes by)."""
    rank = np.empty(len(keys), np.int64)
    rank[np.argsort(np.array(keys, dtype=str), kind="stable")] = np.arange(len(keys))
    return rank
