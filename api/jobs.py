"""Long operations as jobs: each runs in a thread of its own so that no request waits for it,
and its progress and result are asked for while and after it runs: the console's imports and
matching runs (their pages poll a status fragment, ``api/web/jobs.py``) and the REST imports a
client asks not to wait for (``POST /api/v1/imports?wait=false``).

Jobs live in this process only (``app.state.jobs``): the last :data:`KEEP` are kept, the oldest
finished ones forgotten first. With several worker processes a job is asked of the worker that
runs it (sticky routing, ``docs/deployment.md``); another answers as for a job that does not
exist. At most :data:`RUNNING` run at once, the others wait as queued. A job belongs to the user
who started it: only they, or an admin, may see it; anyone else gets the answer a job that does
not exist gets.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import Request

from api.auth import Caller
from graph_schema.access.models import Role
from graph_schema.errors import JieduiError, NotFound

log = logging.getLogger(__name__)

KEEP = 50  # jobs kept (with their results)
RUNNING = 2  # jobs that run at once


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


STATE_NAMES = {State.QUEUED: "排队中 / queued", State.RUNNING: "进行中 / running",
               State.DONE: "已完成 / done", State.FAILED: "失败 / failed"}


@dataclass
class Job:
    job_id: str
    kind: str  # "import", "matching": the page that shows it is /<kind>s/{job_id} (see ``page``)
    title: str
    owner: str  # the user id of who started it
    page: str  # the path of the page that shows the job and its result
    state: State = State.QUEUED
    progress: float | None = None  # 0..1, None while unknown
    message: str = ""
    result: Any = None
    error: JieduiError | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    extra: dict = field(default_factory=dict)  # what the page adds later (e.g. a confirmation)

    @property
    def over(self) -> bool:
        return self.state in (State.DONE, State.FAILED)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    def report(self, fraction: float | None, message: str = "") -> None:
        """Called by the work as it advances."""
        if fraction is not None:
            self.progress = min(max(fraction, 0.0), 1.0)
        if message:
            self.message = message


Work = Callable[[Job], Any]


class JobRunner:
    def __init__(self, keep: int = KEEP, running: int = RUNNING) -> None:
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(running)

    def start(self, kind: str, title: str, who: Caller, work: Work, job_id: str | None = None) -> Job:
        """Queue ``work(job)`` in a thread of its own; its return value becomes the job's result,
        a JieduiError it raises the job's error (any other exception: a generic one, logged).
        ``job_id``: the id of what the job makes, when it has one already (an import's)."""
        job_id = job_id or uuid.uuid4().hex
        job = Job(job_id, kind, title, who.user.user_id, f"/{kind}/{job_id}", message="排队中 / queued")
        with self._lock:
            self._jobs[job_id] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job, work), name=f"job-{kind}-{job_id[:8]}", daemon=True).start()
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.over]
        while len(self._jobs) > self._keep and finished:
            self._jobs.pop(finished.pop(0).job_id, None)

    def _run(self, job: Job, work: Work) -> None:
        with self._slots:
            job.state, job.message = State.RUNNING, "开始 / started"
            try:
                job.result = work(job)
                job.progress, job.state = 1.0, State.DONE
                job.message = "已完成 / done"
            except JieduiError as exc:
                job.error, job.state = exc, State.FAILED
            except Exception as exc:  # noqa: BLE001 - a job never takes the server down
                log.exception("job %s failed", job.job_id)
                job.error = JieduiError("任务意外失败，请重试或联系管理员", f"the job failed unexpectedly ({type(exc).__name__})")
                job.state = State.FAILED
            finally:
                job.finished = time.time()

    def find(self, who: Caller, job_id: str, kind: str | None = None) -> Job | None:
        """The job, if the caller started it or is an admin; None otherwise (as if there were none)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or (kind and job.kind != kind) or (
                job.owner != who.user.user_id and who.user.role is not Role.ADMIN):
            return None
        return job

    def get(self, who: Caller, job_id: str, kind: str | None = None) -> Job:
        """:meth:`find`'s job, or NotFound."""
        job = self.find(who, job_id, kind)
        if job is None:
            raise NotFound("任务", "job", job_id)
        return job

    def mine(self, who: Caller, kind: str) -> list[Job]:
        """The caller's recent jobs of one kind, newest first (an admin's: everyone's)."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in reversed(jobs) if j.kind == kind and (j.owner == who.user.user_id or who.user.role is Role.ADMIN)]


_LOCK = threading.Lock()


def runner(request: Request) -> JobRunner:
    state = request.app.state
    with _LOCK:
        if not hasattr(state, "jobs"):
            state.jobs = JobRunner()
        return state.jobs
