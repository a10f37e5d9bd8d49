"""What a Neo4j cluster asks of the store: routed (``neo4j://``) connections, reads in read
transactions, and bookmarks that make a transaction wait for writes made elsewhere; the embedded
engine, one process, keeps the same contract with nothing to wait for."""

from __future__ import annotations

import pytest

from graph_schema.errors import InvalidValue, StoreError
from graph_schema.store import bookmarks
from graph_schema.store.neo4j import Neo4jStore
from graph_schema.store.schema import REGION


def _region(code: str) -> dict:
    return {"code": code, "level": "village", "name": f"村{code[-3:]}"}


def _codes(store) -> set[str]:
    return {r["code"] for r in store.query("MATCH (r:Region) RETURN r.code AS code")}


def test_a_routing_uri_writes_and_reads_through_the_routing_table(neo4j_store, neo4j_uri):
    """``neo4j://`` asks the server for a routing table (a standalone Neo4j 5 answers with itself
    in every role): a write goes to the writer, a read to a reader, and the read sees the write."""
    neo4j_store.wipe()
    routed = Neo4jStore(neo4j_uri.replace("bolt://", "neo4j://"))
    try:
        assert routed.location.startswith("neo4j://")
        routed.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
        assert _codes(routed) == {"620822100201"}
        assert routed.read(lambda tx: tx.run("MATCH (r:Region) RETURN count(r) AS n"))[0]["n"] == 1
    finally:
        routed.close()


def test_a_read_transaction_refuses_to_write(store):
    """The services' reads run as read transactions, which a cluster may send to a follower: a
    write slipped into one is refused rather than done, on both engines (so the suite, which runs
    every read path on both, proves that none of them writes)."""
    with pytest.raises(StoreError) as refused:
        store.query("CREATE (:Region {code: $c, level: 'village', name: 'x'}) RETURN 1 AS x", {"c": "620822100203"})
    assert "read" in refused.value.en
    assert _codes(store) == set()


def test_a_write_gives_its_bookmarks_and_a_read_waits_for_them(store, engine, other_client):
    """Within ``causal()``, each committed write adds its bookmark; another client's read begun
    with them sees the write (on a cluster it waits until its server has applied it). Reads add
    none. The embedded engine gives none and ignores what it is given."""
    with bookmarks.causal() as wrote:
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100201")]))
        first = set(wrote.made)
        store.write(lambda tx: tx.create_nodes(REGION, [_region("620822100202")]))
    with bookmarks.causal(wrote.made) as read:
        assert _codes(other_client()) == {"620822100201", "620822100202"}
    assert read.made == set()
    if engine == "embedded":
        assert wrote.made == set()
        return
    assert len(first) == 1 and len(wrote.made) >= 1 and wrote.made != first
    assert all(b.startswith("FB:") for b in wrote.made)
    assert bookmarks.current() is None  # only inside the block


def test_a_bookmark_the_store_never_gave_is_the_callers_error(neo4j_store):
    """A well-formed value that Neo4j cannot parse reaches the server and is refused there: an
    invalid value (422 at the API), not a store failure."""
    with bookmarks.causal({"FB:bogus"}), pytest.raises(InvalidValue) as refused:
        neo4j_store.query("RETURN 1 AS x")
    assert refused.value.details["field"] == "Jiedui-Bookmark"
    assert "书签" in refused.value.zh and "bookmark" in refused.value.en


@pytest.mark.parametrize("value", ["a b", "x," * 17, "\u4e66\u7b7e", "y" * 513])
def test_a_header_that_is_not_bookmarks_is_refused_before_any_query(value):
    with pytest.raises(InvalidValue) as refused:
        bookmarks.parse(value)
    assert "书签" in refused.value.zh and "bookmarks" in refused.value.en


def test_bookmarks_round_trip_through_their_header_value():
    made = {"FB:kcwQ54qzNZXwTTuiQgh0xYafgskAxZA=", "FB:kcwQ54qzNZXwTTuiQgh0xYafgskAhpA="}
    assert bookmarks.parse(bookmarks.render(made)) == made
    assert bookmarks.parse(" ") == frozenset()
