"""Claims: rows of an organiser's import held because their key belongs to another jurisdiction."""

from __future__ import annotations

import json
from typing import Any

from graph_schema.enums import ClaimStatus
from graph_schema.identifiers import normalize_region_code, region_prefix
from graph_schema.models import Model


def common_region(*codes: str) -> str:
    """The code prefix of the smallest region holding every one of ``codes`` (prefixes or
    12-digit codes), '' when only the whole store does: the organisers of that region (and
    above) may decide a claim between the two.

    >>> common_region("620822", "620802101203")
    '6208'
    >>> common_region("620822", "510104000000")
    ''
    """
    prefixes = [region_prefix(normalize_region_code(code)) if code else "" for code in codes]
    shared = ""
    for n in (2, 4, 6, 9, 12):
        heads = {p[:n] for p in prefixes}
        if len(heads) != 1 or any(len(p) < n for p in prefixes):
            break
        shared = heads.pop()
    return shared


class Claim(Model):
    """A claim on a record held outside the claimant's jurisdiction: the rows it holds
    (``rows``: ``[{file, row, kind, model, record}]``) are written only if it is accepted."""

    claim_id: str
    key_kind: str  # household | person | cadre | org
    record_key: str
    held_region: str
    claimant: str
    claimant_region: str
    common_region: str
    import_id: str | None = None
    rows: str  # JSON
    claimed_at: str
    status: ClaimStatus
    decided_at: str | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    outcome: str | None = None  # JSON: the rows an accepted claim could not write, and why

    @property
    def held_rows(self) -> list[dict[str, Any]]:
        return json.loads(self.rows)
