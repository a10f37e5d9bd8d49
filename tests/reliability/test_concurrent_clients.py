"""Concurrent clients on one store: threads on the embedded engine (one process opens it),
separate processes on Neo4j. They confirm overlapping proposals, pair the same households by hand
and record aid at once, while others move and regrade the members of the same few households;
after every round the invariants hold: at most one active 一对一 pairing per household, no cadre
above their limit, every household's kept member counts equal to its members, and the ledger's
total equals the sum of the acknowledged writes. ``JIEDUI_CONCURRENCY_ROUNDS`` rounds (default 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from graph_schema.errors import JieduiError
from graph_schema.ledger.service import log_entry
from graph_schema.pairing.service import pair
from graph_schema.store import GraphStore
from importers import synth_files
from importers.engine import run_import
from matching.candidates import Reach
from matching.proposal import Proposal
from matching.service import confirm, propose
from crash_worker import move_members
from test_crash import WORKER, broken

pytestmark = pytest.mark.reliability
ROUNDS = int(os.environ.get("JIEDUI_CONCURRENCY_ROUNDS", "3"))
CLIENTS = 4
AID_PER_CLIENT = 40
MEMBER_WRITES = 15  # per client and round


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    synth_files.synth_to_dir("tiny", 2, folder)
    return folder


def _proposals(store: GraphStore, folder: Path) -> list[Path]:
    """Two proposals for the same county that overlap: township reach and village reach."""
    county = store.query("MATCH (r:Region) WHERE r.level = 'county' RETURN r.code AS c LIMIT 1")[0]["c"]
    paths = []
    for reach in (Reach.TOWNSHIP, Reach.VILLAGE):
        path = folder / f"proposal-{reach.name.lower()}.json"
        propose(store=store, region=county, reach=reach).write(path)
        paths.append(path)
    return paths


def _aid_total(store: GraphStore) -> int:
    return store.query("MATCH ()-[e:ASSISTED]->() WHERE e.note STARTS WITH 'concurrent' "
                       "RETURN coalesce(sum(e.amount_fen), 0) AS n")[0]["n"]


def _unpaired(store: GraphStore) -> list[tuple[str, str]]:
    """Households without an active pairing and an on-duty cadre of their village, for hand pairing."""
    rows = store.query("MATCH (h:Household) OPTIONAL MATCH (:Cadre)-[p:PAIRED_WITH]->(h) WHERE p.ended_on IS NULL "
                       "WITH h, count(p) AS n WHERE n = 0 RETURN h.household_no AS hh ORDER BY hh LIMIT 20")
    cadres = store.query("MATCH (c:Cadre) WHERE c.on_duty = true RETURN c.cadre_no AS cc ORDER BY cc LIMIT 5")
    return [(r["hh"], cadres[i % len(cadres)]["cc"]) for i, r in enumerate(rows)] if cadres else []


def test_concurrent_clients_keep_every_invariant(engine, store, request, small_files, tmp_path):
    run_import(store, [small_files])
    proposals = _proposals(store, tmp_path)
    hand_pairs = _unpaired(store)
    expected_total = 0
    for round_no in range(ROUNDS):
        if engine == "embedded":
            acked = _threads(store, proposals, hand_pairs, round_no)
        else:
            acked = _processes(request.getfixturevalue("neo4j_uri"), store, proposals, hand_pairs, round_no)
        expected_total += sum(acked)
        assert broken(store) == {}, f"round {round_no}"
        assert _aid_total(store) == expected_total, f"round {round_no}: ledger total differs from the acknowledged sum"


def _threads(store: GraphStore, proposals: list[Path], hand_pairs, round_no: int) -> list[int]:
    """The clients as threads sharing the embedded store; the amounts acknowledged."""
    from graph_schema.enums import LedgerKind
    from graph_schema.ledger.models import LedgerEntry
    import datetime as dt
    import random

    amounts: list[int] = []
    lock = threading.Lock()
    pairs = store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
                        "RETURN c.cadre_no AS c, h.household_no AS hh ORDER BY hh")

    def client(k: int) -> None:
        rng = random.Random(round_no * 10 + k)
        barrier.wait()
        try:
            confirm(store=store, proposal=Proposal.read(proposals[k % 2]))
        except JieduiError:
            pass
        for household_no, cadre_no in hand_pairs:
            try:
                pair(store=store, household_no=household_no, cadre_no=cadre_no)
            except JieduiError:
                pass
        for i in range(AID_PER_CLIENT):
            p = rng.choice(pairs)
            amount = rng.randint(1, 500_000)
            log_entry(store=store, entry=LedgerEntry(
                entry_date=dt.date.today(), household_no=p["hh"], cadre_no=p["c"], kind=LedgerKind.AID,
                amount_fen=amount, note=f"concurrent {round_no}-{k}-{i}"))
            with lock:
                amounts.append(amount)

    def mover(k: int) -> None:
        barrier.wait()
        try:
            move_members(store, MEMBER_WRITES, round_no * 10 + k)
        except Exception as exc:  # noqa: BLE001 - asserted below: every member write must succeed
            failures.append(exc)

    barrier = threading.Barrier(2 * CLIENTS)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    threads += [threading.Thread(target=mover, args=(k,)) for k in range(CLIENTS)]
    failures: list[Exception] = []
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    return amounts


def _processes(uri: str, store: GraphStore, proposals: list[Path], hand_pairs, round_no: int) -> list[int]:
    """The clients as processes, each with its own driver: half confirm a proposal, all record aid."""
    workers = []
    for k in range(CLIENTS):
        workers.append(subprocess.Popen([sys.executable, str(WORKER), "confirm", uri, str(proposals[k % 2])],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        workers.append(subprocess.Popen([sys.executable, str(WORKER), "paid", uri,
                                         f"{AID_PER_CLIENT}:{round_no * 10 + k}"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        workers.append(subprocess.Popen([sys.executable, str(WORKER), "members", uri,
                                         f"{MEMBER_WRITES}:{round_no * 10 + k}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for household_no, cadre_no in hand_pairs:  # this process pairs by hand meanwhile
        try:
            pair(store=store, household_no=household_no, cadre_no=cadre_no)
        except JieduiError:
            pass
    amounts = []
    for w in workers:
        out, _ = w.communicate(timeout=300)
        assert w.returncode == 0, "a client process failed"
        amounts += [int(line.rsplit(":", 1)[1]) for line in (out or "").splitlines() if line.startswith("ACK ")]
    return amounts
