"""Hostile workbooks, built small with zipfile, for the tests of the import limits.

- :func:`corner`: a workbook whose only cells are A1 and XFD1048576 (~1.5 KB). The reader builds
  the rectangle between them, 17 billion cells (~550 GB), and the process aborts.
- :func:`bomb`: a workbook whose sheet unpacks to ``megabytes`` of rows (~1 MB packed for 128 MB):
  the reader works for many seconds and takes gigabytes.

Each takes the ``<dimension>`` the sheet declares: the true one, a false one (``"A1"``), or none.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def _head(dimension: str | None) -> bytes:
    ref = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{ref}<sheetData>'.encode()


def _inline(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def workbook(path: Path, sheet: Iterable[bytes], *, level: int = 9) -> Path:
    """A one-sheet workbook whose sheet XML is the concatenation of ``sheet``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as book:
        for name, xml in PARTS.items():
            book.writestr(name, xml)
        with book.open("xl/worksheets/sheet1.xml", "w") as out:
            for chunk in sheet:
                out.write(chunk)
    return path


def sheet(path: Path, rows: str, dimension: str | None) -> Path:
    """A workbook whose sheet holds ``rows`` (``<row>`` elements) under ``dimension``."""
    return workbook(path, [_head(dimension), rows.encode(), b"</sheetData></worksheet>"])


def corner(path: Path, dimension: str | None = "A1:XFD1048576") -> Path:
    """Cells A1 (户编号), B1 (户主姓名) and XFD1048576 only."""
    return sheet(path, f'<row r="1">{_inline("A1", "户编号")}{_inline("B1", "户主姓名")}</row>'
                       f'<row r="1048576">{_inline("XFD1048576", "x")}</row>', dimension)


def bomb(path: Path, megabytes: int = 128, dimension: str | None = None) -> Path:
    """A header row, then rows of 16 numeric cells until the sheet holds ``megabytes`` MiB."""
    row = b"<row>" + b"<c><v>1</v></c>" * 16 + b"</row>"
    chunk = row * ((1 << 20) // len(row))
    header = f'<row>{_inline("A1", "户编号")}{_inline("B1", "户主姓名")}</row>'.encode()
    return workbook(path, [_head(dimension), header, *[chunk] * megabytes, b"</sheetData></worksheet>"], level=1)
