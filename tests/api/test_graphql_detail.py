"""The one-household read behind ``household(householdNo:)``: one store call for the household
and every list it nests, only the columns the query asks for, and the same answer, field for
field and role by role, as the path through the request's loaders (``person { household }``),
which the privacy table and the scope decide in the same way."""

from __future__ import annotations

import datetime as dt

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, Undefined

from api.graphql.schema import schema
from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.enums import LedgerKind
from graph_schema.household.detail import Wanted, household_detail_in
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entry

from conftest import COUNTY_A, USERS
from test_graphql_loaders import _counting, _populate


def _named(t):
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        t = t.of_type
    return t


def _selection(type_name: str, depth: int) -> str:
    """Every field of ``type_name`` that takes no required argument, objects ``depth`` levels
    down (connections through their nodes): the widest query a detail page could ask."""
    out = []
    for name, f in schema._schema.get_type(type_name).fields.items():
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined for a in f.args.values()):
            continue
        t = _named(f.type)
        if not isinstance(t, GraphQLObjectType):
            out.append(name)
        elif depth > 0 and t.name.endswith("Connection"):
            node = _named(t.fields["edges"].type).fields["node"].type
            out.append(f"{name} {{ totalCount edges {{ node {{ {_selection(_named(node).name, depth - 1)} }} }} }}")
        elif depth > 0:
            out.append(f"{name} {{ {_selection(t.name, depth - 1)} }}")
    return " ".join(out)


def _ask(client, world, user: str, query: str) -> dict:
    got = client.post("/graphql", json={"query": query}, headers=world.auth(user)).json()
    assert "errors" not in got, got
    return got["data"]


@pytest.mark.parametrize("no", ["HA1", "HA2", "HB1"])
def test_the_detail_read_answers_as_the_loaders_do_for_every_role(client, world, no):
    """Members, pairings with their cadres, auxiliary pairings, ledger, problems and risk, every
    field, as each role sees them (masked, withheld, its own records in full, or not at all)."""
    log_entry(store=world.store, entry=LedgerEntry(entry_date=dt.date.today(), household_no="HA2", uscc=world.org_a,
                                                   kind=LedgerKind.VOLUNTEER, volunteers=3, minutes=90))
    fields = _selection("Household", 2)
    seen = 0
    for user in USERS:
        direct = _ask(client, world, user, f'{{ household(householdNo: "{no}") {{ {fields} }} }}')["household"]
        listed = _ask(client, world, user, f"{{ households(first: 50) {{ edges {{ node {{ {fields} }} }} }} }}")
        via = next((e["node"] for e in listed["households"]["edges"] if e["node"]["householdNo"] == no), None)
        assert direct == via, user
        seen += direct is not None
        if user == "admin" and no == "HA2":  # the volunteer figures come with the ledger
            assert {(e["node"]["volunteers"], e["node"]["minutes"]) for e in direct["ledger"]["edges"]} >= {(3, 90)}
    assert seen >= 2  # not only empty answers


def test_one_store_call_for_the_household_and_its_lists(client, world, monkeypatch):
    _populate(world, 2)
    auth = world.auth("organizer-a")
    query = """{ household(householdNo: "HC01") { householdNo headName risk { score level }
      members { edges { node { name grade } } }
      pairings { edges { node { cadreNo active cadre { name phone atLimit } } } } activePairing { cadre { name } }
      auxPairings { edges { node { uscc active } } } ledger(first: 1) { totalCount edges { node { kind note } } }
      problems(openOnly: true) { totalCount edges { node { problemNo open } } } } }"""
    client.post("/graphql", json={"query": "{ cadres(first: 1) { totalCount } }"}, headers=auth)  # the token is cached
    calls = _counting(monkeypatch, world.store)
    got = client.post("/graphql", json={"query": query}, headers=auth).json()
    assert "errors" not in got, got
    h = got["data"]["household"]
    assert h["members"]["edges"][0]["node"]["grade"] == 2 and h["risk"]["level"] == "中"
    assert h["pairings"]["edges"][0]["node"]["cadre"]["atLimit"] is False  # pair_limit read for it, then a load
    assert h["activePairing"]["cadre"]["name"] == h["pairings"]["edges"][0]["node"]["cadre"]["name"]
    assert h["ledger"]["totalCount"] == 2 and len(h["ledger"]["edges"]) == 1
    assert h["problems"] == {"totalCount": 1, "edges": [{"node": {"problemNo": "PC01", "open": True}}]}
    assert h["auxPairings"]["edges"] == []
    # the household with its lists and cadres; then the cadre's load, which atLimit asks for
    assert calls == ["read", "read"]


def test_open_only_filters_on_a_column_the_query_does_not_show(client, world):
    log_entry(store=world.store, entry=LedgerEntry(entry_date=dt.date.today(), household_no="HA1", cadre_no="CA1",
                                                   kind=LedgerKind.SOLVE_PROBLEM, problem_no="P1", note="已修好"))
    query = '{ household(householdNo: "HA1") { all: problems { totalCount } open: problems(openOnly: true) { totalCount } } }'
    assert _ask(client, world, "admin", query)["household"] == {"all": {"totalCount": 1}, "open": {"totalCount": 0}}


def test_only_the_columns_asked_for_are_read(world):
    wanted = Wanted(frozenset({"head_name"}), (("members", frozenset({"name"})), ("pairings", frozenset({"cadre_name"}))))
    row = world.store.read(lambda tx: household_detail_in(tx, "HA1", wanted, EVERYTHING))
    assert set(row) == {"household_no", "head_name", "members", "pairings"}
    assert [set(m) for m in row["members"]] == [{"id_number", "name", "household_no"}]
    # the pairing's keys, dates (its order, whether active) and cadre, with the cadre's name beside them
    assert [set(p) for p in row["pairings"]] == [
        {"pairing_id", "cadre_no", "started_on", "ended_on", "household_no", "cadre_name"}]
    outside = world.store.read(lambda tx: household_detail_in(tx, "HB1", wanted, Scope(prefix=COUNTY_A)))
    assert outside is None  # out of the caller's county: not read, lists neither

