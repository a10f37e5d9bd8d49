"""Deciding a claim (``graph_schema/claims``): accepting writes the rows it holds, in the import's
dependency order, through the import's own batch paths (every rule checked again as it writes:
the household or person then moves into the claimant's region, a cadre to their station);
declining writes nothing. Either way the decision, who made it and why are kept on the claim.
"""

from __future__ import annotations

import json
from typing import Any

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.cadre.models import Cadre
from graph_schema.claims.models import Claim
from graph_schema.claims.service import set_outcome, take_claim
from graph_schema.enums import ClaimStatus
from graph_schema.household.models import Household, Person
from graph_schema.ledger.models import LedgerEntry
from graph_schema.listing.models import Listing
from graph_schema.org.models import Org
from graph_schema.pairing.models import AuxPairRequest, PairRequest
from graph_schema.store.base import GraphStore
from importers.contract import SPECS
from importers.engine import write_records

MODELS = {m.__name__: m for m in (Household, Person, Cadre, Org, PairRequest, AuxPairRequest, LedgerEntry, Listing)}
ORDER = {spec.kind: spec.order for spec in SPECS}


def accept_claim(*, store: GraphStore, claim_id: str, decided_by: str, scope: Scope = EVERYTHING,
                 note: str | None = None) -> tuple[Claim, list[dict[str, Any]]]:
    """Accept a pending claim and write its rows; returns the claim and the rows the rules refused
    (``{file, row, code, reason, reason_en}``), which are kept on the claim too."""
    claim = take_claim(store=store, claim_id=claim_id, status=ClaimStatus.ACCEPTED, decided_by=decided_by,
                       scope=scope, note=note)
    refused: list[dict[str, Any]] = []
    rows = sorted(claim.held_rows, key=lambda r: (ORDER[r["kind"]], r["file"], r["row"]))
    for kind in sorted({r["kind"] for r in rows}, key=ORDER.__getitem__):
        mine = [r for r in rows if r["kind"] == kind]
        result = write_records(store, kind, [MODELS[r["model"]].model_validate(r["record"]) for r in mine])
        refused += [{"file": mine[i]["file"], "row": mine[i]["row"], "code": error.code, "reason": error.zh,
                     "reason_en": error.en} for i, error in result.errors]
    outcome = json.dumps(refused, ensure_ascii=False)
    set_outcome(store=store, claim_id=claim_id, outcome=outcome)
    return claim.model_copy(update={"outcome": outcome}), refused


def decline_claim(*, store: GraphStore, claim_id: str, decided_by: str, scope: Scope = EVERYTHING,
                  note: str | None = None) -> Claim:
    """Decline a pending claim: its rows are not written; the other county's record stays."""
    return take_claim(store=store, claim_id=claim_id, status=ClaimStatus.DECLINED, decided_by=decided_by,
                      scope=scope, note=note)
