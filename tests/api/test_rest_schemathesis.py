"""Property-based tests of the REST API from its own OpenAPI document (schemathesis): every
operation under /api/v1, with valid and invalid input generated from the schema, called as an
admin. No answer may be a server error, and every answer must match the status codes and the
bodies the document declares. Embedded engine only (the engines are compared everywhere else);
bounded and derandomised so that a run is repeatable and takes a minute or two.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.throttle import Throttle
from conftest import build_world
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.store.embedded import EmbeddedStore

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
AUTH: dict[str, str] = {}
CALLS: Counter = Counter()  # operation → examples sent (printed with -s)
STATUSES: Counter = Counter()  # status code → answers

# The schema is read from the app when this module is imported, so the app (over an empty
# embedded store) exists from then on; the world and its tokens are made when the tests start.
# (schemathesis' fixture-based loader does not run under pytest 9.2: it sets Node._nodeid.)
_FOLDER = Path(tempfile.mkdtemp(prefix="jiedui-schemathesis-"))
_STORE = EmbeddedStore(_FOLDER / "store", buffer_pool_mb=256)
_APP = create_app(_STORE, audit_interval=0.05)
# this run sends thousands of deliberately unauthenticated requests from one address: the bad-token
# throttle (tested in test_security.py) would soon answer 429 to everything
_APP.state.api_throttle = Throttle(10**9, 60.0)
_APP.state.max_upload_bytes = 1024 * 1024


def _close() -> None:
    if not _FOLDER.exists():
        return
    _APP.state.services.audit.close()
    _STORE.close()
    shutil.rmtree(_FOLDER, ignore_errors=True)


atexit.register(_close)
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP).include(path_regex="^/api/v1/")

#: Keys of the world's records: about half of the generated keys are swapped for one of these
#: (chosen by a checksum of the generated value, so runs repeat), or nearly every call would stop
#: at 404 and the rules behind it would go untested.
KNOWN: dict[str, list[str]] = {
    "household_no": ["HA1", "HA2", "HB1"], "cadre_no": ["CA1", "CA2", "CB1"], "uscc": [],
    "region": ["620822", "620802", "620822100201", "62"], "name": list(REPORTS), "id_number": [],
}


def _known(key: str, value: Any) -> Any:
    choices = KNOWN.get(key)
    if not choices or not isinstance(value, str):
        return value
    pick = zlib.crc32(value.encode("utf-8", "surrogatepass")) % (2 * len(choices))
    return choices[pick] if pick < len(choices) else value


def _swap(values: Any) -> Any:
    return {key: _known(key, value) for key, value in values.items()} if isinstance(values, dict) else values


@schema.hook
def map_path_parameters(context, path_parameters: Any) -> Any:
    return _swap(path_parameters)


@schema.hook
def map_query(context, query: Any) -> Any:
    return _swap(query)


@schema.hook
def map_body(context, body: Any) -> Any:
    return _swap(body)


@pytest.fixture(scope="module", autouse=True)
def world() -> Iterator[None]:
    built = build_world(_STORE)
    AUTH.update(built.auth("admin"))
    KNOWN["uscc"] += [built.org_a, built.org_b]
    KNOWN["id_number"] += sorted(built.persons.values())
    yield
    _close()
    print(f"\nschemathesis: {len(CALLS)} operations, {sum(CALLS.values())} examples, statuses {dict(STATUSES)}")
    for label, n in sorted(CALLS.items()):
        print(f"  {n:4d}  {label}")


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_the_api_answers_as_its_schema_says(case):
    CALLS[f"{case.method} {case.path}"] += 1
    STATUSES[case.call_and_validate(headers=AUTH, checks=CHECKS).status_code] += 1
