"""Referral proposals: the pure solver against networkx on random instances (same optimum, never
over an offer's room), the strict order of its objective, and, on both engines, proposing from
the store and confirming (rules re-checked in one transaction, refusals named, twice is once)."""

from __future__ import annotations

import datetime as dt
import doctest
import json
import random

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from factories import household, id_number, org, person
from graph_schema.enums import ReferralReason, ServiceDept, ServiceUnit
from graph_schema.identifiers import region_parent
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.org.service import upsert_orgs
from graph_schema.service.catalogue import upsert_service_types
from graph_schema.service.deliveries import record_deliveries
from graph_schema.service.models import Delivery, Need, Offer, ServiceType, registry_need_id
from graph_schema.service.needs import record_needs
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, refer_many, referrals_in, withdraw_referral
from importers import synth
from matching import referrals as pure
from matching.referral_proposal import ReferralProposal
from matching.referral_service import confirm_referrals, propose_referrals, waiting, waiting_needs
from matching.referrals import ReferralProblem, network, solve_referrals

D = dt.date


def test_the_module_examples_hold():
    assert doctest.testmod(pure).failed == 0


def check(problem: ReferralProblem, assignment) -> None:
    """Every assigned need uses one of its own arcs; no offer gets more than its room."""
    for need, (offer, arc) in enumerate(zip(assignment.offer, assignment.arc)):
        if offer >= 0:
            assert problem.arc_need[arc] == need and problem.arc_offer[arc] == offer
    used = np.bincount(assignment.offer[assignment.offer >= 0], minlength=len(problem.offers))
    limited = problem.room >= 0
    assert np.all(used[limited] <= problem.room[limited])


def random_problem(rng: random.Random, needs: int, offers: int) -> ReferralProblem:
    names = [f"o{k}" for k in range(offers)]
    room = {o: (None if rng.random() < 0.2 else rng.randint(0, 3)) for o in names}
    spec = []
    for i in range(needs):
        reach = rng.sample(names, rng.randint(0, min(3, offers)))
        spec.append((f"n{i}", rng.choice((0, 10, 25, 40, 60)),
                     [(o, rng.randint(0, 4), rng.random() < 0.5) for o in reach]))
    return ReferralProblem.of(spec, room)


@pytest.mark.parametrize("seed", range(25))
def test_ortools_reaches_the_networkx_optimum_and_never_overfills(seed):
    rng = random.Random(seed)
    problem = random_problem(rng, rng.randint(1, 30), rng.randint(1, 6))
    fast, reference = solve_referrals(problem), solve_referrals(problem, "networkx")
    assert fast.cost == reference.cost
    check(problem, fast)
    check(problem, reference)
    # the optimum against networkx's own min-cost flow on the same network, built independently
    net = network(problem)
    g = nx.DiGraph()
    for i, s in enumerate(net.supply):
        g.add_node(i, demand=-int(s))
    for t, h, c, w in zip(net.tail, net.head, net.capacity, net.cost):
        if g.has_edge(int(t), int(h)):  # parallel arcs do not occur: each need reaches an offer once
            raise AssertionError("parallel arc")
        g.add_edge(int(t), int(h), capacity=int(c), weight=int(w))
    assert nx.min_cost_flow_cost(g) == fast.cost


def test_the_highest_risk_need_is_covered_first_then_designated_then_nearer():
    # one place: the riskier need takes it, whatever the distance
    p = ReferralProblem.of([("low", 10, [("o", 0, True)]), ("high", 60, [("o", 4, False)])], {"o": 1})
    assert [p.offers[o] if o >= 0 else None for o in solve_referrals(p).offer] == [None, "o"]
    # a designated institution far away before a nearer one that is not
    p = ReferralProblem.of([("n", 10, [("near", 0, False), ("far", 4, True)])], {"near": None, "far": None})
    assert p.offers[solve_referrals(p).offer[0]] == "far"
    # alike in designation: the nearer
    p = ReferralProblem.of([("n", 10, [("near", 1, True), ("far", 3, True)])], {"near": None, "far": None})
    assert p.offers[solve_referrals(p).offer[0]] == "near"
    # as many needs as possible among equals: the flexible need gives way
    p = ReferralProblem.of([("a", 10, [("x", 0, True), ("y", 0, True)]), ("b", 10, [("x", 0, True)])],
                           {"x": 1, "y": 1})
    assert sorted(int(o) for o in solve_referrals(p).offer) == [0, 1]
    # a full offer (room 0) takes nobody; no need, no arc
    p = ReferralProblem.of([("a", 10, [("x", 0, True)]), ("b", 10, [])], {"x": 0})
    assert list(solve_referrals(p).offer) == [-1, -1]
    assert list(solve_referrals(ReferralProblem.of([], {"x": 1})).offer) == []


# --- from the store ---------------------------------------------------------------------------

V1, V2 = "620822100201", "620822101203"


@pytest.fixture
def region(store):
    """Four persons with a KF01 need each (two in a 特困 household, so riskier), one with a 托养
    need; a designated centre with room for 2 over the county, a non-designated club over V1
    (unlimited), an ended offer over V2."""
    upsert_households(store=store, households=[household("H1", V1, tekun=True), household("H2", V1),
                                               household("H3", V2)])
    people = [person("H1", id_number=id_number(born=D(1960, 1, 1))), person("H1", id_number=id_number(born=D(1961, 1, 1))),
              person("H2", id_number=id_number(born=D(1962, 1, 1))), person("H3", id_number=id_number(born=D(1963, 1, 1))),
              person("H3", id_number=id_number(born=D(1964, 1, 1)), needs=["托养"])]
    upsert_persons(store=store, persons=people)
    centre, club, gone = org(), org(), org()
    upsert_orgs(store=store, orgs=[centre, club, gone])
    upsert_offers(store=store, offers=[
        Offer(uscc=centre.uscc, service_code="KF01", region_code="620822000000", capacity=2,
              designated_until=D(2030, 1, 1)),
        Offer(uscc=club.uscc, service_code="KF01", region_code=V1),
        Offer(uscc=gone.uscc, service_code="KF01", region_code=V2, valid_to=D(2024, 1, 1)),
    ])
    record_needs(store=store, needs=[Need(id_number=p.id_number, service_code="KF01", assessed_on=D(2024, 3, 1))
                                     for p in people[:4]])
    return store, people, centre.uscc, club.uscc


def test_a_proposal_covers_every_need_it_can_and_names_who_waits(region):
    store, people, centre, club = region
    proposal = propose_referrals(store=store, region="620822", as_of=D(2024, 6, 1), solver="networkx")
    same = propose_referrals(store=store, region="620822", as_of=D(2024, 6, 1))
    assert same.objective == proposal.objective
    by_person = {r.id_number: r.uscc for r in proposal.referrals}
    # H3's person can only go to the centre (the club serves V1, the V2 offer has ended): so it takes
    # one of the centre's two places and one of V1's three persons the other; the rest go to the club
    assert by_person[people[3].id_number] == centre
    v1 = [by_person[p.id_number] for p in people[:3]]
    assert sorted(v1) == sorted([centre, club, club])
    # the 托养 need no offer covers is counted in its township, not listed
    assert proposal.unassigned == []
    assert [r.model_dump() for r in proposal.no_offer] == [
        {"region_code": "620822101000", "region_name": "620822101000", "category": "托养", "needs": 1}]
    assert proposal.deserts == "jiedui report service-deserts --region 620822000000 --as-of 2024-06-01"
    assert proposal.summary.model_dump() == {"needs": 5, "referred": 4, "designated": 2, "unassigned": 1,
                                             "no_offer": 1, "no_room": 0}
    assert all(r.reasons and r.room in (2, None) for r in proposal.referrals)
    assert propose_referrals(store=store, region="620822", as_of=D(2024, 2, 1)).summary.needs == 1  # 托养 only


def test_needs_an_offer_covers_but_no_room_is_left_for_are_listed(region):
    """With the club gone, the centre's two places go to the two 特困 household's persons; the
    other two KF01 needs are listed as NO_ROOM, with their risk."""
    store, people, centre, club = region
    upsert_offers(store=store, offers=[Offer(uscc=club, service_code="KF01", region_code=V1, valid_to=D(2024, 5, 1))])
    proposal = propose_referrals(store=store, region="620822", as_of=D(2024, 6, 1))
    assert sorted(r.id_number for r in proposal.referrals) == sorted(p.id_number for p in people[:2])
    assert sorted((u.id_number, u.reason_code) for u in proposal.unassigned) == sorted(
        (p.id_number, "NO_ROOM") for p in people[2:4])
    assert all(u.risk_score < r.risk_score for u in proposal.unassigned for r in proposal.referrals)
    assert proposal.summary.model_dump() == {"needs": 5, "referred": 2, "designated": 2, "unassigned": 3,
                                             "no_offer": 1, "no_room": 2}


def test_confirming_rechecks_the_rules_names_the_refused_and_twice_is_once(region, tmp_path):
    store, people, centre, club = region
    proposal = propose_referrals(store=store, region="620822", as_of=D(2024, 6, 1))
    proposal.write(tmp_path / "p.json")
    again = ReferralProposal.read(tmp_path / "p.json")
    # meanwhile a newcomer of V2 is referred with H3's person, and the centre is full
    newcomer = person("H3", id_number=id_number(born=D(1965, 1, 1)))
    upsert_persons(store=store, persons=[newcomer])
    record_needs(store=store, needs=[Need(id_number=newcomer.id_number, service_code="KF01", assessed_on=D(2024, 5, 1))])
    other = propose_referrals(store=store, region=V2, as_of=D(2024, 6, 1))
    assert sorted(r.id_number for r in other.referrals) == sorted([people[3].id_number, newcomer.id_number])
    assert len(confirm_referrals(store=store, proposal=other, made_by="organiser").made) == 2
    result = confirm_referrals(store=store, proposal=again, made_by="organiser")
    assert len(result.made) == 2  # the two V1 persons sent to the club
    assert sorted(e.code for _, e in result.refused) == ["OFFER_FULL", "REFERRAL_OPEN"]
    twice = confirm_referrals(store=store, proposal=again, made_by="organiser")
    assert twice.made == [] and sorted(twice.unchanged) == sorted(r.need_id for r in result.made)
    made = store.read(lambda tx: referrals_in(tx, [p.id_number for p in [*people, newcomer]]))
    assert sum(len(v) for v in made.values()) == 4 and all(r.proposal_id for v in made.values() for r in v)
    with pytest.raises(Exception) as unknown:
        confirm_referrals(store=store, proposal=again, made_by="organiser", only=["nonesuch"])
    assert getattr(unknown.value, "code", "") == "INVALID_VALUE"


def test_a_file_that_still_lists_the_needs_without_an_offer_reads_and_confirms(region, tmp_path):
    store, people, centre, club = region
    proposal = propose_referrals(store=store, region="620822", as_of=D(2024, 6, 1))
    data = json.loads(proposal.model_dump_json())
    del data["no_offer"], data["deserts"]
    data["unassigned"] = [{"need_id": "x", "id_number": people[4].id_number, "household_no": "H3", "region_code": V2,
                           "category": "托养", "risk_score": 0, "risk_level": "低", "reason": "没有覆盖该村的有效服务供给",
                           "reason_code": "NO_OFFER"}]
    (tmp_path / "old.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    old = ReferralProposal.read(tmp_path / "old.json")
    assert old.no_offer == [] and old.unassigned[0].reason_code == "NO_OFFER"
    assert len(confirm_referrals(store=store, proposal=old, made_by="organiser").made) == 4


def test_the_cli_proposes_and_confirms_referrals(engine, store, region, tmp_path):
    store_, people, centre, club = region
    location = store.location
    if engine == "embedded":
        store.close()
    runner = CliRunner()
    out = tmp_path / "r.json"
    made = runner.invoke(app, ["match", "referrals", "--region", "620822", "--out", str(out), "--store", location])
    assert made.exit_code == 0, made.output
    assert "转介 referred 4" in made.output
    said = " ".join(made.output.split())  # the console wraps long lines
    assert "by category: 托养 1" in said and "jiedui report service-deserts --region 620822000000" in said
    written = ReferralProposal.read(out)
    assert written.unassigned == [] and [(r.category, r.needs) for r in written.no_offer] == [("托养", 1)]
    confirmed = runner.invoke(app, ["match", "confirm", str(out), "--store", location])
    assert confirmed.exit_code == 0 and "已转介 referred: 4" in confirmed.output
    again = runner.invoke(app, ["match", "confirm", str(out), "--store", location])
    assert again.exit_code == 0 and "无需变更 unchanged: 4" in again.output
    out.write_text('{"kind": "referrals", "id": 1}', encoding="utf-8")
    broken = runner.invoke(app, ["match", "confirm", str(out), "--store", location])
    assert broken.exit_code == 2 and "转介方案" in broken.output


def _outcome(tx, region: str, day: dt.date, in_store: bool):
    """The waiting needs an offer reaches (need ids) and those counted per township and category,
    as the proposal splits them, with the split itself."""
    split = waiting_needs(tx, region, day, in_store=in_store)
    reached, counted = [], {}
    for e in waiting(split.facts, day):
        village = split.facts.persons[e.id_number].region_code
        if split.facts.offers_covering(village, e.category, day, e.service_code):
            reached.append(e.need_id)
        elif e.id_number not in split.counted:
            counted[region_parent(village), e.category] = counted.get((region_parent(village), e.category), 0) + 1
    for (village, category), n in split.no_offer.items():
        counted[region_parent(village), category] = counted.get((region_parent(village), category), 0) + n
    return sorted(reached), counted, split


@pytest.mark.parametrize("seed", [1, 2])
def test_the_store_counts_the_needs_the_full_read_finds(store, seed):
    """On invented villages, the waiting needs the store counts and those of the persons it names
    are, need by need and per township and category, those of the full read, on several days."""
    data = synth.generate("tiny", seed=seed, as_of=D(2024, 12, 31))
    synth.load(store, data)
    county = next(r.code for r in data.regions if r.level.value == "county")[:6]
    for day, region in ((D(2024, 12, 31), county), (D(2024, 7, 1), county[:2]), (D(2024, 1, 1), county)):
        reached, counted, split = store.read(lambda tx: _outcome(tx, region, day, True))
        assert (reached, counted) == store.read(lambda tx: _outcome(tx, region, day, False))[:2], day
        assert counted and split.no_offer, day


_SUBJECTS = ("KF01", "KF02", "KF09", "FJ01", "TY01", "康复", "辅具", "托养")


@pytest.mark.parametrize("seed", range(4))
def test_the_store_counts_as_the_full_read_on_every_kind_of_person(store, seed):
    """Invented persons with registry needs or none; no assessment, one or several (of a service or
    a whole category, confirming, met or no longer needed, superseding one another); deliveries
    before and after their needs' confirmation (counting, 未完成, or of a service that does not
    count); referrals open, withdrawn or made after the day; offers of a service over a village,
    a township or the county, one ended and one not yet begun. On each of three days the store's
    counts and the persons it names add up to the full read's needs, need by need; and the store
    did count some and name some of each kind."""
    rng = random.Random(seed)
    villages = ("620822100201", "620822100202", "620822101203")
    upsert_service_types(store=store, types=[ServiceType(code="KF09", name="康复咨询", category="康复",
                                                         unit=ServiceUnit.SESSION, time_limit=30, counts=False)])
    upsert_households(store=store, households=[household(f"R{i}", v) for i, v in enumerate(villages * 2)])
    people = [person(f"R{rng.randrange(6)}", id_number=id_number(born=D(1950 + i % 50, 1 + i % 12, 1)),
                     needs=rng.sample(["康复", "辅具", "托养"], rng.choice([0, 1, 1, 2])))
              for i in range(90)]
    upsert_persons(store=store, persons=people)

    def day_in(start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=rng.randrange((end - start).days + 1))

    needs = {}
    for p in people:
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3])):
            subject = rng.choice(_SUBJECTS)
            need = Need(id_number=p.id_number, assessed_on=day_in(D(2023, 6, 1), D(2024, 12, 31)),
                        status=rng.choice(["已确认", "已确认", "已确认", "已满足", "不再需要"]),
                        **({"category": subject} if subject in ("康复", "辅具", "托养") else {"service_code": subject}))
            needs[need.need_id] = need
    record_needs(store=store, needs=list(needs.values()))
    record_deliveries(store=store, deliveries=[
        Delivery(id_number=p.id_number, service_code=rng.choice(["KF01", "KF02", "KF09", "FJ01", "TY01"]),
                 delivered_on=day_in(D(2023, 6, 1), D(2024, 12, 31)), dept=ServiceDept.DPF,
                 outcome=rng.choice(["完成", "完成", "进行中", "未完成"]))
        for p in people for _ in range(rng.choice([0, 1, 1, 2]))])
    need_ids = {p.id_number: [registry_need_id(p.id_number, c) for c in p.needs] for p in people}
    for n in needs.values():
        need_ids[n.id_number].append(n.need_id)
    refer_many(store=store, requests=[  # a need not open on the day asked is refused: left out
        ReferralRequest(id_number=number, need_id=rng.choice(ids), provider_dept=ServiceDept.DPF, made_by="organiser",
                        made_on=day_in(D(2024, 1, 1), D(2024, 12, 31)))
        for number, ids in need_ids.items() if ids and rng.random() < 0.4])
    made = [r for rs in store.read(lambda tx: referrals_in(tx, [p.id_number for p in people])).values() for r in rs]
    for r in made[::3]:
        withdraw_referral(store=store, referral_id=r.referral_id, reason=ReferralReason.OTHER,
                          on=max(r.made_on, D(2024, 9, 1)))
    orgs = [org() for _ in range(4)]
    upsert_orgs(store=store, orgs=orgs)
    upsert_offers(store=store, offers=[
        Offer(uscc=orgs[0].uscc, service_code="KF01", region_code="620822100000"),
        Offer(uscc=orgs[1].uscc, service_code="FJ01", region_code=villages[2], capacity=3),
        Offer(uscc=orgs[2].uscc, service_code="TY01", region_code="620822000000", valid_to=D(2024, 6, 1)),
        Offer(uscc=orgs[3].uscc, service_code="KF02", region_code=villages[1], valid_from=D(2024, 8, 1)),
    ])
    for day in (D(2024, 3, 1), D(2024, 7, 1), D(2024, 12, 31)):
        reached, counted, split = store.read(lambda tx: _outcome(tx, "620822", day, True))
        assert (reached, counted) == store.read(lambda tx: _outcome(tx, "620822", day, False))[:2], day
        assert reached and sum(split.no_offer.values()) > 0 and split.counted, day
        assessed = {p.id_number: sum(n.id_number == p.id_number and n.assessed_on <= day for n in needs.values())
                    for p in people}
        assert any(assessed[k] >= 2 for k in split.facts.persons) and any(assessed[k] == 0 for k in split.counted)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_needs_no_offer_covers_are_counted_per_township_and_the_rest_are_in_the_flow(store, seed):
    """On invented villages: every waiting need of the full read is either referred, listed as
    NO_ROOM (an active offer of its service covers its village) or counted in its township and
    category as NO_OFFER (none does), each exactly once."""
    data = synth.generate("tiny", seed=seed, as_of=D(2024, 12, 31))
    synth.load(store, data)
    county = next(r.code for r in data.regions if r.level.value == "county")[:6]
    day = D(2024, 7, 1)  # on the last day no waiting need of the invented data has an offer

    def reference(tx):
        facts = waiting_needs(tx, county, day, in_store=False).facts
        reached, counted = set(), {}
        for e in waiting(facts, day):
            village = facts.persons[e.id_number].region_code
            if facts.offers_covering(village, e.category, day, e.service_code):
                reached.add(e.need_id)
            else:
                key = (village[:9] + "000", e.category)
                counted[key] = counted.get(key, 0) + 1
        return reached, counted

    reached, counted = store.read(reference)
    proposal = propose_referrals(store=store, region=county, as_of=day)
    listed = [r.need_id for r in proposal.referrals] + [u.need_id for u in proposal.unassigned]
    assert sorted(listed) == sorted(reached) and reached
    assert {(r.region_code, r.category): r.needs for r in proposal.no_offer} == counted and counted
    assert proposal.summary.no_offer == sum(counted.values())
    assert proposal.summary.needs == len(reached) + sum(counted.values())
    assert all(r.region_name and r.region_name != r.region_code for r in proposal.no_offer)  # named
