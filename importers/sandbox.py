"""Reading an untrusted file in a child process with limits, so that a hostile upload is refused
with a clear error while the service keeps answering.

The checks of :mod:`importers.file_limits` refuse what a file's structure declares; a file can
still lie (a missing or false dimension, cells far from where it says) or be costly in ways no
header shows. The spreadsheet reader then aborts the process on a failed allocation, or holds
the interpreter for a minute, and no handler can answer. So the service never reads an upload
itself: :func:`read_isolated` runs :func:`importers.readers.read_table` in a fresh interpreter
(``python -P -m importers.sandbox``) whose address space and processor time are capped
(``RLIMIT_AS``, ``RLIMIT_CPU``; no core file), waits for it with a wall-clock timeout, and maps its
death to a file-level ``FILE_TOO_LARGE`` or ``UNREADABLE`` problem naming the file. The waiting
thread holds no lock, so the event loop and the other workers carry on; at most
``JIEDUI_IMPORT_READERS`` children read at once, further uploads wait for one.

The table comes back pickled in a file of a temporary folder (measured against a pipe: equal
speed, and the file is read only once the child has ended well, streamed, without a second copy
in memory). The child is not trusted: the parent unpickles only plain values and the four
``datetime`` types a sheet holds, so a child that a malicious file took over still cannot make
the parent run anything. The ``jiedui import`` command reads in its own process (the operator's
own files, without the child's start-up and pickling) unless it is given ``--isolate``; the
structural checks apply to it all the same.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection
from pathlib import Path

from importers.contract import Code
from importers.file_limits import FileLimits
from importers.readers import ReadError, Table, read_table

__all__ = ["read_isolated"]

log = logging.getLogger(__name__)

OUT_OF_MEMORY = 3  # the child's exit status when Python itself ran out of its address space
_SAFE_GLOBALS = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta")}
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _readers() -> threading.BoundedSemaphore:
    from graph_schema.settings import get_settings  # here, as in FileLimits.from_settings

    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(get_settings().import_readers)
        return _slots


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles lists, tuples, strings, numbers and dates; refuses every other class."""

    def find_class(self, module: str, name: str):  # noqa: ANN201 - as pickle declares it
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a value a sheet holds")


def read_isolated(path: Path, known_headers: Collection[str], limits: FileLimits | None = None) -> Table:
    """:func:`importers.readers.read_table` in a child process with ``limits`` (default: the
    settings'); raises :class:`ReadError` as it does, and also when the child is stopped by a
    limit (``FILE_TOO_LARGE``) or dies (``UNREADABLE``)."""
    path = Path(path)
    limits = limits or FileLimits.from_settings()
    with _readers(), tempfile.TemporaryDirectory(prefix="jiedui-read-") as folder:
        out, errors = Path(folder) / "table.pickle", Path(folder) / "stderr.txt"
        job = {"path": str(path.resolve()), "headers": sorted(known_headers), "out": str(out),
               "limits": dataclasses.asdict(limits)}
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIEDUI_")}  # no store credentials
        env["RUST_BACKTRACE"] = "0"  # a reader's abort says why in its first line; no backtrace
        with errors.open("wb") as stderr:
            child = subprocess.Popen([sys.executable, "-P", "-m", "importers.sandbox"], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=stderr, cwd=folder, env=env)
            try:
                child.communicate(json.dumps(job).encode(), timeout=limits.timeout_seconds)
            except subprocess.TimeoutExpired:
                raise _too_large(path, f"读取超过 {limits.timeout_seconds:g} 秒",
                                 f"reading it took longer than {limits.timeout_seconds:g} s") from None
            finally:  # timed out, or this thread interrupted: the child goes too
                if child.poll() is None:
                    child.kill()
                    child.wait()
        if child.returncode != 0:
            with errors.open("rb") as stream:
                raise _died(path, child.returncode, stream.read(4096), limits)
        try:
            with out.open("rb") as stream:
                kind, *payload = _PlainUnpickler(stream).load()
            refusal = ReadError(Code(payload[0]), *payload[1:], path) if kind == "refused" else None
            table = None if refusal else Table(path, *payload)
        except (OSError, EOFError, ValueError, TypeError, IndexError, pickle.UnpicklingError) as exc:
            log.warning("reading %s in a child process gave no table: %r", path.name, exc)
            raise ReadError(Code.UNREADABLE, "无法读取文件：读取进程没有交回表格",
                            "cannot read the file: the reading process gave back no table", path) from None
    if refusal:
        raise refusal
    return table


def _too_large(path: Path, zh: str, en: str) -> ReadError:
    return ReadError(Code.FILE_TOO_LARGE, f"文件超出导入限制，已停止读取：{zh}；文件过大或格式异常",
                     f"the file exceeds an import limit and reading it was stopped: {en}; the file is too large "
                     f"or malformed", path)


def _died(path: Path, status: int, stderr: bytes, limits: FileLimits) -> ReadError:
    log.warning("reading %s in a child process ended with status %s: %s", path.name, status,
                stderr.decode("utf-8", "replace").strip().partition("\n")[0])
    memory = (f"需要超过 {limits.memory_mb:,} MB 内存", f"it needed more than {limits.memory_mb:,} MB of memory")
    if status == OUT_OF_MEMORY or (status == -signal.SIGABRT and b"memory allocation" in stderr):
        return _too_large(path, *memory)
    if status == -signal.SIGXCPU:
        return _too_large(path, f"处理器时间超过 {limits.cpu_seconds:,} 秒",
                          f"it took more than {limits.cpu_seconds:,} s of processor time")
    if status == -signal.SIGKILL:  # the hard CPU limit, or the system out of memory
        return _too_large(path, "读取进程因处理器时间或内存超限被终止",
                          "the reading process was killed for its processor time or memory")
    how = f"signal {signal.Signals(-status).name}" if status < 0 and -status in signal.valid_signals() \
        else f"exit status {status}"
    return ReadError(Code.UNREADABLE, f"无法读取文件：读取进程意外终止（{how}）",
                     f"cannot read the file: the reading process ended unexpectedly ({how})", path)


# --- the child ---------------------------------------------------------------------------------


def _limit_self(limits: FileLimits) -> None:
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child() -> None:
    """Read the job from stdin, limit this process, read the file and pickle what came of it."""
    job = json.loads(sys.stdin.buffer.read())
    limits = FileLimits(**job["limits"])
    _limit_self(limits)
    try:
        try:
            table = read_table(Path(job["path"]), job["headers"], limits)
            payload: tuple = ("table", table.header_row, table.headers, table.rows, table.encoding)
        except ReadError as exc:
            payload = ("refused", str(exc.code), exc.zh, exc.en)
        with open(job["out"], "wb") as out:
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.fast = True  # no memo: ~5× faster to write, and a table holds no cycle
            pickler.dump(payload)
    except MemoryError:
        os._exit(OUT_OF_MEMORY)  # unwinding could need memory too


if __name__ == "__main__":
    _child()
