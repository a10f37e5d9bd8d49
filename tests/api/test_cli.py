"""The command line: init, and the demo that ends in the table of unpaired priority households."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def _target(engine: str, store, tmp_path) -> str:
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
        return str(tmp_path / "cli-store")
    return store.location


def test_demo_builds_the_graph_and_prints_the_unpaired_table(engine, store, tmp_path):
    target = _target(engine, store, tmp_path)
    first = runner.invoke(app, ["demo", "--preset", "tiny", "--store", target, "--rows", "5"])
    assert first.exit_code == 0, first.output
    assert "未结对重点户 / unpaired priority households" in first.output
    total = int(re.search(r"共 (\d+) 户", first.output).group(1))
    assert total > 0 and len(re.findall(r"│ H\d+", first.output)) == min(5, total)
    again = runner.invoke(app, ["demo", "--preset", "tiny", "--store", target, "--rows", "5"])
    assert again.exit_code == 0 and "already holds data" in again.output
    assert f"共 {total} 户" in again.output


def test_init_reports_the_store(engine, store, tmp_path):
    target = _target(engine, store, tmp_path)
    result = runner.invoke(app, ["init", "--store", target])
    assert result.exit_code == 0 and engine.replace("embedded", "ladybug") in result.output


def test_an_unreachable_store_exits_2_with_a_clear_message():
    result = runner.invoke(app, ["init", "--store", "bolt://127.0.0.1:1"])
    assert result.exit_code == 2 and "无法连接 Neo4j" in result.output and "cannot reach Neo4j" in result.output


def test_the_store_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("JIEDUI_STORE", str(tmp_path / "env-store"))
    result = runner.invoke(app, ["init"])
    # the console folds a long line at 80 columns, and a parallel worker's tmp_path is longer
    assert result.exit_code == 0 and str(tmp_path / "env-store") in result.output.replace("\n", "")
