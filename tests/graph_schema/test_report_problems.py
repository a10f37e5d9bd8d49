"""Open problems and problem closure (动态清零): the dates, the roll-up, the scope, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, cadre, household, org
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import DateOrder, InvalidValue, NotFound
from graph_schema.household.service import upsert_households
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.monitoring.common import as_dict
from graph_schema.monitoring.problems import OPEN_PROBLEMS, PROBLEM_CLOSURE, open_problems, problem_closure
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import end_pairing, pair
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

AS_OF = dt.date(2024, 6, 30)
ORG = org().model_copy(update={"name": "助残志愿者协会"})
V1, V2, V3 = "620822100201", "620822100202", "620822101201"
COUNTS = ("carried_over", "opened", "closed", "still_open")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def report_problem(no: str, household_no: str, on: str, actor: str = "C1", note: str | None = None) -> LedgerEntry:
    who = {"uscc": actor} if actor == ORG.uscc else {"cadre_no": actor}
    return LedgerEntry(entry_date=day(on), household_no=household_no, kind="反映困难", problem_no=no, note=note, **who)


def solve(no: str, household_no: str, on: str, actor: str = "C1") -> LedgerEntry:
    return LedgerEntry(entry_date=day(on), household_no=household_no, kind="解决困难", problem_no=no, cadre_no=actor)


def problems(page) -> list[tuple]:
    return [(r.problem_no, r.age_days) for r in page.items]


@pytest.fixture
def open_world(store):
    """H1 paired with C1 now; H2's pairing with C2 ended on AS_OF; H3 has no cadre."""
    upsert_households(store=store, households=[household("H1", head_name="张一"), household("H2", V2, head_name="李二"),
                                               household("H3"), household("X", OTHER_COUNTY_VILLAGE)])
    upsert_cadres(store=store, cadres=[cadre("C1", name="王干部"), cadre("C2", name="赵干部")])
    upsert_orgs(store=store, orgs=[ORG])
    pair(store=store, household_no="H1", cadre_no="C1", started_on=day("2024-01-01"))
    pair(store=store, household_no="H2", cadre_no="C2", started_on=day("2024-01-01"))
    end_pairing(store=store, household_no="H2", reason="调动", ended_on=AS_OF)
    log_entries(store=store, entries=[
        report_problem("P1", "H1", "2024-01-10", note="轮椅损坏"),
        report_problem("P2", "H1", "2024-02-01"), solve("P2", "H1", "2024-06-30"),  # closed on AS_OF
        report_problem("P3", "H2", "2024-06-30", actor=ORG.uscc, note="屋顶漏雨"),  # opened on AS_OF
        report_problem("P4", "H3", "2024-03-01", actor="C2"), solve("P4", "H3", "2024-07-05", actor="C2"),
        report_problem("P5", "H1", "2024-07-01"),  # opened after AS_OF
        report_problem("PX", "X", "2024-01-01"),  # another county
    ])
    return store


def test_open_problems_on_as_of_with_their_reporter_and_cadre(open_world):
    page = open_problems(store=open_world, region="620822", as_of=AS_OF)
    assert [as_dict(r) for r in page.items] == [
        {"problem_no": "P1", "household_no": "H1", "region_code": V1, "head_name": "张一",
         "opened_on": day("2024-01-10"), "age_days": 172, "reported_by": "C1", "reporter_name": "王干部",
         "cadre_no": "C1", "description": "轮椅损坏"},
        {"problem_no": "P4", "household_no": "H3", "region_code": V1, "head_name": "测试户主",
         "opened_on": day("2024-03-01"), "age_days": 121, "reported_by": "C2", "reporter_name": "赵干部",
         "cadre_no": None, "description": None},
        {"problem_no": "P3", "household_no": "H2", "region_code": V2, "head_name": "李二",
         "opened_on": AS_OF, "age_days": 0, "reported_by": ORG.uscc, "reporter_name": "助残志愿者协会",
         "cadre_no": None, "description": "屋顶漏雨"},  # H2's pairing ended on AS_OF
    ]
    assert page.total == 3


def test_open_problems_for_other_days(open_world):
    # the day before: P3 not yet reported, P2 still open, H2 still paired
    before = open_problems(store=open_world, region="620822", as_of=day("2024-06-29"))
    assert problems(before) == [("P1", 171), ("P2", 149), ("P4", 120)]
    later = open_problems(store=open_world, region="620822", as_of=day("2024-07-05"))
    assert problems(later) == [("P1", 177), ("P3", 5), ("P5", 4)]  # P4 closed that day
    assert problems(open_problems(store=open_world, region="620822", as_of=day("2024-01-09"))) == []


def test_open_problems_are_paginated_oldest_first_then_by_number(store):
    upsert_households(store=store, households=[household("H1")])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    log_entries(store=store, entries=[report_problem(no, "H1", on) for no, on in (
        ("P9", "2024-03-01"), ("P2", "2024-05-01"), ("P1", "2024-03-01"), ("P5", "2024-04-01"), ("P3", "2024-05-01"))])
    everything = open_problems(store=store, region=V1, as_of=AS_OF)
    assert problems(everything) == [("P1", 121), ("P9", 121), ("P5", 90), ("P2", 60), ("P3", 60)]
    pages = [open_problems(store=store, region=V1, as_of=AS_OF, page=PageRequest(page=p, page_size=2))
             for p in (1, 2, 3)]
    assert [r for p in pages for r in problems(p)] == problems(everything)
    assert pages[0].total == 5 and pages[0].pages == 3


@pytest.fixture
def closure_world(store):
    """Two townships of county 620822 (V1 and V2 in the first, V3 in the second) and another county."""
    upsert_regions(store=store, regions=[Region(code="620822", name="灵台县"), Region(code="620822100", name="甲镇"),
                                         Region(code="620822101", name="乙乡"), Region(code=V1, name="一村")])
    upsert_households(store=store, households=[household("H1"), household("H2", V2), household("H3", V3),
                                               household("X", OTHER_COUNTY_VILLAGE)])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    log_entries(store=store, entries=[
        report_problem("A", "H1", "2024-01-10"),  # carried over, still open
        report_problem("B", "H1", "2024-02-01"), solve("B", "H1", "2024-04-01"),  # carried over, closed on the start
        report_problem("C", "H2", "2024-03-01"), solve("C", "H2", "2024-03-31"),  # closed before the period
        report_problem("D", "H2", "2024-04-01"), solve("D", "H2", "2024-06-30"),  # opened on the start, closed on as_of
        report_problem("E", "H3", "2024-06-30"),  # opened on as_of
        report_problem("F", "H3", "2024-05-01"), solve("F", "H3", "2024-07-02"),  # closed after as_of: still open
        report_problem("G", "H3", "2024-07-01"),  # after the period
        report_problem("X1", "X", "2024-05-01"),  # another county
    ])
    return store


def closure(store, region: str, period_start: dt.date | None = day("2024-04-01"), as_of: dt.date = AS_OF):
    return problem_closure(store=store, region=region, as_of=as_of, period_start=period_start)


def counts(page) -> list[tuple]:
    return [(r.region_code, r.region_name, r.carried_over, r.opened, r.closed, r.still_open, r.closure_rate)
            for r in page.items]


def assert_children_add_up(page) -> None:
    region, *children = page.items
    for key in COUNTS:
        assert getattr(region, key) == sum(getattr(c, key) for c in children), key


def test_closure_of_a_county_and_its_townships(closure_world):
    page = closure(closure_world, "620822")
    assert counts(page) == [
        ("620822000000", "灵台县", 2, 3, 2, 3, 0.4),
        ("620822100000", "甲镇", 2, 1, 2, 1, 0.6667),
        ("620822101000", "乙乡", 0, 2, 0, 2, 0.0),
    ]
    assert_children_add_up(page)
    for row in page.items:
        assert row.carried_over + row.opened - row.closed == row.still_open


def test_closure_of_a_township_and_of_a_village(closure_world):
    township = closure(closure_world, "620822100")
    assert counts(township) == [
        ("620822100000", "甲镇", 2, 1, 2, 1, 0.6667),
        (V1, "一村", 2, 0, 1, 1, 0.5),
        (V2, V2, 0, 1, 1, 0, 1.0),  # a region created from a household's code is named by its code
    ]
    assert_children_add_up(township)
    assert counts(closure(closure_world, V1)) == [(V1, "一村", 2, 0, 1, 1, 0.5)]  # a village has no children


def test_closure_period_defaults_to_the_year_of_as_of(closure_world):
    year = closure(closure_world, "620822", period_start=None)
    assert counts(year)[0] == ("620822000000", "灵台县", 0, 6, 3, 3, 0.5)
    assert_children_add_up(year)
    # a past as_of: what was known then (G and the closing of F come later and change nothing)
    march = closure(closure_world, "620822", period_start=None, as_of=day("2024-03-31"))
    assert counts(march)[0] == ("620822000000", "灵台县", 0, 3, 1, 2, 0.3333)
    with pytest.raises(DateOrder):
        closure(closure_world, "620822", period_start=day("2024-07-01"))


def test_closure_of_a_region_without_households_is_all_zero(closure_world):
    upsert_regions(store=closure_world, regions=[Region(code="620822102", name="丙乡"),
                                                 Region(code="620822102201", name="丙村")])
    assert counts(closure(closure_world, "620822102")) == [
        ("620822102000", "丙乡", 0, 0, 0, 0, None), ("620822102201", "丙村", 0, 0, 0, 0, None)]
    county = closure(closure_world, "620822")
    assert counts(county)[-1] == ("620822102000", "丙乡", 0, 0, 0, 0, None)
    assert_children_add_up(county)


def test_closure_pages(closure_world):
    pages = [problem_closure(store=closure_world, region="620822", as_of=AS_OF, period_start=day("2024-04-01"),
                             page=PageRequest(page=p, page_size=2)) for p in (1, 2)]
    assert [r.region_code for p in pages for r in p.items] == ["620822000000", "620822100000", "620822101000"]
    assert pages[1].total == 3


@pytest.mark.parametrize("run", [open_problems, problem_closure])
def test_a_region_without_households_an_unknown_region_and_a_bad_code(store, run):
    upsert_households(store=store, households=[household("H1")])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    log_entries(store=store, entries=[report_problem("P1", "H1", "2024-01-10")])
    upsert_regions(store=store, regions=[Region(code="620822100203", name="空村")])
    empty = run(store=store, region="620822100203", as_of=AS_OF)
    if run is open_problems:
        assert empty.items == [] and empty.total == 0
    else:
        assert counts(empty) == [("620822100203", "空村", 0, 0, 0, 0, None)]
    with pytest.raises(NotFound):
        run(store=store, region="6209", as_of=AS_OF)
    with pytest.raises(InvalidValue):
        run(store=store, region="62a", as_of=AS_OF)


def test_the_report_descriptions():
    assert (OPEN_PROBLEMS.name, OPEN_PROBLEMS.ranged) == ("open-problems", False)
    assert (PROBLEM_CLOSURE.name, PROBLEM_CLOSURE.ranged) == ("problem-closure", True)
    for report in (OPEN_PROBLEMS, PROBLEM_CLOSURE):
        assert list(report.headers) == report.fields
    assert OPEN_PROBLEMS.fields == ["problem_no", "household_no", "region_code", "head_name", "opened_on", "age_days",
                                    "reported_by", "reporter_name", "cadre_no", "description"]
    assert PROBLEM_CLOSURE.fields == ["region_code", "region_name", "carried_over", "opened", "closed", "still_open",
                                      "closure_rate"]
