"""导入 / imports in the console (organisers, admins): download an empty template of a contract
file, upload the contract files, run the import as a job with its progress, then read the
per-file counts and the problems and download the report and each file's rejected rows.

The uploads are saved and imported exactly as ``POST /api/v1/imports`` does (``api/import_runs.py``):
an organiser's import is bounded to their region, the result is kept in the same archive, the
report files are written from it when first asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.auth import ORGANISERS, Caller
from api.import_runs import MAX_FILES, archive, file_names, save_uploads, start_import, upload_limit
from api.jobs import runner
from api.report_output import XLSX
from api.web import regions
from api.web.pages import Who, render
from graph_schema.errors import JieduiError, NotFound
from importers.contract import BY_KIND, SPECS
from importers.report import rejected_path
from importers.templates import template_csv, template_xlsx

router = APIRouter(include_in_schema=False)
KIND = "imports"
SHOWN = 200  # problems the page lists; the report holds them all
OUTCOME_NAMES = {"imported": "全部导入 / every row imported",
                 "partial": "部分导入：有行被拒绝 / partly imported: some rows rejected",
                 "nothing": "未导入：有文件无法使用 / nothing imported: a file is unusable"}
MEDIA = {".xlsx": XLSX, ".csv": "text/csv; charset=utf-8"}


def _form(request: Request, who: Caller, error: str | None = None, status: int = 200) -> HTMLResponse:
    answer = render(request, who, "imports.html", error=error, jobs=runner(request).mine(who, KIND)[:10],
                    max_files=MAX_FILES, limit_mb=upload_limit(request) / 1024 / 1024, specs=SPECS,
                    names=regions.region_names(who.store, [who.user.region_code]))
    answer.status_code = status
    return answer


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, who: Who) -> HTMLResponse:
    who.require(ORGANISERS, "导入数据", "import data")
    return _form(request, who)


@router.post("/imports", response_class=HTMLResponse, response_model=None)
async def upload(request: Request, who: Who) -> Any:
    """Save the uploads, start the import job and go to its page."""
    who.require(ORGANISERS, "导入数据", "import data")
    limit = upload_limit(request)
    declared = request.headers.get("content-length", "")
    too_large = f"上传文件过大（上限 {limit / 1024 / 1024:g} MB）/ the upload is too large (limit {limit / 1024 / 1024:g} MB)"
    if declared.isdigit() and int(declared) > limit:
        return _form(request, who, too_large, 413)
    form = await request.form(max_files=MAX_FILES + 1)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    dry_run = form.get("dry_run") in ("on", "true", "1")
    if not uploads:
        return _form(request, who, "请选择要导入的文件 / choose the files to import", 422)
    try:
        names = file_names([f.filename for f in uploads])
    except JieduiError as exc:
        return _form(request, who, f"{exc.zh} / {exc.en}", 422)
    kept = archive(request)
    saved = await run_in_threadpool(save_uploads, kept, [(n, f.file) for n, f in zip(names, uploads)])
    await form.close()
    if saved.size > limit:
        saved.discard()
        return _form(request, who, too_large, 413)

    job = start_import(runner(request), KIND, who, kept, saved, dry_run=dry_run, base=f"/{KIND}/{saved.import_id}")
    return RedirectResponse(job.page, status_code=303)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def import_job(job_id: str, request: Request, who: Who) -> HTMLResponse:
    who.require(ORGANISERS, "查看导入报告", "read import reports")
    job = runner(request).get(who, job_id, KIND)
    answer = job.result.answer if job.result else None
    rejected = [{"file": f.name, "kind": f.spec.kind, "name": f.spec.name, "rows": f.rejected}
                for f in job.result.result.files if f.rejected and f.spec and f.table] if job.result else []
    return render(request, who, "import_job.html", job=job, answer=answer, shown=SHOWN, rejected=rejected,
                  outcome=OUTCOME_NAMES.get(answer["outcome"]) if answer else None)


def _report(request: Request, who: Caller, job_id: str, suffix: str) -> Path:
    """The report file of the caller's import (written on first request); NotFound as for a job
    that does not exist when the import is someone else's."""
    who.require(ORGANISERS, "查看导入报告", "read import reports")
    job = runner(request).get(who, job_id, KIND)
    if job.result is None:
        raise NotFound("导入报告", "import report", job_id)
    kept = archive(request).owned(who, job.result.import_id)
    return archive(request).report(kept, suffix)


@router.get("/imports/{job_id}/report.xlsx")
def report_xlsx(job_id: str, request: Request, who: Who) -> FileResponse:
    path = _report(request, who, job_id, ".xlsx")
    return FileResponse(path, media_type=XLSX, filename=path.name)


@router.get("/imports/{job_id}/report.csv")
def report_csv(job_id: str, request: Request, who: Who) -> FileResponse:
    path = _report(request, who, job_id, ".csv")
    return FileResponse(path, media_type="text/csv", filename=path.name)


@router.get("/imports/{job_id}/rejected/{kind}.{ext}")
def rejected_rows(job_id: str, kind: str, ext: str, request: Request, who: Who) -> FileResponse:
    """被拒绝的行 / one file's rejected rows under its own headers with a 错误原因 column: fixed,
    the file imports as it is (it is named after the contract file)."""
    spec, suffix = BY_KIND.get(kind), f".{ext}"
    if spec is None or suffix not in MEDIA:
        raise NotFound("被拒绝的行", "rejected rows", f"{kind}.{ext}")
    path = rejected_path(_report(request, who, job_id, suffix), spec)
    if not path.is_file():
        raise NotFound("被拒绝的行", "rejected rows", f"{kind}.{ext}")
    return FileResponse(path, media_type=MEDIA[suffix], filename=path.name)


@router.get("/imports/templates/{kind}.{ext}")
def template(kind: str, ext: str, who: Who) -> Response:
    """导入模板 / an empty contract file to fill in (see ``importers/templates.py``)."""
    who.require(ORGANISERS, "下载导入模板", "download import templates")
    spec, suffix = BY_KIND.get(kind), f".{ext}"
    if spec is None or suffix not in MEDIA:
        raise NotFound("导入模板", "import template", f"{kind}.{ext}")
    body = template_xlsx(spec) if suffix == ".xlsx" else template_csv(spec)
    disposition = f"attachment; filename=\"{spec.kind}{suffix}\"; filename*=UTF-8''{quote(spec.name)}{suffix}"
    return Response(body, media_type=MEDIA[suffix], headers={"Content-Disposition": disposition})
