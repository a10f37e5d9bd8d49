"""``jiedui user import-cadres`` and ``import-orgs``: one account per person of the region who has
none, the one-time codes written to an .xlsx readable by its owner only and never printed; on
both engines."""

from __future__ import annotations

import stat

from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from api.cli import app
from factories import OTHER_COUNTY_VILLAGE, VILLAGE, cadre, org
from graph_schema.cadre.service import upsert_cadres
from graph_schema.org.service import upsert_orgs

runner = CliRunner()


def _roster(engine, store) -> tuple[str, str]:
    upsert_cadres(store=store, cadres=[cadre("C1", VILLAGE, name="王五"), cadre("C2", VILLAGE, on_duty=False),
                                       cadre("CX", OTHER_COUNTY_VILLAGE)])
    county = org(region="620822", name="阳光助残协会")
    upsert_orgs(store=store, orgs=[county, org(region="620802")])
    location = store.location
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
    return location, county.uscc


def test_codes_go_to_a_private_file_and_never_to_the_screen(engine, store, tmp_path):
    target, uscc = _roster(engine, store)
    out = tmp_path / "干部登录码.xlsx"
    made = runner.invoke(app, ["user", "import-cadres", "--region", "620822", "--out", str(out), "--store", target])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("登录码").to_python()
    assert rows[0] == ["姓名", "干部编号", "用户名", "一次性登录码", "有效期至"]
    assert [r[:3] for r in rows[1:]] == [["王五", "C1", "C1"]]  # C2 is off duty, CX in another county
    code = rows[1][3]
    assert len(code) == 19 and code not in made.output and "1" in made.output
    again = runner.invoke(app, ["user", "import-cadres", "--region", "620822", "--out", str(out), "--store", target])
    assert again.exit_code == 2 and "不覆盖" in again.output  # the file and its codes are kept
    assert CalamineWorkbook.from_path(str(out)).get_sheet_by_name("登录码").to_python()[1][3] == code
    second = tmp_path / "again.xlsx"
    none = runner.invoke(app, ["user", "import-cadres", "--region", "620822", "--out", str(second), "--store", target])
    assert none.exit_code == 0 and "already has an account" in none.output and not second.exists()

    orgs = tmp_path / "orgs.xlsx"
    made = runner.invoke(app, ["user", "import-orgs", "--region", "620822", "--out", str(orgs), "--store", target])
    assert made.exit_code == 0, made.output
    rows = CalamineWorkbook.from_path(str(orgs)).get_sheet_by_index(0).to_python()
    assert rows[0][:2] == ["名称", "统一社会信用代码"] and [r[:3] for r in rows[1:]] == [["阳光助残协会", uscc, uscc]]
    listed = runner.invoke(app, ["user", "list", "--store", target])
    assert "C1" in listed.output and uscc in listed.output


def test_bad_arguments_make_no_account(engine, store, tmp_path):
    target, _ = _roster(engine, store)
    for args, why in ((["--region", "620822", "--out", str(tmp_path / "codes.csv")], ".xlsx"),
                      (["--region", "650000", "--out", str(tmp_path / "a.xlsx")], ""),
                      (["--region", "6208X", "--out", str(tmp_path / "b.xlsx")], ""),
                      (["--region", "620822", "--out", str(tmp_path / "nowhere" / "c.xlsx")], "无法写入"),
                      (["--region", "620822", "--days", "0", "--out", str(tmp_path / "d.xlsx")], "1 到 90")):
        done = runner.invoke(app, ["user", "import-cadres", *args, "--store", target])
        assert done.exit_code == 2, (args, done.output)
        assert why in done.output
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".xlsx"]
    listed = runner.invoke(app, ["user", "list", "--store", target])
    assert "C1" not in listed.output
