"""The counties' service tallies (graph_schema/service/tally.py): a city's or a province's
``service-rates``, and the open needs ``service-deserts`` reads, taken from the kept tallies equal
the figures counted person by person on every kind of day, and a write that changes a county's
facts makes its tallies stale."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict

import pytest

from factories import household, id_number, org, person, uscc
from graph_schema.enums import DeliveryOutcome, ServiceDept
from graph_schema.identifiers import region_prefix
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.monitoring.disability import disability_counts
from graph_schema.monitoring.service_deserts import open_in
from graph_schema.monitoring.service_rates import service_rates, village_figures
from graph_schema.monitoring.unmet_needs import unmet_in, unmet_needs
from graph_schema.pagination import PageRequest
from graph_schema.service import tally
from graph_schema.service.catalogue import catalogue_in, upsert_service_types
from graph_schema.service.deliveries import record_deliveries, record_delivery
from graph_schema.org.service import upsert_orgs
from graph_schema.service.models import Delivery, Need, Offer
from graph_schema.service.needs import record_needs
from graph_schema.service.offers import upsert_offers

D = dt.date
V1, V2, W1 = "620822100201", "620822100202", "620823100201"  # two villages of one county, one of another
V3 = "620822101201"  # a village of another township of V1's county
EVERY = PageRequest(1, 500)


@pytest.fixture
def persons(store):
    """Needs and deliveries that move the figures on particular days of 2023 and 2024 (see each)."""
    upsert_households(store=store, households=[household("H1", V1), household("H2", V2), household("H3", W1),
                                               household("H4", V3)])
    ids = {k: id_number(born=D(1970, 1, i + 1)) for i, k in enumerate("ABCDEIJL")}
    ids |= {"F": id_number(born=D(2017, 6, 30)),  # turns seven on 30 June 2024
            "G": id_number(born=D(2016, 2, 29)),  # turns seven on 1 March 2023
            "K": id_number(born=D(2024, 8, 1))}   # born in the year
    upsert_persons(store=store, persons=[
        person("H1", id_number=ids["A"], needs=["康复"]),
        person("H1", id_number=ids["B"], needs=["康复", "辅具"]),
        person("H1", id_number=ids["C"], needs=["康复"]),
        person("H1", id_number=ids["D"], needs=["康复"], grade=2),
        person("H2", id_number=ids["E"]),
        person("H2", id_number=ids["F"], needs=["康复"], grade=1),
        person("H2", id_number=ids["G"], needs=["康复"]),
        person("H2", id_number=ids["K"], needs=["康复"]),
        person("H1", id_number=ids["I"], needs=["辅具"]),
        person("H3", id_number=ids["J"], grade=1),
        person("H4", id_number=ids["L"], needs=["康复"])])
    record_needs(store=store, needs=[
        Need(id_number=ids["B"], service_code="FJ01", assessed_on=D(2024, 2, 1)),  # supersedes 辅具
        Need(id_number=ids["C"], category="康复", assessed_on=D(2023, 12, 1), status="不再需要"),
        Need(id_number=ids["D"], category="康复", assessed_on=D(2024, 3, 1), status="不再需要"),
        Need(id_number=ids["E"], category="康复", assessed_on=D(2024, 5, 10)),  # in need from 10 May
        Need(id_number=ids["I"], service_code="FJ01", assessed_on=D(2024, 1, 10)),
        Need(id_number=ids["I"], category="辅具", assessed_on=D(2024, 5, 1), status="已满足"),
        Need(id_number=ids["J"], service_code="KF01", assessed_on=D(2023, 10, 1)),
    ])
    record_deliveries(store=store, deliveries=[
        Delivery(id_number=ids[k], service_code=code, delivered_on=day, dept=ServiceDept.DPF,
                 outcome=outcome or DeliveryOutcome.DONE)
        for k, code, day, outcome in (
            ("A", "KF01", D(2024, 2, 1), None), ("A", "KF01", D(2024, 3, 1), None),
            ("A", "KF01", D(2024, 4, 1), DeliveryOutcome.NOT_DONE),  # does not count
            ("B", "FJ01", D(2024, 3, 1), None), ("I", "FJ01", D(2024, 4, 1), None),
            ("E", "KF01", D(2024, 4, 1), None),  # before E's need: counts from 10 May
            ("E", "KF01", D(2024, 6, 1), None), ("F", "KF01", D(2024, 6, 15), None),
            ("G", "KF01", D(2023, 2, 1), None), ("K", "KF01", D(2024, 9, 1), None),
            ("L", "KF01", D(2024, 4, 2), None),  # in the county's other township
            ("D", "JY01", D(2024, 2, 2), None))])  # a category D does not need
    return store, ids


def _reference(store, region: str, as_of: dt.date) -> dict[tuple[str, str], dict[str, int]]:
    """(region or child, category) → the figures counted person by person, summed by prefix."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(tally.FIGURES, 0))
    counted = store.read(lambda tx: village_figures(tx, region, D(as_of.year, 1, 1), as_of, in_store=False))
    rows = service_rates(store=store, region=region, as_of=as_of, page=EVERY).items
    prefixes = {r.region_code: region_prefix(r.region_code) for r in rows}
    for (village, category), figures in counted.items():
        for code, prefix in prefixes.items():
            if village.startswith(prefix):
                for f, v in figures.items():
                    out[code, category][f] += v
    return out


def _reported(store, region: str, as_of: dt.date) -> dict[tuple[str, str], dict[str, int]]:
    rows = service_rates(store=store, region=region, as_of=as_of, page=EVERY).items
    return {(r.region_code, r.category): {f: getattr(r, f) for f in tally.FIGURES}
            for r in rows if r.persons_in_need}


def _agree(store, region: str, as_of: dt.date) -> dict[tuple[str, str], dict[str, int]]:
    reported = _reported(store, region, as_of)
    expected = {k: v for k, v in _reference(store, region, as_of).items() if v["persons_in_need"]}
    assert reported == expected, as_of
    for prefix in (region, "620822", "620822100"):  # the open and overdue needs, for wider and narrower scopes
        assert tally.open_needs(store, prefix, as_of) == store.read(lambda tx: open_in(tx, prefix, as_of)), as_of
        assert unmet_needs(store=store, region=prefix, as_of=as_of, page=EVERY).items == \
            store.read(lambda tx: unmet_in(tx, prefix, as_of)), as_of
    return reported


def _persons_agree(store, region: str) -> None:
    """disability-counts (from the person tallies) against the members counted one by one."""
    rows = disability_counts(store=store, region=region, page=EVERY).items
    members = store.query("MATCH (p:Person)-[:MEMBER_OF]->(h:Household) "
                          "RETURN h.region_code AS village, p.grade AS grade")
    for r in rows:
        inside = [m for m in members if m["village"].startswith(region_prefix(r.region_code))]
        assert (r.persons, r.grade_1) == (len(inside), sum(m["grade"] == 1 for m in inside)), r.region_code


def _rows(store, build: str) -> int:
    return store.query("MATCH (t:RateTally) WHERE t.build = $b RETURN count(t) AS n", {"b": build})[0]["n"]


def _builds(store, year: int = 2024) -> dict[str, str]:
    return {r["county"]: r["build"] for r in store.query(
        "MATCH (m:TallyMark) WHERE m.year = $year RETURN m.county AS county, m.build AS build", {"year": year})}


def test_the_tallies_give_the_counted_figures_on_every_kind_of_day(persons):
    store, _ = persons
    moments = [D(2024, 1, 10), D(2024, 2, 1), D(2024, 3, 1), D(2024, 5, 1), D(2024, 5, 10), D(2024, 6, 1),
               D(2024, 6, 15), D(2024, 6, 30), D(2024, 8, 1), D(2024, 9, 1), D(2023, 2, 1), D(2023, 3, 1),
               D(2023, 10, 1), D(2023, 12, 1)]
    days = sorted({d + dt.timedelta(days=k) for d in moments for k in (-1, 0)} | {D(2024, 12, 31), D(2023, 12, 31)})
    for day in days:
        _agree(store, "62", day)
        _agree(store, "620822", day)  # a county's page: its townships' rows
    assert set(_builds(store)) >= {"620822", "620823"}
    townships = _reported(store, "620822", D(2024, 4, 2))
    assert (townships["620822101000", "康复"]["persons_served"], townships["620822100000", "康复"]["persons_served"]) \
        == (1, _reported(store, "620822", D(2024, 4, 2))["620822000000", "康复"]["persons_served"] - 1)
    # spot checks of what the days are about, in the province's row
    may9, may10 = _reported(store, "62", D(2024, 5, 9)), _reported(store, "62", D(2024, 5, 10))
    assert may10["620000000000", "康复"]["persons_in_need"] == may9["620000000000", "康复"]["persons_in_need"] + 1
    assert may10["620000000000", "康复"]["deliveries"] == may9["620000000000", "康复"]["deliveries"] + 1
    overdue = [len(unmet_needs(store=store, region="62", as_of=day).items) for day in (D(2023, 12, 31), D(2024, 6, 30))]
    assert overdue[0] >= 1 and overdue[1] >= 1  # J's KF01 (no delivery), E's 康复 before its first delivery
    # D's 康复 closes on 1 March, E's opens on 10 May
    def open_on(village: str, day: dt.date) -> int:
        return tally.open_needs(store, village, day)[village, "康复"]

    assert (open_on(V1, D(2024, 2, 29)) - 1, open_on(V2, D(2024, 5, 9)) + 1) == \
        (open_on(V1, D(2024, 3, 1)), open_on(V2, D(2024, 5, 10)))
    june29, june30 = _reported(store, "62", D(2024, 6, 29)), _reported(store, "62", D(2024, 6, 30))
    assert june30["620000000000", "康复"]["children_in_need"] == june29["620000000000", "康复"]["children_in_need"] - 1
    feb28, mar1 = _reported(store, "6208", D(2023, 2, 28)), _reported(store, "6208", D(2023, 3, 1))
    assert (feb28["620800000000", "康复"]["children_served"], mar1["620800000000", "康复"]["children_served"]) == (1, 0)


def test_a_late_period_and_a_township_are_counted_without_tallies(persons):
    store, _ = persons
    service_rates(store=store, region="620822100", as_of=D(2024, 6, 30))
    service_rates(store=store, region="62", as_of=D(2024, 6, 30), period_start=D(2024, 3, 1))
    service_rates(store=store, region="62", as_of=D(2024, 6, 30), period_start=D(2023, 1, 1))
    assert _builds(store) == {}
    service_rates(store=store, region="620822", as_of=D(2024, 6, 30))  # a county's page: its own tally only
    assert set(_builds(store)) == {"620822"}


def test_a_write_makes_its_countys_tally_again_and_no_other(persons):
    store, ids = persons
    day = D(2024, 12, 31)
    before = _agree(store, "62", day)
    kept = _builds(store)
    # a delivery to J, in the other county: served from its date
    record_delivery(store=store, delivery=Delivery(id_number=ids["J"], service_code="KF01", delivered_on=D(2024, 7, 1),
                                                   dept=ServiceDept.DPF))
    after = _agree(store, "62", day)
    assert after["620800000000", "康复"]["persons_served"] == before["620800000000", "康复"]["persons_served"] + 1
    now = _builds(store)
    assert now["620823"] != kept["620823"] and now["620822"] == kept["620822"]
    assert _rows(store, kept["620823"]) > 0  # kept until the next, for a report that named it just before
    # a grade: A becomes severe
    upsert_persons(store=store, persons=[person("H1", id_number=ids["A"], needs=["康复"], grade=1)])
    assert _agree(store, "62", day)["620000000000", "康复"]["severe_in_need"] == \
        after["620000000000", "康复"]["severe_in_need"] + 1
    assert _rows(store, kept["620822"]) > 0  # its previous build: kept
    _persons_agree(store, "62")
    # a household moves to the other county with its members; then a person moves back
    upsert_households(store=store, households=[household("H2", W1)])
    _agree(store, "6208", day)
    _persons_agree(store, "6208")
    assert _rows(store, kept["620823"]) == 0 and _rows(store, kept["620822"]) == 0  # made twice since: gone
    upsert_persons(store=store, persons=[person("H1", id_number=ids["E"])])
    _agree(store, "6208", day)
    _persons_agree(store, "620822")
    # an assessment that closes a need
    record_needs(store=store, needs=[Need(id_number=ids["J"], category="康复", assessed_on=D(2024, 1, 5),
                                          status="不再需要")])
    _agree(store, "62", day)
    # the catalogue: KF01 stops counting toward the rate, so every county is made again
    kept = _builds(store)
    kf01 = store.read(catalogue_in).get("KF01")
    upsert_service_types(store=store, types=[kf01.model_copy(update={"counts": False})])
    changed = _agree(store, "62", day)
    assert all(_builds(store)[c] != kept[c] for c in kept)
    assert changed["620000000000", "康复"]["persons_served"] < after["620000000000", "康复"]["persons_served"]


def test_a_corrected_delivery_made_out_to_another_person_remakes_both_counties(persons):
    store, ids = persons
    day = D(2024, 12, 31)
    given = dict(service_code="KF01", delivered_on=D(2024, 7, 1), dept=ServiceDept.DPF, record_no="FW-1")
    record_delivery(store=store, delivery=Delivery(id_number=ids["J"], **given))
    before = _agree(store, "6208", day)
    kept = _builds(store)
    record_delivery(store=store, delivery=Delivery(id_number=ids["C"], **given))  # J's was C's
    after = _agree(store, "6208", day)
    assert _builds(store)["620823"] != kept["620823"] and _builds(store)["620822"] != kept["620822"]
    assert after["620823000000", "康复"]["persons_served"] == before["620823000000", "康复"]["persons_served"] - 1


def test_a_write_during_the_making_of_a_tally_leaves_it_stale(persons, monkeypatch):
    """The version is read before the facts: a write that lands in between is not lost."""
    store, ids = persons
    day = D(2024, 12, 31)
    made = tally.county_changes
    done = []

    def racing(tx, county, year):
        changes = made(tx, county, year)  # the facts as read, then a write lands before the tally is kept
        if county == "620823" and not done:
            done.append(record_delivery(store=store, delivery=Delivery(
                id_number=ids["J"], service_code="KF01", delivered_on=D(2024, 7, 1), dept=ServiceDept.DPF)))
        return changes

    monkeypatch.setattr(tally, "county_changes", racing)
    stale = _reported(store, "62", day)
    assert done
    monkeypatch.setattr(tally, "county_changes", made)
    fresh = _agree(store, "62", day)
    assert fresh["620000000000", "康复"]["persons_served"] == stale["620000000000", "康复"]["persons_served"] + 1


def test_reports_and_writes_at_once_end_on_the_counted_figures(persons):
    store, ids = persons
    day = D(2024, 12, 31)
    _agree(store, "62", day)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for month in range(1, 11):
                record_delivery(store=store, delivery=Delivery(
                    id_number=ids["J" if month % 2 else "B"], service_code="KF01" if month % 2 else "FJ01",
                    delivered_on=D(2024, month, 20), dept=ServiceDept.DPF))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(10):
                service_rates(store=store, region="62", as_of=day)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _agree(store, "62", day)["620000000000", "康复"]["deliveries"] >= 5


def test_tallies_of_an_older_format_are_never_read_and_go_when_made_again(persons, monkeypatch):
    store, _ = persons
    day = D(2024, 12, 31)
    monkeypatch.setattr(tally, "FORMAT", tally.FORMAT - 1)
    old = tally.current_builds(store, "62", 2024)
    monkeypatch.undo()
    new = tally.current_builds(store, "62", 2024)  # the older marks are not this format's: made again
    assert set(new) == set(old) and not set(new.values()) & set(old.values())
    for table in ("RateTally", "TownshipRateTally", "NeedTally"):
        left = store.query(f"MATCH (t:{table}) WHERE t.build IN $b RETURN count(t) AS n", {"b": list(old.values())})
        assert left[0]["n"] == 0, table
    assert store.query("MATCH (m:TallyMark) RETURN count(m) AS n")[0]["n"] == len(new)
    _agree(store, "62", day)


@pytest.fixture
def served(store):
    """An organisation with offers of KF01 over a township, a county and the province, whose
    deliveries fill them on particular days of 2024; three persons whose KF01 waits all year."""
    centre, other = org(uscc("620822")), org(uscc("620823"), region="620823")
    upsert_orgs(store=store, orgs=[centre, other])
    upsert_households(store=store, households=[household("H1", V1), household("H2", V2), household("H3", W1)])
    ids = {k: id_number(born=D(1970, 1, i + 1)) for i, k in enumerate(["wa", "wb", "wc", "s1", "s2", "s3", "s4", "s5"])}
    upsert_persons(store=store, persons=[person(h, id_number=ids[k]) for k, h in (
        ("wa", "H1"), ("wb", "H2"), ("wc", "H3"), ("s1", "H1"), ("s2", "H1"), ("s3", "H2"), ("s4", "H3"),
        ("s5", "H2"))])
    record_needs(store=store, needs=[Need(id_number=ids[k], service_code="KF01", assessed_on=D(2023, 10, 1))
                                     for k in ("wa", "wb", "wc")])
    record_deliveries(store=store, deliveries=[
        Delivery(id_number=ids[k], service_code=code, delivered_on=day, uscc=centre.uscc, outcome=outcome)
        for k, code, day, outcome in (
            ("s1", "KF01", D(2024, 2, 1), DeliveryOutcome.DONE),  # served without a need of their own
            ("s2", "KF01", D(2024, 3, 1), DeliveryOutcome.ONGOING),
            ("s2", "KF01", D(2024, 6, 1), DeliveryOutcome.DONE),  # counted once
            ("s3", "KF01", D(2024, 4, 1), DeliveryOutcome.DONE),
            ("s4", "KF01", D(2024, 5, 1), DeliveryOutcome.DONE),  # in the other county
            ("s5", "KF01", D(2024, 3, 1), DeliveryOutcome.NOT_DONE),  # does not count
            ("s5", "KF01", D(2023, 12, 1), DeliveryOutcome.DONE),  # last year's
            ("s5", "JY01", D(2024, 3, 1), DeliveryOutcome.DONE))])  # another service
    upsert_offers(store=store, offers=[
        Offer(uscc=centre.uscc, service_code="KF01", region_code="620822100000", capacity=2),
        Offer(uscc=centre.uscc, service_code="KF01", region_code="620822000000", capacity=3),
        Offer(uscc=centre.uscc, service_code="KF01", region_code="620000000000", capacity=4),
        Offer(uscc=other.uscc, service_code="KF01", region_code="620823000000", capacity=1)])
    return store, centre.uscc, other.uscc


def test_the_offers_room_from_the_tallies_equals_the_room_counted(served):
    store, centre, other = served
    days = [D(2024, 1, 1), D(2024, 2, 1), D(2024, 2, 29), D(2024, 3, 1), D(2024, 4, 1), D(2024, 5, 1),
            D(2024, 6, 1), D(2024, 12, 31)]
    for day in days:
        for prefix in ("62", "620822", "620822100", "620823"):  # the province's offer is wider than a county
            assert unmet_needs(store=store, region=prefix, as_of=day, page=EVERY).items == \
                store.read(lambda tx: unmet_in(tx, prefix, as_of=day)), (day, prefix)

    def shown(day: dt.date, village: str) -> list[str]:
        return next(r.providers for r in unmet_needs(store=store, region="62", as_of=day, page=EVERY).items
                    if r.region_code == village)

    # 1 March: s1 and s2 served in the county (3 - 2, 2 - 2, 4 - 2); 1 April: s3 too (0, 0, 4 - 3);
    # 1 May: s4, in the other county, fills the province's
    assert [shown(D(2024, 3, 1), V1), shown(D(2024, 4, 1), V1)] == [[f"测试组织（{centre}）：余2"],
                                                                     [f"测试组织（{centre}）：余1"]]
    assert shown(D(2024, 4, 30), W1) == [f"测试组织（{centre}）：余1", f"测试组织（{other}）：余1"]
    assert shown(D(2024, 5, 1), W1) == [f"测试组织（{other}）：余1"]
    assert store.query("MATCH (t:ServedTally) RETURN count(t) AS n")[0]["n"] > 0
