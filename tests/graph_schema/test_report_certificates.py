"""Certificate expiry (cert-expiry) and its reminders: the six-month and one-month windows, the
calendar months, recording reminders once, renewed certificates, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, household, person
from graph_schema.errors import FutureDate, InvalidValue, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.identifiers import mask_id_number
from graph_schema.monitoring.certificates import (
    CERT_EXPIRY,
    CertExpiry,
    add_months,
    cert_expiry,
    record_reminders,
    reminder_id,
)
from graph_schema.pagination import PageRequest
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

AS_OF = dt.date(2024, 8, 31)  # + 1 month = 30 September, + 6 months = 28 February 2025
D = dt.date


@pytest.mark.parametrize("day,months,expected", [
    (D(2024, 8, 31), 6, D(2025, 2, 28)), (D(2023, 8, 31), 6, D(2024, 2, 29)), (D(2024, 1, 31), 1, D(2024, 2, 29)),
    (D(2024, 8, 31), 1, D(2024, 9, 30)), (D(2024, 11, 15), 3, D(2025, 2, 15)), (D(2024, 12, 31), 12, D(2025, 12, 31)),
    (D(2024, 3, 31), 0, D(2024, 3, 31)),
])
def test_calendar_months_clamp_the_day(day, months, expected):
    assert add_months(day, months) == expected


def reminders(store) -> list[tuple]:
    columns = ("id_number", "cert_expiry", "window", "sent_on", "note", "reminder_id")
    return [tuple(r[c] for c in columns) for r in store.query(
        "MATCH (r:Reminder) RETURN r.id_number AS id_number, r.cert_expiry AS cert_expiry, r.window AS window, "
        "r.sent_on AS sent_on, r.note AS note, r.reminder_id AS reminder_id "
        "ORDER BY cert_expiry, id_number, window")]


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[household("H1"), household("H2", region=OTHER_VILLAGE),
                                               household("X1", region=OTHER_COUNTY_VILLAGE)])
    p = {
        "expired": person("H1", cert_expiry=D(2024, 8, 30)),
        "today": person("H1", cert_expiry=AS_OF),
        "one_month": person("H2", cert_expiry=D(2024, 9, 30)),
        "one_month_and_a_day": person("H1", cert_expiry=D(2024, 10, 1)),
        "six_months": person("H2", cert_expiry=D(2025, 2, 28)),
        "six_months_and_a_day": person("H1", cert_expiry=D(2025, 3, 1)),
        "no_date": person("H1"),
        "other_county": person("X1", cert_expiry=D(2024, 9, 10)),
    }
    upsert_persons(store=store, persons=list(p.values()))
    return store, p


def row(p, household_no: str, region: str, days_left: int, within: str, sent: list[str],
        due: list[str]) -> CertExpiry:
    return CertExpiry(id_masked=mask_id_number(p.id_number), name="测试人", household_no=household_no,
                      region_code=region, cert_expiry=p.cert_expiry, days_left=days_left, within=within,
                      reminders_sent=sent, reminders_due=due)


def test_the_windows_and_their_edges(world):
    store, p = world
    page = cert_expiry(store=store, region="620822", as_of=AS_OF)
    assert page.items == [
        row(p["today"], "H1", VILLAGE, 0, "1个月", [], ["6m", "1m"]),
        row(p["one_month"], "H2", OTHER_VILLAGE, 30, "1个月", [], ["6m", "1m"]),
        row(p["one_month_and_a_day"], "H1", VILLAGE, 31, "6个月", [], ["6m"]),
        row(p["six_months"], "H2", OTHER_VILLAGE, 181, "6个月", [], ["6m"]),
    ]
    assert page.total == 4


def test_reminders_are_recorded_once_per_window_and_expiry(store):
    upsert_households(store=store, households=[household("H1")])
    holder = person("H1", cert_expiry=D(2025, 1, 20))
    upsert_persons(store=store, persons=[holder])
    five_months_out, inside_one_month = D(2024, 8, 20), D(2024, 12, 25)

    assert cert_expiry(store=store, region=VILLAGE, as_of=five_months_out).items == [
        row(holder, "H1", VILLAGE, 153, "6个月", [], ["6m"])]
    assert record_reminders(store=store, region=VILLAGE, as_of=five_months_out, note="电话通知") == 1
    assert cert_expiry(store=store, region=VILLAGE, as_of=five_months_out).items == [
        row(holder, "H1", VILLAGE, 153, "6个月", ["6m"], [])]
    assert record_reminders(store=store, region=VILLAGE, as_of=five_months_out) == 0
    assert record_reminders(store=store, region=VILLAGE, as_of=D(2024, 9, 1)) == 0  # still nothing due

    assert cert_expiry(store=store, region=VILLAGE, as_of=inside_one_month).items == [
        row(holder, "H1", VILLAGE, 26, "1个月", ["6m"], ["1m"])]
    assert record_reminders(store=store, region=VILLAGE, as_of=inside_one_month) == 1
    assert cert_expiry(store=store, region=VILLAGE, as_of=inside_one_month).items[0].reminders_due == []
    assert record_reminders(store=store, region=VILLAGE, as_of=inside_one_month) == 0

    # a past date is reproduced: the day before the first reminder, nothing had been sent
    assert cert_expiry(store=store, region=VILLAGE, as_of=D(2024, 8, 19)).items == [
        row(holder, "H1", VILLAGE, 154, "6个月", [], ["6m"])]
    number, expiry = holder.id_number, holder.cert_expiry
    assert reminders(store) == [
        (number, expiry, "1m", inside_one_month, None, reminder_id(number, expiry, "1m")),
        (number, expiry, "6m", five_months_out, "电话通知", reminder_id(number, expiry, "6m")),
    ]


def test_a_renewed_certificate_needs_new_reminders(store):
    upsert_households(store=store, households=[household("H1")])
    holder = person("H1", cert_expiry=D(2025, 1, 20))
    upsert_persons(store=store, persons=[holder])
    assert record_reminders(store=store, region=VILLAGE, as_of=D(2024, 12, 25)) == 2  # both windows at once
    renewed = holder.model_copy(update={"cert_expiry": D(2025, 2, 10)})
    upsert_persons(store=store, persons=[renewed])
    assert cert_expiry(store=store, region=VILLAGE, as_of=D(2024, 12, 25)).items == [
        row(renewed, "H1", VILLAGE, 47, "6个月", [], ["6m"])]
    assert record_reminders(store=store, region=VILLAGE, as_of=D(2024, 12, 25)) == 1
    assert [(r[1], r[2]) for r in reminders(store)] == [
        (D(2025, 1, 20), "1m"), (D(2025, 1, 20), "6m"), (D(2025, 2, 10), "6m")]


def test_recording_for_some_persons_only_and_for_a_scope(world):
    store, p = world
    chosen = [p["one_month"].id_number, p["six_months_and_a_day"].id_number, p["other_county"].id_number]
    # only the due reminders of the chosen persons inside the scope: one_month's two windows
    assert record_reminders(store=store, region="620822", as_of=AS_OF, id_numbers=chosen) == 2
    items = {i.id_masked: i for i in cert_expiry(store=store, region="620822", as_of=AS_OF).items}
    assert items[mask_id_number(p["one_month"].id_number)].reminders_sent == ["6m", "1m"]
    assert items[mask_id_number(p["today"].id_number)].reminders_sent == []
    # the other county's holder is still due there; the whole county records the rest
    assert cert_expiry(store=store, region="620802", as_of=AS_OF).items[0].reminders_due == ["6m", "1m"]
    assert record_reminders(store=store, region="620822", as_of=AS_OF) == 4  # today ×2, 1 month and a day, 6 months
    assert all(not i.reminders_due for i in cert_expiry(store=store, region="620822", as_of=AS_OF).items)
    assert record_reminders(store=store, region="620822", as_of=AS_OF, id_numbers=[]) == 0
    assert len(reminders(store)) == 6


def test_a_reminder_cannot_be_recorded_in_the_future(world):
    store, _ = world
    with pytest.raises(FutureDate):
        record_reminders(store=store, region="620822", as_of=dt.date.today() + dt.timedelta(days=1))
    assert reminders(store) == []


def test_order_is_expiry_then_id_number_and_pages_are_stable(store):
    upsert_households(store=store, households=[household("H1")])
    holders = [person("H1", cert_expiry=D(2024, 9, 1) + dt.timedelta(days=i % 3)) for i in range(7)]
    upsert_persons(store=store, persons=holders)
    expected = [mask_id_number(h.id_number) for h in sorted(holders, key=lambda h: (h.cert_expiry, h.id_number))]
    pages = [cert_expiry(store=store, region=VILLAGE, as_of=AS_OF, page=PageRequest(page=n, page_size=3))
             for n in (1, 2, 3)]
    assert [i.id_masked for pg in pages for i in pg.items] == expected
    assert [len(pg.items) for pg in pages] == [3, 3, 1] and pages[2].total == 7 and pages[0].pages == 3


def test_a_household_that_moved_is_reported_under_its_new_village(store):
    upsert_households(store=store, households=[household("H1")])
    holder = person("H1", cert_expiry=D(2024, 9, 15))
    upsert_persons(store=store, persons=[holder])
    upsert_households(store=store, households=[household("H1", region=OTHER_VILLAGE)])
    assert cert_expiry(store=store, region=VILLAGE, as_of=AS_OF).items == []
    assert cert_expiry(store=store, region=OTHER_VILLAGE, as_of=AS_OF).items == [
        row(holder, "H1", OTHER_VILLAGE, 15, "1个月", [], ["6m", "1m"])]


def test_a_region_without_households_an_unknown_region_and_a_bad_code(world):
    store, _ = world
    upsert_regions(store=store, regions=[Region(code="620822100203", name="空村")])
    assert cert_expiry(store=store, region="620822100203", as_of=AS_OF).items == []
    assert record_reminders(store=store, region="620822100203", as_of=AS_OF) == 0
    for run in (cert_expiry, record_reminders):
        with pytest.raises(NotFound):
            run(store=store, region="6209", as_of=AS_OF)
        with pytest.raises(InvalidValue):
            run(store=store, region="62a", as_of=AS_OF)


def test_the_report_description():
    assert CERT_EXPIRY.name == "cert-expiry" and not CERT_EXPIRY.ranged
    assert CERT_EXPIRY.fields == list(CERT_EXPIRY.headers)
