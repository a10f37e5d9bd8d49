"""Accounts for the roster's cadres and organisations, one-time sign-in codes, reset and disable,
and organisations asking to join; on both engines."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from pydantic import ValidationError

from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, cadre, org, uscc
from graph_schema.access.accounts import (
    AccountState,
    code_hash,
    code_matches,
    create_accounts,
    normalise_code,
    redeem_code,
    reset_code,
    roster_accounts,
    set_disabled,
)
from graph_schema.access.models import EVERYTHING, Role, User
from graph_schema.access.service import (
    Unauthenticated,
    add_user,
    authenticate,
    issue_token,
    set_password,
    sign_in,
)
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import JoinStatus
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.org.joining import (
    JoinRequestDecided,
    JoinRequestIn,
    OrgRegistered,
    approve_join_request,
    ask_to_join,
    decline_join_request,
    list_join_requests,
    registered,
)
from graph_schema.org.service import get_org, upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions

COUNTY = User("org-a", Role.ORGANIZER, region_code="620822000000").scope
OTHER = User("org-b", Role.ORGANIZER, region_code="620802000000").scope
CITY = User("org-c", Role.ORGANIZER, region_code="620800000000").scope
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


@pytest.fixture
def roster(store):
    upsert_cadres(store=store, cadres=[cadre("C1", VILLAGE), cadre("C2", OTHER_VILLAGE), cadre("C3", on_duty=False),
                                       cadre("CX", OTHER_COUNTY_VILLAGE)])
    orgs = {"county": org(region="620822"), "village": org(region=VILLAGE), "city": org(region="6208"),
            "other": org(region="620802")}
    upsert_orgs(store=store, orgs=list(orgs.values()))
    return store, {k: o.uscc for k, o in orgs.items()}


def expire(store, user_id: str) -> None:
    store.write(lambda tx: tx.run("MATCH (u:User {user_id: $u}) SET u.code_expires_at = $past",
                                  {"u": user_id, "past": "2000-01-01T00:00:00+00:00"}))


def test_each_cadre_on_duty_of_the_region_gets_one_account_with_a_code(roster):
    store, _ = roster
    add_user(store=store, user_id="C2", role=Role.ADMIN)  # someone else holds the name C2
    issued = create_accounts(store=store, role=Role.CADRE, scope=COUNTY)
    assert sorted((i.number, i.user_id) for i in issued) == [("C1", "C1"), ("C2", "C2-2")]  # not C3 (off duty), not CX
    assert all(CODE.fullmatch(i.code) for i in issued) and len({i.code for i in issued}) == 2
    assert all(13 <= (i.valid_until - dt.datetime.now(dt.timezone.utc)).days <= 14 for i in issued)
    stored = store.query("MATCH (u:User) WHERE u.role = 'cadre' RETURN u.code_hash AS h, u.password_hash AS p")
    assert sorted(r["h"] for r in stored) == sorted(code_hash(i.code) for i in issued)  # only the hash is kept
    assert all(r["p"] is None for r in stored)
    assert create_accounts(store=store, role=Role.CADRE, scope=COUNTY) == []  # nobody is left without one
    seen = {a.number: a for a in roster_accounts(store=store, role=Role.CADRE, scope=COUNTY)}
    assert set(seen) == {"C1", "C2"} and {a.state for a in seen.values()} == {AccountState.CODE}
    assert [i.number for i in create_accounts(store=store, role=Role.CADRE, scope=EVERYTHING)] == ["CX"]
    with pytest.raises(NotFound):
        create_accounts(store=store, role=Role.CADRE, scope=COUNTY, region="620802")  # outside answers as unknown
    with pytest.raises(InvalidValue):
        create_accounts(store=store, role=Role.PORTAL, scope=COUNTY)
    with pytest.raises(InvalidValue):
        create_accounts(store=store, role=Role.CADRE, scope=COUNTY, days=0)


def test_organisations_are_those_serving_inside_the_region(roster):
    store, orgs = roster
    assert {i.number for i in create_accounts(store=store, role=Role.ORG, scope=COUNTY)} == {orgs["county"],
                                                                                              orgs["village"]}
    assert {a.number for a in roster_accounts(store=store, role=Role.ORG, scope=COUNTY)} == {orgs["county"],
                                                                                              orgs["village"]}
    assert {a.number: a.state for a in roster_accounts(store=store, role=Role.ORG, scope=CITY)} == {
        orgs["county"]: AccountState.CODE, orgs["village"]: AccountState.CODE, orgs["city"]: AccountState.NONE,
        orgs["other"]: AccountState.NONE}


def test_a_code_signs_in_once_and_sets_the_password(roster):
    store, _ = roster
    issued = create_accounts(store=store, role=Role.CADRE, scope=COUNTY)[0]
    assert normalise_code(issued.code.lower().replace("-", " ").replace("0", "o")) == issued.code.replace("-", "")
    assert code_matches(store=store, user_id=issued.user_id, code=issued.code.lower().replace("-", ""))
    assert not code_matches(store=store, user_id=issued.user_id, code="AAAA-BBBB-CCCC-DDDD")
    assert not code_matches(store=store, user_id="C2", code=issued.code)  # another user's code
    with pytest.raises(Unauthenticated):
        sign_in(store=store, user_id=issued.user_id, password=issued.code)  # a code opens no session by itself
    with pytest.raises(InvalidValue):
        redeem_code(store=store, user_id=issued.user_id, code=issued.code, password="short")
    assert code_matches(store=store, user_id=issued.user_id, code=issued.code)  # a refused password uses nothing
    redeem_code(store=store, user_id=issued.user_id, code=issued.code, password="a-good-long-password")
    assert not code_matches(store=store, user_id=issued.user_id, code=issued.code)
    with pytest.raises(Unauthenticated):
        redeem_code(store=store, user_id=issued.user_id, code=issued.code, password="another-long-password")
    assert authenticate(store=store, token=sign_in(store=store, user_id=issued.user_id,
                                                  password="a-good-long-password")).cadre_no == issued.number
    accounts = {a.number: a.state for a in roster_accounts(store=store, role=Role.CADRE, scope=COUNTY)}
    assert accounts[issued.number] is AccountState.ACTIVE


def test_an_expired_code_answers_as_a_wrong_one(roster):
    store, _ = roster
    issued = create_accounts(store=store, role=Role.CADRE, scope=COUNTY)[0]
    expire(store, issued.user_id)
    assert not code_matches(store=store, user_id=issued.user_id, code=issued.code)
    with pytest.raises(Unauthenticated):
        redeem_code(store=store, user_id=issued.user_id, code=issued.code, password="a-good-long-password")
    assert {a.number: a.state for a in roster_accounts(store=store, role=Role.CADRE, scope=COUNTY)}[
        issued.number] is AccountState.EXPIRED
    fresh = reset_code(store=store, user_id=issued.user_id, scope=COUNTY)
    assert fresh.code != issued.code and code_matches(store=store, user_id=issued.user_id, code=fresh.code)


def test_a_reset_ends_the_password_and_every_session(roster):
    store, _ = roster
    issued = create_accounts(store=store, role=Role.CADRE, scope=COUNTY)[0]
    redeem_code(store=store, user_id=issued.user_id, code=issued.code, password="a-good-long-password")
    session = sign_in(store=store, user_id=issued.user_id, password="a-good-long-password")
    token = issue_token(store=store, user_id=issued.user_id)
    fresh = reset_code(store=store, user_id=issued.user_id, scope=COUNTY)
    for secret in (session, token):
        with pytest.raises(Unauthenticated):
            authenticate(store=store, token=secret)
    with pytest.raises(Unauthenticated):
        sign_in(store=store, user_id=issued.user_id, password="a-good-long-password")
    assert not code_matches(store=store, user_id=issued.user_id, code=issued.code)
    redeem_code(store=store, user_id=issued.user_id, code=fresh.code, password="a-new-long-password")
    sign_in(store=store, user_id=issued.user_id, password="a-new-long-password")


def test_a_disabled_user_neither_signs_in_nor_uses_a_token(roster):
    store, _ = roster
    issued = {i.number: i for i in create_accounts(store=store, role=Role.CADRE, scope=COUNTY)}
    first, second = issued["C1"], issued["C2"]
    redeem_code(store=store, user_id=first.user_id, code=first.code, password="a-good-long-password")
    token = issue_token(store=store, user_id=first.user_id)
    set_disabled(store=store, user_id=first.user_id, disabled=True, scope=COUNTY)
    set_disabled(store=store, user_id=second.user_id, disabled=True, scope=COUNTY)
    with pytest.raises(Unauthenticated):
        authenticate(store=store, token=token)
    with pytest.raises(Unauthenticated):
        sign_in(store=store, user_id=first.user_id, password="a-good-long-password")
    assert not code_matches(store=store, user_id=second.user_id, code=second.code)
    assert {a.state for a in roster_accounts(store=store, role=Role.CADRE, scope=COUNTY)} == {AccountState.DISABLED}
    set_disabled(store=store, user_id=first.user_id, disabled=False, scope=COUNTY)
    assert authenticate(store=store, token=token).user_id == first.user_id


def test_only_the_regions_roster_accounts_are_managed(roster):
    store, orgs = roster
    create_accounts(store=store, role=Role.CADRE, scope=EVERYTHING)
    add_user(store=store, user_id="an-organiser", role=Role.ORGANIZER, region="620822")
    set_password(store=store, user_id="an-organiser", password="organiser-password")
    for user_id, scope in (("CX", COUNTY), ("C1", OTHER), ("an-organiser", COUNTY), ("nobody", COUNTY),
                           ("C1", User("c", Role.CADRE, cadre_no="C1").scope)):
        for act in (lambda: reset_code(store=store, user_id=user_id, scope=scope),
                    lambda: set_disabled(store=store, user_id=user_id, disabled=True, scope=scope)):
            with pytest.raises(NotFound):
                act()
    sign_in(store=store, user_id="an-organiser", password="organiser-password")
    assert reset_code(store=store, user_id="CX", scope=CITY).number == "CX"
    with pytest.raises(NotFound):
        roster_accounts(store=store, role=Role.CADRE, scope=COUNTY, region="620802")


def test_two_runs_at_once_make_each_account_once(roster, other_client):
    store, _ = roster
    upsert_cadres(store=store, cadres=[cadre(f"M{i:03d}", VILLAGE) for i in range(40)])
    results: list = []
    errors: list = []

    def run(client) -> None:
        try:
            results.append(create_accounts(store=client, role=Role.CADRE, scope=COUNTY))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in (store, other_client())]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(len(r) for r in results) == [0, 42]
    assert store.query("MATCH (u:User) RETURN count(u) AS n")[0]["n"] == 42


# --- organisations asking to join ------------------------------------------------------------------

def asked(name: str = "阳光助残协会", code: str | None = None, region: str = VILLAGE) -> JoinRequestIn:
    return JoinRequestIn(name=name, uscc=code or uscc(), service_region_code=region, contact="李四",
                         phone="13900000001")


def test_a_request_to_join_is_checked_and_waits(roster):
    store, orgs = roster
    made = ask_to_join(store=store, request=asked())
    assert made.status is JoinStatus.PENDING and made.service_region_code == VILLAGE
    known = ask_to_join(store=store, request=asked(code=orgs["county"]))  # a registered code answers alike
    assert known.status is JoinStatus.PENDING and set(vars(known)) == set(vars(made))
    assert registered(store=store, usccs=[made.uscc, known.uscc]) == {orgs["county"]}
    bad = orgs["county"][:-1] + ("0" if orgs["county"][-1] != "0" else "1")
    with pytest.raises(ValidationError, match="USCC|统一社会信用代码"):
        asked(code=bad)
    with pytest.raises(ValidationError):
        JoinRequestIn(name="", uscc=uscc(), service_region_code=VILLAGE, contact="李四", phone="13900000001")
    with pytest.raises(InvalidValue) as unknown:
        ask_to_join(store=store, request=asked(region="650000"))
    assert unknown.value.code == "UNKNOWN_REGION"
    assert list_join_requests(store=store).total == 2


def test_the_organisers_of_the_area_see_and_decide(roster):
    store, orgs = roster
    upsert_regions(store=store, regions=[Region(code="620802", name="崆峒区")])
    here = ask_to_join(store=store, request=asked())
    there = ask_to_join(store=store, request=asked(region="620802"))
    ids = lambda scope: [r.request_id for r in list_join_requests(store=store, scope=scope).items]  # noqa: E731
    assert ids(COUNTY) == [here.request_id] and ids(OTHER) == [there.request_id]
    assert set(ids(CITY)) == {here.request_id, there.request_id}
    assert ids(User("o", Role.ORG, uscc=orgs["county"]).scope) == []
    with pytest.raises(NotFound):
        approve_join_request(store=store, request_id=there.request_id, decided_by="org-a", scope=COUNTY)
    done, issued = approve_join_request(store=store, request_id=here.request_id, decided_by="org-a", scope=COUNTY,
                                        note="资质已核")
    assert (done.status, done.decided_by, done.decision_note, done.user_id) == (
        JoinStatus.APPROVED, "org-a", "资质已核", issued.user_id)
    made = get_org(store=store, uscc=here.uscc)
    assert (made.name, made.service_region_code, made.contact, made.phone) == ("阳光助残协会", VILLAGE, "李四",
                                                                             "13900000001")
    assert issued.role is Role.ORG and issued.number == here.uscc and CODE.fullmatch(issued.code)
    assert code_matches(store=store, user_id=issued.user_id, code=issued.code)
    assert list_join_requests(store=store, scope=COUNTY, status=JoinStatus.PENDING).total == 0
    with pytest.raises(JoinRequestDecided):
        decline_join_request(store=store, request_id=here.request_id, decided_by="org-a", scope=COUNTY)
    declined = decline_join_request(store=store, request_id=there.request_id, decided_by="org-c", scope=CITY,
                                    note="不在服务范围")
    assert (declined.status, declined.decision_note) == (JoinStatus.DECLINED, "不在服务范围")
    with pytest.raises(NotFound):
        get_org(store=store, uscc=there.uscc)


def test_a_registered_code_is_never_approved_twice(roster):
    store, orgs = roster
    again = ask_to_join(store=store, request=asked(code=orgs["village"]))
    with pytest.raises(OrgRegistered):
        approve_join_request(store=store, request_id=again.request_id, decided_by="org-a", scope=COUNTY)
    code = uscc()
    first, second = (ask_to_join(store=store, request=asked(code=code)) for _ in range(2))
    approve_join_request(store=store, request_id=first.request_id, decided_by="org-a", scope=COUNTY)
    with pytest.raises(OrgRegistered):
        approve_join_request(store=store, request_id=second.request_id, decided_by="org-a", scope=COUNTY)
    assert store.query("MATCH (o:Org {uscc: $u}) RETURN count(o) AS n", {"u": code})[0]["n"] == 1
