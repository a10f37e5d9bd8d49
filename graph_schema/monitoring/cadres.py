"""Cadre load (干部结对负荷): which cadres are full, over their limit, or gone while still paired?

The scope's cadres are those stationed in the region (驻点区划 under it). A cadre's load on ``as_of``
is the number of 一对一 pairings active that day: started on or before ``as_of`` and not ended, or
ended after it (a pairing ended on ``as_of`` no longer counts). Listed are:

- 超额: a 在岗 cadre whose load is above their 结对上限 (imports record pairings as they stand, and
  a limit can be lowered after the pairings were made);
- 不在岗仍有结对: a cadre not 在岗 who still holds active pairings; each of those households needs
  a new cadre (whatever the load compared with the limit);
- 满额: a 在岗 cadre whose load equals their limit (no room for another household).

``households`` are the 户编号 of the active pairings with households in the region, sorted: a
cadre stationed here may also hold households elsewhere, which count in the load but are not named
(they may lie outside the caller's jurisdiction). Order: 超额, 不在岗仍有结对, 满额, then
the highest load first, then 干部编号.

A cadre's station, 是否在岗, 结对上限 and name are taken as they were on ``as_of``
(:mod:`graph_schema.history`), and a cadre the store gained after ``as_of`` is not listed for it:
a cadre who left later still counts as 在岗 on a day before, and later imports never change a
past answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from graph_schema import history
from graph_schema.monitoring.common import Report, as_of_or_today, paginate
from graph_schema.monitoring.past import ACTIVE_ON, keyed_rows
from graph_schema.pagination import Page, PageRequest
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import FROM_KEY, GraphStore, Tx
from graph_schema.store.schema import CADRE, HOUSEHOLD

OVER_LIMIT = "超额"
OFF_DUTY_PAIRED = "不在岗仍有结对"
AT_LIMIT = "满额"
_FINDING_ORDER = {OVER_LIMIT: 0, OFF_DUTY_PAIRED: 1, AT_LIMIT: 2}

#: The one-to-one pairings active on ``$as_of`` of the scope's cadres (leaves ``c``, ``r``, ``h``).
_ACTIVE = ("MATCH (c:Cadre) WHERE c.station_code STARTS WITH $prefix "
           "MATCH (c)-[r:PAIRED_WITH]->(h:Household) WHERE r.started_on <= $as_of "
           "AND (r.ended_on IS NULL OR r.ended_on > $as_of) ")
#: The scope's cadres holding active pairings on ``as_of`` that are full, over the limit or off duty.
LOADED_CADRES = (
    _ACTIVE + "WITH c, count(r) AS n, collect(h.household_no) AS household_nos, collect(h.region_code) AS regions "
    "WHERE NOT c.on_duty OR n >= c.pair_limit "
    "RETURN c.cadre_no AS cadre_no, c.name AS name, c.station_code AS station_code, c.on_duty AS on_duty, "
    "c.pair_limit AS pair_limit, n AS load, household_nos AS households, regions AS regions"
)
#: The same cadres for the current answer, counted and ordered on the server (up to the RETURN):
#: only the page's cadres travel, whose households are then read by key. Reading every listed
#: cadre with its households took 1.5–2.1 s for the province on Neo4j (23,290 cadres), against 0.5.
_LOADED_PAGE = _ACTIVE + "WITH c, count(r) AS n WHERE NOT c.on_duty OR n >= c.pair_limit "
_PAGE_COLUMNS = {"cadre_no": "c.cadre_no", "name": "c.name", "station_code": "c.station_code", "on_duty": "c.on_duty",
                 "pair_limit": "c.pair_limit", "load": "n",
                 "rank": f"CASE WHEN NOT c.on_duty THEN {_FINDING_ORDER[OFF_DUTY_PAIRED]} "
                         f"WHEN n > c.pair_limit THEN {_FINDING_ORDER[OVER_LIMIT]} ELSE {_FINDING_ORDER[AT_LIMIT]} END"}

#: The households of the one-to-one pairings active on ``as_of`` of cadres named by key.
PAIRED_WITH_CADRES = (
    f"UNWIND $keys AS k MATCH (c:Cadre {{cadre_no: k}}) {FROM_KEY} (c)-[r:PAIRED_WITH]->(h:Household) "
    f"WHERE {ACTIVE_ON} RETURN c.cadre_no AS cadre_no, h.household_no AS household_no, h.region_code AS region_code"
)


@dataclass(frozen=True)
class CadreLoad:
    cadre_no: str
    name: str
    station_code: str
    on_duty: bool
    pair_limit: int
    load: int
    finding: str
    households: list[str]


def cadre_load(*, store: GraphStore, region: str, as_of: dt.date | None = None,
               page: PageRequest = PageRequest(), **_: object) -> Page[CadreLoad]:
    """Cadres of ``region`` at or over their 结对上限, or not 在岗 but still paired, on ``as_of``
    (default today; duty status is today's, see the module docstring)."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[CadreLoad]:
        params = {"prefix": resolve_scope(tx, region)[1], "as_of": as_of}
        past = history.past(tx, as_of)
        if past is None:
            return _first_page(tx, params, page)
        found = _as_it_was(tx, past, tx.run(LOADED_CADRES, params), params)
        rows = [_row(r, params["prefix"]) for r in found]
        rows.sort(key=lambda r: (_FINDING_ORDER[r.finding], -r.load, r.cadre_no))
        return paginate(rows, page)

    return store.read(work)


def _first_page(tx: Tx, params: dict, page: PageRequest) -> Page[CadreLoad]:
    """A page of the current answer: the cadres counted, ordered and cut on the server, then the
    households of the page's cadres."""
    total, head = tx.ordered_page(_LOADED_PAGE, _PAGE_COLUMNS, "rank, load DESC, cadre_no", params,
                                  page.skip, page.page_size)
    households = _households_of(tx, [r["cadre_no"] for r in head], params)
    rows = [_row(r | {"households": [h for h, _ in households[r["cadre_no"]]],
                      "regions": [code for _, code in households[r["cadre_no"]]]}, params["prefix"]) for r in head]
    return Page(rows, total, page.page, page.page_size)


def _households_of(tx: Tx, cadre_nos: list[str], params: dict) -> dict[str, list[tuple[str, str]]]:
    """Each cadre's households of the pairings active on ``$as_of``, with their villages."""
    households: dict[str, list[tuple[str, str]]] = {no: [] for no in cadre_nos}
    for r in keyed_rows(tx, PAIRED_WITH_CADRES, households, params):
        if r["household_no"] is not None:
            households[r["cadre_no"]].append((r["household_no"], r["region_code"]))
    return households


def _as_it_was(tx: Tx, past: history.Past, rows: list[dict], params: dict) -> list[dict]:
    """``rows`` with the cadres changed since the day made again from their state of the day."""
    changed = past.touched(CADRE)
    kept = [r for r in rows if r["cadre_no"] not in changed]
    cadres = [c for c in history.then(past, CADRE, fetch_by_keys(tx, CADRE, sorted(changed), CADRE.columns).values())
              if c["station_code"].startswith(params["prefix"])]
    households = _households_of(tx, [c["cadre_no"] for c in cadres], params)
    for c in cadres:
        paired = households[c["cadre_no"]]
        if paired and (not c["on_duty"] or len(paired) >= c["pair_limit"]):
            kept.append({**c, "load": len(paired), "households": [h for h, _ in paired],
                         "regions": [r for _, r in paired]})
    # the village each named household lay in on the day, for those that moved since
    moved = past.touched(HOUSEHOLD) & {h for r in kept for h in r["households"]}
    if moved:
        then = {h["household_no"]: h["region_code"] for h in history.then(
            past, HOUSEHOLD, fetch_by_keys(tx, HOUSEHOLD, sorted(moved), HOUSEHOLD.columns).values())}
        kept = [{**r, "regions": [then.get(h, code) for h, code in zip(r["households"], r["regions"])]} for r in kept]
    return kept


def _row(row: dict, prefix: str) -> CadreLoad:
    load, limit = int(row["load"]), row["pair_limit"]
    if not row["on_duty"]:
        finding = OFF_DUTY_PAIRED
    else:
        finding = OVER_LIMIT if load > limit else AT_LIMIT
    return CadreLoad(cadre_no=row["cadre_no"], name=row["name"], station_code=row["station_code"],
                     on_duty=row["on_duty"], pair_limit=limit, load=load, finding=finding,
                     households=sorted(h for h, code in zip(row["households"], row["regions"])
                                       if code.startswith(prefix)))


CADRE_LOAD = Report(
    name="cadre-load", title="干部结对负荷 / cadre load", row=CadreLoad,
    headers={"cadre_no": "干部编号", "name": "姓名", "station_code": "驻点区划", "on_duty": "是否在岗",
             "pair_limit": "结对上限", "load": "当前结对数", "finding": "问题", "households": "结对户编号"},
    run=cadre_load)
