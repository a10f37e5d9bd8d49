"""The service reports' store-side shortcuts (``graph_schema.service.simple_needs``) against the
full Python definitions, on both engines: the persons with simple needs counted by the store and
one with superseded needs folded in Python, in the same village; the 0–6 subgroup's edges; the
unmet-needs candidates (by the county's villages and by the province's needs, a referral open
for one of a person's needs and not another); and, on invented villages, every village's figures and every unmet need
equal to those of the full read for several days and periods."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import household, id_number, org, person
from graph_schema.enums import ReferralReason, ServiceDept
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.monitoring.service_rates import service_rates, village_figures
from graph_schema.monitoring.unmet_needs import unmet_in, unmet_needs
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.service.deliveries import record_deliveries
from graph_schema.service.models import Delivery, Need, Offer
from graph_schema.service.needs import record_needs
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, refer, withdraw_referral
from graph_schema.service.simple_needs import complex_persons, simple_rate_counts, waiting_counts
from importers import synth

D = dt.date
V1, V2 = "620822100201", "620822100202"
START, AS_OF = D(2024, 1, 1), D(2024, 6, 30)


@pytest.fixture
def village(store):
    """In V1: A (the registry's 康复, served twice in the period); B (registry 康复 and 辅具, one
    FJ01 assessment that supersedes 辅具, fitted); C (registry 康复, 不再需要 before the period); D
    (registry 康复, 不再需要 within it); E (registry 辅具 superseded by FJ01, then 辅具 已满足: two
    assessments, folded in Python; FJ01 fitted in the period); F, born seven years before AS_OF to
    the day (not a child), and G, a day later (a child), each with the registry's 康复. In V2: H (a
    KF01 assessment, 一级, no delivery)."""
    upsert_households(store=store, households=[household("H1", V1), household("H2", V2)])
    ids = {k: id_number(born=D(1970, 1, i + 1)) for i, k in enumerate("ABCDEH")}
    ids["F"], ids["G"] = id_number(born=D(2017, 6, 30)), id_number(born=D(2017, 7, 1))
    upsert_persons(store=store, persons=[
        person("H1", id_number=ids["A"], needs=["康复"]), person("H1", id_number=ids["B"], needs=["康复", "辅具"]),
        person("H1", id_number=ids["C"], needs=["康复"]), person("H1", id_number=ids["D"], needs=["康复"]),
        person("H1", id_number=ids["E"], needs=["辅具"]), person("H1", id_number=ids["F"], needs=["康复"]),
        person("H1", id_number=ids["G"], needs=["康复"]), person("H2", grade=1, id_number=ids["H"])])
    record_needs(store=store, needs=[
        Need(id_number=ids["B"], service_code="FJ01", assessed_on=D(2024, 2, 1)),
        Need(id_number=ids["C"], category="康复", assessed_on=D(2023, 12, 1), status="不再需要"),
        Need(id_number=ids["D"], category="康复", assessed_on=D(2024, 3, 1), status="不再需要"),
        Need(id_number=ids["E"], service_code="FJ01", assessed_on=D(2024, 1, 10)),
        Need(id_number=ids["E"], category="辅具", assessed_on=D(2024, 5, 1), status="已满足"),
        Need(id_number=ids["H"], service_code="KF01", assessed_on=D(2023, 10, 1)),
    ])
    record_deliveries(store=store, deliveries=[
        Delivery(id_number=ids[k], service_code=code, delivered_on=day, dept=ServiceDept.DPF)
        for k, code, day in (("A", "KF01", D(2024, 2, 1)), ("A", "KF01", D(2024, 3, 1)), ("B", "FJ01", D(2024, 3, 1)),
                             ("E", "FJ01", D(2024, 4, 1)), ("G", "KF01", D(2024, 6, 30)))])
    return store, ids


def _figures(store, in_store: bool, region: str = "620822", start: dt.date = START, as_of: dt.date = AS_OF):
    def work(tx):
        _, prefix = resolve_scope(tx, region)
        return {k: v for k, v in village_figures(tx, prefix, start, as_of, in_store=in_store).items()}
    return store.read(work)


def test_simple_persons_are_counted_in_the_store_and_the_others_in_python(village):
    store, ids = village
    complex_ = store.read(lambda tx: [r["id_number"] for r in complex_persons(tx, "620822", AS_OF)])
    assert complex_ == [ids["E"]]
    in_store = store.read(lambda tx: simple_rate_counts(tx, "620822", START, AS_OF))
    by_key: dict[tuple[str, str], list[dict]] = {}
    for r in in_store:
        by_key.setdefault((r["village"], r["category"]), []).append(r)
    figures = _figures(store, in_store=True)
    # 康复 in V1: A (served twice), B, D (closed within the period), F, G (a child, served); not C
    assert figures[V1, "康复"] == {"persons_in_need": 5, "persons_served": 2, "deliveries": 3, "severe_in_need": 0,
                                  "severe_served": 0, "children_in_need": 1, "children_served": 1}
    # 辅具 in V1: B (by the store) and E (in Python, superseded then met within the period), both fitted
    assert figures[V1, "辅具"]["persons_in_need"] == 2 and figures[V1, "辅具"]["persons_served"] == 2
    assert sum(r["persons_in_need"] for r in by_key[V1, "辅具"]) == 1  # E is not among the store's
    assert figures[V2, "康复"] == {"persons_in_need": 1, "persons_served": 0, "deliveries": 0, "severe_in_need": 1,
                                  "severe_served": 0, "children_in_need": 0, "children_served": 0}
    assert figures == _figures(store, in_store=False)


def test_the_report_over_both_paths_sums_its_children(village):
    store, _ = village
    rows = {(r.region_code, r.category): r for r in service_rates(
        store=store, region="620822100", as_of=AS_OF, period_start=START).items}
    for category in ("康复", "辅具"):
        for field in ("persons_in_need", "persons_served", "deliveries", "severe_in_need", "children_in_need"):
            assert getattr(rows["620822100000", category], field) == \
                getattr(rows[V1, category], field) + getattr(rows[V2, category], field), (category, field)
    assert rows["620822100000", "康复"].persons_in_need == 6 and rows[V1, "辅具"].rate == 1.0


def test_a_period_after_the_closing_day_drops_the_closed_registry_need(village):
    store, ids = village
    later = _figures(store, in_store=True, start=D(2024, 3, 2))
    assert later[V1, "康复"]["persons_in_need"] == 4  # D's 康复 closed on 1 March
    assert later == _figures(store, in_store=False, start=D(2024, 3, 2))


def test_the_unmet_needs_from_the_tallies_are_those_judged_person_by_person(village):
    store, ids = village
    unmet = store.read(lambda tx: unmet_in(tx, "620822", AS_OF))
    assert len(unmet) == 1 and unmet[0].category == "康复"  # H's; B and E were fitted, C and D closed
    assert unmet_needs(store=store, region="620822", as_of=AS_OF, page=PageRequest(1, 500)).items == unmet


@pytest.mark.parametrize("seed", [1, 2])
def test_the_shortcuts_agree_with_the_full_read_on_invented_villages(store, seed):
    data = synth.generate("tiny", seed=seed, as_of=D(2024, 12, 31))
    synth.load(store, data)
    county = next(r.code for r in data.regions if r.level.value == "county")[:6]
    days = ((D(2024, 12, 31), D(2024, 1, 1)), (D(2024, 6, 30), D(2024, 4, 1)), (D(2023, 12, 31), D(2023, 1, 1)))
    for (as_of, start), region in zip(days, (county, county[:2], county)):  # the province: county by county on Neo4j
        shortcut = _figures(store, True, region, start, as_of)
        assert shortcut == _figures(store, False, region, start, as_of), (as_of, start)
        assert sum(f["persons_in_need"] for f in shortcut.values()) > 0
        unmet = store.read(lambda tx: unmet_in(tx, region, as_of))
        # a page's rows, whose providers are found for that page alone, are the list's own
        size = max(1, len(unmet) // 3)
        pages = [unmet_needs(store=store, region=region, as_of=as_of, page=PageRequest(n, size)) for n in (1, 2, 4)]
        assert [p.total for p in pages] == [len(unmet)] * 3
        assert [p.items for p in pages] == [unmet[:size], unmet[size:2 * size], unmet[3 * size:4 * size]]


def _split(store, covered: list[str]):
    rows = store.read(lambda tx: waiting_counts(tx, "620822", AS_OF, covered))
    counted = {(r["village"], r["category"]): r["waiting"] for r in rows if r["id_number"] is None}
    return counted, {r["id_number"]: r["assessments"] for r in rows if r["id_number"] is not None}


def test_the_waiting_needs_no_offer_reaches_are_counted_and_the_others_named(village):
    store, ids = village
    # no offer: A and G were served this year, C's and D's needs are closed, B's 辅具 became FJ01 and
    # was fitted since: B's and F's registry 康复 wait in V1, H's KF01 (confirmed in 2023) in V2; E
    # (two assessments) is read
    assert _split(store, []) == ({(V1, "康复"): 2, (V2, "康复"): 1}, {ids["E"]: 2})
    # an offer of KF01 over the county reaches H's KF01 need (H is named), not the registry's 康复
    assert _split(store, ["620822000000|KF01"]) == ({(V1, "康复"): 2}, {ids["E"]: 2, ids["H"]: 1})
    # an offer of 康复 as a category (any of its services) over V1's township reaches B's and F's
    # registry needs, and not H's need of KF01 (a need of a service asks for an offer of it)
    assert _split(store, ["620822100000|康复"]) == ({(V2, "康复"): 1}, {ids["E"]: 2, ids["B"]: 1, ids["F"]: 0})
    # an offer over the other township, or a village, reaches no one else
    assert _split(store, ["620822101000|康复", f"{V2}|康复"]) == ({(V1, "康复"): 2, (V2, "康复"): 1},
                                                                  {ids["E"]: 2})
