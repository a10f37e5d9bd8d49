"""What the households' kept values share (their member counts, graph_schema/store/counts.py;
their pairing counts, graph_schema/store/paired.py; and, for its mark, the ledger's sums,
graph_schema/ledger/sums.py): set in batches of keyed households, checked
against what they are counted from, and filled once for a store made before them, which is then
marked (a ``StoreMark`` node) so that the next opening does not fill them again.

A filling cut short leaves no mark, so the next opening fills again from the start (a recount is
idempotent); no report reads the values before the mark.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from graph_schema.store.base import Tx, chunks
from graph_schema.store.schema import HOUSEHOLD, MARK

if TYPE_CHECKING:
    from graph_schema.store.base import GraphStore

log = logging.getLogger(__name__)

_MARKED = f"MATCH (m:{MARK.label} {{name: $name}}) RETURN m.done_at AS done_at"
_ALL_KEYS = "MATCH (h:Household) RETURN h.household_no AS k"


def by_keys(tx: Tx, query: str, keys: Sequence[str], batch: int = 20_000) -> list[dict[str, Any]]:
    """Run ``query`` (``UNWIND $keys AS k …``) over ``keys`` (households', persons' or cadres'),
    each once, in key order, ``batch`` at a time; the rows of every batch."""
    out: list[dict[str, Any]] = []
    for part in chunks(sorted(set(keys)), batch):
        out += tx.run(query, {"keys": list(part)})
    return out


def wrong(tx: Tx, query: str, household_nos: Sequence[str] | None) -> list[dict[str, Any]]:
    """The rows of ``query`` (the values that differ from their count) for the households of
    ``household_nos``, or for every household."""
    keys = household_nos if household_nos is not None else [r["k"] for r in tx.run(_ALL_KEYS)]
    return by_keys(tx, query, keys)


def is_marked(store: "GraphStore", name: str) -> bool:
    return store.read(lambda tx: is_marked_in(tx, name))


def is_marked_in(tx: Tx, name: str) -> bool:
    """Whether the store carries the mark ``name``, inside a transaction already open."""
    return bool(tx.run(_MARKED, {"name": name}))


def recount_all(store: "GraphStore", recount: Callable[[Tx, Sequence[str]], None], batch: int, what: str) -> int:
    """Recount every household, ``batch`` households in key order per transaction, each batch under
    its households' locks; the number recounted. The keys are read once (a province's 700k:
    ~60 MB); a household made meanwhile starts at zero and is recounted by its own writes."""
    done = 0
    for keys in chunks(sorted(r["k"] for r in store.query(_ALL_KEYS)), batch):
        store.write(lambda tx, keys=keys: (tx.lock(HOUSEHOLD, keys), recount(tx, keys)))
        done += len(keys)
        if done % 100_000 < batch:
            log.info("%s: %d households", what, done)
    return done


def fill(store: "GraphStore", name: str, recount: Callable[[Tx, Sequence[str]], None], batch: int,
         what_zh: str, what_en: str) -> int:
    """Give every household its values unless the store carries the mark ``name``, then mark it;
    the number of households recounted (0 when it was marked)."""
    return mark_after(store, name, lambda: recount_all(store, recount, batch, what_en), what_zh, what_en)


def mark_after(store: "GraphStore", name: str, work: Callable[[], int], what_zh: str, what_en: str) -> int:
    """Unless the store carries the mark ``name``: run ``work`` (which fills the values and returns
    how many it filled), then mark the store; the number filled (0 when it was marked)."""
    if is_marked(store, name):
        return 0
    done = work()
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    store.write(lambda tx: tx.run(f"MERGE (m:{MARK.label} {{name: $name}}) SET m.done_at = $at",
                                  {"name": name, "at": at}))
    if done:
        log.warning("已补齐%s（%d）/ %s filled (%d)", what_zh, done, what_en, done)
    return done


def unmark(store: "GraphStore", name: str) -> None:
    """Drop the mark ``name``, so the next opening fills the values again."""
    store.execute(f"MATCH (m:{MARK.label} {{name: $name}}) DELETE m", {"name": name})


__all__ = ["by_keys", "fill", "is_marked", "is_marked_in", "mark_after", "recount_all", "unmark", "wrong"]
