"""The start pages of the roles that hold no region: a cadre's households with their last home
visit, and an organisation's auxiliary pairings. Both read through the caller's scope (the
cadre's or the organisation's active pairings), and the households they show are recorded as
read. Fuller pages for these roles (phone-first, offline) come later, as entries of the menu."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.web import menu, regions
from api.web.lists import show
from api.web.pages import Who
from graph_schema.access import privacy
from graph_schema.enums import LedgerKind
from graph_schema.household.service import households_in
from graph_schema.ledger.service import ledger_in
from graph_schema.models import today
from graph_schema.monitoring.visits import WINDOW_DAYS
from graph_schema.org.service import orgs_in
from graph_schema.pairing.service import cadre_households_in, org_aux_pairings_in, pairings_in

router = APIRouter(include_in_schema=False)


@router.get("/mine", response_class=HTMLResponse)
def my_households(request: Request, who: Who) -> HTMLResponse:
    """我的结对户 / the households the cadre is paired with now, the visit longest due first."""
    who.require(menu.CADRES, "查看本人结对户", "see one's own households")
    cadre_no = who.user.cadre_no or ""

    def work(tx: Any) -> tuple[dict, dict, dict]:
        numbers = cadre_households_in(tx, [cadre_no], who.scope)[cadre_no]
        return households_in(tx, numbers, who.scope), pairings_in(tx, numbers), ledger_in(tx, numbers)

    households, pairings, ledgers = who.store.read(work)
    day = today()
    rows = []
    for no, h in households.items():
        since = next((p.started_on for p in pairings[no] if p.active and p.cadre_no == cadre_no), None)
        visits = [e.entry_date for e in ledgers[no] if e.kind is LedgerKind.VISIT and e.cadre_no == cadre_no]
        last = max(visits, default=None)
        rows.append({"household": h, "since": since, "last_visit": last,
                     "days": None if last is None else (day - last).days,
                     "due": last is None or (day - last).days > WINDOW_DAYS})
    rows.sort(key=lambda r: (r["last_visit"] or dt.date.min, r["household"].household_no))
    who.read("household", list(households))
    names = regions.region_names(who.store, [h.region_code for h in households.values()])
    return show(request, who, "start/mine.html", rows=rows, names=names, window=WINDOW_DAYS, day=day)


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
