"""Every list of the REST API is paged alike: ``page`` and ``page_size`` (1–1000), answered with
``items``, ``total``, ``page``, ``page_size`` and ``pages``. The lists under a household, a cadre
and an organisation used to be bare arrays that ignored ``page_size``."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import VILLAGE, household, person
from graph_schema.access.audit import audit_entries
from graph_schema.enums import LedgerKind
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.pairing.service import aux_pair, end_aux_pairing, end_pairing, pair

API = "/api/v1"
#: path → the field that tells its items apart
LISTS = {
    "/households/HA1/members": "id_number",
    "/households/HA1/pairings": "pairing_id",
    "/households/HA2/aux-pairings": "pairing_id",
    "/households/HA1/ledger": "entry_id",
    "/households/HA1/problems": "problem_no",
    "/cadres/CA1/households": "household_no",
    "/orgs/{oa}/aux-pairings": "pairing_id",
    "/orgs/{oa}/ledger": "entry_id",
}


@pytest.fixture
def longer(world):
    """Three of everything the lists show (the world has one or two)."""
    store, day = world.store, dt.date.today() - dt.timedelta(days=20)
    upsert_persons(store=store, persons=[person("HA1"), person("HA1")])
    end_pairing(store=store, household_no="HA1", reason="调整", ended_on=day)
    pair(store=store, household_no="HA1", cadre_no="CA2", started_on=day)
    end_pairing(store=store, household_no="HA1", reason="调整", ended_on=day + dt.timedelta(days=1))
    pair(store=store, household_no="HA1", cadre_no="CA1", started_on=day + dt.timedelta(days=1))
    for n in (1, 2):
        end_aux_pairing(store=store, household_no="HA2", uscc=world.org_a, reason="期满",
                        ended_on=day + dt.timedelta(days=n))
        aux_pair(store=store, household_no="HA2", uscc=world.org_a, started_on=day + dt.timedelta(days=n))
    upsert_households(store=store, households=[household("HA3", VILLAGE), household("HA4", VILLAGE)])
    for no in ("HA3", "HA4"):
        pair(store=store, household_no=no, cadre_no="CA1", started_on=day)
    log_entries(store=store, entries=[
        *(LedgerEntry(entry_date=day, household_no="HA1", cadre_no="CA1", kind=LedgerKind.REPORT_PROBLEM,
                      problem_no=f"P{n}", note=f"困难{n}") for n in (2, 3)),
        *(LedgerEntry(entry_date=day, household_no="HA2", uscc=world.org_a, kind=LedgerKind.DONATION,
                      amount_fen=n) for n in (1, 2)),
    ])
    return world


@pytest.mark.parametrize("path", sorted(LISTS))
def test_each_list_of_a_household_cadre_or_organisation_is_paged(client, longer, path):
    url, key = API + path.format(oa=longer.org_a), LISTS[path]

    def page(**params) -> dict:
        got = client.get(url, params=params, headers=longer.auth("admin"))
        assert got.status_code == 200, got.text
        return got.json()

    whole = page(page_size=1000)
    assert whole["total"] >= 3 and len(whole["items"]) == whole["total"] and whole["pages"] == 1
    first, second = page(page_size=2), page(page_size=2, page=2)
    assert (first["total"], first["page"], first["page_size"], first["pages"]) == (
        whole["total"], 1, 2, -(-whole["total"] // 2))
    assert [i[key] for i in first["items"] + second["items"]] == [i[key] for i in whole["items"][:4]]
    assert page(page=2)["items"] == [] and page(page=999999, page_size=1000)["items"] == []
    assert len(page()["items"]) == whole["total"]  # 50 by default


@pytest.mark.parametrize("params,field", [
    ({"page_size": 1001}, "query.page_size"), ({"page_size": 0}, "query.page_size"), ({"page": 0}, "query.page"),
    ({"page_size": "2.0"}, "query.page_size"), ({"page": "+1"}, "query.page"), ({"page": "1_0"}, "query.page")])
def test_a_page_outside_the_bounds_or_not_an_integer_is_refused(client, world, params, field):
    for path in LISTS:
        got = client.get(API + path.format(oa=world.org_a), params=params, headers=world.auth("admin"))
        assert got.status_code == 422 and [e["field"] for e in got.json()["errors"]] == [field], (path, got.text)


def test_a_page_holds_only_what_the_caller_may_see_and_audits_only_its_items(client, longer):
    """The total counts what the caller sees; the audit trail names the households shown."""
    mine = client.get(f"{API}/cadres/CA1/households", params={"page_size": 2}, headers=longer.auth("cadre-a"))
    assert mine.status_code == 200 and mine.json()["total"] == 3
    client.app.state.services.audit.flush()
    read = audit_entries(store=longer.store, user_id="cadre-a").items
    assert [e.object_keys for e in read] == [[h["household_no"] for h in mine.json()["items"]]]
    assert client.get(f"{API}/households/HA1/ledger", headers=longer.auth("organizer-b")).status_code == 404
