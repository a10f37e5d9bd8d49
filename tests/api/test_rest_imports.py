"""POST /imports: the sample set, bad rows and their report files, an organiser's jurisdiction,
dry runs, roles, file names and upload size."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from graph_schema.access.audit import audit_entries
from graph_schema.identifiers import id_check_char

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data-contract" / "sample"
if not SAMPLE.is_dir():  # the copy kept with the tests
    SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
URL = "/api/v1/imports"


def upload(*named: tuple[str, bytes]) -> list:
    return [("files", (name, content, "text/csv")) for name, content in named]


def sample_files(**replace: bytes) -> list:
    return upload(*((p.name, replace.get(p.stem, p.read_bytes())) for p in sorted(SAMPLE.glob("*.csv"))))


def count(store, label: str) -> int:
    return store.query(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]


def writes(client, store, user: str) -> list:
    client.app.state.services.audit.flush()
    return [e for e in audit_entries(store=store, user_id=user).items if e.action == "write"]


def test_the_sample_set_uploads_cleanly_for_an_admin_and_again_changes_nothing(client, world):
    got = client.post(URL, files=sample_files(), headers=world.auth("admin"))
    assert got.status_code == 201, got.text
    body = got.json()
    assert body["outcome"] == "imported" and body["dry_run"] is False
    assert {f["name"]: (f["kind"], f["read"], f["created"], f["rejected"]) for f in body["files"]}["家庭.csv"] == (
        "家庭", 12, 12, 0)
    assert all(f["rejected"] == 0 for f in body["files"]) and len(body["files"]) == 8
    assert {p["code"] for p in body["problems"]} <= {"UNKNOWN_COLUMN"}
    assert count(world.store, "Household") == 3 + 12
    entries = writes(client, world.store, "admin")
    assert {e.object_kind for e in entries} == {"import", "household", "person", "cadre", "org"}
    assert next(e for e in entries if e.object_kind == "import").object_keys == [body["id"]]
    again = client.post(URL, files=sample_files(), headers=world.auth("admin")).json()
    assert again["outcome"] == "imported" and all(f["created"] == 0 and f["updated"] == 0 for f in again["files"])


def test_bad_rows_come_back_as_problems_and_the_report_downloads(client, world):
    cadres = (SAMPLE / "干部.csv").read_text(encoding="utf-8").replace("GB0006,张雅,13946710408", "GB0007,张雅,123")
    got = client.post(URL, files=sample_files(干部=cadres.encode()), headers=world.auth("admin"))
    body = got.json()
    assert got.status_code == 201 and body["outcome"] == "partial"
    bad = next(p for p in body["problems"] if p["code"] == "BAD_PHONE")
    assert (bad["file"], bad["row"], bad["column"], bad["value"]) == ("干部.csv", 7, "手机号", "123")
    assert bad["reason"] and bad["reason_en"] and bad["reason"] != bad["reason_en"]
    assert body["problems_total"] == len(body["problems"])
    xlsx = client.get(body["report_xlsx"], headers=world.auth("admin"))
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in xlsx.headers["content-disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content))
    problems = book.get_sheet_by_index(0).to_python()
    assert problems[0][:5] == ["文件 file", "行号 row", "列 column", "值 value", "代码 code"]
    assert any(row[0] == "干部.csv" and row[4] == "BAD_PHONE" for row in problems[1:])
    assert book.sheet_names == ["问题 problems", "汇总 summary"]
    text = client.get(body["report_csv"], headers=world.auth("admin")).content.decode("utf-8-sig")
    assert any(r["代码 code"] == "BAD_PHONE" for r in csv.DictReader(io.StringIO(text)))
    assert client.get(f"{URL}/{body['id']}", headers=world.auth("admin")).json() == body
    # an import is its owner's (and an admin's) only
    assert client.get(body["report_xlsx"], headers=world.auth("organizer-a")).status_code == 404


def test_an_organisers_rows_outside_the_jurisdiction_are_rejected(client, world):
    got = client.post(URL, files=sample_files(), headers=world.auth("organizer-a"))
    body = got.json()
    assert got.status_code == 201 and body["outcome"] == "partial"
    outside = [p for p in body["problems"] if p["code"] == "OUT_OF_JURISDICTION"]
    assert {p["file"] for p in outside} == {"区划.csv", "家庭.csv", "残疾人.csv", "干部.csv", "社会组织.csv", "结对.csv",
                                            "帮扶记录.csv", "部门名单.csv"}
    assert {p["value"] for p in outside if p["file"] == "家庭.csv"} == {"620802101203"}
    assert "620822" in outside[0]["reason"] and "outside your jurisdiction" in outside[0]["reason_en"]
    stored = {r["h"] for r in world.store.query("MATCH (h:Household) RETURN h.household_no AS h")}
    assert {"H100201001", "H100202002"} <= stored and not {"H101203003", "H101203006"} & stored
    report = client.get(body["report_xlsx"], headers=world.auth("organizer-a"))
    assert report.status_code == 200
    assert client.get(body["report_xlsx"], headers=world.auth("admin")).status_code == 200
    assert client.get(body["report_xlsx"], headers=world.auth("organizer-b")).status_code == 404


def test_a_dry_run_reports_and_writes_nothing(client, world):
    before = count(world.store, "Household"), count(world.store, "Cadre")
    body = client.post(f"{URL}?dry_run=true", files=sample_files(), headers=world.auth("admin")).json()
    assert body["dry_run"] is True and body["outcome"] == "imported"
    assert (count(world.store, "Household"), count(world.store, "Cadre")) == before
    assert writes(client, world.store, "admin") == []


@pytest.mark.parametrize("user,status", [("portal-a", 403), ("cadre-a", 403), ("org-a", 403), (None, 401)])
def test_only_admins_and_organisers_import(client, world, user, status):
    got = client.post(URL, files=sample_files(), headers=world.auth(user) if user else {})
    assert got.status_code == status and got.json()["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    assert count(world.store, "Household") == 3


@pytest.mark.parametrize("names", [["../家庭.csv"], ["a\\家庭.csv"], ["sub/家庭.csv"], ["家庭.csv", "家庭.csv"]])
def test_file_names_that_are_paths_or_repeat_are_refused(client, world, names):
    content = (SAMPLE / "家庭.csv").read_bytes()
    got = client.post(URL, files=upload(*((n, content) for n in names)), headers=world.auth("admin"))
    assert got.status_code == 422 and got.json()["field"] == "files"
    assert count(world.store, "Household") == 3


def test_no_file_or_an_unknown_file(client, world):
    none = client.post(URL, headers=world.auth("admin"))
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "body.files"
    odd = client.post(URL, files=upload(("notes.csv", b"a,b\n1,2\n")), headers=world.auth("admin")).json()
    assert odd["outcome"] == "nothing" and odd["problems"][0]["code"] == "UNKNOWN_FILE"
    assert odd["problems"][0]["row"] is None


def test_an_upload_over_the_limit_is_refused_whether_declared_or_streamed(client, world):
    client.app.state.max_upload_bytes = 2000
    files = sample_files()
    declared = client.post(URL, files=files, headers=world.auth("admin"))
    assert declared.status_code == 413 and declared.json()["code"] == "UPLOAD_TOO_LARGE"
    assert declared.json()["limit_bytes"] == 2000 and "上传文件过大" in declared.json()["message"]
    boundary = "jieduiboundary"
    payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"家庭.csv\"\r\n"
               "Content-Type: text/csv\r\n\r\n").encode() + (SAMPLE / "家庭.csv").read_bytes() * 3 + \
        f"\r\n--{boundary}--\r\n".encode()

    def chunks():  # no Content-Length: the body is counted as it arrives
        for i in range(0, len(payload), 500):
            yield payload[i:i + 500]

    streamed = client.post(URL, content=chunks(), headers=world.auth("admin") | {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert streamed.status_code == 413 and streamed.json()["code"] == "UPLOAD_TOO_LARGE"
    assert count(world.store, "Household") == 3
    client.app.state.max_upload_bytes = None
    assert client.post(URL, files=files, headers=world.auth("admin")).status_code == 201


def _persons_csv(*id_numbers: str, household_no: str = "HA1") -> bytes:
    lines = ["姓名,身份证号,残疾人证号,户编号,残疾类别,残疾等级"]
    lines += [f"某人,{number},{number}41,{household_no},肢体,一级" for number in id_numbers]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _bare(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("id", "report_xlsx", "report_csv")}


def test_another_countys_id_answers_as_an_unknown_one_and_the_dry_run_is_audited(client, world):
    """Finding 3 of the attack review: a dry run of another county's ID number answered "registered
    in household H…". Now it answers as an unknown ID number does, and who checked which keys is
    in the audit trail."""
    held = world.persons["HB1"]  # registered in county B's HB1 (born in county A)
    first17 = held[:14] + ("001" if held[14:17] != "001" else "002")
    unknown = first17 + id_check_char(first17)
    answers = []
    for number in (held, unknown):
        got = client.post(f"{URL}?dry_run=true", files=upload(("残疾人.csv", _persons_csv(number))),
                          headers=world.auth("organizer-a"))
        assert got.status_code == 201, got.text
        answers.append(_bare(got.json()))
    assert answers[0] == answers[1] and answers[0]["outcome"] == "imported"
    client.app.state.services.audit.flush()
    checked = {(e.action, e.object_kind, tuple(e.object_keys))
               for e in audit_entries(store=world.store, user_id="organizer-a").items}
    assert ("read", "person", (held,)) in checked and ("read", "person", (unknown,)) in checked
    assert ("read", "household", ("HA1",)) in checked


def test_a_real_run_holds_the_row_as_a_claim_that_only_an_organiser_above_both_decides(client, world):
    held = world.persons["HB1"]
    got = client.post(URL, files=upload(("残疾人.csv", _persons_csv(held))), headers=world.auth("organizer-a"))
    body = got.json()
    assert got.status_code == 201 and body["outcome"] == "imported" and body["files"][0]["created"] == 1
    assert world.store.query("MATCH (p:Person {id_number: $id}) RETURN p.household_no AS h", {"id": held}) == [
        {"h": "HB1"}]
    for user in ("organizer-a", "organizer-b"):
        assert client.get("/api/v1/claims", headers=world.auth(user)).json()["total"] == 0
    for user in ("portal-a", "cadre-a", "org-a"):
        assert client.get("/api/v1/claims", headers=world.auth(user)).status_code == 403
    [claim] = client.get("/api/v1/claims?status=待处理", headers=world.auth("admin")).json()["items"]
    assert (claim["key_kind"], claim["record_key"], claim["claimant"], claim["common_region"]) == (
        "person", held, "organizer-a", "6208")
    assert [(r["file"], r["row"], r["record"]["household_no"]) for r in claim["rows"]] == [("残疾人.csv", 2, "HA1")]
    assert client.get(f"/api/v1/claims/{claim['claim_id']}", headers=world.auth("organizer-a")).status_code == 404
    refused = client.post(f"/api/v1/claims/{claim['claim_id']}/accept", json={},
                          headers=world.auth("organizer-b"))
    assert refused.status_code == 404
    accepted = client.post(f"/api/v1/claims/{claim['claim_id']}/accept", json={"note": "已迁入"},
                           headers=world.auth("admin"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["claim"]["status"] == "已采纳" and accepted.json()["refused"] == []
    assert world.store.query("MATCH (p:Person {id_number: $id}) RETURN p.household_no AS h", {"id": held}) == [
        {"h": "HA1"}]
    again = client.post(f"/api/v1/claims/{claim['claim_id']}/decline", json={}, headers=world.auth("admin"))
    assert again.status_code == 409 and again.json()["code"] == "CLAIM_DECIDED"
    assert client.post(f"/api/v1/claims/{claim['claim_id']}/decline", json={"note": "x" * 501},
                       headers=world.auth("admin")).status_code == 422
