"""The ledger's sums per county, month, kind and author (graph_schema/store/ledger_sums.py) equal
its entries after every ledger write, a household's move to another county, a restore and the
filling of an older store, on both engines; a wrong sum is caught; and ``coverage`` of a province
or a city reads them for its whole months and the entries for the days at its ends, answering as
the entries alone do."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, cadre, household, org
from graph_schema.cadre.service import upsert_cadres
from graph_schema.household.service import upsert_households
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.models import today
from graph_schema.monitoring.coverage import coverage
from graph_schema.org.service import upsert_orgs
from graph_schema.store import ledger_sums
from household_values import assert_restored, kill_filling, reopen

ORG = org()
HOMES = {"H1": VILLAGE, "H2": OTHER_VILLAGE, "H3": OTHER_COUNTY_VILLAGE}
COUNTY, OTHER_COUNTY = VILLAGE[:6], OTHER_COUNTY_VILLAGE[:6]


def months_back(n: int) -> dt.date:
    """The first day of the month ``n`` months before this one."""
    first = today().replace(day=1)
    for _ in range(n):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first


def entry(kind: str, day: dt.date, household_no: str = "H1", **fields) -> LedgerEntry:
    actor = {} if "uscc" in fields else {"cadre_no": "C1"}
    return LedgerEntry(entry_date=day, household_no=household_no, kind=kind, **actor, **fields)


#: entries over the last three months and this one, of cadres and an organisation, in two counties,
#: on the first and last days of months and between them
ENTRIES = [
    entry("资助", months_back(3) + dt.timedelta(days=4), amount_fen=50_000, in_kind_fen=30_000),
    entry("志愿服务", months_back(3) + dt.timedelta(days=19), uscc=ORG.uscc, volunteers=3, minutes=90),
    entry("入户走访", months_back(2)),
    entry("入户走访", months_back(2), household_no="H2"),
    entry("捐款捐物", months_back(1) - dt.timedelta(days=1), household_no="H2", uscc=ORG.uscc, amount_fen=1_000),
    entry("联系交流", months_back(1) - dt.timedelta(days=1), household_no="H3"),
    entry("志愿服务", months_back(1) + dt.timedelta(days=9), household_no="H3", uscc=ORG.uscc, volunteers=2,
          minutes=30),
    entry("联系交流", months_back(0)),
]


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[household(no, region) for no, region in HOMES.items()])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    upsert_orgs(store=store, orgs=[ORG])
    return store


def sums(store) -> dict[tuple[str, dt.date, str, bool], tuple[int, ...]]:
    rows = store.query("MATCH (t:LedgerSum) WHERE t.n <> 0 RETURN t.county AS c, t.month AS m, t.kind AS k, "
                       "t.by_org AS o, t.n AS n, t.cash AS cash, t.in_kind AS in_kind, t.people AS people, "
                       "t.given AS given")
    return {(r["c"], r["m"], r["k"], r["o"]): (r["n"], r["cash"], r["in_kind"], r["people"], r["given"]) for r in rows}


def test_each_ledger_write_adds_to_its_countys_sums(world):
    log_entries(store=world, entries=ENTRIES[:4])
    log_entries(store=world, entries=ENTRIES[4:])
    assert world.read(ledger_sums.wrong) == []
    assert sums(world) == {
        (COUNTY, months_back(3), "资助", False): (1, 50_000, 30_000, 0, 0),
        (COUNTY, months_back(3), "志愿服务", True): (1, 0, 0, 3, 270),
        (COUNTY, months_back(2), "入户走访", False): (2, 0, 0, 0, 0),  # H1 and H2: one county
        (COUNTY, months_back(2), "捐款捐物", True): (1, 1_000, 0, 0, 0),  # the last day of that month
        (OTHER_COUNTY, months_back(2), "联系交流", False): (1, 0, 0, 0, 0),
        (OTHER_COUNTY, months_back(1), "志愿服务", True): (1, 0, 0, 2, 60),
        (COUNTY, months_back(0), "联系交流", False): (1, 0, 0, 0, 0),
    }
    before = sums(world)
    assert log_entries(store=world, entries=ENTRIES[:2]).counts()["unchanged"] == 2  # recorded before: nothing added
    assert sums(world) == before


def test_a_household_moving_to_another_county_carries_its_sums(world):
    log_entries(store=world, entries=ENTRIES)
    upsert_households(store=world, households=[household("H2", VILLAGE)])  # inside the county: no sum moves
    assert world.read(ledger_sums.wrong) == []
    upsert_households(store=world, households=[household("H1", OTHER_COUNTY_VILLAGE)])
    assert world.read(ledger_sums.wrong) == []
    moved = sums(world)
    assert (COUNTY, months_back(3), "资助", False) not in moved
    assert moved[(OTHER_COUNTY, months_back(3), "资助", False)] == (1, 50_000, 30_000, 0, 0)
    assert moved[(COUNTY, months_back(2), "入户走访", False)] == (1, 0, 0, 0, 0)  # H2's stays


def test_a_planted_wrong_sum_is_caught(world):
    log_entries(store=world, entries=ENTRIES)
    world.execute("MATCH (t:LedgerSum {kind: '资助'}) SET t.cash = t.cash + 1")
    world.execute("MATCH (t:LedgerSum {kind: '联系交流', county: $c}) DELETE t", {"c": OTHER_COUNTY})
    wrong = world.read(ledger_sums.wrong)
    assert [(w["key"].split("|")[0], w["key"].split("|")[2]) for w in wrong] == [(OTHER_COUNTY, "联系交流"),
                                                                              (COUNTY, "资助")]
    assert [w["stored"] for w in wrong] == [None, {"n": 1, "cash": 50_001, "in_kind": 30_000, "people": 0, "given": 0}]


#: this month's last day
MONTH_END = (today().replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
#: periods as (start, as_of), every as_of today or later (the store was made today: on a past day
#: nothing existed): whole months only, a start inside a month, an end inside this month, a period
#: inside this month, and one ending a year from now
PERIODS = [
    (months_back(3), MONTH_END),
    (months_back(3) + dt.timedelta(days=10), today()),
    (months_back(2), today()),
    (months_back(0), today()),
    (months_back(1) + dt.timedelta(days=3), today() + dt.timedelta(days=365)),
]


@pytest.mark.parametrize("start,as_of", PERIODS)
def test_coverage_of_wide_scopes_reads_the_sums_and_answers_as_the_entries(world, start, as_of):
    log_entries(store=world, entries=ENTRIES)
    answers = {region: coverage(store=world, region=region, period_start=start, as_of=as_of).items
               for region in ("62", "6208", COUNTY)}
    assert sum(r.contacts + r.home_visits + r.volunteer_services for r in answers["62"][1:]) > 0
    ledger_sums.unmark(world)  # the entries alone
    assert {region: coverage(store=world, region=region, period_start=start, as_of=as_of).items
            for region in answers} == answers
    assert ledger_sums.fill(world) > 0


def test_the_wide_scopes_read_the_sums_and_a_county_its_entries(world):
    log_entries(store=world, entries=ENTRIES)
    world.execute("MATCH (t:LedgerSum {kind: '入户走访'}) SET t.n = t.n + 100")  # planted
    visits = {region: coverage(store=world, region=region, period_start=months_back(3), as_of=MONTH_END).items[0]
              .home_visits for region in ("62", "6208", COUNTY)}
    assert visits == {"62": 102, "6208": 102, COUNTY: 2}


def test_a_restore_brings_exact_sums(engine, world, tmp_path):
    log_entries(store=world, entries=ENTRIES)
    assert_restored(engine, world, tmp_path, "MATCH (t:LedgerSum) WHERE t.n <> 0 RETURN t.sum_key AS k, t.n AS n, "
                    "t.cash AS cash, t.given AS given ORDER BY k", ledger_sums.wrong)


def test_an_older_store_gets_its_sums_when_opened(engine, world, request, tmp_path, monkeypatch):
    log_entries(store=world, entries=ENTRIES)
    expected = sums(world)
    world.execute("MATCH (t:LedgerSum) DELETE t")
    ledger_sums.unmark(world)
    assert world.read(ledger_sums.wrong) != [] and not ledger_sums.is_filled(world)

    kill_filling(world, ledger_sums, monkeypatch, done=1)  # after its first county: no mark
    assert not ledger_sums.is_filled(world)

    reopened = reopen(engine, world, request, tmp_path)  # the opening sums them, then marks the store
    try:
        assert ledger_sums.is_filled(reopened) and reopened.read(ledger_sums.wrong) == []
        assert sums(reopened) == expected
        assert ledger_sums.fill(reopened) == 0  # once
    finally:
        reopened.close()


FIRST = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.timezone.utc)  # the store's first day
DAY = dt.date(2025, 3, 15)  # the day reported on
LATER = dt.datetime(2025, 4, 2, 1, 0, tzinfo=dt.timezone.utc)  # a household moves county, entries follow


def test_a_past_days_wide_coverage_is_unchanged_by_a_later_move_to_another_county(store, monkeypatch):
    from graph_schema import models

    monkeypatch.setattr(models, "now", lambda: FIRST)
    upsert_households(store=store, households=[household(no, region) for no, region in HOMES.items()])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    log_entries(store=store, entries=[entry("入户走访", dt.date(2025, 1, 10)), entry("资助", dt.date(2025, 2, 15),
                                                                                 amount_fen=800),
                                      entry("联系交流", dt.date(2025, 3, 1), household_no="H3")])

    def answers() -> dict[str, list]:
        return {region: coverage(store=store, region=region, period_start=dt.date(2025, 1, 1), as_of=DAY).items
                for region in ("62", "6208")}

    monkeypatch.setattr(models, "now", lambda: dt.datetime(2025, 3, 20, 1, 0, tzinfo=dt.timezone.utc))
    before = answers()
    assert [(r.region_code, r.home_visits, r.funds_cash_fen) for r in before["6208"][1:] if r.home_visits] == [
        (COUNTY + "000000", 1, 800)]
    monkeypatch.setattr(models, "now", lambda: LATER)
    upsert_households(store=store, households=[household("H1", OTHER_COUNTY_VILLAGE)])
    log_entries(store=store, entries=[entry("入户走访", dt.date(2025, 3, 30))])  # after the day
    assert store.read(ledger_sums.wrong) == []
    assert answers() == before  # the day's answer: H1 and its entries still in its county then
    ledger_sums.unmark(store)
    assert answers() == before  # as the entries alone give it
