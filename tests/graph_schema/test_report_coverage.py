"""Coverage by region: exact figures on a hand-built county, period edges, and sums of children."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import cadre, household, org
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import DateOrder, InvalidValue, NotFound
from graph_schema.household.service import upsert_households
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.monitoring.coverage import _SUMMED, coverage
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import aux_pair, end_pairing, pair
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

V1, V2, V3 = "620822100201", "620822100202", "620822101203"
T1, T2 = "620822100000", "620822101000"
START, AS_OF = dt.date(2025, 1, 1), dt.date(2025, 6, 30)


@pytest.fixture
def county(store):
    upsert_households(store=store, households=[
        household("H1", V1, tekun=True), household("H2", V2, monitoring="边缘易致贫户"),
        household("H3", V3, elderly_carer=True), household("H4", V1)])
    upsert_cadres(store=store, cadres=[cadre("C1", V1), cadre("C3", V3)])
    the_org = org()
    upsert_orgs(store=store, orgs=[the_org])
    pair(store=store, household_no="H1", cadre_no="C1", started_on=dt.date(2024, 5, 1))
    pair(store=store, household_no="H4", cadre_no="C1", started_on=dt.date(2024, 5, 1))  # not a priority household
    pair(store=store, household_no="H3", cadre_no="C3", started_on=dt.date(2024, 5, 1))
    upsert_cadres(store=store, cadres=[cadre("C3", V3, on_duty=False)])  # H3 no longer counts as paired
    pair(store=store, household_no="H2", cadre_no="C1", started_on=dt.date(2025, 7, 1))  # after as_of
    aux_pair(store=store, household_no="H2", uscc=the_org.uscc, started_on=dt.date(2025, 2, 1))
    aux_pair(store=store, household_no="H3", uscc=the_org.uscc, started_on=dt.date(2024, 2, 1))

    def entry(day, h, kind, actor="C1", **money):
        who = {"uscc": the_org.uscc} if actor == "ORG" else {"cadre_no": actor}
        return LedgerEntry(entry_date=day, household_no=h, kind=kind, **who, **money)

    log_entries(store=store, entries=[
        entry(START, "H1", "入户走访"),  # first day of the period: counted
        entry(START - dt.timedelta(days=1), "H1", "入户走访"),  # the day before: not
        entry(AS_OF, "H1", "联系交流"),  # the last day: counted
        entry(AS_OF + dt.timedelta(days=1), "H1", "联系交流"),  # after as_of: not
        entry(dt.date(2025, 3, 1), "H1", "反映困难", problem_no="P1"),
        entry(dt.date(2025, 4, 1), "H1", "解决困难", problem_no="P1"),
        entry(dt.date(2025, 3, 2), "H3", "落实政策", actor="C3"),
        entry(dt.date(2025, 3, 3), "H3", "帮办实事", actor="C3"),
        entry(dt.date(2025, 3, 4), "H2", "资助", amount_fen=50_000),
        entry(dt.date(2025, 3, 5), "H2", "捐款捐物", actor="ORG", amount_fen=20_000, in_kind_fen=30_000),
        entry(dt.date(2025, 3, 6), "H3", "捐款捐物", amount_fen=1_000),  # a cadre's gift: not an org donation
        entry(dt.date(2025, 3, 7), "H3", "志愿服务", actor="ORG"),
        entry(dt.date(2025, 3, 8), "H3", "志愿服务", actor="ORG", volunteers=4, minutes=90),
        entry(dt.date(2025, 3, 9), "H2", "志愿服务", actor="ORG", volunteers=2),  # no time: people only
    ])
    return store


def rows(store, region, **kw):
    return {r.region_code: r for r in coverage(store=store, region=region, as_of=AS_OF, period_start=START, **kw).items}


def test_county_figures_are_exact(county):
    result = rows(county, "620822")
    assert list(result) == ["620822000000", T1, T2]
    c = result["620822000000"]
    assert (c.priority_households, c.paired, c.pairing_rate, c.aux_pairings) == (3, 1, 0.3333, 2)
    assert (c.contacts, c.home_visits, c.policies, c.problems_solved, c.problems_escalated) == (1, 1, 1, 1, 1)
    assert (c.practical_help, c.volunteer_services, c.volunteers, c.volunteer_minutes) == (1, 3, 6, 360)
    assert (c.funds_cash_fen, c.funds_in_kind_fen) == (71_000, 30_000)
    assert (c.org_donations, c.org_donations_fen) == (1, 50_000)
    t1, t2 = result[T1], result[T2]
    assert (t1.priority_households, t1.paired, t1.pairing_rate, t1.aux_pairings) == (2, 1, 0.5, 1)
    assert (t2.priority_households, t2.paired, t2.pairing_rate, t2.aux_pairings) == (1, 0, 0.0, 1)
    assert (t2.policies, t2.practical_help, t2.volunteer_services, t2.funds_cash_fen) == (1, 1, 2, 1_000)
    assert (t1.volunteers, t1.volunteer_minutes, t2.volunteers, t2.volunteer_minutes) == (2, 0, 4, 360)
    assert t1.level == "乡" and c.level == "县"


def test_a_region_equals_the_sum_of_its_children_at_every_level(county):
    for region in ("62", "6208", "620822", "620822100"):
        result = list(rows(county, region).values())
        parent, children = result[0], result[1:]
        assert children, region
        for name in _SUMMED:
            assert getattr(parent, name) == sum(getattr(c, name) for c in children), (region, name)


def test_the_province_and_the_city_count_as_the_county_they_hold(county):
    # the wide scopes read the ledger's sums and (on Neo4j) the auxiliary pairings by their index;
    # the county reads the entries and its households' pairings
    figures = {region: {name: getattr(next(iter(rows(county, region).values())), name) for name in _SUMMED}
               for region in ("62", "6208", "620822")}
    assert figures["62"] == figures["6208"] == figures["620822"]
    assert figures["62"]["aux_pairings"] == 2 and figures["62"]["volunteer_minutes"] == 360


def test_a_village_has_only_its_own_row_and_an_empty_region_has_zeros(county):
    assert list(rows(county, V1)) == [V1]
    assert rows(county, V1)[V1].paired == 1
    upsert_regions(store=county, regions=[Region(code="620822102000", name="空乡")])
    empty = rows(county, "620822102")["620822102000"]
    assert empty.region_name == "空乡" and empty.priority_households == 0 and empty.pairing_rate is None


def test_as_of_moves_pairings_and_the_period(county):
    later = {r.region_code: r for r in coverage(store=county, region="620822", as_of=dt.date(2025, 7, 2),
                                                period_start=dt.date(2025, 7, 1)).items}
    assert later["620822000000"].paired == 2  # H2 paired on 1 July
    assert later["620822000000"].contacts == 1 and later["620822000000"].home_visits == 0
    end_pairing(store=county, household_no="H1", reason="调动", ended_on=dt.date(2025, 7, 2))
    again = {r.region_code: r for r in coverage(store=county, region="620822", as_of=dt.date(2025, 7, 2),
                                                period_start=dt.date(2025, 7, 1)).items}
    assert again["620822000000"].paired == 1


def test_pages_and_bad_input(county):
    page = coverage(store=county, region="620822", as_of=AS_OF, page=PageRequest(page=2, page_size=2))
    assert page.total == 3 and [r.region_code for r in page.items] == [T2]
    with pytest.raises(DateOrder):
        coverage(store=county, region="620822", as_of=AS_OF, period_start=AS_OF + dt.timedelta(days=1))
    with pytest.raises(NotFound):
        coverage(store=county, region="630000")
    with pytest.raises(InvalidValue):
        coverage(store=county, region="6208221")
