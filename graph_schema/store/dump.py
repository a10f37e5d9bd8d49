"""The whole store read table by table, and emptied again, in the store's terms: what the contract
export and the backup read (``importers/export.py``, ``importers/backup.py``) and what a restore
clears, so that neither speaks Cypher. Reads are paged or per table, never one query for all."""

from __future__ import annotations

from typing import Any

from graph_schema.store.base import GraphStore
from graph_schema.store.schema import NODE_TABLES, NODES, NodeTable, RelTable

PAGE = 50_000
BATCH = 20_000


def node_rows(store: GraphStore, table: NodeTable) -> list[dict]:
    """Every node of a table, read in pages ordered by key (bounded memory per query)."""
    columns = ", ".join(f"n.{c} AS {c}" for c in table.columns)
    rows: list[dict] = []
    while True:
        page = store.query(f"MATCH (n:{table.label}) RETURN {columns} ORDER BY {table.key} SKIP $skip LIMIT $limit",
                           {"skip": len(rows), "limit": PAGE})
        rows += page
        if len(page) < PAGE:
            return rows


def region_names(store: GraphStore) -> list[dict]:
    return store.query("MATCH (r:Region) RETURN r.code AS code, r.name AS name")


def pairing_rows(store: GraphStore, table: NodeTable, rel: RelTable) -> list[dict]:
    """Every pairing of type ``rel`` (one-to-one or auxiliary) by the actors of ``table``: the
    household (``h``), the actor's key (``who``), the dates and the end reason."""
    return store.query(
        f"MATCH (c:{table.label})-[p:{rel.type}]->(h:Household) RETURN h.household_no AS h, c.{table.key} AS who, "
        "p.started_on AS started_on, p.ended_on AS ended_on, p.end_reason AS reason")


def ledger_rows(store: GraphStore) -> list[dict]:
    """Every ledger entry with its household and its actor (a cadre's number or a USCC)."""
    return store.query(
        "MATCH (a)-[e:ASSISTED]->(h:Household) RETURN e.entry_date AS entry_date, h.household_no AS household_no, "
        "a.cadre_no AS cadre_no, a.uscc AS uscc, e.kind AS kind, e.amount_fen AS amount_fen, "
        "e.in_kind_fen AS in_kind_fen, e.note AS note, e.problem_no AS problem_no, e.record_no AS record_no")


def rel_rows(store: GraphStore, rel: RelTable) -> list[dict[str, Any]]:
    """Every edge of ``rel`` as ``{from, src, to, dst, property: value}`` (the ends by their keys)."""
    out: list[dict[str, Any]] = []
    for a, b in rel.ends:
        src, dst = NODES[a], NODES[b]
        props = "".join(f", r.{p} AS {p}" for p in rel.props)
        query = f"MATCH (a:{a})-[r:{rel.type}]->(b:{b}) RETURN a.{src.key} AS src, b.{dst.key} AS dst{props}"
        out += [{"from": a, "to": b, **row} for row in store.query(query)]
    return out


def tables_with_data(store: GraphStore) -> list[str]:
    """The labels of the node tables that hold at least one node."""
    return [t.label for t in NODE_TABLES if store.query(f"MATCH (n:{t.label}) RETURN n.{t.key} AS k LIMIT 1")]


def delete_edges(store: GraphStore, rel: RelTable) -> None:
    """Every edge of ``rel`` gone, in batches (one transaction each)."""
    while store.execute(f"MATCH ()-[r:{rel.type}]->() WITH r LIMIT $n DELETE r RETURN count(*) AS n",
                        {"n": BATCH})[0]["n"]:
        pass


def delete_nodes(store: GraphStore, table: NodeTable) -> None:
    """Every node of ``table`` (one without edges) gone, in batches."""
    while store.execute(f"MATCH (c:{table.label}) WITH c LIMIT $n DELETE c RETURN count(*) AS n",
                        {"n": BATCH})[0]["n"]:
        pass
