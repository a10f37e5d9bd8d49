"""Concurrent pairings leave exactly one winner and a typed error for the others, and concurrent
person writes into the same households leave every household's kept member counts exact (and,
with household writes beside them, its kept priority flag), concurrent ledger writes and moves the
ledger's sums, as
concurrent pairing, ending and cadre writes leave its kept pairing counts, on both engines (threads sharing the embedded store; separate connection pools on Neo4j)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from factories import OTHER_COUNTY_VILLAGE, VILLAGE, cadre, household, id_number, person
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import CadreAtLimit, CadreNotOnDuty, HouseholdAlreadyPaired, JieduiError
from graph_schema.household.service import members_in, upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.pairing.flows import transfer
from graph_schema.pairing.service import end_pairing, pair
from graph_schema.store.counts import miscounted
from graph_schema.store import ledger_sums, paired
from graph_schema.store.paired import mispaired

ROUNDS = 5
D = dt.date(2024, 3, 1)


def race(calls) -> tuple[list, list[Exception]]:
    """Run the calls at the same moment; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors, lock = [], [], threading.Lock()

    def run(call):
        barrier.wait()
        try:
            value = call()
            with lock:
                results.append(value)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def active_count(store, where: str, key: str) -> int:
    return store.query(f"MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE {where} AND p.ended_on IS NULL "
                       "RETURN count(p) AS n", {"key": key})[0]["n"]


def test_two_pairings_of_one_household_leave_one_winner(store, other_client):
    clients = [store, other_client()]
    upsert_households(store=store, households=[household(f"H{r}") for r in range(ROUNDS)])
    upsert_cadres(store=store, cadres=[cadre(f"A{r}") for r in range(ROUNDS)] + [cadre(f"B{r}") for r in range(ROUNDS)])
    for r in range(ROUNDS):
        results, errors = race([
            lambda c=clients[0], r=r: pair(store=c, household_no=f"H{r}", cadre_no=f"A{r}", started_on=D),
            lambda c=clients[1], r=r: pair(store=c, household_no=f"H{r}", cadre_no=f"B{r}", started_on=D),
        ])
        assert len(results) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], HouseholdAlreadyPaired), errors
        assert active_count(store, "h.household_no = $key", f"H{r}") == 1


def test_two_pairings_that_would_overfill_a_cadre_leave_one_winner(store, other_client):
    clients = [store, other_client()]
    upsert_households(store=store, households=[household(f"H{i}") for i in range(2 * ROUNDS + ROUNDS)])
    upsert_cadres(store=store, cadres=[cadre(f"C{r}", pair_limit=2) for r in range(ROUNDS)])
    for r in range(ROUNDS):
        pair(store=store, household_no=f"H{2 * ROUNDS + r}", cadre_no=f"C{r}", started_on=D)  # one place left
        results, errors = race([
            lambda c=clients[0], r=r: pair(store=c, household_no=f"H{2 * r}", cadre_no=f"C{r}", started_on=D),
            lambda c=clients[1], r=r: pair(store=c, household_no=f"H{2 * r + 1}", cadre_no=f"C{r}", started_on=D),
        ])
        assert len(results) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], CadreAtLimit), errors
        assert active_count(store, "c.cadre_no = $key", f"C{r}") == 2


def test_a_transfer_racing_a_pairing_never_overfills_the_target(store, other_client):
    clients = [store, other_client()]
    upsert_households(store=store, households=[household(f"H{i}") for i in range(3 * ROUNDS)])
    upsert_cadres(store=store, cadres=[cadre(f"OLD{r}") for r in range(ROUNDS)] +
                  [cadre(f"NEW{r}", pair_limit=1) for r in range(ROUNDS)])
    for r in range(ROUNDS):
        pair(store=store, household_no=f"H{3 * r}", cadre_no=f"OLD{r}", started_on=D)
        results, errors = race([
            lambda c=clients[0], r=r: transfer(store=c, household_no=f"H{3 * r}", cadre_no=f"NEW{r}", on=D),
            lambda c=clients[1], r=r: pair(store=c, household_no=f"H{3 * r + 1}", cadre_no=f"NEW{r}", started_on=D),
        ])
        assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], CadreAtLimit), errors
        assert active_count(store, "c.cadre_no = $key", f"NEW{r}") == 1
        # whichever lost, the transferred household still has exactly one active pairing
        assert active_count(store, "h.household_no = $key", f"H{3 * r}") == 1


@pytest.mark.parametrize("writers", [4])
def test_many_writers_on_many_households_keep_every_invariant(store, other_client, writers):
    clients = [store] + [other_client() for _ in range(writers - 1)]
    upsert_households(store=store, households=[household(f"H{i}") for i in range(12)])
    upsert_cadres(store=store, cadres=[cadre(f"C{i}", pair_limit=2) for i in range(3)])
    calls = [lambda c=clients[w % writers], h=h, k=k: pair(store=c, household_no=f"H{h}", cadre_no=f"C{k}",
                                                         started_on=D)
             for w, (h, k) in enumerate((h, k) for h in range(12) for k in range(3))]
    results, errors = race(calls)
    assert all(isinstance(e, JieduiError) for e in errors), errors
    assert len(results) == 6  # three cadres with two places each
    per_household = store.query("MATCH (:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
                                "RETURN h.household_no AS no, count(p) AS n")
    per_cadre = store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(:Household) WHERE p.ended_on IS NULL "
                            "RETURN c.cadre_no AS no, count(p) AS n")
    assert all(r["n"] == 1 for r in per_household) and sum(r["n"] for r in per_household) == 6
    assert all(r["n"] <= 2 for r in per_cadre)


@pytest.mark.parametrize("writers", [4])
def test_concurrent_person_writes_into_the_same_households_keep_the_counts_exact(store, other_client, writers):
    """Writers add persons to, move persons between and regrade persons of the same three
    households at once; every write is acknowledged, and each household's kept counts are then
    those of its members."""
    clients = [store] + [other_client() for _ in range(writers - 1)]
    homes = ["H0", "H1", "H2"]
    upsert_households(store=store, households=[household(h) for h in homes])
    ids = [[id_number() for _ in range(3)] for _ in range(writers)]  # each writer's own persons

    def writes(w: int) -> None:
        c = clients[w]
        for step in range(6):  # the same three persons again and again: new, then moved and regraded
            c_homes = [homes[(w + step + i) % 3] for i in range(3)]
            upsert_persons(store=c, persons=[person(h, grade=1 + (w + step + i) % 4, id_number=ids[w][i])
                                             for i, h in enumerate(c_homes)])

    for _ in range(ROUNDS):
        results, errors = race([lambda w=w: writes(w) for w in range(writers)])
        assert errors == [] and len(results) == writers
        assert store.read(miscounted) == []
    members = store.read(lambda tx: members_in(tx, homes))
    assert sum(len(ps) for ps in members.values()) == 3 * writers
    kept = {r["no"]: (r["d"], r["s"]) for r in store.query(
        "MATCH (h:Household) RETURN h.household_no AS no, h.disabled_count AS d, h.severe_count AS s")}
    assert kept == {h: (len(ps), sum(1 for p in ps if int(p.grade) <= 2)) for h, ps in members.items()}


@pytest.mark.parametrize("writers", [4])
def test_concurrent_household_and_person_writes_keep_the_priority_flags_exact(store, other_client, writers):
    """Half the writers change the 特困 and 以老养残 of the same three households, the other half
    add, move and regrade their members, all at once; each household's kept priority flag is then
    the rule's over its facts and members as they ended."""
    clients = [store] + [other_client() for _ in range(writers - 1)]
    homes = ["H0", "H1", "H2"]
    upsert_households(store=store, households=[household(h) for h in homes])
    ids = [[id_number() for _ in range(2)] for _ in range(writers)]

    def writes(w: int) -> None:
        c = clients[w]
        for step in range(6):
            if w % 2:  # the households' own facts
                upsert_households(store=c, households=[household(h, tekun=(w + step + i) % 3 == 0,
                                                                 elderly_carer=(w + step + i) % 4 == 0)
                                                       for i, h in enumerate(homes)])
            else:  # their members: one severe person at times, and moves
                upsert_persons(store=c, persons=[person(homes[(w + step + i) % 3], grade=1 + (w + step + i) % 4,
                                                        id_number=ids[w][i]) for i in range(2)])

    for _ in range(ROUNDS):
        results, errors = race([lambda w=w: writes(w) for w in range(writers)])
        assert errors == [] and len(results) == writers
        assert store.read(miscounted) == []  # the flags as well as the counts
    members = store.read(lambda tx: members_in(tx, homes))
    facts = {r["no"]: r for r in store.query("MATCH (h:Household) RETURN h.household_no AS no, h.tekun AS t, "
                                             "h.elderly_carer AS e, h.priority AS p")}
    for h, ps in members.items():
        severe = sum(1 for p in ps if int(p.grade) <= 2)
        assert facts[h]["p"] is bool(facts[h]["t"] or facts[h]["e"] or severe or len(ps) >= 2)


@pytest.mark.parametrize("writers", [4])
def test_concurrent_ledger_writes_and_moves_keep_the_ledger_sums_exact(store, other_client, writers):
    """Writers record entries, each for a household of its own, on the same days (so into the same
    sums: the household locks do not keep them apart), while one moves those households from county
    to county; every write is acknowledged, and the sums are then the entries'
    (graph_schema/store/ledger_sums.py)."""
    clients = [store] + [other_client() for _ in range(writers)]
    homes = [f"H{w}" for w in range(writers)]
    villages = [VILLAGE, OTHER_COUNTY_VILLAGE]
    upsert_households(store=store, households=[household(h) for h in homes])
    upsert_cadres(store=store, cadres=[cadre("C1")])

    def entries(w: int, r: int) -> None:
        for step in range(4):
            log_entries(store=clients[w], entries=[
                LedgerEntry(entry_date=D + dt.timedelta(days=i), household_no=homes[w], cadre_no="C1", kind="资助",
                            amount_fen=100 * (w + 1), note=f"{r}-{w}-{step}-{i}") for i in range(2)])

    def moves(r: int) -> None:
        for step in range(4):
            upsert_households(store=clients[writers], households=[
                household(h, villages[(r + step + i) % 2]) for i, h in enumerate(homes[::2])])

    for r in range(ROUNDS):
        results, errors = race([lambda w=w, r=r: entries(w, r) for w in range(writers)] + [lambda r=r: moves(r)])
        assert errors == [] and len(results) == writers + 1
        assert store.read(ledger_sums.wrong) == []
    assert store.query("MATCH ()-[e:ASSISTED]->() RETURN count(e) AS n")[0]["n"] == ROUNDS * writers * 4 * 2


@pytest.mark.parametrize("writers", [4])
def test_concurrent_pairing_and_cadre_writes_keep_the_pairing_counts_exact(store, other_client, writers):
    """Writers pair, end and transfer the same six households while others take their cadres off
    duty and back at once; whatever each write's outcome, every household's kept pairing counts
    are then those of its pairings."""
    clients = [store] + [other_client() for _ in range(writers)]
    homes = [f"H{i}" for i in range(6)]
    upsert_households(store=store, households=[household(h) for h in homes])
    upsert_cadres(store=store, cadres=[cadre(f"C{i}", pair_limit=6) for i in range(3)])

    def pairing(w: int, step: int) -> None:
        c, h, k = clients[w], homes[(w + step) % 6], f"C{(w + step) % 3}"
        for call in (lambda: pair(store=c, household_no=h, cadre_no=k, started_on=D),
                     lambda: transfer(store=c, household_no=h, cadre_no=f"C{(w + step + 1) % 3}", on=D),
                     lambda: end_pairing(store=c, household_no=h, reason="调整", ended_on=D)):
            try:
                call()
            except JieduiError:
                pass  # refused by a rule (already paired, none to end …): nothing written

    def duty(w: int, step: int) -> None:
        upsert_cadres(store=clients[w], cadres=[cadre(f"C{i}", pair_limit=6, on_duty=(step + i) % 2 == 0)
                                                 for i in range(3)])

    def writes(w: int) -> None:
        for step in range(4):
            (duty if w == writers else pairing)(w, step)

    for _ in range(ROUNDS):
        results, errors = race([lambda w=w: writes(w) for w in range(writers + 1)])
        assert errors == [] and len(results) == writers + 1
        assert store.read(mispaired) == []


def test_a_pairing_asked_while_its_cadre_goes_off_duty_waits_and_is_refused(store, other_client, monkeypatch):
    """The cadre write holds the cadre from before it reads the households of its pairings until it
    commits: a pairing with that cadre asked meanwhile (here, while the write pauses after its
    read) waits, then finds the cadre off duty, and no household is left counted as paired."""
    upsert_households(store=store, households=[household("H0"), household("H1")])
    upsert_cadres(store=store, cadres=[cadre("C")])
    pair(store=store, household_no="H0", cadre_no="C", started_on=D)
    real, read = paired.households_of_cadres, threading.Event()

    def slow(tx, cadre_nos):
        found = real(tx, cadre_nos)
        read.set()
        time.sleep(1.0)
        return found

    monkeypatch.setattr(paired, "households_of_cadres", slow)
    leaving = threading.Thread(target=lambda: upsert_cadres(store=store, cadres=[cadre("C", on_duty=False)]))
    leaving.start()
    assert read.wait(30)
    with pytest.raises(CadreNotOnDuty):
        pair(store=other_client(), household_no="H1", cadre_no="C", started_on=D)
    leaving.join(60)
    assert store.read(mispaired) == []
