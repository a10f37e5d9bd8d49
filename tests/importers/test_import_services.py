"""Importing the four service files and the ledger's 记录编号, on both engines: the samples import
together with no rejected row, every rule rejects its row with its code, re-imports change
nothing, changes keep history, an organiser's bound applies, and the round trip is exact."""

from __future__ import annotations

import csv
import filecmp
import shutil
from pathlib import Path

import pytest

from factories import id_number, uscc
from graph_schema.records import history
from graph_schema.store.schema import DELIVERY
from importers.engine import OUT_OF_JURISDICTION, run_import
from importers.export import export

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLE, SERVICES = FIXTURES / "sample", FIXTURES / "sample-services"
SERVICE_ROWS = {"服务目录.csv": 2, "服务供给.csv": 3, "服务需求.csv": 9, "服务记录.csv": 6, "社会组织.csv": 1}
PERSON = "62082219890321643X"  # 廖珍俊, household H100201001 in 620822100201
OTHER_COUNTY_PERSON = "620802198802075134"  # 白秀俊, in 620802
ORG = "526208229Q1P4MQ58G"  # 灵台县残疾人康复中心, serving 620822


def write(path: Path, header: list[str], *rows: list[str]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def problems(result) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.file, p.row, p.column, p.code) for p in result.problems if p.code != "UNKNOWN_COLUMN"]


@pytest.fixture
def sampled(store, tmp_path):
    """The contract's two sample folders, imported."""
    result = run_import(store, [SAMPLE, SERVICES])
    assert problems(result) == [] and result.exit_code == 0
    return store, tmp_path


def test_the_samples_import_together_with_no_rejected_row_and_again_change_nothing(store):
    nodes = "MATCH (n) RETURN count(n) AS n"  # an empty store holds only its own marks
    before = store.query(nodes)[0]["n"]
    dry = run_import(store, [SAMPLE, SERVICES], dry_run=True)
    assert problems(dry) == [] and store.query(nodes)[0]["n"] == before
    first = run_import(store, [SAMPLE, SERVICES])
    assert problems(first) == [] and first.exit_code == 0
    created = {f.name: f.created for f in first.files if f.path.parent == SERVICES}
    assert created == SERVICE_ROWS
    counts = {label: store.query(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]
              for label in ("ServiceType", "Offer", "Need", "Delivery")}
    assert counts == {"ServiceType": 12, "Offer": 3, "Need": 9, "Delivery": 6}
    again = run_import(store, [SAMPLE, SERVICES])
    assert problems(again) == [] and all(f.created == f.updated == 0 for f in again.files)


# every rule of the four files: (file, header, good row, column to spoil, bad value, code); the
# good rows name the samples' persons, organisations and regions
NEEDS_HEADER = ["身份证号", "服务编码", "类别", "评估日期", "需求状态", "来源", "评估人", "备注"]
NEED = [PERSON, "KF01", "", "2024-10-01", "已确认", "入户走访", "GB0001", ""]
OFFERS_HEADER = ["统一社会信用代码", "服务编码", "服务区划代码", "年度容量", "服务方式", "起始日期", "截止日期", "定点资质有效期至"]
OFFER = [ORG, "KF02", "620822100000", "20", "机构、上门", "2024-01-01", "", "2026-12-31"]
DELIVERIES_HEADER = ["记录编号", "身份证号", "服务编码", "服务日期", "结束日期", "统一社会信用代码", "提供部门", "数量", "物品",
                     "费用", "补贴金额", "结果"]
DELIVERY_ROW = ["FW9001", PERSON, "FJ01", "2024-10-02", "", ORG, "", "1", "轮椅", "1500", "1000", "完成"]
TYPES_HEADER = ["服务编码", "服务名称", "类别", "计入服务率", "单位", "办理时限", "牵头部门"]
TYPE = ["XL01", "心理疏导", "其他", "否", "次", "30", "卫健"]

RULES = [
    ("服务目录", TYPES_HEADER, TYPE, "服务编码", "", "REQUIRED"),
    ("服务目录", TYPES_HEADER, TYPE, "服务名称", "", "REQUIRED"),
    ("服务目录", TYPES_HEADER, TYPE, "类别", "理发", "BAD_CHOICE"),
    ("服务目录", TYPES_HEADER, TYPE, "计入服务率", "也许", "BAD_BOOLEAN"),
    ("服务目录", TYPES_HEADER, TYPE, "单位", "箱", "BAD_CHOICE"),
    ("服务目录", TYPES_HEADER, TYPE, "办理时限", "731", "OUT_OF_RANGE"),
    ("服务目录", TYPES_HEADER, TYPE, "办理时限", "三十", "BAD_INTEGER"),
    ("服务目录", TYPES_HEADER, TYPE, "牵头部门", "公安", "BAD_CHOICE"),
    ("服务供给", OFFERS_HEADER, OFFER, "统一社会信用代码", "526208229Q1P4MQ58X", "USCC_CHECKSUM"),
    ("服务供给", OFFERS_HEADER, OFFER, "统一社会信用代码", "UNKNOWN_ORG", "UNKNOWN_REFERENCE"),
    ("服务供给", OFFERS_HEADER, OFFER, "服务编码", "ZZ01", "UNKNOWN_REFERENCE"),
    ("服务供给", OFFERS_HEADER, OFFER, "服务区划代码", "620822999000", "UNKNOWN_REGION"),
    ("服务供给", OFFERS_HEADER, OFFER, "服务区划代码", "62082", "REGION_FORMAT"),
    ("服务供给", OFFERS_HEADER, OFFER, "年度容量", "-1", "OUT_OF_RANGE"),
    ("服务供给", OFFERS_HEADER, OFFER, "服务方式", "邮寄", "BAD_CHOICE"),
    ("服务供给", OFFERS_HEADER, OFFER, "截止日期", "2023-12-31", "INCONSISTENT"),
    ("服务供给", OFFERS_HEADER, OFFER, "定点资质有效期至", "2026-02-30", "BAD_DATE"),
    ("服务需求", NEEDS_HEADER, NEED, "身份证号", "620822198903216431", "ID_CHECKSUM"),
    ("服务需求", NEEDS_HEADER, NEED, "身份证号", "UNKNOWN", "UNKNOWN_REFERENCE"),
    ("服务需求", NEEDS_HEADER, NEED, "服务编码", "", "REQUIRED"),  # and no category either
    ("服务需求", NEEDS_HEADER, NEED, "服务编码", "ZZ01", "UNKNOWN_REFERENCE"),
    ("服务需求", NEEDS_HEADER, NEED, "类别", "辅具", "INCONSISTENT"),
    ("服务需求", NEEDS_HEADER, NEED, "类别", "吃饭", "BAD_CHOICE"),
    ("服务需求", NEEDS_HEADER, NEED, "评估日期", "", "REQUIRED"),
    ("服务需求", NEEDS_HEADER, NEED, "评估日期", "2099-01-01", "FUTURE_DATE"),
    ("服务需求", NEEDS_HEADER, NEED, "需求状态", "待定", "BAD_CHOICE"),
    ("服务需求", NEEDS_HEADER, NEED, "来源", "登记", "BAD_CHOICE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "身份证号", "", "REQUIRED"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "身份证号", "UNKNOWN", "UNKNOWN_REFERENCE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "服务编码", "ZZ01", "UNKNOWN_REFERENCE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "服务日期", "2099-01-01", "FUTURE_DATE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "结束日期", "2024-10-01", "INCONSISTENT"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "统一社会信用代码", "", "REQUIRED"),  # and no department
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "统一社会信用代码", "UNKNOWN_ORG", "UNKNOWN_REFERENCE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "提供部门", "公安", "BAD_CHOICE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "数量", "0", "OUT_OF_RANGE"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "费用", "12.345", "BAD_MONEY"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "补贴金额", "1600", "INCONSISTENT"),
    ("服务记录", DELIVERIES_HEADER, DELIVERY_ROW, "结果", "失败", "BAD_CHOICE"),
]


@pytest.mark.parametrize("name, header, good, column, value, code", RULES,
                         ids=[f"{r[0]}-{r[3]}-{r[5]}" for r in RULES])
def test_every_rule_rejects_its_row_with_its_code(sampled, name, header, good, column, value, code):
    store, tmp_path = sampled
    bad = list(good)
    bad[header.index(column)] = {"UNKNOWN": id_number(), "UNKNOWN_ORG": uscc()}.get(value, value)
    fine = list(good)
    if name == "服务记录":
        fine[0] = "FW9002"
    elif name == "服务需求":
        fine[3] = "2024-10-03"
    elif name == "服务供给":
        fine[2] = "620822000000"
    else:
        fine[0] = "XL02"
    result = run_import(store, [write(tmp_path / f"{name}.csv", header, fine, bad)])
    assert problems(result) == [(f"{name}.csv", 3, column, code)]
    assert result.exit_code == 1 and result.files[0].created == 1


def test_a_repeated_key_in_one_file_is_refused_on_the_later_row(sampled):
    store, tmp_path = sampled
    same_need = [PERSON, "KF01", "康复", "2024-10-01", "已满足", "专业评估", "", ""]  # the same service, day, person
    result = run_import(store, [
        write(tmp_path / "服务需求.csv", NEEDS_HEADER, NEED, same_need),
        write(tmp_path / "服务记录.csv", DELIVERIES_HEADER, DELIVERY_ROW, DELIVERY_ROW[:8] + ["助行器"] + DELIVERY_ROW[9:]),
        write(tmp_path / "服务供给.csv", OFFERS_HEADER, OFFER, OFFER[:3] + ["99"] + OFFER[4:]),
    ])
    assert sorted(problems(result)) == [("服务供给.csv", 3, "统一社会信用代码", "DUPLICATE_KEY"),
                                        ("服务记录.csv", 3, "记录编号", "DUPLICATE_KEY"),
                                        ("服务需求.csv", 3, "身份证号", "DUPLICATE_KEY")]


def test_a_changed_delivery_is_updated_and_keeps_its_history(sampled):
    store, tmp_path = sampled
    run_import(store, [write(tmp_path / "服务记录.csv", DELIVERIES_HEADER, DELIVERY_ROW)])
    changed = DELIVERY_ROW[:11] + ["进行中"]
    result = run_import(store, [write(tmp_path / "服务记录.csv", DELIVERIES_HEADER, changed)])
    assert (result.files[0].updated, result.files[0].created) == (1, 0)
    assert store.read(lambda tx: history(tx, DELIVERY, "FW9001"))[0]["previous"] == {"outcome": "完成"}


def test_the_ledger_record_number_keeps_identical_entries_apart_and_refuses_a_second_meaning(sampled):
    store, tmp_path = sampled
    header = ["日期", "户编号", "干部编号", "统一社会信用代码", "类型", "金额", "物资折合", "内容", "问题编号", "记录编号"]
    visit = ["2024-06-01", "H100201001", "GB0001", "", "入户走访", "", "", "走访", ""]
    first = run_import(store, [write(tmp_path / "帮扶记录.csv", header, visit[:9] + ["JL001"], visit[:9] + ["JL002"],
                                     visit[:9] + ["JL002"])])
    assert first.files[0].created == 2 and problems(first) == [("帮扶记录.csv", 4, "记录编号", "DUPLICATE_KEY")]
    again = run_import(store, [write(tmp_path / "帮扶记录.csv", header, visit[:9] + ["JL001"],
                                     ["2024-06-02", *visit[1:9], "JL002"])])
    assert again.files[0].unchanged == 1
    assert problems(again) == [("帮扶记录.csv", 3, "记录编号", "RECORD_CONFLICT")]
    entries = store.query("MATCH ()-[e:ASSISTED]->(:Household {household_no: 'H100201001'}) WHERE e.record_no IS NOT NULL "
                          "RETURN e.entry_id AS id, e.record_no AS no ORDER BY id")
    assert entries == [{"id": "JL001", "no": "JL001"}, {"id": "JL002", "no": "JL002"}]


def test_an_organisers_import_of_service_files_stays_inside_their_region(sampled):
    store, tmp_path = sampled
    outside_need = [OTHER_COUNTY_PERSON, "", "康复", "2024-10-01", "已确认", "", "", ""]
    result = run_import(store, [
        write(tmp_path / "服务目录.csv", TYPES_HEADER, TYPE),
        write(tmp_path / "服务供给.csv", OFFERS_HEADER, OFFER, [ORG, "KF02", "620802000000", "", "", "", "", ""]),
        write(tmp_path / "服务需求.csv", NEEDS_HEADER, NEED, outside_need),
        write(tmp_path / "服务记录.csv", DELIVERIES_HEADER, DELIVERY_ROW,
              ["FW9003", OTHER_COUNTY_PERSON, "KF01", "2024-10-02", "", "", "残联", "1", "", "", "", "完成"]),
    ], bound="620822")
    refused = sorted((p.file, p.row, p.column) for p in result.problems if p.code == OUT_OF_JURISDICTION)
    assert refused == [("服务供给.csv", 3, "服务区划代码"), ("服务目录.csv", 2, "服务编码")]
    # A person of another county is answered as an unknown one: the import is no oracle of who is registered where.
    hidden = sorted((p.file, p.row, p.column) for p in result.problems if p.code == "UNKNOWN_REFERENCE")
    assert hidden == [("服务记录.csv", 3, "身份证号"), ("服务需求.csv", 3, "身份证号")]
    assert [f.created for f in sorted(result.files, key=lambda f: f.name)] == [1, 0, 1, 1]
    province = run_import(store, [write(tmp_path / "服务目录.csv", TYPES_HEADER, TYPE)], bound="62")
    assert problems(province) == [] and province.files[0].created == 1


def test_the_samples_round_trip_exactly(sampled):
    store, tmp_path = sampled
    counts = export(store, tmp_path / "one")
    assert counts["服务目录.csv"] == 12 and counts["服务需求.csv"] == 9 and counts["服务记录.csv"] == 6
    store.wipe()
    again = run_import(store, [tmp_path / "one"])
    assert problems(again) == [] and again.exit_code == 0
    export(store, tmp_path / "two")
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 12
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / "two", names, shallow=False)
    assert mismatch == errors == [] and len(match) == 12


def test_service_files_are_recognised_by_their_headers_alone(store, tmp_path):
    folder = tmp_path / "renamed"
    shutil.copytree(SAMPLE, folder)
    for n, name in enumerate(("服务目录", "服务供给", "服务需求", "服务记录")):
        shutil.copy(SERVICES / f"{name}.csv", folder / f"file{n}.csv")
    shutil.copy(SERVICES / "社会组织.csv", folder / "more orgs.csv")
    result = run_import(store, [folder])
    assert problems(result) == [] and sorted(f.spec.name for f in result.files if f.name.startswith("file")) == \
        ["服务供给", "服务目录", "服务记录", "服务需求"]
