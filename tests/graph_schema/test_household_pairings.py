"""Each household's kept pairing counts (active one-to-one pairings, those with a 在岗 cadre) equal
the counts of its ``PAIRED_WITH`` edges after every kind of pairing and cadre write, an import, the
matcher's confirmation, a restore and the filling of an older store, on both engines; a wrong count
is caught, the reports of today read the kept counts, and they give the rows the pairings give."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import cadre, household
from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import JieduiError
from graph_schema.household.service import upsert_households
from graph_schema.models import today
from graph_schema.monitoring import coverage as coverage_module
from graph_schema.monitoring import unpaired as unpaired_module
from graph_schema.monitoring.coverage import coverage
from graph_schema.monitoring.unpaired import unpaired_priority
from graph_schema.pagination import PageRequest
from graph_schema.pairing.flows import transfer
from graph_schema.pairing.models import PairRequest
from graph_schema.pairing.service import end_pairing, pair, pair_many
from graph_schema.store import paired
from graph_schema.store.paired import is_filled, mispaired
from household_values import BATCH, DONE, assert_restored, kill_filling, reopen
from importers.engine import run_import
from importers.synth_files import synth_to_dir
from matching.service import confirm, propose, reassign

V1, V2 = "620822100201", "620822101203"
UNSTABLE = "脱贫不稳定户"
D = dt.date(2024, 3, 1)


def kept(store, no: str) -> tuple[int | None, int | None]:
    row = store.query("MATCH (h:Household {household_no: $h}) "
                      "RETURN h.active_pairings AS a, h.on_duty_pairings AS d", {"h": no})[0]
    return row["a"], row["d"]


def exact(store) -> bool:
    return store.read(mispaired) == []


def test_a_new_household_counts_zero_and_each_write_recounts(store):
    upsert_households(store=store, households=[household(f"H{i}", monitoring=UNSTABLE) for i in range(4)])
    upsert_cadres(store=store, cadres=[cadre("A", pair_limit=5), cadre("B", pair_limit=5)])
    assert kept(store, "H0") == (0, 0)
    pair(store=store, household_no="H0", cadre_no="A", started_on=D)
    assert kept(store, "H0") == (1, 1) and exact(store)
    end_pairing(store=store, household_no="H0", reason="调整", ended_on=D)
    assert kept(store, "H0") == (0, 0) and exact(store)
    pair(store=store, household_no="H1", cadre_no="A", started_on=D)
    pair(store=store, household_no="H2", cadre_no="A", started_on=D)
    upsert_cadres(store=store, cadres=[cadre("A", pair_limit=5, on_duty=False)])  # off duty: both households
    assert kept(store, "H1") == (1, 0) and kept(store, "H2") == (1, 0) and exact(store)
    upsert_cadres(store=store, cadres=[cadre("A", pair_limit=5, on_duty=False)])  # the same again
    assert kept(store, "H1") == (1, 0)
    upsert_cadres(store=store, cadres=[cadre("A", pair_limit=5)])  # back on duty
    assert kept(store, "H1") == (1, 1) and kept(store, "H2") == (1, 1) and exact(store)
    transfer(store=store, household_no="H1", cadre_no="B", on=D)
    assert kept(store, "H1") == (1, 1) and exact(store)
    upsert_cadres(store=store, cadres=[cadre("B", pair_limit=5, on_duty=False)])
    assert kept(store, "H1") == (1, 0) and kept(store, "H2") == (1, 1) and exact(store)
    # a pairing recorded as history (ended) changes nothing; a household that moves keeps its counts
    pair_many(store=store, requests=[PairRequest(household_no="H3", cadre_no="B", started_on=D, ended_on=D)])
    assert kept(store, "H3") == (0, 0)
    upsert_households(store=store, households=[household("H2", V2, monitoring=UNSTABLE)])
    assert kept(store, "H2") == (1, 1) and exact(store)
    # an import records a pairing with a cadre no longer on duty: active, yet unpaired
    pair_many(store=store, requests=[PairRequest(household_no="H3", cadre_no="B",
                                                            started_on=D + dt.timedelta(days=1))],
              allow_off_duty=True)
    assert kept(store, "H3") == (1, 0) and exact(store)


# one step: (kind, household, cadre); kinds: pair, end, cadre off duty, cadre on duty, transfer
STEP = st.tuples(st.sampled_from(["pair", "end", "off", "on", "transfer"]), st.integers(0, 4), st.integers(0, 2))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=14))
def test_random_pairing_and_cadre_writes_keep_every_count_exact(store, steps):
    store.wipe()
    upsert_households(store=store, households=[household(f"H{i}") for i in range(5)])
    upsert_cadres(store=store, cadres=[cadre(f"C{i}", pair_limit=3) for i in range(3)])
    for kind, h, c in steps:
        try:
            if kind == "pair":
                pair(store=store, household_no=f"H{h}", cadre_no=f"C{c}", started_on=D)
            elif kind == "end":
                end_pairing(store=store, household_no=f"H{h}", reason="调整", ended_on=D)
            elif kind == "transfer":
                transfer(store=store, household_no=f"H{h}", cadre_no=f"C{c}", on=D)
            else:
                upsert_cadres(store=store, cadres=[cadre(f"C{c}", pair_limit=3, on_duty=kind == "on")])
        except JieduiError:
            pass  # refused by a rule: nothing written
        assert exact(store), (kind, h, c)


def test_the_matcher_keeps_the_counts_through_its_new_pairs_moves_and_ends(store):
    households = [household(f"H{i}", V1, monitoring=UNSTABLE) for i in range(6)]
    upsert_households(store=store, households=households)
    upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=3), cadre("C2", V1, pair_limit=3),
                                       cadre("C3", V1, pair_limit=2)])
    confirm(store=store, proposal=propose(store=store, region="620822"))
    assert all(kept(store, h.household_no) == (1, 1) for h in households) and exact(store)
    upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=3, on_duty=False)])
    assert exact(store) and sum(kept(store, h.household_no) == (1, 0) for h in households) > 0
    result = confirm(store=store, proposal=reassign(store=store, region="620822"))
    assert result.confirmed or result.dropped
    assert exact(store)


def test_a_household_the_matcher_drops_counts_unpaired(store):
    upsert_households(store=store, households=[household("HIGH", V1, monitoring="突发严重困难户"),
                                               household("LOW", V1, monitoring="边缘易致贫户")])
    upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=1)])
    pair(store=store, household_no="LOW", cadre_no="C1")
    result = confirm(store=store, proposal=propose(store=store, region="620822"))
    assert result.dropped == ["LOW"]  # its place goes to the household of higher risk
    assert kept(store, "LOW") == (0, 0) and kept(store, "HIGH") == (1, 1) and exact(store)


def test_a_planted_wrong_count_is_caught(store):
    upsert_households(store=store, households=[household(f"H{i}") for i in range(2)])
    upsert_cadres(store=store, cadres=[cadre("A")])
    pair(store=store, household_no="H0", cadre_no="A", started_on=D)
    assert exact(store)
    store.execute("MATCH (h:Household {household_no: 'H1'}) SET h.on_duty_pairings = 1")
    store.execute("MATCH (h:Household {household_no: 'H0'}) SET h.active_pairings = NULL")
    wrong = store.read(mispaired)
    assert [(w["household_no"], w["stored_active"], w["stored_on_duty"], w["active"], w["on_duty"])
            for w in wrong] == [("H0", None, 1, 1, 1), ("H1", 0, 1, 0, 0)]


def test_todays_reports_read_the_kept_counts(store):
    upsert_households(store=store, households=[household("H0", monitoring=UNSTABLE)])
    assert [r.household_no for r in unpaired_priority(store=store, region="620822").items] == ["H0"]
    assert coverage(store=store, region="620822").items[0].paired == 0
    store.execute("MATCH (h:Household {household_no: 'H0'}) SET h.on_duty_pairings = 1")  # planted
    assert unpaired_priority(store=store, region="620822").total == 0
    assert unpaired_priority(store=store, region="62").total == 0
    assert coverage(store=store, region="620822").items[0].paired == 1
    assert coverage(store=store, region="62").items[0].paired == 1


@pytest.fixture
def county(tmp_path_factory):
    folder = tmp_path_factory.mktemp("county")
    synth_to_dir("tiny", 5, folder)
    return folder


def _old_path(monkeypatch) -> None:
    """Make today's reports read the pairings as before (their "today or later" test fails)."""
    tomorrow = today() + dt.timedelta(days=1)
    monkeypatch.setattr(unpaired_module, "today", lambda: tomorrow)
    monkeypatch.setattr(coverage_module, "today", lambda: tomorrow)


def test_an_import_keeps_the_counts_and_the_reports_agree_with_the_pairings(store, county, monkeypatch):
    assert run_import(store, [county]).exit_code == 0
    assert exact(store) and is_filled(store)
    # cadres go off duty by an import of the cadre file, and households with them become unpaired
    rows = (county / "干部.csv").read_text(encoding="utf-8").splitlines()
    flipped = [rows[0]] + [line[:-1] + "否" if i % 3 == 0 and line.endswith(",是") else line
                           for i, line in enumerate(rows[1:])]
    (county / "干部.csv").write_text("\n".join(flipped) + "\n", encoding="utf-8")
    before = unpaired_priority(store=store, region="62").total
    assert run_import(store, [county / "干部.csv"]).exit_code == 0
    assert exact(store)
    assert unpaired_priority(store=store, region="62").total > before
    regions = ["62", "6201", "620121"]  # the tiny preset's county
    pages = [PageRequest(page=1, page_size=7), PageRequest(page=3, page_size=7), PageRequest(page=1, page_size=500)]
    new = ([unpaired_priority(store=store, region=r, page=p) for r in regions for p in pages],
           [coverage(store=store, region=r).items for r in regions])
    _old_path(monkeypatch)
    old = ([unpaired_priority(store=store, region=r, page=p, as_of=today()) for r in regions for p in pages],
           [coverage(store=store, region=r, as_of=today()).items for r in regions])
    assert new == old
    assert new[0][-1].total > 0 and any(r.paired for rows in new[1] for r in rows)


def test_an_older_store_gets_its_counts_when_opened(engine, store, request, tmp_path, county, monkeypatch):
    assert run_import(store, [county]).exit_code == 0
    total = store.query("MATCH (h:Household) RETURN count(h) AS n")[0]["n"]
    paired_now = store.query("MATCH (h:Household) WHERE h.on_duty_pairings > 0 RETURN count(h) AS n")[0]["n"]
    assert paired_now > 0
    store.execute("MATCH (h:Household) SET h.active_pairings = NULL, h.on_duty_pairings = NULL")
    paired.unmark(store)  # as a store made before the counts
    assert len(store.read(mispaired)) == total and not is_filled(store)

    # a filling killed midway leaves no mark: its batches are exact, the rest still missing
    kill_filling(store, paired, monkeypatch)
    assert not is_filled(store)
    assert len(store.read(mispaired)) == total - DONE * BATCH

    reopened = reopen(engine, store, request, tmp_path)  # the opening fills them, then marks the store
    try:
        assert is_filled(reopened) and reopened.read(mispaired) == []
        assert paired.fill(reopened) == 0  # once
        assert reopened.query("MATCH (h:Household) WHERE h.on_duty_pairings > 0 RETURN count(h) AS n")[0]["n"] \
            == paired_now
    finally:
        reopened.close()


def test_a_restore_brings_exact_counts(engine, store, tmp_path, county):
    assert run_import(store, [county]).exit_code == 0
    some = [r["no"] for r in store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
                                         "RETURN DISTINCT c.cadre_no AS no ORDER BY no LIMIT 3")]
    found = store.query("UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k}) RETURN c.cadre_no AS cadre_no, "
                        "c.name AS name, c.unit AS unit, c.unit_level AS unit_level, c.station_code AS station_code, "
                        "c.pair_limit AS pair_limit", {"keys": some})
    upsert_cadres(store=store, cadres=[cadre(r["cadre_no"], r["station_code"], name=r["name"], unit=r["unit"],
                                             unit_level=r["unit_level"], pair_limit=r["pair_limit"], on_duty=False)
                                       for r in found])
    assert exact(store)
    assert_restored(engine, store, tmp_path, "MATCH (h:Household) RETURN h.household_no AS no, "
                    "h.active_pairings AS a, h.on_duty_pairings AS d ORDER BY no", mispaired)
