"""结对匹配 / matching in the console (organisers, admins): propose the pairing of a region of the
caller's jurisdiction as a job, review it pair by pair, confirm all of it or the chosen pairs.

The proposal stays on the server, in the job's result: the browser sends back only the household
numbers it chose, and :func:`api.operations.confirm` re-checks every rule and the caller's scope as
it does for a proposal file.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from api import operations
from api.auth import ORGANISERS, Caller
from api.web import regions
from api.jobs import Job, runner
from api.web.lists import page_number, pager
from api.web.pages import Who, _top_region, render
from graph_schema.cadre.service import cadres_in
from graph_schema.household.service import households_in
from graph_schema.identifiers import RegionLevel
from graph_schema.monitoring.common import paginate
from graph_schema.pagination import PageRequest
from graph_schema.region.models import Region
from graph_schema.region.service import child_regions, get_region
from matching.candidates import Reach
from matching.proposal import Change, Proposal, ProposedPair, UnpairedItem

router = APIRouter(include_in_schema=False)
KIND = "matching"
MAX_REGIONS = 400
KEPT_SHOWN = 500  # kept pairs listed on the page (the summary counts them all)
PAGE_SIZE = 50  # changed pairs, and households left unpaired, per page
REACHES = [("village", "同村 / same village"), ("township", "同乡镇 / same township"), ("county", "同县 / same county")]
CHANGES = {"new": "新结对 / new", "move": "调整 / move", "keep": "保持 / keep", "drop": "让出 / drop",
           "none": "仍未结对 / stays unpaired"}


def _regions(who: Caller) -> list[Region]:
    """The caller's region, its children and grandchildren (a county's townships), in code order."""
    base_code = who.user.region_code or _top_region(who)
    base = get_region(store=who.store, code=base_code) or Region(code=base_code)
    out = [base]
    for child in child_regions(store=who.store, code=base.code):
        out.append(child)
        if child.level is not RegionLevel.VILLAGE and base.level is not RegionLevel.COUNTY:
            out.extend(child_regions(store=who.store, code=child.code))
        if len(out) >= MAX_REGIONS:
            break
    return out[:MAX_REGIONS]


def _form(request: Request, who: Caller, error: str | None = None, status: int = 200,
          region: str | None = None, reach: str = "township") -> HTMLResponse:
    answer = render(request, who, "matching.html", regions=_regions(who), reaches=REACHES, error=error,
                    chosen=region, reach=reach, jobs=runner(request).mine(who, KIND)[:10])
    answer.status_code = status
    return answer


@router.get("/matching", response_class=HTMLResponse)
def matching_page(request: Request, who: Who) -> HTMLResponse:
    who.require(ORGANISERS, "生成结对方案", "propose pairings")
    return _form(request, who)


@router.post("/matching", response_class=HTMLResponse, response_model=None)
def start(request: Request, who: Who, region: Annotated[str, Form()] = "", reach: Annotated[str, Form()] = "township",
          keep_current: Annotated[str, Form()] = "") -> HTMLResponse | RedirectResponse:
    """Start a proposal job for the region (checked against the caller's jurisdiction first)."""
    who.require(ORGANISERS, "生成结对方案", "propose pairings")
    if reach not in {r for r, _ in REACHES}:
        return _form(request, who, "范围无效 / invalid reach", 422, region, "township")
    code = regions.code12(who.scope.region(region.strip() or None))  # NotFound outside the jurisdiction
    found = get_region(store=who.store, code=code)
    name = found.name if found else code
    keep = keep_current in ("on", "true", "1")

    def work(job: Job) -> Proposal:
        job.report(None, f"求解中 / solving: {name}")
        return operations.propose(who, code, Reach.parse(reach), keep)

    title = f"结对方案 / proposal: {name}（{code}，{dict(REACHES)[reach]}{'，保留现有结对 / keep current' if keep else ''}）"
    job = runner(request).start(KIND, title, who, work)
    return RedirectResponse(job.page, status_code=303)


@router.get("/matching/{job_id}", response_class=HTMLResponse)
def proposal_page(job_id: str, request: Request, who: Who, page: int | None = None,
                  left_page: int | None = None) -> HTMLResponse:
    """The proposal: the changes to confirm and the households left unpaired, a page of each at a
    time, with the names of the households' heads and of the cadres."""
    who.require(ORGANISERS, "查看结对方案", "read proposals")
    job = runner(request).get(who, job_id, KIND)
    proposal: Proposal | None = job.result
    values: dict = {}
    if proposal is not None:
        changed = [p for p in proposal.pairs if p.change in (Change.NEW, Change.MOVE)]
        kept = [p for p in proposal.pairs if p.change is Change.KEEP]
        left = [u for u in proposal.unpaired if u.change is not Change.DROP]
        drops = [u for u in proposal.unpaired if u.change is Change.DROP]
        shown = paginate(changed, PageRequest(page_number(page), PAGE_SIZE, 10**9))
        shown_left = paginate(left, PageRequest(page_number(left_page), PAGE_SIZE, 10**9))
        values = {"changed": shown.items, "changed_total": len(changed), "kept": kept, "drops": drops,
                  "pager": pager(shown, request, "page", "#changed-heading"), "left": shown_left.items,
                  "left_total": len(left), "left_pager": pager(shown_left, request, "left_page", "#unpaired-heading")}
        values |= _names(who, [*shown.items, *kept[:KEPT_SHOWN]], [*shown_left.items, *drops],
                         job.extra.get("confirmation"))
    confirmation = job.extra.get("confirmation")
    settled = set()  # households whose change is now in place: no longer offered
    if confirmation:
        settled = {h for h, _ in confirmation["confirmed"]} | set(confirmation["dropped"]) | set(confirmation["unchanged"])
    return render(request, who, "matching_job.html", job=job, proposal=proposal, kept_shown=KEPT_SHOWN,
                  changes=CHANGES, confirmation=confirmation, settled=settled,
                  error=request.query_params.get("error"), **values)


def _names(who: Caller, pairs: list[ProposedPair], unpaired: list[UnpairedItem],
           confirmation: dict | None) -> dict[str, dict[str, str]]:
    """The names of the households' heads and of the cadres the page shows, in one read."""
    confirmed = (confirmation or {}).get("confirmed", [])
    households = {p.household_no for p in [*pairs, *unpaired]} | {h for h, _ in confirmed}
    cadre_nos = {p.cadre_no for p in pairs} | {c for _, c in confirmed} | {
        x.previous_cadre_no for x in [*pairs, *unpaired] if x.previous_cadre_no}
    heads, cadres = who.store.read(lambda tx: (households_in(tx, sorted(households), who.scope),
                                               cadres_in(tx, sorted(cadre_nos), who.scope)))
    return {"heads": {no: h.head_name for no, h in heads.items()}, "cadres": {no: c.name for no, c in cadres.items()}}


@router.post("/matching/{job_id}/confirm")
async def confirm(job_id: str, request: Request, who: Who) -> RedirectResponse:
    """Confirm the chosen households' changes (``action=selected``) or all of them (``action=all``)."""
    who.require(ORGANISERS, "确认结对方案", "confirm a proposal")
    job = runner(request).get(who, job_id, KIND)
    if job.result is None:
        return RedirectResponse(job.page, status_code=303)
    form = await request.form()
    chosen = [str(v) for v in form.getlist("household")]
    everything = form.get("action") == "all"
    if not everything and not chosen:
        return RedirectResponse(f"{job.page}?error=none#confirm-heading", status_code=303)
    result = await run_in_threadpool(operations.confirm, who, job.result, None if everything else chosen)
    job.extra["confirmation"] = {
        "all": everything,
        "confirmed": [(p.household_no, p.cadre_no) for p in result.confirmed],
        "dropped": list(result.dropped),
        "unchanged": list(result.unchanged),
        "refused": [(no, exc.zh, exc.en) for no, exc in result.refused],
    }
    return RedirectResponse(f"{job.page}#confirmation", status_code=303)
