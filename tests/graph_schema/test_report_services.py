"""The four service reports on a hand-computed county, on both engines: service rates (persons
counted once, 人次 beside, the period's edges, a superseded or closed need, the subgroups, regions
equal to the sum of their children), unmet needs, overdue referrals and service deserts."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import household, id_number, org, person
from graph_schema.enums import ReferralReason, ServiceDept
from graph_schema.errors import DateOrder, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.overdue_referrals import overdue_referrals
from graph_schema.monitoring.service_deserts import service_deserts
from graph_schema.monitoring.service_rates import service_rates
from graph_schema.monitoring.unmet_needs import unmet_needs
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.service.catalogue import upsert_service_types
from graph_schema.service.deliveries import record_deliveries
from graph_schema.service.models import Delivery, Need, Offer, ServiceType
from graph_schema.service.needs import record_needs
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, accept_referral, refer, withdraw_referral

D = dt.date
COUNTY, T1, T2 = "620822000000", "620822100000", "620822101000"
V1, V2, V3 = "620822100201", "620822100202", "620822101203"
START, AS_OF = D(2024, 1, 1), D(2024, 6, 30)


@pytest.fixture
def county(store):
    """P1 (V1, 一级): the registry's 康复 need; two counting KF01 deliveries in the period, one before.
    P2 (V1, a child of 4): KF02 confirmed 10 January, its one delivery 未完成; a referral accepted
    and withdrawn on 1 June.
    P3 (V2): 康复 confirmed 2023 and met in November 2023; an FJ01 assessment after AS_OF; a KF01
    delivery in the period (no need: not counted).
    P4 (V2): the registry's 辅具 need superseded by FJ01 (1 April), fitted 20 April; 康复 confirmed
    1 March, 不再需要 on 1 May.
    P5 (V3, 二级): 辅具 for the whole category on 1 February; FJ02 on the period's last day, and
    another the day after.
    P6 (V3): the registry's 康复; a KF09 session (a service that does not count toward the rate).
    P7 (V3, a 特困 household): KF01 confirmed 1 January, referred to O2 on 15 April, pending.
    O1 offers KF01 and KF02 (room for 1, designated) over the county; O2 KF01 over T2 and FJ01
    over V3 until 1 May."""
    upsert_households(store=store, households=[household("H1", V1), household("H2", V2), household("H3", V3),
                                               household("H4", V3, tekun=True)])
    born = {n: id_number(born=D(1970, 1, n)) for n in range(1, 8)}
    born[2] = id_number(born=D(2020, 3, 1))
    upsert_persons(store=store, persons=[
        person("H1", grade=1, id_number=born[1], needs=["康复"]), person("H1", id_number=born[2]),
        person("H2", id_number=born[3]), person("H2", id_number=born[4], needs=["辅具"]),
        person("H3", grade=2, id_number=born[5]), person("H3", id_number=born[6], needs=["康复"]),
        person("H4", id_number=born[7])])
    o1, o2 = org(region="620822"), org(region="620822")
    upsert_orgs(store=store, orgs=[o1, o2])
    upsert_service_types(store=store, types=[ServiceType(code="KF09", name="康复讲座", category="康复", counts=False)])
    upsert_offers(store=store, offers=[
        Offer(uscc=o1.uscc, service_code="KF01", region_code=COUNTY),
        Offer(uscc=o1.uscc, service_code="KF02", region_code=COUNTY, capacity=1, designated_until=D(2030, 1, 1)),
        Offer(uscc=o2.uscc, service_code="KF01", region_code=T2),
        Offer(uscc=o2.uscc, service_code="FJ01", region_code=V3, valid_to=D(2024, 5, 1)),
    ])
    p = born
    needs = [
        Need(id_number=p[2], service_code="KF02", assessed_on=D(2024, 1, 10)),
        Need(id_number=p[3], category="康复", assessed_on=D(2023, 6, 1)),
        Need(id_number=p[3], category="康复", assessed_on=D(2023, 11, 1), status="已满足"),
        Need(id_number=p[3], service_code="FJ01", assessed_on=D(2024, 7, 15)),
        Need(id_number=p[4], service_code="FJ01", assessed_on=D(2024, 4, 1)),
        Need(id_number=p[4], category="康复", assessed_on=D(2024, 3, 1)),
        Need(id_number=p[4], category="康复", assessed_on=D(2024, 5, 1), status="不再需要"),
        Need(id_number=p[5], category="辅具", assessed_on=D(2024, 2, 1)),
        Need(id_number=p[7], service_code="KF01", assessed_on=D(2024, 1, 1)),
    ]
    record_needs(store=store, needs=needs)

    def given(n, code, day, **values):
        return Delivery(id_number=p[n], service_code=code, delivered_on=day, dept=ServiceDept.DPF, **values)

    record_deliveries(store=store, deliveries=[
        given(1, "KF01", D(2024, 2, 1)), given(1, "KF01", D(2024, 3, 1), outcome="进行中"),
        given(1, "KF01", D(2023, 12, 1)), given(2, "KF02", D(2024, 5, 1), outcome="未完成"),
        given(3, "KF01", D(2024, 2, 1)), given(4, "FJ01", D(2024, 4, 20)), given(5, "FJ02", AS_OF),
        given(5, "FJ02", D(2024, 7, 1)), given(6, "KF09", D(2024, 3, 1)),
    ])
    r2 = refer(store=store, request=ReferralRequest(id_number=p[2], need_id=needs[0].need_id, provider_uscc=o1.uscc,
                                                    made_on=D(2024, 2, 15), made_by="organiser"))
    accept_referral(store=store, referral_id=r2.referral_id, on=D(2024, 2, 20))
    withdraw_referral(store=store, referral_id=r2.referral_id, reason=ReferralReason.PROVIDER_UNREACHABLE,
                      on=D(2024, 6, 1))
    r7 = refer(store=store, request=ReferralRequest(id_number=p[7], need_id=needs[-1].need_id, provider_uscc=o2.uscc,
                                                    made_on=D(2024, 4, 15), made_by="organiser"))
    return store, p, needs, o1, o2, r2, r7


def rates(store, region=COUNTY, **kw):
    kw = {"as_of": AS_OF, "period_start": START} | kw
    return {(r.region_code, r.category): r for r in service_rates(store=store, region=region, **kw).items}


def figures(row):
    return (row.persons_in_need, row.persons_served, row.rate, row.deliveries, row.severe_in_need, row.severe_served,
            row.severe_rate, row.children_in_need, row.children_served, row.children_rate)


def test_service_rates_are_exact(county):
    store, *_ = county
    got = rates(store)
    assert list(got) == [(c, k) for c in (COUNTY, T1, T2) for k in ("康复", "辅具")]
    assert figures(got[COUNTY, "康复"]) == (5, 1, 0.2, 2, 1, 1, 1.0, 1, 0, 0.0)  # P1 P2 P4 P6 P7; P1 served twice
    assert figures(got[COUNTY, "辅具"]) == (2, 2, 1.0, 2, 1, 1, 1.0, 0, 0, None)  # P4, P5
    assert figures(got[T1, "康复"]) == (3, 1, 0.3333, 2, 1, 1, 1.0, 1, 0, 0.0)
    assert figures(got[T2, "康复"]) == (2, 0, 0.0, 0, 0, 0, None, 0, 0, None)
    assert figures(got[T2, "辅具"]) == (1, 1, 1.0, 1, 1, 1, 1.0, 0, 0, None)
    assert got[COUNTY, "康复"].region_name == COUNTY and got[T1, "康复"].level == "乡"  # named by code: no 区划.csv


def test_a_region_equals_the_sum_of_its_children(county):
    store, *_ = county
    got = rates(store)
    for category in ("康复", "辅具"):
        for field in ("persons_in_need", "persons_served", "deliveries", "severe_in_need", "children_in_need"):
            assert getattr(got[COUNTY, category], field) == \
                getattr(got[T1, category], field) + getattr(got[T2, category], field), (category, field)
    village = rates(store, V1)
    assert list(village) == [(V1, "康复"), (V1, "辅具")] and figures(village[V1, "康复"])[:4] == (2, 1, 0.5, 2)


def test_the_period_decides_who_was_in_need_and_who_was_served(county):
    store, *_ = county
    late = rates(store, period_start=D(2024, 5, 2))  # P4's 康复 closed on 1 May; P1's sessions were earlier
    assert figures(late[COUNTY, "康复"])[:4] == (4, 0, 0.0, 0)
    year_before = rates(store, as_of=D(2023, 12, 31), period_start=D(2023, 1, 1))
    # P3's need (June–November 2023) and P1's December session count; P7's need was not confirmed yet
    assert figures(year_before[COUNTY, "康复"])[:4] == (3, 1, 0.3333, 1)
    with pytest.raises(DateOrder):
        rates(store, period_start=D(2024, 7, 1))


def test_unmet_needs_are_overdue_unhandled_and_list_who_could_help(county):
    store, p, needs, o1, o2, r2, r7 = county
    now = unmet_needs(store=store, region=COUNTY, as_of=AS_OF).items
    assert [(u.need_id, u.days_overdue) for u in now] == [(needs[0].need_id, (AS_OF - D(2024, 2, 9)).days)]
    assert now[0].id_masked == p[2][:6] + "********" + p[2][14:] and now[0].household_no == "H1"
    assert now[0].providers == [f"测试组织（{o1.uscc}）定点：余1"]  # O2's KF01 is not KF02, and not in V1
    before = unmet_needs(store=store, region=COUNTY, as_of=D(2024, 4, 10)).items
    # before P7's referral; P2's referral was open then; P5 was waiting (辅具: 60 days from 1 February),
    # and P4 (康复 for the whole category: its shortest limit, 30 days from 1 March)
    assert [(u.household_no, u.category) for u in before] == [("H3", "辅具"), ("H4", "康复"), ("H2", "康复")]
    assert before[0].risk_score > before[1].risk_score > before[2].risk_score  # 重度+一户多残, 特困, 一户多残
    assert before[0].providers == [f"测试组织（{o2.uscc}）：不限"]  # FJ01 over V3, active until 1 May
    assert before[1].providers == [f"测试组织（{code}）：不限" for code in sorted([o1.uscc, o2.uscc])]  # alike: by code
    assert [u.household_no for u in unmet_needs(store=store, region=COUNTY, as_of=D(2024, 4, 10),
                                                page=PageRequest(2, 1)).items] == ["H4"]
    assert [u.household_no for u in unmet_needs(store=store, region=T1, as_of=D(2024, 4, 10)).items] == ["H2"]


def test_overdue_referrals_are_those_open_past_their_due_date(county):
    store, p, needs, o1, o2, r2, r7 = county
    now = overdue_referrals(store=store, region=COUNTY, as_of=AS_OF).items
    assert [(o.referral_id, o.provider, o.status, o.due_on) for o in now] == \
        [(r7.referral_id, o2.uscc, "待接收", D(2024, 6, 14))]
    earlier = overdue_referrals(store=store, region=COUNTY, as_of=D(2024, 5, 10)).items  # before its withdrawal
    assert [(o.referral_id, o.provider, o.status, o.overdue_at_provider, o.days_overdue) for o in earlier] == \
        [(r2.referral_id, o1.uscc, "已接收", 1, (D(2024, 5, 10) - D(2024, 3, 16)).days)]
    assert overdue_referrals(store=store, region=COUNTY, as_of=D(2024, 3, 16)).total == 0  # due that day
    assert overdue_referrals(store=store, region=T1, as_of=AS_OF).total == 0


def test_service_deserts_are_villages_and_townships_no_offer_reaches(county):
    store, *_ = county
    now = [(d.region_code, d.category, d.persons_in_need, d.villages_in_need, d.desert_villages)
           for d in service_deserts(store=store, region=COUNTY, as_of=AS_OF).items]
    assert now == [(T1, "辅具", 1, 1, 1), (V2, "辅具", 1, 1, 1), (T2, "辅具", 1, 1, 1), (V3, "辅具", 1, 1, 1)]
    while_offered = [(d.region_code, d.category) for d in
                     service_deserts(store=store, region=COUNTY, as_of=D(2024, 4, 30)).items]
    assert while_offered == [(T1, "辅具"), (V2, "辅具")]  # FJ01 reached V3 until 1 May
    assert [d.region_code for d in service_deserts(store=store, region=T2, as_of=AS_OF).items] == [T2, V3]


def test_the_reports_are_in_the_catalogue_and_refuse_an_unknown_region(county):
    store, *_ = county
    assert {"service-rates", "unmet-needs", "overdue-referrals", "service-deserts"} <= set(REPORTS)
    assert REPORTS["service-rates"].ranged and REPORTS["unmet-needs"].organisers_only
    assert not REPORTS["service-deserts"].organisers_only
    for name in ("service-rates", "unmet-needs", "overdue-referrals", "service-deserts"):
        with pytest.raises(NotFound):
            REPORTS[name].run(store=store, region="620899", as_of=AS_OF, page=PageRequest())
        page = REPORTS[name].run(store=store, region="620822", as_of=AS_OF, page=PageRequest(1, 1))
        assert len(page.items) <= 1
