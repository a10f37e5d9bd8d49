"""Users, tokens and scopes in the store, on both engines."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from factories import OTHER_COUNTY_VILLAGE, VILLAGE, cadre, household, org
from graph_schema.access.audit import AuditLog, audit_entries, entry
from graph_schema.access.models import Role, Scope, User
from graph_schema.access.privacy import mask_id
from graph_schema.access.service import (
    Unauthenticated,
    add_user,
    authenticate,
    issue_token,
    list_users,
    revoke_tokens,
)
from graph_schema.cadre.service import list_cadres, upsert_cadres
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.household.service import list_households, upsert_households
from graph_schema.org.service import list_orgs, upsert_orgs
from graph_schema.store.schema import TOKEN


@pytest.fixture
def counties(store):
    upsert_households(store=store, households=[household("HA", VILLAGE), household("HB", OTHER_COUNTY_VILLAGE)])
    upsert_cadres(store=store, cadres=[cadre("CA", VILLAGE), cadre("CB", OTHER_COUNTY_VILLAGE)])
    orgs = {"county": org(region="620822"), "city": org(region="6208"), "province": org(region="62"),
            "other": org(region="620802"), "village": org(region=VILLAGE)}
    upsert_orgs(store=store, orgs=list(orgs.values()))
    return store, {k: o.uscc for k, o in orgs.items()}


def test_each_role_needs_exactly_its_bound(counties):
    store, orgs = counties
    add_user(store=store, user_id="a", role=Role.ORGANIZER, region="620822")
    with pytest.raises(InvalidValue, match="region"):
        add_user(store=store, user_id="b", role=Role.ORGANIZER)
    with pytest.raises(InvalidValue, match="cadre"):
        add_user(store=store, user_id="b", role=Role.ADMIN, cadre_no="CA")
    with pytest.raises(NotFound):
        add_user(store=store, user_id="b", role=Role.CADRE, cadre_no="NOPE")
    with pytest.raises(NotFound):
        add_user(store=store, user_id="b", role=Role.PORTAL, region="650000")
    with pytest.raises(InvalidValue, match="taken|已存在"):
        add_user(store=store, user_id="a", role=Role.ADMIN)
    add_user(store=store, user_id="o", role=Role.ORG, uscc=orgs["county"])
    assert [(u.user_id, u.role, u.region_code, u.uscc) for u in list_users(store=store)] == [
        ("a", Role.ORGANIZER, "620822000000", None), ("o", Role.ORG, None, orgs["county"])]


def test_tokens_authenticate_until_revoked_or_expired(counties):
    store, _ = counties
    add_user(store=store, user_id="a", role=Role.ORGANIZER, region="620822")
    first, second = issue_token(store=store, user_id="a"), issue_token(store=store, user_id="a", days=1)
    assert authenticate(store=store, token=first).scope == Scope(prefix="620822")
    store.execute(f"MATCH (t:{TOKEN.label}) WHERE t.expires_at < $far SET t.expires_at = $past",
                  {"far": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).isoformat(),
                   "past": "2000-01-01T00:00:00+00:00"})
    with pytest.raises(Unauthenticated):
        authenticate(store=store, token=second)
    assert authenticate(store=store, token=first).user_id == "a"
    assert revoke_tokens(store=store, user_id="a") == 1
    for token in (first, second, "", None, "made-up"):
        with pytest.raises(Unauthenticated):
            authenticate(store=store, token=token)
    with pytest.raises(NotFound):
        issue_token(store=store, user_id="nobody")
    with pytest.raises(NotFound):  # a mistyped name is not a silent "0 revoked"
        revoke_tokens(store=store, user_id="nobody")


def test_scopes_bound_the_store_queries(counties):
    store, orgs = counties
    county_a = User("a", Role.ORGANIZER, "620822000000").scope
    assert [h.household_no for h in list_households(store=store, scope=county_a).items] == ["HA"]
    assert [c.cadre_no for c in list_cadres(store=store, scope=county_a).items] == ["CA"]
    # organisations serving the county, a wider region holding it, or a place inside it
    assert {o.uscc for o in list_orgs(store=store, scope=county_a).items} == {
        orgs["county"], orgs["city"], orgs["province"], orgs["village"]}
    cadre_scope = User("c", Role.CADRE, cadre_no="CA").scope
    assert list_households(store=store, scope=cadre_scope).total == 0  # not paired yet
    assert [c.cadre_no for c in list_cadres(store=store, scope=cadre_scope).items] == ["CA"]
    assert list_orgs(store=store, scope=cadre_scope).total == 0
    org_scope = User("o", Role.ORG, uscc=orgs["other"]).scope
    assert [o.uscc for o in list_orgs(store=store, scope=org_scope).items] == [orgs["other"]]
    assert list_cadres(store=store, scope=org_scope).total == 0
    with pytest.raises(NotFound):
        list_households(store=store, region="620802", scope=county_a)


def test_masking_keeps_the_county_and_the_last_four():
    assert mask_id("62082219700101123X") == "620822********123X"
    assert mask_id("62082219700101123X41") == "620822********123X41"
    assert mask_id(None) is None and mask_id("short") == "short"


def test_the_audit_log_stores_buffered_entries_and_filters_them(store):
    log = AuditLog(store, interval=60)
    admin, portal = User("root", Role.ADMIN), User("p", Role.PORTAL, "620822000000")
    log.add([entry(admin, "read", "GET x", "household", ["H1", "H2"], "r1")])
    time.sleep(0.002)
    log.add([entry(portal, "write", "POST y", "household", ["H2"], "r2")])
    assert audit_entries(store=store).total == 0  # still buffered
    log.close()
    assert audit_entries(store=store).total == 2
    assert [e.request_id for e in audit_entries(store=store, object_key="H2").items] == ["r2", "r1"]
    assert [e.user_id for e in audit_entries(store=store, user_id="p").items] == ["p"]
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    assert audit_entries(store=store, since=future).total == 0
