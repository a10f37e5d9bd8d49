"""The matcher's one service over the store: propose, confirm, reassign.

``propose`` loads the priority households of a region and the 在岗 cadres within reach in one read
transaction, solves, explains and returns a :class:`Proposal`; it writes nothing. ``confirm``
writes the pairs an organiser accepted, re-checking every rule in the write transaction, so a pair
the graph no longer allows is refused on its own while the rest are confirmed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import groupby

import numpy as np

from graph_schema.enums import PairingSource
from graph_schema.errors import CadreAtLimit, InvalidValue, JieduiError, ProposalStale
from graph_schema.models import today
from graph_schema.monitoring import risk
from graph_schema.pairing.exclusions import exclusions_in
from graph_schema.pairing.models import Pairing, PairRequest
from graph_schema.pairing.reach import end_active_pairings, rows_in_reach
from graph_schema.pairing.service import decide_pairings, load_pairing_state
from graph_schema.settings import RiskWeights, get_settings
from graph_schema.store import paired
from graph_schema.store.base import GraphStore, Tx
from graph_schema.region.service import resolve_scope
from graph_schema.store.schema import CADRE, HOUSEHOLD, PAIRED_WITH
from matching.candidates import Instance, Reach, build_candidates
from matching.explain import UNPAIRED_TEXT, explain
from matching.proposal import Change, EndReason, Proposal, ProposedPair, Summary, UnpairedItem, end_text
from matching.solve import solve

_REACH_DIGITS = {Reach.VILLAGE: 12, Reach.TOWNSHIP: 9, Reach.COUNTY: 6}


@dataclass
class Loaded:
    """An instance and what the explanations need beside it, indexed like its households."""

    scope: str  # the region's 12-digit code
    instance: Instance
    region_code: list[str]
    risk_score: list[int]
    risk_level: list[str]
    risk_reasons: list[list[str]]
    previous: list[str | None]  # the cadre of the active pairing, 在岗 or not
    holds_place: list[bool]  # that cadre is 在岗: the pairing holds one of its places
    fixed: int = 0  # pairs kept out of the problem (reassign)


def load_instance(*, store: GraphStore, region: str, reach: Reach = Reach.TOWNSHIP, keep_current: bool = False,
                  weights: RiskWeights | None = None) -> Loaded:
    """Priority households of ``region`` and the 在岗 cadres within ``reach`` of them, in one read.

    With ``keep_current`` the households that hold an active pairing with a 在岗 cadre (not on
    the exclusion list) stay out of the problem and their pairings count as the cadre's load: only
    the households that need a cadre are placed.
    """
    weights = weights or get_settings().risk

    def work(tx: Tx) -> Loaded:
        code, prefix = resolve_scope(tx, region)
        cadre_prefix = prefix[:_REACH_DIGITS[reach]]
        rows = rows_in_reach(tx, prefix, cadre_prefix)
        excluded = {(e.household_no, e.cadre_no) for e in exclusions_in(tx, prefix)}
        return _assemble(code, rows.households, rows.active, rows.cadres, rows.load, excluded, reach, keep_current,
                         weights)

    return store.read(work)


def _assemble(scope: str, households: list[dict], active: dict[str, dict], cadres: dict[str, dict], load: dict[str, int],
              excluded: set[tuple[str, str]], reach: Reach, keep_current: bool, weights: RiskWeights) -> Loaded:
    households = sorted(households, key=lambda r: r["household_no"])
    # A pairing with a 在岗 cadre holds a place of that cadre; it is kept for continuity unless the
    # pair is on the exclusion list (then the household must move, or the pairing is dropped).
    with_on_duty = {h: r["cadre_no"] for h, r in active.items() if r["on_duty"]}
    keepable = {h: c for h, c in with_on_duty.items() if (h, c) not in excluded}
    fixed = 0
    if keep_current:
        fixed = sum(1 for r in households if r["household_no"] in keepable)
        households = [r for r in households if r["household_no"] not in keepable]
    cadre_rows = sorted(cadres.values(), key=lambda r: r["cadre_no"])
    placed_here = Counter(with_on_duty[r["household_no"]] for r in households if r["household_no"] in with_on_duty)
    facts = [risk.RiskFacts(monitoring=r["monitoring"], tekun=r["tekun"], dibao=r["dibao"],
                            elderly_carer=r["elderly_carer"], labour=r["labour"], disabled=r["disabled"],
                            severe=r["severe"]) for r in households]
    scores = [risk.score(f, weights) for f in facts]
    records = [{"household_no": r["household_no"], "region_code": r["region_code"], "risk_score": s,
                "current_cadre_no": keepable.get(r["household_no"])} for r, s in zip(households, scores)]
    cadre_records = [{"cadre_no": c["cadre_no"], "station_code": c["station_code"], "pair_limit": c["pair_limit"],
                      "held": load.get(c["cadre_no"], 0) - placed_here.get(c["cadre_no"], 0)} for c in cadre_rows]
    return Loaded(
        scope=scope, instance=Instance.from_records(records, cadre_records, sorted(excluded), reach),
        region_code=[r["region_code"] for r in households], risk_score=scores,
        risk_level=[risk.level(s, weights).value for s in scores], risk_reasons=[risk.reasons(f) for f in facts],
        previous=[active[r["household_no"]]["cadre_no"] if r["household_no"] in active else None
                  for r in households],
        holds_place=[r["household_no"] in with_on_duty for r in households], fixed=fixed)


def propose(*, store: GraphStore, region: str, reach: Reach = Reach.TOWNSHIP, solver: str = "ortools",
            keep_current: bool = False, weights: RiskWeights | None = None) -> Proposal:
    """The optimal pairing of ``region``'s priority households (see :mod:`matching.costs`); writes nothing."""
    loaded = load_instance(store=store, region=region, reach=reach, keep_current=keep_current, weights=weights)
    graph = build_candidates(loaded.instance)
    assignment = solve(graph, solver)
    return make_proposal(loaded, explain(graph, assignment), objective=assignment.cost, reach=reach, solver=solver)


def reassign(*, store: GraphStore, region: str, reach: Reach = Reach.TOWNSHIP, solver: str = "ortools",
             weights: RiskWeights | None = None) -> Proposal:
    """After a cadre leaves or households are added: place only the households that need a cadre,
    keeping every other pairing as it is (``summary.churn`` = changed / kept)."""
    return propose(store=store, region=region, reach=reach, solver=solver, keep_current=True, weights=weights)


def make_proposal(loaded: Loaded, explained, *, objective: int, reach: Reach, solver: str) -> Proposal:
    inst = loaded.instance
    terms, left = explained
    current = inst.current[inst.current >= 0]
    over_limit = np.bincount(current, minlength=len(inst.cadre_no)) > inst.capacity  # a limit lowered since

    def ending(h: int) -> EndReason:
        """Why household ``h``'s current pairing ends, should the proposal move or drop it."""
        if not loaded.holds_place[h]:
            return EndReason.OFF_DUTY
        if inst.current[h] < 0:  # a pairing with a 在岗 cadre that the instance does not keep
            return EndReason.EXCLUDED
        return EndReason.OVER_LIMIT if over_limit[inst.current[h]] else EndReason.DISPLACED

    pairs = []
    for t in terms:
        h, cadre_no = t.household, inst.cadre_no[t.cadre]
        previous, end = loaded.previous[h], None
        if previous == cadre_no:
            change, why = Change.KEEP, "保持现有结对 / keeps the current pairing"
        elif previous is None:
            change, why = Change.NEW, "新结对 / new pairing"
        else:
            change, end = Change.MOVE, ending(h)
            why = {
                EndReason.DISPLACED: (f"调整：原干部 {previous} 在岗，为覆盖更多重点户而调整 / moved from "
                                      f"{previous} so that more priority households are covered"),
                EndReason.OVER_LIMIT: (f"调整：原干部 {previous} 结对户数超过结对上限 / moved from {previous}, "
                                       "who holds more households than their limit"),
                EndReason.EXCLUDED: (f"重新结对：原干部 {previous} 在回避名单上 / re-paired: {previous} is "
                                     "excluded from this household"),
                EndReason.OFF_DUTY: (f"重新结对：原干部 {previous} 不在岗 / re-paired: {previous} is no longer "
                                     "on duty"),
            }[end]
            if end is EndReason.DISPLACED:
                end = EndReason.COVERAGE
        risk_text = "、".join(loaded.risk_reasons[h])
        pairs.append(ProposedPair(
            household_no=inst.household_no[h], cadre_no=cadre_no, region_code=loaded.region_code[h], cost=t.cost,
            change=change, previous_cadre_no=previous, risk_score=loaded.risk_score[h],
            risk_level=loaded.risk_level[h], tier=t.tier, cadre_load=t.load, cadre_limit=t.limit,
            reasons=[f"风险 risk: {loaded.risk_score[h]}（{loaded.risk_level[h]}；{risk_text}）", why, *t.reasons()],
            end_reason=end))
    unpaired = []
    for u in left:
        h, previous = u.household, loaded.previous[u.household]
        dropped = loaded.holds_place[h]  # it holds a 在岗 cadre's place and stays unpaired: end the pairing
        unpaired.append(UnpairedItem(
            household_no=inst.household_no[h], region_code=loaded.region_code[h], reason=UNPAIRED_TEXT[u.reason],
            reason_code=u.reason.value, risk_score=loaded.risk_score[h], risk_level=loaded.risk_level[h],
            change=Change.DROP if dropped else Change.NONE, previous_cadre_no=previous,
            end_reason=ending(h) if dropped else None))
    counts = {c: sum(1 for p in pairs if p.change is c) for c in (Change.KEEP, Change.NEW, Change.MOVE)}
    dropped = sum(1 for u in unpaired if u.change is Change.DROP)
    kept = counts[Change.KEEP] + loaded.fixed
    changed = counts[Change.NEW] + counts[Change.MOVE] + dropped
    summary = Summary(priority=len(inst.household_no) + loaded.fixed, paired=len(pairs) + loaded.fixed, kept=kept,
                      new=counts[Change.NEW], moved=counts[Change.MOVE], dropped=dropped, unpaired=len(unpaired),
                      churn=round(changed / kept, 4) if kept else float(changed > 0))
    return Proposal(id=uuid.uuid4().hex, scope=loaded.scope, as_of=today(), reach=reach.name.lower(), solver=solver,
                    objective=objective, created_at=dt.datetime.now().astimezone(), pairs=pairs,
                    unpaired=unpaired, summary=summary)


@dataclass
class ConfirmResult:
    """Households paired (or moved), pairings ended for a drop, already in place, and refused."""

    confirmed: list[Pairing] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, JieduiError]] = field(default_factory=list)


def confirm(*, store: GraphStore, proposal: Proposal, only: Collection[str] | None = None,
            on: dt.date | None = None) -> ConfirmResult:
    """Write the proposal's changes (all, or those of the households in ``only``).

    Each county's changes are one transaction that re-checks every rule and that the household's
    pairing is still the one the proposal saw; a pair that fails is refused on its own (the
    household keeps what it had) and the rest are confirmed. A move is atomic: the old pairing is
    ended only if the new one is made. Pairs wait for places that other moves of the same county
    free, so the order of the file does not matter.
    """
    on = on or today()
    changes = [p for p in proposal.pairs if p.change in (Change.NEW, Change.MOVE)]
    drops = [u for u in proposal.unpaired if u.change is Change.DROP]
    if only is not None:
        wanted = set(only)
        unknown = sorted(wanted - {p.household_no for p in proposal.pairs} - {u.household_no for u in proposal.unpaired})
        if unknown:
            listed = "、".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
            raise InvalidValue("--only", listed, f"方案中没有这些户：{listed}", f"not in the proposal: {listed}")
        changes = [p for p in changes if p.household_no in wanted]
        drops = [u for u in drops if u.household_no in wanted]
    result = ConfirmResult()
    result.unchanged = [p.household_no for p in proposal.pairs if p.change is Change.KEEP
                        and (only is None or p.household_no in only)]
    county = lambda item: item.region_code[:6]  # noqa: E731
    by_county = {k: list(v) for k, v in groupby(sorted(changes, key=county), county)}
    drops_by_county = {k: list(v) for k, v in groupby(sorted(drops, key=county), county)}
    for key in sorted(set(by_county) | set(drops_by_county)):
        part, part_drops = by_county.get(key, []), drops_by_county.get(key, [])
        done = store.write(lambda tx: _confirm_in(tx, part, part_drops, proposal.id, on))
        result.confirmed += done.confirmed
        result.dropped += done.dropped
        result.unchanged += done.unchanged
        result.refused += done.refused
    return result


def _confirm_in(tx: Tx, pairs: Sequence[ProposedPair], drops: Sequence[UnpairedItem], proposal_id: str,
                on: dt.date) -> ConfirmResult:
    requests = {p.household_no: PairRequest(household_no=p.household_no, cadre_no=p.cadre_no, started_on=on,
                                            source=PairingSource.MATCHER, proposal_id=proposal_id) for p in pairs}
    state = load_pairing_state(tx, list(requests.values()), more_households=[d.household_no for d in drops])
    out, ends = ConfirmResult(), []
    for d in drops:
        found = state.active.get(d.household_no)
        if found is None:  # already given up (the proposal was confirmed before)
            out.unchanged.append(d.household_no)
            continue
        if found != d.previous_cadre_no:
            out.refused.append((d.household_no, ProposalStale(d.household_no, d.previous_cadre_no, found)))
            continue
        state.active.pop(d.household_no)
        state.load[found] -= 1
        ends.append({"household_no": d.household_no, "cadre_no": found, "ended_on": on,
                     "reason": end_text(Change.DROP, d.end_reason)})
        out.dropped.append(d.household_no)
    pending, waiting = list(pairs), {}
    while pending:
        retry = []
        for p in pending:
            found = state.active.get(p.household_no)
            if found == p.cadre_no:
                out.unchanged.append(p.household_no)
                continue
            if found != p.previous_cadre_no:
                out.refused.append((p.household_no, ProposalStale(p.household_no, p.previous_cadre_no, found)))
                continue
            if found:
                state.active.pop(p.household_no)
                state.load[found] -= 1
            new, checked = decide_pairings(state, [requests[p.household_no]])
            if checked.errors or not new:
                if found:
                    state.active[p.household_no] = found
                    state.load[found] += 1
                if not new and not checked.errors:  # the very pairing was recorded today already
                    out.unchanged.append(p.household_no)
                    continue
                error = checked.errors[0][1]
                if isinstance(error, CadreAtLimit):  # another move may still free a place
                    waiting[p.household_no] = error
                    retry.append(p)
                else:
                    out.refused.append((p.household_no, error))
                continue
            waiting.pop(p.household_no, None)
            if found:
                ends.append({"household_no": p.household_no, "cadre_no": found, "ended_on": on,
                             "reason": end_text(Change.MOVE, p.end_reason)})
            out.confirmed.extend(new)
        if len(retry) == len(pending):
            out.refused.extend((p.household_no, waiting[p.household_no]) for p in retry)
            break
        pending = retry
    end_active_pairings(tx, ends)
    tx.create_rels(PAIRED_WITH, CADRE, HOUSEHOLD,
                   [{"src": p.cadre_no, "dst": p.household_no, **p.to_row()} for p in out.confirmed])
    paired.recount(tx, [p.household_no for p in out.confirmed])  # locked by load_pairing_state
    return out
