"""What the tests of the households' kept values share (tests/graph_schema/test_household_counts.py
and test_household_pairings.py): opening the store again, and a filling killed midway."""

from __future__ import annotations

from types import ModuleType

import pytest

from graph_schema.store.embedded import EmbeddedStore
from graph_schema.store.neo4j import Neo4jStore

#: the batch a killed filling runs in, and the batches it finishes before it is killed
BATCH, DONE = 7, 3


def reopen(engine: str, store, request, tmp_path):
    """The store opened again, as a new process would (its opening fills what is missing)."""
    if engine == "embedded":
        store.close()
        return EmbeddedStore(tmp_path / "store", buffer_pool_mb=512)
    return Neo4jStore(request.getfixturevalue("neo4j_uri"))


def kill_filling(store, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``module.fill`` in batches of :data:`BATCH` households, killed after :data:`DONE` of
    its writes."""
    monkeypatch.setattr(module, "BATCH", BATCH)
    real, writes = store.write, [0]

    def dying(work):
        writes[0] += 1
        if writes[0] > DONE:
            raise KeyboardInterrupt("killed")
        return real(work)

    monkeypatch.setattr(store, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        module.fill(store)
    monkeypatch.setattr(store, "write", real)
