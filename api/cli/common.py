"""What every command of the CLI shares: the consoles, the ``--store`` option, opening the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from graph_schema.errors import JieduiError
from graph_schema.settings import Settings
from graph_schema.store import GraphStore, open_store

console = Console()
err = Console(stderr=True)

StoreOption = Annotated[str | None, typer.Option(
    "--store", envvar="JIEDUI_STORE", help="目录（嵌入式）或 bolt:// / neo4j:// 地址 / directory or Neo4j URI")]


def fail(exc: JieduiError, code: int = 2) -> typer.Exit:
    """Print a domain error in both languages; the caller raises the returned exit."""
    err.print(f"[red]{exc.zh}[/red]\n{exc.en}")
    return typer.Exit(code)


@contextmanager
def cli_store(target: str | None, settings: Settings | None = None) -> Iterator[GraphStore]:
    """Open the store, turning a failure into a clear message and exit status 2."""
    try:
        store = open_store(target, settings)
    except JieduiError as exc:
        raise fail(exc) from exc
    try:
        yield store
    finally:
        store.close()
