"""Hostile import files: random bytes under every contract name, truncated workbooks, huge cells,
formulas, wrong encodings, empty and header-only files, 10,000 columns, repeated headers.

Whatever arrives, ``run_import`` either imports it or answers with problems (or a
:class:`JieduiError`) naming the file — and the row and column where one is at fault — never with
another exception; a file it rejects writes nothing (node and edge counts are compared), and the
report written for it, as a workbook, holds no formula. Embedded engine only (the engines are
compared everywhere else); the hypothesis tests are bounded and derandomised.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_schema.errors import JieduiError
from graph_schema.store.embedded import EmbeddedStore
from graph_schema.store.schema import NODE_TABLES, REL_TABLES
from importers.contract import SPECS, Code
from importers.engine import ImportResult, run_import
from importers.report import write_report

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
NAMES = [spec.name for spec in SPECS]
HOUSEHOLD_HEADERS = next(s for s in SPECS if s.name == "家庭").headers
FORMULAS = ["=1+1", '=HYPERLINK("http://example.invalid/x","点此")', "@SUM(A1:A9)", "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "=cmd|' /C notepad'!'A1'", "\t=1+1", "=A1"]
# a stored or written value that a spreadsheet would run: =…, @…, +/- followed by a name or a bracket
RUNNABLE = re.compile(r"^\s*(=.|@[A-Za-z(]|[+\-][0-9.]*[A-Za-z(|]|[+\-][0-9.]+[+\-*/^&])")
BOUNDED = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))


# ---------------------------------------------------------------------------
# The store, and what an attempt must satisfy
# ---------------------------------------------------------------------------


def counts(store) -> dict[str, int]:
    out = {t.label: store.query(f"MATCH (n:{t.label}) RETURN count(n) AS n")[0]["n"] for t in NODE_TABLES}
    out |= {r.type: store.query(f"MATCH ()-[e:{r.type}]->() RETURN count(e) AS n")[0]["n"] for r in REL_TABLES}
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """An embedded store holding the sample set, so that person, pairing and ledger rows have
    something to refer to (and a bad file something it could damage)."""
    s = EmbeddedStore(tmp_path_factory.mktemp("hostile") / "store", buffer_pool_mb=256)
    assert run_import(s, [SAMPLE]).exit_code == 0
    yield s
    s.close()


def formula_cells(workbook: Path) -> list[str]:
    """The formula cells of an .xlsx file, from its sheet XML (``<f>`` elements)."""
    with zipfile.ZipFile(workbook) as z:
        return [m for name in z.namelist() if name.startswith("xl/worksheets/")
                for m in re.findall(r"<f[ >][^<]*", z.read(name).decode("utf-8"))]


def attempt(store, paths: list[Path], *, dry_run: bool = False) -> ImportResult | None:
    """Import ``paths``; fail on any exception but a JieduiError naming a file, on a problem
    that does not name its file, and on a write by a rejected import. Writes the report both
    ways and checks the workbook holds no formula. None when a JieduiError was raised."""
    names = {f.name for p in paths for f in ([*p.iterdir()] if p.is_dir() else [p])}
    before = counts(store)
    try:
        result = run_import(store, paths, dry_run=dry_run)
    except JieduiError as exc:
        assert any(name in str(exc) or name in str(exc.details) for name in names), exc
        assert counts(store) == before
        return None
    for problem in result.problems:
        assert problem.file in names, problem
        assert problem.code and problem.reason and problem.reason_en, problem
        assert len(problem.value) <= 200, "a problem's value must be shortened"
        if problem.row is not None:  # a row problem names its column too
            assert problem.column, problem
    if dry_run or result.exit_code == 2:
        assert counts(store) == before, "a rejected import wrote something"
    with tempfile.TemporaryDirectory() as out:
        for written in write_report(Path(out) / "导入报告.xlsx", result):
            assert formula_cells(written) == [], written.name
        for written in write_report(Path(out) / "导入报告.csv", result):
            with written.open(encoding="utf-8-sig", newline="") as f:
                for row in csv.reader(f):
                    assert not any(RUNNABLE.match(cell) for cell in row), (written.name, row)
    return result


def file_problems(result: ImportResult) -> set[str]:
    return {p.code for f in result.files for p in f.notes}


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], formulas: dict[tuple[int, int], str] | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, str(value))
    for (r, c), formula in (formulas or {}).items():
        sheet.write_formula(r, c, formula)
    book.close()
    return path


def sample_rows(name: str) -> list[list[str]]:
    with (SAMPLE / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def household_row(no: str, **cells: str) -> list[str]:
    """A valid 家庭 row (the sample's first, under a new number) with some cells replaced."""
    row = dict(zip(HOUSEHOLD_HEADERS, sample_rows("家庭")[1]))
    row.update({"户编号": no, **cells})
    return [row[h] for h in HOUSEHOLD_HEADERS]


# ---------------------------------------------------------------------------
# Random bytes
# ---------------------------------------------------------------------------


def _header_then(name: str, body: bytes) -> bytes:
    return (",".join(next(s for s in SPECS if s.name == name).headers) + "\r\n").encode("utf-8") + body


@BOUNDED
@given(name=st.sampled_from(NAMES), suffix=st.sampled_from([".csv", ".xlsx"]),
       data=st.binary(max_size=4096), headed=st.booleans())
def test_random_bytes_under_every_contract_name(store, name, suffix, data, headed):
    """Bytes alone, or (CSV) after a valid header row so that the rows themselves are random."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}{suffix}"
        path.write_bytes(_header_then(name, data) if headed and suffix == ".csv" else data)
        attempt(store, [path], dry_run=False)


@BOUNDED
@given(data=st.binary(min_size=1, max_size=2048))
def test_random_bytes_inside_a_zip_named_xlsx(store, data):
    """A zip container, as an .xlsx is, whose sheet is random bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "家庭.xlsx"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", b"<Types/>")
            z.writestr("xl/workbook.xml", data)
            z.writestr("xl/worksheets/sheet1.xml", data)
        result = attempt(store, [path])
        assert result is None or result.exit_code == 2 or not result.files[0].failed


@BOUNDED
@given(cells=st.lists(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(FORMULAS)), min_size=1, max_size=16),
                      min_size=1, max_size=8),
       suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_cells_under_valid_headers(store, tmp_path_factory, cells, suffix):
    """Random text (formulas among it) in every column of a households file, as CSV and workbook:
    the rows are imported or rejected row by row, and nothing stored is runnable."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"家庭{suffix}"
        rows = [HOUSEHOLD_HEADERS, *cells]
        if suffix == ".csv":
            write_csv(path, [[c.replace("\x00", "") for c in row] for row in rows])
        else:
            write_xlsx(path, rows)
        attempt(store, [path])
    assert_nothing_runnable_stored(store)


def assert_nothing_runnable_stored(store) -> None:
    rows = store.query("MATCH (h:Household) RETURN h.household_no AS no, h.head_name AS name, h.address AS address")
    for row in rows:
        for value in row.values():
            assert value is None or not RUNNABLE.match(value), row


# ---------------------------------------------------------------------------
# Damaged workbooks, huge cells, formulas
# ---------------------------------------------------------------------------


def test_truncated_workbooks(store, tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", sample_rows("家庭"))
    data = whole.read_bytes()
    for tenth in range(10):
        path = tmp_path / f"cut{tenth}" / "家庭.xlsx"
        path.parent.mkdir()
        path.write_bytes(data[: len(data) * tenth // 10])
        result = attempt(store, [path])
        assert result is not None and result.exit_code == 2, tenth
        assert file_problems(result) & {Code.UNREADABLE, Code.UNKNOWN_FILE}, tenth
    assert attempt(store, [whole.rename(tmp_path / "家庭.xlsx")]).exit_code == 0  # the whole one is fine


def test_a_cell_of_one_megabyte(store, tmp_path):
    huge = "张" * (1024 * 1024 // 3) + "x" * 10
    rows = [HOUSEHOLD_HEADERS, household_row("HUGE1", 户主姓名=huge), household_row("HUGE2", 详细地址=huge),
            household_row("H" * 1024 * 1024), household_row("HUGE3")]
    for suffix in (".csv", ".xlsx"):
        folder = tmp_path / suffix[1:]
        folder.mkdir()
        path = write_csv(folder / "家庭.csv", rows) if suffix == ".csv" else write_xlsx(folder / "家庭.xlsx", rows)
        before = counts(store)
        result = attempt(store, [path], dry_run=True)
        assert result is not None and result.exit_code == 1, [p for p in result.problems][:3]
        rejected = result.files[0].rejected_rows
        assert sorted(rejected) == [2, 3, 4]  # row numbers as the sheet shows them
        assert {p.code for ps in rejected.values() for p in ps} == {Code.BAD_TEXT}
        assert {p.column for ps in rejected.values() for p in ps} == {"户主姓名", "详细地址", "户编号"}
        assert counts(store) == before


def test_formulas_are_refused_or_kept_as_text(store, tmp_path):
    rows = [HOUSEHOLD_HEADERS] + [household_row(f"F{i}", 户主姓名=f, 详细地址=f) for i, f in enumerate(FORMULAS)] + \
        [household_row("F-num", 家庭人口="=1+1"), household_row("F-phone", 联系电话="=HYPERLINK(\"x\")")]
    (tmp_path / "csv").mkdir()
    csv_path = write_csv(tmp_path / "csv" / "家庭.csv", rows)
    result = attempt(store, [csv_path])
    assert result is not None
    problems = {(p.row, p.column): p for p in result.problems if p.row}
    assert problems[(rows.index(rows[-2]) + 1, "家庭人口")].code == Code.BAD_INTEGER
    for number, row in enumerate(rows[1:], 2):
        formula = row[HOUSEHOLD_HEADERS.index("户主姓名")]
        if RUNNABLE.match(formula):
            assert number in result.files[0].rejected_rows, formula
    assert_nothing_runnable_stored(store)

    # a workbook: formula cells arrive as their cached value (never evaluated), text formulas as text
    book = tmp_path / "xlsx" / "家庭.xlsx"
    book.parent.mkdir()
    xrows = [HOUSEHOLD_HEADERS, household_row("FX1"), household_row("FX2", 户主姓名="=1+1")]
    write_xlsx(book, xrows, formulas={(1, 1): '=HYPERLINK("http://example.invalid","x")', (1, 4): "=1+1"})
    result = attempt(store, [book])
    assert result is not None
    assert_nothing_runnable_stored(store)


# ---------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------

ENCODINGS = ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "utf-8-sig", "utf-8"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encodings(store, tmp_path, encoding):
    rows = sample_rows("家庭")
    if encoding == "latin-1":  # Latin-1 cannot hold the Chinese headers: English aliases, accented names
        spec = next(s for s in SPECS if s.name == "家庭")
        rows = [[c.aliases[0] for c in spec.columns]] + [
            household_row(f"L{i}", 户主姓名="José Müller", 详细地址="Straße 1") for i in range(3)]
        rows = [rows[0]] + [[c if c.isascii() or "é" in c or "ß" in c else "x" for c in r] for r in rows[1:]]
    path = write_csv(tmp_path / "家庭.csv", rows, encoding)
    result = attempt(store, [path], dry_run=True)
    assert result is not None
    if encoding in ("gbk", "gb18030", "utf-16", "utf-8-sig", "utf-8"):
        assert result.exit_code == 0, result.problems[:3]
    else:  # read as something, or refused as a whole: never a crash, never a half-read file
        assert result.exit_code in (0, 1, 2)


@pytest.mark.parametrize("bom", [True, False])
def test_utf8_with_invalid_bytes(store, tmp_path, bom):
    body = write_csv(tmp_path / "x.csv", sample_rows("家庭")).read_bytes()
    broken = body[:200] + b"\xff\xfe\xc0" + body[200:]
    path = tmp_path / "家庭.csv"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + broken)
    result = attempt(store, [path])
    assert result is not None and result.exit_code == 2
    assert file_problems(result) & {Code.UNREADABLE, Code.UNKNOWN_FILE}


# ---------------------------------------------------------------------------
# Shapes: empty, header only, 10,000 columns, repeated headers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_empty_file(store, tmp_path, suffix):
    path = tmp_path / f"家庭{suffix}"
    path.write_bytes(b"")
    result = attempt(store, [path])
    assert result is not None and result.exit_code == 2
    assert file_problems(result) & {Code.UNREADABLE, Code.UNKNOWN_FILE}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_header_only(store, tmp_path, suffix):
    rows = [HOUSEHOLD_HEADERS]
    path = write_csv(tmp_path / "家庭.csv", rows) if suffix == ".csv" else write_xlsx(tmp_path / "家庭.xlsx", rows)
    result = attempt(store, [path])
    assert result is not None and result.exit_code == 0 and result.files[0].rows_read == 0


def test_ten_thousand_columns(store, tmp_path):
    extra = [f"列{i}" for i in range(10_000 - len(HOUSEHOLD_HEADERS))]
    rows = [HOUSEHOLD_HEADERS + extra, household_row("WIDE1") + ["v"] * len(extra)]
    result = attempt(store, [write_csv(tmp_path / "家庭.csv", rows)], dry_run=True)
    assert result is not None and result.exit_code == 0
    unknown = [p for p in result.problems if p.code == Code.UNKNOWN_COLUMN]
    assert len(unknown) == len(extra) and all(p.row == 1 for p in unknown)


def test_repeated_headers(store, tmp_path):
    """A repeated column keeps its first occurrence and says so; a repeated required column too."""
    headers = HOUSEHOLD_HEADERS + ["户主姓名", "户编号"]
    rows = [headers, household_row("DUP1") + ["另一个名字", "DUP-other"]]
    result = attempt(store, [write_csv(tmp_path / "家庭.csv", rows)])
    assert result is not None and result.exit_code == 0
    notes = [p for p in result.files[0].notes if p.code == Code.DUPLICATE_COLUMN]
    assert {p.column for p in notes} == {"户主姓名", "户编号"}
    assert result.named["household_no"] == {"DUP1"}
    assert store.query("MATCH (h:Household) WHERE h.household_no = 'DUP1' RETURN h.head_name AS head") == \
        [{"head": sample_rows("家庭")[1][1]}]


def test_many_hostile_files_at_once_write_nothing(store, tmp_path):
    """One unreadable file among good ones stops the whole import before anything is written."""
    folder = tmp_path / "set"
    shutil.copytree(SAMPLE, folder)
    write_csv(folder / "家庭.csv", [HOUSEHOLD_HEADERS, household_row("NEW1")])
    (folder / "残疾人.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    result = attempt(store, [folder])
    assert result is not None and result.exit_code == 2
    assert not store.query("MATCH (h:Household {household_no: 'NEW1'}) RETURN h.household_no AS n")
