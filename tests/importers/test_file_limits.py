"""The import limits, checked before a file is read: a workbook by its zip directory and its first
sheet's dimension, a CSV as it is parsed (cells, columns, NUL characters).

A refused file is a file-level problem (``FILE_TOO_LARGE`` or ``UNREADABLE``) naming the file,
with the figures in Chinese and English; honest files, including the province preset's (see
docs/reliability.md), stay well inside the defaults. The hostile
workbooks come from ``tests/hostile_workbooks.py``. The hostile files that abort a process are
read here only through a child process (``jiedui import``), so that a regression fails the test
rather than the test run.
"""

from __future__ import annotations

import csv
import dataclasses
import doctest
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

import hostile_workbooks
from importers import file_limits
from importers.contract import SPECS, Code
from importers.engine import run_import
from importers.file_limits import FileLimits
from importers.readers import ReadError, read_table
from importers.synth_files import synth_to_dir

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
JIEDUI = str(Path(sys.executable).parent / "jiedui")
HOUSEHOLDS = next(s for s in SPECS if s.name == "家庭")
KNOWN = {name for c in HOUSEHOLDS.columns for name in (c.header, *c.aliases)}
DEFAULTS = FileLimits.from_settings()


def limits(**changed) -> FileLimits:
    return dataclasses.replace(DEFAULTS, **changed)


def refused(path: Path, lim: FileLimits = DEFAULTS) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read_table(path, KNOWN, lim)
    assert caught.value.path == path and caught.value.zh and caught.value.en and caught.value.zh != caught.value.en
    return caught.value


def sample_workbook(path: Path, rows: int = 0) -> Path:
    """The sample's 家庭 rows (or ``rows`` copies of its first) as a workbook."""
    with (SAMPLE / "家庭.csv").open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    if rows:
        table = table[:1] + [[f"W{i}", *table[1][1:]] for i in range(rows)]
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet()
    for r, row in enumerate(table):
        sheet.write_row(r, 0, row)
    book.close()
    return path


def test_the_dimension_is_read_as_the_rectangle_from_a1() -> None:
    assert doctest.testmod(file_limits).failed == 0
    assert file_limits.sheet_area("A1:XFD1048576") == (1_048_576, 16_384)
    assert file_limits.sheet_area("C5:D9") == (9, 4)
    assert file_limits.sheet_area(None) is None and file_limits.sheet_area("A1:ZZZZ1") is None


def test_the_1_5_kb_corner_workbook_is_refused_by_its_dimension_and_the_command_survives(tmp_path: Path) -> None:
    """The workbook of the attack review, through ``jiedui import`` in a process of its own: it
    aborted with SIGABRT trying to allocate ~550 GB; now it ends with exit status 2 and says why."""
    path = hostile_workbooks.corner(tmp_path / "家庭.xlsx")
    assert path.stat().st_size < 2048
    done = subprocess.run([JIEDUI, "import", str(path), "--store", str(tmp_path / "store"), "--dry-run"],
                          capture_output=True, text=True, timeout=120, env=os.environ | {"COLUMNS": "200"},
                          cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert "17,179,869,184" in done.stderr and "家庭.xlsx" in done.stderr
    error = refused(path)  # and in this process, since the dimension is checked first
    assert error.code == Code.FILE_TOO_LARGE and "1,048,576 rows × 16,384 columns" in error.en


def test_a_zip_bomb_is_refused_by_its_directory_before_it_is_unpacked(tmp_path: Path) -> None:
    path = hostile_workbooks.bomb(tmp_path / "家庭.xlsx", megabytes=128)
    error = refused(path)
    assert error.code == Code.FILE_TOO_LARGE and "zip bomb" in error.en and "压缩炸弹" in error.zh
    # too much unpacked in all, whatever the ratio
    error = refused(path, limits(max_ratio=1000, max_unpacked_mb=100))
    assert error.code == Code.FILE_TOO_LARGE and "at most 100 MB" in error.en


def test_too_many_parts_and_repeated_parts_are_refused(tmp_path: Path) -> None:
    path = sample_workbook(tmp_path / "家庭.xlsx")
    parts = len(zipfile.ZipFile(path).infolist())
    assert read_table(path, KNOWN, limits(max_parts=parts)).rows
    error = refused(path, limits(max_parts=parts - 1))
    assert error.code == Code.FILE_TOO_LARGE and f"{parts:,} parts" in error.en
    forged = tmp_path / "forged" / "家庭.xlsx"
    forged.parent.mkdir()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(forged, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            out.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
    error = refused(forged)
    assert error.code == Code.UNREADABLE and "xl/worksheets/sheet1.xml" in error.en


def test_the_cells_limit_counts_the_used_area_from_a1(tmp_path: Path) -> None:
    path = sample_workbook(tmp_path / "家庭.xlsx", rows=99)  # header + 99 rows × 15 columns: A1:O100
    assert len(read_table(path, KNOWN, limits(max_cells=1500)).rows) == 99
    error = refused(path, limits(max_cells=1499))
    assert error.code == Code.FILE_TOO_LARGE and "100 rows × 15 columns = 1,500 cells" in error.en


def test_a_false_or_missing_dimension_is_no_reason_to_refuse(tmp_path: Path) -> None:
    """Apache POI's streaming writer declares A1 whatever the sheet holds: such a file reads."""
    honest = sample_workbook(tmp_path / "honest.xlsx")
    for dimension, name in (("<dimension ref=\"A1\"/>", "a1"), ("", "none")):
        path = tmp_path / name / "家庭.xlsx"
        path.parent.mkdir()
        with zipfile.ZipFile(honest) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b'<dimension ref="A1:O13"/>', dimension.encode())
                    assert b"A1:O13" not in data
                out.writestr(info.filename, data)
        assert read_table(path, KNOWN, limits(max_cells=10)).rows == read_table(honest, KNOWN).rows


def test_the_synthetic_files_read_under_the_defaults(tmp_path: Path) -> None:
    """Every contract file as the generator writes it (the province preset's files are measured
    against the defaults in docs/reliability.md)."""
    synth_to_dir("tiny", 1, tmp_path, fmt="xlsx")
    for path in sorted(tmp_path.glob("*.xlsx")):
        spec = next(s for s in SPECS if s.name == path.stem)
        table = read_table(path, {h for c in spec.columns for h in (c.header, *c.aliases)})
        assert table.rows and table.headers[: len(spec.headers)] == spec.headers


# ---------------------------------------------------------------------------
# CSV: no directory to check, so it is bounded as it is parsed
# ---------------------------------------------------------------------------


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_nul_characters_refuse_a_csv(tmp_path: Path) -> None:
    header = ",".join(HOUSEHOLDS.headers) + "\n"
    error = refused(csv_file(tmp_path / "家庭.csv", header + "H1,张\x00三\n"))
    assert error.code == Code.UNREADABLE and "NUL" in error.en and "NUL" in error.zh
    # UTF-16 without a byte order mark is the usual source: every other byte is NUL
    english = ",".join(c.aliases[0] for c in HOUSEHOLDS.columns) + "\nH1,Li\n"
    error = refused(csv_file(tmp_path / "家庭.csv", english, "utf-16-le"))
    assert error.code == Code.UNREADABLE and "NUL" in error.en


def test_a_line_with_a_million_columns_refuses_a_csv(tmp_path: Path) -> None:
    header = ",".join(HOUSEHOLDS.headers)
    error = refused(csv_file(tmp_path / "家庭.csv", header + "," * 1_000_000 + "\n"))
    assert error.code == Code.FILE_TOO_LARGE and "row 1 has 1,000,015 columns" in error.en and "16,384" in error.en
    # in a data row too, under any delimiter the header fits
    error = refused(csv_file(tmp_path / "家庭.csv", header.replace(",", ";") + "\nH1" + ";" * 20_000 + "\n"))
    assert error.code == Code.FILE_TOO_LARGE and "row 2 has 20,001 columns" in error.en
    # Excel's own width is accepted
    wide = header + "," + ",".join(f"列{i}" for i in range(16_384 - 16)) + "\n"
    assert read_table(csv_file(tmp_path / "家庭.csv", wide), KNOWN).headers[-1] == f"列{16_384 - 17}"


def test_a_csv_beyond_the_cells_limit_is_refused_while_it_is_parsed(tmp_path: Path) -> None:
    rows = ",".join(HOUSEHOLDS.headers) + "\n" + "H,x,x,x,x,x,x,x,x,x,x,x,x,x,x\n" * 100  # 101 × 15 cells
    path = csv_file(tmp_path / "家庭.csv", rows)
    assert len(read_table(path, KNOWN, limits(max_cells=1515)).rows) == 100
    error = refused(path, limits(max_cells=1514))
    assert error.code == Code.FILE_TOO_LARGE and "more than 1,514 cells" in error.en


def test_one_enormous_line_is_a_rejected_row_not_a_refused_file(store, tmp_path: Path) -> None:
    """A 9 MB cell fits the limits (it is one cell): its row is rejected by the cell rules, the
    file's other rows are checked, and the problem's value is shortened."""
    buffer = io.StringIO(newline="")
    out = csv.writer(buffer)
    with (SAMPLE / "家庭.csv").open(encoding="utf-8-sig", newline="") as f:
        sample = list(csv.reader(f))
    out.writerow(sample[0])
    out.writerow(["HUGE", "张" * 3_000_000, *sample[1][2:]])
    out.writerows(sample[1:])
    path = csv_file(tmp_path / "家庭.csv", buffer.getvalue())
    regions = tmp_path / "区划.csv"
    regions.write_bytes((SAMPLE / "区划.csv").read_bytes())  # the villages the households name
    result = run_import(store, [path, regions], dry_run=True)
    households = next(f for f in result.files if f.name == "家庭.csv")
    assert result.exit_code == 1 and households.rows_read == len(sample)
    assert list(households.rejected_rows) == [2]
    (problem,) = households.rejected_rows[2]
    assert (problem.code, problem.column) == (Code.BAD_TEXT, "户主姓名") and len(problem.value) <= 200
    assert "3000000" in problem.reason_en.replace(",", "")
