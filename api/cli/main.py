"""The ``jiedui`` command line.

Every command takes ``--store``: a directory (embedded LadybugDB, default ``./jiedui-data`` or
``JIEDUI_STORE``) or a ``bolt://``/``neo4j://`` URI (Neo4j; credentials from ``JIEDUI_NEO4J_*``).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import ssl
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import StoreOption, cli_store, console, err, fail
from api.cli.match import match_app
from api.cli.user import audit_command, first_users, user_app
from api.cli.notify import notify_command
from api.cli.report import remind_command, report_command
from graph_schema.access.service import list_users
from graph_schema.errors import JieduiError
from graph_schema.household.service import has_households
from graph_schema.models import today
from graph_schema.monitoring.unpaired import unpaired_priority
from graph_schema.pagination import PageRequest
from graph_schema.service import tally
from graph_schema.settings import Settings, get_settings
from graph_schema.store import GraphStore, is_neo4j_uri
from importers import synth, synth_files
from importers.engine import REPORT_PREFIX, ImportResult, Reader, run_import
from importers.readers import read_table
from importers.sandbox import read_isolated
from importers.backup import BackupError, backup, restore
from importers.export import export
from importers.report import write_report

app = typer.Typer(help="结对帮扶 graph manager / 结对帮扶图谱管理", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(match_app, name="match")
app.add_typer(user_app, name="user")
app.command("audit")(audit_command)
app.command("report")(report_command)
app.command("remind")(remind_command)
app.command("notify")(notify_command)


@app.command()
def init(store: StoreOption = None) -> None:
    """Create the store and its schema (idempotent) / 初始化图库."""
    with cli_store(store) as s:
        console.print(f"图库已就绪 / store ready: [bold]{s.location}[/bold] ({s.dialect.value})")


@app.command()
def demo(
    store: StoreOption = None,
    preset: Annotated[str, typer.Option(help="county (a county, ~9k households) or tiny")] = "county",
    seed: int = 1,
    rows: Annotated[int, typer.Option(help="rows to show / 显示行数")] = 20,
) -> None:
    """Build an invented demo county (on an empty store) and list its unpaired priority households.
    用虚构的示范县数据建图，并列出未结对的重点户。

    The demo data takes the road real data takes: written as the contract's files, then imported.
    """
    with cli_store(store) as s:
        _load_demo(s, preset, seed)
        _print_unpaired(unpaired_priority(store=s, page=PageRequest(page_size=rows)))


@app.command()
def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="监听地址 / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    preset: Annotated[str, typer.Option(help="空图库时载入的示范数据 / demo data for an empty store: county | tiny")]
    = "county",
    tls_cert: Annotated[Path | None, typer.Option(
        "--tls-cert", help="HTTPS 证书（PEM，可含中间证书）/ the HTTPS certificate (PEM, chain included)")] = None,
    tls_key: Annotated[Path | None, typer.Option(
        "--tls-key", help="证书的私钥（PEM）/ the certificate's private key (PEM)")] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="工作进程数（仅 Neo4j 图库）/ worker processes (a Neo4j store only)")] = 1,
) -> None:
    """启动 REST 与 GraphQL 服务 / run the service (REST at /api/v1, GraphQL at /graphql).

    On an empty store it first loads the invented demo county and creates one demo user per role,
    printing their tokens (kept, for an embedded store, in its folder as demo-tokens.txt). A store
    with data but no user gets an ``admin`` user, its token printed the same way.

    With ``--tls-cert`` and ``--tls-key`` it serves HTTPS: a browser runs the cadre's offline pages
    (a service worker) only on HTTPS or on the machine itself (localhost).

    With ``--workers N`` (a Neo4j store) N processes answer on the one port, each with its own
    driver; the demo data and first users are made before they start. The embedded store is
    opened by one process only, so there it is refused (exit 2).
    """
    import uvicorn

    from api.app import create_app, freeze_startup_objects

    tls = _tls(tls_cert, tls_key)
    settings = get_settings()
    target = store or settings.store
    if workers > 1 and not is_neo4j_uri(target):
        raise fail(JieduiError(
            "嵌入式图库只能由一个进程打开，--workers 须为 1；多个工作进程请用 Neo4j 图库（bolt:// 或 neo4j:// 地址）",
            "the embedded store is opened by one process only, so --workers must be 1; "
            "for several workers use a Neo4j store (a bolt:// or neo4j:// URI)"))
    threads = settings.embedded_query_threads or 1  # many small queries at once: one thread each
    with cli_store(store, settings.model_copy(update={"embedded_query_threads": threads})) as s:
        loaded = _load_demo(s, preset, 1)
        if loaded or not list_users(store=s):
            first_users(s, demo=loaded)
        scheme = "https" if tls else "http"
        console.print(f"服务地址 / serving at {scheme}://{host}:{port}  (API 文档 docs: /docs · GraphQL: /graphql)")
        if workers == 1:
            app_ = create_app(s, report_ttl=settings.report_cache_seconds, token_ttl=settings.token_cache_seconds,
                              keep_tallies=True)
            freeze_startup_objects()
            uvicorn.Server(server_config(app_, host=host, port=port, settings=settings, tls=tls)).run()
            return
    _serve_workers(target, workers, settings, server_config("api.app:worker_app", host=host, port=port, settings=settings,
                                                  tls=tls, workers=workers))


def _serve_workers(target: str, workers: int, settings: Settings, config: Any) -> None:
    """Run ``workers`` processes of the app factory on one socket (uvicorn's supervisor restarts
    one that dies). They find the store, and the CSRF secret they must share (drawn here unless
    ``JIEDUI_CSRF_SECRET`` gives one), in the environment they inherit. The daily ``notify``
    (``JIEDUI_NOTIFY_AT``) and the keeping of the service tallies run here, once, rather than in
    every worker."""
    import asyncio
    import threading

    from uvicorn.supervisors import Multiprocess

    from api.notify_runs import daily
    from api.tally_runs import kept_current

    os.environ["JIEDUI_STORE"] = target
    if not settings.csrf_secret:
        os.environ["JIEDUI_CSRF_SECRET"] = secrets.token_hex(32)
    console.print(f"{workers} 个工作进程 / {workers} worker processes")
    with cli_store(target) as s:
        if settings.notify_at:
            threading.Thread(target=asyncio.run, args=(daily(s, settings.notify_at),), daemon=True).start()
        threading.Thread(target=asyncio.run, args=(kept_current(s),), daemon=True).start()
        Multiprocess(config, sockets=[config.bind_socket()]).run()


def _tls(cert: Path | None, key: Path | None) -> tuple[Path, Path] | None:
    """The certificate and key, both or neither, checked before anything else starts: a wrong
    pair or an unreadable file is said at once (exit 2), not after the demo data loaded."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise fail(JieduiError("--tls-cert 与 --tls-key 须同时给出", "give both --tls-cert and --tls-key"))
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise fail(JieduiError(f"无法使用证书 {cert} 与私钥 {key}：{exc}",
                               f"cannot use the certificate {cert} with the key {key}: {exc}")) from exc
    return cert, key


def server_config(app_: Any, *, host: str, port: int, settings: Settings,
                  tls: tuple[Path, Path] | None = None, workers: int = 1) -> Any:
    """uvicorn's configuration of ``jiedui serve``. Forwarded headers are believed only from the
    proxies ``JIEDUI_FORWARDED_ALLOW_IPS`` names (uvicorn's own default believes any loopback
    client, so anything on the machine could pick the address the throttles count). ``tls``: the
    certificate and key files of HTTPS. With ``workers`` > 1, ``app_`` is the import string of an
    app factory."""
    import uvicorn

    proxies = settings.forwarded_allow_ips.strip()
    certfile, keyfile = (str(tls[0]), str(tls[1])) if tls else (None, None)
    return uvicorn.Config(app_, host=host, port=port, log_level="warning", access_log=False, http="httptools",
                          loop="uvloop", proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
                          ssl_certfile=certfile, ssl_keyfile=keyfile, workers=workers, factory=workers > 1)


def _load_demo(s: GraphStore, preset: str, seed: int) -> bool:
    """Import the invented demo data into an empty store; False if the store already holds data."""
    if has_households(store=s):
        console.print("图库中已有数据，直接使用 / the store already holds data: using it as it is")
        return False
    with tempfile.TemporaryDirectory() as folder:
        # as of today, so that the lists and the dashboard show this quarter's work
        data = synth.generate(preset, seed=seed, as_of=dt.date.today())
        synth_files.write_files(data, Path(folder), seed=seed)
        _print_import(_import_with_progress(s, [Path(folder)], dry_run=False))
        synth.load_referrals(s, data.referrals)  # no contract file carries referrals
    return True


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="文件或文件夹 / files or folders", show_default=False)],
    store: StoreOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验不写入 / validate, write nothing")] = False,
    report: Annotated[Path | None, typer.Option(help="报告文件 .xlsx 或 .csv / report file")] = None,
    isolate: Annotated[bool, typer.Option("--isolate", help="在受限的子进程中读取每个文件（来源不可信时）/ read each "
                                                            "file in a child process with limits (files from "
                                                            "an untrusted source)")] = False,
) -> None:
    """导入组织者的表格 / import the organisers' spreadsheets.

    Exit status: 0 every row imported; 1 some rows rejected (the others imported, report written);
    2 nothing imported (unreadable file, missing required column, file beyond the import limits,
    bad usage).
    """
    with cli_store(store) as s:
        try:
            result = _import_with_progress(s, paths, dry_run=dry_run, read=read_isolated if isolate else read_table)
        except JieduiError as exc:
            err.print(f"[red]导入中断：{exc.zh}[/red]\nimport interrupted: {exc.en}\n"
                      "已写入的批次完整保留，修复后重新导入即可（重复导入不会重复写入）/ batches already written are "
                      "complete; importing again after the fix is safe")
            raise typer.Exit(2) from exc
    _print_import(result)
    if result.problems:
        target = report or Path(f"{REPORT_PREFIX}-{dt.datetime.now():%Y%m%d-%H%M%S}.xlsx")
        written = write_report(target, result)
        console.print(f"报告已写入 / report written: {', '.join(str(p) for p in written)}")
    raise typer.Exit(result.exit_code)


@app.command("export")
def export_(
    out: Annotated[Path, typer.Option("--out", help="输出文件夹 / output folder")],
    store: StoreOption = None,
) -> None:
    """把整个图库导出为导入模板格式的八个文件（也是备份格式）/ export the store as the contract files."""
    with cli_store(store) as s:
        counts = export(s, out)
    for name, rows in counts.items():
        console.print(f"{name}: {rows}")


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Option("--out", help="备份文件夹 / backup folder")],
    store: StoreOption = None,
) -> None:
    """备份整个图库：导入模板文件 + 其余各表 + 清单（含校验和）/ back up the whole store (engine-neutral)."""
    with cli_store(store) as s, _progress() as bar:
        task = bar.add_task("备份 backup", total=None)
        manifest = backup(s, out, progress=lambda name, done, total: bar.update(task, completed=done, total=total,
                                                                                 description=f"备份 backup {name}"))
    for name, info in manifest["files"].items():
        console.print(f"{name}: {info['rows']}")
    console.print(f"备份已写入 / backup written: {out}")


@app.command("restore")
def restore_command(
    folder: Annotated[Path, typer.Argument(help="备份文件夹 / backup folder", show_default=False)],
    store: StoreOption = None,
) -> None:
    """把备份恢复到空图库（先核对校验和）/ restore a backup into an EMPTY store (checksums verified first).

    Exit status: 0 restored; 1 restored but some contract rows were rejected; 2 refused (damaged
    backup, non-empty store) or nothing written.
    """
    with cli_store(store) as s, _progress() as bar:
        tasks: dict[str, int] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"{name} 写入 write", total=total)
            bar.update(tasks[name], completed=done)

        def import_progress(name: str, phase: str, done: int, total: int) -> None:
            if total >= 2000:
                progress(f"{name} {'校验 check' if phase == 'check' else '导入 import'}", done, total)

        try:
            result = restore(s, folder, progress=progress, import_progress=import_progress)
        except BackupError as exc:
            raise fail(exc) from exc
    _print_import(result.imported)
    for name, rows in result.counts.items():
        console.print(f"{name}: {rows}")
    console.print(f"已恢复 / restored into: {s.location}")
    raise typer.Exit(1 if result.imported.exit_code else 0)


@app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Option("--out", help="输出文件夹 / output folder")],
    preset: Annotated[str, typer.Option(help="county | city | province")] = "county",
    seed: int = 1,
    bad_rows: Annotated[float, typer.Option("--bad-rows", min=0.0, max=0.5,
                                            help="注入错误行的比例 / share of known bad rows to inject")] = 0.0,
    file_format: Annotated[str, typer.Option("--format", help="csv | xlsx")] = "csv",
) -> None:
    """生成虚构的导入文件 / write invented contract files (same seed, same files)."""
    if preset not in synth.PRESETS or file_format not in ("csv", "xlsx"):
        err.print(f"[red]未知预设或格式 / unknown preset or format: {preset} {file_format}[/red]")
        raise typer.Exit(2)
    manifest = synth_files.synth_to_dir(preset, seed, out, bad_rows=bad_rows, fmt=file_format)
    for path in sorted(out.iterdir()):
        console.print(str(path))
    if manifest:
        console.print(f"注入错误行 / bad rows injected: {len(manifest)}（manifest.json）")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


def _import_with_progress(store: GraphStore, paths: list[Path], *, dry_run: bool,
                          read: Reader = read_table) -> ImportResult:
    """run_import with a progress bar for each phase of a file of a few thousand rows or more."""
    with _progress() as bar:
        tasks: dict[tuple[str, str], int] = {}

        def progress(name: str, phase: str, done: int, total: int) -> None:
            if total < 2000:
                return
            if (name, phase) not in tasks:
                label = "校验 check" if phase == "check" else "写入 write"
                tasks[(name, phase)] = bar.add_task(f"{name} {label}", total=total)
            bar.update(tasks[(name, phase)], completed=done)

        result = run_import(store, paths, dry_run=dry_run, progress=progress, read=read)
        if not dry_run and result.exit_code != 2:  # the first service-rates report need not make them
            task = bar.add_task("服务汇总 service tallies", total=None)
            tally.keep_current(store, today().year,
                                    lambda done, total: bar.update(task, completed=done, total=total))
        return result


def _print_import(result: ImportResult) -> None:
    title = "导入结果 / import result" + ("（试运行，未写入 / dry run, nothing written）" if result.dry_run else "")
    table = Table(title=title, caption="读取 read · 新增 created · 更新 updated · 未变 unchanged · 拒绝 rejected")
    for column in ("文件", "类型", "读取", "新增", "更新", "未变", "拒绝"):
        table.add_column(column, no_wrap=True)
    for f in result.files:
        table.add_row(f.name, f.spec.name if f.spec else "?", str(f.rows_read), str(f.created), str(f.updated),
                      str(f.unchanged), str(f.rejected))
    console.print(table)
    for problem in [p for p in result.problems if p.row is None or p.code == "MISSING_COLUMN"][:20]:
        err.print(f"[red]{problem.file}[/red] {problem.column or ''}: {problem.reason} / {problem.reason_en}")


def _print_unpaired(page) -> None:
    table = Table(title=f"未结对重点户 / unpaired priority households（共 {page.total} 户，{dt.date.today()}）",
                  caption="户编号 household · 区划 region · 户主 head · 风险 risk level · 分值 score · 原因 reasons")
    for column in ("户编号", "区划", "户主", "风险", "分值"):
        table.add_column(column, no_wrap=True)
    table.add_column("原因", overflow="fold")
    for item in page.items:
        table.add_row(item.household_no, item.region_code, item.head_name, item.risk_level.value,
                      str(item.risk_score), "、".join(item.reasons))
    console.print(table)
    if page.total > len(page.items):
        console.print(f"显示前 {len(page.items)} 户 / showing the first {len(page.items)} of {page.total}")
