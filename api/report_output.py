"""A monitoring report's rows and their files, shared by ``jiedui report`` and ``GET /reports/{name}``.

Both answer the same question the same way: one page of rows, or every row for an export, written
as JSON (snake_case keys), CSV (UTF-8 with a BOM, so Excel opens it in Chinese) or XLSX, under the
report's Chinese column titles.

Money is stored and answered in JSON in fen (integers, exact); the files people read show it in
yuan with two decimals, under a title that says 元: a field named ``*_fen`` is money. Time is
alike: a field named ``*_minutes`` is answered in minutes and read in hours, one decimal, under a
title that says 小时.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from enum import Enum
from pathlib import Path
from typing import IO, Any

import xlsxwriter

from graph_schema.monitoring.common import Report, as_dict
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore
from importers.csv_escape import SafeWriter

ALL_PAGE = 1000
"""The largest page a caller may ask for (an export fetches every row in one run instead)."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_rows(report: Report, store: GraphStore, region: str, options: dict, page: int | None = None,
                page_size: int = 50) -> list[Any]:
    """The rows of one page, or every row when no page is named: a first page tells the total,
    and one more run fetches them all (most reports compute every row of the scope per run, so
    paging through an export would repeat that work for each page)."""
    if page is not None:
        return report.run(store=store, region=region, page=PageRequest(page, page_size, ALL_PAGE), **options).items
    first = report.run(store=store, region=region, page=PageRequest(1, ALL_PAGE, ALL_PAGE), **options)
    if first.total <= len(first.items):
        return first.items
    return report.run(store=store, region=region, page=PageRequest(1, first.total, first.total), **options).items


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: lists joined, booleans and dates in words."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return "、".join(str(cell(v)) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def jsonable(value: Any) -> Any:
    """``json.dumps``'s ``default``: dates as ISO text, enums as their values."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(type(value).__name__)


MONEY = "_fen"
TIME = "_minutes"


def header(report: Report, field: str) -> str:
    """A column's title as people read it (money in 元, time in 小时, see the module docstring)."""
    title = report.headers.get(field, field)
    if field.endswith(TIME):
        return title.replace("分钟）", "小时）")
    return title.replace("（分）", "（元）") if field.endswith(MONEY) else title


def headers(report: Report) -> list[str]:
    return [header(report, f) for f in report.fields]


def yuan(fen: int) -> str:
    """12345 → "123.45" (integer arithmetic: exact)."""
    sign, (whole, cents) = ("-" if fen < 0 else ""), divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def hours(minutes: int) -> str:
    """90 → "1.5" (hours, one decimal)."""
    return f"{minutes / 60:.1f}"


def human_cells(row: Any) -> list[Any]:
    """A row's cells as people read them: :func:`cell`, money in yuan and time in hours."""
    return [yuan(v) if f.endswith(MONEY) and isinstance(v, int) else hours(v) if f.endswith(TIME) and isinstance(v, int)
            else cell(v) for f, v in as_dict(row).items()]


def json_text(rows: list[Any]) -> str:
    return json.dumps([as_dict(r) for r in rows], ensure_ascii=False, indent=1, default=jsonable)


def csv_text(report: Report, rows: list[Any]) -> str:
    """The rows as CSV, every cell a spreadsheet might run as a formula escaped (a ledger note or a
    problem number written through the APIs is free text)."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(headers(report))
    writer.writerows(human_cells(r) for r in rows)
    return buffer.getvalue()


def write_xlsx(report: Report, rows: list[Any], out: str | Path | IO[bytes]) -> None:
    """One sheet named after the report; ``out`` is a path or a binary stream."""
    target = str(out) if isinstance(out, (str, Path)) else out
    options = {"strings_to_formulas": False, "strings_to_numbers": False}
    if not isinstance(out, (str, Path)):
        options["in_memory"] = True
    with xlsxwriter.Workbook(target, options) as book:
        sheet = book.add_worksheet(report.name[:31])
        sheet.write_row(0, 0, headers(report), book.add_format({"bold": True}))
        money, time = book.add_format({"num_format": "0.00"}), book.add_format({"num_format": "0.0"})
        for i, r in enumerate(rows, start=1):
            for j, (f, v) in enumerate(as_dict(r).items()):
                if f.endswith(MONEY) and isinstance(v, int):
                    sheet.write_number(i, j, v / 100, money)  # a number Excel adds up, shown as yuan
                elif f.endswith(TIME) and isinstance(v, int):
                    sheet.write_number(i, j, v / 60, time)
                else:
                    sheet.write(i, j, cell(v))


def xlsx_bytes(report: Report, rows: list[Any]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, rows, buffer)
    return buffer.getvalue()
