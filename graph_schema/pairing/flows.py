"""Workflows that span several pairing steps in one transaction."""

from __future__ import annotations

import datetime as dt

from graph_schema.enums import PairingSource
from graph_schema.errors import PairingRecorded
from graph_schema.models import today
from graph_schema.pairing.models import Pairing, PairRequest
from graph_schema.pairing.service import end_in, pair_in
from graph_schema.store.base import GraphStore, Tx


def transfer(*, store: GraphStore, household_no: str, cadre_no: str, reason: str = "干部调整",
             on: dt.date | None = None) -> tuple[Pairing, Pairing]:
    """Move a household to another cadre: end the active pairing and pair anew, all or nothing.

    Returns ``(ended, new)``. If the new cadre is refused (not 在岗, at the limit, unknown), the
    old pairing is left untouched.
    """
    on = on or today()

    def work(tx: Tx) -> tuple[Pairing, Pairing]:
        ended = end_in(tx, household_no, on, reason)
        made, result = pair_in(tx, [PairRequest(household_no=household_no, cadre_no=cadre_no, started_on=on,
                                                source=PairingSource.TRANSFER)])
        if result.errors:
            raise result.errors[0][1]
        if not made:  # this very pairing was recorded before, and has ended
            raise PairingRecorded(household_no, cadre_no, on)
        return ended, made[0]

    return store.write(work)
