"""Sending the outbox to an SMS gateway: a real HTTP receiver on loopback that fails as gateways
do; retries, dead letters, and never a text sent twice; on both engines."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from graph_schema.notify.models import Outgoing, OutgoingStatus
from graph_schema.notify.senders import HttpSender, RecordingSender, dispatch
from graph_schema.notify.service import outbox
from graph_schema.pagination import PageRequest
from graph_schema.store.schema import OUTGOING


class Gateway(ThreadingHTTPServer):
    """Answers each POST with the next status of ``plan`` (then 200), recording what it took."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plan: list[int] = []
        self.taken: list[dict] = []
        self.posts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"


class _Handler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posts += 1
        status = self.server.plan.pop(0) if self.server.plan else 200
        if status == 200:
            assert self.headers["Idempotency-Key"] == body["id"]
            self.server.taken.append(body)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def text(n: int) -> Outgoing:
    return Outgoing(f"t{n}", f"user{n}", f"1380000000{n}", f"您有 {n} 条新提醒", dt.date(2026, 6, 30))


@pytest.fixture
def queued(store):
    store.write(lambda tx: tx.create_nodes(OUTGOING, [text(n).to_row() for n in (1, 2, 3)]))
    return store


def statuses(store) -> dict[str, tuple[OutgoingStatus, int]]:
    return {o.outgoing_id: (o.status, o.attempts) for o in outbox(store=store, page=PageRequest(1, 100)).items}


def test_every_text_reaches_the_gateway_once(queued, gateway):
    gateway.plan = [500, 503]  # the first text needs two retries
    done = dispatch(store=queued, sender=HttpSender(gateway.url, pause=0.01))
    assert done == {OutgoingStatus.SENT: 3}
    assert sorted(t["id"] for t in gateway.taken) == ["t1", "t2", "t3"] and gateway.posts == 5
    assert {t["to"] for t in gateway.taken} == {"13800000001", "13800000002", "13800000003"}
    assert dispatch(store=queued, sender=HttpSender(gateway.url, pause=0.01)) == {}
    assert len(gateway.taken) == 3
    assert all(status is OutgoingStatus.SENT for status, _ in statuses(queued).values())


def test_a_refusal_is_a_dead_letter_at_once(queued, gateway):
    gateway.plan = [400]
    done = dispatch(store=queued, sender=HttpSender(gateway.url, pause=0.01))
    assert done == {OutgoingStatus.DEAD: 1, OutgoingStatus.SENT: 2}
    assert statuses(queued)["t1"] == (OutgoingStatus.DEAD, 1)
    dead = outbox(store=queued, status=OutgoingStatus.DEAD, page=PageRequest()).items
    assert [(o.outgoing_id, o.last_error) for o in dead] == [("t1", "HTTP 400")]
    assert gateway.posts == 3  # no retry of a refusal, and the dead letter is not tried again
    dispatch(store=queued, sender=HttpSender(gateway.url, pause=0.01))
    assert gateway.posts == 3


def test_a_gateway_down_keeps_texts_until_they_die(queued):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/sms"
    down = HttpSender(url, tries=2, pause=0.01, timeout=1)
    assert dispatch(store=queued, sender=down, max_attempts=3) == {OutgoingStatus.PENDING: 3}
    assert statuses(queued)["t2"] == (OutgoingStatus.PENDING, 1)
    dispatch(store=queued, sender=down, max_attempts=3)
    assert dispatch(store=queued, sender=down, max_attempts=3) == {OutgoingStatus.DEAD: 3}
    status, attempts = statuses(queued)["t3"]
    assert status is OutgoingStatus.DEAD and attempts == 3
    assert dispatch(store=queued, sender=down, max_attempts=3) == {}


def test_a_busy_gateway_is_retried_and_then_the_text_waits(queued, gateway):
    gateway.plan = [429, 429, 429]  # all three tries of the first text
    assert dispatch(store=queued, sender=HttpSender(gateway.url, pause=0.01)) == {
        OutgoingStatus.PENDING: 1, OutgoingStatus.SENT: 2}
    assert dispatch(store=queued, sender=HttpSender(gateway.url, pause=0.01)) == {OutgoingStatus.SENT: 1}
    assert sorted(t["id"] for t in gateway.taken) == ["t1", "t2", "t3"]


def test_without_a_gateway_texts_are_only_recorded(queued):
    assert dispatch(store=queued, sender=RecordingSender()) == {OutgoingStatus.RECORDED: 3}
    assert dispatch(store=queued, sender=RecordingSender()) == {}

