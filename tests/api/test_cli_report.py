"""``jiedui report``: every report and format from the command line, and its errors."""

from __future__ import annotations

import csv
import io
import json

from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from api.cli import app
from factories import cadre, household
from graph_schema.cadre.service import upsert_cadres
from graph_schema.household.service import upsert_households
from graph_schema.monitoring.catalogue import REPORTS

runner = CliRunner()


def target(engine, store):
    upsert_households(store=store, households=[household(f"H{i}", tekun=True) for i in range(3)])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    location = store.location
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
    return location


def test_every_report_runs_in_every_format(engine, store, tmp_path):
    s = target(engine, store)
    for name, report in REPORTS.items():
        table = runner.invoke(app, ["report", name, "--region", "620822", "--store", s])
        assert table.exit_code == 0, (name, table.output)
        assert report.title.split(" / ")[0] in table.output
        as_json = runner.invoke(app, ["report", name, "--region", "620822", "--format", "json", "--store", s])
        assert as_json.exit_code == 0, (name, as_json.output)
        data = json.loads(as_json.stdout)
        assert isinstance(data, list) and all(list(row) == report.fields for row in data)
        out = tmp_path / f"{name}.csv"
        assert runner.invoke(app, ["report", name, "--region", "620822", "--format", "csv", "--out", str(out),
                                   "--store", s]).exit_code == 0
        header, *lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        assert header == [report.headers[f] for f in report.fields] and len(lines) == len(data)
        book = tmp_path / f"{name}.xlsx"
        assert runner.invoke(app, ["report", name, "--region", "620822", "--format", "xlsx", "--out", str(book),
                                   "--store", s]).exit_code == 0
        sheet = CalamineWorkbook.from_path(str(book)).get_sheet_by_index(0).to_python()
        assert sheet[0] == header and len(sheet) == len(data) + 1


def test_unpaired_json_has_the_required_fields(engine, store):
    s = target(engine, store)
    result = runner.invoke(app, ["report", "unpaired", "--region", "620822000000", "--format", "json", "--store", s])
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and {"household_no", "region_code", "risk_level", "risk_score", "reasons"} <= set(rows[0])
    one = runner.invoke(app, ["report", "unpaired", "--region", "620822", "--format", "json", "--page", "2",
                              "--page-size", "2", "--store", s])
    assert len(json.loads(one.stdout)) == 1


def test_errors_exit_2_with_a_clear_message(tmp_path):
    s = str(tmp_path / "store")
    unknown = runner.invoke(app, ["report", "nothing", "--region", "62", "--store", s])
    assert unknown.exit_code == 2 and "unknown report" in unknown.output and "coverage" in unknown.output
    assert runner.invoke(app, ["report", "coverage", "--region", "62", "--format", "xlsx", "--store", s]).exit_code == 2
    bad = runner.invoke(app, ["report", "coverage", "--region", "6x", "--store", s])
    assert bad.exit_code == 2 and "区划" in bad.output
    missing = runner.invoke(app, ["report", "coverage", "--region", "63", "--store", s])
    assert missing.exit_code == 2 and "不存在" in missing.output
    date = runner.invoke(app, ["report", "coverage", "--region", "62", "--as-of", "2024-13-01", "--store", s])
    assert date.exit_code == 2
