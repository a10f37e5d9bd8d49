"""Reminders that reach people: each cadre's inbox holds their own households' visits, certificate
reminders and old problems, once each; an organiser gets the day's figures; the outbox gets one
text a day per user, naming nobody; on both engines."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from factories import OTHER_COUNTY_VILLAGE, VILLAGE, cadre, household, org, person
from graph_schema.access.models import Role
from graph_schema.access.service import add_user
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import AuxRequestStatus, LedgerKind
from graph_schema.errors import FutureDate
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.notify.models import MessageKind, OutgoingStatus
from graph_schema.notify.service import inbox, mark_read, notify, outbox, unread_count
from graph_schema.pagination import PageRequest
from graph_schema.org.service import upsert_orgs
from graph_schema.pairing.requests import approve_aux_request, decline_aux_request, list_aux_requests, request_aux
from graph_schema.pairing.service import pair
from graph_schema.service.models import Need, Offer
from graph_schema.service.needs import record_need
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, accept_referral, refer

AS_OF = dt.date(2026, 6, 30)
ALL = PageRequest(1, 1000)


def days(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


@pytest.fixture
def world(store):
    upsert_households(store=store, households=[
        household("H1", tekun=True), household("H2"), household("H3"), household("H4"), household("H5"),
        household("X1", OTHER_COUNTY_VILLAGE)])
    upsert_cadres(store=store, cadres=[
        cadre("C1", pair_limit=5, phone="13800000001"), cadre("C2", phone="13800000002"), cadre("C3"),
        cadre("CX", station=OTHER_COUNTY_VILLAGE, phone="13800000009")])
    for h, c, start in [("H1", "C1", -200), ("H2", "C1", -100), ("H3", "C1", -10), ("H5", "C1", -120),
                        ("H4", "C2", -300), ("X1", "CX", -300)]:
        pair(store=store, household_no=h, cadre_no=c, started_on=days(start))

    def entry(d: int, h: str, c: str, kind: LedgerKind = LedgerKind.VISIT, problem: str | None = None) -> LedgerEntry:
        return LedgerEntry(entry_date=days(d), household_no=h, cadre_no=c, kind=kind, problem_no=problem)

    log_entries(store=store, entries=[
        entry(-95, "H1", "C1"),  # due 5 days ago: overdue
        entry(-80, "H2", "C1"),  # due in 10 days
        entry(-5, "H5", "C2"),  # another cadre's visit: C1 still owes one (due 30 days ago)
        entry(-250, "H4", "C2"),  # C2 is late too
        entry(-400, "X1", "CX"),
        entry(-40, "H1", "C1", LedgerKind.REPORT_PROBLEM, "P-OLD"),
        entry(-10, "H2", "C1", LedgerKind.REPORT_PROBLEM, "P-NEW"),
        entry(-60, "H3", "C1", LedgerKind.REPORT_PROBLEM, "P-DONE"), entry(-50, "H3", "C1", LedgerKind.SOLVE_PROBLEM,
                                                                            "P-DONE"),
    ])
    cert = person("H2", cert_expiry=days(100))
    upsert_persons(store=store, persons=[cert, person("H4", cert_expiry=days(20)), person("X1", cert_expiry=days(20))])
    for user, role, bound in [("u-c1", Role.CADRE, {"cadre_no": "C1"}), ("u-c2", Role.CADRE, {"cadre_no": "C2"}),
                              ("u-cx", Role.CADRE, {"cadre_no": "CX"}), ("u-org", Role.ORGANIZER, {"region": "620822"}),
                              ("u-portal", Role.PORTAL, {"region": "620822"})]:
        add_user(store=store, user_id=user, role=role, **bound)
    return store, cert


def messages(store, user: str) -> list[tuple]:
    return sorted((m.kind, m.household_no, m.due_on) for m in inbox(store=store, user_id=user, page=ALL).items)


def test_a_cadre_is_told_of_their_own_households_only(world):
    store, cert = world
    result = notify(store=store, as_of=AS_OF)
    assert messages(store, "u-c1") == sorted([
        (MessageKind.VISIT_OVERDUE, "H1", days(-5)),
        (MessageKind.VISIT_DUE, "H2", days(10)),
        (MessageKind.VISIT_OVERDUE, "H5", days(-30)),
        (MessageKind.CERT_REMINDER, "H2", cert.cert_expiry),  # the six-month reminder
        (MessageKind.PROBLEM_OPEN, "H1", None),
    ])
    # H4's certificate expires within a month: both of its reminders are due, and go to C2 alone
    assert messages(store, "u-c2") == sorted([
        (MessageKind.VISIT_OVERDUE, "H4", days(-160)),
        (MessageKind.CERT_REMINDER, "H4", days(20)), (MessageKind.CERT_REMINDER, "H4", days(20))])
    assert messages(store, "u-portal") == []
    assert result.messages[MessageKind.CERT_REMINDER] == 5  # C1's one, C2's two, CX's two
    assert {m.household_no for m in inbox(store=store, user_id="u-cx", page=ALL).items} == {"X1"}


def test_notifying_again_adds_nothing(world):
    store, _ = world
    first = notify(store=store, as_of=AS_OF)
    assert sum(first.messages.values()) > 0
    again = notify(store=store, as_of=AS_OF)
    assert sum(again.messages.values()) == 0 and again.reminders == 0 and again.outgoing == 0
    # the next day, the unchanged facts say nothing new; only the organiser's digest is new
    next_day = notify(store=store, as_of=days(1))
    assert dict(next_day.messages) == {MessageKind.DIGEST: 1}


def test_each_certificate_reminder_goes_once(world):
    store, cert = world

    def given() -> list[tuple]:
        return sorted((r["w"], r["d"]) for r in store.query(
            "MATCH (r:Reminder {id_number: $id}) RETURN r.window AS w, r.sent_on AS d", {"id": cert.id_number}))

    def told() -> int:
        return sum(m.kind is MessageKind.CERT_REMINDER and m.household_no == "H2"
                   for m in inbox(store=store, user_id="u-c1", page=ALL).items)

    notify(store=store, as_of=AS_OF)
    assert given() == [("6m", AS_OF)] and told() == 1
    for day in (10, 40, 60):  # still only inside the six-month window: nothing more
        assert notify(store=store, as_of=days(day)).messages[MessageKind.CERT_REMINDER] == 0
    month_ahead = cert.cert_expiry - dt.timedelta(days=25)
    assert notify(store=store, as_of=month_ahead).messages[MessageKind.CERT_REMINDER] == 1
    assert notify(store=store, as_of=month_ahead + dt.timedelta(days=1)).messages[MessageKind.CERT_REMINDER] == 0
    assert given() == [("1m", month_ahead), ("6m", AS_OF)] and told() == 2


def test_the_organisers_digest_counts_what_the_reports_count(world):
    store, _ = world
    notify(store=store, as_of=AS_OF)
    (digest,) = inbox(store=store, user_id="u-org", page=ALL).items
    assert digest.kind is MessageKind.DIGEST
    expected = {zh: REPORTS[name].run(store=store, region="620822", as_of=AS_OF, page=PageRequest(1, 1)).total
                for name, zh in [("unpaired", "未结对重点户"), ("overdue-visits", "走访逾期"), ("open-problems", "未解决困难")]}
    assert expected["走访逾期"] > 0 and expected["未解决困难"] > 0
    for zh, total in expected.items():
        assert f"{zh} {total}；" in digest.body or digest.body.startswith(f"{zh} {total}")


def test_one_text_a_day_naming_nobody(world):
    store, cert = world
    notify(store=store, as_of=AS_OF)
    texts = {o.user_id: o for o in outbox(store=store, page=ALL).items}
    assert set(texts) == {"u-c1", "u-c2", "u-cx"}  # C3 has no user; organisers have no phone
    c1 = texts["u-c1"]
    assert c1.phone == "13800000001" and c1.status is OutgoingStatus.PENDING and "5 条" in c1.body
    for text in texts.values():
        assert not any(word in text.body for word in ("H1", "H2", "H4", "X1", "测试人", cert.id_number))
    notify(store=store, as_of=AS_OF)
    assert outbox(store=store, page=ALL).total == 3


def test_reading_is_ones_own(world):
    store, _ = world
    notify(store=store, as_of=AS_OF)
    mine = [m.message_id for m in inbox(store=store, user_id="u-c1", page=ALL).items]
    theirs = [m.message_id for m in inbox(store=store, user_id="u-c2", page=ALL).items]
    assert unread_count(store=store, user_id="u-c1") == 5
    assert mark_read(store=store, user_id="u-c1", message_ids=mine[:2] + theirs, at="2026-06-30T08:00:00+00:00") == 2
    assert unread_count(store=store, user_id="u-c1") == 3
    assert unread_count(store=store, user_id="u-c2") == len(theirs)
    assert inbox(store=store, user_id="u-c1", unread=True, page=ALL).total == 3


def test_a_region_notifies_its_users_only(world):
    store, _ = world
    result = notify(store=store, as_of=AS_OF, region="620802")
    assert result.users == 1 and inbox(store=store, user_id="u-c1", page=ALL).total == 0
    assert inbox(store=store, user_id="u-cx", page=ALL).total > 0


def test_no_future_day(world):
    store, _ = world
    with pytest.raises(FutureDate):
        notify(store=store, as_of=dt.date.today() + dt.timedelta(days=1))


# --- organisations: the decisions on their requests --------------------------------------------------

@pytest.fixture
def orgs_world(store):
    upsert_households(store=store, households=[household("H1"), household("H2"), household("H3")])
    mobile, landline = org(phone="13900000007"), org(phone="0933-8123456")
    upsert_orgs(store=store, orgs=[mobile, landline])
    for user, o in (("u-mobile", mobile), ("u-landline", landline)):
        add_user(store=store, user_id=user, role=Role.ORG, uscc=o.uscc)
    asks = {h: request_aux(store=store, household_no=h, uscc=mobile.uscc, reason="助残", requested_by="u-mobile")
            for h in ("H1", "H2", "H3")}
    request_aux(store=store, household_no="H1", uscc=landline.uscc, reason="助残", requested_by="u-landline")
    approve_aux_request(store=store, request_id=asks["H1"].request_id, decided_by="organiser")
    decline_aux_request(store=store, request_id=asks["H2"].request_id, decided_by="organiser", note="户主不同意")
    return store, mobile, landline


def test_an_organisation_hears_of_its_decided_requests_once(orgs_world):
    store, mobile, landline = orgs_world
    today = dt.date.today()
    result = notify(store=store, as_of=today)
    found = {m.kind: m for m in inbox(store=store, user_id="u-mobile", page=ALL).items}
    assert set(found) == {MessageKind.AUX_APPROVED, MessageKind.AUX_DECLINED}  # H3 still waits: nothing
    assert found[MessageKind.AUX_APPROVED].household_no == "H1" and "H1" in found[MessageKind.AUX_APPROVED].body
    declined = found[MessageKind.AUX_DECLINED]
    assert declined.household_no is None and "户主不同意" in declined.body and "H2" in declined.body
    assert inbox(store=store, user_id="u-landline", page=ALL).total == 0  # its own request is pending
    assert result.messages[MessageKind.AUX_APPROVED] == 1
    assert sum(notify(store=store, as_of=today).messages.values()) == 0
    texts = {o.user_id: o for o in outbox(store=store, page=ALL).items}
    assert set(texts) == {"u-mobile"} and texts["u-mobile"].phone == "13900000007"
    assert "2 条" in texts["u-mobile"].body and "H1" not in texts["u-mobile"].body


def test_a_landline_gets_no_text_and_old_decisions_are_not_replayed(orgs_world):
    store, mobile, landline = orgs_world
    (pending,) = [q for q in list_aux_requests(store=store, page=ALL).items if q.uscc == landline.uscc]
    approve_aux_request(store=store, request_id=pending.request_id, decided_by="organiser")
    assert sum(notify(store=store, as_of=dt.date.today() - dt.timedelta(days=20)).messages.values()) == 0
    notify(store=store, as_of=dt.date.today())
    assert [m.kind for m in inbox(store=store, user_id="u-landline", page=ALL).items] == [MessageKind.AUX_APPROVED]
    assert {o.user_id for o in outbox(store=store, page=ALL).items} == {"u-mobile"}
    result = notify(store=store, as_of=dt.date.today(), region="620802")  # another county: not these organisations
    assert result.users == 0


@pytest.fixture
def in_china():
    """The process's local zone UTC+8, as a server in China runs, whatever the run's zone."""
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "Etc/GMT-8"
    time.tzset()
    yield
    if zone is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = zone
    time.tzset()


def test_a_decision_is_news_of_its_local_day(orgs_world, in_china):
    """Decisions are stamped in UTC; an organisation's news is by local days. One made at 01:30 in
    China (17:30 UTC the day before) is news of its own day, and dated so, not of the day before."""
    store, mobile, _ = orgs_world
    store.write(lambda tx: tx.run("MATCH (q:AuxRequest) WHERE q.uscc = $uscc AND q.status <> $pending "
                                  "SET q.decided_at = '2026-03-01T17:30:00.000000+00:00'",
                                  {"uscc": mobile.uscc, "pending": AuxRequestStatus.PENDING.value}))
    assert sum(notify(store=store, as_of=dt.date(2026, 3, 1)).messages.values()) == 0
    assert notify(store=store, as_of=dt.date(2026, 3, 2)).messages[MessageKind.AUX_APPROVED] == 1
    (approved,) = [m for m in inbox(store=store, user_id="u-mobile", page=ALL).items
                   if m.kind is MessageKind.AUX_APPROVED]
    assert "2026-03-02" in approved.body and "2026-03-01" not in approved.body


def test_an_organisation_hears_of_a_new_referral_once_and_not_after_answering(orgs_world):
    store, mobile, landline = orgs_world
    today = dt.date.today()
    member = person("H1")
    upsert_persons(store=store, persons=[member])
    upsert_offers(store=store, offers=[Offer(uscc=mobile.uscc, service_code="KF01", region_code=VILLAGE)])
    need_id = record_need(store=store, need=Need(id_number=member.id_number, service_code="KF01",
                                                 assessed_on=today - dt.timedelta(days=3)))
    made = refer(store=store, request=ReferralRequest(id_number=member.id_number, need_id=need_id,
                                                      provider_uscc=mobile.uscc, made_on=today - dt.timedelta(days=2),
                                                      made_by="organiser"))
    notify(store=store, as_of=today)
    (news,) = [m for m in inbox(store=store, user_id="u-mobile", page=ALL).items if m.kind is MessageKind.REFERRAL_NEW]
    assert news.due_on == made.due_on and str(made.due_on) in news.subject and made.category.value in news.body
    assert member.id_number not in news.body + news.subject  # the person is on the 转介 page, not in messages
    assert not [m for m in inbox(store=store, user_id="u-landline", page=ALL).items
                if m.kind is MessageKind.REFERRAL_NEW]  # sent to the other organisation
    assert notify(store=store, as_of=today).messages.get(MessageKind.REFERRAL_NEW, 0) == 0  # once


def test_an_answered_referral_is_no_news(orgs_world):
    store, mobile, _ = orgs_world
    today = dt.date.today()
    member = person("H1")
    upsert_persons(store=store, persons=[member])
    upsert_offers(store=store, offers=[Offer(uscc=mobile.uscc, service_code="KF01", region_code=VILLAGE)])
    need_id = record_need(store=store, need=Need(id_number=member.id_number, service_code="KF01",
                                                 assessed_on=today - dt.timedelta(days=3)))
    made = refer(store=store, request=ReferralRequest(id_number=member.id_number, need_id=need_id,
                                                      provider_uscc=mobile.uscc, made_by="organiser"))
    accept_referral(store=store, referral_id=made.referral_id)
    notify(store=store, as_of=today)
    assert MessageKind.REFERRAL_NEW not in {m.kind for m in inbox(store=store, user_id="u-mobile", page=ALL).items}
