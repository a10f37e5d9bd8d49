"""Regions, households, persons, cadres and organisations through their services, on both engines."""

from __future__ import annotations

import pytest

from factories import OTHER_VILLAGE, VILLAGE, cadre, household, org, person
from graph_schema.cadre.service import get_cadre, upsert_cadres
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import (
    get_household,
    get_person,
    household_members,
    list_households,
    upsert_households,
    upsert_persons,
)
from graph_schema.org.service import get_org, upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.records import history
from graph_schema.region.models import Region
from graph_schema.region.service import child_regions, get_region, upsert_regions
from graph_schema.store.schema import HOUSEHOLD


def test_regions_form_a_hierarchy_from_their_codes(store):
    result = upsert_regions(store=store, regions=[Region(code="620822", name="灵台县"),
                                                  Region(code="620822100201", name="赵家沟村")])
    assert sorted(result.created) == ["620822000000", "620822100201"]
    assert get_region(store=store, code="62").name == "620000000000"  # implicit: named by its code
    assert [r.code for r in child_regions(store=store, code="6208")] == ["620822000000"]
    assert [r.code for r in child_regions(store=store, code="620822100")] == ["620822100201"]
    chain = store.query("MATCH (v:Region {code: '620822100201'})-[:PART_OF]->(t)-[:PART_OF]->(c)-[:PART_OF]->(ci)"
                        "-[:PART_OF]->(p) RETURN t.code AS t, c.code AS c, ci.code AS ci, p.code AS p")
    assert chain == [{"t": "620822100000", "c": "620822000000", "ci": "620800000000", "p": "620000000000"}]


def test_renaming_a_region_keeps_its_previous_name(store):
    upsert_regions(store=store, regions=[Region(code="620822", name="灵台")])
    result = upsert_regions(store=store, regions=[Region(code="620822", name="灵台县")])
    assert result.updated == ["620822000000"]
    from graph_schema.store.schema import REGION

    assert store.read(lambda tx: history(tx, REGION, "620822000000"))[0]["previous"] == {"name": "灵台"}


def test_households_create_their_regions_and_upsert_idempotently(store):
    homes = [household("H1"), household("H2", region=OTHER_VILLAGE)]
    assert upsert_households(store=store, households=homes).counts()["created"] == 2
    again = upsert_households(store=store, households=homes)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert get_household(store=store, household_no="H2").region_code == OTHER_VILLAGE
    assert store.query("MATCH (h:Household {household_no: 'H1'})-[:IN_REGION]->(r:Region) RETURN r.code AS code") \
        == [{"code": VILLAGE}]


def test_a_changed_household_is_updated_with_history_and_moved(store):
    h = household("H1", size=3, labour=1)
    upsert_households(store=store, households=[h])
    moved = h.model_copy(update={"size": 4, "region_code": OTHER_VILLAGE})
    assert upsert_households(store=store, households=[moved]).updated == ["H1"]
    assert get_household(store=store, household_no="H1").size == 4
    regions = store.query("MATCH (h:Household {household_no: 'H1'})-[:IN_REGION]->(r) RETURN r.code AS code")
    assert regions == [{"code": OTHER_VILLAGE}]
    previous = store.read(lambda tx: history(tx, HOUSEHOLD, "H1"))
    assert previous == [{"recorded_at": previous[0]["recorded_at"],
                         "previous": {"size": 3, "region_code": VILLAGE}}]


def test_a_batch_naming_a_key_twice_is_refused_before_any_write(store):
    with pytest.raises(InvalidValue) as caught:
        upsert_households(store=store, households=[household("H1"), household("H2"), household("H1")])
    assert caught.value.code == "DUPLICATE_KEY"
    assert store.query("MATCH (h:Household) RETURN count(h) AS n") == [{"n": 0}]


def test_persons_need_an_existing_household_and_the_rest_are_written(store):
    upsert_households(store=store, households=[household("H1")])
    ok, orphan = person("H1", relation="本人"), person("NOPE")
    result = upsert_persons(store=store, persons=[ok, orphan])
    assert result.created == [ok.id_number]
    assert [(i, e.code) for i, e in result.errors] == [(1, "NOT_FOUND")]
    assert [p.id_number for p in household_members(store=store, household_no="H1")] == [ok.id_number]
    with pytest.raises(NotFound):
        get_person(store=store, id_number=orphan.id_number)


def test_a_person_who_moves_household_follows_the_edge(store):
    upsert_households(store=store, households=[household("H1"), household("H2")])
    p = person("H1")
    upsert_persons(store=store, persons=[p])
    upsert_persons(store=store, persons=[p.model_copy(update={"household_no": "H2"})])
    assert household_members(store=store, household_no="H1") == []
    assert [m.id_number for m in household_members(store=store, household_no="H2")] == [p.id_number]
    edges = store.query("MATCH (:Person {id_number: $id})-[e:MEMBER_OF]->(h) RETURN h.household_no AS no",
                        {"id": p.id_number})
    assert edges == [{"no": "H2"}]


def test_households_are_listed_by_region_in_pages(store):
    upsert_households(store=store, households=[household(f"H{i:02d}") for i in range(7)] +
                      [household("X1", region="620802101203")])
    first = list_households(store=store, region="620822", page=PageRequest(page=1, page_size=3))
    third = list_households(store=store, region="620822100201", page=PageRequest(page=3, page_size=3))
    assert first.total == 7 and first.pages == 3 and [h.household_no for h in first.items] == ["H00", "H01", "H02"]
    assert [h.household_no for h in third.items] == ["H06"]
    assert list_households(store=store, region="62").total == 8
    assert list_households(store=store, region="620802101203").total == 1


@pytest.mark.parametrize("bad", [{"page": 0}, {"page_size": 0}, {"page_size": 1001}])
def test_page_requests_are_bounded(bad):
    with pytest.raises(InvalidValue):
        PageRequest(**bad)


def test_cadres_and_orgs_upsert_and_read_back(store):
    c = cadre("C1", pair_limit=5)
    o = org(service_modes=["辅助结对"])
    assert upsert_cadres(store=store, cadres=[c]).created == ["C1"]
    assert upsert_orgs(store=store, orgs=[o]).created == [o.uscc]
    assert get_cadre(store=store, cadre_no="C1") == c
    assert get_org(store=store, uscc=o.uscc) == o
    left = c.model_copy(update={"on_duty": False})
    assert upsert_cadres(store=store, cadres=[left]).updated == ["C1"]
    assert get_cadre(store=store, cadre_no="C1").on_duty is False
    with pytest.raises(NotFound):
        get_cadre(store=store, cadre_no="C2")
    stationed = store.query("MATCH (:Cadre {cadre_no: 'C1'})-[:STATIONED_IN]->(r) RETURN r.code AS code")
    assert stationed == [{"code": VILLAGE}]
