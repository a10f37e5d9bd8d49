"""Imports over HTTP: upload the contract files, get the import report as JSON and as a file.

The uploads are saved, run through the same :func:`importers.engine.run_import` as ``jiedui import``
and kept as ``api/import_runs.py`` (shared with the console) describes; an organiser's import is
bounded to their region (rows outside it are rejected as row problems).

Upload size is bounded (``JIEDUI_MAX_UPLOAD_MB``, 413 beyond): the declared length is checked
before anything is read, and the body is counted as it arrives, so an oversize upload is cut off
rather than spooled to disk. The caller's token and role are checked before the body is read too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.auth import API, ORGANISERS, Caller, caller, services
from api.import_runs import (MAX_FILES, Kept, archive, file_names, run_saved, save_uploads, start_import,
                              upload_limit)
from api.jobs import Job, State, runner
from api.rest import schemas
from api.rest.inputs import Flag
from api.rest.schemas import ERRORS, ErrorOut
from graph_schema.access.service import Forbidden


def _too_large(request: Request, limit: int) -> JSONResponse:
    size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} 字节 bytes"
    rid = getattr(request.state, "request_id", None)
    return JSONResponse({"code": "UPLOAD_TOO_LARGE", "message": f"上传文件过大（上限 {size}）",
                         "message_en": f"the upload is too large (limit {size})", "limit_bytes": limit}
                        | ({"request_id": rid} if rid else {}), status_code=status.HTTP_413_CONTENT_TOO_LARGE)


class BoundedUpload(APIRoute):
    """A route whose request body is refused beyond :func:`upload_limit` (413), and whose caller
    is checked before the body is read: a refused upload costs neither disk nor time."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            if request.method != "POST":
                return await handler(request)
            header = request.headers.get("authorization", "")
            token = header[7:].strip() if header[:7].lower() == "bearer " else None
            user = await run_in_threadpool(services(request).tokens.user, token)
            if user.role not in ORGANISERS:
                raise Forbidden(user.role, "导入数据", "import data")
            limit = upload_limit(request)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return _too_large(request, limit)
            seen = 0
            receive = request.receive

            async def counted() -> dict:
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > limit:
                        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "upload too large")
                return message

            try:
                return await handler(Request(request.scope, counted))
            except HTTPException as exc:
                if exc.status_code == status.HTTP_413_CONTENT_TOO_LARGE:
                    return _too_large(request, limit)
                raise

        return bounded


# --- what the routes answer --------------------------------------------------------------------

class FileOut(BaseModel):
    name: str
    kind: str | None  # the contract file it was recognised as (家庭, 残疾人 …), None if none
    read: int
    created: int
    updated: int
    unchanged: int
    rejected: int


class ProblemLine(BaseModel):
    file: str
    row: int | None  # as the spreadsheet shows it (header = its row); None for the file as a whole
    column: str | None
    value: str
    code: str
    reason: str
    reason_en: str


class ImportOut(BaseModel):
    id: str
    dry_run: bool
    outcome: Literal["imported", "partial", "nothing"]  # every row; some rows rejected; nothing imported
    files: list[FileOut]
    problems: list[ProblemLine]  # the first MAX_PROBLEMS; the report files hold them all
    problems_total: int
    report_xlsx: str
    report_csv: str


class ImportRunningOut(BaseModel):
    id: str
    state: Literal["queued", "running"]  # waiting for one of the imports that run at once; under way
    progress: float | None  # 0 to 1 over the files' checks (and writes), None before the first
    message: str  # what it is doing, in Chinese and English
    result: str  # ask this until it answers 200 with the result


JOB_KIND = "api-imports"  # the REST imports run as jobs (``?wait=false``), apart from the console's
RUNNING = {202: {"model": ImportRunningOut, "description": "导入进行中：稍后再查询 `result` / the import is "
                 "under way: ask `result` again later", "headers": {"Location": {
                     "description": "导入结果的地址 / where the result will be", "schema": {"type": "string"}}}}}


def _running(job: Job, import_id: str) -> JSONResponse:
    url = f"{API}/imports/{import_id}"
    body = ImportRunningOut(id=import_id, state="queued" if job.state is State.QUEUED else "running",
                            progress=job.progress, message=job.message, result=url)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_202_ACCEPTED, headers={"Location": url})


router = APIRouter(tags=["imports 导入"], responses=ERRORS, route_class=BoundedUpload)


@router.post("/imports", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             responses={400: {"model": ErrorOut, "description": "请求体无法解析 / the body cannot be parsed"},
                        413: {"model": ErrorOut, "description": "上传文件过大 / the upload is too large"}} | RUNNING)
def upload(request: Request, who: Annotated[Caller, Depends(caller)],
           files: Annotated[list[UploadFile], File(min_length=1, max_length=MAX_FILES, description=(
               "导入模板文件（.csv / .xlsx），按文件名或表头识别；文件名不可重复 / contract files, recognised by name "
               "or headers; no two with one name"))],
           dry_run: Annotated[Flag, Query(description="只校验不写入 / check everything, write nothing")] = False,
           wait: Annotated[Flag, Query(description=(
               "等待导入完成再回答（默认）；false：保存文件后立即回答 202，导入在后台进行，结果在 `result` 查询 / answer "
               "once the import is done (the default); false: answer 202 once the files are saved, the import "
               "runs on, and its result is asked of `result`"))] = True,
           ) -> Any:
    """导入组织者的表格（管理员、组织者）/ import contract files (admins and organisers).

    Every valid row is imported and every problem reported (file, row, column, reason in Chinese
    and English); an organiser's rows outside their region are rejected. ``outcome``: imported
    (every row), partial (some rows rejected), nothing (a file unusable: nothing written).
    A province's files take minutes: with ``wait=false`` the answer is 202 at once, and
    ``GET /imports/{id}`` answers 202 with the progress until it answers 200 with the result.
    """
    who.require(ORGANISERS, "导入数据", "import data")
    names = file_names([f.filename for f in files])
    kept = archive(request)
    saved = save_uploads(kept, [(name, f.file) for name, f in zip(names, files)])
    limit = upload_limit(request)
    if saved.size > limit:
        saved.discard()
        return _too_large(request, limit)
    base = f"{API}/imports/{saved.import_id}"
    if not wait:
        return _running(start_import(runner(request), JOB_KIND, who, kept, saved, dry_run=dry_run, base=base),
                        saved.import_id)
    return run_saved(who, kept, saved, dry_run=dry_run, base=base).answer


def _kept(request: Request, who: Caller, import_id: str) -> Kept:
    """An import of the caller's own (an admin's: anyone's); NotFound otherwise or once forgotten."""
    who.require(ORGANISERS, "查看导入报告", "read import reports")
    return archive(request).owned(who, import_id)


@router.get("/imports/{import_id}", response_model=ImportOut, responses=RUNNING)
def result(import_id: str, request: Request, who: Annotated[Caller, Depends(caller)]) -> Any:
    """一次导入的结果（最近的导入）/ the result of a recent import.

    202 with its progress while an import started with ``wait=false`` runs; a failed one answers
    with its error."""
    who.require(ORGANISERS, "查看导入报告", "read import reports")
    job = runner(request).find(who, import_id, JOB_KIND)
    if job is not None and not job.over:
        return _running(job, import_id)
    if job is not None and job.error is not None:
        raise job.error
    return _kept(request, who, import_id).answer


def _download(request: Request, who: Caller, import_id: str, suffix: str, media_type: str) -> FileResponse:
    kept = _kept(request, who, import_id)
    path = archive(request).report(kept, suffix)
    return FileResponse(path, media_type=media_type, filename=path.name)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/imports/{import_id}/report.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}, "description": "导入报告 / the import report"}})
def report_xlsx(import_id: str, request: Request, who: Annotated[Caller, Depends(caller)]) -> Any:
    """下载导入报告（Excel，含问题与汇总两页）/ the import report as a workbook: problems and a summary."""
    return _download(request, who, import_id, ".xlsx", XLSX)


@router.get("/imports/{import_id}/report.csv", response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "导入报告 / the import report"}})
def report_csv(import_id: str, request: Request, who: Annotated[Caller, Depends(caller)]) -> Any:
    """下载导入报告（CSV，问题清单）/ the import report's problems as CSV (UTF-8 with BOM)."""
    return _download(request, who, import_id, ".csv", "text/csv")


schemas.summarise(router)
