"""The pure matcher: known optima on hand-built instances, the lexicographic order, and agreement of
the fast solver with the networkx reference on random instances. No store here."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest

from matching.candidates import Instance, Reach, build_candidates
from matching.costs import Units
from matching.explain import UnpairedReason, explain
from matching.solve import component_network, solve, to_networkx

V1, V2 = "620822100201", "620822100202"  # two villages of one township
T1 = "620822100000"  # that township
V3 = "620822101203"  # a village of another township, same county
V4 = "620802101203"  # a village of another county


def hh(no, region=V1, risk=50, current=None):
    return {"household_no": no, "region_code": region, "risk_score": risk, "current_cadre_no": current}


def cd(no, station=V1, limit=1, held=0):
    return {"cadre_no": no, "station_code": station, "pair_limit": limit, "held": held}


def run(households, cadres, excluded=(), reach=Reach.TOWNSHIP, solver="ortools"):
    inst = Instance.from_records(households, cadres, list(excluded), reach)
    graph = build_candidates(inst)
    a = solve(graph, solver)
    check_constraints(graph, a)
    pairs = {inst.household_no[h]: inst.cadre_no[c] for h, c in enumerate(a.cadre) if c >= 0}
    return pairs, graph, a


def check_constraints(graph, a):
    """Every hard rule, on every solution: limits, one cadre per household, arcs only, exclusions."""
    inst = graph.instance
    paired = a.cadre[a.cadre >= 0]
    load = np.bincount(paired, minlength=len(inst.cadre_no))
    assert np.all(load <= inst.capacity), "a cadre above its free places"
    excluded = {(int(h), int(c)) for h, c in inst.excluded}
    arcs = set(zip(graph.arc_household.tolist(), graph.arc_cadre.tolist()))
    for h, c in enumerate(a.cadre.tolist()):
        if c >= 0:
            assert (h, c) in arcs and (h, c) not in excluded
            assert graph.arc_cadre[a.arc[h]] == c and graph.arc_household[a.arc[h]] == h


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_higher_risk_household_is_never_left_out_for_a_lower_one(solver):
    pairs, _, _ = run([hh("LOW", risk=20), hh("HIGH", risk=60)], [cd("C1")], solver=solver)
    assert pairs == {"HIGH": "C1"}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_the_higher_risk_household_takes_one_of_two_places(solver):
    households = [hh("HIGH", V1, risk=60), hh("L1", V1, risk=20), hh("L2", V1, risk=20)]
    pairs, _, _ = run(households, [cd("C1", V1, limit=2)], solver=solver)
    assert "HIGH" in pairs and len(pairs) == 2


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_coverage_count_comes_before_distance(solver):
    # C_NEAR is in A's village; B can only reach C_NEAR. Best: A goes to the farther C_FAR so both are covered.
    households = [hh("A", V1), hh("B", V1)]
    cadres = [cd("C_NEAR", V1), cd("C_FAR", V2)]
    pairs, _, _ = run(households, cadres, excluded=[("B", "C_FAR")], solver=solver)
    assert pairs == {"A": "C_FAR", "B": "C_NEAR"}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_continuity_comes_before_distance(solver):
    # A is paired with a township-level cadre; a same-village cadre with room does not take A away.
    pairs, _, a = run([hh("A", V1, current="C_T")], [cd("C_T", T1), cd("C_V", V1)], solver=solver)
    assert pairs == {"A": "C_T"}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_coverage_comes_before_continuity(solver):
    # LOW holds C1's only place; HIGH can reach nobody else: HIGH takes the place, LOW is dropped.
    pairs, graph, a = run([hh("LOW", V1, risk=20, current="C1"), hh("HIGH", V1, risk=60)], [cd("C1")],
                          solver=solver)
    assert pairs == {"HIGH": "C1"}
    # …but when LOW can move to another cadre, both are covered and only LOW moves.
    pairs, _, _ = run([hh("LOW", V1, risk=20, current="C1"), hh("HIGH", V1, risk=60)],
                      [cd("C1"), cd("C2", V2)], excluded=[("HIGH", "C2")], solver=solver)
    assert pairs == {"HIGH": "C1", "LOW": "C2"}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_distance_comes_before_load(solver):
    # The same-village cadre is already at 2 of 3 elsewhere; the township cadre is empty: distance wins.
    pairs, _, _ = run([hh("A", V1)], [cd("C_V", V1, limit=3, held=2), cd("C_T", T1, limit=3)], solver=solver)
    assert pairs == {"A": "C_V"}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_load_is_balanced_among_equal_cadres(solver):
    households = [hh(f"H{i}", V1) for i in range(4)]
    pairs, _, _ = run(households, [cd("C1", V1, limit=4), cd("C2", V1, limit=4)], solver=solver)
    assert sorted(list(pairs.values()).count(c) for c in ("C1", "C2")) == [2, 2]


def test_reach_limits_the_candidates():
    households = [hh("A", V1)]
    cadres = [cd("SAME_TOWNSHIP", V2), cd("SAME_COUNTY", V3), cd("OTHER_COUNTY", V4)]
    assert run(households, cadres, reach=Reach.VILLAGE)[0] == {}
    assert run(households, cadres, reach=Reach.TOWNSHIP)[0] == {"A": "SAME_TOWNSHIP"}
    assert run(households, [cd("SAME_COUNTY", V3), cd("OTHER_COUNTY", V4)], reach=Reach.COUNTY)[0] == \
        {"A": "SAME_COUNTY"}


def test_an_existing_pairing_reaches_across_groups_and_joins_them():
    # A is paired with a cadre in another county: the pairing is kept, and the two groups are one component.
    pairs, graph, _ = run([hh("A", V1, current="FAR"), hh("B", V4)], [cd("FAR", V4, limit=2)])
    assert pairs == {"A": "FAR", "B": "FAR"}
    assert graph.components == 1
    assert int(graph.arc_tier[graph.arc_household == 0][0]) == 3


def test_an_excluded_current_pairing_is_not_kept():
    pairs, _, _ = run([hh("A", V1, current="C1")], [cd("C1"), cd("C2")], excluded=[("A", "C1")])
    assert pairs == {"A": "C2"}


def test_unpaired_reasons():
    households = [hh("ALONE", V4), hh("EXCLUDED", V3), hh("FULL", V1, risk=10), hh("TAKER", V1, risk=90)]
    cadres = [cd("C1", V1), cd("C3", V3)]
    pairs, graph, a = run(households, cadres, excluded=[("EXCLUDED", "C3")])
    assert pairs == {"TAKER": "C1"}
    _, unpaired = explain(graph, a)
    names = graph.instance.household_no
    assert {names[u.household]: u.reason for u in unpaired} == {
        "ALONE": UnpairedReason.NO_CADRE_IN_REACH, "EXCLUDED": UnpairedReason.ALL_EXCLUDED,
        "FULL": UnpairedReason.ALL_AT_LIMIT}


def test_pair_terms_report_tier_continuity_and_load():
    _, graph, a = run([hh("A", V1, current="C1"), hh("B", V1)], [cd("C1", V1, limit=3, held=1)])
    pairs, _ = explain(graph, a)
    by_name = {graph.instance.household_no[p.household]: p for p in pairs}
    assert by_name["A"].kept and not by_name["A"].moved and by_name["A"].cost == 0
    assert by_name["B"].load == by_name["A"].load == 3 and by_name["B"].limit == 3
    assert "方案中干部负荷 cadre load in the proposal: 3/3" in by_name["B"].reasons()


def test_units_make_each_term_outweigh_every_later_one():
    u = Units.for_component(households=50, with_current=30, load_bound=50 * 19)
    worst_distance_and_load = 3 * u.distance * 50 + 50 * 19
    assert u.distance > 50 * 19
    assert u.continuity > worst_distance_and_load
    assert u.coverage > 30 * u.continuity + worst_distance_and_load


def test_the_networkx_model_is_the_network_the_fast_solver_sees():
    inst = Instance.from_records([hh("A", V1), hh("B", V2)], [cd("C1", V1, limit=2)])
    graph = build_candidates(inst)
    net = component_network(graph, 0)
    g = to_networkx(net)
    assert g.number_of_edges() == len(net.tail) and g.number_of_nodes() == len(net.supply)
    assert sum(d for _, d in g.nodes(data="demand")) == 0


def random_instance(rng: random.Random, households: int, cadres: int) -> Instance:
    villages = [f"6208221{t:02d}2{v:02d}" for t in range(3) for v in range(1, 4)]
    towns = [f"6208221{t:02d}000" for t in range(3)]
    cadre_rows = [cd(f"C{i}", rng.choice(villages + towns), limit=rng.randint(1, 4), held=rng.randint(0, 2))
                  for i in range(cadres)]
    rows = [hh(f"H{i}", rng.choice(villages), risk=rng.choice([15, 20, 35, 50, 60, 85]),
               current=rng.choice([None, None, *[c["cadre_no"] for c in cadre_rows]])) for i in range(households)]
    excluded = [(f"H{rng.randrange(households)}", f"C{rng.randrange(cadres)}") for _ in range(households // 4)]
    return Instance.from_records(rows, cadre_rows, excluded, rng.choice(list(Reach)))


@pytest.mark.parametrize("seed", range(25))
def test_fast_solver_and_networkx_reach_the_same_optimum(seed):
    rng = random.Random(seed)
    inst = random_instance(rng, rng.randint(1, 60), rng.randint(1, 25))
    graph = build_candidates(inst)
    fast, reference = solve(graph, "ortools"), solve(graph, "networkx")
    assert fast.cost == reference.cost
    check_constraints(graph, fast)
    check_constraints(graph, reference)
    # Same coverage by risk: the sorted risk scores of the covered households are equal.
    covered = lambda a: sorted(inst.risk_score[a.cadre >= 0].tolist())  # noqa: E731
    assert covered(fast) == covered(reference)


@pytest.mark.parametrize("seed", range(10))
def test_no_household_is_left_out_while_a_cadre_in_reach_has_room(seed):
    rng = random.Random(100 + seed)
    inst = random_instance(rng, 80, 20)
    graph = build_candidates(inst)
    a = solve(graph)
    load = np.bincount(a.cadre[a.cadre >= 0], minlength=len(inst.cadre_no))
    room = load < inst.capacity
    for h in np.flatnonzero(a.cadre < 0):
        assert not room[graph.arc_cadre[graph.arc_household == h]].any()


@pytest.mark.parametrize("seed", range(10))
def test_coverage_is_lexicographically_best_by_risk(seed):
    """Against a brute-force check: greedy by risk on the transversal matroid is optimal, so for
    each risk threshold the solution covers as many households at or above it as possible."""
    rng = random.Random(200 + seed)
    inst = random_instance(rng, 40, 12)
    graph = build_candidates(inst)
    a = solve(graph)
    for threshold in sorted(set(inst.risk_score.tolist())):
        chosen = inst.risk_score >= threshold
        best = _max_coverage(graph, chosen)
        assert int(np.sum((a.cadre >= 0) & chosen)) == best


def _max_coverage(graph, chosen: np.ndarray) -> int:
    """Maximum number of ``chosen`` households that can be covered, by networkx max flow."""
    inst = graph.instance
    g = nx.DiGraph()
    for h, c in zip(graph.arc_household.tolist(), graph.arc_cadre.tolist()):
        if chosen[h]:
            g.add_edge("s", ("h", h), capacity=1)
            g.add_edge(("h", h), ("c", c), capacity=1)
            g.add_edge(("c", c), "t", capacity=int(inst.capacity[c]))
    return nx.maximum_flow_value(g, "s", "t") if g.number_of_nodes() else 0


@pytest.mark.parametrize("seed", range(10))
def test_rerunning_with_the_solution_as_current_changes_nothing(seed):
    rng = random.Random(300 + seed)
    inst = random_instance(rng, 60, 20)
    first = solve(build_candidates(inst))
    inst.current = first.cadre.copy()
    second = solve(build_candidates(inst))
    assert np.array_equal(first.cadre, second.cadre)
