"""Idempotency keys in the store, on both engines: one claim per user and key, the first answer
kept and given back, a key reused for another request refused, a repeat in flight told to wait, a
claim left by a stopped process taken over, old answers purged; and of many claims at once,
exactly one wins."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from graph_schema.access import idempotency
from graph_schema.access.idempotency import Claim, Reply, claim, keep, purge, release
from graph_schema.errors import IdempotencyKeyReused, RequestInProgress
from graph_schema.store import GraphStore

NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.timezone.utc)
ANSWER = Reply(201, [("content-type", "application/json"), ("location", "/x")], '{"已记录": true}'.encode())


def test_the_first_request_claims_and_a_repeat_gets_its_kept_answer(store: GraphStore):
    first = claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    assert isinstance(first, Claim)
    assert keep(store=store, claimed=first, reply=ANSWER, at=NOW)
    assert claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW) == ANSWER


def test_a_repeat_while_the_first_runs_is_told_to_wait(store: GraphStore):
    claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    with pytest.raises(RequestInProgress) as refused:
        claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW + dt.timedelta(seconds=30))
    assert refused.value.code == "IDEMPOTENCY_IN_PROGRESS" and refused.value.zh and refused.value.en


def test_a_key_sent_with_another_request_is_refused(store: GraphStore):
    first = claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    keep(store=store, claimed=first, reply=ANSWER, at=NOW)
    with pytest.raises(IdempotencyKeyReused) as refused:
        claim(store=store, user_id="u1", key="k", fingerprint="another body", at=NOW)
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED" and refused.value.details["field"] == "Idempotency-Key"


def test_users_never_share_a_key(store: GraphStore):
    mine = claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    keep(store=store, claimed=mine, reply=ANSWER, at=NOW)
    theirs = claim(store=store, user_id="u2", key="k", fingerprint="other", at=NOW)
    assert isinstance(theirs, Claim) and theirs.reply_key != mine.reply_key
    stored = store.query("MATCH (r:IdempotentReply) RETURN r.reply_key AS k")
    assert all("k" != row["k"] and len(row["k"]) == 64 for row in stored)  # the key a client chose is not stored


def test_a_released_key_is_decided_afresh(store: GraphStore):
    first = claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    release(store=store, claimed=first)
    again = claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    assert isinstance(again, Claim) and again.claim != first.claim
    keep(store=store, claimed=again, reply=ANSWER, at=NOW)
    release(store=store, claimed=again)  # a kept answer is not released by a late call
    assert claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW) == ANSWER


def test_a_claim_left_by_a_stopped_process_is_taken_over(store: GraphStore):
    stale = claim(store=store, user_id="u1", key="k", fingerprint="f", at=NOW)
    later = NOW + idempotency.LEASE + dt.timedelta(seconds=1)
    taken = claim(store=store, user_id="u1", key="k", fingerprint="f", at=later)
    assert isinstance(taken, Claim) and taken.claim != stale.claim
    assert not keep(store=store, claimed=stale, reply=Reply(500, [], b"late"), at=later)  # the old one keeps nothing
    assert keep(store=store, claimed=taken, reply=ANSWER, at=later)
    assert claim(store=store, user_id="u1", key="k", fingerprint="f", at=later) == ANSWER


def test_answers_past_their_retention_are_purged(store: GraphStore):
    for n, at in enumerate((NOW - dt.timedelta(days=40), NOW - dt.timedelta(days=31), NOW - dt.timedelta(days=2))):
        keep(store=store, claimed=claim(store=store, user_id="u1", key=f"k{n}", fingerprint="f", at=at), reply=ANSWER,
             at=at)
    assert purge(store=store, before=NOW - dt.timedelta(days=30)) == 2
    assert purge(store=store, before=NOW - dt.timedelta(days=30)) == 0
    assert claim(store=store, user_id="u1", key="k2", fingerprint="f", at=NOW) == ANSWER
    assert isinstance(claim(store=store, user_id="u1", key="k0", fingerprint="f", at=NOW), Claim)


def test_of_many_claims_at_once_exactly_one_wins(store: GraphStore, other_client):
    """Eight clients claim the same key at the same moment (separate connections on Neo4j, one
    process's threads on the embedded engine): one claim, the others told to wait."""
    clients = [other_client() for _ in range(8)]
    start = threading.Barrier(len(clients))
    outcomes: list[object] = []

    def attempt(client: GraphStore) -> None:
        start.wait()
        try:
            outcomes.append(claim(store=client, user_id="u1", key="same", fingerprint="f", at=NOW))
        except RequestInProgress as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 8
    assert sum(isinstance(o, Claim) for o in outcomes) == 1
    assert sum(isinstance(o, RequestInProgress) for o in outcomes) == 7
    assert store.query("MATCH (r:IdempotentReply) RETURN count(r) AS n")[0]["n"] == 1
