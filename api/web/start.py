"""The start page of an organisation: its auxiliary pairings, read through its scope (its active
pairings), the households shown recorded as read. (A cadre's start page, ``/mine``, is one of the
cadre's pages: ``api/web/cadre.py``.)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web import menu, regions
from api.web.lists import show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.household.service import households_in
from graph_schema.org.service import orgs_in
from graph_schema.pairing.service import org_aux_pairings_in

router = APIRouter(include_in_schema=False)


@router.get("/aux-pairings", response_class=HTMLResponse)
def aux_pairings(request: Request, who: Who) -> HTMLResponse:
    """辅助结对 / the organisation's auxiliary pairings (active ones first, then the newest)."""
    who.require(menu.ORGS, "查看本组织的辅助结对", "see one's own auxiliary pairings")
    uscc = who.user.uscc or ""

    def work(tx: Any) -> tuple[list, dict, dict]:
        pairings = org_aux_pairings_in(tx, [uscc], who.scope)[uscc]
        numbers = sorted({p.household_no for p in pairings})
        return pairings, households_in(tx, numbers, who.scope), orgs_in(tx, [uscc], who.scope)

    pairings, households, org = who.store.read(work)
    pairings = sorted(pairings, key=lambda p: (p.ended_on is not None, -p.started_on.toordinal(), p.household_no))
    who.read("household", list(households))
    names = regions.region_names(who.store, [h.region_code for h in households.values()])
    seen = {no: privacy.redact("household", h.model_dump(), who.user) for no, h in households.items()}
    return show(request, who, "start/aux_pairings.html", pairings=pairings, households=seen, names=names,
                org=org.get(uscc))
