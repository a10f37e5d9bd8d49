"""Sending the outbox: a sender takes one text message; :func:`dispatch` feeds it the pending ones.

Two senders: :class:`RecordingSender` (the default, when no gateway is configured) keeps each text
as ``仅记录`` and sends nothing; :class:`HttpSender` posts each as JSON to an SMS gateway's URL
(``JIEDUI_SMS_URL``): ``{"id", "to", "text"}`` with the text's key also in the ``Idempotency-Key``
header. It retries connection failures, 429 and 5xx answers a few times with a growing pause, and
gives up at once on any other answer (the gateway will not take that message however often it is
asked).

Nothing is sent twice: a text is marked ``已发送`` as soon as the gateway took it, and only
``待发送`` texts are sent. If the process dies between the gateway's answer and that mark, the next
run sends the text again with the same key, which the gateway uses to drop the repeat. A text that
failed stays ``待发送`` for the next run; after ``max_attempts`` failed runs, or a refusal, it becomes
a dead letter (``死信``) with its last error, for an operator to look at (``jiedui notify --outbox``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Protocol

from graph_schema.notify.models import Outgoing, OutgoingStatus
from graph_schema.notify.service import pending, record_attempt
from graph_schema.store.base import GraphStore


class SendError(Exception):
    """The gateway did not take the text; ``final`` when asking again cannot help."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


class Sender(Protocol):
    #: the status a text gets once this sender has taken it
    done: OutgoingStatus

    def send(self, text: Outgoing) -> None:
        """Hand the text over, or raise :class:`SendError`."""


class RecordingSender:
    """Keeps every text as recorded: nothing leaves the system."""

    done = OutgoingStatus.RECORDED

    def send(self, text: Outgoing) -> None:
        return None


class HttpSender:
    """Posts each text as JSON to an SMS gateway, retrying what may pass on a second try."""

    done = OutgoingStatus.SENT

    def __init__(self, url: str, *, timeout: float = 10.0, tries: int = 3, pause: float = 0.5) -> None:
        self.url, self.timeout, self.tries, self.pause = url, timeout, tries, pause

    def send(self, text: Outgoing) -> None:
        body = json.dumps({"id": text.outgoing_id, "to": text.phone, "text": text.body}, ensure_ascii=False).encode()
        reason = ""
        for attempt in range(self.tries):
            if attempt:
                time.sleep(self.pause * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": text.outgoing_id})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    answer.read()
                return
            except urllib.error.HTTPError as exc:
                reason = f"HTTP {exc.code}"
                if exc.code != 429 and exc.code < 500:
                    raise SendError(reason, final=True) from exc
            except (urllib.error.URLError, OSError) as exc:  # refused, unreachable, timed out
                reason = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        raise SendError(reason)


def dispatch(*, store: GraphStore, sender: Sender, max_attempts: int = 5) -> Counter:
    """Send every pending text once; returns how many ended in each status this run."""
    done: Counter = Counter()
    for text in pending(store=store):
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        try:
            sender.send(text)
        except SendError as exc:
            attempts = text.attempts + 1
            dead = exc.final or attempts >= max_attempts
            status = OutgoingStatus.DEAD if dead else OutgoingStatus.PENDING
            record_attempt(store=store, outgoing_id=text.outgoing_id, status=status, attempts=attempts, error=str(exc))
        else:
            status = sender.done
            record_attempt(store=store, outgoing_id=text.outgoing_id, status=status, attempts=text.attempts + 1,
                           sent_at=now)
        done[status] += 1
    return done


def configured_sender(url: str | None, timeout: float = 10.0) -> Sender:
    """The gateway's sender when a URL is set, else the recording one."""
    return HttpSender(url, timeout=timeout) if url else RecordingSender()
