"""The ``jiedui`` command line.

Every command takes ``--store``: a directory (embedded LadybugDB, default ``./jiedui-data`` or
``JIEDUI_STORE``) or a ``bolt://``/``neo4j://`` URI (Neo4j; credentials from ``JIEDUI_NEO4J_*``).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Annotated, Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph_schema.errors import JieduiError
from graph_schema.monitoring.service import unpaired_priority
from graph_schema.pagination import PageRequest
from graph_schema.store import GraphStore, open_store
from importers import synth

app = typer.Typer(help="结对帮扶 graph manager / 结对帮扶图谱管理", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

StoreOption = Annotated[str | None, typer.Option(
    "--store", envvar="JIEDUI_STORE", help="目录（嵌入式）或 bolt:// / neo4j:// 地址 / directory or Neo4j URI")]


@contextmanager
def _store(target: str | None) -> Iterator[GraphStore]:
    """Open the store, turning a failure into a clear message and exit status 2."""
    try:
        store = open_store(target)
    except JieduiError as exc:
        err.print(f"[red]{exc.zh}[/red]\n{exc.en}")
        raise typer.Exit(2) from exc
    try:
        yield store
    finally:
        store.close()


@app.command()
def init(store: StoreOption = None) -> None:
    """Create the store and its schema (idempotent) / 初始化图库."""
    with _store(store) as s:
        console.print(f"图库已就绪 / store ready: [bold]{s.location}[/bold] ({s.dialect.value})")


@app.command()
def demo(
    store: StoreOption = None,
    preset: Annotated[str, typer.Option(help="county (a county, ~9k households) or tiny")] = "county",
    seed: int = 1,
    rows: Annotated[int, typer.Option(help="rows to show / 显示行数")] = 20,
) -> None:
    """Build an invented demo county (on an empty store) and list its unpaired priority households.
    用虚构的示范县数据建图，并列出未结对的重点户。"""
    with _store(store) as s:
        if s.query("MATCH (h:Household) RETURN count(h) AS n")[0]["n"]:
            console.print("图库中已有数据，直接查询 / the store already holds data: querying it as it is")
        else:
            data = synth.generate(preset, seed=seed)
            _load_with_progress(s, data)
        page = unpaired_priority(store=s, page=PageRequest(page_size=rows))
        _print_unpaired(page)


def _load_with_progress(store: GraphStore, data: synth.SynthData) -> None:
    totals = {"households": len(data.households), "persons": len(data.persons),
              "pairings": len(data.pairings), "ledger": len(data.ledger)}
    labels = {"households": "家庭 households", "persons": "残疾人 persons", "pairings": "结对 pairings",
              "ledger": "帮扶记录 ledger"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as bar:
        tasks = {k: bar.add_task(labels[k], total=n) for k, n in totals.items()}
        synth.load(store, data, progress=lambda kind, n: bar.advance(tasks[kind], n))


def _print_unpaired(page) -> None:
    table = Table(title=f"未结对重点户 / unpaired priority households（共 {page.total} 户，{dt.date.today()}）",
                  caption="户编号 household · 区划 region · 户主 head · 风险 risk level · 分值 score · 原因 reasons")
    for column in ("户编号", "区划"):
        table.add_column(column, no_wrap=True)
    for column in ("户主", "风险", "分值"):
        table.add_column(column, no_wrap=True)
    table.add_column("原因", overflow="fold")
    for item in page.items:
        table.add_row(item.household_no, item.region_code, item.head_name, item.risk_level.value,
                      str(item.risk_score), "、".join(item.reasons))
    console.print(table)
    if page.total > len(page.items):
        console.print(f"显示前 {len(page.items)} 户 / showing the first {len(page.items)} of {page.total}")


def main() -> None:  # pragma: no cover - console entry
    app()
