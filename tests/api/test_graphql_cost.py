"""The cost limit of GraphQL operations: computed from the document before anything runs, rows
multiplied down the nesting, reports counted per run; above the limit a clear error, nothing read."""

from __future__ import annotations

import pytest
from graphql import parse

from api.graphql.cost import LIST_ROWS, PROPOSAL_COST, REPORT_COST, operation_cost
from api.graphql.schema import schema
from graph_schema.access.audit import audit_entries
from graph_schema.settings import get_settings

NESTED = ("edges { node { householdNo headName members { edges { node { name grade } } } "
          "pairings { edges { node { cadre { name } } } } risk { score } } }")
# per household: its node (its edge only wraps it), 10 members (a nested connection's default) and
# their connection, 10 pairings each with a cadre and their connection, the risk
PER_HOUSEHOLD = 1 + (1 + LIST_ROWS) + (1 + LIST_ROWS * 2) + 1


def cost(query: str, variables: dict | None = None, operation: str | None = None) -> int:
    return operation_cost(schema._schema, parse(query), operation, variables)


@pytest.mark.parametrize("query, expected", [
    ("{ __typename }", 0),
    ('{ household(householdNo: "H1") { householdNo } }', 1),
    ('{ household(householdNo: "H1") { members { edges { node { name } } } } }', 1 + 1 + LIST_ROWS),
    ('{ household(householdNo: "H1") { members(first: 30) { edges { node { name } } } } }', 1 + 1 + 30),
    ("{ households { totalCount } }", 1),  # no edges asked for: one object
    ("{ households { edges { node { householdNo } } } }", 1 + 50),  # first defaults to 50 at the root
    ("{ households(first: 1000) { " + NESTED + " } }", 1 + 1000 * PER_HOUSEHOLD),
    ("{ households(first: 5000) { edges { node { householdNo } } } }", 1 + 1000),  # the resolver refuses > 1000
    ("{ unpaired(first: 3) { totalCount } }", REPORT_COST + 1),
    ('{ a: region(code: "620822") { coverage { pairingRate } } b: region(code: "620822") { coverage { pairingRate } } }',
     2 * (1 + REPORT_COST + 1)),
    ('{ pairingProposal(region: "620822") }', PROPOSAL_COST),
    ('{ organisation(uscc: "X") { ledger(first: 1000) { edges { node { kind } } } } }', 1 + 1 + 1000),
])
def test_the_cost_of_a_document(query, expected):
    assert cost(query) == expected


def test_variables_fragments_and_the_chosen_operation_count():
    by_variable = "query Q($n: Int!) { households(first: $n) { edges { node { householdNo } } } }"
    assert cost(by_variable, {"n": 700}) == 1 + 700
    assert cost(by_variable, {"n": "many"}) == 1 + 1000  # not a number: the most it could be
    spread = ("{ households(first: 10) { ...Rows } } fragment Rows on HouseholdConnection { edges { ...Row } } "
              "fragment Row on HouseholdEdge { node { members { edges { node { name } } } } }")
    assert cost(spread) == 1 + 10 * (1 + 1 + LIST_ROWS)
    inline = "{ households(first: 10) { ... on HouseholdConnection { edges { node { householdNo } } } } }"
    assert cost(inline) == 1 + 10
    two = "query A { households { totalCount } } query B { unpaired { totalCount } }"
    assert (cost(two, operation="A"), cost(two, operation="B"), cost(two, operation="C")) == (1, REPORT_COST + 1, 0)


def graphql(client, world, query: str, variables: dict | None = None) -> dict:
    answer = client.post("/graphql", json={"query": query, "variables": variables or {}},
                         headers=world.auth("portal-a"))
    assert answer.status_code == 200, answer.text
    return answer.json()


COVERAGE_29 = "{ " + " ".join(f'c{i}: region(code: "620822") {{ coverage(asOf: "2024-01-{1 + i:02d}") {{ pairingRate }} }}'
                              for i in range(29)) + " }"


def test_the_queries_of_the_attack_review_are_refused_before_anything_runs(client, world):
    """The portal query (9 aliases of 1,000 households, nested; by value or by variable) and 29
    coverage aliases with different dates."""
    heavy = "{ " + " ".join(f"a{i}: households(first: 1000) {{ {NESTED} }}" for i in range(9)) + " }"
    by_variable = "query Q($n: Int!) { " + " ".join(f"a{i}: households(first: $n) {{ {NESTED} }}" for i in range(9)) + " }"
    limit = get_settings().graphql_max_cost
    for query, variables, expected in ((heavy, None, 9 * (1 + 1000 * PER_HOUSEHOLD)),
                                       (by_variable, {"n": 1000}, 9 * (1 + 1000 * PER_HOUSEHOLD)),
                                       (COVERAGE_29, None, 29 * (1 + REPORT_COST + 1))):
        answer = graphql(client, world, query, variables)
        assert answer["data"] is None
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert error["extensions"]["cost"] == expected and error["extensions"]["limit"] == limit
        assert f"{expected}" in error["message"] and f"{limit}" in error["message"]
        assert f"cost {expected}, above the limit of {limit}" in error["extensions"]["message_en"]
    client.app.state.services.audit.flush()
    assert audit_entries(store=world.store, user_id="portal-a").total == 0  # nothing was read


def test_a_query_within_the_limit_runs(client, world):
    answer = graphql(client, world, "{ households(first: 1000) { totalCount " + NESTED + " } }")
    assert "errors" not in answer
    assert answer["data"]["households"]["totalCount"] == len(answer["data"]["households"]["edges"]) == 2
    assert 1 + 1000 * PER_HOUSEHOLD <= get_settings().graphql_max_cost


def test_a_kept_cost_follows_the_variables_it_depends_on():
    """Costs are kept per parsed document and per value of the variables its ``first`` arguments
    read: the same document with another value, a missing one or a null one is costed anew."""
    document = parse("query Q($n: Int) { households(first: $n) { edges { node { householdNo } } } }")

    def kept(variables):
        return operation_cost(schema._schema, document, None, variables)

    assert kept({"n": 700}) == 1 + 700
    assert kept({"n": 3}) == 1 + 3
    assert kept({"n": 700}) == 1 + 700
    assert kept({"n": 3, "unused": 9}) == 1 + 3
    assert kept({}) == kept(None) == 1 + 50  # missing: the default
    assert kept({"n": None}) == 1 + 1000  # null: the most it could be
    assert kept({"n": True}) == 1 + 1000  # not a number, though it equals 1
    assert kept({"n": [1]}) == 1 + 1000  # not a plain value: counted, not kept
    assert kept({"n": 2}) == 1 + 2
