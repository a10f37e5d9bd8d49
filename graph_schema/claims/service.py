"""Claims on records outside an organiser's jurisdiction (跨辖区认领): recorded by an import, listed
for and decided by an organiser whose region holds both the claimant's region and the record's.

An organiser's import may name, as its own, a key that another county already holds: a person
who moved, a household number typed twice, a cadre transferred. Refusing such a row would tell the
organiser that the key exists elsewhere; writing it would change another county's record. So the
row is accepted as a new key is and held here instead (``importers/bound.py``); the claimant never
sees it, the organisers above both decide it. Accepting writes the held rows through the import's
own batch paths (``importers/claims.py``); declining records who and why. A claim is taken by its
decision in one transaction first, so two organisers never apply it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.claims.models import Claim
from graph_schema.enums import ClaimStatus
from graph_schema.errors import ClaimDecided, NotFound
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import CLAIM

_COLUMNS = ", ".join(f"c.{col} AS {col}" for col in CLAIM.columns)
_ONE = "MATCH (c:Claim {claim_id: $id})"


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def record_claims(*, store: GraphStore, claims: Sequence[Claim]) -> None:
    """Store the claims an import made (one transaction: a few rows at most)."""
    if claims:
        store.write(lambda tx: tx.create_nodes(CLAIM, [c.to_row() for c in claims]))


def claim_in(tx: Tx, claim_id: str, scope: Scope = EVERYTHING) -> Claim | None:
    rows = tx.run(f"{_ONE} WITH c{scope.claims()} RETURN {_COLUMNS}", {"id": claim_id} | scope.params)
    return Claim.from_row(rows[0]) if rows else None


def get_claim(*, store: GraphStore, claim_id: str, scope: Scope = EVERYTHING) -> Claim:
    """One claim; NotFound alike whether it does not exist or lies outside ``scope``."""
    found = store.read(lambda tx: claim_in(tx, claim_id, scope))
    if found is None:
        raise NotFound("认领", "claim", claim_id)
    return found


def list_claims(*, store: GraphStore, scope: Scope = EVERYTHING, status: ClaimStatus | None = None,
                page: PageRequest = PageRequest()) -> Page[Claim]:
    """The claims ``scope`` may decide, newest first, optionally of one status."""
    statuses = [ClaimStatus(status)] if status else list(ClaimStatus)
    match = f"MATCH (c:Claim){scope.claims()} WITH c WHERE c.status IN $statuses"
    return store.read(lambda tx: page_of(tx, match, "c", _COLUMNS, "claimed_at DESC, claim_id",
                                         scope.params | {"statuses": statuses}, page, Claim.from_row))


def take_claim(*, store: GraphStore, claim_id: str, status: ClaimStatus, decided_by: str,
               scope: Scope = EVERYTHING, note: str | None = None) -> Claim:
    """Decide a pending claim (accepted or declined): NotFound outside ``scope``, CLAIM_DECIDED
    once decided."""

    def work(tx: Tx) -> Claim:
        found = claim_in(tx, claim_id, scope)
        if found is None:
            raise NotFound("认领", "claim", claim_id)
        tx.run(f"{_ONE} SET c.status = c.status", {"id": claim_id})  # takes the claim's lock (Neo4j)
        found = claim_in(tx, claim_id)
        if found.status is not ClaimStatus.PENDING:
            raise ClaimDecided(claim_id, found.status.value)
        done = found.model_copy(update={"status": status, "decided_at": now(), "decided_by": decided_by,
                                        "decision_note": note})
        tx.run(f"{_ONE} SET c.status = $status, c.decided_at = $at, c.decided_by = $by, c.decision_note = $note",
               {"id": claim_id, "status": status, "at": done.decided_at, "by": decided_by, "note": note})
        return done

    return store.write(work)


def set_outcome(*, store: GraphStore, claim_id: str, outcome: str) -> None:
    """The rows accepting could not write, and why (JSON), once the held rows are written."""
    store.execute(f"{_ONE} SET c.outcome = $outcome", {"id": claim_id, "outcome": outcome})
