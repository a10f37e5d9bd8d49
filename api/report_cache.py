"""Recent runs of the monitoring reports, shared by REST and GraphQL.

A portal polls the same lists again and again, and a report computes a whole region at each run (a
county's unpaired list: ~80 ms). An entry lives ``ttl`` seconds, and every change made through
this service empties the cache. On the embedded engine the service is the store's only writer,
so a list is never older than the last change; on Neo4j, changes made by other processes show
within ``ttl``. A county's or narrower region's run is kept whole (if it has no more than
``max_rows`` rows) and every page is cut from it. A city's or a province's runs are kept page by
page: their lists can be long (a province's unpaired list: ~105k rows), and a page comes from the
report's own page path, which reads far less than the whole list would.

Each worker process of the service keeps its own cache, emptied by the changes made through it:
a change made through another worker shows within ``ttl``. A request that sends bookmarks
(``Jiedui-Bookmark``, ``api/bookmarks.py``) asks to see writes made elsewhere, so it never gets a
kept run: its report runs afresh (waiting for the bookmarks), and that run is kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from graph_schema.identifiers import RegionLevel, region_level
from graph_schema.models import today
from graph_schema.monitoring.common import Report, paginate
from graph_schema.pagination import Page, PageRequest
from graph_schema.store import GraphStore, bookmarks


_WIDE = {RegionLevel.PROVINCE, RegionLevel.CITY}


class ReportCache:
    def __init__(self, ttl: float = 30.0, entries: int = 64, max_rows: int = 20_000) -> None:
        self.ttl, self.entries, self.max_rows = ttl, entries, max_rows
        self._runs: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, report: Report, store: GraphStore, region: str, page: PageRequest, **options: Any) -> Page:
        """One page of the report, as ``report.run`` gives it."""
        if self.ttl <= 0:
            return report.run(store=store, region=region, page=page, **options)
        wide = region_level(region) in _WIDE
        # the default as_of is today: part of the key, so a list does not outlive its day
        key = (report.name, region, today(), *sorted(options.items()), *((page.page, page.page_size) if wide else ()))
        causal = bookmarks.current()
        with self._lock:
            hit = None if causal and causal.wait_for else self._runs.get(key)
            if hit and hit[0] > time.monotonic():
                self._runs.move_to_end(key)
                return hit[1] if wide else paginate(hit[1], page)
        if wide:
            kept = found = report.run(store=store, region=region, page=page, **options)
        else:
            everything = report.run(store=store, region=region, page=PageRequest(1, self.max_rows, self.max_rows),
                                    **options)
            if everything.total > self.max_rows:
                return report.run(store=store, region=region, page=page, **options)
            kept, found = everything.items, paginate(everything.items, page)
        with self._lock:
            self._runs[key] = (time.monotonic() + self.ttl, kept)
            while len(self._runs) > self.entries:
                self._runs.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
