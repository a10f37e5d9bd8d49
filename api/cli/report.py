"""``jiedui report NAME``: any monitoring report as a table, JSON, CSV or XLSX."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import StoreOption, cli_store, console, err, fail
from api.report_output import ALL_PAGE, csv_text, header, human_cells, json_text, report_rows, write_xlsx
from graph_schema.errors import JieduiError
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.certificates import record_reminders
from graph_schema.monitoring.common import Report
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore

FORMATS = ("table", "json", "csv", "xlsx")


def report_command(
    name: Annotated[str, typer.Argument(help=f"报表 / report: {' | '.join(REPORTS)}", show_default=False)],
    region: Annotated[str, typer.Option("--region", help="区划代码（2/4/6/9/12位）/ region code, any level")],
    as_of: Annotated[dt.datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="截止日期，默认今天 / as of this date (default today)")] = None,
    period_start: Annotated[dt.datetime | None, typer.Option(
        "--from", formats=["%Y-%m-%d"], help="统计期开始，默认当年1月1日 / period start (default 1 January)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv | xlsx")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件 / output file")] = None,
    page: Annotated[int | None, typer.Option("--page", min=1, help="页码；导出时默认全部 / page (exports: all)")] = None,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=ALL_PAGE, help="每页条数 / rows per page")] = 50,
    store: StoreOption = None,
) -> None:
    """监测预警与统计报表 / monitoring lists and statistics."""
    report = REPORTS.get(name)
    if report is None or fmt not in FORMATS:
        err.print(f"[red]未知报表或格式 / unknown report or format: {name} {fmt}[/red]\n"
                  f"报表 reports: {', '.join(REPORTS)} · 格式 formats: {', '.join(FORMATS)}")
        raise typer.Exit(2)
    if fmt == "xlsx" and out is None:
        err.print("[red]xlsx 需要 --out 文件 / xlsx needs --out FILE[/red]")
        raise typer.Exit(2)
    options = {"as_of": as_of.date() if as_of else None}
    if report.ranged:
        options["period_start"] = period_start.date() if period_start else None
    with cli_store(store) as s:
        try:
            if fmt == "table":
                _print_table(report, s, region, options, PageRequest(page or 1, page_size, ALL_PAGE))
                return
            rows = report_rows(report, s, region, options, page, page_size)
        except JieduiError as exc:
            raise fail(exc) from exc
    _write(report, rows, fmt, out)


def _write(report: Report, rows: list, fmt: str, out: Path | None) -> None:
    if fmt == "xlsx":
        write_xlsx(report, rows, out)
        console.print(f"已写入 / written: {out}（{len(rows)} 行 rows）")
        return
    text = json_text(rows) if fmt == "json" else csv_text(report, rows)
    if out is None:
        print(text)
    else:
        out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        console.print(f"已写入 / written: {out}（{len(rows)} 行 rows）")


def _print_table(report: Report, store: GraphStore, region: str, options: dict, page: PageRequest) -> None:
    result = report.run(store=store, region=region, page=page, **options)
    table = Table(title=f"{report.title}（{region} · {options.get('as_of') or dt.date.today()}）",
                  caption=f"第 {result.page}/{result.pages} 页 · 共 {result.total} 条 / page {result.page} of "
                          f"{result.pages}, {result.total} rows")
    for f in report.fields:
        table.add_column(header(report, f), overflow="fold")
    for r in result.items:
        table.add_row(*(str(v) for v in human_cells(r)))
    console.print(table)


def remind_command(
    region: Annotated[str, typer.Option("--region", help="区划代码 / region code")],
    ids: Annotated[list[str] | None, typer.Option(
        "--id", help="只记录这些身份证号（可重复）/ only these ID numbers")] = None,
    as_of: Annotated[dt.datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="提醒日期，默认今天 / reminder date (default today)")] = None,
    note: Annotated[str | None, typer.Option("--note", help="备注，如提醒方式 / note, e.g. how")] = None,
    store: StoreOption = None,
) -> None:
    """记录已发出的证件到期提醒（6个月、1个月各一次）/ record the certificate-expiry reminders now due."""
    with cli_store(store) as s:
        try:
            count = record_reminders(store=s, region=region, as_of=as_of.date() if as_of else None,
                                     id_numbers=ids, note=note)
        except JieduiError as exc:
            raise fail(exc) from exc
    console.print(f"已记录提醒 / reminders recorded: {count}")
