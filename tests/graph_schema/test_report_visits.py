"""Overdue home visits: the 90-day window, responsibility per pairing, the scope, on both engines."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, cadre, household, org, person
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.monitoring import visits
from graph_schema.monitoring.visits import OVERDUE_VISITS, overdue_visits, window_start
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.flows import transfer
from graph_schema.pairing.service import end_pairing, pair
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

AS_OF = dt.date(2024, 6, 30)
W = window_start(AS_OF)  # 2024-04-01
START = dt.date(2024, 1, 1)
ORG = org()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def visit(household_no: str, on: str, cadre_no: str | None = None, uscc: str | None = None) -> LedgerEntry:
    actor = {"uscc": uscc} if uscc else {"cadre_no": cadre_no}
    return LedgerEntry(entry_date=day(on), household_no=household_no, kind="入户走访", **actor)


def rows(page) -> list[tuple]:
    """(household, cadre, last visit, days since) of each row, in the report's order."""
    return [(r.household_no, r.cadre_no, r.last_visit_date, r.days_since) for r in page.items]


def report(store, region: str = "620822", as_of: dt.date = AS_OF, **kw):
    return overdue_visits(store=store, region=region, as_of=as_of, **kw)


def test_the_window_is_90_days_both_ends_included(store):
    assert W == day("2024-04-01")
    upsert_households(store=store, households=[household(n, tekun=True) for n in ("H90", "H91", "U90", "U91")])
    upsert_cadres(store=store, cadres=[cadre("C1"), cadre("C2"), cadre("C3")])
    upsert_orgs(store=store, orgs=[ORG])
    pair(store=store, household_no="H90", cadre_no="C1", started_on=START)
    pair(store=store, household_no="H91", cadre_no="C2", started_on=START)
    log_entries(store=store, entries=[
        visit("H90", "2024-04-01", "C1"), visit("H91", "2024-03-31", "C2"),
        # households nobody is paired with: anyone's visit counts, an organisation's included
        visit("U90", "2024-04-01", uscc=ORG.uscc), visit("U91", "2024-03-31", "C3"),
    ])
    page = report(store)
    assert rows(page) == [("H91", "C2", day("2024-03-31"), 91), ("U91", None, day("2024-03-31"), 91)]
    assert page.items[0] == OVERDUE_VISITS.row(
        household_no="H91", region_code="620822100201", cadre_no="C2", pairing_started_on=START,
        pairing_ended_on=None, last_visit_date=day("2024-03-31"), days_since=91)
    assert page.items[1].pairing_started_on is None and page.items[1].pairing_ended_on is None


def test_other_kinds_of_entry_are_not_visits(store):
    upsert_households(store=store, households=[household("H", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    pair(store=store, household_no="H", cadre_no="C1", started_on=START)
    log_entries(store=store, entries=[
        LedgerEntry(entry_date=day("2024-06-01"), household_no="H", cadre_no="C1", kind="联系交流"),
        LedgerEntry(entry_date=day("2024-06-02"), household_no="H", cadre_no="C1", kind="资助", amount_fen=100)])
    assert rows(report(store)) == [("H", "C1", None, None)]


def test_after_a_transfer_each_cadre_answers_for_their_own_period(store):
    upsert_households(store=store, households=[household("OLD_VISITED", tekun=True),
                                               household("NEW_VISITED", tekun=True), household("BOTH", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("A"), cadre("B")])
    for h in ("OLD_VISITED", "NEW_VISITED", "BOTH"):
        pair(store=store, household_no=h, cadre_no="A", started_on=START)
        transfer(store=store, household_no=h, cadre_no="B", on=day("2024-05-01"))
    log_entries(store=store, entries=[
        visit("OLD_VISITED", "2024-04-15", "A"),
        visit("NEW_VISITED", "2024-02-01", "A"), visit("NEW_VISITED", "2024-05-10", "B"),
        # on the transfer day both were responsible: each is credited with their own visit
        visit("BOTH", "2024-05-01", "A"), visit("BOTH", "2024-05-01", "B"),
    ])
    page = report(store)
    # the new cadre has not visited yet: listed; the old cadre's earlier visit is not theirs
    # the reverse: the new cadre visited, the old one had not during their part of the window
    assert rows(page) == [("OLD_VISITED", "B", None, None), ("NEW_VISITED", "A", day("2024-02-01"), 150)]
    assert [(r.pairing_started_on, r.pairing_ended_on) for r in page.items] == [
        (day("2024-05-01"), None), (START, day("2024-05-01"))]


def test_a_visit_by_another_cadre_or_an_organisation_is_not_credited_to_the_paired_cadre(store):
    upsert_households(store=store, households=[household("H", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("MINE"), cadre("OTHER")])
    upsert_orgs(store=store, orgs=[ORG])
    pair(store=store, household_no="H", cadre_no="MINE", started_on=START)
    log_entries(store=store, entries=[visit("H", "2024-06-01", "OTHER"), visit("H", "2024-06-02", uscc=ORG.uscc),
                                      visit("H", "2023-12-01", "MINE")])
    assert rows(report(store)) == [("H", "MINE", day("2023-12-01"), 212)]


def test_a_visit_before_the_pairing_started_is_not_credited(store):
    upsert_households(store=store, households=[household("H", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    log_entries(store=store, entries=[visit("H", "2024-04-10", "C1")])
    pair(store=store, household_no="H", cadre_no="C1", started_on=day("2024-05-01"))
    assert rows(report(store)) == [("H", "C1", day("2024-04-10"), 81)]


def test_a_pairing_that_ended_before_the_window_is_not_responsible(store):
    upsert_households(store=store, households=[household(n, tekun=True) for n in ("BEFORE", "ON_START", "VISITED")])
    upsert_cadres(store=store, cadres=[cadre("A")])
    for h, ended in (("BEFORE", "2024-03-31"), ("ON_START", "2024-04-01"), ("VISITED", "2024-04-01")):
        pair(store=store, household_no=h, cadre_no="A", started_on=START)
        end_pairing(store=store, household_no=h, reason="调动", ended_on=day(ended))
    log_entries(store=store, entries=[visit("VISITED", "2024-04-01", "A"), visit("BEFORE", "2024-03-01", "A")])
    page = report(store)
    # BEFORE: nobody responsible in the window, nobody visited in it; ON_START: A overlaps it by a day
    assert rows(page) == [("ON_START", "A", None, None), ("BEFORE", None, day("2024-03-01"), 121)]
    assert page.items[0].pairing_ended_on == day("2024-04-01")


def test_a_past_as_of_ignores_later_visits_and_later_pairings(store):
    upsert_households(store=store, households=[household("H", tekun=True), household("LATE", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("A")])
    pair(store=store, household_no="H", cadre_no="A", started_on=START)
    pair(store=store, household_no="LATE", cadre_no="A", started_on=day("2024-05-15"))
    log_entries(store=store, entries=[visit("H", "2024-02-10", "A"), visit("H", "2024-06-20", "A"),
                                      visit("LATE", "2024-05-20", "A")])
    assert rows(report(store)) == []
    # on 2024-05-10 the pairing of LATE did not exist yet and the 06-20 visit had not happened
    assert rows(report(store, as_of=day("2024-05-10"))) == [("LATE", None, None, None)]
    assert rows(report(store, as_of=day("2024-05-11"))) == [("LATE", None, None, None),
                                                             ("H", "A", day("2024-02-10"), 91)]
    assert rows(report(store, as_of=day("2024-05-16"))) == [("LATE", "A", None, None),
                                                             ("H", "A", day("2024-02-10"), 96)]


def test_only_priority_households_are_listed(store):
    upsert_households(store=store, households=[
        household("PLAIN", dibao=True, labour=0), household("ONE_MILD"), household("SEVERE"), household("MULTI"),
        household("MON", monitoring="脱贫不稳定户"), household("OLD", elderly_carer=True)])
    upsert_persons(store=store, persons=[person("ONE_MILD", grade=3), person("SEVERE", grade=1),
                                         person("MULTI", grade=3), person("MULTI", grade=4)])
    upsert_cadres(store=store, cadres=[cadre("A")])
    pair(store=store, household_no="PLAIN", cadre_no="A", started_on=START)
    assert [r.household_no for r in report(store).items] == ["MON", "MULTI", "OLD", "SEVERE"]


def test_never_visited_first_then_longest_since_then_numbers_and_pages_are_stable(store):
    upsert_households(store=store, households=[household(n, tekun=True) for n in ("H1", "H2", "H3", "H4", "H5")])
    upsert_cadres(store=store, cadres=[cadre("A"), cadre("B")])
    pair(store=store, household_no="H1", cadre_no="B", started_on=START)
    pair(store=store, household_no="H5", cadre_no="A", started_on=START)
    log_entries(store=store, entries=[visit("H2", "2024-03-01", "A"), visit("H3", "2024-02-01", "A"),
                                      visit("H4", "2024-03-01", "A")])
    everything = report(store)
    assert rows(everything) == [
        ("H1", "B", None, None), ("H5", "A", None, None), ("H3", None, day("2024-02-01"), 150),
        ("H2", None, day("2024-03-01"), 121), ("H4", None, day("2024-03-01"), 121)]
    pages = [report(store, page=PageRequest(page=p, page_size=2)) for p in (1, 2, 3)]
    assert [r for p in pages for r in rows(p)] == rows(everything)
    assert pages[0].total == 5 and pages[2].pages == 3 and len(pages[2].items) == 1


@pytest.mark.parametrize("region,expected", [
    ("62", ["A", "B", "X"]), ("620822", ["A", "B"]), ("620822100", ["A", "B"]), ("620822100201", ["A"]),
    (OTHER_COUNTY_VILLAGE, ["X"]),
])
def test_scope_is_any_region_level(store, region, expected):
    upsert_households(store=store, households=[household("A", tekun=True), household("B", OTHER_VILLAGE, tekun=True),
                                               household("X", OTHER_COUNTY_VILLAGE, tekun=True)])
    assert sorted(r.household_no for r in report(store, region=region).items) == expected


def test_a_region_without_households_an_unknown_region_and_a_bad_code(store):
    upsert_households(store=store, households=[household("A", tekun=True)])
    upsert_regions(store=store, regions=[Region(code="620822100203", name="空村")])
    empty = report(store, region="620822100203")
    assert empty.items == [] and empty.total == 0
    with pytest.raises(NotFound):
        report(store, region="6209")
    with pytest.raises(InvalidValue):
        report(store, region="62a")


def test_the_report_description(store):
    assert OVERDUE_VISITS.name == "overdue-visits" and not OVERDUE_VISITS.ranged
    assert list(OVERDUE_VISITS.headers) == OVERDUE_VISITS.fields
    assert [f.name for f in dataclasses.fields(OVERDUE_VISITS.row)] == [
        "household_no", "region_code", "cadre_no", "pairing_started_on", "pairing_ended_on", "last_visit_date",
        "days_since"]
    upsert_households(store=store, households=[household("A", tekun=True)])
    assert OVERDUE_VISITS.run(store=store, region="620822", as_of=AS_OF).total == 1


@pytest.mark.parametrize("step,limit", [(2, 6), (2, 1_000), (visits.WALK_STEP, visits.WALK_LIMIT)])
def test_a_scope_wider_than_a_county_is_walked_to_the_same_pages(store, monkeypatch, step, limit):
    """A scope wider than a county takes another path today (its never-visited rows walked in 户编号
    order, its total counted in the store): every page of it is the county's page, whether the walk
    fills the page, gives up at its limit or reaches the scope's end with too few rows."""
    monkeypatch.setattr(visits, "WALK_STEP", step)
    monkeypatch.setattr(visits, "WALK_LIMIT", limit)
    answered = []
    wide_page = visits._wide_page
    monkeypatch.setattr(visits, "_wide_page", lambda *a: answered.append(wide_page(*a)) or answered[-1])
    numbers = [f"H{i:02d}" for i in range(13)]
    upsert_households(store=store, households=[household(n, tekun=True) for n in numbers]
                      + [household("PLAIN", dibao=True, labour=0)])
    upsert_cadres(store=store, cadres=[cadre(c, pair_limit=10) for c in ("A", "B", "C")])
    upsert_orgs(store=store, orgs=[ORG])
    for h, c, started in (("H00", "A", START), ("H01", "A", START), ("H02", "A", START), ("H06", "A", START),
                          ("H07", "A", START), ("H08", "C", day("2024-05-01")), ("H09", "A", START),
                          ("H10", "A", START), ("H11", "B", START), ("H12", "A", START), ("PLAIN", "A", START)):
        pair(store=store, household_no=h, cadre_no=c, started_on=started)
    for h in ("H06", "H07", "H12"):
        transfer(store=store, household_no=h, cadre_no="B", on=day("2024-05-01"))
    end_pairing(store=store, household_no="H09", reason="调动", ended_on=day("2024-03-01"))
    log_entries(store=store, entries=[
        visit("H01", "2024-06-01", "A"),  # visited inside the window: no row
        visit("H02", "2024-03-01", "A"),  # before it: a row with its last visit
        visit("H04", "2024-05-01", uscc=ORG.uscc), visit("H05", "2024-01-05", "C"),  # unpaired
        visit("H06", "2024-04-15", "A"),  # the old cadre's credited visit; the new one owes one
        visit("H07", "2024-02-01", "A"), visit("H07", "2024-05-10", "B"),  # the reverse
        visit("H08", "2024-04-10", "C"),  # before the pairing began: not credited
        visit("H09", "2024-03-01", "A"),  # a pairing ended before the window: unpaired, seen
        visit("H10", "2024-06-01", "B"),  # by a cadre who is not the paired one
        visit("H12", "2024-05-01", "A"), visit("H12", "2024-05-01", "B"),  # both on the transfer day: no row
        visit("PLAIN", "2023-01-01", "A"),  # not a priority household
    ])
    county = report(store, page=PageRequest(1, 100))
    assert county.total == 10 and [r.last_visit_date is None for r in county.items].count(True) == 5
    for size in (1, 2, 3, 4, 7, 20):
        for number in range(1, county.total // size + 2):
            wide, narrow = (report(store, region=region, page=PageRequest(number, size)) for region in ("62", "620822"))
            assert (wide.items, wide.total) == (narrow.items, narrow.total), (size, number)
    made = [found is not None for found in answered]
    assert True in made and (False in made or limit == visits.WALK_LIMIT)
