"""Empty contract files to fill in: one per file of the contract, with its headers in order.

The ``.xlsx`` template has the headers on its first sheet (required ones in bold), every column
formatted as text so that Excel keeps ID numbers and leading zeros as typed, and a second sheet
that lists the columns (required or not, the English names also accepted); the importer reads the
first sheet only. The ``.csv`` template is the header line (UTF-8 with a BOM, so Excel opens it in
Chinese). Named after the contract file (``家庭.xlsx``), a filled template is recognised by its
name as well as by its headers.
"""

from __future__ import annotations

import csv
import io

import xlsxwriter

from importers.contract import FileSpec

NOTES_HEADERS = ["列 column", "必填 required", "也可写作 also accepted"]


def template_xlsx(spec: FileSpec) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False}) as book:
        text = book.add_format({"num_format": "@"})
        required = book.add_format({"bold": True, "num_format": "@"})
        sheet = book.add_worksheet(spec.name)
        for i, column in enumerate(spec.columns):
            sheet.write_string(0, i, column.header, required if column.required else text)
        sheet.set_column(0, len(spec.columns) - 1, 18, text)
        sheet.freeze_panes(1, 0)
        notes = book.add_worksheet("填写说明 notes")
        notes.write_row(0, 0, NOTES_HEADERS, book.add_format({"bold": True}))
        for i, column in enumerate(spec.columns, start=1):
            notes.write_row(i, 0, [column.header, "是 yes" if column.required else "否 no", "、".join(column.aliases)])
        notes.set_column(0, 2, 22)
    return buffer.getvalue()


def template_csv(spec: FileSpec) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(spec.headers)
    return buffer.getvalue().encode("utf-8-sig")
