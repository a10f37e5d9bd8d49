"""The ledger and the open/close life of problems, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from factories import OTHER_COUNTY_VILLAGE, cadre, household, org
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import DateOrder, FutureDate, NotFound, ProblemAlreadyOpen, ProblemNotOpen
from graph_schema.household.service import upsert_households
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import household_ledger, household_problems, log_entries, log_entry
from graph_schema.org.service import upsert_orgs

D = dt.date(2024, 1, 15)
ORG = org()


def entry(kind: str, day: dt.date = D, household_no: str = "H1", **fields) -> LedgerEntry:
    actor = {} if "uscc" in fields else {"cadre_no": fields.pop("cadre_no", "C1")}
    return LedgerEntry(entry_date=day, household_no=household_no, kind=kind, **actor, **fields)


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[household("H1"), household("H2")])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    upsert_orgs(store=store, orgs=[ORG])
    return store


def test_entries_of_every_actor_are_recorded_with_amounts(world):
    log_entry(store=world, entry=entry("资助", amount_fen=50_000, in_kind_fen=30_000, note="春节慰问"))
    log_entry(store=world, entry=entry("志愿服务", uscc=ORG.uscc, day=D + dt.timedelta(days=1)))
    ledger = household_ledger(store=world, household_no="H1")
    assert [(e.kind.value, e.actor, e.amount_fen, e.in_kind_fen) for e in ledger] == [
        ("资助", "C1", 50_000, 30_000), ("志愿服务", ORG.uscc, None, None)]
    total = world.query("MATCH ()-[e:ASSISTED]->(:Household {household_no: 'H1'}) "
                        "RETURN sum(e.amount_fen) + sum(e.in_kind_fen) AS total")
    assert total == [{"total": 80_000}]


def test_a_volunteer_service_keeps_its_volunteers_and_minutes(world):
    plain = entry("志愿服务", uscc=ORG.uscc, note="上门理发")
    counted = plain.model_copy(update={"volunteers": 4, "minutes": 90})
    # no part of the id: the contract file has no columns for them, so an exported entry re-imports as itself
    assert plain.entry_id == counted.entry_id
    log_entries(store=world, entries=[LedgerEntry.model_validate(counted.model_dump())])
    ledger = household_ledger(store=world, household_no="H1")
    assert [(e.volunteers, e.minutes) for e in ledger] == [(4, 90)]
    for kind, figures in (("捐款捐物", {"volunteers": 3}), ("入户走访", {"minutes": 30})):
        with pytest.raises(ValidationError, match="志愿服务"):
            entry(kind, uscc=ORG.uscc, **figures)
    for figures in ({"volunteers": 0}, {"minutes": 0}, {"volunteers": 10_001}, {"minutes": 60_001}):
        with pytest.raises(ValidationError):
            entry("志愿服务", uscc=ORG.uscc, **figures)


def test_a_problem_opens_and_closes_in_order(world):
    log_entry(store=world, entry=entry("反映困难", problem_no="P1", note="轮椅损坏"))
    [opened] = household_problems(store=world, household_no="H1")
    assert opened.open and opened.reported_by == "C1" and opened.description == "轮椅损坏"
    log_entry(store=world, entry=entry("解决困难", D + dt.timedelta(days=5), problem_no="P1", note="已更换"))
    [closed] = household_problems(store=world, household_no="H1")
    assert (closed.closed_on, closed.resolved_by, closed.resolution) == (D + dt.timedelta(days=5), "C1", "已更换")


def test_problem_rules(world):
    log_entry(store=world, entry=entry("反映困难", problem_no="P1"))
    with pytest.raises(ProblemAlreadyOpen):
        log_entry(store=world, entry=entry("反映困难", D + dt.timedelta(days=1), problem_no="P1"))
    with pytest.raises(ProblemNotOpen, match="no 反映困难"):
        log_entry(store=world, entry=entry("解决困难", problem_no="P9"))
    with pytest.raises(ProblemNotOpen, match="no 反映困难 entry of this household"):
        log_entry(store=world, entry=entry("解决困难", household_no="H2", problem_no="P1"))
    with pytest.raises(DateOrder):
        log_entry(store=world, entry=entry("解决困难", D - dt.timedelta(days=1), problem_no="P1"))
    log_entry(store=world, entry=entry("解决困难", D + dt.timedelta(days=2), problem_no="P1"))
    with pytest.raises(ProblemNotOpen, match="already closed"):
        log_entry(store=world, entry=entry("解决困难", D + dt.timedelta(days=3), problem_no="P1", note="again"))
    assert len(household_ledger(store=world, household_no="H1")) == 2
    assert household_ledger(store=world, household_no="H2") == []


@pytest.mark.parametrize("bad,error", [
    ({"day": dt.date.today() + dt.timedelta(days=1)}, FutureDate),
    ({"household_no": "NOPE"}, NotFound),
    ({"cadre_no": "C9"}, NotFound),
    ({"uscc": "91350100M000100Y43"}, NotFound),
])
def test_entry_rules(world, bad, error):
    with pytest.raises(error):
        log_entry(store=world, entry=entry("入户走访", **bad))
    assert world.query("MATCH ()-[e:ASSISTED]->() RETURN count(e) AS n") == [{"n": 0}]


def test_a_batch_opens_and_closes_in_order_and_is_idempotent(world):
    batch = [entry("入户走访"), entry("反映困难", problem_no="P1"),
             entry("解决困难", D + dt.timedelta(days=1), problem_no="P1"),
             entry("解决困难", D + dt.timedelta(days=2), problem_no="P2"), entry("联系交流", household_no="H2")]
    first = log_entries(store=world, entries=batch)
    assert len(first.created) == 4 and [(i, e.code) for i, e in first.errors] == [(3, "PROBLEM_NOT_OPEN")]
    second = log_entries(store=world, entries=batch)
    assert second.counts() == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 1}
    assert world.query("MATCH ()-[e:ASSISTED]->() RETURN count(e) AS n") == [{"n": 4}]
    assert [p.open for p in household_problems(store=world, household_no="H1")] == [False]


def test_closing_in_a_later_batch_a_problem_opened_earlier(world):
    log_entries(store=world, entries=[entry("反映困难", problem_no="P1")])
    result = log_entries(store=world, entries=[entry("解决困难", D + dt.timedelta(days=1), problem_no="P1")])
    assert len(result.created) == 1 and not result.errors
    assert not household_problems(store=world, household_no="H1")[0].open


def test_problem_numbers_are_each_countys_own(world):
    """A number taken in one county is free in another; in the same county it is refused without
    naming the household that holds it."""
    upsert_households(store=world, households=[household("HB", OTHER_COUNTY_VILLAGE)])
    log_entry(store=world, entry=entry("反映困难", problem_no="P1", note="轮椅损坏"))
    log_entry(store=world, entry=entry("反映困难", household_no="HB", problem_no="P1", note="房屋漏雨"))
    with pytest.raises(ProblemAlreadyOpen) as taken:
        log_entry(store=world, entry=entry("反映困难", household_no="H2", problem_no="P1"))
    assert taken.value.code == "PROBLEM_EXISTS" and "H1" not in str(taken.value) and "HB" not in str(taken.value)
    assert [(p.problem_no, p.description) for p in household_problems(store=world, household_no="HB")] == [
        ("P1", "房屋漏雨")]
    log_entry(store=world, entry=entry("解决困难", D + dt.timedelta(days=1), household_no="HB", problem_no="P1"))
    assert household_problems(store=world, household_no="H1")[0].open  # the other county's P1 is untouched
    assert not household_problems(store=world, household_no="HB")[0].open
    keys = world.query("MATCH (p:Problem) RETURN p.problem_key AS k ORDER BY k")
    assert keys == [{"k": "620802:P1"}, {"k": "620822:P1"}]


def test_closing_another_households_problem_answers_as_an_unknown_number(world):
    upsert_households(store=world, households=[household("HB", OTHER_COUNTY_VILLAGE)])
    log_entry(store=world, entry=entry("反映困难", household_no="HB", problem_no="P1"))
    log_entry(store=world, entry=entry("反映困难", problem_no="P2"))
    answers = []
    for number in ("P1", "P2", "P9"):  # another county's, another household's, nobody's
        with pytest.raises(ProblemNotOpen) as refused:
            log_entry(store=world, entry=entry("解决困难", D + dt.timedelta(days=1), household_no="H2", problem_no=number))
        answers.append((refused.value.code, refused.value.zh.replace(number, "#"), refused.value.en.replace(number, "#"),
                        {k: v for k, v in refused.value.details.items() if k != "problem_no"}))
    assert answers[0] == answers[1] == answers[2]
    assert all(p.open for no in ("H1", "HB") for p in household_problems(store=world, household_no=no))


def test_a_household_that_moved_county_still_closes_its_problem(world):
    log_entry(store=world, entry=entry("反映困难", problem_no="P1"))
    upsert_households(store=world, households=[household("H1", OTHER_COUNTY_VILLAGE)])
    log_entry(store=world, entry=entry("解决困难", D + dt.timedelta(days=1), problem_no="P1"))
    assert not household_problems(store=world, household_no="H1")[0].open
