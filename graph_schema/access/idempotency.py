"""Idempotency keys: the first answer to a request is kept, and a repeat gets it back.

A phone on a weak signal often loses the answer to a request that did reach the service; it
cannot tell a lost request from a lost answer, so it sends the request again. A client that
names each request with a key of its own making (the ``Idempotency-Key`` header, a UUID) is
answered the second time with what the first time answered, and the work is not done twice.

The rules, per user and key (two users' keys never meet):

- The first request **claims** the key (an ``IdempotentReply`` node, made by ``MERGE`` on its
  unique key, so of two requests at once exactly one claims it, on both engines) and does the work.
- When it has answered, the answer is **kept** if it did something (status below 400) and is no
  larger than :data:`MAX_BODY` bytes; otherwise the key is **released**: a refusal changed
  nothing, so a repeat is decided afresh (a CSRF token or a sign-in that has since been renewed,
  a household since paired again).
- A repeat of a kept request gets the kept answer. A repeat while the first still runs is
  refused with :class:`RequestInProgress` (409; retry). A claim older than :data:`LEASE` with no
  answer was left by a process that stopped, and the repeat takes it over.
- The key sent with another request (another method, address or body: the *fingerprint*
  differs) is refused with :class:`IdempotencyKeyReused` (422).

Kept answers are deleted :func:`purge` after the retention the service is configured with
(``JIEDUI_IDEMPOTENCY_DAYS``, 30 by default). What the HTTP layer does around these functions
(which requests, which headers) is ``api/idempotency.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from graph_schema.errors import IdempotencyKeyReused, RequestInProgress
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import IDEMPOTENT_REPLY

#: how long a claim without an answer holds its key (a request that takes longer is not expected:
#: the service's slowest writes, imports, answer at once and run in the background)
LEASE = dt.timedelta(minutes=5)
#: the largest answer kept (larger ones release the key, so a repeat runs again)
MAX_BODY = 1024 * 1024
PURGE_BATCH = 10_000

_CLAIM = (
    "MERGE (r:IdempotentReply {reply_key: $key}) "
    "ON CREATE SET r.user_id = $user, r.fingerprint = $fingerprint, r.claim = $claim, r.claimed_at = $now "
    "RETURN r.claim AS claim, r.claimed_at AS claimed_at, r.fingerprint AS fingerprint, r.status AS status, "
    "r.header_json AS header_json, r.body_b64 AS body_b64"
)
_TAKE_OVER = ("MATCH (r:IdempotentReply {reply_key: $key}) WHERE r.claim = $old AND r.status IS NULL "
              "SET r.claim = $claim, r.claimed_at = $now RETURN r.claim AS claim")
_KEEP = ("MATCH (r:IdempotentReply {reply_key: $key}) WHERE r.claim = $claim "
         "SET r.status = $status, r.header_json = $header_json, r.body_b64 = $body_b64, r.done_at = $now RETURN r.reply_key AS k")
_RELEASE = "MATCH (r:IdempotentReply {reply_key: $key}) WHERE r.claim = $claim AND r.status IS NULL DELETE r"
_OLD = "MATCH (r:IdempotentReply) WHERE r.claimed_at < $before RETURN r.reply_key AS k LIMIT $limit"
_DELETE = "UNWIND $keys AS k MATCH (r:IdempotentReply {reply_key: k}) DELETE r"


@dataclass(frozen=True)
class Reply:
    """An answer as it was sent: status, headers (names in lower case) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """The key is this request's: do the work, then :func:`keep` the answer or :func:`release`."""

    reply_key: str
    claim: str


def reply_key(user_id: str, key: str) -> str:
    """The stored key of a user's idempotency key: users never share one, and the stored form
    says nothing of the key a client chose."""
    return hashlib.sha256(f"{user_id}\x1f{key}".encode()).hexdigest()


def _now(at: dt.datetime | None) -> str:
    return (at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def claim(*, store: GraphStore, user_id: str, key: str, fingerprint: str,
          at: dt.datetime | None = None) -> Claim | Reply:
    """Claim ``key`` for a request whose ``fingerprint`` (a hash of its method, address and body)
    is given: a :class:`Claim` when this request is to do the work, the kept :class:`Reply` when
    an earlier one did. Raises :class:`RequestInProgress` or :class:`IdempotencyKeyReused`."""
    now = _now(at)
    stale = _now((at or dt.datetime.now(dt.timezone.utc)) - LEASE)
    mine = Claim(reply_key(user_id, key), uuid.uuid4().hex)

    def work(tx: Tx) -> Claim | Reply:
        row = tx.run(_CLAIM, {"key": mine.reply_key, "user": user_id, "fingerprint": fingerprint,
                              "claim": mine.claim, "now": now})[0]
        if row["claim"] == mine.claim:
            return mine
        if row["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(key)
        if row["status"] is not None:
            return Reply(row["status"], [tuple(h) for h in json.loads(row["header_json"])],
                         base64.b64decode(row["body_b64"]))
        if row["claimed_at"] < stale and tx.run(_TAKE_OVER, {"key": mine.reply_key, "old": row["claim"],
                                                             "claim": mine.claim, "now": now}):
            return mine
        raise RequestInProgress()

    return store.write(work)


def keep(*, store: GraphStore, claimed: Claim, reply: Reply, at: dt.datetime | None = None) -> bool:
    """Keep the answer of the request that holds ``claimed``; False if the claim was taken over
    meanwhile (its request ran past :data:`LEASE`), in which case nothing is kept."""
    params = {"key": claimed.reply_key, "claim": claimed.claim, "status": reply.status,
              "header_json": json.dumps([list(h) for h in reply.headers], ensure_ascii=False),
              "body_b64": base64.b64encode(reply.body).decode("ascii"), "now": _now(at)}
    return bool(store.write(lambda tx: tx.run(_KEEP, params)))


def release(*, store: GraphStore, claimed: Claim) -> None:
    """Give the key back unanswered: a repeat of the request will be decided afresh."""
    store.write(lambda tx: tx.run(_RELEASE, {"key": claimed.reply_key, "claim": claimed.claim}))


def purge(*, store: GraphStore, before: dt.datetime) -> int:
    """Delete the replies claimed before ``before`` (in batches); returns how many."""
    cutoff = _now(before)
    deleted = 0
    while True:
        keys = [r["k"] for r in store.query(_OLD, {"before": cutoff, "limit": PURGE_BATCH})]
        if not keys:
            return deleted
        store.write(lambda tx, keys=keys: tx.run(_DELETE, {"keys": keys}))
        deleted += len(keys)
