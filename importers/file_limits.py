"""What one import file may hold, checked from the file's own structure before it is read.

The spreadsheet reader (Rust calamine) builds the first sheet as one rectangle from A1 to the
last cell it finds: a workbook whose only cells are A1 and XFD1048576, 1.5 KB on disk, asks for
17 billion cells (~550 GB) and the process aborts, so no handler can answer. A zip whose sheet
unpacks to a gigabyte keeps the reader busy for a minute and takes gigabytes of memory. Both are
visible cheaply before anything is read:

* the zip's central directory declares every part's packed and unpacked size: too many parts,
  too much unpacked in all, or a part that unpacks more than :attr:`FileLimits.max_ratio` times
  its packed size (honest sheets: ~10×; bombs: hundreds to a thousand times) refuse the file. The
  reader's zip library stops at a part's declared size ("File is larger than its declared
  uncompressed size"), so a directory that lies about sizes cannot get more past the reader;
* the first sheet's ``<dimension ref="A1:K700">`` gives the rectangle the reader will build:
  rows × columns beyond :attr:`FileLimits.max_cells` refuse the file.

A dimension can be missing or lie (Apache POI's streaming writer always writes ``A1``, so a small
one is no reason to refuse). What gets past these checks is bounded by the child process the
service reads uploads in (:mod:`importers.sandbox`). CSV files are bounded while they are parsed
(:func:`importers.readers.read_table`): cells, columns and NUL characters.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from importers.contract import Code

if TYPE_CHECKING:
    from graph_schema.settings import Settings

__all__ = ["FileLimits", "Refused", "check_workbook", "sheet_area"]

MIB = 1024 * 1024
RATIO_FLOOR = MIB  # parts smaller than this may compress as well as they like (styles, themes)
DIMENSION_WINDOW = 64 * 1024  # the dimension comes before the sheet's data, within its first bytes
_DIMENSION_RE = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA_RE = re.compile(rb"<(?:[\w.-]+:)?sheetData\b")
_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


@dataclass(frozen=True)
class FileLimits:
    """The limits one import file is read under (the ``JIEDUI_IMPORT_*`` settings).

    The first five bound what the file's structure may declare; the last three bound the child
    process that reads an upload to the service (:mod:`importers.sandbox`).
    """

    max_cells: int
    max_columns: int
    max_unpacked_mb: int
    max_ratio: int
    max_parts: int
    memory_mb: int
    cpu_seconds: int
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> FileLimits:
        # imported here: the reading child (importers.sandbox) gets its limits from its parent and
        # starts ~0.1 s sooner without pydantic-settings
        from graph_schema.settings import get_settings

        s = settings or get_settings()
        return cls(s.import_max_cells, s.import_max_columns, s.import_max_unpacked_mb, s.import_max_ratio,
                   s.import_max_parts, s.import_memory_mb, s.import_cpu_seconds, s.import_timeout_seconds)


class Refused(Exception):
    """The file is refused as a whole; the reader turns this into its ``ReadError``."""

    def __init__(self, code: Code, zh: str, en: str) -> None:
        self.code, self.zh, self.en = code, zh, en
        super().__init__(f"{zh} / {en}")


def _too_large(zh: str, en: str) -> Refused:
    return Refused(Code.FILE_TOO_LARGE, f"文件超出导入限制，未读取：{zh}",
                   f"the file exceeds an import limit and was not read: {en}")


def _damaged(zh: str, en: str) -> Refused:
    return Refused(Code.UNREADABLE, f"无法读取 Excel 文件（文件已损坏或被篡改）：{zh}",
                   f"cannot read the workbook (it is damaged or forged): {en}")


def check_workbook(path: Path, limits: FileLimits) -> None:
    """Refuse an ``.xlsx``/``.xlsm`` whose zip directory or first sheet's dimension goes beyond
    ``limits`` (:class:`Refused`); a file that is not a zip at all is left to the reader, which
    reports it as damaged."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with book:
        parts = book.infolist()
        if len(parts) > limits.max_parts:
            raise _too_large(f"压缩包内有 {len(parts):,} 个部件，最多 {limits.max_parts:,} 个",
                             f"the workbook's zip holds {len(parts):,} parts, at most {limits.max_parts:,}")
        repeated = sorted(name for name, times in Counter(p.filename for p in parts).items() if times > 1)[:3]
        if repeated:
            raise _damaged(f"部件名重复：{'、'.join(repeated)}", f"repeated part names: {', '.join(repeated)}")
        unpacked = sum(p.file_size for p in parts)
        if unpacked > limits.max_unpacked_mb * MIB:
            raise _too_large(f"解压后共 {unpacked / MIB:,.0f} MB，最多 {limits.max_unpacked_mb:,} MB",
                             f"its parts unpack to {unpacked / MIB:,.0f} MB, at most {limits.max_unpacked_mb:,} MB")
        for part in parts:
            if part.file_size > RATIO_FLOOR and part.file_size > limits.max_ratio * max(part.compress_size, 1):
                ratio = part.file_size / max(part.compress_size, 1)
                raise _too_large(
                    f"部件「{part.filename}」压缩了 {ratio:,.0f} 倍（{part.compress_size:,} 字节解压为 "
                    f"{part.file_size / MIB:,.0f} MB），最多 {limits.max_ratio} 倍：这是压缩炸弹的特征",
                    f"part '{part.filename}' is compressed {ratio:,.0f} times ({part.compress_size:,} bytes unpack "
                    f"to {part.file_size / MIB:,.0f} MB), at most {limits.max_ratio} times: the mark of a zip bomb")
        sheet = _first_sheet(book)
        area = sheet_area(_dimension(book, sheet)) if sheet else None
        if area is not None and area[0] * area[1] > limits.max_cells:
            rows, columns = area
            raise _too_large(
                f"第一个工作表的使用区域为 {rows:,} 行 × {columns:,} 列 = {rows * columns:,} 个单元格，最多 "
                f"{limits.max_cells:,} 个；请删除数据以外的空行空列，或另存为 CSV",
                f"the first sheet's used area is {rows:,} rows × {columns:,} columns = {rows * columns:,} cells, "
                f"at most {limits.max_cells:,}; delete the empty rows and columns beyond the data, or save it as CSV")


def _first_sheet(book: zipfile.ZipFile) -> str | None:
    """The zip name of the workbook's first sheet (the one the reader reads), by
    ``xl/workbook.xml`` and its relationships; None when they do not say."""
    rel_id = None
    for _, element in _elements(book, "xl/workbook.xml"):
        if _local(element.tag) == "sheet":
            rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id" and k.startswith("{")), None)
            break
    if rel_id is None:
        return None
    for _, element in _elements(book, "xl/_rels/workbook.xml.rels"):
        if _local(element.tag) == "Relationship" and element.get("Id") == rel_id:
            target = element.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return None


def _elements(book: zipfile.ZipFile, name: str):
    """Start events of a small part, streamed (expat refuses entity expansion bombs)."""
    try:
        with book.open(name) as stream:
            yield from ElementTree.iterparse(stream, events=("start",))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _dimension(book: zipfile.ZipFile, name: str) -> str | None:
    """The ``ref`` of the sheet's ``<dimension>`` element, from its first bytes only."""
    try:
        with book.open(name) as stream:
            head = stream.read(DIMENSION_WINDOW)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return None
    data = _SHEET_DATA_RE.search(head)
    found = _DIMENSION_RE.search(head, 0, data.start() if data else len(head))
    return found.group(1).decode("ascii", "replace") if found else None


def sheet_area(ref: str | None) -> tuple[int, int] | None:
    """(rows, columns) of the rectangle from A1 to a dimension's last cell, None if unreadable.

    >>> sheet_area("A1:XFD1048576")
    (1048576, 16384)
    >>> sheet_area("B3:K700"), sheet_area("A1"), sheet_area("$A$1:$C$9"), sheet_area("junk")
    ((700, 11), (1, 1), (9, 3), None)
    """
    if not ref:
        return None
    last = _REF_RE.fullmatch(ref.strip().split(":")[-1])
    if last is None:
        return None
    column = 0
    for letter in last.group(1).upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(last.group(2)), column
