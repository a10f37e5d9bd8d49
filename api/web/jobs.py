"""The console's pages of jobs (``api/jobs.py``): the page of a job polls its status fragment
(htmx, every second) and shows the result once it is done. Without JavaScript the page's refresh
link does the same.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.jobs import runner
from api.web.pages import Who, render

router = APIRouter(include_in_schema=False)


@router.get("/jobs/{job_id}/status", response_class=HTMLResponse)
def status(job_id: str, request: Request, who: Who) -> HTMLResponse:
    """The status fragment a job's page polls; once the job is over it asks htmx to reload the
    page, which then shows the result."""
    job = runner(request).get(who, job_id)
    answer = render(request, who, "_job_status.html", job=job)
    if job.over:
        answer.headers["HX-Refresh"] = "true"
    return answer
