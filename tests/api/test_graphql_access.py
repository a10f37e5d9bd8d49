"""GraphQL at /graphql: every top-level field for every role, in and out of its jurisdiction;
ID masking; nested lists filtered by the caller's scope again; the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import OTHER_COUNTY_VILLAGE, VILLAGE, cadre, household, person
from graph_schema.access.audit import audit_entries
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import ExclusionReason
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.pairing.exclusions import exclude
from graph_schema.pairing.service import aux_pair, pair

USERS = ("admin", "organizer-a", "organizer-b", "portal-a", "cadre-a", "org-a")
UNMASKED = {"admin", "organizer-a", "organizer-b"}

#: user → what each top-level lookup may return
HOUSEHOLDS = {
    "admin": {"HA1", "HA2", "HB1"}, "organizer-a": {"HA1", "HA2"}, "organizer-b": {"HB1"},
    "portal-a": {"HA1", "HA2"}, "cadre-a": {"HA1"}, "org-a": {"HA2"},
}
CADRES = {
    "admin": {"CA1", "CA2", "CB1"}, "organizer-a": {"CA1", "CA2"}, "organizer-b": {"CB1"},
    "portal-a": {"CA1", "CA2"}, "cadre-a": {"CA1"}, "org-a": set(),
}
ORGS = {  # "a" serves county A, "b" county B
    "admin": {"a", "b"}, "organizer-a": {"a"}, "organizer-b": {"b"}, "portal-a": {"a"}, "cadre-a": set(), "org-a": {"a"},
}
REGIONS = {  # region code → who may see it
    "620822": {"admin", "organizer-a", "portal-a"},
    "620822100201": {"admin", "organizer-a", "portal-a"},
    "620802": {"admin", "organizer-b"},
    "62": {"admin"},
}
MONITORING = {"admin", "organizer-a", "organizer-b", "portal-a"}
REPORT_FIELDS = [name.split("-")[0] + "".join(p.title() for p in name.split("-")[1:]) for name in REPORTS]
#: the reports that name persons with their needs: not for portals
ORGANISERS_ONLY = {field for field, report in zip(REPORT_FIELDS, REPORTS.values()) if report.organisers_only}


def gql(client, world, user, query, variables=None, headers=None, operation=None):
    body = {"query": query, "variables": variables or {}} | ({"operationName": operation} if operation else {})
    response = client.post("/graphql", json=body, headers=world.auth(user) | (headers or {}))
    assert response.status_code == 200, response.text
    return response.json()


def codes(result) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


@pytest.mark.parametrize("user", USERS)
def test_each_object_lookup_answers_only_inside_the_jurisdiction(client, world, user):
    orgs = {"a": world.org_a, "b": world.org_b}
    query = """query($h: String!, $p: String!, $c: String!, $o: String!, $r: String!) {
      household(householdNo: $h) { householdNo } person(idNumber: $p) { householdNo }
      cadre(cadreNo: $c) { cadreNo } organisation(uscc: $o) { uscc } region(code: $r) { code } }"""
    for h, c, o, r in [("HA1", "CA1", "a", "620822"), ("HA2", "CA2", "b", "620802"), ("HB1", "CB1", "a", "62"),
                       ("NOPE", "NOPE", "b", "620822100201")]:
        got = gql(client, world, user, query, {"h": h, "p": world.persons.get(h, "620822197001010016"), "c": c,
                                               "o": orgs[o], "r": r})
        data = got["data"]
        if user in UNMASKED:
            assert "errors" not in got, got
            assert (data["person"] is not None) == (h in HOUSEHOLDS[user]), (user, h)
        else:  # a lookup by full ID number is for organisers only, whatever the number
            assert codes(got) == ["FORBIDDEN"] and got["errors"][0]["path"] == ["person"], got
            assert data["person"] is None
        assert (data["household"] is not None) == (h in HOUSEHOLDS[user]), (user, h)
        assert (data["cadre"] is not None) == (c in CADRES[user]), (user, c)
        assert (data["organisation"] is not None) == (o in ORGS[user]), (user, o)
        assert (data["region"] is not None) == (user in REGIONS[r]), (user, r)


@pytest.mark.parametrize("user", USERS)
def test_each_list_holds_only_the_jurisdiction(client, world, user):
    got = gql(client, world, user, """{
      households { totalCount edges { node { householdNo } } }
      cadres { totalCount edges { node { cadreNo } } }
      organisations { totalCount edges { node { uscc } } } }""")["data"]
    assert {e["node"]["householdNo"] for e in got["households"]["edges"]} == HOUSEHOLDS[user]
    assert got["households"]["totalCount"] == len(HOUSEHOLDS[user])
    assert {e["node"]["cadreNo"] for e in got["cadres"]["edges"]} == CADRES[user]
    assert got["cadres"]["totalCount"] == len(CADRES[user])
    named = {world.org_a: "a", world.org_b: "b"}
    assert {named[e["node"]["uscc"]] for e in got["organisations"]["edges"]} == ORGS[user]


@pytest.mark.parametrize("user", USERS)
def test_monitoring_lists_are_for_organisers_and_portals_in_their_region(client, world, user):
    own = {"admin": "620822", "organizer-b": "620802"}.get(user)  # admin names one; others default to their own
    for field in REPORT_FIELDS:
        query = f"query($r: String) {{ {field}(region: $r) {{ totalCount edges {{ cursor }} }} }}"
        mine = gql(client, world, user, query, {"r": own})
        other = gql(client, world, user, query, {"r": "620802" if user != "organizer-b" else "620822"})
        if user not in MONITORING or (user == "portal-a" and field in ORGANISERS_ONLY):
            assert codes(mine) == ["FORBIDDEN"] and codes(other) == ["FORBIDDEN"], (user, field)
            assert mine["data"][field] is None
            assert mine["errors"][0]["message"].startswith("角色")
            assert "may not" in mine["errors"][0]["extensions"]["message_en"]
            continue
        assert "errors" not in mine, (field, mine)
        assert mine["data"][field]["totalCount"] >= 0
        if user == "admin":
            assert "errors" not in other
        else:  # outside the jurisdiction: exactly as a region that does not exist
            missing = gql(client, world, user, query, {"r": "650000"})
            assert codes(other) == codes(missing) == ["NOT_FOUND"], (user, field)


def test_monitoring_rows_reflect_the_world(client, world):
    since = (dt.date.today() - dt.timedelta(days=60)).isoformat()  # the ledger is dated 30 days ago
    got = gql(client, world, "organizer-a", """query($since: Date) {
      openProblems { totalCount edges { node { problemNo householdNo cadreNo } } }
      coverage(from: $since) { edges { node { regionCode level priorityHouseholds paired auxPairings orgDonations } } }
      cadreLoad { totalCount } unpaired { totalCount } }""", {"since": since})["data"]
    assert [e["node"] for e in got["openProblems"]["edges"]] == [{"problemNo": "P1", "householdNo": "HA1", "cadreNo": "CA1"}]
    county = got["coverage"]["edges"][0]["node"]
    assert county == {"regionCode": "620822000000", "level": "县", "priorityHouseholds": 1, "paired": 1,
                      "auxPairings": 1, "orgDonations": 1}
    assert got["unpaired"]["totalCount"] == 0  # HA1 is paired; HA2 is no priority household


@pytest.mark.parametrize("user", USERS)
def test_id_numbers_are_masked_except_for_admin_and_organisers(client, world, user):
    no = sorted(HOUSEHOLDS[user])[0]
    got = gql(client, world, user, """query($h: String!) {
      household(householdNo: $h) { headId members { edges { node { idNumber certNo } } } } }""", {"h": no})["data"]
    real = world.persons[no]
    masked = real[:6] + "********" + real[14:]
    member, head = got["household"]["members"]["edges"][0]["node"], got["household"]["headId"]
    if user in UNMASKED:
        alone = gql(client, world, user, "query($p: String!) { person(idNumber: $p) { idNumber certNo } }",
                    {"p": real})["data"]["person"]
        assert member["idNumber"] == alone["idNumber"] == real and member["certNo"].startswith(real)
        assert "*" not in head and len(head) == 18
    else:
        assert member["idNumber"] == masked and member["certNo"].startswith(masked)
        assert head[6:14] == "********" and len(head) == 18


def test_nested_lists_are_filtered_by_the_callers_scope_again(client, world):
    """Cadre CA2 (county A) and organisation A are also paired with HB2 in county B: an organiser
    of county A sees the cadre and the organisation, but not that household."""
    upsert_households(store=world.store, households=[household("HB2", OTHER_COUNTY_VILLAGE)])
    upsert_persons(store=world.store, persons=[person("HB2")])
    day = dt.date.today() - dt.timedelta(days=3)
    pair(store=world.store, household_no="HB2", cadre_no="CA2", started_on=day)
    aux_pair(store=world.store, household_no="HB2", uscc=world.org_a, started_on=day)
    query = """query($o: String!) {
      cadre(cadreNo: "CA2") { load atLimit households { totalCount edges { node { householdNo } } } }
      organisation(uscc: $o) { auxPairings { totalCount edges { node { householdNo household { householdNo } } } } } }"""
    seen = {}
    for user in ("admin", "organizer-a", "organizer-b", "org-a"):
        data = gql(client, world, user, query, {"o": world.org_a})["data"]
        cadre, org = data["cadre"], data["organisation"]
        seen[user] = (cadre and {e["node"]["householdNo"] for e in cadre["households"]["edges"]},
                      org and {e["node"]["householdNo"] for e in org["auxPairings"]["edges"]})
        if cadre:
            assert (cadre["load"], cadre["atLimit"]) == (1, False)  # the load counts every region
            assert cadre["households"]["totalCount"] == len(seen[user][0])  # the count, too, is scoped
    assert seen["admin"] == ({"HB2"}, {"HA2", "HB2"})
    assert seen["organizer-a"] == (set(), {"HA2"})
    assert seen["organizer-b"] == (None, None)  # neither the cadre nor the organisation is theirs
    assert seen["org-a"] == (None, {"HA2", "HB2"})  # its own pairings; cadres are not its business


def test_a_household_shows_its_whole_record(client, world):
    got = gql(client, world, "organizer-a", """{ household(householdNo: "HA1") {
      members { totalCount edges { node { grade household { householdNo } } } }
      pairings { edges { node { cadreNo active cadre { name pairLimit } } } }
      activePairing { cadreNo }
      auxPairings { totalCount edges { node { uscc } } }
      ledger { totalCount edges { node { kind note } } }
      problems { edges { node { problemNo open } } }
      openProblems: problems(openOnly: true) { totalCount edges { node { problemNo } } }
      risk { priority score level reasons } } }""")["data"]["household"]

    def nodes(connection: dict) -> list:
        return [e["node"] for e in connection["edges"]]

    assert nodes(got["members"]) == [{"grade": 1, "household": {"householdNo": "HA1"}}]
    assert nodes(got["pairings"]) == [{"cadreNo": "CA1", "active": True, "cadre": {"name": "测试干部", "pairLimit": 3}}]
    assert got["activePairing"] == {"cadreNo": "CA1"} and got["auxPairings"] == {"totalCount": 0, "edges": []}
    assert [e["node"]["kind"] for e in got["ledger"]["edges"]] == ["入户走访", "反映困难"]
    assert nodes(got["problems"]) == [{"problemNo": "P1", "open": True}]
    assert nodes(got["openProblems"]) == [{"problemNo": "P1"}] and got["openProblems"]["totalCount"] == 1
    # 特困 25 + one member graded 一级 20 (see graph_schema/monitoring/risk.py)
    assert got["risk"] == {"priority": True, "score": 45, "level": "中", "reasons": ["特困", "重度残疾成员1人"]}


def test_an_organisation_shows_its_donations(client, world):
    query = """query($o: String!, $k: [String!]) { organisation(uscc: $o) {
      ledger(kinds: $k) { totalCount edges { node { kind amountFen householdNo uscc cadreNo } } } } }"""
    donations = gql(client, world, "org-a", query, {"o": world.org_a, "k": ["捐款捐物"]})["data"]
    assert [e["node"] for e in donations["organisation"]["ledger"]["edges"]] == [
        {"kind": "捐款捐物", "amountFen": 50000, "householdNo": "HA2", "uscc": world.org_a, "cadreNo": None}]
    visits = gql(client, world, "org-a", query, {"o": world.org_a, "k": ["入户走访"]})["data"]
    assert visits["organisation"]["ledger"]["totalCount"] == 0
    bad = gql(client, world, "org-a", query, {"o": world.org_a, "k": ["捐款"]})
    assert codes(bad) == ["INVALID_VALUE"] and bad["errors"][0]["extensions"]["field"] == "kinds"


def test_a_region_shows_its_children_and_their_coverage(client, world):
    got = gql(client, world, "organizer-a", """{ region(code: "620822") { code name level parentCode
      coverage { priorityHouseholds paired pairingRate }
      children { edges { node { code level coverage { priorityHouseholds paired }
        children { totalCount edges { node { code } } } } } } } }""")["data"]["region"]
    assert (got["code"], got["level"], got["parentCode"]) == ("620822000000", "县", "620800000000")
    assert got["coverage"] == {"priorityHouseholds": 1, "paired": 1, "pairingRate": 1.0}
    assert [e["node"]["code"] for e in got["children"]["edges"]] == ["620822100000"]
    township = got["children"]["edges"][0]["node"]
    assert township["coverage"] == {"priorityHouseholds": 1, "paired": 1}
    assert [e["node"]["code"] for e in township["children"]["edges"]] == ["620822100201", "620822100202"]
    assert township["children"]["totalCount"] == 2


def test_no_or_a_bad_token_is_refused_before_any_graphql(client, world):
    anonymous = client.post("/graphql", json={"query": "{ households { totalCount } }"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHENTICATED"
    bad = client.post("/graphql", json={"query": "{ households { totalCount } }"}, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401 and bad.json()["code"] == "UNAUTHENTICATED"


def test_the_cadre_load_and_the_exclusion_list_are_audited(client, world):
    """Both name households (a cadre's, an excluded pair's): reading them is recorded, in GraphQL
    as in REST, with the households named."""
    upsert_cadres(store=world.store, cadres=[cadre("CA1", VILLAGE, pair_limit=1)])  # CA1 is now full
    exclude(store=world.store, household_no="HA2", cadre_no="CA2", reason=ExclusionReason.RELATIVE)
    answer = gql(client, world, "organizer-a", "{ cadreLoad { edges { node { cadreNo households } } } }")
    assert answer["data"]["cadreLoad"]["edges"] == [{"node": {"cadreNo": "CA1", "households": ["HA1"]}}]
    listed = client.get("/api/v1/exclusions", headers=world.auth("organizer-b"))  # county B: nothing to name
    assert listed.status_code == 200 and listed.json()["items"] == []
    listed = client.get("/api/v1/exclusions", headers=world.auth("organizer-a"))
    assert [e["household_no"] for e in listed.json()["items"]] == ["HA2"]
    client.app.state.services.audit.flush()
    mine = audit_entries(store=world.store, user_id="organizer-a").items
    assert sorted((e.operation, e.action, e.object_kind, tuple(e.object_keys)) for e in mine) == [
        ("GET /api/v1/exclusions", "read", "household", ("HA2",)),
        ("graphql cadreLoad", "read", "household", ("HA1",))]


def test_reads_are_audited_once_per_request_with_the_operation(client, world):
    query = """query Overview { households { edges { node { householdNo members { edges { node { name } } } } } }
      again: household(householdNo: "HA1") { householdNo } }"""
    gql(client, world, "organizer-a", query, headers={"X-Request-ID": "req-gql-1"}, operation="Overview")
    gql(client, world, "portal-a", '{ household(householdNo: "HB1") { householdNo } }')  # out of scope: null
    client.app.state.services.audit.flush()
    mine = audit_entries(store=world.store, user_id="organizer-a").items
    assert sorted((e.object_kind, tuple(e.object_keys)) for e in mine) == [
        ("household", ("HA1", "HA2")), ("person", tuple(sorted((world.persons["HA1"], world.persons["HA2"]))))]
    assert {(e.operation, e.request_id, e.action) for e in mine} == {("graphql Overview", "req-gql-1", "read")}
    assert audit_entries(store=world.store, user_id="portal-a").total == 0  # a null records nothing
    gql(client, world, "portal-a", '{ unpaired { totalCount } household(householdNo: "HA2") { householdNo } }')
    client.app.state.services.audit.flush()
    anonymous = audit_entries(store=world.store, user_id="portal-a").items
    assert [(e.operation, e.object_keys) for e in anonymous] == [("graphql unpaired,household", ["HA2"])]
