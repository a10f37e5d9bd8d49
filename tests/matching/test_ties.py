"""The tie rule: among equally good solutions, lower 户编号 are paired first and take the lower
干部编号; both solvers then give the very same assignment. Checked against every assignment of
small instances, and on random instances full of ties. No store here."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from matching.candidates import Instance, Reach, build_candidates
from matching.solve import component_network, solve

V1, V2 = "620822100201", "620822100202"
T1 = "620822100000"


def hh(no, region=V1, risk=50, current=None):
    return {"household_no": no, "region_code": region, "risk_score": risk, "current_cadre_no": current}


def cd(no, station=V1, limit=1, held=0):
    return {"cadre_no": no, "station_code": station, "pair_limit": limit, "held": held}


def pairs(inst: Instance, solver: str) -> dict[str, str | None]:
    a = solve(build_candidates(inst), solver)
    return {inst.household_no[h]: (inst.cadre_no[c] if c >= 0 else None) for h, c in enumerate(a.cadre.tolist())}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_at_equal_risk_the_lower_household_number_is_paired_first(solver):
    inst = Instance.from_records([hh("H3"), hh("H1"), hh("H2")], [cd("C1", limit=2)])
    assert pairs(inst, solver) == {"H1": "C1", "H2": "C1", "H3": None}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_a_household_takes_the_lower_cadre_number_among_equal_cadres(solver):
    inst = Instance.from_records([hh("H2"), hh("H1")], [cd("C9"), cd("C2"), cd("C5")])
    assert pairs(inst, solver) == {"H1": "C2", "H2": "C5"}


@pytest.mark.parametrize("solver", ["ortools", "networkx"])
def test_the_rule_never_overrides_a_cost_term(solver):
    # H1 is first by number, but H2 keeps its current cadre (continuity) and H1 goes to the other
    inst = Instance.from_records([hh("H1"), hh("H2", current="C1")], [cd("C1"), cd("C2", V2)])
    assert pairs(inst, solver) == {"H1": "C2", "H2": "C1"}
    # and a higher risk is covered before a lower number
    inst = Instance.from_records([hh("H1", risk=20), hh("H2", risk=60)], [cd("C1")])
    assert pairs(inst, solver) == {"H1": None, "H2": "C1"}


def tie_instance(rng: random.Random, households: int, cadres: int) -> Instance:
    """Few risk scores, two villages of one township and its seat, equal limits: ties everywhere."""
    places = [V1, V2, T1]
    cadre_rows = [cd(f"C{rng.randrange(100):02d}{i}", rng.choice(places), limit=rng.choice([1, 2, 2, 3]),
                     held=rng.choice([0, 0, 1])) for i in range(cadres)]
    rows = [hh(f"H{rng.randrange(1000):03d}{i}", rng.choice(places[:2]), risk=rng.choice([30, 30, 50]),
               current=rng.choice([None, None, None, *[c["cadre_no"] for c in cadre_rows]]))
            for i in range(households)]
    excluded = [(rng.choice(rows)["household_no"], rng.choice(cadre_rows)["cadre_no"]) for _ in range(households // 5)]
    return Instance.from_records(rows, cadre_rows, excluded, rng.choice([Reach.VILLAGE, Reach.TOWNSHIP]))


@pytest.mark.parametrize("seed", range(40))
def test_both_solvers_give_identical_assignments_on_instances_full_of_ties(seed):
    rng = random.Random(seed)
    inst = tie_instance(rng, rng.randint(2, 40), rng.randint(1, 15))
    graph = build_candidates(inst)
    fast, reference = solve(graph, "ortools"), solve(graph, "networkx")
    assert fast.cost == reference.cost
    assert np.array_equal(fast.cadre, reference.cadre)
    assert np.array_equal(fast.arc, reference.arc)


def every_assignment(inst: Instance):
    """Every feasible assignment of a one-component instance and its cost in the solved objective."""
    graph = build_candidates(inst)
    assert graph.components == 1
    net = component_network(graph, 0)
    n = len(inst.household_no)
    arc_of = {(int(graph.arc_household[a]), int(graph.arc_cadre[a])): a - net.arcs.start
              for a in range(net.arcs.start, net.arcs.stop)}
    choices = [[None] + [c for (h2, c) in arc_of if h2 == h] for h in range(n)]
    place_of = {}
    for a in range(net.pair_arcs + n, len(net.tail)):
        place_of.setdefault(int(net.cadres[net.tail[a] - n]), []).append(a)
    for choice in itertools.product(*choices):
        flows = np.zeros(len(net.tail), np.int64)
        load: dict[int, int] = {}
        for h, c in enumerate(choice):
            if c is None:
                flows[net.pair_arcs + h] = 1
            else:
                flows[arc_of[(h, c)]] = 1
                load[c] = load.get(c, 0) + 1
        if any(k > len(place_of.get(c, [])) for c, k in load.items()):
            continue
        for c, k in load.items():
            flows[place_of[c][:k]] = 1
        yield choice, int(flows @ net.cost)


@pytest.mark.parametrize("seed", range(30))
def test_the_proposal_is_the_optimum_the_rule_names(seed):
    """Brute force: of all optimal assignments, the rule keeps those that leave unpaired the
    highest 户编号 (compared from the lowest up), then the one whose households, in 户编号 order,
    have the lowest 干部编号."""
    rng = random.Random(1000 + seed)
    inst = tie_instance(rng, rng.randint(2, 6), rng.randint(1, 3))
    inst.reach = Reach.TOWNSHIP
    inst.household_code[:] = int(V1)  # one component
    found = list(every_assignment(inst))
    best = min(cost for _, cost in found)
    optimal = [choice for choice, cost in found if cost == best]
    by_number = sorted(range(len(inst.household_no)), key=lambda h: inst.household_no[h])
    paired_first = min(tuple(choice[h] is None for h in by_number) for choice in optimal)
    optimal = [c for c in optimal if tuple(c[h] is None for h in by_number) == paired_first]
    expected = min(optimal, key=lambda choice: tuple("" if choice[h] is None else inst.cadre_no[choice[h]]
                                                      for h in by_number))
    for solver in ("ortools", "networkx"):
        got = solve(build_candidates(inst), solver)
        assert got.cost == best
        assert tuple(None if c < 0 else c for c in got.cadre.tolist()) == expected
