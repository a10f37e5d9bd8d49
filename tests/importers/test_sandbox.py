"""Reading an untrusted file in a child process with limits (``importers/sandbox.py``).

The child gives back exactly the table this process would read; a file that gets past the
structural checks and then exhausts the child's address space, processor time or wall-clock
time is refused as ``FILE_TOO_LARGE`` naming the file, and this process carries on; whatever
the child sends back is unpickled only as plain values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hostile_workbooks
from graph_schema.store.schema import NODE_TABLES
from importers import sandbox
from importers.contract import SPECS, Code
from importers.engine import run_import
from importers.file_limits import FileLimits
from importers.readers import ReadError, read_table
from importers.sandbox import read_isolated

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
JIEDUI = str(Path(sys.executable).parent / "jiedui")
ENV = os.environ | {"COLUMNS": "200"}  # the command's messages are not wrapped
DEFAULTS = FileLimits.from_settings()
KNOWN = {name for s in SPECS for c in s.columns for name in (c.header, *c.aliases)}


def counts(store) -> dict[str, int]:
    return {t.label: store.query(f"MATCH (n:{t.label}) RETURN count(n) AS n")[0]["n"] for t in NODE_TABLES}


def limits(**changed) -> FileLimits:
    return dataclasses.replace(DEFAULTS, **changed)


def refused(path: Path, lim: FileLimits = DEFAULTS) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read_isolated(path, KNOWN, lim)
    assert caught.value.path == path and caught.value.zh and caught.value.en
    return caught.value


def my_children() -> set[int]:
    """Processes whose parent is this one (from /proc); other tests' may be there already."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                    out.add(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def test_the_child_reads_what_this_process_reads(tmp_path: Path) -> None:
    children = my_children()
    paths = sorted(SAMPLE.glob("*.csv"))
    book = hostile_workbooks.sheet(
        tmp_path / "家庭.xlsx",
        '<row r="1"><c r="A1" t="inlineStr"><is><t>户编号</t></is></c><c r="B1" t="inlineStr"><is><t>户主姓名</t>'
        '</is></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>H1</t></is></c><c r="B3"><v>1.5</v></c>'
        '<c r="C3" t="b"><v>1</v></c></row>', "A1:C3")
    for path in [*paths, book]:
        here, there = read_table(path, KNOWN), read_isolated(path, KNOWN)
        assert dataclasses.asdict(there) == dataclasses.asdict(here), path.name
    assert read_isolated(book, KNOWN).rows == [(3, ["H1", 1.5])]
    assert my_children() == children


def test_the_corner_workbook_with_a_false_dimension_kills_only_the_child(tmp_path: Path) -> None:
    """The dimension says A1, so the structural checks let it through; the reader then asks for
    ~550 GB and aborts: the child dies, this process answers FILE_TOO_LARGE."""
    children = my_children()
    for dimension in ("A1", None):
        path = hostile_workbooks.corner(tmp_path / f"{dimension}-家庭.xlsx", dimension)
        error = refused(path)
        assert error.code == Code.FILE_TOO_LARGE
        assert f"more than {DEFAULTS.memory_mb:,} MB of memory" in error.en and "内存" in error.zh
    assert my_children() == children


def test_a_child_beyond_its_processor_time_is_stopped(tmp_path: Path) -> None:
    """A zip bomb let through (no ratio limit) keeps the reader busy for many seconds."""
    path = hostile_workbooks.bomb(tmp_path / "家庭.xlsx", megabytes=64)
    started = time.monotonic()
    error = refused(path, limits(max_ratio=10_000, cpu_seconds=1))
    assert error.code == Code.FILE_TOO_LARGE and "1 s of processor time" in error.en
    assert time.monotonic() - started < 30


def test_a_child_beyond_its_wall_clock_time_is_killed(tmp_path: Path) -> None:
    children = my_children()
    path = hostile_workbooks.bomb(tmp_path / "家庭.xlsx", megabytes=64)
    started = time.monotonic()
    error = refused(path, limits(max_ratio=10_000, timeout_seconds=1.5))
    assert error.code == Code.FILE_TOO_LARGE and "longer than 1.5 s" in error.en
    assert time.monotonic() - started < 10
    assert my_children() == children


def test_a_child_out_of_python_memory_is_refused(tmp_path: Path) -> None:
    """A CSV that Python itself cannot hold in the address space it is given."""
    path = tmp_path / "家庭.csv"
    path.write_bytes(",".join(SPECS[1].headers).encode() + b"\n" + (b"H," + b"x" * 1000 + b"\n") * 100_000)
    error = refused(path, limits(memory_mb=200))
    assert error.code == Code.FILE_TOO_LARGE and "200 MB of memory" in error.en


def test_other_deaths_of_the_child_are_unreadable_files() -> None:
    path = Path("家庭.xlsx")
    for status, shown in ((-signal.SIGSEGV, "SIGSEGV"), (1, "exit status 1")):
        error = sandbox._died(path, status, b"", DEFAULTS)
        assert error.code == Code.UNREADABLE and shown in error.en and error.path == path


def test_the_event_loop_of_the_caller_stays_free_while_a_child_reads(tmp_path: Path) -> None:
    """While the child works, another thread of this process keeps running (ticks every 10 ms)."""
    path = hostile_workbooks.bomb(tmp_path / "家庭.xlsx", megabytes=64)
    ticks: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        refused(path, limits(max_ratio=10_000, timeout_seconds=2))
    finally:
        done.set()
        ticker.join()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 50 and max(gaps) < 0.5, max(gaps)


def test_only_plain_values_come_back_from_the_child() -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    with pytest.raises(pickle.UnpicklingError):
        sandbox._PlainUnpickler(io.BytesIO(pickle.dumps(("table", 1, [], [(2, [Evil()])], None)))).load()
    values = ("table", 1, ["户编号"], [(2, ["H1", 1.5, True, None, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3),
                                          dt.time(4, 5), dt.timedelta(days=1)])], "utf-8")
    assert sandbox._PlainUnpickler(io.BytesIO(pickle.dumps(values))).load() == values


def test_an_import_read_in_children_refuses_hostile_files_and_writes_nothing(store, tmp_path: Path) -> None:
    """The service's way to import (``read=read_isolated``), on both engines: the sample set with
    one hostile workbook among it is refused as a whole, naming that file; alone, the sample
    set is read and checked as in this process."""
    folder = tmp_path / "set"
    folder.mkdir()
    for source in SAMPLE.glob("*.csv"):
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "家庭.csv").unlink()
    hostile_workbooks.corner(folder / "家庭.xlsx", "A1")
    before = counts(store)
    result = run_import(store, [folder], read=read_isolated)
    assert result.exit_code == 2 and counts(store) == before
    assert [(p.file, p.code) for p in result.problems if p.code in (Code.FILE_TOO_LARGE, Code.UNREADABLE)] == [
        ("家庭.xlsx", Code.FILE_TOO_LARGE)]
    result = run_import(store, [SAMPLE], read=read_isolated, dry_run=True)
    assert result.exit_code == 0 and {f.name: f.rows_read for f in result.files}["家庭.csv"] == 12


def test_the_import_command_reads_in_children_when_asked(tmp_path: Path) -> None:
    """``jiedui import --isolate``: a workbook that would abort the command is refused (exit 2,
    the reason printed) and the command ends normally; honest files import as without it."""
    hostile = hostile_workbooks.corner(tmp_path / "家庭.xlsx", "A1")
    done = subprocess.run([JIEDUI, "import", str(hostile), "--store", str(tmp_path / "store"), "--dry-run",
                           "--isolate"], capture_output=True, text=True, timeout=300, env=ENV, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "家庭.xlsx" in done.stderr and "MB of memory" in done.stderr
    done = subprocess.run([JIEDUI, "import", str(SAMPLE), "--store", str(tmp_path / "store"), "--dry-run",
                           "--isolate"], capture_output=True, text=True, timeout=300, env=ENV, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
