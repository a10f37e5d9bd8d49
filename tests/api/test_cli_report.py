"""``jiedui report``: every report and format from the command line, and its errors."""

from __future__ import annotations

import csv
import io
import json

from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from api.cli import app
from api.report_output import header as title
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
        assert header == [title(report, f) for f in report.fields] and len(lines) == len(data)
        assert not [h for h in header if "（分）" in h or "分钟）" in h]  # yuan and hours for people (JSON keeps fen, minutes)
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


def test_remind_records_the_due_reminders_and_the_report_shows_them_sent(engine, store):
    import datetime as dt

    from factories import person
    from graph_schema.household.service import upsert_persons

    upsert_households(store=store, households=[household("H1")])
    upsert_persons(store=store, persons=[person("H1", cert_expiry=dt.date.today() + dt.timedelta(days=20))])
    location = store.location
    if engine == "embedded":
        store.close()
    before = json.loads(runner.invoke(app, ["report", "cert-expiry", "--region", "620822", "--format", "json",
                                            "--store", location]).stdout)
    assert [row["reminders_due"] for row in before] == [["6m", "1m"]]
    done = runner.invoke(app, ["remind", "--region", "620822", "--note", "电话", "--store", location])
    assert done.exit_code == 0 and "reminders recorded: 2" in done.output
    after = json.loads(runner.invoke(app, ["report", "cert-expiry", "--region", "620822", "--format", "json",
                                           "--store", location]).stdout)
    assert after[0]["reminders_due"] == [] and sorted(after[0]["reminders_sent"]) == ["1m", "6m"]
    again = runner.invoke(app, ["remind", "--region", "620822", "--store", location])
    assert "reminders recorded: 0" in again.output
    future = runner.invoke(app, ["remind", "--region", "620822", "--as-of", "2999-01-01", "--store", location])
    assert future.exit_code == 2


def test_time_is_read_in_hours_and_answered_in_minutes():
    from api.report_output import header, human_cells
    from graph_schema.monitoring.coverage import COVERAGE, CoverageRow

    row = CoverageRow(region_code="620822000000", region_name="灵台县", level="县", volunteers=6, volunteer_minutes=390,
                      org_donations_fen=12345)
    cells = dict(zip(COVERAGE.fields, human_cells(row)))
    assert (cells["volunteer_minutes"], cells["org_donations_fen"], cells["volunteers"]) == ("6.5", "123.45", 6)
    assert header(COVERAGE, "volunteer_minutes") == "志愿服务时长（人·小时）"
