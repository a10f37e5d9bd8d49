"""``jiedui notify`` from the command line, and the service's daily schedule."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from api.cli import app
from api.notify_runs import seconds_until
from factories import cadre, household
from graph_schema.access.models import Role
from graph_schema.access.service import add_user
from graph_schema.cadre.service import upsert_cadres
from graph_schema.household.service import upsert_households
from graph_schema.pairing.service import pair

runner = CliRunner()


def test_notify_writes_the_inboxes_once(engine, store):
    upsert_households(store=store, households=[household("H1", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("C1", phone="13900000001")])
    pair(store=store, household_no="H1", cadre_no="C1", started_on=dt.date.today() - dt.timedelta(days=100))
    add_user(store=store, user_id="u-c1", role=Role.CADRE, cadre_no="C1")
    location = store.location
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
    first = runner.invoke(app, ["notify", "--store", location])
    assert first.exit_code == 0, first.output
    assert "走访逾期 home visit overdue" in first.output and "仅记录 1" in first.output
    again = runner.invoke(app, ["notify", "--store", location])
    assert again.exit_code == 0 and "走访逾期" not in again.output and "texts: 0" in again.output
    dead = runner.invoke(app, ["notify", "--dead-letters", "--store", location])
    assert dead.exit_code == 0 and "dead letters: 0" in dead.output


def test_the_daily_time_is_the_next_one_ahead():
    now = dt.datetime(2026, 12, 6, 5, 30)
    assert seconds_until("06:00", now) == 30 * 60
    assert seconds_until("05:30", now) == 24 * 3600  # the time is now: the next is tomorrow's
    assert seconds_until("00:15", now) == (18 * 60 + 45) * 60
