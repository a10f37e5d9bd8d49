"""The ledger's sums per county, month, kind and author, kept by the writes that change them.

``coverage`` reports a year of the ledger (联系交流, 入户走访, the funds, the volunteers' time …)
per region. For a province that meant matching every entry of the year, ~900k ``ASSISTED`` edges,
each to its household's village: on Neo4j most of the province's page. A province's or a city's
rows are sums of whole counties, so each county keeps its sums
(:data:`~graph_schema.store.schema.LEDGER_SUM`): per calendar month, entry kind and whether an
organisation made the entries, their number, cash, in-kind value, volunteers and volunteer
minutes, the figures ``coverage`` adds up (:data:`ENTRY_FIGURES`). A report then
reads the months that its period holds whole from the sums, and only the days at its ends (the
part of a month before the period's start or after its end) from the entries.

**Kept exact by the writes.** The ledger is written only by
:func:`graph_schema.ledger.service.record_in` and the batches that call it (the import, a cadre's
visit, an organisation's delivery), and never changed or deleted; those writes add each created
entry to its county's sums (:func:`add`) in the same transaction, after locking the households
they write for. A household that moves to another county carries its entries' sums with it
(:func:`move`), in the household write that moves it, which holds the household's lock, so no
entry of it is written meanwhile. On Neo4j each sum's node is locked before it is read and added
to (two writers adding to one sum would otherwise lose one addition). A restore, which replaces
the ledger's edges wholesale, sums them again (:func:`resum_all`).

A store made before the sums gets them once, when it is opened (:func:`fill`): county by county,
each county's sums locked before its entries are read, so a ledger write beside the filling
either commits first (and is read) or waits and adds to the sums written; then the store is
marked. Until the mark, reports read the entries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graph_schema.store import kept
from graph_schema.store.base import Tx, chunks
from graph_schema.store.schema import LEDGER_SUM

if TYPE_CHECKING:
    from graph_schema.ledger.models import LedgerEntry
    from graph_schema.store.base import GraphStore

#: the mark a store carries once every county has its sums
SUMMED = "ledger_sums"
#: the figures of a sum, as ``coverage`` reads them from the entries
FIGURES = ("n", "cash", "in_kind", "people", "given")
#: The figures of the entries ``e`` (after their kind and author) in Cypher: what a sum keeps, and
#: what ``coverage`` reads from the entries of the days no sum holds.
ENTRY_FIGURES = ("count(e) AS n, sum(coalesce(e.amount_fen, 0)) AS cash, "
                 "sum(coalesce(e.in_kind_fen, 0)) AS in_kind, sum(coalesce(e.volunteers, 0)) AS people, "
                 "sum(coalesce(e.volunteers, 0) * coalesce(e.minutes, 0)) AS given")

#: a sum: (county, first day of the month, kind, by an organisation)
Key = tuple[str, dt.date, str, bool]

#: The entries of the households of ``$keys`` summed by day, kind and author (the sums are folded
#: into months in Python: the engines name their date functions differently).
_BY_DAY = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) MATCH (x)-[e:ASSISTED]->(h) "
           "RETURN e.entry_date AS day, e.kind AS kind, x.uscc IS NOT NULL AS by_org, " + ENTRY_FIGURES)
_HOUSEHOLDS_OF = "MATCH (h:Household) WHERE h.region_code STARTS WITH $county RETURN h.household_no AS k"
_COUNTIES = "MATCH (h:Household) RETURN DISTINCT left(h.region_code, 6) AS county"
_SUMS_OF = "MATCH (t:LedgerSum) WHERE t.county = $county RETURN t.sum_key AS k"
_MAKE = ("UNWIND $rows AS r MERGE (t:LedgerSum {sum_key: r.sum_key}) "
         "ON CREATE SET t.county = r.county, t.month = r.month, t.kind = r.kind, t.by_org = r.by_org, "
         "t.n = 0, t.cash = 0, t.in_kind = 0, t.people = 0, t.given = 0")
_ADD = ("UNWIND $rows AS r MATCH (t:LedgerSum {sum_key: r.sum_key}) "
        "SET t.n = t.n + r.n, t.cash = t.cash + r.cash, t.in_kind = t.in_kind + r.in_kind, "
        "t.people = t.people + r.people, t.given = t.given + r.given")
_SET = ("UNWIND $rows AS r MATCH (t:LedgerSum {sum_key: r.sum_key}) "
        "SET t.n = r.n, t.cash = r.cash, t.in_kind = r.in_kind, t.people = r.people, t.given = r.given")
#: what the entries of the whole store sum to, per county and month (the check of the tests)
_ALL_BY_DAY = ("MATCH (x)-[e:ASSISTED]->(h:Household) RETURN left(h.region_code, 6) AS county, "
               "e.entry_date AS day, e.kind AS kind, x.uscc IS NOT NULL AS by_org, " + ENTRY_FIGURES)
_STORED = ("MATCH (t:LedgerSum) RETURN t.county AS county, t.month AS month, t.kind AS kind, "
           "t.by_org AS by_org, t.n AS n, t.cash AS cash, t.in_kind AS in_kind, t.people AS people, t.given AS given")


def _month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _sum_key(key: Key) -> str:
    county, month, kind, by_org = key
    return f"{county}|{month.isoformat()}|{kind}|{int(by_org)}"


def _row(key: Key, figures: Mapping[str, int]) -> dict[str, Any]:
    county, month, kind, by_org = key
    return {"sum_key": _sum_key(key), "county": county, "month": month, "kind": kind, "by_org": by_org,
            **{f: int(figures.get(f) or 0) for f in FIGURES}}


def _fold(rows: Iterable[Mapping[str, Any]], county: str | None = None, sign: int = 1) -> dict[Key, dict[str, int]]:
    """Rows summed by day (:data:`_BY_DAY`, with ``county`` or their own) folded into months."""
    out: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for r in rows:
        figures = out[(county or r["county"], _month_of(r["day"]), r["kind"], bool(r["by_org"]))]
        for f in FIGURES:
            figures[f] += sign * int(r[f] or 0)
    return out


def _add(tx: Tx, deltas: Mapping[Key, Mapping[str, int]]) -> None:
    """Add ``deltas`` to their sums, made first where missing, each locked before it is read."""
    rows = [_row(k, v) for k, v in sorted(deltas.items(), key=lambda kv: _sum_key(kv[0]))]
    for part in chunks(rows, 5_000):
        tx.run(_MAKE, {"rows": part})
        tx.lock(LEDGER_SUM, [r["sum_key"] for r in part])
        tx.run(_ADD, {"rows": part})


def add(tx: Tx, entries: Sequence["LedgerEntry"], villages: Mapping[str, str]) -> None:
    """Add the entries just created to their counties' sums; ``villages`` gives each entry's
    household's village (read under the household's lock)."""
    deltas: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for e in entries:
        key = (villages[e.household_no][:6], _month_of(e.entry_date), e.kind.value, e.uscc is not None)
        figures = deltas[key]
        figures["n"] += 1
        figures["cash"] += e.amount_fen or 0
        figures["in_kind"] += e.in_kind_fen or 0
        figures["people"] += e.volunteers or 0
        figures["given"] += (e.volunteers or 0) * (e.minutes or 0)
    _add(tx, deltas)


def move(tx: Tx, moves: Mapping[str, tuple[str, str]]) -> None:
    """Carry the entries of households that moved (户编号 → (old village, new village)) from the old
    county's sums to the new one's; a move inside a county changes none (the caller holds the
    households' locks)."""
    across: dict[tuple[str, str], list[str]] = defaultdict(list)  # (old county, new county) → households
    for no, (old, new) in moves.items():
        if old[:6] != new[:6]:
            across[(old[:6], new[:6])].append(no)
    deltas: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for (old, new), household_nos in sorted(across.items()):
        rows = kept.by_keys(tx, _BY_DAY, household_nos)  # one read for all that made the same move
        for county, sign in ((old, -1), (new, 1)):
            for key, figures in _fold(rows, county, sign).items():
                for f in FIGURES:
                    deltas[key][f] += figures[f]
    if deltas:
        _add(tx, deltas)


def resum_county(tx: Tx, county: str) -> None:
    """Set ``county``'s sums from its households' entries: its stored sums locked first, then its
    entries read, then every sum set (those with no entry left to zero)."""
    stored = [r["k"] for r in tx.run(_SUMS_OF, {"county": county})]
    tx.lock(LEDGER_SUM, sorted(stored))
    households = [r["k"] for r in tx.run(_HOUSEHOLDS_OF, {"county": county})]
    found = _fold(kept.by_keys(tx, _BY_DAY, households), county)
    rows = {r["sum_key"]: r for r in (_row(k, v) for k, v in found.items())}
    rows |= {k: {**_zero(k), "sum_key": k} for k in stored if k not in rows}
    ordered = [rows[k] for k in sorted(rows)]
    for part in chunks(ordered, 5_000):
        tx.run(_MAKE, {"rows": part})
        tx.run(_SET, {"rows": part})


def _zero(sum_key: str) -> dict[str, Any]:
    county, month, kind, by_org = sum_key.split("|")
    return _row((county, dt.date.fromisoformat(month), kind, by_org == "1"), {})


def resum_all(store: "GraphStore") -> int:
    """Sum every county's entries again, one county per transaction; the number of counties."""
    counties = sorted(r["county"] for r in store.query(_COUNTIES))
    for county in counties:
        store.write(lambda tx, county=county: resum_county(tx, county))
    return len(counties)


def is_filled(store: "GraphStore") -> bool:
    return kept.is_marked(store, SUMMED)


def is_summed(tx: Tx) -> bool:
    """Inside a read: whether the store carries the mark (reports read the sums only then)."""
    return kept.is_marked_in(tx, SUMMED)


def fill(store: "GraphStore") -> int:
    """Give every county its sums unless the store is marked as summed, then mark it; the number
    of counties summed (0 when it was marked)."""
    return kept.mark_after(store, SUMMED, lambda: resum_all(store), "台账月度汇总", "ledger sums by county")


def unmark(store: "GraphStore") -> None:
    kept.unmark(store, SUMMED)


def wrong(tx: Tx) -> list[dict[str, Any]]:
    """The sums that differ from the entries (a missing sum counts as zero): ``{key, stored, entries}``."""
    entries = {_sum_key(k): v for k, v in _fold(tx.run(_ALL_BY_DAY)).items()}
    stored = {_sum_key((r["county"], r["month"], r["kind"], r["by_org"])): {f: r[f] for f in FIGURES}
              for r in tx.run(_STORED)}
    zero = dict.fromkeys(FIGURES, 0)
    return [{"key": k, "stored": stored.get(k), "entries": entries.get(k)} for k in sorted(set(entries) | set(stored))
            if stored.get(k, zero) != entries.get(k, zero)]


__all__ = ["ENTRY_FIGURES", "FIGURES", "SUMMED", "add", "fill", "is_filled", "is_summed", "move", "resum_all",
           "resum_county", "unmark", "wrong"]
