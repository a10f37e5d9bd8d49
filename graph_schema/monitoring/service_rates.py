"""Service rates (基本康复服务率, 辅助器具适配率 …): per region and its children, per category, for a
period (data contract).

For each category and the period ``period_start`` (default 1 January) … ``as_of``, both days
included:

- ``persons_in_need`` (the denominator): the region's disabled persons with a confirmed need of
  the category open on at least one day of the period (a registry need from the 需求 column or an
  assessment; a need superseded or closed before the period is not counted, nor one confirmed
  after it; see ``graph_schema.service.facts``);
- ``persons_served`` (the numerator): those of them with at least one counting delivery of a
  service of the category dated in the period (its service counts toward the rate, 计入服务率, and
  its 结果 is 完成 or 进行中);
- ``rate`` = served / in need (4 places; None when nobody is in need);
- ``deliveries``: the counting deliveries of the category in the period to the persons served
  (人次, beside the persons, 人, who are counted once however many they received);
- the same three for the subgroups ``severe_*`` (一级 or 二级) and ``children_*`` (aged 0–6 on
  ``as_of``, from the ID number's birth date).

A person belongs to their household's village of ``as_of``. Persons are counted per village and summed
by code prefix, so a region's figures are the sums of its children's (the rates recomputed from
the sums). Rows: the region itself, then each region one level down; for each, the categories in
the catalogue's order that have a person in need or a delivery anywhere in the region, 康复 and
辅具 (the two rates provincial reports quote) always.

A county's, a city's or a province's figures for a period from 1 January are read from the
counties' kept tallies (``graph_schema.service.tally``: per township for a county's page, per
county for a wider one), made again first for the counties written since; a township's, a past
day's whose state has changed since, and any other period are counted here.

Most persons' needs are simple enough to be counted per village in the store, and only the others'
are folded into episodes in Python (``graph_schema.service.simple_needs``): a province's persons
would otherwise all travel to Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from graph_schema import history
from graph_schema.enums import ServiceCategory
from graph_schema.identifiers import region_level
from graph_schema.monitoring.common import Report, as_of_or_today, paginate, period, region_and_children, scope_today
from graph_schema.pagination import Page, PageRequest
from graph_schema.service import tally
from graph_schema.service.facts import facts_of, load_facts
from graph_schema.service.simple_needs import complex_persons, simple_rate_counts
from graph_schema.store.base import GraphStore, Tx

ALWAYS = (ServiceCategory.REHABILITATION.value, ServiceCategory.ASSISTIVE_DEVICE.value)
_FIGURES = ("persons_in_need", "persons_served", "deliveries", "severe_in_need", "severe_served", "children_in_need",
            "children_served")


@dataclass(frozen=True)
class ServiceRate:
    region_code: str
    region_name: str | None
    level: str
    category: str
    persons_in_need: int = 0
    persons_served: int = 0
    rate: float | None = None
    deliveries: int = 0
    severe_in_need: int = 0
    severe_served: int = 0
    severe_rate: float | None = None
    children_in_need: int = 0
    children_served: int = 0
    children_rate: float | None = None


def _rate(served: int, in_need: int) -> float | None:
    return round(served / in_need, 4) if in_need else None


def village_figures(tx: Tx, prefix: str, start: dt.date, as_of: dt.date, *,
                    in_store: bool = True) -> dict[tuple[str, str], dict[str, int]]:
    """``(village, category)`` → the figures of the scope's persons for the period. With
    ``in_store`` (and unless the day is a past one whose state changed since), the simple persons
    are counted by the store and only the others are read; without, every person is read and
    counted here (the reference the tests hold the store's counts to)."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_FIGURES, 0))
    if in_store and history.past(tx, as_of) is None:
        for row in simple_rate_counts(tx, prefix, start, as_of):
            figures = counts[row["village"], row["category"]]
            for key in _FIGURES:
                figures[key] += int(row[key] or 0)
        facts = facts_of(tx, complex_persons(tx, prefix, as_of), as_of)
    else:  # every person (for a past day whose state changed since: as remade from the history)
        facts = load_facts(tx, prefix, as_of)
    for number, person in facts.persons.items():
        age = person.age_on(as_of)
        child = age is not None and 0 <= age <= 6
        needed = {e.category for e in facts.episodes(number) if e.open_during(start, as_of)}
        for category in needed:
            figures = counts[person.region_code, category]
            given = facts.served(number, category, start, as_of)
            figures["persons_in_need"] += 1
            figures["persons_served"] += bool(given)
            figures["deliveries"] += len(given)
            if person.severe:
                figures["severe_in_need"] += 1
                figures["severe_served"] += bool(given)
            if child:
                figures["children_in_need"] += 1
                figures["children_served"] += bool(given)
    return counts


def service_rates(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                  period_start: dt.date | None = None, page: PageRequest = PageRequest(), **_) -> Page[ServiceRate]:
    """The region's rows, then its children's, for the period ending ``as_of``."""
    as_of = as_of_or_today(as_of)
    start, as_of = period(period_start, as_of)

    code, prefix, current = scope_today(store, region, as_of)
    tallied = current and len(prefix) <= 6 and start == dt.date(as_of.year, 1, 1)  # a county or wider, from 1 January
    kept = tally.area_figures(store, prefix, as_of) if tallied else None

    def work(tx: Tx) -> list[ServiceRate]:
        counts = kept if kept is not None else village_figures(tx, prefix, start, as_of)
        shown = set(ALWAYS) | {category for _, category in counts}
        categories = [c.value for c in ServiceCategory if c.value in shown]
        regions = region_and_children(tx, code, prefix)
        totals = {(r[0], c): dict.fromkeys(_FIGURES, 0) for r in regions for c in categories}
        for (area, category), figures in counts.items():  # a village's, or a township's or county's from the tallies
            for region_code, _, region_prefix_ in regions:  # the region, and the one child holding the area
                if area.startswith(region_prefix_):
                    into = totals[region_code, category]
                    for key, value in figures.items():
                        into[key] += value
        rows = []
        for region_code, name, _ in regions:
            for category in categories:
                t = totals[region_code, category]
                rows.append(ServiceRate(
                    region_code=region_code, region_name=name, level=region_level(region_code).label,
                    category=category, rate=_rate(t["persons_served"], t["persons_in_need"]),
                    severe_rate=_rate(t["severe_served"], t["severe_in_need"]),
                    children_rate=_rate(t["children_served"], t["children_in_need"]), **t))
        return rows

    return paginate(store.read(work), page)


SERVICE_RATES = Report(
    name="service-rates", title="服务率（康复、辅具适配等）/ service rates by region and category", row=ServiceRate,
    ranged=True,
    headers={"region_code": "区划代码", "region_name": "区划名称", "level": "层级", "category": "类别",
             "persons_in_need": "有需求人数", "persons_served": "已服务人数", "rate": "服务率", "deliveries": "服务人次",
             "severe_in_need": "重度有需求", "severe_served": "重度已服务", "severe_rate": "重度服务率",
             "children_in_need": "0-6岁有需求", "children_served": "0-6岁已服务", "children_rate": "0-6岁服务率"},
    run=service_rates)
