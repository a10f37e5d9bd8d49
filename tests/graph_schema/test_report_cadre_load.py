"""Cadre load: full, over the limit, off duty but still paired; the date and the scope, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, cadre, household
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import upsert_households
from graph_schema.monitoring.cadres import CADRE_LOAD, CadreLoad, cadre_load
from graph_schema.monitoring.common import as_dict
from graph_schema.pagination import PageRequest
from graph_schema.pairing.models import PairRequest
from graph_schema.pairing.service import end_pairing, pair, pair_many
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

AS_OF = dt.date(2024, 6, 30)
START = dt.date(2024, 1, 1)
TOWNSHIP = "620822100000"


def pairs(store, cadre_no: str, household_nos: list[str], started_on: dt.date = START) -> None:
    result = pair_many(store=store, requests=[PairRequest(household_no=h, cadre_no=cadre_no, started_on=started_on)
                                              for h in household_nos], allow_off_duty=True)
    assert not result.errors


def findings(page) -> list[tuple]:
    return [(r.cadre_no, r.finding, r.load, r.pair_limit, r.households) for r in page.items]


def report(store, region: str = "620822", as_of: dt.date = AS_OF, **kw):
    return cadre_load(store=store, region=region, as_of=as_of, **kw)


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[household(f"H{i:02d}") for i in range(1, 14)] + [
        household("X1", OTHER_COUNTY_VILLAGE)])
    upsert_cadres(store=store, cadres=[
        cadre("FULL", pair_limit=2, name="满额干部"), cadre("OVER", TOWNSHIP, pair_limit=3), cadre("ROOM", pair_limit=3),
        cadre("ONE", OTHER_VILLAGE, pair_limit=1), cadre("ENDED", pair_limit=1), cadre("LEFT", pair_limit=3),
        cadre("LEFT_EMPTY", on_duty=False), cadre("GONE", pair_limit=1, on_duty=False),
        cadre("ELSEWHERE", OTHER_COUNTY_VILLAGE, pair_limit=1)])
    pairs(store, "FULL", ["H02", "H01"])
    pairs(store, "OVER", ["H03", "H04", "H05"])
    pairs(store, "ROOM", ["H06"])
    pairs(store, "ONE", ["H07"])
    pairs(store, "ENDED", ["H08"])
    end_pairing(store=store, household_no="H08", reason="调动", ended_on=AS_OF)
    pairs(store, "LEFT", ["H09"])
    pairs(store, "GONE", ["H10"])  # an import records a pairing of a cadre already off duty
    pairs(store, "ELSEWHERE", ["X1"])
    # the organiser lowers OVER's limit and LEFT leaves after the pairings were made
    upsert_cadres(store=store, cadres=[cadre("OVER", TOWNSHIP, pair_limit=2),
                                       cadre("LEFT", pair_limit=3, on_duty=False)])
    return store


def test_over_off_duty_and_full_cadres_in_that_order(world):
    page = report(world)
    assert findings(page) == [
        ("OVER", "超额", 3, 2, ["H03", "H04", "H05"]),
        ("GONE", "不在岗仍有结对", 1, 1, ["H10"]),
        ("LEFT", "不在岗仍有结对", 1, 3, ["H09"]),
        ("FULL", "满额", 2, 2, ["H01", "H02"]),
        ("ONE", "满额", 1, 1, ["H07"]),
    ]
    assert as_dict(page.items[3]) == {
        "cadre_no": "FULL", "name": "满额干部", "station_code": VILLAGE, "on_duty": True, "pair_limit": 2, "load": 2,
        "finding": "满额", "households": ["H01", "H02"]}
    assert page.items[0].station_code == TOWNSHIP and page.items[1].on_duty is False


def test_a_pairing_ended_on_as_of_does_not_count_but_the_day_before_it_does(world):
    assert "ENDED" not in [r.cadre_no for r in report(world).items]
    before = report(world, as_of=AS_OF - dt.timedelta(days=1))
    assert ("ENDED", "满额", 1, 1, ["H08"]) in findings(before)


def test_a_past_as_of_counts_that_days_pairings_with_todays_duty_status(world):
    pairs(world, "ROOM", ["H11", "H12"], started_on=dt.date(2024, 5, 1))
    assert ("ROOM", "满额", 3, 3, ["H06", "H11", "H12"]) in findings(report(world))
    earlier = report(world, as_of=dt.date(2024, 4, 30))
    assert "ROOM" not in [r.cadre_no for r in earlier.items]
    # LEFT left after the pairing was made, yet on a past date it is judged with today's status
    assert ("LEFT", "不在岗仍有结对", 1, 3, ["H09"]) in findings(earlier)
    # before any pairing started nobody holds a household
    assert report(world, as_of=START - dt.timedelta(days=1)).items == []


def test_over_the_limit_is_also_reached_by_pairing_as_imports_do(store):
    upsert_households(store=store, households=[household("A"), household("B")])
    upsert_cadres(store=store, cadres=[cadre("C", pair_limit=2)])
    pair(store=store, household_no="A", cadre_no="C", started_on=START)
    pair(store=store, household_no="B", cadre_no="C", started_on=START)
    assert findings(report(store)) == [("C", "满额", 2, 2, ["A", "B"])]
    upsert_cadres(store=store, cadres=[cadre("C", pair_limit=1)])
    assert findings(report(store)) == [("C", "超额", 2, 1, ["A", "B"])]


@pytest.mark.parametrize("region,expected", [
    ("62", ["ELSEWHERE", "FULL", "GONE", "LEFT", "ONE", "OVER"]),
    ("620822", ["FULL", "GONE", "LEFT", "ONE", "OVER"]),
    ("620822100", ["FULL", "GONE", "LEFT", "ONE", "OVER"]),
    (VILLAGE, ["FULL", "GONE", "LEFT"]),  # OVER is stationed in the township, not in the village
    (OTHER_VILLAGE, ["ONE"]),
])
def test_scope_is_where_cadres_are_stationed(world, region, expected):
    assert sorted(r.cadre_no for r in report(world, region=region).items) == expected


def test_households_outside_the_region_count_in_the_load_but_are_not_named(world):
    """A cadre of county 620822 also holds X2 in another county: an organiser of 620822 sees the
    load (the cadre is theirs) but not the other county's household number."""
    upsert_households(store=world, households=[household("X2", OTHER_COUNTY_VILLAGE)])
    pairs(world, "ROOM", ["X2", "H11"])
    assert ("ROOM", "满额", 3, 3, ["H06", "H11"]) in findings(report(world))
    assert ("ROOM", "满额", 3, 3, ["H06", "H11", "X2"]) in findings(report(world, region="62"))
    assert all("X2" not in r.households for r in report(world).items)


def test_ties_go_by_load_then_number_and_pages_are_stable(store):
    upsert_households(store=store, households=[household(f"H{i}") for i in range(1, 8)])
    upsert_cadres(store=store, cadres=[cadre("B2", pair_limit=2), cadre("A2", pair_limit=2), cadre("C3", pair_limit=3)])
    pairs(store, "B2", ["H1", "H2"])
    pairs(store, "A2", ["H3", "H4"])
    pairs(store, "C3", ["H5", "H6", "H7"])
    everything = report(store)
    assert [r.cadre_no for r in everything.items] == ["C3", "A2", "B2"]
    pages = [report(store, page=PageRequest(page=p, page_size=2)) for p in (1, 2)]
    assert [r.cadre_no for p in pages for r in p.items] == ["C3", "A2", "B2"]
    assert pages[0].total == 3 and pages[1].pages == 2


def test_a_region_without_cadres_an_unknown_region_and_a_bad_code(world):
    upsert_regions(store=world, regions=[Region(code="620822100203", name="空村")])
    empty = report(world, region="620822100203")
    assert empty.items == [] and empty.total == 0
    with pytest.raises(NotFound):
        report(world, region="6209")
    with pytest.raises(InvalidValue):
        report(world, region="62a")


def test_the_report_description():
    assert (CADRE_LOAD.name, CADRE_LOAD.ranged, CADRE_LOAD.row) == ("cadre-load", False, CadreLoad)
    assert list(CADRE_LOAD.headers) == CADRE_LOAD.fields == [
        "cadre_no", "name", "station_code", "on_duty", "pair_limit", "load", "finding", "households"]
