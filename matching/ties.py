"""The tie rule: which of several equally good solutions the matcher proposes.

The costs of :mod:`matching.costs` often leave ties: two households of equal risk competing for a
cadre's last place, two cadres of one village with equal loads. Every solver then returns *an*
optimum, each its own (networkx's network simplex and OR-Tools' cost scaling pick differently), so
the rule is applied after solving, to whatever optimum the solver found:

    **1. who is paired: in 户编号 order, each household is paired if an optimal solution pairs it
    together with those before it that were; 2. with whom: in 户编号 order, each paired household
    takes the lowest 干部编号 that still leaves an optimal solution for the households after it.**

So among equally good solutions the lower 户编号 is paired first, and takes the lower 干部编号: one
solution, whichever solver ran.

Why not a cost term: making every optimum unique through the costs needs weights that grow
geometrically with the number of tied households (a few dozen exhaust the 64-bit range OR-Tools
checks); any smaller tie term leaves ties of its own. Instead, the optimal solutions are exactly
the flows that use only *tight* arcs (reduced cost zero under optimal node potentials) besides the
arcs every optimum uses. The potentials come from shortest paths in the residual network of the
solver's flow (Bellman–Ford, vectorised). Step 1 is one more min-cost flow on the tight arcs: the
optimal sets of paired households are the bases of a (generalised) matroid, so a cost for leaving
a household unpaired that is distinct and falls with its 户编号 has exactly one optimum, and it is
the one the greedy order of step 1 names. Step 2 visits each paired household with more than one
tight cadre in order and moves it to its first cadre that an alternating cycle of tight arcs,
avoiding the households already settled, can reach. Such a cycle costs nothing, so the flow stays
optimal and every earlier household keeps its choice. A household with one tight cadre cannot
change at all, so a component without ties costs one potential computation and one small solve.

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
    # Who is paired is settled. What may still change: the tight arcs of the paired households
    # with a choice (one with a single tight cadre is on no cycle: it could enter by its arc but
    # never leave by another), and the cadres' places.
    arcs = np.flatnonzero(tight[:net.pair_arcs])
    arcs = arcs[flows[net.pair_arcs + net.tail[arcs]] == 0]
    choosing = np.bincount(net.tail[arcs], minlength=n) > 1
    arcs = arcs[choosing[net.tail[arcs]]]
    if not len(arcs):
        return flows
    places = np.flatnonzero(tight[net.pair_arcs + n:]) + net.pair_arcs + n
    face = _Face(net, flows, arcs, places, cadre_rank)
    for h in sorted(np.flatnonzero(choosing).tolist(), key=lambda h: household_rank[h]):
        face.settle(h)
    return np.frombuffer(bytes(face.flow), np.int8).copy()


class _Face:
    """The optimal solutions still open, as a residual network of tight arcs: households settled
    in order, each moved along a zero-cost cycle to its first cadre that still leaves an optimum."""

    def __init__(self, net: Network, flows: np.ndarray, arcs: np.ndarray, places: np.ndarray,
                 cadre_rank: np.ndarray) -> None:
        self.n = n = len(net.households)
        self.sink = len(net.supply) - 1
        self.flow = bytearray(flows.tobytes())
        self.tail, self.head = net.tail.tolist(), net.head.tolist()
        tails, heads = net.tail[arcs], net.head[arcs]
        by_household = np.lexsort((arcs, cadre_rank[heads - n], tails))  # best option first
        self._options = (arcs[by_household], np.searchsorted(tails[by_household], np.arange(n + 1)))
        by_cadre = np.argsort(heads, kind="stable")
        self._into = (arcs[by_cadre], np.searchsorted(heads[by_cadre], np.arange(len(net.supply) + 1)))
        self._cached: dict[int, list[tuple[int, int]]] = {}
        used = arcs[flows[arcs] > 0]
        self.current = dict(zip(net.tail[used].tolist(), used.tolist()))  # household → its tight arc in use
        self.at = np.bincount(net.head[used], minlength=len(net.supply)).tolist()  # unsettled households in use
        self.place = {self.tail[a]: a for a in places.tolist()}  # cadre → its tight place (at most one)
        self.spare = {c for c, a in self.place.items() if not self.flow[a]}  # those not in use
        self.settled = bytearray(n)

    def options(self, h: int) -> list[tuple[int, int]]:
        """``h``'s tight cadres as (cadre node, arc), in 干部编号 order."""
        arcs, bounds = self._options
        return [(self.head[a], a) for a in arcs[bounds[h]:bounds[h + 1]].tolist()]

    def arcs_into(self, c: int) -> list[tuple[int, int]]:
        """The tight arcs into cadre ``c`` as (arc, household)."""
        if c not in self._cached:
            arcs, bounds = self._into
            self._cached[c] = [(a, self.tail[a]) for a in arcs[bounds[c]:bounds[c + 1]].tolist()]
        return self._cached[c]

    def live(self, c: int) -> bool:
        """Whether anything leaves cadre ``c``: an unsettled household to move, or a place to give."""
        return self.at[c] > 0 or c in self.spare

    def into_node(self, v: int, h: int):
        """The residual tight arcs into ``v`` as (arc, from), never from a settled household or ``h``."""
        if v == self.sink:
            yield from ((self.place[c], c) for c in self.spare)
        elif v >= self.n:
            for a, g in self.arcs_into(v):
                if not self.flow[a] and not self.settled[g] and g != h:
                    yield a, g
            if v in self.place and v not in self.spare:
                yield self.place[v], self.sink
        elif (a := self.current.get(v, -1)) >= 0:
            yield a, self.head[a]

    def flip(self, a: int) -> None:
        t, w = self.tail[a], self.head[a]
        if w == self.sink:
            (self.spare.add if self.flow[a] else self.spare.discard)(t)
        elif self.flow[a]:
            if self.current.get(t) == a:
                del self.current[t]
            self.at[w] -= not self.settled[t]
        else:
            self.current[t] = a
            self.at[w] += not self.settled[t]
        self.flow[a] ^= 1

    def settle(self, h: int) -> None:
        """Move ``h`` to its first cadre that a cycle of tight arcs, avoiding the settled
        households, reaches from its current one; then settle it."""
        options = self.options(h)
        now = next((i for i, (_, a) in enumerate(options) if self.flow[a]), None)
        wanted = {c: i for i, (c, _) in enumerate(options[:now or 0]) if self.live(c)}
        if wanted:
            x = options[now][0]
            toward = {x: -1}  # node → the residual arc that leads on toward x
            queue, best, first = deque([x]), now, min(wanted.values())
            while queue and best != first:
                for a, u in self.into_node(queue.popleft(), h):
                    if u in toward:
                        continue
                    toward[u] = a
                    if u < self.n:  # a household: the only way on is back along its arc in use
                        u, a = next(self.into_node(u, h), (None, None))[::-1]
                        if u is None or u in toward:
                            continue
                        toward[u] = a
                    queue.append(u)
                    if wanted.get(u, now) < best:
                        best = wanted[u]
                        if best == first:
                            break
            if best != now:
                node, cycle = options[best][0], [options[now][1], options[best][1]]
                while node != x:
                    a = toward[node]
                    cycle.append(a)
                    node = self.head[a] if self.tail[a] == node else self.tail[a]
                for a in cycle:
                    self.flip(a)
        self.settled[h] = 1
        if (a := self.current.get(h, -1)) >= 0:
            self.at[self.head[a]] -= 1


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
    cost[unpaired] = household_rank.max() + 1 - household_rank[arcs[unpaired] - net.pair_arcs]
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tail[arcs], net.head[arcs], np.ones(len(arcs), np.int64), cost)
    smcf.set_nodes_supplies(np.arange(len(supply)), supply)
    if smcf.solve() != smcf.OPTIMAL:  # pragma: no cover - the solver's own flow is a feasible one
        raise AssertionError("the optimal face has no flow")
    flows = forced.astype(np.int8)
    flows[arcs] = smcf.flows(np.arange(len(arcs)))
    return flows


