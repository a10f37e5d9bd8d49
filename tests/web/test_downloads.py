"""What the console lets an organiser take away, on both engines: every list as xlsx and csv (the
rows and files the report API gives, money in yuan), an empty template of every contract file,
and an import's rejected rows; and what a dry run says it would create."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from api.app import create_app
from api.security import csrf_token
from graph_schema.access.audit import audit_entries
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore
from importers.contract import SPECS
from importers.engine import run_import

_spec = importlib.util.spec_from_file_location("api_world", Path(__file__).parent.parent / "api" / "conftest.py")
api_world = sys.modules.setdefault("api_world", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(api_world)

#: the report of each list page, and the page
LISTS = {"unpaired": "/unpaired", "overdue-visits": "/overdue", "open-problems": "/problems",
         "benefit-gaps": "/benefit-gaps", "cert-expiry": "/cert-expiry", "cadre-load": "/cadre-load", "coverage": "/"}


@pytest.fixture
def world(store: GraphStore):
    return api_world.build_world(store)


@pytest.fixture
def client(world) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


def sign_in(client: TestClient, world, user: str) -> None:
    client.cookies.set("jiedui_session", world.tokens[user])
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def sheet(body: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()


def table(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- every list as a file --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(LISTS))
def test_every_list_page_offers_the_rows_of_the_report_api_as_xlsx_and_csv(client, world, name):
    sign_in(client, world, "organizer-a")
    page = client.get(LISTS[name]).text
    assert f'href="/reports/{name}.xlsx?region=620822000000' in page and f'href="/reports/{name}.csv?region=' in page
    for ext in ("xlsx", "csv"):
        mine = client.get(f"/reports/{name}.{ext}", params={"region": "620822000000"})
        assert mine.status_code == 200, mine.text
        assert re.fullmatch(rf'attachment; filename="{name}-620822000000-\d{{4}}-\d\d-\d\d\.{ext}"',
                            mine.headers["content-disposition"])
        api = client.get(f"/api/v1/reports/{name}", params={"format": ext, "region": "620822"},
                         headers=world.auth("organizer-a"))
        assert api.status_code == 200
        if ext == "csv":
            assert table(mine.content) == table(api.content) and len(table(mine.content)) >= 1
        else:
            assert sheet(mine.content) == sheet(api.content)
    rows = table(client.get(f"/reports/{name}.csv").content)  # the caller's region by default
    assert rows[0] and len(rows) == 1 + client.get(f"/api/v1/reports/{name}", params={"region": "620822"},
                                                   headers=world.auth("organizer-a")).json()["total"]


def test_a_download_is_every_row_not_one_page(client, world):
    from factories import VILLAGE, household
    from graph_schema.household.service import upsert_households

    upsert_households(store=world.store, households=[household(f"HX{i:03d}", VILLAGE, tekun=True) for i in range(60)])
    sign_in(client, world, "portal-a")
    assert "共 60 条" in client.get("/unpaired").text and 'aria-current="page">第 1 页' in client.get("/unpaired").text
    rows = sheet(client.get("/reports/unpaired.xlsx").content)
    assert len(rows) == 1 + 60 and rows[0][0] == "户编号"


def test_a_download_is_recorded_as_a_read_of_the_households_it_names(client, world):
    sign_in(client, world, "organizer-a")
    assert client.get("/reports/open-problems.csv").status_code == 200
    client.app.state.services.audit.flush()
    reads = audit_entries(store=world.store, user_id="organizer-a", page=PageRequest(1, 100)).items
    assert any(e.operation == "GET /reports/{name}.{ext}" and e.action == "read" and "HA1" in e.object_keys
               for e in reads)


@pytest.mark.parametrize("path, status", [
    ("/reports/unpaired.pdf", 404), ("/reports/nope.csv", 404), ("/reports/unpaired.csv?region=620802", 404),
    ("/reports/unpaired.csv?region=62082X", 422), ("/reports/unpaired.csv?region=6208220000001", 422),
    ("/reports/coverage.csv?from=2999-01-01", 422), ("/reports/coverage.csv?from=yesterday", 422),
])
def test_a_bad_download_gets_a_clear_error_page(client, world, path, status):
    sign_in(client, world, "organizer-a")
    answer = client.get(path)
    assert answer.status_code == status and answer.headers["content-type"].startswith("text/html"), answer.text[:200]
    assert "<h1" in answer.text


def test_money_is_in_yuan_in_the_files_and_in_fen_in_json(client, world):
    """The world has one donation of 500 yuan (50,000 fen) by organisation A in county A."""
    sign_in(client, world, "organizer-a")
    rows = table(client.get("/reports/coverage.csv").content)
    column = rows[0].index("组织捐赠（元）")
    assert rows[1][column] == "500.00" and "组织捐赠（分）" not in rows[0]
    book = sheet(client.get("/reports/coverage.xlsx").content)
    assert book[1][book[0].index("组织捐赠（元）")] == 500.0
    api = client.get("/api/v1/reports/coverage", params={"format": "csv"}, headers=world.auth("organizer-a"))
    assert table(api.content)[1][column] == "500.00"
    as_json = client.get("/api/v1/reports/coverage", headers=world.auth("organizer-a")).json()
    assert as_json["items"][0]["org_donations_fen"] == 50000


# --- import templates ------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS, ids=[s.kind for s in SPECS])
def test_every_contract_file_has_a_template_that_imports_as_that_file(client, world, spec, tmp_path):
    sign_in(client, world, "organizer-a")
    assert f'href="/imports/templates/{spec.kind}.xlsx"' in client.get("/imports").text
    for ext in ("xlsx", "csv"):
        answer = client.get(f"/imports/templates/{spec.kind}.{ext}")
        assert answer.status_code == 200
        named = re.search(r"filename\*=UTF-8''(.+)$", answer.headers["content-disposition"]).group(1)
        assert unquote(named) == f"{spec.name}.{ext}"
        header = sheet(answer.content)[0] if ext == "xlsx" else table(answer.content)[0]
        assert header == spec.headers
        path = tmp_path / f"{spec.name}.{ext}"
        path.write_bytes(answer.content)
        result = run_import(world.store, [path], dry_run=True)
        assert result.files[0].spec is spec and result.exit_code == 0 and not result.problems


@pytest.mark.parametrize("path", ["/imports/templates/nope.xlsx", "/imports/templates/households.pdf"])
def test_an_unknown_template_is_not_found(client, world, path):
    sign_in(client, world, "organizer-a")
    assert client.get(path).status_code == 404


# --- an import's rejected rows, a dry run's counts -------------------------------------------------

REGIONS = "区划代码,名称\n620822100203,新村甲\n620822100204,新村乙\n62082210020X,坏代码村\n"


def upload(client: TestClient, body: str, dry_run: bool = False) -> tuple[str, str]:
    answer = client.post("/imports", files=[("files", ("区划.csv", body.encode("utf-8-sig"), "text/csv"))],
                         data={"dry_run": "on"} if dry_run else {}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    job = answer.headers["location"]
    for _ in range(300):
        page = client.get(job).text
        if 'id="outcome-heading"' in page:
            return job, page
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def test_the_rejected_rows_download_under_their_own_headers_with_the_reasons(client, world):
    sign_in(client, world, "organizer-a")
    job, page = upload(client, REGIONS)
    assert f'href="{job}/rejected/regions.csv"' in page and f'href="{job}/rejected/regions.xlsx"' in page
    rows = table(client.get(f"{job}/rejected/regions.csv").content)
    assert rows[0] == ["区划代码", "名称", "错误原因"]
    assert [r[:2] for r in rows[1:]] == [["62082210020X", "坏代码村"]] and "区划代码" in rows[1][2]
    book = sheet(client.get(f"{job}/rejected/regions.xlsx").content)
    assert book[1][:2] == ["62082210020X", "坏代码村"]
    assert client.get(f"{job}/rejected/households.csv").status_code == 404  # no rejected rows of that file
    assert client.get(f"{job}/rejected/nope.csv").status_code == 404
    sign_in(client, world, "organizer-b")  # another organiser's import is not there at all
    assert client.get(f"{job}/rejected/regions.csv").status_code == 404


def test_a_dry_run_shows_what_the_import_would_create(client, world):
    sign_in(client, world, "organizer-a")
    _, page = upload(client, REGIONS, dry_run=True)
    counts = re.search(r"<th scope=\"row\">区划.csv</th>(.*?)</tr>", page, re.S).group(1)
    assert [c for c in re.findall(r"<td>([^<]*)</td>", counts)] == ["区划", "3", "2", "0", "0", "1"]
    assert world.store.query("MATCH (r:Region {code: '620822100203'}) RETURN count(r) AS n")[0]["n"] == 0
