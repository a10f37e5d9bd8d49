"""Data comparison (benefit-gaps): every finding, the listing months, the scope of unknown persons,
order and pages, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, household, id_number, person
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.identifiers import mask_id_number
from graph_schema.listing.models import Listing
from graph_schema.listing.service import upsert_listings
from graph_schema.monitoring.benefits import BENEFIT_GAPS, BenefitGap, benefit_gaps
from graph_schema.pagination import PageRequest
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

AS_OF = dt.date(2024, 3, 15)
CARE, LIVING, MONITORED = "重度残疾人护理补贴", "困难残疾人生活补贴", "监测对象"
M = dt.date  # months are stored as their first day


def listed(who, item: str, valid_from: dt.date | None = M(2023, 1, 1), valid_to: dt.date | None = None,
           dept: str = "民政", name: str | None = None) -> Listing:
    number = who if isinstance(who, str) else who.id_number
    return Listing(dept=dept, item=item, id_number=number, name=name or getattr(who, "name", "名单人员"),
                   valid_from=valid_from, valid_to=valid_to)


def gap(p, household_no: str | None, region: str | None, item: str, finding: str, detail: str,
        name: str = "测试人") -> BenefitGap:
    number = p if isinstance(p, str) else p.id_number
    return BenefitGap(id_masked=mask_id_number(number), name=name, household_no=household_no, region_code=region,
                      item=item, finding=finding, detail=detail)


@pytest.fixture
def world(store):
    """Persons with every finding and every near miss, plus listed persons the registry lacks."""
    upsert_households(store=store, households=[
        household("H1", dibao=True), household("H2"), household("H3", region=OTHER_VILLAGE),
        household("H4", dibao=True), household("H5"), household("H6"), household("H7", monitoring="边缘易致贫户"),
        household("X1", region=OTHER_COUNTY_VILLAGE, dibao=True),
    ])
    p = {
        "both": person("H1", grade=1),  # severe in a 低保 household, on no list: findings 1 and 2
        "ends_this_month": person("H2", grade=2),  # care listing ending in March: counts
        "ended_last_month": person("H3", grade=2),  # care listing ended in February: finding 1
        "starts_later": person("H4", grade=3),  # living listing from April: finding 2
        "starts_now": person("H4", grade=4),  # living listing from March: counts
        "expired": person("H5", grade=1, cert_expiry=dt.date(2024, 3, 14)),  # on both subsidy lists
        "expires_today": person("H5", grade=3, cert_expiry=AS_OF),  # on a list, still valid today
        "monitored": person("H6", grade=4),  # on the 监测对象 list, household unmarked: finding 5
        "marked": person("H7", grade=4),  # on the 监测对象 list, household marked
        "elsewhere": person("X1", grade=4),  # lives in another county, ID issued in this one
    }
    upsert_persons(store=store, persons=list(p.values()))
    unknown = {"here": id_number("620822"), "other_county": id_number("620802"), "ended": id_number("620822")}
    upsert_listings(store=store, listings=[
        listed(p["ends_this_month"], CARE, valid_to=M(2024, 3, 1)),
        listed(p["ended_last_month"], CARE, valid_to=M(2024, 2, 1)),
        listed(p["starts_later"], LIVING, valid_from=M(2024, 4, 1)),
        listed(p["starts_now"], LIVING, valid_from=M(2024, 3, 1), valid_to=M(2024, 12, 1)),
        listed(p["expired"], CARE), listed(p["expired"], LIVING, valid_from=None),
        listed(p["expires_today"], LIVING),
        listed(p["monitored"], MONITORED, dept="乡村振兴"),
        listed(p["monitored"], MONITORED, dept="民政", valid_from=M(2024, 1, 1)),
        listed(p["marked"], MONITORED, dept="乡村振兴"),
        listed(p["elsewhere"], LIVING),
        listed(p["both"], "低保"),  # an item the comparison does not read
        listed(unknown["here"], CARE, name="张三", valid_from=M(2023, 5, 1)),
        listed(unknown["here"], CARE, name="张三", dept="卫健", valid_from=M(2022, 1, 1)),
        listed(unknown["here"], LIVING, name="张三", valid_from=None),
        listed(unknown["other_county"], LIVING, name="李四"),
        listed(unknown["ended"], LIVING, name="王五", valid_to=M(2024, 2, 1)),
        listed(id_number("620822"), MONITORED, name="赵六"),  # not a subsidy: never finding 4
    ])
    return store, p, unknown


def county_rows(p, unknown) -> list[BenefitGap]:
    return [
        gap(p["both"], "H1", VILLAGE, CARE, "重度残疾未享护理补贴", "一级残疾，护理补贴名单中无有效记录"),
        gap(p["ended_last_month"], "H3", OTHER_VILLAGE, CARE, "重度残疾未享护理补贴",
            "二级残疾，护理补贴名单中无有效记录"),
        gap(p["both"], "H1", VILLAGE, LIVING, "低保户未享生活补贴", "低保户，生活补贴名单中无有效记录"),
        gap(p["starts_later"], "H4", VILLAGE, LIVING, "低保户未享生活补贴", "低保户，生活补贴名单中无有效记录"),
        gap(p["expired"], "H5", VILLAGE, LIVING, "证件过期仍在补贴名单", "证件有效期至 2024-03-14"),
        gap(p["expired"], "H5", VILLAGE, CARE, "证件过期仍在补贴名单", "证件有效期至 2024-03-14"),
        gap(unknown["here"], None, None, LIVING, "补贴名单人员不在残疾人库", "民政名单", name="张三"),
        gap(unknown["here"], None, None, CARE, "补贴名单人员不在残疾人库",
            "卫健名单，2022-01 起；民政名单，2023-05 起", name="张三"),
        gap(p["monitored"], "H6", VILLAGE, MONITORED, "监测对象户未标识", "乡村振兴、民政名单列为监测对象，户未标识监测类别"),
    ]


def test_every_finding_and_every_near_miss_in_a_county(world):
    store, p, unknown = world
    page = benefit_gaps(store=store, region="620822", as_of=AS_OF)
    assert page.items == county_rows(p, unknown)
    assert page.total == 9


def test_the_order_is_finding_region_household_then_id_number(world):
    store, p, unknown = world
    rows = benefit_gaps(store=store, region="620822", as_of=AS_OF).items
    findings = [r.finding for r in rows]
    assert findings == sorted(findings, key=["重度残疾未享护理补贴", "低保户未享生活补贴", "证件过期仍在补贴名单",
                                             "补贴名单人员不在残疾人库", "监测对象户未标识"].index)
    # within 重度残疾未享护理补贴, the first village's household comes before the second village's
    assert [r.region_code for r in rows[:2]] == [VILLAGE, OTHER_VILLAGE]


def test_the_listing_months_follow_as_of(world):
    store, p, _ = world
    # in April the March-ending care listing has ended and the April living listing has begun;
    # the certificate valid until 15 March has now expired too
    rows = benefit_gaps(store=store, region=VILLAGE, as_of=dt.date(2024, 4, 1)).items
    expired = sorted([(p["expired"], CARE), (p["expired"], LIVING), (p["expires_today"], LIVING)],
                     key=lambda pair: (pair[0].id_number, pair[1]))
    assert rows == [
        gap(p["both"], "H1", VILLAGE, CARE, "重度残疾未享护理补贴", "一级残疾，护理补贴名单中无有效记录"),
        gap(p["ends_this_month"], "H2", VILLAGE, CARE, "重度残疾未享护理补贴", "二级残疾，护理补贴名单中无有效记录"),
        gap(p["both"], "H1", VILLAGE, LIVING, "低保户未享生活补贴", "低保户，生活补贴名单中无有效记录"),
        *[gap(who, "H5", VILLAGE, item, "证件过期仍在补贴名单", f"证件有效期至 {who.cert_expiry}")
          for who, item in expired],
        gap(p["monitored"], "H6", VILLAGE, MONITORED, "监测对象户未标识", "乡村振兴、民政名单列为监测对象，户未标识监测类别"),
    ]
    # before either listing month began, nobody was on a list
    early = benefit_gaps(store=store, region=VILLAGE, as_of=dt.date(2021, 6, 30)).items
    assert [(r.household_no, r.finding) for r in early] == [
        ("H1", "重度残疾未享护理补贴"), ("H2", "重度残疾未享护理补贴"), ("H5", "重度残疾未享护理补贴"),
        ("H1", "低保户未享生活补贴"), ("H4", "低保户未享生活补贴"), ("H4", "低保户未享生活补贴")]


def test_unknown_persons_are_placed_by_the_county_of_their_id_number(world):
    store, p, unknown = world
    here, other = unknown["here"], unknown["other_county"]
    city = benefit_gaps(store=store, region="6208", as_of=AS_OF).items
    assert [(r.id_masked, r.item, r.name) for r in city if r.finding == "补贴名单人员不在残疾人库"] == [
        (mask_id_number(other), LIVING, "李四"), (mask_id_number(here), LIVING, "张三"),
        (mask_id_number(here), CARE, "张三")]
    # the other county: its own unknown person only; its resident with an ID of 620822 is on the
    # living list, so their 低保 household gives no finding
    assert benefit_gaps(store=store, region="620802", as_of=AS_OF).items == [
        gap(other, None, None, LIVING, "补贴名单人员不在残疾人库", "民政名单，2023-01 起", name="李四")]
    # a township or a village cannot place a person by ID number: no finding 4 there
    township = benefit_gaps(store=store, region="620822100", as_of=AS_OF).items
    assert township == [r for r in county_rows(p, unknown) if r.finding != "补贴名单人员不在残疾人库"]


def test_pages_are_stable_and_cover_the_list(world):
    store, p, unknown = world
    everything = county_rows(p, unknown)
    pages = [benefit_gaps(store=store, region="620822", as_of=AS_OF, page=PageRequest(page=n, page_size=4))
             for n in (1, 2, 3)]
    assert [r for pg in pages for r in pg.items] == everything
    assert [len(pg.items) for pg in pages] == [4, 4, 1] and pages[0].total == 9 and pages[0].pages == 3


def test_a_region_without_households_an_unknown_region_and_a_bad_code(store):
    upsert_households(store=store, households=[household("H1", dibao=True)])
    upsert_persons(store=store, persons=[person("H1", grade=1)])
    upsert_regions(store=store, regions=[Region(code=OTHER_VILLAGE, name="空村")])
    assert benefit_gaps(store=store, region=OTHER_VILLAGE, as_of=AS_OF).items == []
    assert benefit_gaps(store=store, region=OTHER_VILLAGE, as_of=AS_OF).total == 0
    with pytest.raises(NotFound):
        benefit_gaps(store=store, region="6209", as_of=AS_OF)
    with pytest.raises(InvalidValue):
        benefit_gaps(store=store, region="62a", as_of=AS_OF)


def test_the_report_description(store):
    assert BENEFIT_GAPS.name == "benefit-gaps" and not BENEFIT_GAPS.ranged
    assert BENEFIT_GAPS.fields == list(BENEFIT_GAPS.headers)
    upsert_households(store=store, households=[household("H1", dibao=True)])
    upsert_persons(store=store, persons=[person("H1", grade=3)])
    assert BENEFIT_GAPS.run(store=store, region="620822", as_of=AS_OF, page=PageRequest()).total == 1


def test_a_person_registered_after_the_list_is_joined_to_it(store):
    upsert_households(store=store, households=[household("H1")])
    severe = person("H1", grade=1)
    upsert_listings(store=store, listings=[listed(severe, CARE)])
    before = benefit_gaps(store=store, region="620822", as_of=AS_OF).items
    assert [(g.finding, g.household_no) for g in before] == [("补贴名单人员不在残疾人库", None)]
    upsert_persons(store=store, persons=[severe])  # now the registry knows them: listed, no gap
    assert benefit_gaps(store=store, region="620822", as_of=AS_OF).items == []
