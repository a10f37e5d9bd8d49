"""A process the crash tests kill with SIGKILL in the middle of its work.

    python crash_worker.py import STORE FOLDER      # import the contract files in FOLDER
    python crash_worker.py ledger STORE N           # record N ledger entries, one transaction each
    python crash_worker.py confirm STORE PROPOSAL   # confirm a matching proposal
    python crash_worker.py paid STORE N:SEED        # record N aid entries with amounts (concurrency tests)
    python crash_worker.py members STORE N:SEED     # move and regrade persons among a few households N times

Every write the store acknowledged is printed as ``ACK <key>`` (flushed) right after it returns,
so the test knows what must survive the kill.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from graph_schema.enums import LedgerKind  # noqa: E402
from graph_schema.ledger.models import LedgerEntry  # noqa: E402
from graph_schema.ledger.service import log_entry  # noqa: E402
from graph_schema.store import open_store  # noqa: E402
from importers.engine import run_import  # noqa: E402
from matching.proposal import Proposal  # noqa: E402
from matching.service import confirm  # noqa: E402


def ack(key: str) -> None:
    print(f"ACK {key}", flush=True)


def record_paid(store, n: int, seed: int) -> None:
    """``n`` 资助 entries of random amounts on random paired households, each acknowledged as
    ``ACK entry_id:amount``; a refused one (none expected) is printed as ``REFUSED``."""
    import random

    from graph_schema.errors import JieduiError

    rng = random.Random(seed)
    pairs = store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
                        "RETURN c.cadre_no AS c, h.household_no AS hh ORDER BY hh")
    for i in range(n):
        pair = rng.choice(pairs)
        amount = rng.randint(1, 500_000)
        entry = LedgerEntry(entry_date=dt.date.today(), household_no=pair["hh"], cadre_no=pair["c"],
                            kind=LedgerKind.AID, amount_fen=amount, note=f"concurrent {seed}-{i}")
        try:
            ack(f"{log_entry(store=store, entry=entry)}:{amount}")
        except JieduiError as exc:
            print(f"REFUSED {exc.code}", flush=True)


#: the households the member writes of every client move persons among (the first of the store)
MEMBER_HOUSEHOLDS = 6


def move_members(store, n: int, seed: int) -> None:
    """``n`` writes of one or two persons each, all within the first :data:`MEMBER_HOUSEHOLDS`
    households: a person moved to another of them, or regraded, or both (so that concurrent
    clients change the same households' member counts). Each is acknowledged as ``ACK members``."""
    import random

    from graph_schema.enums import DisabilityGrade
    from graph_schema.household.service import members_in, upsert_persons

    rng = random.Random(seed)
    households = [r["no"] for r in store.query("MATCH (h:Household) RETURN h.household_no AS no ORDER BY no LIMIT $n",
                                              {"n": MEMBER_HOUSEHOLDS})]
    for _ in range(n):
        found = [p for ps in store.read(lambda tx: members_in(tx, households)).values() for p in ps]
        if not found:
            return
        chosen = {p.id_number: p for p in rng.sample(found, min(len(found), rng.randint(1, 2)))}.values()
        changed = []
        for p in chosen:
            grade = DisabilityGrade(rng.randint(1, 4))
            changed.append(p.model_copy(update={"household_no": rng.choice(households), "grade": grade,
                                                "cert_no": f"{p.cert_no[:19]}{int(grade)}"}))
        upsert_persons(store=store, persons=changed)
        ack("members")


def main() -> None:
    scenario, target, arg = sys.argv[1:4]
    store = open_store(target)
    print("READY", flush=True)
    if scenario == "import":
        run_import(store, [Path(arg)])
        ack("import")
    elif scenario == "ledger":
        pairs = store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
                            "RETURN c.cadre_no AS c, h.household_no AS hh ORDER BY hh LIMIT 200")
        day = dt.date.today()
        for i in range(int(arg)):
            pair = pairs[i % len(pairs)]
            entry = LedgerEntry(entry_date=day, household_no=pair["hh"], cadre_no=pair["c"],
                                kind=LedgerKind.CONTACT, note=f"crash-test {i}")
            ack(log_entry(store=store, entry=entry))
    elif scenario == "paid":
        record_paid(store, *map(int, arg.split(":")))
    elif scenario == "members":
        move_members(store, *map(int, arg.split(":")))
    elif scenario == "confirm":
        result = confirm(store=store, proposal=Proposal.read(Path(arg)))
        for pairing in result.confirmed:
            ack(pairing.household_no)
    store.close()


if __name__ == "__main__":
    main()
