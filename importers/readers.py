"""Reading an organiser's spreadsheet into a plain table of raw cells.

The readers decide nothing about meaning — that is for :mod:`importers.cells` and the mappers —
but they absorb what real files do before the first data row:

* the encoding is detected, never asked for: clerks cannot tell UTF-8 from GBK, and Excel on a
  Chinese Windows saves CSV as GBK while WPS and web exports write UTF-8 (often with a BOM);
* the header row is found, not assumed to be row 1: sheets often carry a merged title row
  ("某某县残疾人家庭名册") or a note above the headers;
* row numbers are those the spreadsheet shows, blank rows and title rows included, so that a
  report saying "第 12 行" points at the row the clerk sees.

They also refuse a file beyond the import limits before it can exhaust the process
(:mod:`importers.file_limits`): a workbook by its zip directory and dimension, a CSV while it is
parsed (cells, columns, NUL characters).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook

from importers.cells import halfwidth
from importers.contract import Code
from importers.file_limits import FileLimits, Refused, check_workbook

__all__ = ["Table", "ReadError", "normalise_header", "read_table", "CSV_SUFFIXES", "EXCEL_SUFFIXES"]

CSV_SUFFIXES = frozenset({".csv", ".txt"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})

HEADER_SEARCH_ROWS = 20  # title and note rows above the headers rarely exceed a handful
MIN_HEADER_HITS = 2  # one matching word could be a title such as "户编号"; two make a header row
_DELIMITERS = (",", ";", "\t")  # in order of preference when more than one fits equally well
# Python's csv module refuses a field over 128 KiB and would reject the whole file for one pasted
# cell; a cell that long is rejected by its own row instead (the cell rules cap text at 200
# characters), so the reader lets any cell through that fits in the file (files are read whole).
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


@dataclass
class Table:
    """The first sheet (or the CSV file) as raw cells under its header row.

    ``rows`` holds ``(row number, cells)``: the number is the one the spreadsheet shows (1-based,
    counting title and blank rows), the cells are exactly as read and padded with ``None`` or cut
    to ``len(headers)``. Completely empty rows are left out but still counted.
    """

    path: Path
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[object]]] = field(default_factory=list)
    encoding: str | None = None  # the CSV encoding detected; None for a workbook


class ReadError(Exception):
    """A whole file could not be read (``UNREADABLE``) or is not a contract file (``UNKNOWN_FILE``)."""

    def __init__(self, code: Code, zh: str, en: str, path: Path) -> None:
        self.code = code
        self.zh = zh
        self.en = en
        self.path = path
        super().__init__(f"{zh} / {en}")

    def __reduce__(self):  # keep the exception picklable despite the custom signature
        return (type(self), (self.code, self.zh, self.en, self.path))


# ---------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------

_WHITESPACE_RE = re.compile(r"[\s\u200b\ufeff]+")
# A unit or an English gloss in brackets after the name: 年人均纯收入（元）, 户编号(Household No).
_TRAILING_BRACKETS_RE = re.compile(r"\([^()]*\)$")


def normalise_header(text: str) -> str:
    """The header as the contract names it: " 户编号* " → "户编号", "年人均纯收入（元）" → "年人均纯收入".

    All whitespace goes, including line breaks inside a wrapped header cell; required-field
    markers ``*`` and the trailing unit are decoration that templates add and clerks copy.
    """
    result = _WHITESPACE_RE.sub("", halfwidth(text))  # ＊ and （） become * and () here
    result = result.strip("*")
    without_unit = _TRAILING_BRACKETS_RE.sub("", result)
    if without_unit:  # a header that is only a bracketed word stays as it is
        result = without_unit.strip("*")
    return result


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _find_header(rows: Iterable[list[object]], known: set[str]) -> tuple[int, int] | None:
    """(0-based index, hits) of the row naming the most known headers among the first rows."""
    best: tuple[int, int] | None = None
    for index, row in enumerate(itertools.islice(rows, HEADER_SEARCH_ROWS)):
        names = {normalise_header(_header_text(cell)).lower() for cell in row}
        hits = len(names & known)
        if hits >= MIN_HEADER_HITS and (best is None or hits > best[1]):
            best = (index, hits)
    return best


def _empty(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not _WHITESPACE_RE.sub("", cell))


def _build(path: Path, rows: list[list[object]], known_headers: Collection[str],
           encoding: str | None) -> Table:
    known = {normalise_header(h).lower() for h in known_headers}
    found = _find_header(rows, known)
    if found is None:
        raise ReadError(
            Code.UNKNOWN_FILE,
            f"无法识别文件「{path.name}」：前 {HEADER_SEARCH_ROWS} 行中没有包含至少 {MIN_HEADER_HITS} 个"
            f"模板列名的表头行",
            f"cannot recognise '{path.name}': none of the first {HEADER_SEARCH_ROWS} rows is a header row "
            f"with at least {MIN_HEADER_HITS} of the template's column names",
            path,
        )
    index = found[0]
    headers = [normalise_header(_header_text(cell)) for cell in rows[index]]
    while headers and not headers[-1]:  # formatting often widens a sheet past its last column
        headers.pop()
    width = len(headers)
    table = Table(path, index + 1, headers, encoding=encoding)
    for number, row in enumerate(rows[index + 1:], index + 2):
        cells = list(row[:width]) + [None] * (width - len(row))
        if all(_empty(cell) for cell in cells):
            continue
        table.rows.append((number, cells))
    return table


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """(text, encoding): a BOM decides; otherwise strict UTF-8, then strict GB18030.

    UTF-8 goes first because GB18030 decodes almost any byte sequence, while Chinese text in
    GBK is practically never valid UTF-8. GB18030 rather than GBK because it is a superset: the
    rare characters in names (䶮, 𠀀) that GBK cannot hold still decode.
    """
    if data.startswith(_UTF8_BOM):
        candidates = ("utf-8-sig",)
    elif data.startswith(_UTF16_BOMS):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError(
        Code.UNREADABLE,
        "无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV，或 Excel 文件（.xlsx）",
        "cannot decode the file: save it as CSV in UTF-8 or GBK, or as an Excel workbook (.xlsx)",
        path,
    )


def _parse(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _bounded(rows: Iterator[list[str]], limits: FileLimits) -> Iterator[list[str]]:
    """The rows, refused (:class:`Refused`) as soon as one is wider than ``max_columns`` or all
    of them so far hold more than ``max_cells`` cells: a CSV has no header that declares its
    size, so it is counted as it is parsed, before the rows can fill the memory."""
    cells = 0
    for number, row in enumerate(rows, 1):
        cells += len(row)
        if len(row) > limits.max_columns:
            raise Refused(Code.FILE_TOO_LARGE,
                          f"文件超出导入限制，未读取：第 {number} 行有 {len(row):,} 列，最多 {limits.max_columns:,} 列",
                          f"the file exceeds an import limit and was not read: row {number} has {len(row):,} "
                          f"columns, at most {limits.max_columns:,}")
        if cells > limits.max_cells:
            raise Refused(Code.FILE_TOO_LARGE,
                          f"文件超出导入限制，未读取：超过 {limits.max_cells:,} 个单元格",
                          f"the file exceeds an import limit and was not read: more than {limits.max_cells:,} cells")
        yield row


def _sniff_delimiter(text: str, known: set[str], width: int) -> str:
    """The delimiter under which the first lines show the best header row.

    Judging by the headers is more reliable than ``csv.Sniffer``, which is easily misled by
    Chinese text and by a ";" used as a list separator inside a cell. Only the first ``width``
    cells of a line are looked at: a line wider than that is refused when the file is parsed.
    """
    best, best_hits = _DELIMITERS[0], 0
    for delimiter in _DELIMITERS:
        try:
            found = _find_header((row[:width] for row in _parse(text, delimiter)), known)
        except csv.Error:
            continue
        if found is not None and found[1] > best_hits:
            best, best_hits = delimiter, found[1]
    return best


def _read_csv(path: Path, known_headers: Collection[str], limits: FileLimits) -> Table:
    try:
        data = path.read_bytes()  # read at once: nothing stays open after return
    except OSError as exc:
        raise ReadError(Code.UNREADABLE, f"无法打开文件：{exc.strerror or exc}",
                        f"cannot open the file: {exc.strerror or exc}", path) from exc
    text, encoding = _decode(path, data)
    del data  # the text alone from here on
    if "\x00" in text:  # no spreadsheet writes one; UTF-16 without a BOM and binary files do
        raise ReadError(Code.UNREADABLE, "文件含有 NUL 字符，不是文本格式的 CSV：请另存为 UTF-8 或 GBK 编码的 CSV",
                        "the file contains NUL characters, so it is not a text CSV: save it as CSV in UTF-8 or GBK",
                        path)
    delimiter = _sniff_delimiter(text, {normalise_header(h).lower() for h in known_headers}, limits.max_columns)
    reader = _parse(text, delimiter)
    try:
        rows: list[list[object]] = list(_bounded(reader, limits))
    except csv.Error as exc:
        line = getattr(reader, "line_num", 0)
        raise ReadError(Code.UNREADABLE, f"CSV 格式错误（第 {line} 行）：{exc}",
                        f"malformed CSV (line {line}): {exc}", path) from exc
    except Refused as exc:
        raise ReadError(exc.code, exc.zh, exc.en, path) from None
    return _build(path, rows, known_headers, encoding)


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------


def _unreadable_workbook(path: Path, exc: Exception) -> ReadError:
    cause = str(exc) or type(exc).__name__
    return ReadError(
        Code.UNREADABLE,
        f"无法读取 Excel 文件（文件可能已损坏、未完整保存或设置了密码）：{cause}",
        f"cannot read the workbook (it may be damaged, incompletely saved or password-protected): {cause}",
        path,
    )


def _read_excel(path: Path, known_headers: Collection[str], limits: FileLimits) -> Table:
    if path.suffix.lower() != ".xls":  # .xlsx and .xlsm are zips; .xls (BIFF) has no such structure
        try:
            check_workbook(path, limits)
        except Refused as exc:
            raise ReadError(exc.code, exc.zh, exc.en, path) from None
    # calamine raises its own error types (zip, XML, password …) and occasionally plain
    # ValueError/OSError; whichever it is, the clerk's remedy is the same: re-save the file.
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from exc
    try:
        if not book.sheet_names:
            rows: list[list[object]] = []
        else:
            # skip_empty_area=False keeps leading blank rows and columns so that numbers match
            # what Excel shows; the default would start at the first non-empty cell.
            rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from exc
    finally:
        book.close()
    if all(all(_empty(cell) for cell in row) for row in rows):
        raise ReadError(
            Code.UNKNOWN_FILE,
            f"文件「{path.name}」的第一个工作表是空的",
            f"the first sheet of '{path.name}' is empty",
            path,
        )
    return _build(path, rows, known_headers, None)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def read_table(path: str | Path, known_headers: Collection[str], limits: FileLimits | None = None) -> Table:
    """Read a CSV file or the first sheet of a workbook, starting at its header row.

    ``known_headers`` are the column names that may appear (Chinese headers and English
    aliases, compared case-insensitively); the header row is the one among the first 20 rows
    that contains most of them, at least two. ``limits`` (default: the settings') bound what
    the file may hold (``FILE_TOO_LARGE`` beyond).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    limits = limits or FileLimits.from_settings()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, known_headers, limits)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, known_headers, limits)
    raise ReadError(
        Code.UNKNOWN_FILE,
        f"不支持的文件类型「{path.name}」：只能导入 .csv、.txt、.xlsx、.xlsm 或 .xls 文件",
        f"unsupported file type '{path.name}': only .csv, .txt, .xlsx, .xlsm and .xls files can be imported",
        path,
    )
