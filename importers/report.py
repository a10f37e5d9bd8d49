"""The import report: what a clerk opens in Excel, fixes, and imports again.

``write_report(path, result)`` writes, as ``.xlsx`` or ``.csv`` after the name given:
- the report itself: one line per problem (file, row as the sheet shows it, column, value, code,
  reason in Chinese and English) and, in the workbook, a summary sheet per file;
- beside it, for each file with rejected rows, ``<report>.<contract name>.<ext>``: those rows as
  they were, under the file's own headers, plus a 错误原因 column. Fixed, it imports as it is
  (the extra column is ignored), because its name still names the contract file.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from importers.csv_escape import SafeWriter
from importers.contract import FileSpec
from importers.engine import FileResult, ImportResult

PROBLEM_HEADERS = ["文件 file", "行号 row", "列 column", "值 value", "代码 code", "原因", "reason"]
SUMMARY_HEADERS = ["文件 file", "类型 kind", "读取行数 read", "新增 created", "更新 updated", "未变 unchanged",
                   "拒绝 rejected"]


def summary_rows(result: ImportResult) -> list[list]:
    return [[f.name, f.spec.name if f.spec else "?", f.rows_read, f.created, f.updated, f.unchanged, f.rejected]
            for f in result.files]


def problem_rows(result: ImportResult) -> list[list]:
    return [[p.file, p.row or "", p.column or "", p.value, p.code, p.reason, p.reason_en] for p in result.problems]


def _rejected_rows(f: FileResult) -> tuple[list[str], list[list]]:
    assert f.table is not None
    by_number = dict(f.table.rows)
    headers = [*f.table.headers, "错误原因"]
    rows = []
    for number in sorted(f.rejected_rows):
        if number not in by_number:
            continue  # refused while writing: its cells were already released (see engine)
        reasons = "；".join(f"{p.column or ''}: {p.reason}" for p in f.rejected_rows[number])
        rows.append([_cell(v) for v in by_number[number]] + [reasons])
    return headers, rows


def _cell(value: object) -> object:
    return "" if value is None else value


def _write(path: Path, sheets: list[tuple[str, list[str], list[list]]]) -> None:
    if path.suffix.lower() == ".xlsx":
        book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
        bold = book.add_format({"bold": True})
        text = book.add_format({"num_format": "@"})
        for name, headers, rows in sheets:
            sheet = book.add_worksheet(name[:31])
            sheet.write_row(0, 0, headers, bold)
            for r, row in enumerate(rows, 1):
                for c, value in enumerate(row):
                    # numbers stay numbers; everything else is text (an ID must never become a float)
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        sheet.write_number(r, c, value)
                    else:
                        sheet.write_string(r, c, str(value), text)
            sheet.freeze_panes(1, 0)
            sheet.set_column(0, len(headers) - 1, 16)
        book.close()
    else:
        name, headers, rows = sheets[0]
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            # a cell Excel would run as a formula (a rejected =HYPERLINK(…) written back) gets a
            # leading apostrophe: opening the report shows the text and runs nothing
            writer = SafeWriter(out)
            writer.writerow(headers)
            writer.writerows(rows)


def rejected_path(report: Path, spec: FileSpec) -> Path:
    """Where :func:`write_report` puts a file's rejected rows, beside the report."""
    return report.with_name(f"{report.stem}.{spec.name}{report.suffix}")


def write_report(path: str | Path, result: ImportResult) -> list[Path]:
    """Write the report and the rejected-rows files; returns every path written."""
    path = Path(path)
    suffix = ".xlsx" if path.suffix.lower() == ".xlsx" else ".csv"
    path = path.with_suffix(suffix)
    sheets = [("问题 problems", PROBLEM_HEADERS, problem_rows(result))]
    if suffix == ".xlsx":
        sheets.append(("汇总 summary", SUMMARY_HEADERS, summary_rows(result)))
    _write(path, sheets)
    written = [path]
    for f in result.files:
        if f.rejected and f.table is not None and f.spec is not None:
            headers, rows = _rejected_rows(f)
            target = rejected_path(path, f.spec)
            _write(target, [(f.spec.name, headers, rows)])
            written.append(target)
    return written
