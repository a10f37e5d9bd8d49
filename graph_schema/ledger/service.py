"""Recording the ledger, and with it the life of problems: 反映困难 opens, 解决困难 closes.

Entries are checked in the order given, so one batch may open and close the same problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.enums import LedgerKind
from graph_schema.errors import (
    DateOrder,
    FutureDate,
    JieduiError,
    NotFound,
    ProblemAlreadyOpen,
    ProblemNotOpen,
    RecordConflict,
)
from graph_schema.ledger.models import LedgerEntry, Problem, problem_key
from graph_schema.models import today
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import BatchResult, Progress, fetch_by_keys, write_in_batches
from graph_schema.store import ledger_sums
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, chunks, grouped, keyed
from graph_schema.store.schema import CADRE, HAS_PROBLEM, HOUSEHOLD, ORG, PROBLEM, ASSISTED

ENTRY_IDS = ("UNWIND $keys AS k MATCH ()-[e:ASSISTED]->(h:Household {household_no: k}) "
             "RETURN e.entry_id AS entry_id")


def log_entries(*, store: GraphStore, entries: Sequence[LedgerEntry],
                progress: Progress | None = None) -> BatchResult:
    """Record entries (10k per transaction): ``created`` and ``unchanged`` hold entry ids,
    ``errors`` the refused entries with their index."""
    return write_in_batches(store, entries, _log, progress)


def record_in(tx: Tx, entries: Sequence[LedgerEntry]) -> BatchResult:
    """Record entries inside a transaction another workflow has opened (a delivery that also
    enters the ledger); refused entries are reported in ``errors``, not raised."""
    return _log(tx, entries, 0)


def log_entry(*, store: GraphStore, entry: LedgerEntry) -> str:
    """Record one entry or raise the rule it breaks; returns its id."""
    return log_together(store=store, entries=[entry])[0]


def log_together(*, store: GraphStore, entries: Sequence[LedgerEntry]) -> list[str]:
    """Record entries all or nothing, in one transaction, or raise the first rule one breaks:
    what a cadre records of one visit (the visit, the problem found, the help given) is stored
    whole or not at all. Returns their ids; an entry already recorded is left as it is."""

    def work(tx: Tx) -> list[str]:
        result = _log(tx, entries, 0)
        if result.errors:
            raise result.errors[0][1]
        return [e.entry_id for e in entries]

    return store.write(work)


@dataclass
class LedgerState:
    """What the ledger rules look at, loaded once for a batch and updated as it unfolds (kept
    apart from the writes so an import's dry run decides with the same rules).

    Problems are found through their household: ``owned`` maps (户编号, 问题编号) to the problem's
    key, so a 解决困难 entry reaches only a problem of its own household, and one naming a number
    of another household answers as a number nobody opened. ``problems`` holds, by key, the
    problems of the entries' households and those whose county key an entry would open.
    """

    households: set[str]
    cadres: set[str]
    orgs: set[str]
    seen: set[str]  # entry ids already recorded
    stored: dict[str, Problem]  # problems as stored, by key
    counties: dict[str, str] = field(default_factory=dict)  # household_no -> region code
    owned: dict[tuple[str, str], str] = field(default_factory=dict)  # (household_no, problem_no) -> key
    problems: dict[str, Problem] = field(default_factory=dict)  # … as the batch leaves them
    numbered: dict[str, str] = field(default_factory=dict)  # 记录编号 already recorded → what its entry says

    def __post_init__(self) -> None:
        self.problems = {**self.stored, **self.problems}
        self.owned = {(p.household_no, p.problem_no): key for key, p in self.stored.items()} | self.owned


_PROBLEM_COLUMNS = ", ".join(f"p.{c} AS {c}" for c in PROBLEM.columns)
_HOUSEHOLD_PROBLEMS = (
    "UNWIND $keys AS k MATCH (h:Household {household_no: k}) OPTIONAL MATCH (h)-[:HAS_PROBLEM]->(p:Problem) "
    f"WITH p WHERE p IS NOT NULL RETURN {_PROBLEM_COLUMNS}"
)


def load_ledger_state(tx: Tx, entries: Sequence[LedgerEntry], *, lock: bool = True) -> LedgerState:
    household_nos = sorted({e.household_no for e in entries})
    if lock:
        tx.lock(HOUSEHOLD, household_nos)
    counties = {k: row["region_code"] for k, row in fetch_by_keys(
        tx, HOUSEHOLD, household_nos, ["household_no", "region_code"]).items()}
    seen = {r["entry_id"] for part in chunks(sorted(counties), 20_000)
            for r in tx.run(ENTRY_IDS, {"keys": list(part)})}
    numbered = sorted({e.household_no for e in entries if e.problem_no} & set(counties))
    stored = {r["problem_key"]: Problem.from_row(r) for part in chunks(numbered, 20_000)
              for r in tx.run(_HOUSEHOLD_PROBLEMS, {"keys": list(part)})}
    wanted = sorted({problem_key(counties[e.household_no], e.problem_no) for e in entries
                     if e.problem_no and e.household_no in counties} - set(stored))
    stored |= {k: Problem.from_row(v) for k, v in fetch_by_keys(tx, PROBLEM, wanted, PROBLEM.columns).items()}
    numbers = sorted({e.record_no for e in entries if e.record_no})
    # a 记录编号 is unique across households: looked up in the whole ledger, only when a batch names some
    recorded = {r["entry_id"]: LedgerEntry.from_row(r).fingerprint
                for r in (tx.run(NUMBERED, {"ids": numbers}) if numbers else [])}
    return LedgerState(
        households=set(counties),
        cadres=set(fetch_by_keys(tx, CADRE, sorted({e.cadre_no for e in entries if e.cadre_no}), ["cadre_no"])),
        orgs=set(fetch_by_keys(tx, ORG, sorted({e.uscc for e in entries if e.uscc}), ["uscc"])),
        seen=seen | set(recorded), stored=stored, counties=counties, numbered=recorded)


def decide_entries(state: LedgerState, entries: Sequence[LedgerEntry], *,
                   offset: int = 0) -> tuple[list[LedgerEntry], BatchResult]:
    """Apply the ledger and problem rules in order, updating ``state``; nothing is written."""
    result = BatchResult()
    created: list[LedgerEntry] = []
    for index, entry in enumerate(entries):
        try:
            if entry.entry_date > today():
                raise FutureDate("日期", entry.entry_date)
            if entry.household_no not in state.households:
                raise NotFound("家庭", "household", entry.household_no)
            if entry.cadre_no and entry.cadre_no not in state.cadres:
                raise NotFound("干部", "cadre", entry.cadre_no)
            if entry.uscc and entry.uscc not in state.orgs:
                raise NotFound("社会组织", "organisation", entry.uscc)
            if entry.record_no and state.numbered.get(entry.record_no, entry.fingerprint) != entry.fingerprint:
                raise RecordConflict("记录编号", "record number", entry.record_no)
            if entry.entry_id in state.seen:
                result.unchanged.append(entry.entry_id)
                continue
            if entry.kind is LedgerKind.REPORT_PROBLEM:
                opened = _open(state, entry)
                state.problems[opened.problem_key] = opened
                state.owned[(entry.household_no, entry.problem_no)] = opened.problem_key
            elif entry.kind is LedgerKind.SOLVE_PROBLEM and entry.problem_no:
                closed = _close(state, entry)
                state.problems[closed.problem_key] = closed
        except JieduiError as exc:
            result.errors.append((offset + index, exc))
            continue
        state.seen.add(entry.entry_id)
        if entry.record_no:
            state.numbered[entry.record_no] = entry.fingerprint
        created.append(entry)
        result.created.append(entry.entry_id)
    return created, result


def _log(tx: Tx, entries: Sequence[LedgerEntry], offset: int) -> BatchResult:
    state = load_ledger_state(tx, entries)
    created, result = decide_entries(state, entries, offset=offset)
    for src, actor in ((CADRE, "cadre_no"), (ORG, "uscc")):
        tx.create_rels(ASSISTED, src, HOUSEHOLD, [e.edge_row() for e in created if getattr(e, actor)])
    ledger_sums.add(tx, created, state.counties)  # the households' villages, read under their locks
    new = [p for key, p in state.problems.items() if key not in state.stored]
    tx.create_nodes(PROBLEM, [p.to_row() for p in new])
    tx.create_rels(HAS_PROBLEM, HOUSEHOLD, PROBLEM, [{"src": p.household_no, "dst": p.problem_key} for p in new])
    closed = [p.to_row() for key, p in state.problems.items() if key in state.stored and p != state.stored[key]]
    if closed:
        tx.run("UNWIND $rows AS r MATCH (p:Problem {problem_key: r.problem_key}) "
               "SET p.closed_on = r.closed_on, p.resolved_by = r.resolved_by, p.resolution = r.resolution",
               {"rows": closed})
    return result


def _open(state: LedgerState, entry: LedgerEntry) -> Problem:
    """A new problem of the entry's household, its number unused in the household's county."""
    key = problem_key(state.counties[entry.household_no], entry.problem_no)
    if key in state.problems or (entry.household_no, entry.problem_no) in state.owned:
        raise ProblemAlreadyOpen(entry.problem_no)
    return Problem(problem_key=key, problem_no=entry.problem_no, household_no=entry.household_no,
                   opened_on=entry.entry_date, reported_by=entry.actor, description=entry.note)


def _close(state: LedgerState, entry: LedgerEntry) -> Problem:
    """The entry's household's problem of that number, closed. A number the household has not
    opened answers alike whether another household holds it or nobody does."""
    key = state.owned.get((entry.household_no, entry.problem_no))
    if key is None:
        raise ProblemNotOpen(entry.problem_no, "本户没有对应的反映困难记录", "no 反映困难 entry of this household opened it")
    problem = state.problems[key]
    if not problem.open:
        raise ProblemNotOpen(entry.problem_no, f"已于 {problem.closed_on} 解决", f"already closed on {problem.closed_on}")
    if entry.entry_date < problem.opened_on:
        raise DateOrder(f"问题「{entry.problem_no}」的解决日期 {entry.entry_date} 早于反映日期 {problem.opened_on}",
                        f"problem '{entry.problem_no}' closed on {entry.entry_date}, before it was opened on "
                        f"{problem.opened_on}")
    return problem.model_copy(update={"closed_on": entry.entry_date, "resolved_by": entry.actor,
                                      "resolution": entry.note})


_EDGE_COLUMNS = ("e.entry_date AS entry_date, h.household_no AS household_no, e.kind AS kind, "
                 "e.amount_fen AS amount_fen, e.in_kind_fen AS in_kind_fen, e.note AS note, "
                 "e.problem_no AS problem_no, e.volunteers AS volunteers, e.minutes AS minutes, "
                 "e.entry_id AS entry_id, e.record_no AS record_no")
# the actor is a Cadre or an Org: the embedded engine refuses a property its bound table lacks
_ENTRY_COLUMNS = f"{_EDGE_COLUMNS}, a.cadre_no AS cadre_no, a.uscc AS uscc"
#: the stored entries of some 记录编号. The embedded engine indexes no edge property, so this is a
#: scan of the ledger there; written as a join of the numbers with the edges, it hashes them once
#: (0.16 s for 10,000 numbers against a province's 892,533 entries), where ``e.entry_id IN $ids``
#: compared every entry with every number (19 s). Neo4j seeks each in its index of the property.
NUMBERED = f"UNWIND $ids AS k MATCH (a)-[e:ASSISTED]->(h:Household) WHERE e.entry_id = k RETURN {_ENTRY_COLUMNS}"


def ledger_in(tx: Tx, household_nos: Sequence[str]) -> dict[str, list[LedgerEntry]]:
    """Each household's ledger, oldest first (callers scope the households)."""
    start, params = keyed(HOUSEHOLD, "h", household_nos)
    rows = tx.run(f"{start} {FROM_KEY} (a)-[e:ASSISTED]->(h) RETURN {_ENTRY_COLUMNS} ORDER BY entry_date, entry_id",
                  params)
    return grouped(household_nos, rows, "household_no", LedgerEntry.from_row, present="entry_id")


def org_ledger_in(tx: Tx, usccs: Sequence[str], scope: Scope = EVERYTHING) -> dict[str, list[LedgerEntry]]:
    """What each organisation recorded (donations, volunteer services…) for households in ``scope``."""
    start, params = keyed(ORG, "a", usccs)
    rows = tx.run(f"{start} {FROM_KEY} (a)-[e:ASSISTED]->(h:Household) "
                  f"WITH a, e, h WHERE h IS NOT NULL WITH a, e, h{scope.households()} "
                  f"RETURN {_EDGE_COLUMNS}, a.uscc AS uscc ORDER BY entry_date, entry_id", params | scope.params)
    return grouped(usccs, rows, "uscc", LedgerEntry.from_row)


def household_ledger(*, store: GraphStore, household_no: str) -> list[LedgerEntry]:
    """A household's ledger, oldest first."""
    return store.read(lambda tx: ledger_in(tx, [household_no]))[household_no]


def problems_in(tx: Tx, household_nos: Sequence[str]) -> dict[str, list[Problem]]:
    """Each household's problems, oldest first (callers scope the households)."""
    columns = ", ".join(f"p.{c} AS {c}" for c in PROBLEM.columns)
    start, params = keyed(HOUSEHOLD, "h", household_nos)
    rows = tx.run(f"{start} {FROM_KEY} (h)-[:HAS_PROBLEM]->(p:Problem) RETURN {columns} "
                  "ORDER BY opened_on, problem_no", params)
    return grouped(household_nos, rows, "household_no", Problem.from_row, present="problem_no")


def household_problems(*, store: GraphStore, household_no: str) -> list[Problem]:
    return store.read(lambda tx: problems_in(tx, [household_no]))[household_no]


def list_problems(*, store: GraphStore, region: str | None = None, open_only: bool | None = None,
                  page: PageRequest = PageRequest(), scope: Scope = EVERYTHING) -> Page[Problem]:
    """The problems of the households under ``region`` (any level; default the whole scope), oldest
    first (opened_on, then 问题编号); ``open_only`` True keeps the open ones, False the solved ones,
    None both. A region outside a region scope is NotFound, as if it did not exist.

    Region scopes reach households through their village (the embedded engine indexes only
    primary keys); a cadre's or organisation's scope through its active pairings."""
    match, params = scope.region_households(region)
    match += " MATCH (h)-[:HAS_PROBLEM]->(p:Problem)"
    if open_only is not None:
        match += " WHERE p.closed_on IS NULL" if open_only else " WHERE p.closed_on IS NOT NULL"
    columns = ", ".join(f"p.{c} AS {c}" for c in PROBLEM.columns)
    return store.read(lambda tx: page_of(tx, match, "p", columns, "opened_on, problem_no", params, page,
                                         Problem.from_row))

