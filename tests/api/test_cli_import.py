"""The import, export and synth commands and their exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"


def test_import_exit_codes_and_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = str(tmp_path / "store")
    good = runner.invoke(app, ["import", str(SAMPLE), "--store", store])
    assert good.exit_code == 0, good.output
    assert "家庭.csv" in good.output and not list(tmp_path.glob("导入报告*"))
    folder = tmp_path / "in"
    shutil.copytree(SAMPLE, folder)
    text = (folder / "干部.csv").read_text(encoding="utf-8").replace("GB0006,张雅,13946710408", "GB0007,张雅,123")
    (folder / "干部.csv").write_text(text, encoding="utf-8")
    some = runner.invoke(app, ["import", str(folder), "--store", store, "--report", str(tmp_path / "r.csv")])
    assert some.exit_code == 1 and (tmp_path / "r.csv").exists() and (tmp_path / "r.干部.csv").exists()
    assert "BAD_PHONE" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    default = runner.invoke(app, ["import", str(folder), "--store", store, "--dry-run"])
    assert default.exit_code == 1 and "dry run" in default.output and list(tmp_path.glob("导入报告-*.xlsx"))
    (folder / "家庭.csv").write_text("户编号,户主姓名\nH1,张三\n", encoding="utf-8")
    nothing = runner.invoke(app, ["import", str(folder), "--store", store])
    assert nothing.exit_code == 2 and "户主身份证号" in nothing.output
    usage = runner.invoke(app, ["import", "--store", store])
    assert usage.exit_code == 2


def test_synth_and_export_commands(tmp_path):
    made = runner.invoke(app, ["synth", "--preset", "tiny", "--seed", "3", "--out", str(tmp_path / "s")])
    assert made.exit_code == 0, made.output
    assert len(list((tmp_path / "s").glob("*.csv"))) == 12
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["import", str(tmp_path / "s"), "--store", store]).exit_code == 0
    exported = runner.invoke(app, ["export", "--out", str(tmp_path / "e"), "--store", store])
    assert exported.exit_code == 0 and "家庭.csv" in exported.output
    assert runner.invoke(app, ["synth", "--preset", "nope", "--out", str(tmp_path / "x")]).exit_code == 2
