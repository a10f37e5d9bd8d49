"""The DataLoaders of one request.

Every keyed lookup (households by number, the members, pairings, ledger … of households, the
cadres of pairings …) goes through one shared DataLoader, so all the lookups that one level of
the query makes, over all its parents and all its fields, are answered by ONE read transaction:
a query costs as many store calls as it has levels, whatever the number of objects. (Five
lookups in one transaction take 3.6 ms on Neo4j against 5.9 ms as five transactions.)

The loaders are created per request by the context (their cache must not outlive the caller's
scope). Lookups named ``*_scoped`` apply the caller's scope in the store query; the others read
through a parent that was itself scoped (a household's members, a pairing's cadre) and are used
only from such a parent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from api.auth import Caller
from graph_schema.access.models import EVERYTHING
from graph_schema.cadre.service import cadres_in
from graph_schema.household.detail import household_detail_in
from graph_schema.household.service import households_in, members_in, persons_in
from graph_schema.identifiers import region_parent
from graph_schema.ledger.service import ledger_in, org_ledger_in, problems_in
from graph_schema.monitoring.coverage import COVERAGE, CoverageRow
from graph_schema.org.service import orgs_in
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import (
    LOAD_BY_CADRE,
    aux_pairings_in,
    cadre_households_in,
    org_aux_pairings_in,
    pairings_in,
)
from graph_schema.region.service import children_of, regions_in
from graph_schema.store.base import Dialect, GraphStore, Tx

T = TypeVar("T")

async def blocking(call: Callable[[], T]) -> T:
    """Run one blocking store call on a worker thread (the server's thread pool, as the REST
    routes use), not on the event loop (the small reads of :func:`blocking_read` aside): one heavy
    query run on the loop held every other request of the service until it ended (a request sent
    into 9 aliases of 1,000 nested households waited 12.7 s; docs/reliability.md). The hop costs a
    little on a small query (measured on a household detail query, Neo4j, 8 clients: 94–99 req/s
    on the loop, 85–90 on threads), which is the price of never stalling."""
    return await run_in_threadpool(call)


#: How many of the loaders' reads run at once on the embedded engine. The engine runs each read
#: on the thread that calls it; 16 reads at once (a portal's 16 connections) cost ~1 ms more CPU
#: per household detail request than one at a time (measured: 4.2 against 2.5 ms with 1
#: connection), spent contending rather than reading, on a service that is one process anyway.
#: Two, not one: a long read (a page of 1,000 households) then leaves room for the others. Each
#: read waits at most for the reads ahead of it, one statement set each, never for a whole query.
EMBEDDED_READS_AT_ONCE = 2
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


async def blocking_read(store: GraphStore, call: Callable[[], T], small: bool = False) -> T:
    """:func:`blocking` for a read of the request's loaders: on the embedded engine at most
    :data:`EMBEDDED_READS_AT_ONCE` at a time (per event loop: a limiter belongs to one); on Neo4j,
    where a read mostly waits for the server, as many as the thread pool runs.

    A ``small`` read (one household's detail: its few rows of each list, ~1 ms) runs on the event
    loop itself when the store can begin it at once (:meth:`GraphStore.reads_at_once`: embedded,
    no reopening or write under way). Handing it to a worker thread cost more than the read: the
    worker and the loop took the interpreter's lock from each other at every statement. Measured
    on the household detail query, 16 connections: 2.6–2.7 against 3.5–3.6 ms of CPU per request
    and 377–389 against 310–315 requests/s (docs/benchmarks.md)."""
    if small and store.reads_at_once():
        return call()
    if store.dialect is not Dialect.LADYBUG:
        return await run_in_threadpool(call)
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(EMBEDDED_READS_AT_ONCE)
    return await anyio.to_thread.run_sync(call, limiter=limiter)


class Lookup:
    """One kind of keyed lookup, ``fetch(tx, keys) -> {key: value}``, answered through the
    request's shared loader; ``missing`` stands for a key the store did not return. ``small``:
    one key's answer is bounded by one household's records, so a level asking for that one key
    alone may be read on the event loop (:func:`blocking_read`)."""

    def __init__(self, shared: DataLoader, fetch: Callable[[Tx, list], dict], missing: Any,
                 small: bool = False) -> None:
        self._shared, self.fetch, self.missing, self.small = shared, fetch, missing, small

    def load(self, key: Hashable) -> Any:
        return self._shared.load((self, key))

    def load_many(self, keys: Iterable[Hashable]) -> Any:
        return self._shared.load_many([(self, k) for k in keys])

    def prime(self, key: Hashable, value: Any) -> None:
        """Remember an object already read (a list page), so nested fields do not read it again."""
        self._shared.prime((self, key), value)


def _shared_loader(store: GraphStore) -> DataLoader:
    async def load(keys: list[tuple[Lookup, Hashable]]) -> list[Any]:
        wanted: dict[Lookup, list] = defaultdict(list)
        for lookup, key in keys:
            wanted[lookup].append(key)
        small = len(keys) == 1 and keys[0][0].small
        found = await blocking_read(store, lambda: store.read(
            lambda tx: {lookup: lookup.fetch(tx, ks) for lookup, ks in wanted.items()}), small)
        return [found[lookup].get(key, lookup.missing) for lookup, key in keys]

    return DataLoader(load)


def _loads(tx: Tx, cadre_nos: list[str]) -> dict[str, int]:
    """Active one-to-one pairings per cadre (the query of ``pairing.service.cadre_load``, run in
    the level's transaction rather than a store call of its own)."""
    return {r["cadre_no"]: r["n"] for r in tx.run(LOAD_BY_CADRE, {"keys": cadre_nos})}


class CoverageKey(NamedTuple):
    code: str
    as_of: dt.date | None
    period_start: dt.date | None


_ALL_ROWS = PageRequest(1, 100_000, 100_000)


class Loaders:
    """The lookups of one caller's request."""

    def __init__(self, who: Caller) -> None:
        scope = who.scope
        self.shared = _shared_loader(who.store)

        def lookup(fetch: Callable[[Tx, list], dict], missing: Any = None, small: bool = False) -> Lookup:
            return Lookup(self.shared, fetch, missing, small)

        # top-level objects, scoped in the store
        self.household_scoped = lookup(lambda tx, keys: households_in(tx, keys, scope))
        # one household with the lists the query asks of it, keyed by (户编号, Wanted): api/graphql/detail.py
        self.household_detail = lookup(lambda tx, keys: {k: household_detail_in(tx, k[0], k[1], scope) for k in keys},
                                       small=True)
        self.person_scoped = lookup(lambda tx, keys: persons_in(tx, keys, scope))
        self.cadre_scoped = lookup(lambda tx, keys: cadres_in(tx, keys, scope))
        self.org_scoped = lookup(lambda tx, keys: orgs_in(tx, keys, scope))
        self.region = lookup(regions_in)  # scoped by code, in the resolver
        # what hangs off a household already in scope
        self.members = lookup(members_in, ())
        self.pairings = lookup(pairings_in, ())
        self.aux_pairings = lookup(aux_pairings_in, ())
        self.ledger = lookup(ledger_in, ())
        self.problems = lookup(problems_in, ())
        # the cadre of a pairing, the organisation of an auxiliary pairing: reached through the
        # household they serve, so shown to whoever sees that household
        self.cadre = lookup(lambda tx, keys: cadres_in(tx, keys, EVERYTHING))
        self.org = lookup(lambda tx, keys: orgs_in(tx, keys, EVERYTHING))
        self.cadre_load = lookup(_loads, 0)
        # what hangs off a cadre or organisation: its households filtered by the caller's scope again
        self.cadre_households = lookup(lambda tx, keys: cadre_households_in(tx, keys, scope), ())
        self.org_aux_pairings = lookup(lambda tx, keys: org_aux_pairings_in(tx, keys, scope), ())
        self.org_ledger = lookup(lambda tx, keys: org_ledger_in(tx, keys, scope), ())
        self.region_children = lookup(children_of, ())

        async def coverage(keys: list[CoverageKey]) -> list[CoverageRow | None]:
            """Coverage rows. The report on a region also yields its children's rows, so sibling
            regions asked for together cost one run of the report on their parent."""
            groups: dict[tuple, list[CoverageKey]] = defaultdict(list)
            for k in keys:
                groups[(region_parent(k.code), k.as_of, k.period_start)].append(k)
            rows: dict[CoverageKey, CoverageRow] = {}
            for (parent, as_of, start), group in groups.items():
                for code in [parent] if parent and len(group) > 1 else [k.code for k in group]:
                    page = await blocking(lambda code=code: COVERAGE.run(
                        store=who.store, region=code, as_of=as_of, period_start=start, page=_ALL_ROWS))
                    by_code = {r.region_code: r for r in page.items}
                    for k in group:
                        if k.code in by_code:
                            rows.setdefault(k, by_code[k.code])
            return [rows.get(k) for k in keys]

        self.coverage = DataLoader(coverage)
