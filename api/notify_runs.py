"""Running ``notify`` inside the service: from the API and the console on demand, and once a day at
``JIEDUI_NOTIFY_AT`` (the embedded store is held by the service, so a cron job could not open it).

One run at a time in this process: a second caller waits for the first, then finds its messages
stored and adds nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections import Counter

from api.auth import Caller
from graph_schema.notify.senders import configured_sender, dispatch
from graph_schema.notify.service import NotifyResult, notify
from graph_schema.settings import get_settings
from graph_schema.store import GraphStore

log = logging.getLogger(__name__)
_ONE_AT_A_TIME = threading.Lock()


def notify_and_send(store: GraphStore, as_of: dt.date | None = None,
                    region: str | None = None) -> tuple[NotifyResult, Counter]:
    settings = get_settings()
    with _ONE_AT_A_TIME:
        result = notify(store=store, as_of=as_of, region=region)
        sent = dispatch(store=store, sender=configured_sender(settings.sms_url, settings.sms_timeout_seconds),
                        max_attempts=settings.sms_max_attempts)
    return result, sent


def run_notify(who: Caller, as_of: dt.date | None) -> tuple[NotifyResult, Counter]:
    """A run asked for by an admin (everyone) or an organiser (the users of their region); audited
    as a write of the users' inboxes."""
    result, sent = notify_and_send(who.store, as_of, who.user.region_code)
    who.wrote("inbox", [f"{result.as_of}:{who.user.region_code or 'all'}"])
    return result, sent


def seconds_until(at: str, now: dt.datetime) -> float:
    """Seconds from ``now`` to the next ``HH:MM`` (today's if still ahead, else tomorrow's)."""
    hour, minute = map(int, at.split(":"))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += dt.timedelta(days=1)
    return (target - now).total_seconds()


async def daily(store: GraphStore, at: str) -> None:
    """Run ``notify`` every day at ``at`` (local time) until cancelled; a failed run is logged and
    the next day's runs as usual."""
    while True:
        await asyncio.sleep(seconds_until(at, dt.datetime.now()))
        try:
            result, sent = await asyncio.to_thread(notify_and_send, store)
            log.info("notify %s: %d users, %s messages, texts %s", result.as_of, result.users,
                     dict(result.messages), dict(sent))
        except Exception:  # noqa: BLE001 - a daily job must outlive one bad day
            log.exception("the daily notify run failed")
