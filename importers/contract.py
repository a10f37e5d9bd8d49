"""The import data contract: the twelve files organisers keep (eight, and the four optional
service files), their Chinese headers (with English
aliases), which columns are required, each file's natural key, and the order files are applied in.

This module is the single source of those facts: readers find header rows with it, mappers read
cells by its field names, the synthetic generator and the exporter write its headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Column:
    header: str  # as in the spreadsheets, e.g. 户编号
    field: str  # the name mappers use
    required: bool = False
    aliases: tuple[str, ...] = ()  # English (or older) spellings also accepted


@dataclass(frozen=True)
class FileSpec:
    kind: str  # regions, households, …
    name: str  # the contract's file name without extension, e.g. 家庭
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # fields of the natural key; a repeat inside one file is an error
    order: int  # files of one import are applied in this order (dependencies first)
    #: where the key is not simply these cells (a 记录编号 that replaces them when given; a
    #: service code or else a category), the record's property that holds it
    identity: str | None = None

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, field: str) -> Column:
        return next(c for c in self.columns if c.field == field)


def C(header: str, field: str, *aliases: str, required: bool = False) -> Column:  # noqa: N802 - reads as a table
    return Column(header, field, required, (field, *aliases))


def R(header: str, field: str, *aliases: str) -> Column:  # noqa: N802
    return C(header, field, *aliases, required=True)


REGIONS = FileSpec("regions", "区划", (
    R("区划代码", "code", "region_code"), R("名称", "name"),
), key=("code",), order=1)

HOUSEHOLDS = FileSpec("households", "家庭", (
    R("户编号", "household_no"), R("户主姓名", "head_name"), R("户主身份证号", "head_id"),
    R("区划代码", "region_code"), C("详细地址", "address"), R("家庭人口", "size", "household_size"),
    C("劳动力人数", "labour", "labour_force"), C("年人均纯收入", "income", "income_per_capita"),
    C("监测类别", "monitoring", "monitoring_category"), C("是否脱贫户", "formerly_poor"),
    C("是否低保", "dibao"), C("是否特困", "tekun"), C("是否以老养残", "elderly_carer"),
    C("风险因素", "risk_factors"), C("联系电话", "phone"),
), key=("household_no",), order=2)

PERSONS = FileSpec("persons", "残疾人", (
    R("姓名", "name"), R("身份证号", "id_number"), R("残疾人证号", "cert_no", "certificate_no"),
    R("户编号", "household_no"), C("与户主关系", "relation"), R("残疾类别", "category"),
    R("残疾等级", "grade"), C("证件有效期至", "cert_expiry"), C("劳动能力", "labour_ability"),
    C("需求", "needs"),
), key=("id_number",), order=3)

CADRES = FileSpec("cadres", "干部", (
    R("干部编号", "cadre_no"), R("姓名", "name"), C("手机号", "phone"), R("工作单位", "unit"),
    R("单位层级", "unit_level"), C("身份", "role"), R("驻点区划代码", "station_code"),
    C("结对上限", "pair_limit"), C("是否在岗", "on_duty"),
), key=("cadre_no",), order=4)

ORGS = FileSpec("orgs", "社会组织", (
    R("名称", "name"), R("统一社会信用代码", "uscc"), C("类型", "org_type"),
    R("服务区划代码", "service_region_code"), C("服务方式", "service_modes"), C("联系人", "contact"),
    C("联系电话", "phone"),
), key=("uscc",), order=5)

PAIRINGS = FileSpec("pairings", "结对", (
    R("户编号", "household_no"), R("结对类型", "pairing_type"), C("干部编号", "cadre_no"),
    C("统一社会信用代码", "uscc"), R("开始日期", "started_on", "start_date"),
    C("结束日期", "ended_on", "end_date"), C("结束原因", "end_reason"),
), key=("household_no", "pairing_type", "cadre_no", "uscc", "started_on"), order=6)

LEDGER = FileSpec("ledger", "帮扶记录", (
    R("日期", "entry_date", "date"), R("户编号", "household_no"), C("干部编号", "cadre_no"),
    C("统一社会信用代码", "uscc"), R("类型", "kind"), C("金额", "amount", "amount_yuan"),
    C("物资折合", "in_kind", "in_kind_yuan"), C("内容", "note"), C("问题编号", "problem_no"),
    C("记录编号", "record_no"),
), key=("entry_date", "household_no", "cadre_no", "uscc", "kind", "amount", "in_kind", "note", "problem_no",
        "record_no"), order=7, identity="entry_id")

LISTINGS = FileSpec("listings", "部门名单", (
    R("来源部门", "dept", "department"), R("项目", "item"), R("身份证号", "id_number"), R("姓名", "name"),
    C("起始年月", "valid_from", "from_month"), C("截止年月", "valid_to", "to_month"),
    C("金额", "amount", "amount_yuan"),
), key=("dept", "item", "id_number", "valid_from"), order=8)

SERVICE_TYPES = FileSpec("service_types", "服务目录", (
    R("服务编码", "code", "service_code"), R("服务名称", "name", "service_name"), R("类别", "category"),
    C("计入服务率", "counts"), C("单位", "unit"), C("办理时限", "time_limit", "time_limit_days"),
    C("牵头部门", "lead_dept"),
), key=("code",), order=9)

OFFERS = FileSpec("offers", "服务供给", (
    R("统一社会信用代码", "uscc"), R("服务编码", "service_code"), R("服务区划代码", "region_code"),
    C("年度容量", "capacity"), C("服务方式", "modes"), C("起始日期", "valid_from"), C("截止日期", "valid_to"),
    C("定点资质有效期至", "designated_until"),
), key=("uscc", "service_code", "region_code"), order=10)

NEEDS = FileSpec("needs", "服务需求", (
    R("身份证号", "id_number"), C("服务编码", "service_code"), C("类别", "category"),
    R("评估日期", "assessed_on"), C("需求状态", "status"), C("来源", "source"), C("评估人", "assessor"),
    C("备注", "note"),
), key=("id_number", "service_code", "category", "assessed_on"), order=11, identity="need_id")

DELIVERIES = FileSpec("deliveries", "服务记录", (
    C("记录编号", "record_no"), R("身份证号", "id_number"), R("服务编码", "service_code"),
    R("服务日期", "delivered_on"), C("结束日期", "ended_on"), C("统一社会信用代码", "uscc"),
    C("提供部门", "dept", "department"), C("数量", "quantity"), C("物品", "item"), C("费用", "cost", "cost_yuan"),
    C("补贴金额", "subsidy", "subsidy_yuan"), C("结果", "outcome"),
), key=("record_no", "id_number", "service_code", "delivered_on", "uscc", "dept"), order=12,
    identity="delivery_id")

SPECS: tuple[FileSpec, ...] = (REGIONS, HOUSEHOLDS, PERSONS, CADRES, ORGS, PAIRINGS, LEDGER, LISTINGS, SERVICE_TYPES,
                               OFFERS, NEEDS, DELIVERIES)
BY_KIND = {s.kind: s for s in SPECS}
BY_NAME = {s.name: s for s in SPECS}


class Code(StrEnum):
    """Stable machine-readable reasons in the import report (besides the identifier codes
    ``ID_*``, ``CERT_*``, ``USCC_*``, ``REGION_*`` and the rule codes of ``graph_schema.errors``)."""

    REQUIRED = "REQUIRED"  # a required cell is empty
    BAD_TEXT = "BAD_TEXT"  # too long, or a formula where a value belongs
    BAD_INTEGER = "BAD_INTEGER"
    BAD_BOOLEAN = "BAD_BOOLEAN"
    BAD_DATE = "BAD_DATE"
    BAD_MONTH = "BAD_MONTH"
    BAD_MONEY = "BAD_MONEY"
    BAD_HOURS = "BAD_HOURS"  # not hours that make a whole number of minutes
    BAD_PHONE = "BAD_PHONE"
    BAD_CHOICE = "BAD_CHOICE"  # not one of the allowed words (enum)
    OUT_OF_RANGE = "OUT_OF_RANGE"
    WRONG_LEVEL = "WRONG_LEVEL"  # a region code of the wrong level (a household in a township …)
    FUTURE_DATE = "FUTURE_DATE"
    INCONSISTENT = "INCONSISTENT"  # columns of one row contradict each other
    DUPLICATE_KEY = "DUPLICATE_KEY"  # the natural key appeared earlier in the same file
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"  # names a household/cadre/organisation that exists nowhere
    UNKNOWN_REGION = "UNKNOWN_REGION"  # a region code in neither 区划.csv of the import nor the store
    MISSING_COLUMN = "MISSING_COLUMN"  # file-level: a required column is absent
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"  # file-level, informational: the column is ignored
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"  # file-level, informational: a repeated column is ignored
    UNREADABLE = "UNREADABLE"  # file-level: cannot be opened or decoded
    FILE_TOO_LARGE = "FILE_TOO_LARGE"  # file-level: beyond an import limit (cells, columns, unpacked size, memory, time)
    UNKNOWN_FILE = "UNKNOWN_FILE"  # file-level: matches none of the contract's files
