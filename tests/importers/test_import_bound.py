"""An organiser's import is kept inside their region (``run_import(…, bound=prefix)``), on both
engines: rows outside it, or that would change or name records outside it, are rejected as row
problems (OUT_OF_JURISDICTION) and the rest is imported; without a bound nothing changes."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from graph_schema.identifiers import id_check_char
from importers.engine import OUT_OF_JURISDICTION, run_import

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
COUNTY_A, COUNTY_B = "620822", "620802"


def folder_of(tmp_path: Path, name: str = "in", **edits: list[dict]) -> Path:
    """The sample set; ``edits`` maps a file stem to rows replacing its rows."""
    folder = tmp_path / name
    shutil.copytree(SAMPLE, folder)
    for stem, rows in edits.items():
        with (folder / f"{stem}.csv").open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def only(folder: Path, *stems: str) -> list[Path]:
    return [folder / f"{stem}.csv" for stem in stems]


def rows_of(stem: str) -> list[dict]:
    with (SAMPLE / f"{stem}.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def outside(result) -> dict[str, set[tuple[int, str]]]:
    out: dict[str, set[tuple[int, str]]] = {}
    for p in result.problems:
        if p.code == OUT_OF_JURISDICTION:
            out.setdefault(p.file, set()).add((p.row, p.column))
    return out


def households(store) -> set[str]:
    return {r["h"] for r in store.query("MATCH (h:Household) RETURN h.household_no AS h")}


def test_a_county_organiser_imports_their_county_and_the_other_county_is_rejected(store, tmp_path):
    result = run_import(store, [SAMPLE], bound=COUNTY_A)
    assert result.exit_code == 1
    assert outside(result) == {
        "区划.csv": {(2, "区划代码"), (3, "区划代码"), (8, "区划代码"), (9, "区划代码"), (10, "区划代码")},
        "家庭.csv": {(4, "区划代码"), (7, "区划代码"), (10, "区划代码"), (13, "区划代码")},
        "残疾人.csv": {(5, "户编号"), (9, "户编号"), (13, "户编号"), (17, "户编号")},
        "干部.csv": {(4, "驻点区划代码"), (7, "驻点区划代码")},
        "社会组织.csv": {(2, "服务区划代码")},  # serves the whole city
        "结对.csv": {(6, "户编号"), (7, "户编号")},
        "帮扶记录.csv": {(7, "户编号")},
        "部门名单.csv": {(5, "身份证号")},
    }
    assert all(p.reason.endswith("不在您的管辖范围（620822000000）内，未导入") and "outside your jurisdiction" in p.reason_en
               for p in result.problems if p.code == OUT_OF_JURISDICTION)
    assert {p.code for p in result.problems} <= {OUT_OF_JURISDICTION, "UNKNOWN_COLUMN"}
    assert households(store) == {h["户编号"] for h in rows_of("家庭") if h["区划代码"].startswith(COUNTY_A)}
    assert not store.query("MATCH (c:Cadre) WHERE c.station_code STARTS WITH '620802' RETURN c.cadre_no AS c")
    assert not store.query("MATCH (o:Org)-[:AUX_PAIRED_WITH]->(h) RETURN h.household_no AS h")


def test_the_other_county_then_imports_its_own_rows_and_the_dry_run_agrees(store, tmp_path):
    run_import(store, [SAMPLE], bound=COUNTY_A)
    dry = run_import(store, [SAMPLE], bound=COUNTY_B, dry_run=True)
    real = run_import(store, [SAMPLE], bound=COUNTY_B)
    assert [(p.file, p.row, p.code) for p in dry.problems] == [(p.file, p.row, p.code) for p in real.problems]
    assert len(households(store)) == 12
    # the city-wide organisation is still nobody's but an admin's: an admin's import has no bound
    assert run_import(store, [SAMPLE]).exit_code == 0
    assert store.query("MATCH (o:Org)-[:AUX_PAIRED_WITH]->(h) RETURN h.household_no AS h") == [{"h": "H101203003"}]


def test_records_already_stored_outside_cannot_be_moved_in(store, tmp_path):
    run_import(store, [SAMPLE])  # everything, as an admin
    moved_household = [r | {"区划代码": "620822100201"} for r in rows_of("家庭") if r["户编号"] == "H101203003"]
    moved_cadre = [r | {"驻点区划代码": "620822100201"} for r in rows_of("干部") if r["干部编号"] == "GB0003"]
    moved_person = [r | {"户编号": "H100201001"} for r in rows_of("残疾人") if r["户编号"] == "H101203006"][:1]
    folder = folder_of(tmp_path, 家庭=moved_household, 干部=moved_cadre, 残疾人=moved_person)
    result = run_import(store, only(folder, "家庭", "干部", "残疾人"), bound=COUNTY_A)
    assert outside(result) == {"家庭.csv": {(2, "户编号")}, "干部.csv": {(2, "干部编号")}, "残疾人.csv": {(2, "身份证号")}}
    assert next(p for p in result.problems if p.file == "家庭.csv").reason.startswith("家庭「H101203003」（已登记在辖区外）")
    assert store.query("MATCH (h:Household {household_no: 'H101203003'}) RETURN h.region_code AS r") == [
        {"r": "620802101203"}]
    assert store.query("MATCH (c:Cadre {cadre_no: 'GB0003'}) RETURN c.station_code AS s") == [{"s": "620802101203"}]


def test_references_to_cadres_and_organisations_outside_are_rejected_but_a_wider_org_is_not(store, tmp_path):
    run_import(store, [SAMPLE])
    pairings = [{"户编号": "H100201010", "结对类型": "一对一", "干部编号": "GB0003", "统一社会信用代码": "",
                 "开始日期": "2024-01-01", "结束日期": "", "结束原因": ""},
                {"户编号": "H100201010", "结对类型": "辅助", "干部编号": "", "统一社会信用代码": "52620800P32462330H",
                 "开始日期": "2024-01-01", "结束日期": "", "结束原因": ""}]
    ledger = [{"日期": "2024-06-01", "户编号": "H100201010", "干部编号": "GB0003", "统一社会信用代码": "", "类型": "入户走访",
               "金额": "", "物资折合": "", "内容": "", "问题编号": ""},
              {"日期": "2024-06-01", "户编号": "H100201010", "干部编号": "", "统一社会信用代码": "52620800P32462330H",
               "类型": "志愿服务", "金额": "", "物资折合": "", "内容": "", "问题编号": ""}]
    folder = folder_of(tmp_path, 结对=pairings, 帮扶记录=ledger)
    result = run_import(store, only(folder, "结对", "帮扶记录"), bound=COUNTY_A)
    assert outside(result) == {"结对.csv": {(2, "干部编号")}, "帮扶记录.csv": {(2, "干部编号")}}
    f = {f.name: f for f in result.files}
    assert f["结对.csv"].created == 1 and f["帮扶记录.csv"].created == 1  # the city-wide organisation serves county A


def test_a_listing_of_an_unknown_person_is_placed_by_the_county_of_the_id_number(store, tmp_path):
    run_import(store, [SAMPLE])
    first17 = "62082219800101001"
    listing = [{"来源部门": "民政", "项目": "困难残疾人生活补贴", "身份证号": first17 + id_check_char(first17), "姓名": "某人",
                "起始年月": "2024-01", "截止年月": "", "金额": "90"}]
    folder = folder_of(tmp_path, 部门名单=listing)
    county = run_import(store, only(folder, "部门名单"), bound=COUNTY_A, dry_run=True)
    assert outside(county) == {} and county.exit_code == 0
    township = run_import(store, only(folder, "部门名单"), bound="620822100", dry_run=True)
    assert outside(township) == {"部门名单.csv": {(2, "身份证号")}}
    other = run_import(store, only(folder, "部门名单"), bound=COUNTY_B, dry_run=True)
    assert outside(other) == {"部门名单.csv": {(2, "身份证号")}}
