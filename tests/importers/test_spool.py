"""The spool of raw cells: rows written in chunks come back by number, as written."""

from __future__ import annotations

import datetime as dt

from importers import spool
from importers.spool import RowSpool


def test_rows_come_back_by_number_across_chunks(monkeypatch):
    monkeypatch.setattr(spool, "CHUNK_ROWS", 3)
    rows = [(n, [f"H{n:04d}", n * 1.5, None, dt.datetime(2024, 1, n % 28 + 1), n % 2 == 0])
            for n in range(2, 40, 3)]  # numbers with gaps, as blank rows leave them
    kept = RowSpool()
    kept.write(rows[:5])
    kept.write(rows[5:])
    assert kept.count == len(rows)
    wanted = {2, 14, 15, 38, 1, 100}  # 15, 1 and 100 were never written
    assert kept.read(wanted) == [row for row in rows if row[0] in wanted]
    assert kept.read(set()) == []
    kept.write([(41, ["after reading"])])
    assert kept.read({41, 2}) == [rows[0], (41, ["after reading"])]
    kept.close()
