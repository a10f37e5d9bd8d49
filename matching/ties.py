"""The tie rule: which of several equally good solutions the matcher proposes.

The costs of :mod:`matching.costs` often leave ties: two households of equal risk competing for a
cadre's last place, two cadres of one village with equal loads. Every solver then returns *an*
optimum, each its own (networkx's network simplex and OR-Tools' cost scaling pick differently), so
the rule is applied after solving, to whatever optimum the solver found:

    **households in 户编号 order, each takes the first of its options that still leaves an optimal
    solution for the households after it; a household's options are its cadres by 干部编号, then
    staying unpaired.**

So among equally good solutions the lower 户编号 is paired first, and takes the lower 干部编号. The
result is the lexicographically first optimal solution: one solution, whichever solver ran.

Why not a cost term: making every optimum unique through the costs needs weights that grow
geometrically with the number of tied households (a few dozen exhaust the 64-bit range OR-Tools
checks); any smaller tie term leaves ties of its own. Instead, the optimal solutions are exactly
the flows that use only *tight* arcs (reduced cost zero under optimal node potentials) besides the
arcs every optimum uses. The potentials come from shortest paths in the residual network of the
solver's flow (Bellman–Ford, vectorised); then each household that has more than one tight option
is visited in order, and moved to its first option that an alternating cycle of tight arcs,
avoiding the households already settled, can reach. Such a cycle costs nothing, so the flow stays
optimal and every earlier household keeps its choice. A household with one tight option cannot
change at all, so components without ties cost one potential computation.

Examples:
    >>> from matching.candidates import Instance, build_candidates
    >>> from matching.solve import solve
    >>> inst = Instance.from_records(
    ...     [{"household_no": n, "region_code": "620822100001", "risk_score": 50} for n in ("H2", "H1")],
    ...     [{"cadre_no": c, "station_code": "620822100001", "pair_limit": 1} for c in ("C1",)])
    >>> [inst.cadre_no[c] if c >= 0 else None for c in solve(build_candidates(inst)).cadre]
    [None, 'C1']
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from ortools.graph.python import min_cost_flow

if TYPE_CHECKING:
    from matching.solve import Network


def potentials(net: Network, flows: np.ndarray) -> np.ndarray:
    """Optimal node potentials for an optimal ``flows``: shortest distances in its residual network
    from a source joined to every node at no cost (it has no negative cycle, the flow being optimal).
    Bellman–Ford over all residual arcs at once, until no distance falls."""
    used = flows > 0
    src = np.where(used, net.head, net.tail)
    dst = np.where(used, net.tail, net.head)
    weight = np.where(used, -net.cost, net.cost)
    order = np.argsort(dst, kind="stable")
    src, dst, weight = src[order], dst[order], weight[order]
    starts = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]]) if len(dst) else np.zeros(0, np.int64)
    targets = dst[starts]
    dist = np.zeros(len(net.supply), np.int64)
    for _ in range(len(net.supply) + 1):
        best = np.minimum.reduceat(dist[src] + weight, starts) if len(starts) else starts
        lower = best < dist[targets]
        if not lower.any():
            return dist
        dist[targets[lower]] = best[lower]
    raise AssertionError("a negative cycle: the flow was not optimal")  # pragma: no cover


def canonical(net: Network, flows: np.ndarray, household_rank: np.ndarray, cadre_rank: np.ndarray) -> np.ndarray:
    """The optimal flow the tie rule picks (see the module docstring), from any optimal ``flows``;
    ``household_rank`` and ``cadre_rank`` give the network's households and cadres their places
    in 户编号 and 干部编号 order."""
    n = len(net.households)
    pi = potentials(net, flows)
    reduced = net.cost + pi[net.tail] - pi[net.head]
    tight = reduced == 0
    flows = _cover_first_numbers(net, tight, reduced < 0, household_rank)
    # Who is paired is settled: only tight pair arcs of paired households, and places, may change.
    unpaired_arc = net.pair_arcs + np.arange(n)
    tight[unpaired_arc] = False
    option: dict[int, list[tuple[int, int]]] = {}  # household → its tight cadres as (rank, arc)
    for a in np.flatnonzero(tight[:net.pair_arcs]).tolist():
        option.setdefault(int(net.tail[a]), []).append((int(cadre_rank[int(net.head[a]) - n]), a))
    free = sorted((h for h, options in option.items() if len(options) > 1 and not flows[unpaired_arc[h]]),
                  key=lambda h: household_rank[h])
    if not free:
        return flows
    flow = bytearray(flows.tobytes())
    tail, head = net.tail.tolist(), net.head.tolist()
    into: dict[int, dict[int, int]] = {}  # v → {arc: u} for each residual tight arc u → v
    leaving: dict[int, set[int]] = {}  # u → the arcs of those that leave it

    def place(a: int) -> None:
        u, w = (tail[a], head[a]) if not flow[a] else (head[a], tail[a])
        into.setdefault(w, {})[a] = u
        leaving.setdefault(u, set()).add(a)

    def unplace(a: int) -> None:
        u, w = (tail[a], head[a]) if not flow[a] else (head[a], tail[a])
        del into[w][a]
        leaving[u].discard(a)

    # A household with one tight cadre is on no cycle (it could enter by its arc but never leave
    # by another), so only the arcs of the others, and the cadres' places, can change.
    movable = np.zeros(len(net.supply), bool)
    movable[free] = True
    movable[n:] = True
    for a in np.flatnonzero(tight & movable[net.tail]).tolist():
        place(a)
    for h in free:
        options = sorted(option[h])
        current = next((i for i, (_, a) in enumerate(options) if flow[a]), None)
        # a cadre that nothing leaves (its households all settled, no place to give) leads nowhere
        if current and any(leaving.get(head[a]) for _, a in options[:current]):
            nodes = [head[a] for _, a in options]
            best, toward = _first_reachable(h, nodes, current, into, leaving)
            if best != current:
                x, node = nodes[current], nodes[best]
                cycle = [options[best][1], options[current][1]]
                while node != x:
                    a = toward[node]
                    cycle.append(a)
                    node = head[a] if tail[a] == node else tail[a]
                for a in cycle:
                    unplace(a)
                    flow[a] ^= 1
                    place(a)
        for _, a in options:  # settled: no later cycle passes through it
            unplace(a)
    return np.frombuffer(bytes(flow), np.int8).copy()


def _cover_first_numbers(net: Network, tight: np.ndarray, forced: np.ndarray, household_rank: np.ndarray) -> np.ndarray:
    """Among the optimal flows (the arcs with a negative reduced cost used, the tight ones free),
    the one that leaves unpaired the households of the highest 户编号: the optimal sets of paired
    households are the bases of a (generalised) matroid, so a cost for leaving each household
    unpaired that is distinct and falls with its 户编号 has exactly one optimum, found by one more
    min-cost flow on the tight arcs, whose costs are at most the number of households."""
    n = len(net.households)
    supply = net.supply.copy()
    np.subtract.at(supply, net.tail[forced], 1)
    np.add.at(supply, net.head[forced], 1)
    arcs = np.flatnonzero(tight)
    cost = np.zeros(len(arcs), np.int64)
    unpaired = arcs >= net.pair_arcs
    unpaired &= arcs < net.pair_arcs + n
    cost[unpaired] = n - household_rank[arcs[unpaired] - net.pair_arcs]
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tail[arcs], net.head[arcs], np.ones(len(arcs), np.int64), cost)
    smcf.set_nodes_supplies(np.arange(len(supply)), supply)
    if smcf.solve() != smcf.OPTIMAL:  # pragma: no cover - the solver's own flow is a feasible one
        raise AssertionError("the optimal face has no flow")
    flows = forced.astype(np.int8)
    flows[arcs] = smcf.flows(np.arange(len(arcs)))
    return flows


def _first_reachable(h: int, nodes: list[int], current: int, into: dict[int, dict[int, int]],
                     leaving: dict[int, set[int]]) -> tuple[int, dict[int, int]]:
    """The first of ``h``'s cadres (``nodes``, in order) from which a residual path of tight arcs
    leads to its current cadre (so that moving ``h`` there closes a cycle), and the path's arcs as
    ``node → arc toward the current cadre``. A breadth-first search backwards from the current
    cadre, which stops as soon as it meets the first one."""
    x = nodes[current]
    wanted = {node: i for i, node in enumerate(nodes[:current]) if leaving.get(node)}
    toward = {x: -1}
    queue, best = deque([x]), current
    while queue:
        for a, u in into.get(queue.popleft(), {}).items():
            if u not in toward and u != h:
                toward[u] = a
                queue.append(u)
                if u in wanted and wanted[u] < best:
                    best = wanted[u]
                    if best == 0:
                        return best, toward
    return best, toward
