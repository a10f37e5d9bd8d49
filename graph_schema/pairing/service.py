"""The pairing lifecycle: pair, end, auxiliary pairing, and the history of both.

Rules, enforced inside the write transaction on both engines:
- a household has at most one active 一对一 pairing;
- a cadre never holds more active pairings than their 结对上限;
- a cadre who is not 在岗 takes no new pairing (imports may record existing ones as they stand);
- a pair on the exclusion list (回避名单: a relative, or excluded by the organiser) is refused;
- the household and the cadre (or organisation) must exist; dates are not in the future and an
  end is not before its start. Ended pairings stay as history, never deleted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.enums import PairingSource
from graph_schema.errors import (
    AlreadyAuxPaired,
    CadreAtLimit,
    CadreNotOnDuty,
    DateOrder,
    FutureDate,
    HouseholdAlreadyPaired,
    JieduiError,
    NoActivePairing,
    NotFound,
    PairExcluded,
    PairingRecorded,
)
from graph_schema.models import today
from graph_schema.pairing.exclusions import excluded_pairs_in
from graph_schema.pairing.models import AuxPairing, AuxPairRequest, Pairing, PairRequest
from graph_schema.records import BatchResult, Progress, fetch_by_keys, write_in_batches
from graph_schema.store import paired
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, chunks, grouped, keyed
from graph_schema.store.schema import AUX_PAIRED_WITH, CADRE, HOUSEHOLD, ORG, PAIRED_WITH

_PAIRING_COLUMNS = ("p.pairing_id AS pairing_id, h.household_no AS household_no, p.started_on AS started_on, "
                    "p.ended_on AS ended_on, p.end_reason AS end_reason, p.source AS source")
ACTIVE_BY_HOUSEHOLD = (
    "UNWIND $keys AS k MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household {household_no: k}) "
    f"WHERE p.ended_on IS NULL RETURN c.cadre_no AS cadre_no, p.proposal_id AS proposal_id, {_PAIRING_COLUMNS}"
)
ALL_BY_HOUSEHOLD = (
    "UNWIND $keys AS k MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household {household_no: k}) "
    "RETURN h.household_no AS household_no, c.cadre_no AS cadre_no, p.started_on AS started_on, "
    "p.ended_on AS ended_on"
)
LOAD_BY_CADRE = (
    "UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k})-[p:PAIRED_WITH]->(:Household) "
    "WHERE p.ended_on IS NULL RETURN k AS cadre_no, count(p) AS n"
)


def _not_future(field: str, day: dt.date) -> None:
    if day > today():
        raise FutureDate(field, day)


@dataclass
class PairingState:
    """What the pairing rules look at, loaded once for a batch and updated as it unfolds.

    Kept apart from the writes so an import's dry run can decide with the same rules: it loads
    the state from the store and adds the households and cadres of the import itself.
    """

    households: set[str]
    cadres: dict[str, dict]  # cadre_no -> {pair_limit, on_duty}
    existing: set[tuple[str, str, dt.date]] = field(default_factory=set)  # (household, cadre, start)
    active: dict[str, str] = field(default_factory=dict)  # household -> cadre
    load: Counter = field(default_factory=Counter)  # cadre -> active pairings
    excluded: set[tuple[str, str]] = field(default_factory=set)  # (household, cadre) on the 回避名单


def load_pairing_state(tx: Tx, requests: Sequence[PairRequest], *, lock: bool = True,
                       more_households: Sequence[str] = ()) -> PairingState:
    """The state the requests (and ``more_households``) touch; with ``lock``, their households and
    cadres are locked first."""
    household_nos = sorted({r.household_no for r in requests} | set(more_households))
    cadre_nos = sorted({r.cadre_no for r in requests})
    if lock:
        tx.lock(HOUSEHOLD, household_nos)
        tx.lock(CADRE, cadre_nos)
    households = set(fetch_by_keys(tx, HOUSEHOLD, household_nos, ["household_no"]))
    cadres = fetch_by_keys(tx, CADRE, cadre_nos, ["cadre_no", "pair_limit", "on_duty"])
    stored = [row for part in chunks(sorted(households), 20_000)
              for row in tx.run(ALL_BY_HOUSEHOLD, {"keys": list(part)})]
    load = Counter({row["cadre_no"]: row["n"] for part in chunks(sorted(cadres), 20_000)
                    for row in tx.run(LOAD_BY_CADRE, {"keys": list(part)})})
    return PairingState(
        households=households, cadres=cadres,
        existing={(row["household_no"], row["cadre_no"], row["started_on"]) for row in stored},
        active={row["household_no"]: row["cadre_no"] for row in stored if row["ended_on"] is None},
        load=load, excluded=excluded_pairs_in(tx, sorted(households)))


def decide_pairings(state: PairingState, requests: Sequence[PairRequest], *, offset: int = 0,
                    allow_off_duty: bool = False) -> tuple[list[Pairing], BatchResult]:
    """Apply the rules to the requests in order, updating ``state``; nothing is written.

    A request that names a pairing already stored (same household, cadre and start date) is
    ``unchanged``, so an import can be run twice. A request with ``ended_on`` records history: it
    needs both ends to exist and sane dates, and does not count against the active rules.
    """
    made: list[Pairing] = []
    result = BatchResult()
    for index, req in enumerate(requests):
        identity = (req.household_no, req.cadre_no, req.started_on)
        if identity in state.existing:
            result.unchanged.append(req.household_no)
            continue
        try:
            _check(req, state, allow_off_duty)
        except JieduiError as exc:
            result.errors.append((offset + index, exc))
            continue
        state.existing.add(identity)
        if req.ended_on is None:
            state.active[req.household_no] = req.cadre_no
            state.load[req.cadre_no] += 1
        made.append(Pairing(pairing_id=uuid.uuid4().hex, household_no=req.household_no, cadre_no=req.cadre_no,
                            started_on=req.started_on, ended_on=req.ended_on, end_reason=req.end_reason,
                            source=req.source, proposal_id=req.proposal_id))
        result.created.append(made[-1].pairing_id)
    return made, result


def pair_in(tx: Tx, requests: Sequence[PairRequest], *, offset: int = 0,
            allow_off_duty: bool = False) -> tuple[list[Pairing], BatchResult]:
    """Check and create pairings inside an open transaction (see :func:`decide_pairings`)."""
    state = load_pairing_state(tx, requests)
    made, result = decide_pairings(state, requests, offset=offset, allow_off_duty=allow_off_duty)
    tx.create_rels(PAIRED_WITH, CADRE, HOUSEHOLD, [
        {"src": p.cadre_no, "dst": p.household_no, **p.to_row()} for p in made
    ])
    paired.recount(tx, [p.household_no for p in made])  # locked by load_pairing_state
    return made, result


def _check(req: PairRequest, state: PairingState, allow_off_duty: bool) -> None:
    """The pairing rules, in the order a clerk would want to hear about them."""
    _not_future("开始日期", req.started_on)
    if req.household_no not in state.households:
        raise NotFound("家庭", "household", req.household_no)
    cadre, active, load = state.cadres.get(req.cadre_no), state.active, state.load
    if cadre is None:
        raise NotFound("干部", "cadre", req.cadre_no)
    if req.ended_on is not None:
        _not_future("结束日期", req.ended_on)
        _in_order(req.started_on, req.ended_on)
        return
    if not cadre["on_duty"] and not allow_off_duty:
        raise CadreNotOnDuty(req.cadre_no)
    if (req.household_no, req.cadre_no) in state.excluded:
        raise PairExcluded(req.household_no, req.cadre_no)
    if req.household_no in active:
        raise HouseholdAlreadyPaired(req.household_no, active[req.household_no])
    if load[req.cadre_no] >= cadre["pair_limit"]:
        raise CadreAtLimit(req.cadre_no, cadre["pair_limit"])


def _in_order(started_on: dt.date, ended_on: dt.date) -> None:
    if ended_on < started_on:
        raise DateOrder(f"结束日期 {ended_on} 早于开始日期 {started_on}",
                        f"end date {ended_on} is before the start date {started_on}")


def pair(*, store: GraphStore, household_no: str, cadre_no: str, started_on: dt.date | None = None,
         source: PairingSource = PairingSource.MANUAL, proposal_id: str | None = None) -> Pairing:
    """Pair one household with one cadre, or raise the typed error of the rule it breaks."""
    request = PairRequest(household_no=household_no, cadre_no=cadre_no, started_on=started_on or today(),
                          source=source, proposal_id=proposal_id)

    def work(tx: Tx) -> Pairing:
        made, result = pair_in(tx, [request])
        if result.errors:
            raise result.errors[0][1]
        if made:
            return made[0]
        current = active_in(tx, household_no)  # the same pairing is recorded: still active, or ended
        if current is None or (current.cadre_no, current.started_on) != (cadre_no, request.started_on):
            raise PairingRecorded(household_no, cadre_no, request.started_on)
        return current

    return store.write(work)


def pair_many(*, store: GraphStore, requests: Sequence[PairRequest], allow_off_duty: bool = False,
              progress: Progress | None = None) -> BatchResult:
    """The batch path: valid requests are written (10k per transaction), refused ones reported.

    ``allow_off_duty`` is for imports, which record pairings as they stand even when the cadre
    has since left (the household then counts as unpaired and the cadre is listed for reassignment).
    """
    return write_in_batches(
        store, requests, lambda tx, part, offset: pair_in(tx, part, offset=offset, allow_off_duty=allow_off_duty)[1],
        progress)


def end_in(tx: Tx, household_no: str, ended_on: dt.date, reason: str) -> Pairing:
    """End the household's active pairing inside an open transaction."""
    _not_future("结束日期", ended_on)
    if not tx.lock(HOUSEHOLD, [household_no]):
        raise NotFound("家庭", "household", household_no)
    current = active_in(tx, household_no)
    if current is None:
        raise NoActivePairing(household_no)
    _in_order(current.started_on, ended_on)
    tx.run("MATCH (:Cadre)-[p:PAIRED_WITH]->(h:Household {household_no: $h}) WHERE p.pairing_id = $id "
           "SET p.ended_on = $ended_on, p.end_reason = $reason",
           {"h": household_no, "id": current.pairing_id, "ended_on": ended_on, "reason": reason})
    paired.recount(tx, [household_no])
    return current.model_copy(update={"ended_on": ended_on, "end_reason": reason})


def end_pairing(*, store: GraphStore, household_no: str, reason: str, ended_on: dt.date | None = None) -> Pairing:
    """End the household's active one-to-one pairing; it stays in the history."""
    return store.write(lambda tx: end_in(tx, household_no, ended_on or today(), reason))


def pairings_in(tx: Tx, household_nos: Sequence[str]) -> dict[str, list[Pairing]]:
    """Every one-to-one pairing of each household, oldest first (callers scope the households)."""
    start, params = keyed(HOUSEHOLD, "h", household_nos)
    rows = tx.run(
        f"{start} {FROM_KEY} (c:Cadre)-[p:PAIRED_WITH]->(h) "
        f"RETURN c.cadre_no AS cadre_no, p.proposal_id AS proposal_id, {_PAIRING_COLUMNS} "
        "ORDER BY started_on, coalesce(ended_on, $open_end), pairing_id", params | {"open_end": dt.date.max})
    return grouped(household_nos, rows, "household_no", Pairing.from_row, present="pairing_id")


def pairing_history(*, store: GraphStore, household_no: str) -> list[Pairing]:
    """Every one-to-one pairing of a household, oldest first."""
    return store.read(lambda tx: pairings_in(tx, [household_no]))[household_no]


def cadre_households_in(tx: Tx, cadre_nos: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, list[str]]:
    """The households each cadre is paired with now, by 户编号, those in ``scope`` only."""
    start, params = keyed(CADRE, "c", cadre_nos)
    rows = tx.run(
        f"{start} {FROM_KEY} (c)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
        f"WITH c, h WHERE h IS NOT NULL WITH c, h{scope.households()} "
        "RETURN c.cadre_no AS cadre_no, h.household_no AS household_no ORDER BY household_no", params | scope.params)
    return grouped(cadre_nos, rows, "cadre_no", lambda r: r["household_no"])


def active_in(tx: Tx, household_no: str) -> Pairing | None:
    rows = tx.run(ACTIVE_BY_HOUSEHOLD, {"keys": [household_no]})
    return Pairing.from_row(rows[0]) if rows else None


def active_pairing(*, store: GraphStore, household_no: str) -> Pairing | None:
    """The household's active one-to-one pairing, if any."""
    return store.read(lambda tx: active_in(tx, household_no))


def cadre_load(*, store: GraphStore, cadre_nos: Sequence[str]) -> dict[str, int]:
    """Active one-to-one pairings per cadre (0 for a cadre with none)."""
    load = dict.fromkeys(cadre_nos, 0)
    for part in chunks(list(cadre_nos), 20_000):
        for row in store.query(LOAD_BY_CADRE, {"keys": list(part)}):
            load[row["cadre_no"]] = row["n"]
    return load


_AUX_ACTIVE = (
    "MATCH (o:Org {uscc: $uscc})-[p:AUX_PAIRED_WITH]->(h:Household {household_no: $h}) "
    f"WHERE p.ended_on IS NULL RETURN o.uscc AS uscc, {_PAIRING_COLUMNS}"
)
AUX_BY_HOUSEHOLD = (
    "UNWIND $keys AS k MATCH (o:Org)-[p:AUX_PAIRED_WITH]->(h:Household {household_no: k}) "
    "RETURN h.household_no AS household_no, o.uscc AS uscc, p.started_on AS started_on, p.ended_on AS ended_on"
)


@dataclass
class AuxState:
    """What the auxiliary pairing rules look at (see :class:`PairingState`)."""

    households: set[str]
    orgs: set[str]
    existing: set[tuple[str, str, dt.date]] = field(default_factory=set)  # (household, uscc, start)
    active: set[tuple[str, str]] = field(default_factory=set)  # (household, uscc)


def load_aux_state(tx: Tx, requests: Sequence[AuxPairRequest], *, lock: bool = True) -> AuxState:
    household_nos = sorted({r.household_no for r in requests})
    if lock:
        tx.lock(HOUSEHOLD, household_nos)
    households = set(fetch_by_keys(tx, HOUSEHOLD, household_nos, ["household_no"]))
    orgs = set(fetch_by_keys(tx, ORG, sorted({r.uscc for r in requests}), ["uscc"]))
    stored = [row for part in chunks(sorted(households), 20_000)
              for row in tx.run(AUX_BY_HOUSEHOLD, {"keys": list(part)})]
    return AuxState(households=households, orgs=orgs,
                    existing={(r["household_no"], r["uscc"], r["started_on"]) for r in stored},
                    active={(r["household_no"], r["uscc"]) for r in stored if r["ended_on"] is None})


def decide_aux(state: AuxState, requests: Sequence[AuxPairRequest], *,
               offset: int = 0) -> tuple[list[AuxPairing], BatchResult]:
    """The auxiliary pairing rules, in order, updating ``state``; nothing is written. Several
    organisations may help one household, but one organisation holds one active pairing with it."""
    made: list[AuxPairing] = []
    result = BatchResult()
    for index, req in enumerate(requests):
        if (req.household_no, req.uscc, req.started_on) in state.existing:
            result.unchanged.append(req.household_no)
            continue
        try:
            _not_future("开始日期", req.started_on)
            if req.household_no not in state.households:
                raise NotFound("家庭", "household", req.household_no)
            if req.uscc not in state.orgs:
                raise NotFound("社会组织", "organisation", req.uscc)
            if req.ended_on is not None:
                _not_future("结束日期", req.ended_on)
                _in_order(req.started_on, req.ended_on)
            elif (req.household_no, req.uscc) in state.active:
                raise AlreadyAuxPaired(req.household_no, req.uscc)
        except JieduiError as exc:
            result.errors.append((offset + index, exc))
            continue
        state.existing.add((req.household_no, req.uscc, req.started_on))
        if req.ended_on is None:
            state.active.add((req.household_no, req.uscc))
        made.append(AuxPairing(pairing_id=uuid.uuid4().hex, household_no=req.household_no, uscc=req.uscc,
                               started_on=req.started_on, ended_on=req.ended_on, end_reason=req.end_reason,
                               source=req.source))
        result.created.append(made[-1].pairing_id)
    return made, result


def aux_pair_in(tx: Tx, requests: Sequence[AuxPairRequest],
                offset: int) -> tuple[list[AuxPairing], BatchResult]:
    """Check and create auxiliary pairings inside an open transaction (see :func:`decide_aux`)."""
    made, result = decide_aux(load_aux_state(tx, requests), requests, offset=offset)
    tx.create_rels(AUX_PAIRED_WITH, ORG, HOUSEHOLD, [
        {"src": p.uscc, "dst": p.household_no, **p.to_row(), "proposal_id": None} for p in made])
    return made, result


def aux_pair(*, store: GraphStore, household_no: str, uscc: str, started_on: dt.date | None = None,
             source: PairingSource = PairingSource.MANUAL) -> AuxPairing:
    """An organisation's auxiliary pairing (辅助结对); a household may have several organisations."""
    request = AuxPairRequest(household_no=household_no, uscc=uscc, started_on=started_on or today(), source=source)

    def work(tx: Tx) -> AuxPairing:
        made, result = aux_pair_in(tx, [request], 0)
        if result.errors:
            raise result.errors[0][1]
        if not made:  # the very same pairing is already recorded
            raise AlreadyAuxPaired(household_no, uscc)
        return made[0]

    return store.write(work)


def aux_pair_many(*, store: GraphStore, requests: Sequence[AuxPairRequest],
                  progress: Progress | None = None) -> BatchResult:
    """The batch path of auxiliary pairings: valid requests written, refused ones reported."""
    return write_in_batches(store, requests, lambda tx, part, offset: aux_pair_in(tx, part, offset)[1], progress)


def end_aux_pairing(*, store: GraphStore, household_no: str, uscc: str, reason: str,
                    ended_on: dt.date | None = None) -> AuxPairing:
    ended_on = ended_on or today()
    _not_future("结束日期", ended_on)

    def work(tx: Tx) -> AuxPairing:
        tx.lock(HOUSEHOLD, [household_no])
        rows = tx.run(_AUX_ACTIVE, {"uscc": uscc, "h": household_no})
        if not rows:
            raise NoActivePairing(household_no, uscc)
        current = AuxPairing.from_row(rows[0])
        _in_order(current.started_on, ended_on)
        tx.run("MATCH (:Org)-[p:AUX_PAIRED_WITH]->(:Household {household_no: $h}) WHERE p.pairing_id = $id "
               "SET p.ended_on = $ended_on, p.end_reason = $reason",
               {"h": household_no, "id": current.pairing_id, "ended_on": ended_on, "reason": reason})
        return current.model_copy(update={"ended_on": ended_on, "end_reason": reason})

    return store.write(work)


_AUX_COLUMNS = f"o.uscc AS uscc, {_PAIRING_COLUMNS}"


def aux_pairings_in(tx: Tx, household_nos: Sequence[str]) -> dict[str, list[AuxPairing]]:
    """Every auxiliary pairing of each household, oldest first (callers scope the households)."""
    start, params = keyed(HOUSEHOLD, "h", household_nos)
    rows = tx.run(f"{start} {FROM_KEY} (o:Org)-[p:AUX_PAIRED_WITH]->(h) RETURN {_AUX_COLUMNS} "
                  "ORDER BY started_on, pairing_id", params)
    return grouped(household_nos, rows, "household_no", AuxPairing.from_row, present="pairing_id")


def org_aux_pairings_in(tx: Tx, usccs: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, list[AuxPairing]]:
    """Every auxiliary pairing of each organisation with a household in ``scope``, oldest first."""
    start, params = keyed(ORG, "o", usccs)
    rows = tx.run(f"{start} {FROM_KEY} (o)-[p:AUX_PAIRED_WITH]->(h:Household) "
                  f"WITH o, p, h WHERE h IS NOT NULL WITH o, p, h{scope.households()} "
                  f"RETURN {_AUX_COLUMNS} ORDER BY started_on, pairing_id", params | scope.params)
    return grouped(usccs, rows, "uscc", AuxPairing.from_row)
