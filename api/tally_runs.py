"""Keeping the counties' service tallies of the year current inside the service, so that no
organiser's report waits while they are made (``graph_schema/service/tally.py``).

A report makes the tallies of its counties that are missing or stale before it reads them. After
an import, ``jiedui import`` and the console's and REST's imports (``api/import_runs.py``) make
them; nothing did at the turn of the year, when the first report of the new year made every
county's in its request: one county of the province preset took 2.1 s on LadybugDB, so a
province's first report would have waited about three minutes. The service therefore makes them
when it starts and every day just after midnight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from api.notify_runs import seconds_until
from graph_schema.models import today
from graph_schema.service import tally
from graph_schema.store import GraphStore

log = logging.getLogger(__name__)
AT = "00:05"  # local time: the first minutes of a new year


async def kept_current(store: GraphStore, at: str = AT) -> None:
    """Make the year's missing or stale tallies now, then every day at ``at``, until cancelled; a
    failed round is logged and the next one runs as usual (a report still makes what it needs)."""
    while True:
        try:
            made = await asyncio.to_thread(tally.keep_current, store, today().year)
            if made:
                log.info("服务汇总：已重算 %d 个县 / service tallies: %d counties made", made, made)
        except Exception:  # noqa: BLE001 - a daily job must outlive one bad round
            log.exception("keeping the service tallies current failed")
        await asyncio.sleep(seconds_until(at, dt.datetime.now()))
