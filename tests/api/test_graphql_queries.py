"""GraphQL at /graphql: cursor pagination, bad arguments, the query limits, and errors that never
show internals."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

import api.graphql.loaders as loaders
from factories import VILLAGE, household, person
from graph_schema.enums import LedgerKind
from graph_schema.errors import StoreError
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.pairing.service import aux_pair, end_aux_pairing, end_pairing, pair


def gql(client, world, user, query, variables=None):
    response = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=world.auth(user))
    assert response.status_code == 200, response.text
    return response.json()


def codes(result) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


def walk(client, world, user, field, first, args="", node="householdNo", around=("", "")):
    """Every page of a list (of the object ``around`` opens, if any), following endCursor; the
    pages seen and the nodes in order."""
    query = (f"query($first: Int!, $after: String) {{ {around[0]} {field}({args}first: $first, after: $after) {{ "
             f"totalCount edges {{ cursor node {{ {node} }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }}"
             f" {around[1]} }}")
    after, pages, nodes = None, [], []
    while True:
        data = gql(client, world, user, query, {"first": first, "after": after})["data"]
        page = data[field] if not around[0] else next(iter(data.values()))[field]
        pages.append(page)
        nodes += [e["node"][node] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return pages, nodes
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]


def test_walking_a_list_page_by_page_yields_every_item_once_in_order(client, world):
    pages, nodes = walk(client, world, "admin", "households", 2)
    assert nodes == ["HA1", "HA2", "HB1"]
    assert [len(p["edges"]) for p in pages] == [2, 1] and {p["totalCount"] for p in pages} == {3}
    _, cadres = walk(client, world, "admin", "cadres", 1, node="cadreNo")
    assert cadres == ["CA1", "CA2", "CB1"]
    # cursors are opaque, but one page's cursors continue where the previous page stopped
    first = gql(client, world, "admin", "{ households(first: 3) { edges { cursor } } }")["data"]["households"]["edges"]
    assert len({e["cursor"] for e in first}) == 3 and all("HA" not in e["cursor"] for e in first)


def test_a_monitoring_list_pages_like_one_long_list(client, world):
    upsert_households(store=world.store, households=[household(f"HX{i:02d}", VILLAGE, tekun=True, dibao=i % 2 == 0)
                                                     for i in range(7)])
    _, paged = walk(client, world, "organizer-a", "unpaired", 3)
    whole = gql(client, world, "organizer-a", "{ unpaired(first: 1000) { totalCount edges { node { householdNo riskScore } } } }")
    rows = [e["node"] for e in whole["data"]["unpaired"]["edges"]]
    assert whole["data"]["unpaired"]["totalCount"] == 7 and paged == [r["householdNo"] for r in rows]
    assert rows == sorted(rows, key=lambda r: (-r["riskScore"], r["householdNo"]))  # highest risk first
    assert rows[0]["riskScore"] > rows[-1]["riskScore"]  # 低保 adds to the score


def test_a_nested_list_pages_too(client, world):
    query = """query($after: String) { household(householdNo: "HA1") {
      ledger(first: 1, after: $after) { totalCount edges { node { kind } } pageInfo { hasNextPage endCursor } } } }"""
    first = gql(client, world, "admin", query)["data"]["household"]["ledger"]
    second = gql(client, world, "admin", query, {"after": first["pageInfo"]["endCursor"]})["data"]["household"]["ledger"]
    assert [first["totalCount"], first["pageInfo"]["hasNextPage"], second["pageInfo"]["hasNextPage"]] == [2, True, False]
    assert [first["edges"][0]["node"]["kind"], second["edges"][0]["node"]["kind"]] == ["入户走访", "反映困难"]


def test_first_0_answers_the_count_alone(client, world):
    """``first: 0`` is the count of a list (it used to be refused, so a count needed ``first: 1``)."""
    got = gql(client, world, "admin", """{ households(first: 0) { totalCount edges { cursor }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
      coverage(region: "620822", first: 0) { totalCount edges { cursor } }
      all: coverage(region: "620822", first: 1000) { totalCount edges { cursor } }
      household(householdNo: "HA1") { members(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } }
        ledger(first: 0) { totalCount edges { cursor } } } }""")["data"]
    assert got["households"] == {"totalCount": 3, "edges": [], "pageInfo": {
        "hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}
    assert got["coverage"] == {"totalCount": 2, "edges": []} and len(got["all"]["edges"]) == 2  # county, township
    assert got["household"]["members"] == {"totalCount": 1, "edges": [], "pageInfo": {"hasNextPage": True}}
    assert got["household"]["ledger"] == {"totalCount": 2, "edges": []}


@pytest.mark.parametrize("field", ["members", "pairings", "auxPairings", "problems"])
def test_every_list_of_a_household_is_a_connection_that_pages(client, world, field):
    """members, pairings, auxPairings and problems were plain lists: now each pages by cursor."""
    day = dt.date.today() - dt.timedelta(days=9)
    upsert_persons(store=world.store, persons=[person("HA2"), person("HA2")])
    pair(store=world.store, household_no="HA2", cadre_no="CA2", started_on=day)
    end_pairing(store=world.store, household_no="HA2", reason="调整", ended_on=day)
    pair(store=world.store, household_no="HA2", cadre_no="CA2", started_on=day + dt.timedelta(days=1))
    end_aux_pairing(store=world.store, household_no="HA2", uscc=world.org_a, reason="期满", ended_on=day)
    aux_pair(store=world.store, household_no="HA2", uscc=world.org_a, started_on=day + dt.timedelta(days=1))
    log_entries(store=world.store, entries=[
        LedgerEntry(entry_date=day, household_no="HA2", uscc=world.org_a, kind=LedgerKind.REPORT_PROBLEM,
                    problem_no=f"Q{n}") for n in (1, 2)])
    _, nodes = walk(client, world, "admin", field, 1, node="__typename",
                    around=('household(householdNo: "HA2") {', "}"))
    assert len(nodes) == 2 if field in ("pairings", "auxPairings", "problems") else len(nodes) == 3


@pytest.mark.parametrize(("arguments", "code", "field"), [
    ("first: -1", "INVALID_VALUE", "first"),
    ("first: 1001", "INVALID_VALUE", "first"),
    ('after: "not a cursor!"', "INVALID_VALUE", "after"),
    (f'after: "{base64.b64encode(b"HA1").decode()}"', "INVALID_VALUE", "after"),
    ('region: "12345"', "REGION_FORMAT", None),
    ('region: "650000"', "NOT_FOUND", None),
])
def test_bad_arguments_are_named_errors_never_a_server_error(client, world, arguments, code, field):
    for query in (f"{{ households({arguments}) {{ totalCount }} }}", f"{{ unpaired({arguments}) {{ totalCount }} }}"):
        got = gql(client, world, "organizer-a" if "650000" in arguments else "admin", query)
        error = got["errors"][0]
        assert codes(got) == [code], got
        assert error["message"] and error["extensions"]["message_en"] and error["path"]
        if field:
            assert error["extensions"]["field"] == field
        assert list(got["data"].values()) == [None]


def test_a_bad_region_code_for_a_single_region_is_an_error_and_an_unknown_one_is_null(client, world):
    bad = gql(client, world, "admin", '{ region(code: "6208x") { code } }')
    assert codes(bad) == ["REGION_FORMAT"] and "digits" in bad["errors"][0]["extensions"]["message_en"]
    assert gql(client, world, "admin", '{ region(code: "650000") { code } }') == {"data": {"region": None}}


def test_the_query_limits_refuse_with_a_clear_error(client, world):
    def regions(levels: int, first: int = 1) -> str:  # each level down is children { edges { node … } }: three deeper
        inner = "{ code }"
        for _ in range(levels):
            inner = f"{{ children(first: {first}) {{ edges {{ node " + inner + " } } }"
        return '{ region(code: "62") ' + inner + " }"

    deep, fine = regions(4), regions(3)  # depth 13 and 10, one row a level: cheap
    aliases = "{ " + " ".join(f"a{i}: households {{ totalCount }}" for i in range(31)) + " }"
    large = "{ households { " + " ".join("totalCount" for _ in range(2100)) + " } }"
    for query, code, words in [(deep, "QUERY_TOO_DEEP", "depth"), (aliases, "TOO_MANY_ALIASES", "aliases"),
                               (large, "QUERY_TOO_LARGE", "tokens")]:
        got = gql(client, world, "admin", query)
        assert codes(got) == [code] and words in got["errors"][0]["extensions"]["message_en"], got
        assert got.get("data") is None and got["errors"][0]["message"]
    assert "errors" not in gql(client, world, "admin", fine)
    costly = gql(client, world, "admin", regions(2, first=1000))  # shallow, but a million rows
    assert codes(costly) == ["QUERY_TOO_COSTLY"] and costly["data"] is None
    ok = "{ " + " ".join(f"a{i}: households {{ totalCount }}" for i in range(30)) + " }"
    assert len(gql(client, world, "admin", ok)["data"]) == 30


def test_malformed_queries_answer_graphql_errors(client, world):
    unknown = gql(client, world, "admin", "{ households { nope } }")
    assert codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"] and "nope" in unknown["errors"][0]["message"]
    broken = gql(client, world, "admin", "{ households { ")
    assert codes(broken) == ["GRAPHQL_PARSE_FAILED"]
    wrong_type = client.post("/graphql", json={"query": "query($n: Int!) { households(first: $n) { totalCount } }",
                                               "variables": {"n": "many"}}, headers=world.auth("admin"))
    assert wrong_type.status_code == 200 and codes(wrong_type.json()) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize("failure", [
    StoreError("连接失败：bolt://10.0.0.7 secret", "connection failed: bolt://10.0.0.7 secret"),
    RuntimeError("Traceback secret internals"),
])
def test_failures_never_show_internals(client, world, monkeypatch, failure):
    def broken(*args):
        raise failure

    # the one-household read: the household and its members come in one store call
    monkeypatch.setattr(loaders, "household_detail_in", broken)
    response = client.post("/graphql", json={"query": '{ household(householdNo: "HA1") { householdNo members { totalCount } } }'},
                           headers=world.auth("admin"))
    assert response.status_code == 200 and "secret" not in response.text and "Traceback" not in response.text
    error = response.json()["errors"][0]
    expected = "STORE_ERROR" if isinstance(failure, StoreError) else "INTERNAL"
    assert error["extensions"]["code"] == expected and error["path"] == ["household"]
    assert response.json()["data"] == {"household": None}
