"""Where a household detail request's CPU goes, measured in this process (no network, no load
generator): the app called through ASGI as ``jiedui serve`` would call it, with the query and the
user of ``bench/api_bench.py``.

    .venv/bin/python bench/detail_cpu.py                       # 3,000 requests, 1 then 16 at a time
    .venv/bin/python bench/detail_cpu.py --at-once 16 --freeze # start-up objects frozen, as jiedui serve does

A fresh store gets the demo county and a portal user of the county. Prints, per run, the process's
CPU time per request (every thread: the event loop, the worker threads that read, the audit
writer), the garbage collector's share of it and its collections per generation; then the
floor of the stack (``{ __typename }``: middleware, authentication, Strawberry, no store) and the
store read alone (``household_detail_in`` for the query's columns, one read transaction each).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import signal
import tempfile
import time
from pathlib import Path

import api_bench  # the query and the demo set-up of the load test (this script's folder)


class GcClock:
    """CPU time spent in the garbage collector, and its collections per generation."""

    def __init__(self) -> None:
        self.seconds, self.runs, self._started = 0.0, [0, 0, 0], 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.runs[info["generation"]] += 1


async def _post(app, token: str, body: bytes) -> tuple[int, bytes]:
    """One POST /graphql through the app's ASGI interface."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"authorization", b"Bearer " + token.encode()),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {}}
    sent, out = False, []

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {}

    async def send(message: dict) -> None:
        out.append(message)

    await app(scope, receive, send)
    return out[0]["status"], b"".join(m.get("body", b"") for m in out[1:])


async def _drive(app, token: str, bodies: list[bytes], requests: int, at_once: int) -> tuple[float, GcClock]:
    """CPU seconds per request for ``requests`` requests, ``at_once`` in flight."""
    clock = GcClock()

    async def client(first: int) -> None:
        for i in range(first, requests, at_once):
            status, answer = await _post(app, token, bodies[i % len(bodies)])
            if status != 200 or b'"errors"' in answer:
                raise SystemExit(f"request failed: {status} {answer[:300]!r}")

    gc.callbacks.append(clock)
    try:
        started = time.process_time()
        await asyncio.gather(*(client(i) for i in range(at_once)))
        return (time.process_time() - started) / requests, clock
    finally:
        gc.callbacks.remove(clock)


async def _measure(store, token: str, county: str, requests: int, at_once: list[int], freeze: bool) -> None:
    from api import app as app_module

    # As uvicorn does while it serves: asyncio.run's own SIGINT handler holds the main task, and
    # LadybugDB asks for the handler at every statement (``signal.getsignal``), whose failed enum
    # lookup formats the handler's repr, the task's with it: ~14 µs a statement, ~0.1 ms a request
    # that the service does not spend (uvicorn's handler, a bound method: ~3.5 µs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app = app_module.create_app(store, report_ttl=30, token_ttl=30)
    async with app.router.lifespan_context(app):
        listed = json.dumps({"query": "query($r: String!) { households(region: $r, first: 500) "
                                      "{ edges { node { householdNo } } } }", "variables": {"r": county}}).encode()
        numbers = [e["node"]["householdNo"]
                   for e in json.loads((await _post(app, token, listed))[1])["data"]["households"]["edges"]]
        bodies = [json.dumps({"query": api_bench.DETAIL, "variables": {"no": n}}).encode() for n in numbers]
        await _drive(app, token, bodies, 500, 1)  # warm: plans, connections, caches
        if freeze:
            app_module.freeze_startup_objects()
        print("| requests in flight | CPU per request (ms) | of it, garbage collector (ms) | collections (gen 0/1/2) |")
        print("| ---: | ---: | ---: | --- |")
        for n in at_once:
            cpu, clock = await _drive(app, token, bodies, requests, n)
            print(f"| {n} | {1000 * cpu:.2f} | {1000 * clock.seconds / requests:.2f} | {'/'.join(map(str, clock.runs))} |",
                  flush=True)
        trivial = [json.dumps({"query": "{ __typename }"}).encode()]
        cpu, _ = await _drive(app, token, trivial, requests, 1)
        print(f"\n`{{ __typename }}`, one at a time: {1000 * cpu:.2f} ms CPU per request")
    await _store_alone(store, token, numbers, requests)


async def _store_alone(store, token: str, numbers: list[str], requests: int) -> None:
    from graphql import parse

    from api.graphql.detail import _wanted
    from graph_schema.access.service import authenticate
    from graph_schema.household.detail import household_detail_in

    scope = authenticate(store=store, token=token).scope
    wanted = _wanted((parse(api_bench.DETAIL).definitions[0].selection_set.selections[0],), {})
    started = time.process_time()
    for i in range(requests):
        store.read(lambda tx, no=numbers[i % len(numbers)]: household_detail_in(tx, no, wanted, scope))
    print(f"the store read alone: {1000 * (time.process_time() - started) / requests:.2f} ms CPU per read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--at-once", default="1,16", help="requests in flight, one run each: 1,16 …")
    parser.add_argument("--freeze", action="store_true", help="freeze the start-up objects first, as jiedui serve does")
    args = parser.parse_args()
    # the project's modules first, from wherever this interpreter finds them (an older version
    # through PYTHONPATH), before the load test's helpers add this checkout to the path
    import api.app  # noqa: F401
    import api.graphql.detail  # noqa: F401
    import graph_schema.household.detail  # noqa: F401
    from graph_schema.settings import get_settings
    from graph_schema.store import open_store

    work = Path(tempfile.mkdtemp(prefix="jiedui-detail-cpu-"))
    try:
        target = str(work / "store")
        api_bench._run("demo", "--store", target, "--rows", "1")
        county = api_bench._county(target)
        token = api_bench._run("user", "add", "bench-portal", "--role", "portal", "--region", county,
                               "--store", target).strip().splitlines()[-1]
        # one thread per embedded query, as jiedui serve opens it
        store = open_store(target, get_settings().model_copy(update={"embedded_query_threads": 1}))
        try:
            asyncio.run(_measure(store, token, county, args.requests, [int(n) for n in args.at_once.split(",")],
                                 args.freeze))
        finally:
            store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
