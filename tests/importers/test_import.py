"""Importing the contract files, on both engines: every rule's rejection with its code, idempotent
re-import, updates with history, dependency order, dry runs, encodings, formats, reports."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from graph_schema.household.service import get_household
from graph_schema.records import history
from graph_schema.store.schema import HOUSEHOLD
from importers.engine import run_import
from importers.report import write_report

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
ROWS = {"区划.csv": 9, "家庭.csv": 12, "残疾人.csv": 16, "干部.csv": 6, "社会组织.csv": 2, "结对.csv": 6,
        "帮扶记录.csv": 8, "部门名单.csv": 7}


def sample(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name in names or ROWS:
        shutil.copy(SAMPLE / name, folder / name)
    return folder


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))  # a column one row adds
        writer.writeheader()
        writer.writerows(rows)
    return path


def codes(result) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.file, p.row, p.column, p.code) for p in result.problems if p.code != "UNKNOWN_COLUMN"]


def count(store, label: str) -> int:
    return store.query(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]


def test_the_sample_set_imports_completely_and_a_second_run_changes_nothing(store, tmp_path):
    first = run_import(store, [sample(tmp_path)])
    assert codes(first) == [] and first.exit_code == 0
    assert {f.name: f.rows_read for f in first.files} == ROWS
    assert {f.name: f.created for f in first.files} == ROWS
    assert count(store, "Household") == 12 and count(store, "Person") == 16 and count(store, "Listing") == 7
    assert store.query("MATCH (:Org)-[p:AUX_PAIRED_WITH]->(h) RETURN h.household_no AS h") == [{"h": "H101203003"}]
    assert store.query("MATCH (p:Problem) RETURN p.problem_no AS no, p.closed_on IS NULL AS open ORDER BY no") == [
        {"no": "P0001", "open": False}, {"no": "P0002", "open": True}]
    second = run_import(store, [sample(tmp_path)])
    assert second.exit_code == 0
    assert {f.name: (f.created, f.updated, f.unchanged) for f in second.files} == {
        name: (0, 0, n) for name, n in ROWS.items()}
    assert count(store, "Revision") == 0


def test_files_are_applied_in_dependency_order_whatever_order_they_are_given(store, tmp_path):
    folder = sample(tmp_path)
    reverse = sorted(folder.iterdir(), key=lambda p: p.name, reverse=True)
    result = run_import(store, [folder / "帮扶记录.csv", folder / "残疾人.csv", *reverse])
    assert result.exit_code == 0, codes(result)
    assert count(store, "Person") == 16


def test_a_changed_row_updates_the_record_and_keeps_its_history(store, tmp_path):
    run_import(store, [sample(tmp_path, "区划.csv", "家庭.csv")])
    rows = read_rows(SAMPLE / "家庭.csv")
    rows[0]["家庭人口"] = "6"
    rows[0]["是否低保"] = "否"
    changed = run_import(store, [write_rows(tmp_path / "家庭.csv", rows)])
    assert [(f.created, f.updated, f.unchanged) for f in changed.files] == [(0, 1, 11)]
    assert get_household(store=store, household_no="H100201001").size == 6
    previous = store.read(lambda tx: history(tx, HOUSEHOLD, "H100201001"))
    assert previous[0]["previous"] == {"size": 5, "dibao": True}


def test_a_file_missing_a_required_column_is_rejected_before_any_write(store, tmp_path):
    folder = sample(tmp_path)
    rows = read_rows(SAMPLE / "残疾人.csv")
    write_rows(folder / "残疾人.csv", [{k: v for k, v in r.items() if k != "残疾人证号"} for r in rows])
    result = run_import(store, [folder])
    assert result.exit_code == 2
    assert ("残疾人.csv", 1, "残疾人证号", "MISSING_COLUMN") in codes(result)
    assert count(store, "Household") == 0 and count(store, "Region") == 0


@pytest.mark.parametrize("content,code", [(b"\x00\x01garbage\xff", "UNREADABLE"), (b"a,b\n1,2\n", "UNKNOWN_FILE")])
def test_an_unusable_file_stops_the_import(store, tmp_path, content, code):
    folder = sample(tmp_path, "家庭.csv")
    (folder / "其他.csv").write_bytes(content)
    result = run_import(store, [folder])
    assert result.exit_code == 2 and [c[3] for c in codes(result)] == [code]
    assert count(store, "Household") == 0


def test_a_missing_path_is_reported(store, tmp_path):
    result = run_import(store, [tmp_path / "nope" / "家庭.csv"])
    assert result.exit_code == 2 and codes(result)[0][3] == "UNREADABLE"


def bad(tmp_path: Path, name: str, edit) -> Path:
    rows = read_rows(SAMPLE / name)
    edit(rows)
    folder = sample(tmp_path)
    write_rows(folder / name, rows)
    return folder


def _set(index: int, **cells):
    def edit(rows):
        rows[index].update({k.replace("_", ""): v for k, v in cells.items()})
    return edit


def _dup(index: int, **cells):
    def edit(rows):
        rows.append({**rows[index], **cells})
    return edit


def _many(edits):
    edits = list(edits)

    def edit(rows):
        for one in edits:
            one(rows)
    return edit


CASES = [
    # (file, edit, spreadsheet row, column, code)
    ("家庭.csv", _set(0, 户主身份证号="620822198903216431"), 2, "户主身份证号", "ID_CHECKSUM"),
    ("家庭.csv", _set(0, 户主身份证号="6.20822198903216E+17"), 2, "户主身份证号", "ID_FLOAT"),
    ("家庭.csv", _set(0, 户主身份证号="62082219890321643"), 2, "户主身份证号", "ID_LENGTH"),
    ("家庭.csv", _set(1, 劳动力人数="9"), 3, "劳动力人数", "INCONSISTENT"),
    ("家庭.csv", _set(1, 区划代码="620822100000"), 3, "区划代码", "WRONG_LEVEL"),
    ("家庭.csv", _set(1, 户主姓名=""), 3, "户主姓名", "REQUIRED"),
    ("家庭.csv", _set(1, 是否低保="也许"), 3, "是否低保", "BAD_BOOLEAN"),
    ("家庭.csv", _set(1, 监测类别="很困难"), 3, "监测类别", "BAD_CHOICE"),
    ("家庭.csv", _dup(1, 户主姓名="另一人"), 14, "户编号", "DUPLICATE_KEY"),
    ("残疾人.csv", _set(0, 残疾人证号="62082219890321643X13"), 2, "残疾人证号", "CERT_GRADE"),
    ("残疾人.csv", _set(0, 残疾类别="视力", 残疾人证号="62082219890321643X24"), 2, "残疾人证号", "CERT_CATEGORY"),
    ("残疾人.csv", _set(0, 户编号="H999"), 2, "户编号", "UNKNOWN_REFERENCE"),
    ("残疾人.csv", _set(0, 残疾等级="五级"), 2, "残疾等级", "BAD_CHOICE"),
    ("残疾人.csv", _set(0, 证件有效期至="2024-02-30"), 2, "证件有效期至", "BAD_DATE"),
    ("干部.csv", _set(0, 结对上限="12"), 2, "结对上限", "OUT_OF_RANGE"),
    ("干部.csv", _set(0, 驻点区划代码="620822"), 2, "驻点区划代码", "WRONG_LEVEL"),
    ("干部.csv", _set(0, 手机号="12345"), 2, "手机号", "BAD_PHONE"),
    ("社会组织.csv", _set(0, 统一社会信用代码="52620800P32462330X"), 2, "统一社会信用代码", "USCC_CHECKSUM"),
    ("结对.csv", _set(0, 干部编号=""), 2, "干部编号", "REQUIRED"),
    ("结对.csv", _set(1, 户编号="H100201001"), 3, "户编号", "HOUSEHOLD_ALREADY_PAIRED"),
    ("结对.csv", _set(3, 结束日期="2021-01-01"), 5, "结束日期", "DATE_ORDER"),
    ("结对.csv", _many(_dup(2, 户编号=h, 干部编号="GB0001") for h in ("H100202011", "H100201010", "H101203012")),
     10, "干部编号", "CADRE_AT_LIMIT"),
    ("结对.csv", _dup(2, 户编号="H100202011", 干部编号="GB9999"), 8, "干部编号", "UNKNOWN_REFERENCE"),
    ("帮扶记录.csv", _set(0, 统一社会信用代码="52620800P32462330H"), 2, "干部编号", "INCONSISTENT"),
    ("帮扶记录.csv", _set(0, 干部编号=""), 2, "干部编号", "REQUIRED"),
    ("帮扶记录.csv", _set(0, 日期="2999-01-01"), 2, "日期", "FUTURE_DATE"),
    ("帮扶记录.csv", _set(4, 金额="12.345"), 6, "金额", "BAD_MONEY"),
    ("帮扶记录.csv", _set(0, 类型="吃饭"), 2, "类型", "BAD_CHOICE"),
    ("帮扶记录.csv", _set(2, 问题编号="P0009"), 4, "问题编号", "PROBLEM_NOT_OPEN"),
    ("帮扶记录.csv", _set(1, 问题编号=""), 3, "问题编号", "REQUIRED"),
    ("部门名单.csv", _set(0, 起始年月="2024-13"), 2, "起始年月", "BAD_MONTH"),
    ("部门名单.csv", _set(0, 来源部门="外星"), 2, "来源部门", "BAD_CHOICE"),
]


@pytest.mark.parametrize("name,edit,row,column,code", CASES, ids=[f"{c[0]}-{c[4]}" for c in CASES])
def test_each_rule_rejects_its_row_with_its_code_and_the_rest_is_imported(store, tmp_path, name, edit, row,
                                                                          column, code):
    result = run_import(store, [bad(tmp_path, name, edit)])
    assert result.exit_code == 1
    assert (name, row, column, code) in codes(result), codes(result)
    others = [p.code for p in result.problems if p.file != name and p.code != "UNKNOWN_COLUMN"]
    assert set(others) <= {"UNKNOWN_REFERENCE"}  # other files lose only rows that depend on the rejected one
    f = next(f for f in result.files if f.name == name)
    assert f.created + f.rejected == f.rows_read


def test_a_dry_run_reports_the_same_and_writes_nothing(store, tmp_path):
    folder = bad(tmp_path, "结对.csv", _set(1, 户编号="H100201001"))
    dry = run_import(store, [folder], dry_run=True)
    assert count(store, "Household") == 0 and count(store, "Region") == 0
    real = run_import(store, [folder])
    assert codes(dry) == codes(real) and dry.exit_code == real.exit_code == 1


def test_a_dry_run_counts_what_the_import_would_create_update_and_leave_unchanged(store, tmp_path):
    def counts(result) -> dict[str, tuple[int, int, int, int]]:
        return {f.name: (f.created, f.updated, f.unchanged, f.rejected) for f in result.files}

    folder = sample(tmp_path)
    dry = run_import(store, [folder], dry_run=True)
    assert count(store, "Household") == 0
    assert {f.name: f.created for f in dry.files} == ROWS  # every file, pairings and ledger included
    assert counts(dry) == counts(run_import(store, [folder]))
    rows = read_rows(folder / "家庭.csv")
    rows[0]["详细地址"] = "新地址 1 号"
    write_rows(folder / "家庭.csv", rows)
    again = run_import(store, [folder], dry_run=True)
    assert counts(again)["家庭.csv"] == (0, 1, 11, 0)
    assert {name: c for name, c in counts(again).items() if name != "家庭.csv"} == {
        name: (0, 0, n, 0) for name, n in ROWS.items() if name != "家庭.csv"}
    assert counts(again) == counts(run_import(store, [folder]))


def test_only_an_import_that_writes_ends_with_the_stores_bulk_load_step(store, tmp_path, monkeypatch):
    """The step gives back what the embedded engine held for the rows (the demo county: ~430 MiB)."""
    steps = []
    step = store.after_bulk_load
    monkeypatch.setattr(store, "after_bulk_load", lambda: (steps.append(1), step()))
    folder = sample(tmp_path)
    assert run_import(store, [folder], dry_run=True).exit_code == 0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "其他.csv").write_bytes(b"a,b\n1,2\n")
    assert run_import(store, [folder, tmp_path / "bad"]).exit_code == 2
    assert steps == []
    assert run_import(store, [folder]).exit_code == 0
    assert steps == [1]
    assert count(store, "Household") == 12  # and the store reads on after it


def test_gbk_and_xlsx_inputs(store, tmp_path):
    folder = sample(tmp_path, "区划.csv", "家庭.csv")
    write_rows(folder / "家庭.csv", read_rows(SAMPLE / "家庭.csv"), encoding="gbk")
    rows = read_rows(SAMPLE / "残疾人.csv")
    book = xlsxwriter.Workbook(str(folder / "残疾人名册.xlsx"))
    sheet = book.add_worksheet()
    sheet.merge_range(0, 0, 0, 9, "灵台县持证残疾人名册（2024年）")
    sheet.write_row(1, 0, [f"{h}*" if h in ("姓名", "身份证号") else h for h in rows[0]])
    for r, row in enumerate(rows, 2):
        sheet.write_row(r, 0, list(row.values()))
    book.close()
    result = run_import(store, [folder])
    assert result.exit_code == 0, codes(result)
    assert count(store, "Person") == 16 and count(store, "Household") == 12
    persons = next(f for f in result.files if f.name.endswith(".xlsx"))
    assert persons.spec.name == "残疾人" and persons.table.header_row == 2


def test_the_report_and_the_rejected_rows_file_round_trip_through_a_fix(store, tmp_path):
    folder = bad(tmp_path, "家庭.csv", _set(1, 劳动力人数="9"))
    result = run_import(store, [folder])
    (tmp_path / "out").mkdir()
    written = write_report(tmp_path / "out" / "report.xlsx", result)
    report = CalamineWorkbook.from_path(str(written[0])).get_sheet_by_index(0).to_python()
    assert report[0][:5] == ["文件 file", "行号 row", "列 column", "值 value", "代码 code"]
    assert ["家庭.csv", 3, "劳动力人数", "9", "INCONSISTENT"] == [
        int(v) if isinstance(v, float) else v for v in report[1][:5]]
    fix = CalamineWorkbook.from_path(str(written[1])).get_sheet_by_index(0).to_python()
    assert written[1].name == "report.家庭.xlsx" and fix[0][-1] == "错误原因" and fix[1][0] == "H100202002"
    csv_written = write_report(tmp_path / "out" / "report.csv", result)
    fixed_rows = read_rows(csv_written[1])
    assert len(fixed_rows) == 1 and fixed_rows[0]["户编号"] == "H100202002"
    fixed_rows[0]["劳动力人数"] = "3"
    again = run_import(store, [write_rows(csv_written[1], fixed_rows)])
    assert again.exit_code == 0 and again.files[0].created == 1
    assert [p.code for p in again.problems] == ["UNKNOWN_COLUMN"]  # the 错误原因 column, ignored


def test_rows_refused_by_a_later_rule_are_written_back_whole(store, tmp_path):
    """Accepted rows' cells wait on disk while later rules decide; the refused ones come back as read."""
    folder = bad(tmp_path, "残疾人.csv", _many([_set(0, 户编号="H999"), _set(1, 残疾等级="五级")]))
    result = run_import(store, [folder])
    persons = next(f for f in result.files if f.name == "残疾人.csv")
    assert sorted(persons.rejected_rows) == [2, 3] and persons.spool is None
    written = write_report(tmp_path / "report.csv", result)
    back = read_rows(next(p for p in written if p.name == "report.残疾人.csv"))
    original = read_rows(SAMPLE / "残疾人.csv")
    assert [r["户编号"] for r in back] == ["H999", original[1]["户编号"]]
    assert [r["身份证号"] for r in back] == [original[0]["身份证号"], original[1]["身份证号"]]
    assert back[1]["残疾等级"] == "五级" and "UNKNOWN" not in back[1]["错误原因"]


def test_an_unusable_file_leaves_no_row_of_the_others_judged(store, tmp_path):
    """Files are checked as they are read; one that cannot be used voids the rows checked before it."""
    folder = bad(tmp_path, "家庭.csv", _set(1, 是否低保="也许"))
    (folder / "其他.csv").write_bytes(b"a,b\n1,2\n")
    result = run_import(store, [folder], dry_run=True)
    assert result.exit_code == 2 and [c[3] for c in codes(result)] == ["UNKNOWN_FILE"]
    assert all(not f.valid and not f.rejected_rows and f.spool is None for f in result.files)


def test_accepted_records_share_their_set_of_given_fields_and_stay_apart(tmp_path):
    """A copy with a change gives a new record; the one it came from and its neighbours keep theirs."""
    from importers.engine import check_rows, read_file
    f = read_file(sample(tmp_path, "家庭.csv") / "家庭.csv")
    check_rows(f)
    first, second = f.valid[0][1], f.valid[1][1]
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    before = first.model_dump()
    changed = first.model_copy(update={"size": 9})
    changed.__pydantic_fields_set__.discard("phone")
    assert first.model_dump() == before and "phone" in second.model_fields_set


def test_a_writing_import_lets_the_store_give_back_memory_after_each_file(store, tmp_path, monkeypatch):
    """On the embedded engine what the writes held goes only when the database closes: after each
    file, so the import's peak is its largest file's. A dry run writes nothing and gives back nothing."""
    written = []
    step = store.between_bulk_loads
    monkeypatch.setattr(store, "between_bulk_loads", lambda: (written.append(count(store, "Household")), step()))
    folder = sample(tmp_path)
    assert run_import(store, [folder], dry_run=True).exit_code == 0 and written == []
    assert run_import(store, [folder]).exit_code == 0
    assert len(written) == len(ROWS) and written[0] == 0 and written[-1] == 12  # regions first, households next
    assert count(store, "Person") == 16


@pytest.mark.parametrize("dry_run", [True, False])
def test_one_kind_of_file_is_in_memory_at_a_time(store, tmp_path, monkeypatch, dry_run):
    """Files are read and checked in dependency order, whatever order they are named in; when a
    file is checked, no earlier file still holds its records or its table (a real run's records
    wait on disk until their write), and the answer is what it was."""
    from importers import engine
    folder = bad(tmp_path, "残疾人.csv", _set(0, 户编号="H999"))
    expected = run_import(store, [folder], dry_run=True)
    seen: list[tuple[str, list[str]]] = []
    check = engine.check_rows

    def spy(f, progress=None, spool=False):
        result = spy.result
        holding = [g.name for g in result.files if g is not f and (g.valid or (g.table and len(g.table.rows) > len(g.rejected_rows)))]
        seen.append((f.name, holding))
        return check(f, progress, spool)

    real_result = engine.ImportResult

    def capture(files, dry):
        spy.result = real_result(files, dry)
        return spy.result

    monkeypatch.setattr(engine, "check_rows", spy)
    monkeypatch.setattr(engine, "ImportResult", capture)
    result = run_import(store, [folder], dry_run=dry_run)
    assert [name for name, _ in seen] == ["区划.csv", "家庭.csv", "残疾人.csv", "干部.csv", "社会组织.csv", "结对.csv",
                                          "帮扶记录.csv", "部门名单.csv"]
    assert all(holding == [] for _, holding in seen)
    assert codes(result) == codes(expected) == [("残疾人.csv", 2, "户编号", "UNKNOWN_REFERENCE")]
    assert [(f.created, f.updated, f.unchanged) for f in result.files] == \
        [(f.created, f.updated, f.unchanged) for f in expected.files]
    assert all(not f.valid and f.kept is None and f.spool is None for f in result.files)
    assert count(store, "Person") == (0 if dry_run else 15)
    assert "H999" not in result.touched and result.named["id_number"] >= {r["身份证号"] for r in read_rows(SAMPLE / "残疾人.csv")[1:]}


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_late_file_that_cannot_be_used_voids_the_kinds_decided_before_it(store, tmp_path, dry_run):
    """The last file in dependency order is read after the others were checked (and, in a dry run,
    previewed): when it cannot be used, no row is judged, nothing is counted and nothing is written."""
    folder = bad(tmp_path, "家庭.csv", _set(1, 是否低保="也许"))
    (folder / "部门名单.csv").write_bytes(b"\x00\x01garbage\xff")
    result = run_import(store, [folder], dry_run=dry_run)
    assert result.exit_code == 2 and [c[3] for c in codes(result)] == ["UNREADABLE"]
    assert all(not f.valid and not f.rejected_rows and f.spool is None and f.kept is None for f in result.files)
    assert all((f.created, f.updated, f.unchanged) == (0, 0, 0) for f in result.files)
    assert {f.name: f.rows_read for f in result.files if f.name != "部门名单.csv"} == \
        {name: n for name, n in ROWS.items() if name != "部门名单.csv"}
    assert result.named == {a: set() for a in result.named} and not result.touched
    assert count(store, "Region") == 0 and count(store, "Household") == 0


def test_cells_spooled_while_a_file_is_checked_come_back_whole(store, tmp_path, monkeypatch):
    """A file's cells go to disk every few rows checked: the report is the same, byte for byte,
    whichever rows a slice of the check sent, refused by the check or by a later rule."""
    from importers import engine
    folder = bad(tmp_path, "残疾人.csv", _many([_set(0, 户编号="H999"), _set(4, 残疾等级="五级"),
                                              _dup(6, 姓名="另一个")]))

    def report(name: str) -> dict[str, bytes]:
        result = run_import(store, [folder], dry_run=True)
        out = tmp_path / name
        out.mkdir()
        write_report(out / "report.csv", result)
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}

    whole = report("whole")
    for size in (1, 2, 5):
        monkeypatch.setattr(engine, "SPOOL_ROWS", size)
        assert report(f"by{size}") == whole
    assert b"H999" in whole["report.残疾人.csv"] and b"DUPLICATE_KEY" in whole["report.csv"]


def test_a_real_run_writes_nothing_until_every_file_is_checked(store, tmp_path, monkeypatch):
    """Records wait on disk from their check to their write, but the writes still begin only once
    the last file is read and checked: a file that cannot be used stops the import before any."""
    from importers import engine
    events: list[tuple[str, str]] = []
    check, write = engine.check_rows, engine.write_records
    monkeypatch.setattr(engine, "check_rows", lambda f, progress=None, spool=False: (
        events.append(("check", f.name)), check(f, progress, spool))[1])
    monkeypatch.setattr(engine, "write_records", lambda store, kind, records, progress=None: (
        events.append(("write", kind)), write(store, kind, records, progress))[1])
    assert run_import(store, [sample(tmp_path)]).exit_code == 0
    steps = [step for step, _ in events]
    # a pairing file's 一对一 and 辅助 rows are written one after the other (a slice each)
    assert steps == ["check"] * len(ROWS) + ["write"] * (len(ROWS) + 1), events
    assert count(store, "Person") == 16


def test_records_read_back_are_written_a_few_whole_batches_at_a_time(store, tmp_path, monkeypatch):
    """A real run reads a file's records back from disk a slice of whole batches at a time, not the
    file at once (a province's service records at once held ~1 GiB more). The batch paths get the
    same batches in the same order (a pairing file's 一对一 rows, then its 辅助 rows, as they are
    written), so the report, the counts and the store are those of the file written whole."""
    from graph_schema.settings import get_settings
    from importers import engine
    monkeypatch.setattr(get_settings(), "batch_size", 2)
    folder = bad(tmp_path, "结对.csv", _many([_set(1, 户编号="H100201001"),  # refused
                                            lambda rows: rows.insert(2, {**rows[5], "户编号": "H100201004"})]))
    calls: list[tuple[str, list]] = []
    write = engine.write_records

    def spy(store, kind, records, progress=None):
        calls.append((kind, list(records)))
        return write(store, kind, records, progress)

    monkeypatch.setattr(engine, "write_records", spy)

    def run(name: str, sliced: tuple[str, ...]):
        monkeypatch.setattr(engine, "SLICED_KINDS", sliced)
        monkeypatch.setattr(engine, "SLICE_BATCHES", 1)
        calls.clear()
        store.wipe()
        result = run_import(store, [folder])
        out = tmp_path / name
        out.mkdir()
        write_report(out / "report.csv", result)
        stored = {label: count(store, label) for label in ("Household", "Person", "Listing", "Problem")}
        stored["pairings"] = store.query("MATCH ()-[p:PAIRED_WITH|AUX_PAIRED_WITH]->() RETURN count(p) AS n")[0]["n"]
        return (result.exit_code, [(f.name, f.created, f.updated, f.unchanged) for f in result.files],
                {p.name: p.read_bytes() for p in sorted(out.iterdir())}, stored, list(calls))

    kinds = engine.SLICED_KINDS
    whole, sliced = run("whole", ()), run("sliced", kinds)
    assert sliced[:4] == whole[:4] and whole[0] == 1
    assert b"HOUSEHOLD_ALREADY_PAIRED" in whole[2]["report.csv"]
    by_kind = {}
    for kind, records in whole[4]:
        by_kind.setdefault(kind, []).extend(records)
    assert [type(r).__name__[0] for r in by_kind["pairings"]] == list("PAPPPA")  # whole: in the file's order
    pairings = sorted(by_kind["pairings"], key=lambda r: type(r).__name__ != "PairRequest")  # a stable sort
    assert {kind: [r for k, records in sliced[4] if k == kind for r in records] for kind in by_kind} == \
        by_kind | {"pairings": pairings}
    sizes = {kind: [len(records) for k, records in sliced[4] if k == kind] for kind in by_kind}
    assert sizes["households"] == [2] * 6 and sizes["persons"] == [2] * 8
    assert sizes["pairings"] == [2, 2, 2] and sizes["regions"] == [9]  # not a batch path: whole
