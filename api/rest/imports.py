"""Imports over HTTP: upload the contract files, get the import report as JSON and as a file.

The uploads are saved under their own names in a folder of their own (the importer recognises a
file by its name, else by its headers) and run through the same :func:`importers.engine.run_import`
as ``jiedui import``; an organiser's import is bounded to their region (rows outside it are
rejected as row problems). Results are kept in a temporary folder this app owns, for the last
:data:`KEEP` imports; the report files are written from them when first asked for.

Upload size is bounded (``JIEDUI_MAX_UPLOAD_MB``, 413 beyond): the declared length is checked
before anything is read, and the body is counted as it arrives, so an oversize upload is cut off
rather than spooled to disk. The caller's token and role are checked before the body is read too.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.auth import API, ORGANISERS, Caller, caller, services
from api.rest import schemas
from api.rest.schemas import ERRORS, ErrorOut
from graph_schema.access.models import Role
from graph_schema.access.service import Forbidden
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.settings import get_settings
from importers.engine import REPORT_PREFIX, ImportResult, run_import
from importers.report import write_report

KEEP = 20  # imports whose results (and report files) are kept
MAX_FILES = 50
_LOCK = threading.Lock()


# --- where the results live ----------------------------------------------------------------------

@dataclass
class Kept:
    import_id: str
    user_id: str
    folder: Path
    result: ImportResult
    answer: dict


class ImportArchive:
    """The last imports' results in a temporary folder owned by the app, removed with it (or at
    exit); the oldest beyond ``keep`` are forgotten and their files removed."""

    def __init__(self, keep: int = KEEP) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="jiedui-imports-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True)
        self._keep = keep
        self._items: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def new_folder(self) -> tuple[str, Path]:
        import_id = uuid.uuid4().hex
        folder = self.root / import_id
        folder.mkdir()
        return import_id, folder

    def add(self, kept: Kept) -> None:
        with self._lock:
            self._items[kept.import_id] = kept
            while len(self._items) > self._keep:
                _, old = self._items.popitem(last=False)
                shutil.rmtree(old.folder, ignore_errors=True)

    def get(self, import_id: str) -> Kept | None:
        with self._lock:
            return self._items.get(import_id)

    def report(self, kept: Kept, suffix: str) -> Path:
        """The report file (``.xlsx`` or ``.csv``), written on first request."""
        path = kept.folder / f"{REPORT_PREFIX}-{kept.import_id[:8]}{suffix}"
        with self._lock:
            if not path.exists():
                write_report(path, kept.result)
        return path


def archive(request: Request) -> ImportArchive:
    state = request.app.state
    with _LOCK:
        if not hasattr(state, "imports"):
            state.imports = ImportArchive()
        return state.imports


def upload_limit(request: Request) -> int:
    """Bytes an upload may have: ``app.state.max_upload_bytes`` if set, else the setting."""
    return getattr(request.app.state, "max_upload_bytes", None) or get_settings().max_upload_mb * 1024 * 1024


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
                raise Forbidden(user.role, "导入数据 import data")
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


MAX_PROBLEMS = 1000
OUTCOMES = {0: "imported", 1: "partial", 2: "nothing"}

router = APIRouter(tags=["imports 导入"], responses=ERRORS, route_class=BoundedUpload)


def _name(raw: str | None) -> str:
    """An upload's own file name, refused if it could leave its folder or is no name at all."""
    name = (raw or "").strip()
    if not name or name in (".", "..") or any(c in name for c in "/\\\x00") or len(name.encode()) > 255:
        raise InvalidValue("files", raw, "文件名无效（不能为空、含路径分隔符或过长）",
                           "invalid file name (empty, a path, or too long)")
    return name


def _answer(import_id: str, result: ImportResult) -> dict:
    problems = result.problems
    base = f"{API}/imports/{import_id}"
    return {
        "id": import_id, "dry_run": result.dry_run, "outcome": OUTCOMES[result.exit_code],
        "files": [{"name": f.name, "kind": f.spec.name if f.spec else None, "read": f.rows_read, "created": f.created,
                   "updated": f.updated, "unchanged": f.unchanged, "rejected": f.rejected} for f in result.files],
        "problems": [{"file": p.file, "row": p.row, "column": p.column, "value": str(p.value), "code": str(p.code),
                      "reason": p.reason, "reason_en": p.reason_en} for p in problems[:MAX_PROBLEMS]],
        "problems_total": len(problems), "report_xlsx": f"{base}/report.xlsx", "report_csv": f"{base}/report.csv",
    }


def _touched(result: ImportResult) -> list[str]:
    return sorted({rec.household_no for f in result.files if f.spec
                   and f.spec.kind in ("households", "persons", "pairings", "ledger") for _, rec in f.valid})


@router.post("/imports", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             responses={400: {"model": ErrorOut, "description": "请求体无法解析 / the body cannot be parsed"},
                        413: {"model": ErrorOut, "description": "上传文件过大 / the upload is too large"}})
def upload(request: Request, who: Annotated[Caller, Depends(caller)],
           files: Annotated[list[UploadFile], File(description="导入模板文件（.csv / .xlsx），按文件名或表头识别 / "
                                                              "contract files, recognised by name or headers")],
           dry_run: Annotated[bool, Query(description="只校验不写入 / check everything, write nothing")] = False,
           ) -> dict:
    """导入组织者的表格（管理员、组织者）/ import contract files (admins and organisers).

    Every valid row is imported and every problem reported (file, row, column, reason in Chinese
    and English); an organiser's rows outside their region are rejected. ``outcome``: imported
    (every row), partial (some rows rejected), nothing (a file unusable: nothing written).
    """
    who.require(ORGANISERS, "导入数据 import data")
    if len(files) > MAX_FILES:
        raise InvalidValue("files", len(files), f"一次最多 {MAX_FILES} 个文件", f"at most {MAX_FILES} files at once")
    names = [_name(f.filename) for f in files]
    if len(set(names)) != len(names):
        raise InvalidValue("files", sorted({n for n in names if names.count(n) > 1}), "文件名重复", "repeated file names")
    kept = archive(request)
    import_id, folder = kept.new_folder()
    inbox = folder / "upload"
    inbox.mkdir()
    limit, total = upload_limit(request), 0
    try:
        for name, f in zip(names, files):
            with (inbox / name).open("wb") as out:
                shutil.copyfileobj(f.file, out, 1024 * 1024)
                total += out.tell()
        if total > limit:
            shutil.rmtree(folder, ignore_errors=True)
            return _too_large(request, limit)
        result = run_import(who.store, [inbox / name for name in names], dry_run=dry_run,
                            bound=who.scope.prefix or None)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(inbox, ignore_errors=True)
    answer = _answer(import_id, result)
    kept.add(Kept(import_id, who.user.user_id, folder, result, answer))
    if not dry_run:
        who.wrote("household", _touched(result))
        who.wrote("import", [import_id])
    return answer


def _kept(request: Request, who: Caller, import_id: str) -> Kept:
    """An import of the caller's own (an admin's: anyone's); NotFound otherwise or once forgotten."""
    who.require(ORGANISERS, "查看导入报告 read import reports")
    kept = archive(request).get(import_id)
    if kept is None or (kept.user_id != who.user.user_id and who.user.role is not Role.ADMIN):
        raise NotFound("导入", "import", import_id)
    return kept


@router.get("/imports/{import_id}", response_model=ImportOut)
def result(import_id: str, request: Request, who: Annotated[Caller, Depends(caller)]) -> dict:
    """一次导入的结果（最近的导入）/ the result of a recent import."""
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
