"""Rows kept on disk while an import goes on: a file's raw cells, and its accepted records.

The raw cells: the report writes every refused row back as it was read, so the raw cells must outlive the check

The report writes every refused row back as it was read, so the raw cells must outlive the check
phase; but a row may be refused by a later rule (an unknown region or household, the cadre limit),
after the next files have been read. Held in memory, the cells of every file at once are about a
third of an import's memory at city size. A spool writes them to an anonymous temporary file,
pickled in chunks of rows, and keeps only where each chunk starts; the few rows refused later are
read back from their chunks at the end.

The accepted records: a real run checks every file before it writes any (a file that cannot be
read stops the import before a write), but the records of every file at once are most of a
province import's memory. So each file's records wait in a spool of their own from their check
to their write (:meth:`RowSpool.rows`), read back a slice at a time.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from typing import IO

CHUNK_ROWS = 2000  # rows pickled together: one read brings back a refused row with its neighbours


class RowSpool:
    """``(row number, cells)`` pairs written in increasing row order and read back by number."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="jiedui-rows-")
        self._firsts = array("q")  # the first row number of each chunk
        self._offsets = array("q")  # where each chunk starts in the file
        self.count = 0  # rows written

    def write(self, rows: list[tuple[int, list[object]]]) -> None:
        """Append ``rows`` (numbers increasing, after every number written before)."""
        self.count += len(rows)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start:start + CHUNK_ROWS]
            self._firsts.append(chunk[0][0])
            self._offsets.append(self._file.tell())
            pickler = pickle.Pickler(self._file, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.fast = True  # rows share no objects, and the memo would hold every cell
            pickler.dump(chunk)

    def read(self, numbers: set[int]) -> list[tuple[int, list[object]]]:
        """The rows of ``numbers`` that were written, in row order; each chunk is read once."""
        chunks = sorted({bisect_right(self._firsts, n) - 1 for n in numbers} - {-1})
        out: list[tuple[int, list[object]]] = []
        for index in chunks:
            self._file.seek(self._offsets[index])
            out += [(n, cells) for n, cells in pickle.load(self._file) if n in numbers]
        self._file.seek(0, 2)
        return out

    def rows(self) -> Iterator[tuple[int, object]]:
        """Every row written, in the order written, one chunk in memory at a time."""
        for offset in self._offsets:
            self._file.seek(offset)
            yield from pickle.load(self._file)
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()
