"""The inbox over REST: each user reads and marks their own messages; admins and organisers run
the day's notifications for their jurisdiction; on both engines."""

from __future__ import annotations

import datetime as dt

from graph_schema.enums import LedgerKind
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries

API = "/api/v1"


def old_problem(world) -> None:
    log_entries(store=world.store, entries=[LedgerEntry(
        entry_date=dt.date.today() - dt.timedelta(days=40), household_no="HA1", cadre_no="CA1",
        kind=LedgerKind.REPORT_PROBLEM, problem_no="P-OLD", note="房屋漏雨")])


def test_organisers_run_it_for_their_region_and_each_reads_their_own(world, client):
    old_problem(world)
    assert client.post(f"{API}/notify", json={}, headers=world.auth("cadre-a")).status_code == 403
    assert client.post(f"{API}/notify", json={}, headers=world.auth("portal-a")).status_code == 403
    ran = client.post(f"{API}/notify", json={}, headers=world.auth("organizer-a"))
    assert ran.status_code == 200, ran.text
    assert ran.json()["messages"] == {"困难久未解决": 1, "辖区日报": 1}
    assert ran.json()["texts"] == {}  # the cadre has no phone in the roster

    mine = client.get(f"{API}/inbox", headers=world.auth("cadre-a")).json()
    assert mine["total"] == 1 and mine["unread"] == 1
    (message,) = mine["items"]
    assert message["kind"] == "困难久未解决" and message["household_no"] == "HA1" and "P-OLD" in message["subject"]
    assert client.get(f"{API}/inbox", headers=world.auth("organizer-b")).json()["total"] == 0  # not in county A
    digest = client.get(f"{API}/inbox", headers=world.auth("organizer-a")).json()["items"][0]["message_id"]

    marked = client.post(f"{API}/inbox/read", json={"message_ids": [message["message_id"], digest]},
                         headers=world.auth("cadre-a"))
    assert marked.json() == {"marked": 1}  # the organiser's digest is not the cadre's to mark
    assert client.get(f"{API}/inbox?unread=true", headers=world.auth("cadre-a")).json()["total"] == 0
    assert client.get(f"{API}/inbox?unread=true", headers=world.auth("organizer-a")).json()["total"] == 1
    again = client.post(f"{API}/notify", json={}, headers=world.auth("organizer-a")).json()
    assert again["messages"] == {}


def test_notify_refuses_a_future_day(world, client):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    answer = client.post(f"{API}/notify", json={"as_of": tomorrow}, headers=world.auth("admin"))
    assert answer.status_code == 409 and answer.json()["code"] == "FUTURE_DATE"


def test_reading_the_inbox_needs_a_token(world, client):
    assert client.get(f"{API}/inbox").status_code == 401
    assert client.post(f"{API}/inbox/read", json={"message_ids": []}, headers=world.auth("cadre-a")).status_code == 422
