"""Random GraphQL documents against /graphql, as a portal user and as an admin, on the embedded
engine: queries and mutations generated from the schema (hypothesis-graphql), and garbage text.
No answer is a server error; every error carries ``extensions.code``; a portal user's mutations
write nothing (node and edge counts, audit entries aside, stay as they were). Bounded, derandomised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import graphql
import hypothesis_graphql as hg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.graphql.schema import schema as app_schema
from conftest import build_world
from graph_schema.store.embedded import EmbeddedStore
from graph_schema.store.schema import NODE_TABLES, REL_TABLES

SDL = app_schema.as_str()
SCALARS = {
    "Date": st.dates().map(lambda d: graphql.StringValueNode(value=d.isoformat())),
    "Fen": st.integers(min_value=-(2 ** 40), max_value=2 ** 40).map(lambda n: graphql.IntValueNode(value=str(n))),
    "JSON": st.just(graphql.StringValueNode(value="{}")),
}
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
UNLOGGED = {"AuditEntry"}  # reads are audited: the only write a read may cause


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, object, object]]:
    store = EmbeddedStore(tmp_path_factory.mktemp("gqlfuzz") / "store", buffer_pool_mb=256)
    world = build_world(store)
    with TestClient(create_app(store, audit_interval=0.05), raise_server_exceptions=False) as client:
        yield client, world, store
    store.close()


def counts(store) -> dict[str, int]:
    out = {t.label: store.query(f"MATCH (n:{t.label}) RETURN count(n) AS n")[0]["n"]
           for t in NODE_TABLES if t.label not in UNLOGGED}
    out |= {r.type: store.query(f"MATCH ()-[e:{r.type}]->() RETURN count(e) AS n")[0]["n"] for r in REL_TABLES}
    return out


def post(client, world, user: str, **kwargs):
    kwargs.setdefault("headers", world.auth(user))
    response = client.post("/graphql", **kwargs)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        for error in (body.get("errors") or []) if isinstance(body, dict) else []:
            assert error.get("extensions", {}).get("code"), error
        return body
    # strawberry answers a request without a query (empty or missing) itself: 400, plain text
    assert response.status_code == 400, (response.status_code, response.text[:200])
    return None


@FUZZ
@given(query=hg.queries(SDL, custom_scalars=SCALARS), user=st.sampled_from(["portal-a", "admin"]))
def test_random_queries(service, query, user):
    client, world, _ = service
    post(client, world, user, json={"query": query})


@FUZZ
@given(mutation=hg.mutations(SDL, custom_scalars=SCALARS))
def test_random_mutations_by_the_portal_write_nothing(service, mutation):
    client, world, store = service
    before = counts(store)
    body = post(client, world, "portal-a", json={"query": mutation})
    assert counts(store) == before, mutation
    assert body is None or body.get("errors") or all(v is None for v in (body.get("data") or {}).values())


@settings(max_examples=50, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(mutation=hg.mutations(SDL, custom_scalars=SCALARS))
def test_random_mutations_by_an_admin(service, mutation):
    client, world, _ = service
    post(client, world, "admin", json={"query": mutation})


@FUZZ
@given(document=st.one_of(st.text(max_size=300), st.from_regex(r"\{[a-zA-Z(){}: \"$!@.,0-9]{0,80}", fullmatch=True)),
       user=st.sampled_from(["portal-a", "admin"]))
def test_garbage_documents(service, document, user):
    client, world, _ = service
    body = post(client, world, user, json={"query": document})
    assert body is None or body.get("errors"), document


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=100).map(str.encode),
                     st.sampled_from([b"[]", b"null", b"1", b'{"query": 5}', b'{"query": null}',
                                      b'{"query": "{ household }", "variables": 3}'])))
def test_garbage_bodies(service, raw):
    client, world, _ = service
    post(client, world, "admin", content=raw, headers={**world.auth("admin"), "Content-Type": "application/json"})
