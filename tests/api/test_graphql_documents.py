"""What is kept per parsed query document (``api/graphql/documents.py``): keyed by the document's
identity, bounded, and never an answer: a query that fails validation fails on every request, one
that passes is answered afresh for each caller."""

from __future__ import annotations

from graphql import parse

from api.graphql.documents import ByDocument

DETAIL = """query Household($no: String!) { household(householdNo: $no) { householdNo headName headId
  members { edges { node { name idNumber } } } pairings { edges { node { cadreNo cadre { name phone } } } } } }"""


def test_entries_are_kept_by_the_identity_of_the_document_and_bounded():
    kept = ByDocument(keep=2)
    first, same_text = parse("{ __typename }"), parse("{ __typename }")
    kept.put(first, "k", 1)
    assert kept.get(first, "k") == 1
    assert kept.get(first, "other") is None
    assert kept.get(same_text, "k") is None  # equal in value, another document: worked out again
    second, third = parse("{ a: __typename }"), parse("{ b: __typename }")
    kept.put(second, "k", 2)
    assert kept.get(first, "k") == 1  # used last: kept over the second
    kept.put(third, "k", 3)
    assert len(kept) == 2
    assert (kept.get(first, "k"), kept.get(second, "k"), kept.get(third, "k")) == (1, None, 3)


def graphql(client, world, user: str, query: str, variables: dict | None = None) -> dict:
    answer = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=world.auth(user))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_query_that_fails_validation_fails_on_every_request(client, world):
    unknown = '{ household(householdNo: "HA1") { householdNo noSuchField } }'
    deep = '{ region(code: "620822") { ' + "children { edges { node { " * 4 + "code" + " } } }" * 4 + " } }"
    for query, code in ((unknown, "GRAPHQL_VALIDATION_FAILED"), (deep, "QUERY_TOO_DEEP")):
        for _ in range(3):
            answer = graphql(client, world, "organizer-a", query)
            assert answer.get("data") is None
            assert [e["extensions"]["code"] for e in answer["errors"]] == [code]


def test_the_same_query_text_is_answered_for_each_caller_as_that_caller_may_see_it(client, world):
    """One document, kept once, serves callers of different roles and scopes: each gets what the
    privacy table and their scope allow, as if it were the first request."""
    admin, portal, outside, again = (graphql(client, world, user, DETAIL, {"no": "HA1"})["data"]["household"]
                                     for user in ("admin", "portal-a", "organizer-b", "admin"))
    assert outside is None  # outside its county
    assert again == admin
    assert "*" not in admin["headId"]  # in full
    assert "*" in portal["headId"] and portal["headId"] != admin["headId"]  # masked
    assert admin["householdNo"] == portal["householdNo"] == "HA1"
