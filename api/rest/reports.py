"""Monitoring reports: the catalogue, and any report for a region of the caller's jurisdiction as a
JSON page or, as CSV or XLSX, every row in one download (the same files ``jiedui report`` writes).

Organisers and portals only; the reports that name persons with their needs (unmet needs, overdue
referrals) organisers only. Report rows never carry a full ID number (the reports that name
persons show them masked, for every role); the other personal columns follow the privacy policy
(``graph_schema/access/privacy.py``) in every format: a withheld column stays, empty. The
households a report names are recorded as read.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.auth import ORGANISERS, READERS, Caller, caller
from api.report_output import ALL_PAGE, csv_text, report_rows, xlsx_bytes
from api.rest import schemas
from api.rest.inputs import Day
from api.rest.schemas import ERRORS, PageQ, PageSizeQ, RegionQ
from graph_schema.access import privacy
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.identifiers import normalize_region_code, region_prefix
from graph_schema.models import today
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.common import Report, as_dict, households_named
from graph_schema.pagination import PageRequest

router = APIRouter(tags=["reports 报表"], responses=ERRORS)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportInfo(BaseModel):
    name: str
    title: str
    fields: list[str]
    headers: dict[str, str]  # field → Chinese column title
    ranged: bool  # takes a period: ``from`` … ``as_of``


class ReportPage(BaseModel):
    report: str
    title: str
    region: str
    as_of: dt.date
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    pages: int


@router.get("/reports", response_model=list[ReportInfo])
def catalogue(who: Annotated[Caller, Depends(caller)]) -> list[dict]:
    """报表目录 / the monitoring reports, with their columns."""
    who.require(READERS, "查看报表", "read reports")
    return [{"name": r.name, "title": r.title, "fields": r.fields,
             "headers": {f: r.headers.get(f, f) for f in r.fields}, "ranged": r.ranged} for r in REPORTS.values()
            if who.user.role in readers(r)]


def readers(report: Report) -> tuple:
    """Who may read a report: those naming persons with their needs are for organisers only."""
    return ORGANISERS if report.organisers_only else READERS


@router.get("/reports/{name}", response_model=ReportPage,
            responses={200: {"content": {"text/csv": {}, XLSX: {}},
                             "description": "JSON 一页；csv/xlsx 为全部行的下载 / a JSON page, or every row as a file"}})
def report(name: Annotated[str, Path(description=f"报表名 / report: {' | '.join(REPORTS)}")],
           who: Annotated[Caller, Depends(caller)],
           region: RegionQ = None,
           as_of: Annotated[Day | None, Query(description="截止日期，默认今天 / as of (default today)")] = None,
           period_start: Annotated[Day | None, Query(alias="from", description=(
               "统计期开始（区间报表），默认当年1月1日 / period start (ranged reports), default 1 January"))] = None,
           fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json",
           page: PageQ = 1, page_size: PageSizeQ = 50) -> Any:
    """一个监测报表 / one monitoring report (see the catalogue for its columns)."""
    who.require(READERS, "查看报表", "read reports")
    found = REPORTS.get(name)
    if found is None:
        raise NotFound("报表", "report", name)
    who.require(readers(found), f"查看报表「{found.name}」", f"read the report {found.name}")
    where = who.scope.region(region)
    options: dict[str, Any] = {"as_of": as_of}
    if found.ranged:
        if period_start and period_start > (as_of or today()):
            raise InvalidValue("from", period_start.isoformat(), "统计期开始晚于截止日期",
                               "the period starts after as_of", code="PERIOD_ORDER")
        options["period_start"] = period_start
    if fmt == "json":
        result = who.report(found, where, PageRequest(page, page_size, ALL_PAGE), **options)
        who.read("household", [no for r in result.items for no in households_named(r)])
        return {"report": found.name, "title": found.title, "region": where, "as_of": as_of or today(),
                "items": [as_dict(r) for r in result.items], "total": result.total, "page": result.page,
                "page_size": result.page_size, "pages": result.pages}
    rows = privacy.report_rows(found.name, report_rows(found, who.store, where, options), who.user)
    who.read("household", [no for r in rows for no in households_named(r)])
    # the code as digits: a full-width code (accepted as the region) would not fit in a header
    stem = f"{found.name}-{region_prefix(normalize_region_code(where))}-{(as_of or today()).isoformat()}"
    if fmt == "csv":
        return Response(csv_text(found, rows).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    return Response(xlsx_bytes(found, rows), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})


schemas.summarise(router)
