"""A household file of ``JIEDUI_HUGE_ROWS`` rows (100,000 by default; the full run uses 1,000,000),
one row in ten bad, imported by the ``jiedui import`` command in a process of its own: it must end
with every bad row reported by line, column and reason, the good ones stored, and a peak memory
within a budget (the child's own high-water mark)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph_schema.identifiers import id_check_char
from graph_schema.store.embedded import EmbeddedStore

pytestmark = pytest.mark.reliability
ROWS = int(os.environ.get("JIEDUI_HUGE_ROWS", "100000"))
HEADERS = ("户编号,户主姓名,户主身份证号,区划代码,详细地址,家庭人口,劳动力人数,年人均纯收入,监测类别,是否脱贫户,"
           "是否低保,是否特困,是否以老养残,风险因素,联系电话").split(",")
VILLAGES = [f"620822{t:03d}{v:03d}" for t in (100, 101, 102) for v in range(201, 221)]
#: peak resident memory allowed for the import process, in MiB: a base, plus 6 KiB per row (the
#: import checks every file's rows together before it writes, so memory grows with the file:
#: measured 5.4 KiB a row, engine pages included; see docs/reliability.md)
BUDGET_MIB = 300 + ROWS * 6 // 1024


def _id(serial: int) -> str:
    first17 = f"620822{1950 + serial % 50}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def write_households(path: Path, rows: int) -> set[int]:
    """The file, and the 1-based data rows that are bad (every tenth: an ID number whose check
    character is wrong)."""
    bad = set(range(10, rows + 1, 10))
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADERS)
        for row in range(1, rows + 1):
            id_number = _id(row)
            if row in bad:
                id_number = id_number[:17] + ("0" if id_number[17] != "0" else "1")
            out.writerow([f"H{row:09d}", "张三", id_number, VILLAGES[row % len(VILLAGES)], f"{row}号", 3, 1, 5600,
                          "", "否", "否", "否", "否", "", ""])
    return bad


#: runs ``jiedui ARGS`` and, as it ends, writes its peak RSS (VmHWM, in KiB) to the file named first.
#: Not ``wait4``'s ``ru_maxrss``: that counts the forked copy of the test process before ``exec``,
#: which in a long test run is larger than the import itself.
PEAK_WRAPPER = """
import sys
from pathlib import Path
from api.cli import app
out, sys.argv = sys.argv[1], ["jiedui", *sys.argv[2:]]
try:
    app()
finally:
    status = Path("/proc/self/status").read_text().splitlines()
    Path(out).write_text(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def run_measured(args: list[str], logs: Path) -> tuple[int, str, float]:
    """Run ``jiedui ARGS``: its exit status, its stderr and its own peak resident memory in MiB."""
    peak = logs / "peak-kib.txt"
    with (logs / "err.txt").open("w") as err:
        done = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, str(peak), *args],
                              stdout=subprocess.DEVNULL, stderr=err, timeout=3600)
    return done.returncode, (logs / "err.txt").read_text(), int(peak.read_text()) / 1024


def test_a_huge_file_with_bad_rows_imports_the_good_ones_in_bounded_memory(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    bad = write_households(folder / "家庭.csv", ROWS)
    (folder / "区划.csv").write_text("区划代码,名称\n" + "".join(f"{v},{v[-3:]}村\n" for v in VILLAGES), encoding="utf-8")
    store_dir, report = tmp_path / "store", tmp_path / "report.csv"
    status, stderr, peak = run_measured(["import", str(folder), "--store", str(store_dir), "--report", str(report)],
                                        tmp_path)
    print(f"\n{ROWS:,} rows: exit {status}, peak {peak:.0f} MiB (budget {BUDGET_MIB} MiB)")
    assert status != 0, "an import with rejected rows must not end as a success"
    assert "Traceback" not in stderr
    assert peak < BUDGET_MIB
    with report.open(encoding="utf-8-sig") as f:
        problems = list(csv.DictReader(f))
    # each bad row is named by its line in the file (the header is line 1), column and reason
    assert {int(p["行号 row"]) for p in problems} == {r + 1 for r in bad}
    assert {(p["文件 file"], p["列 column"], p["代码 code"]) for p in problems} == {("家庭.csv", "户主身份证号", "ID_CHECKSUM")}
    with EmbeddedStore(store_dir) as store:
        stored = store.query("MATCH (h:Household) RETURN count(h) AS n")[0]["n"]
        bad_stored = store.query("MATCH (h:Household) WHERE h.household_no IN $nos RETURN count(h) AS n",
                                 {"nos": [f"H{r:09d}" for r in sorted(bad)[:1000]]})[0]["n"]
    assert stored == ROWS - len(bad)
    assert bad_stored == 0
