"""Imports of uploaded files, shared by the REST route (``api/rest/imports.py``) and the console
(``api/web/imports.py``): where uploads are saved, how they are run through
:func:`importers.engine.run_import`, what is kept of the result and how its report files are made.

The uploads are saved under their own names in a folder of their own (the importer recognises a
file by its name, else by its headers), and each is read in a child process with limits
(:mod:`importers.sandbox`): a hostile file is refused as a file-level problem while the service
keeps answering. An organiser's import is bounded to their region (rows outside it are rejected
as row problems, records outside it are never revealed: see ``importers/bound.py``). Every import
is in the audit trail with the keys its rows name, dry runs too. Results are kept in a temporary
folder the app owns, for
the last :data:`KEEP` imports; the report files are written from them when first asked for. They
are this worker process's own: with several, a result is asked of the worker that ran the import
(sticky routing, ``docs/deployment.md``), the upload's own answer holding it whole. The console
runs every import as a job (``api/jobs.py``, :func:`start_import`), and so does REST when the
client asks not to wait.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastapi import Request

from api.auth import Caller
from api.jobs import Job, JobRunner
from graph_schema.access.models import Role
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.models import today
from graph_schema.service import tally
from graph_schema.settings import get_settings
from importers.engine import REPORT_PREFIX, ImportResult, Progress, run_import
from importers.report import write_report
from importers.sandbox import read_isolated

KEEP = 20  # imports whose results (and report files) are kept
MAX_FILES = 50
MAX_PROBLEMS = 1000  # problems an answer lists; the report files hold them all
OUTCOMES = {0: "imported", 1: "partial", 2: "nothing"}
TALLIES = "服务汇总 service tallies"  # the progress of making the counties' tallies after a real run
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


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

    def owned(self, who: Caller, import_id: str) -> Kept:
        """An import of the caller's own (an admin's: anyone's); NotFound otherwise or once forgotten."""
        kept = self.get(import_id)
        if kept is None or (kept.user_id != who.user.user_id and who.user.role is not Role.ADMIN):
            raise NotFound("导入", "import", import_id)
        return kept

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


def file_name(raw: str | None) -> str:
    """An upload's own file name, refused if it could leave its folder or is no name at all."""
    name = (raw or "").strip()
    if not name or name in (".", "..") or any(c in name for c in "/\\\x00") or len(name.encode()) > 255:
        raise InvalidValue("files", raw, "文件名无效（不能为空、含路径分隔符或过长）",
                           "invalid file name (empty, a path, or too long)", code="FILE_NAME")
    return name


def file_names(raw: Sequence[str | None]) -> list[str]:
    """The uploads' names: each valid, no more than :data:`MAX_FILES`, none repeated."""
    if len(raw) > MAX_FILES:
        raise InvalidValue("files", len(raw), f"一次最多 {MAX_FILES} 个文件", f"at most {MAX_FILES} files at once")
    names = [file_name(n) for n in raw]
    if len(set(names)) != len(names):
        raise InvalidValue("files", sorted({n for n in names if names.count(n) > 1}), "文件名重复", "repeated file names",
                           code="FILE_NAME")
    return names


@dataclass
class Saved:
    """Uploads saved in a folder of the archive, waiting to be imported."""

    import_id: str
    folder: Path
    paths: list[Path]
    size: int

    @property
    def inbox(self) -> Path:
        return self.folder / "upload"

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def save_uploads(kept: ImportArchive, named: Iterable[tuple[str, BinaryIO]]) -> Saved:
    """Save each upload under its (checked) name; the folder is removed again on any failure."""
    import_id, folder = kept.new_folder()
    saved = Saved(import_id, folder, [], 0)
    saved.inbox.mkdir()
    try:
        for name, body in named:
            path = saved.inbox / name
            with path.open("wb") as out:
                shutil.copyfileobj(body, out, 1024 * 1024)
                saved.size += out.tell()
            saved.paths.append(path)
    except BaseException:
        saved.discard()
        raise
    return saved


def summary(import_id: str, result: ImportResult, base: str) -> dict:
    """The answer about one import: per-file counts, the first problems, the report links under ``base``."""
    problems = result.problems
    return {
        "id": import_id, "dry_run": result.dry_run, "outcome": OUTCOMES[result.exit_code],
        "files": [{"name": f.name, "kind": f.spec.name if f.spec else None, "read": f.rows_read, "created": f.created,
                   "updated": f.updated, "unchanged": f.unchanged, "rejected": f.rejected} for f in result.files],
        "problems": [{"file": p.file, "row": p.row, "column": p.column, "value": str(p.value), "code": str(p.code),
                      "reason": p.reason, "reason_en": p.reason_en} for p in problems[:MAX_PROBLEMS]],
        "problems_total": len(problems), "report_xlsx": f"{base}/report.xlsx", "report_csv": f"{base}/report.csv",
    }


def touched(result: ImportResult) -> list[str]:
    return sorted(result.touched)


#: the keys an import's rows name, by the kind of object the audit trail files them under
NAMED = {"household_no": "household", "id_number": "person", "cadre_no": "cadre", "uscc": "org"}


def keys_named(result: ImportResult, refused: bool = True) -> dict[str, set[str]]:
    """Every key the import's accepted (and held) rows name, by kind, with ``refused`` those of
    the refused rows too: what a dry run let its caller check, so the audit trail tells who
    checked which keys."""
    named: dict[str, set[str]] = {kind: set(result.named[attribute]) for attribute, kind in NAMED.items()}
    for f in result.files:
        if refused and f.table is not None:  # the raw cells of the refused rows
            for _, cells in f.table.rows:
                for name, value in zip(f.fields, cells):
                    if name in NAMED and value not in (None, ""):
                        named[NAMED[name]].add(str(value).strip()[:64])
    return named


def _keep_tallies(who: Caller, progress: Progress | None) -> None:
    """Make the year's stale tallies of the caller's region after their import, as ``jiedui
    import`` does, so that the next report need not; only their region's, so that a county's
    import does not wait for counties others wrote to. A failure is logged, not the import's (a
    report makes what it needs)."""
    try:
        tally.keep_current(who.store, today().year, progress and functools.partial(progress, TALLIES, "tally"),
                           prefix=who.scope.prefix)
    except Exception:  # noqa: BLE001 - the rows are written; the tallies are a cache of them
        log.exception("making the service tallies after an import failed")


def run_saved(who: Caller, kept: ImportArchive, saved: Saved, *, dry_run: bool, base: str,
              progress: Progress | None = None) -> Kept:
    """Import the saved uploads as the caller (an organiser bounded to their region), keep the
    result in the archive and record the change in the audit trail."""
    try:
        result = run_import(who.store, saved.paths, dry_run=dry_run, bound=who.scope.prefix or None, progress=progress,
                            read=read_isolated, claimant=who.user.user_id, import_id=saved.import_id)
    except BaseException:
        saved.discard()
        raise
    shutil.rmtree(saved.inbox, ignore_errors=True)
    if not dry_run and result.exit_code != 2:
        _keep_tallies(who, progress)
    done = Kept(saved.import_id, who.user.user_id, saved.folder, result, summary(saved.import_id, result, base))
    kept.add(done)
    if dry_run:  # a check tells what it found of each key: who checked which is in the trail
        for kind, keys in keys_named(result).items():
            who.read(kind, keys)
        who.read("import", [saved.import_id])
    else:
        for kind, keys in keys_named(result, refused=False).items():
            if kind != "household":
                who.wrote(kind, keys)
        who.wrote("claim", [c.claim_id for c in result.claims])
        who.wrote("household", touched(result))
        who.wrote("import", [saved.import_id])
    return done


class JobProgress:
    """run_import's progress(file, phase, done, total) as one fraction over files and phases."""

    def __init__(self, job: Job, files: int, phases: tuple[str, ...]) -> None:
        self.job, self.units, self.phases = job, max(files, 1) * len(phases), phases
        self.seen: dict[tuple[str, str], float] = {}

    def __call__(self, name: str, phase: str, done: int, total: int) -> None:
        if phase in self.phases:
            self.seen[(name, phase)] = done / total if total else 1.0
        elif phase != "tally":  # the counties' service tallies after the writes: shown, not counted
            return
        verb = {"check": "校验 / checking ", "write": "写入 / writing "}.get(phase, "")
        self.job.report(sum(self.seen.values()) / self.units, f"{verb}{name}：{done} / {total}")


def start_import(jobs: JobRunner, kind: str, who: Caller, kept: ImportArchive, saved: Saved, *, dry_run: bool,
                 base: str) -> Job:
    """Run the saved uploads' import as a job of ``kind`` (the console's page, or a REST client
    that asked not to wait), its progress one fraction over files and phases; ``base`` is the
    path its answer's report links start with. The job has the import's id, and its result is
    the :class:`Kept` import."""
    names = [p.name for p in saved.paths]

    def work(job: Job) -> Kept:
        job.report(0.0, "读取文件 / reading the files")
        phases = ("check",) if dry_run else ("check", "write")
        return run_saved(who, kept, saved, dry_run=dry_run, base=base, progress=JobProgress(job, len(names), phases))

    title = ("试导入（只校验）/ dry run: " if dry_run else "导入 / import: ") + "、".join(names)
    return jobs.start(kind, title, who, work, job_id=saved.import_id)
