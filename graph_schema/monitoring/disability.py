"""Disabled persons by category and grade (残疾人分类统计), per region: the counts a portal reads in
place of the members' categories and grades, which the privacy policy withholds from it at row
level (``graph_schema/access/privacy.py``).

One row for the region itself, then one per region one level down, as in ``coverage``: every
figure is counted per village (a person belongs to the village of their household) and summed by
code prefix, so a region's figures are the sums of its children's. Today's are read from the
counties' kept tallies (``graph_schema.service.tally``), already summed to the children's areas. The figures are those of the
registry on ``as_of`` (default today; a past day's read from the history, as every report's:
:mod:`graph_schema.monitoring.past`): ``persons`` the certified disabled persons, then one column
per 残疾类别 (视力 … 多重) and one per 残疾等级 (一级 … 四级); ``severe`` the 一级 and 二级 (重度)
persons. A region without persons has a row of zeros.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from graph_schema.enums import DisabilityCategory, DisabilityGrade
from graph_schema.identifiers import region_level
from graph_schema import history
from graph_schema.monitoring.common import Report, as_of_or_today, paginate, region_and_children
from graph_schema.monitoring.past import (KEYED_HOUSEHOLDS, affected_households, households_then, keyed_rows,
                                          members_then, regions_then)
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.service import tally
from graph_schema.store.base import GraphStore, Tx

#: today's members of households named by key (those a past day's answer must count again)
OF_HOUSEHOLDS = (KEYED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) "
                 "RETURN h.region_code AS village, p.category AS category, p.grade AS grade, count(p) AS n")
#: category → column, grade → column
CATEGORIES = {DisabilityCategory.VISUAL: "visual", DisabilityCategory.HEARING: "hearing",
              DisabilityCategory.SPEECH: "speech", DisabilityCategory.PHYSICAL: "physical",
              DisabilityCategory.INTELLECTUAL: "intellectual", DisabilityCategory.MENTAL: "mental",
              DisabilityCategory.MULTIPLE: "multiple"}
GRADES = {DisabilityGrade.ONE: "grade_1", DisabilityGrade.TWO: "grade_2", DisabilityGrade.THREE: "grade_3",
          DisabilityGrade.FOUR: "grade_4"}
_COUNTS = ("persons", "severe", *CATEGORIES.values(), *GRADES.values())


@dataclass(frozen=True)
class DisabilityCount:
    region_code: str
    region_name: str | None
    level: str
    persons: int = 0
    severe: int = 0
    visual: int = 0
    hearing: int = 0
    speech: int = 0
    physical: int = 0
    intellectual: int = 0
    mental: int = 0
    multiple: int = 0
    grade_1: int = 0
    grade_2: int = 0
    grade_3: int = 0
    grade_4: int = 0


def disability_counts(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                      page: PageRequest = PageRequest(), **_: object) -> Page[DisabilityCount]:
    """The region's row, then its children's, on ``as_of`` (see the module docstring)."""
    as_of = as_of_or_today(as_of)

    def scope(tx: Tx) -> tuple[str, str, list[tuple[str, str | None, str]]]:
        code, prefix = resolve_scope(tx, region)
        return code, prefix, region_and_children(tx, code, prefix)

    code, prefix, regions = store.read(scope)
    # today's persons from the counties' tallies, by the areas the rows are summed from
    today_by_area = tally.persons_by_area(store, prefix, max(len(p) for _, _, p in regions))

    def work(tx: Tx) -> list[DisabilityCount]:
        nonlocal regions
        by_area: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
        for (area, category, grade), n in today_by_area.items():
            _add(by_area, area, category, grade, n)
        past = history.past(tx, as_of)
        if past is not None:  # households changed since: their counts of today out, those of the day in
            changed = affected_households(tx, past)
            for r in keyed_rows(tx, OF_HOUSEHOLDS, changed):
                if r["village"].startswith(prefix):
                    _add(by_area, r["village"], r["category"], r["grade"], -int(r["n"]))
            then = households_then(tx, past, changed, prefix)
            for household_no, members in members_then(tx, past, then).items():
                for p in members:
                    _add(by_area, then[household_no]["region_code"], p["category"], p["grade"], 1)
            regions = regions_then(past, regions)
        return [_row(*region, by_area) for region in regions]

    return paginate(store.read(work), page)


def _add(by_area: dict[str, dict[str, int]], area: str, category: int, grade: int, n: int) -> None:
    counts = by_area[area]
    counts["persons"] += n
    counts[CATEGORIES[DisabilityCategory(category)]] += n
    counts[GRADES[DisabilityGrade(grade)]] += n
    counts["severe"] += n if grade <= 2 else 0


def _row(code: str, name: str | None, prefix: str, by_area: dict[str, dict[str, int]]) -> DisabilityCount:
    totals = dict.fromkeys(_COUNTS, 0)
    for area, counts in by_area.items():
        if area.startswith(prefix):
            for key, value in counts.items():
                totals[key] += value
    return DisabilityCount(region_code=code, region_name=name, level=region_level(code).label, **totals)


DISABILITY_COUNTS = Report(
    name="disability-counts", title="残疾人分类统计 / disabled persons by category and grade", row=DisabilityCount,
    headers={"region_code": "区划代码", "region_name": "区划名称", "level": "层级", "persons": "持证残疾人",
             "severe": "重度（一二级）", "visual": "视力", "hearing": "听力", "speech": "言语", "physical": "肢体",
             "intellectual": "智力", "mental": "精神", "multiple": "多重", "grade_1": "一级", "grade_2": "二级",
             "grade_3": "三级", "grade_4": "四级"},
    run=disability_counts)
