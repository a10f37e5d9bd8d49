"""Service deserts: where people need a kind of service and no offer reaches them.

A **village** is a desert for a category on ``as_of`` when a person in it has a confirmed need of
that category open on ``as_of`` (the registry's 需求 column counts) and no offer of a service of
that category, active on ``as_of``, covers the village (an offer covers its region and everything
under it; definitions in ``graph_schema.service.facts``). A **township** is listed when every one
of its villages with such a need is a desert, so no one in need there is reached. The question
joins people, needs, services, offers and the region tree; no single list answers it.

Rows hold no names: ``persons_in_need`` counts the persons with an open need of the category
(in a township row, those of its desert villages), ``villages_in_need`` and ``desert_villages``
count villages (1 and 1 in a village row). Ordered by region code, then category in the
catalogue's order; townships come before their villages.

The persons with an open need on a day of today's state are read from the counties' kept tallies
(``graph_schema.service.tally``; on Neo4j the deserts are found, ordered and cut on the server); a
past day whose state has changed since is counted person by person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from graph_schema.enums import ServiceCategory
from graph_schema.identifiers import region_ancestors, region_level
from graph_schema.monitoring.common import Report, as_of_or_today, scope_today
from graph_schema.pagination import Page, PageRequest
from graph_schema.records import fetch_by_keys
from graph_schema.service import tally
from graph_schema.service.catalogue import catalogue_in
from graph_schema.service.facts import all_offers, load_facts
from graph_schema.store.base import Dialect, GraphStore, Tx
from graph_schema.store.schema import REGION

_ORDER = {c.value: i for i, c in enumerate(ServiceCategory)}


@dataclass(frozen=True)
class ServiceDesert:
    region_code: str
    region_name: str | None
    level: str
    category: str
    persons_in_need: int
    villages_in_need: int
    desert_villages: int


def service_deserts(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                    page: PageRequest = PageRequest(), **_) -> Page[ServiceDesert]:
    as_of = as_of_or_today(as_of)

    _, prefix, current = scope_today(store, region, as_of)
    if current and store.dialect is Dialect.NEO4J:
        builds = sorted(tally.current_builds(store, prefix, as_of.year).values())
        total, shown = store.read(lambda tx: _kept_page_on_server(tx, builds, prefix, as_of, page))
    else:
        # the state of today: the persons with an open need from the counties' kept tallies
        kept = tally.open_needs(store, prefix, as_of) if current else None
        rows = store.read(lambda tx: _deserts(tx, kept if kept is not None else open_in(tx, prefix, as_of), as_of))
        total, shown = len(rows), rows[page.skip:page.skip + page.page_size]
    # the names of the page's regions only (a province's list names 15k villages)
    names = store.read(lambda tx: fetch_by_keys(tx, REGION, sorted({r[0] for r in shown}), ["code", "name"]))
    return Page([ServiceDesert(region_code=code, region_name=(names.get(code) or {}).get("name"),
                               level=region_level(code).label, category=category, persons_in_need=persons,
                               villages_in_need=villages, desert_villages=desert)
                 for code, category, persons, villages, desert in shown], total, page.page, page.page_size)


def _covered(tx: Tx, as_of: dt.date) -> dict[str, set[str]]:
    """category → the regions its offers active on ``as_of`` cover."""
    catalogue = catalogue_in(tx)
    covered: dict[str, set[str]] = defaultdict(set)
    for o, _ in all_offers(tx):
        if o.active_on(as_of):
            covered[catalogue.category(o.service_code)].add(o.region_code)
    return covered


def _deserts(tx: Tx, in_need: dict[tuple[str, str], int], as_of: dt.date) -> list[tuple[str, str, int, int, int]]:
    """The rows ``(region, category, persons, villages in need, desert villages)`` of the villages
    and townships ``in_need`` (``(village, category)`` → persons) makes deserts, in the list's order."""
    covered = _covered(tx, as_of)
    ancestry = {village: (village, *region_ancestors(village)) for village in {v for v, _ in in_need}}
    deserts = {(village, category) for village, category in in_need
               if not any(code in covered[category] for code in ancestry[village])}
    townships: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for key in in_need:
        townships[key[0][:9].ljust(12, "0"), key[1]].append(key)
    rows = [(village, category, in_need[village, category], 1, 1) for village, category in deserts]
    for (township, category), keys in townships.items():
        if all(k in deserts for k in keys):
            rows.append((township, category, sum(in_need[k] for k in keys), len(keys), len(keys)))
    return sorted(rows, key=lambda r: (r[0], _ORDER.get(r[1], len(_ORDER))))


#: On Neo4j, :func:`_deserts` of today's tallies on the server, as rows ordered, counted and cut
#: there: a province's 107k villages and categories in need carried to Python took 1.6–2.8 s,
#: mostly the driver decoding them. ``$covered``: category → {region code: true} of its active
#: offers; a village's regions are its own and its ancestors' (``region_ancestors``), its township's
#: code its first nine digits'. A township's row carries its villages' persons when every one of
#: its villages in need of the category is a desert.
_DESERTS_NEO4J = (
    tally.OPEN_ON_DAY
    + "WITH village, category, persons, none(code IN [village, left(village, 9) + '000', "
      "left(village, 6) + '000000', left(village, 4) + '00000000', left(village, 2) + '0000000000'] "
      "WHERE coalesce($covered[category][code], false)) AS desert "
      "WITH left(village, 9) + '000' AS township, category, count(*) AS in_need, "
      "collect(CASE WHEN desert THEN {code: village, persons: persons} END) AS deserts "
      "UNWIND deserts + CASE WHEN size(deserts) = in_need THEN "
      "[{code: township, persons: reduce(n = 0, d IN deserts | n + d.persons), villages: in_need}] ELSE [] END AS row "
)
_DESERT_COLUMNS = {"region_code": "row.code", "category": "category", "persons": "row.persons",
                   "villages": "coalesce(row.villages, 1)", "rank": "coalesce($order[category], $last)"}


def _kept_page_on_server(tx: Tx, builds: list[str], prefix: str, as_of: dt.date,
                         page: PageRequest) -> tuple[int, list[tuple[str, str, int, int, int]]]:
    covered = {category: dict.fromkeys(codes, True) for category, codes in _covered(tx, as_of).items()}
    params = {"builds": builds, "prefix": prefix, "as_of": as_of, "covered": covered, "order": _ORDER,
              "last": len(_ORDER)}
    total, rows = tx.ordered_page(_DESERTS_NEO4J, _DESERT_COLUMNS, "region_code, rank", params, page.skip,
                                  page.page_size)
    return total, [(r["region_code"], r["category"], r["persons"], r["villages"], r["villages"]) for r in rows]


def open_in(tx: Tx, prefix: str, as_of: dt.date) -> dict[tuple[str, str], int]:
    """``(village, category)`` → the scope's persons with a need of the category open on
    ``as_of``, counted person by person (a past day's state as remade from the history)."""
    facts = load_facts(tx, prefix, as_of, deliveries=False)
    in_need: dict[tuple[str, str], int] = defaultdict(int)
    for number, person in facts.persons.items():
        for category in {e.category for e in facts.episodes(number) if e.open_on(as_of)}:
            in_need[person.region_code, category] += 1
    return in_need


SERVICE_DESERTS = Report(
    name="service-deserts", title="服务空白区域 / service deserts: needs that no offer reaches",
    row=ServiceDesert,
    headers={"region_code": "区划代码", "region_name": "区划名称", "level": "层级", "category": "类别",
             "persons_in_need": "有需求人数", "villages_in_need": "有需求的村", "desert_villages": "无服务覆盖的村"},
    run=service_deserts)
