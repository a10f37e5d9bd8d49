"""Open the store a target names: a directory means embedded LadybugDB, a Bolt URI means Neo4j."""

from __future__ import annotations

from graph_schema.settings import Settings, get_settings
from graph_schema.store.base import Dialect, GraphStore, Tx

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")

__all__ = ["Dialect", "GraphStore", "Tx", "is_neo4j_uri", "open_store"]


def is_neo4j_uri(target: str) -> bool:
    return target.lower().startswith(NEO4J_SCHEMES)


def open_store(target: str | None = None, settings: Settings | None = None) -> GraphStore:
    """The store named by ``target`` (else ``JIEDUI_STORE``), schema ensured."""
    settings = settings or get_settings()
    target = target or settings.store
    if is_neo4j_uri(target):
        from graph_schema.store.neo4j import Neo4jStore

        return Neo4jStore(target, user=settings.neo4j_user, password=settings.neo4j_password,
                          database=settings.neo4j_database,
                          max_retry_seconds=settings.neo4j_max_retry_seconds,
                          reads_at_once=settings.neo4j_reads_at_once)
    from graph_schema.store.embedded import EmbeddedStore

    return EmbeddedStore(target, buffer_pool_mb=settings.embedded_buffer_pool_mb,
                         query_threads=settings.embedded_query_threads,
                         checkpoint_writes=settings.embedded_checkpoint_writes,
                         reopen_writes=settings.embedded_reopen_writes)
