"""Disabled persons by category and grade: exact counts on a hand-built county, children that add up
to their region, bad and unknown regions; on both engines."""

from __future__ import annotations

import pytest

from factories import OTHER_COUNTY_VILLAGE, household, person
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.disability import _COUNTS, disability_counts
from graph_schema.pagination import PageRequest

V1, V2, V3 = "620822100201", "620822100202", "620822101203"
T1, T2 = "620822100000", "620822101000"


@pytest.fixture
def county(store):
    upsert_households(store=store, households=[household("H1", V1), household("H2", V2), household("H3", V3),
                                               household("H4", V3), household("X", OTHER_COUNTY_VILLAGE)])
    upsert_persons(store=store, persons=[
        person("H1", category=1, grade=1), person("H1", category=4, grade=3),
        person("H2", category=4, grade=2),
        person("H3", category=6, grade=4), person("H3", category=7, grade=1),
        person("X", category=2, grade=1)])  # another county: never counted here
    return store


def rows(store, region):
    return {r.region_code: r for r in disability_counts(store=store, region=region).items}


def test_county_counts_are_exact(county):
    found = rows(county, "620822")
    assert list(found) == ["620822000000", T1, T2]
    c = found["620822000000"]
    assert (c.persons, c.severe) == (5, 3)
    assert (c.visual, c.hearing, c.speech, c.physical, c.intellectual, c.mental, c.multiple) == (1, 0, 0, 2, 0, 1, 1)
    assert (c.grade_1, c.grade_2, c.grade_3, c.grade_4) == (2, 1, 1, 1)
    assert (found[T1].persons, found[T1].severe, found[T1].physical) == (3, 2, 2)
    assert (found[T2].persons, found[T2].mental, found[T2].multiple, found[T2].grade_4) == (2, 1, 1, 1)


def test_children_add_up_to_their_region(county):
    found = rows(county, "620822")
    region, children = found["620822000000"], [found[T1], found[T2]]
    for name in _COUNTS:
        assert getattr(region, name) == sum(getattr(child, name) for child in children), name
    assert region.persons == sum(getattr(region, c) for c in ("visual", "hearing", "speech", "physical",
                                                              "intellectual", "mental", "multiple"))
    assert region.persons == region.grade_1 + region.grade_2 + region.grade_3 + region.grade_4


def test_a_village_has_its_own_row_and_an_empty_one_zeros(county):
    assert [(r.region_code, r.persons) for r in disability_counts(store=county, region=V2).items] == [(V2, 1)]
    upsert_households(store=county, households=[household("H9", "620822100203")])  # a village with no persons
    assert rows(county, "620822100203")["620822100203"].persons == 0


def test_bad_and_unknown_regions_are_refused(county):
    with pytest.raises(InvalidValue):
        disability_counts(store=county, region="62x")
    with pytest.raises(NotFound):
        disability_counts(store=county, region="110101")


def test_it_is_in_the_catalogue_and_pages(county):
    assert REPORTS["disability-counts"].run is disability_counts
    page = disability_counts(store=county, region="620822", page=PageRequest(2, 2))
    assert (page.total, [r.region_code for r in page.items]) == (3, [T2])
