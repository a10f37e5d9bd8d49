"""Each household's kept member counts (disabled members, those graded 一级/二级) equal the counts
of its ``MEMBER_OF`` edges, and its kept priority flag the priority rule over them and its own
facts, after every kind of household and person write, a restore and the filling of an older
store, on both engines; a wrong count or flag is caught, and the reports read the kept flag."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import household, id_number, person
from graph_schema.enums import DisabilityGrade, MonitoringCategory
from graph_schema.household.service import members_in, upsert_households, upsert_persons
from graph_schema.monitoring.risk import RiskFacts
from graph_schema.monitoring.unpaired import unpaired_priority
from graph_schema.store import counts
from graph_schema.store.counts import is_counted, miscounted
from household_values import BATCH, DONE, assert_restored, kill_filling, reopen
from importers.engine import run_import
from importers.synth_files import synth_to_dir

HOUSEHOLDS = [f"H{i}" for i in range(4)]


def kept(store, no: str) -> tuple[int | None, int | None]:
    row = store.query("MATCH (h:Household {household_no: $h}) RETURN h.disabled_count AS d, h.severe_count AS s",
                      {"h": no})[0]
    return row["d"], row["s"]


def regraded(p, grade: int, household_no: str | None = None):
    """``p`` with another grade (its certificate number's grade digit with it), maybe moved."""
    return p.model_copy(update={"grade": DisabilityGrade(grade), "cert_no": f"{p.cert_no[:19]}{grade}",
                                "household_no": household_no or p.household_no})


def test_a_new_household_counts_zero_and_each_write_recounts(store):
    upsert_households(store=store, households=[household(h) for h in HOUSEHOLDS[:2]])
    assert kept(store, "H0") == (0, 0)
    a, b = person("H0", grade=1), person("H0", grade=4)
    upsert_persons(store=store, persons=[a, b])
    assert kept(store, "H0") == (2, 1)
    upsert_persons(store=store, persons=[regraded(a, 3)])  # regraded: no longer severe
    assert kept(store, "H0") == (2, 0)
    upsert_persons(store=store, persons=[regraded(b, 2, "H1")])  # moved and regraded: both households change
    assert kept(store, "H0") == (1, 0) and kept(store, "H1") == (1, 1)
    upsert_persons(store=store, persons=[regraded(b, 2, "H1")])  # the same again: nothing changes
    assert kept(store, "H1") == (1, 1)
    assert store.read(miscounted) == []


# one step: (person slot, household, grade), several per batch; a slot names one person throughout,
# so a step re-imports, moves or regrades a person written before, or writes it the first time
STEP = st.tuples(st.integers(0, 7), st.sampled_from(HOUSEHOLDS), st.integers(1, 4))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(STEP, min_size=1, max_size=5), min_size=1, max_size=6))
def test_random_person_writes_keep_every_count_exact(store, batches):
    store.wipe()
    upsert_households(store=store, households=[household(h) for h in HOUSEHOLDS])
    ids = [id_number() for _ in range(8)]
    for batch in batches:
        chosen = {slot: (h, grade) for slot, h, grade in batch}  # one row per person and batch
        upsert_persons(store=store, persons=[person(h, grade=grade, id_number=ids[slot])
                                             for slot, (h, grade) in chosen.items()])
        assert store.read(miscounted) == []
    members = store.read(lambda tx: members_in(tx, HOUSEHOLDS))
    for h in HOUSEHOLDS:
        assert kept(store, h) == (len(members[h]), sum(1 for p in members[h] if int(p.grade) <= 2))


def test_a_planted_wrong_count_is_caught(store):
    upsert_households(store=store, households=[household(h) for h in HOUSEHOLDS[:2]])
    upsert_persons(store=store, persons=[person("H0", grade=1)])
    assert store.read(miscounted) == []
    store.execute("MATCH (h:Household {household_no: 'H1'}) SET h.severe_count = 1")
    store.execute("MATCH (h:Household {household_no: 'H0'}) SET h.disabled_count = NULL")
    wrong = store.read(miscounted)
    assert [(w["household_no"], w["stored_disabled"], w["stored_severe"]) for w in wrong] == [
        ("H0", None, 1), ("H1", 0, 1)]


def flag(store, no: str) -> bool | None:
    return store.query("MATCH (h:Household {household_no: $h}) RETURN h.priority AS p", {"h": no})[0]["p"]


def test_household_and_person_writes_keep_the_priority_flag(store):
    upsert_households(store=store, households=[household("H0"), household("H1", tekun=True)])
    assert (flag(store, "H0"), flag(store, "H1")) == (False, True)
    a = person("H0", grade=1)
    upsert_persons(store=store, persons=[a])  # a severe member
    assert flag(store, "H0") is True
    upsert_persons(store=store, persons=[regraded(a, 3)])  # no longer severe, and alone
    assert flag(store, "H0") is False
    upsert_persons(store=store, persons=[person("H0", grade=4)])  # two disabled members: 一户多残
    assert flag(store, "H0") is True
    upsert_persons(store=store, persons=[regraded(a, 3, "H1")])  # one moves out: H0 has one left
    assert flag(store, "H0") is False
    for facts, expected in [({}, False), ({"monitoring": MonitoringCategory.MARGINAL}, True),
                            ({"elderly_carer": True}, True), ({"elderly_carer": False}, False),
                            ({"tekun": True}, True), ({"dibao": True}, False)]:  # 低保 alone is no priority
        upsert_households(store=store, households=[household("H2", **facts)])
        assert flag(store, "H2") is expected, facts
    assert store.read(miscounted) == []


# one step of household facts: (household, 监测类别 or None, 特困, 以老养残)
FACTS = st.tuples(st.sampled_from(HOUSEHOLDS), st.sampled_from([None, *MonitoringCategory]), st.booleans(),
                  st.booleans())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(STEP, FACTS), min_size=1, max_size=12))
def test_random_household_and_person_writes_keep_the_flag_as_the_rule_says(store, steps):
    store.wipe()
    upsert_households(store=store, households=[household(h) for h in HOUSEHOLDS])
    ids = [id_number() for _ in range(8)]
    for step in steps:
        if len(step) == 3:
            slot, h, grade = step
            upsert_persons(store=store, persons=[person(h, grade=grade, id_number=ids[slot])])
        else:
            h, monitoring, tekun, elderly_carer = step
            upsert_households(store=store, households=[household(h, monitoring=monitoring, tekun=tekun,
                                                                 elderly_carer=elderly_carer)])
        assert store.read(miscounted) == []
    members = store.read(lambda tx: members_in(tx, HOUSEHOLDS))
    facts = {r["no"]: r for r in store.query("MATCH (h:Household) RETURN h.household_no AS no, "
                                             "h.monitoring AS m, h.tekun AS t, h.elderly_carer AS e")}
    for h in HOUSEHOLDS:
        rule = RiskFacts(monitoring=facts[h]["m"], tekun=facts[h]["t"], dibao=None, elderly_carer=facts[h]["e"],
                         labour=None, disabled=len(members[h]),
                         severe=sum(1 for p in members[h] if int(p.grade) <= 2))
        assert flag(store, h) is rule.priority


def test_the_reports_read_the_kept_values(store):
    # a household with no priority fact: only a wrong kept value makes it a priority one; a wide
    # scope's scan reads the flag, a county's path the counts
    upsert_households(store=store, households=[household("H0")])
    assert unpaired_priority(store=store, region="62").total == 0
    store.execute("MATCH (h:Household {household_no: 'H0'}) SET h.priority = true")
    assert [r.household_no for r in unpaired_priority(store=store, region="62").items] == ["H0"]
    assert unpaired_priority(store=store, region="620822").total == 0
    store.execute("MATCH (h:Household {household_no: 'H0'}) SET h.severe_count = 1")
    assert [r.household_no for r in unpaired_priority(store=store, region="620822").items] == ["H0"]


def _forget_counts(store) -> None:
    """As a store made before the counts: none on any household, and no mark."""
    store.execute("MATCH (h:Household) SET h.disabled_count = NULL, h.severe_count = NULL, h.priority = NULL")
    counts.unmark(store)


@pytest.fixture
def county(tmp_path_factory):
    folder = tmp_path_factory.mktemp("county")
    synth_to_dir("tiny", 5, folder)
    return folder


def test_an_older_store_gets_its_counts_when_opened(engine, store, request, tmp_path, county, monkeypatch):
    assert run_import(store, [county]).exit_code == 0
    assert store.read(miscounted) == [] and is_counted(store)
    total = store.query("MATCH (h:Household) RETURN count(h) AS n")[0]["n"]
    _forget_counts(store)
    assert len(store.read(miscounted)) == total and not is_counted(store)

    # a filling killed midway leaves no mark: its batches are exact, the rest still missing
    kill_filling(store, counts, monkeypatch)
    assert not is_counted(store)
    assert len(store.read(miscounted)) == total - DONE * BATCH

    reopened = reopen(engine, store, request, tmp_path)  # the opening fills them, then marks the store
    try:
        assert is_counted(reopened) and reopened.read(miscounted) == []
        assert counts.fill(reopened) == 0  # once
    finally:
        reopened.close()  # the embedded fixture's own closing of the first one is then a no-op


def test_a_restore_brings_exact_counts(engine, store, tmp_path, county):
    assert run_import(store, [county]).exit_code == 0
    rng = random.Random(5)
    households = [r["no"] for r in store.query("MATCH (h:Household) RETURN h.household_no AS no ORDER BY no LIMIT 10")]
    found = [p for ps in store.read(lambda tx: members_in(tx, households)).values() for p in ps]
    upsert_persons(store=store, persons=[regraded(p, rng.randint(1, 4), rng.choice(households)) for p in found])
    assert_restored(engine, store, tmp_path, "MATCH (h:Household) RETURN h.household_no AS no, "
                    "h.disabled_count AS d, h.severe_count AS s ORDER BY no", miscounted)
