"""Post-evaluation (post-evaluation and its totals): which of last year's measures continued this
year, for every measure and its edges, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, VILLAGE, cadre, household, org, person
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.listing.models import Listing
from graph_schema.listing.service import upsert_listings
from graph_schema.monitoring.post_evaluation import (
    POST_EVALUATION,
    POST_EVALUATION_TOTALS,
    MeasureContinuation,
    MeasureTotal,
    post_evaluation,
    post_evaluation_totals,
)
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.models import AuxPairRequest, PairRequest
from graph_schema.pairing.service import aux_pair_many, pair_many
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

AS_OF = dt.date(2024, 6, 30)  # last year: 2023; this year: 1 January to 30 June 2024
D = dt.date
ONE, AUX, LIVING, CARE, SERVICES = "一对一结对", "辅助结对", "困难残疾人生活补贴", "重度残疾人护理补贴", "帮扶服务"
ORG1, ORG2 = org(), org()


def one(no: str, cadre_no: str, start: dt.date, end: dt.date | None = None) -> PairRequest:
    return PairRequest(household_no=no, cadre_no=cadre_no, started_on=start, ended_on=end)


def aux(no: str, uscc: str, start: dt.date, end: dt.date | None = None) -> AuxPairRequest:
    return AuxPairRequest(household_no=no, uscc=uscc, started_on=start, ended_on=end)


def listing(member, item: str, start: dt.date | None, end: dt.date | None = None) -> Listing:
    return Listing(dept="民政", item=item, id_number=member.id_number, name="测试人", valid_from=start, valid_to=end)


def entry(no: str, kind: str, day: dt.date, **actor) -> LedgerEntry:
    return LedgerEntry(entry_date=day, household_no=no, kind=kind, **(actor or {"cadre_no": "C1"}))


@pytest.fixture
def world(store):
    nos = ["A01", "A02", "A03", "A04", "A05", "A06", "A07", "B01", "B02", "C01", "C02", "C03", "C04", "C05",
           "D01", "D02", "D03", "D04", "M01", "Z01"]
    upsert_households(store=store, households=[household(n) for n in nos] +
                      [household("X01", region=OTHER_COUNTY_VILLAGE)])
    upsert_cadres(store=store, cadres=[cadre("C1", pair_limit=10), cadre("C2", pair_limit=10),
                                       cadre("C3", station=OTHER_COUNTY_VILLAGE)])
    upsert_orgs(store=store, orgs=[ORG1, ORG2])
    result = pair_many(store=store, requests=[
        one("A01", "C1", D(2023, 3, 1), D(2023, 12, 15)),  # ended last December: stopped
        one("A02", "C1", D(2023, 5, 1)),  # started last year, still active: continued
        one("A03", "C1", D(2022, 1, 1), D(2023, 12, 31)), one("A03", "C2", D(2024, 2, 1)),  # another cadre
        one("A04", "C1", D(2024, 1, 10)),  # new this year: not listed
        one("A05", "C1", D(2023, 6, 1), D(2024, 1, 1)),  # ended on 1 January: did not reach this year
        one("A06", "C1", D(2023, 1, 1), D(2023, 10, 1)), one("A06", "C2", D(2024, 8, 1)),  # resumed after as_of
        one("A07", "C1", D(2021, 1, 1), D(2023, 1, 1)),  # ended on the first day of last year: not listed
        one("M01", "C2", D(2023, 9, 1)),
        one("X01", "C3", D(2023, 1, 1)),
    ])
    assert not result.errors
    result = aux_pair_many(store=store, requests=[
        aux("B01", ORG1.uscc, D(2023, 2, 1), D(2023, 12, 20)), aux("B02", ORG1.uscc, D(2022, 1, 1)),
        aux("M01", ORG2.uscc, D(2023, 1, 1), D(2023, 6, 1)),
    ])
    assert not result.errors
    members = {n: person(n) for n in ("C01", "C02", "C03", "C04", "C05", "M01")}
    second = person("C05")
    upsert_persons(store=store, persons=[*members.values(), second])
    upsert_listings(store=store, listings=[
        listing(members["C01"], LIVING, D(2022, 1, 1), D(2023, 12, 1)),  # ended in last December: stopped
        listing(members["C02"], CARE, D(2023, 3, 1)),  # open-ended: continued
        listing(members["C03"], CARE, None, D(2024, 1, 1)),  # ends in January: continued
        listing(members["C04"], LIVING, D(2024, 2, 1)), listing(members["C04"], "低保", D(2023, 1, 1)),
        listing(members["C05"], LIVING, D(2023, 1, 1), D(2023, 6, 1)),  # one member stopped …
        listing(second, LIVING, D(2023, 6, 1)),  # … another continued: the household continued
        listing(members["M01"], CARE, D(2023, 1, 1), D(2023, 12, 1)), listing(members["M01"], LIVING, D(2023, 1, 1)),
    ])
    result = log_entries(store=store, entries=[
        entry("D01", "资助", D(2023, 5, 1)), entry("D01", "志愿服务", D(2024, 3, 1), uscc=ORG1.uscc),
        entry("D02", "落实政策", D(2023, 11, 1)), entry("D02", "入户走访", D(2024, 2, 1)),  # a visit is no service
        entry("D03", "帮办实事", D(2023, 7, 1)), entry("D03", "资助", D(2024, 7, 15)),  # after as_of
        entry("D04", "入户走访", D(2023, 3, 1)), entry("D04", "联系交流", D(2023, 4, 1)),
        entry("M01", "捐款捐物", D(2023, 12, 31), uscc=ORG2.uscc), entry("M01", "捐款捐物", AS_OF, uscc=ORG2.uscc),
    ])
    assert not result.errors
    return store


def rows(*spec: tuple[str, str, bool], region: str = VILLAGE) -> list[MeasureContinuation]:
    return [MeasureContinuation(household_no=no, region_code=region, measure=m, continued=c) for no, m, c in spec]


EXPECTED = rows(
    ("A01", ONE, False), ("A05", ONE, False), ("A06", ONE, False), ("B01", AUX, False), ("C01", LIVING, False),
    ("D02", SERVICES, False), ("D03", SERVICES, False), ("M01", AUX, False), ("M01", CARE, False),
    ("A02", ONE, True), ("A03", ONE, True), ("B02", AUX, True), ("C02", CARE, True), ("C03", CARE, True),
    ("C05", LIVING, True), ("D01", SERVICES, True), ("M01", ONE, True), ("M01", LIVING, True),
    ("M01", SERVICES, True),
)


def test_every_measure_and_its_edges(world):
    page = post_evaluation(store=world, region="620822", as_of=AS_OF)
    assert page.items == EXPECTED and page.total == 19


def test_totals_count_the_rows(world):
    totals = post_evaluation_totals(store=world, region="620822", as_of=AS_OF)
    assert totals.items == [
        MeasureTotal(ONE, 6, 3, 3, 0.5), MeasureTotal(AUX, 3, 1, 2, 0.3333), MeasureTotal(LIVING, 3, 2, 1, 0.6667),
        MeasureTotal(CARE, 3, 2, 1, 0.6667), MeasureTotal(SERVICES, 4, 2, 2, 0.5)]
    for total in totals.items:
        mine = [r for r in EXPECTED if r.measure == total.measure]
        assert (total.last_year, total.continued) == (len(mine), sum(r.continued for r in mine))


def test_a_city_is_read_by_the_wide_forms_and_agrees(world):
    """A city is wider than a county: each engine reads its page and its totals by its own wide
    forms (Neo4j's service entries asked whether one exists in each year), which must give the
    county's rows with the other county's household among them."""
    measures = [ONE, AUX, LIVING, CARE, SERVICES]
    city = post_evaluation(store=world, region="6208", as_of=AS_OF).items
    assert city == sorted(EXPECTED + rows(("X01", ONE, True), region=OTHER_COUNTY_VILLAGE),
                          key=lambda r: (r.continued, r.household_no, measures.index(r.measure)))
    totals = post_evaluation_totals(store=world, region="6208", as_of=AS_OF).items
    assert totals == [MeasureTotal(ONE, 7, 4, 3, 0.5714), MeasureTotal(AUX, 3, 1, 2, 0.3333),
                      MeasureTotal(LIVING, 3, 2, 1, 0.6667), MeasureTotal(CARE, 3, 2, 1, 0.6667),
                      MeasureTotal(SERVICES, 4, 2, 2, 0.5)]


def test_as_of_moves_both_years(world):
    # two months later, A06's new pairing and D03's aid have begun
    later = post_evaluation(store=world, region=VILLAGE, as_of=D(2024, 8, 31)).items
    changed = {(r.household_no, r.measure): r.continued for r in later}
    assert changed[("A06", ONE)] and changed[("D03", SERVICES)] and len(later) == 19
    # a year earlier: last year is 2022, this year runs to 30 June 2023
    earlier = post_evaluation(store=world, region=VILLAGE, as_of=D(2023, 6, 30)).items
    assert earlier == rows(("A07", ONE, False), ("A03", ONE, True), ("B02", AUX, True), ("C01", LIVING, True),
                           ("C03", CARE, True))


def test_scope_pages_and_order(world):
    assert post_evaluation(store=world, region=OTHER_COUNTY_VILLAGE[:6], as_of=AS_OF).items == rows(
        ("X01", ONE, True), region=OTHER_COUNTY_VILLAGE)
    city = post_evaluation(store=world, region="6208", as_of=AS_OF)
    assert city.total == 20 and city.items[-1].household_no == "X01"
    pages = [post_evaluation(store=world, region=VILLAGE, as_of=AS_OF, page=PageRequest(page=n, page_size=8))
             for n in (1, 2, 3)]
    assert [r for p in pages for r in p.items] == EXPECTED and pages[0].pages == 3
    assert post_evaluation_totals(store=world, region=VILLAGE, as_of=AS_OF,
                                  page=PageRequest(page=2, page_size=3)).items[-1].measure == SERVICES


def test_a_region_without_households_an_unknown_region_and_a_bad_code(world):
    upsert_regions(store=world, regions=[Region(code="620822100203", name="空村")])
    assert post_evaluation(store=world, region="620822100203", as_of=AS_OF).items == []
    assert post_evaluation_totals(store=world, region="620822100203", as_of=AS_OF).items == [
        MeasureTotal(m, 0, 0, 0, None) for m in (ONE, AUX, LIVING, CARE, SERVICES)]
    for run in (post_evaluation, post_evaluation_totals):
        with pytest.raises(NotFound):
            run(store=world, region="6209", as_of=AS_OF)
        with pytest.raises(InvalidValue):
            run(store=world, region="62a", as_of=AS_OF)


def test_the_report_descriptions():
    for report in (POST_EVALUATION, POST_EVALUATION_TOTALS):
        assert report.fields == list(report.headers) and not report.ranged
    assert (POST_EVALUATION.name, POST_EVALUATION_TOTALS.name) == ("post-evaluation", "post-evaluation-totals")
