"""What the tests of the kept values share (tests/graph_schema/test_household_counts.py,
test_household_pairings.py and test_ledger_sums.py): opening the store again, a filling killed
midway, and a restore."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from graph_schema.store.embedded import EmbeddedStore
from graph_schema.store.neo4j import Neo4jStore
from importers.backup import backup, restore

#: the batch a killed filling runs in, and the batches it finishes before it is killed
BATCH, DONE = 7, 3


def reopen(engine: str, store, request, tmp_path):
    """The store opened again, as a new process would (its opening fills what is missing)."""
    if engine == "embedded":
        store.close()
        return EmbeddedStore(tmp_path / "store", buffer_pool_mb=512)
    return Neo4jStore(request.getfixturevalue("neo4j_uri"))


def kill_filling(store, module: ModuleType, monkeypatch: pytest.MonkeyPatch, done: int = DONE) -> None:
    """Run ``module.fill`` (in batches of :data:`BATCH` households, where it fills by household),
    killed after ``done`` of its writes."""
    if hasattr(module, "BATCH"):
        monkeypatch.setattr(module, "BATCH", BATCH)
    real, writes = store.write, [0]

    def dying(work):
        writes[0] += 1
        if writes[0] > done:
            raise KeyboardInterrupt("killed")
        return real(work)

    monkeypatch.setattr(store, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        module.fill(store)
    monkeypatch.setattr(store, "write", real)


def assert_restored(engine: str, store, tmp_path, values: str, wrong: Callable) -> None:
    """Back ``store`` up and restore it (into a new embedded store, or the Neo4j one wiped): the
    restored store has no household ``wrong`` finds, and the kept ``values`` (a query) as before."""
    before = store.query(values)
    backup(store, tmp_path / "backup")
    if engine == "embedded":
        target = EmbeddedStore(tmp_path / "restored", buffer_pool_mb=512)
    else:
        store.wipe()
        target = store
    try:
        restore(target, tmp_path / "backup")
        assert target.read(wrong) == []
        assert target.query(values) == before
    finally:
        if target is not store:
            target.close()
