"""REST households: every role, in and out of its jurisdiction; masking; audit entries."""

from __future__ import annotations

import pytest

from graph_schema.access.audit import audit_entries

#: user → the households it may see
SEES = {
    "admin": {"HA1", "HA2", "HB1"},
    "organizer-a": {"HA1", "HA2"},
    "organizer-b": {"HB1"},
    "portal-a": {"HA1", "HA2"},
    "cadre-a": {"HA1"},
    "org-a": {"HA2"},
}
UNMASKED = {"admin", "organizer-a", "organizer-b"}


@pytest.mark.parametrize("user", sorted(SEES))
def test_each_role_lists_and_reads_only_its_households(client, world, user):
    listed = client.get("/api/v1/households", headers=world.auth(user))
    assert listed.status_code == 200
    assert {h["household_no"] for h in listed.json()["items"]} == SEES[user]
    assert listed.json()["total"] == len(SEES[user])
    for no in ("HA1", "HA2", "HB1"):
        for path in ("", "/members", "/pairings", "/aux-pairings", "/ledger", "/problems"):
            got = client.get(f"/api/v1/households/{no}{path}", headers=world.auth(user))
            assert got.status_code == (200 if no in SEES[user] else 404), (user, no, path)
    missing = client.get("/api/v1/households/NOPE", headers=world.auth(user))
    outside = next((no for no in ("HA1", "HA2", "HB1") if no not in SEES[user]), None)
    if outside:  # out of scope answers exactly as a household that does not exist
        other = client.get(f"/api/v1/households/{outside}", headers=world.auth(user)).json()
        assert {k: v for k, v in other.items() if k not in ("key", "message", "message_en", "request_id")} == \
            {k: v for k, v in missing.json().items() if k not in ("key", "message", "message_en", "request_id")}


@pytest.mark.parametrize("user", sorted(SEES))
def test_id_numbers_are_masked_except_for_admin_and_the_organiser(client, world, user):
    no = sorted(SEES[user])[0]
    head = client.get(f"/api/v1/households/{no}", headers=world.auth(user)).json()["head_id"]
    member = client.get(f"/api/v1/households/{no}/members", headers=world.auth(user)).json()["items"][0]
    real = world.persons[no]
    if user in UNMASKED:
        assert member["id_number"] == real and member["cert_no"].startswith(real) and "*" not in head
    else:
        assert member["id_number"] == real[:6] + "********" + real[14:]
        assert member["cert_no"].startswith(real[:6] + "********" + real[14:])
        assert head[6:14] == "********" and len(head) == 18


def test_a_person_is_reached_only_through_a_household_in_scope(client, world):
    hb1 = world.persons["HB1"]
    assert client.get(f"/api/v1/persons/{hb1}", headers=world.auth("organizer-b")).status_code == 200
    assert client.get(f"/api/v1/persons/{hb1}", headers=world.auth("organizer-a")).status_code == 404
    assert client.get(f"/api/v1/persons/{hb1}", headers=world.auth("admin")).json()["id_number"] == hb1


def test_a_region_outside_the_jurisdiction_is_not_found(client, world):
    got = client.get("/api/v1/households?region=620802", headers=world.auth("organizer-a"))
    assert got.status_code == 404 and got.json()["code"] == "NOT_FOUND"
    inside = client.get("/api/v1/households?region=620822100202", headers=world.auth("organizer-a")).json()
    assert [h["household_no"] for h in inside["items"]] == ["HA2"]


def test_no_or_a_bad_token_is_refused(client, world):
    assert client.get("/api/v1/households").status_code == 401
    bad = client.get("/api/v1/households", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "UNAUTHENTICATED"


def test_pagination_and_bad_parameters_name_the_field(client, world):
    first = client.get("/api/v1/households?page_size=2", headers=world.auth("admin")).json()
    second = client.get("/api/v1/households?page_size=2&page=2", headers=world.auth("admin")).json()
    assert (first["total"], first["pages"], len(first["items"]), len(second["items"])) == (3, 2, 2, 1)
    bad = client.get("/api/v1/households?page=0", headers=world.auth("admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.page"


def test_reads_are_audited_with_who_what_and_which_request(client, world):
    client.get("/api/v1/households/HA1", headers=world.auth("portal-a") | {"X-Request-ID": "req-42"})
    client.get("/api/v1/households", headers=world.auth("organizer-b"))
    client.app.state.services.audit.flush()
    ha1 = audit_entries(store=world.store, object_key="HA1").items
    assert [(e.user_id, e.action, e.object_kind, e.request_id) for e in ha1] == [
        ("portal-a", "read", "household", "req-42")]
    assert ha1[0].operation == "GET /api/v1/households/{household_no}"
    hb1 = audit_entries(store=world.store, user_id="organizer-b").items
    assert hb1[0].object_keys == ["HB1"]
    # a refused request records nothing
    client.get("/api/v1/households/HB1", headers=world.auth("portal-a"))
    client.app.state.services.audit.flush()
    assert audit_entries(store=world.store, object_key="HB1", user_id="portal-a").total == 0
