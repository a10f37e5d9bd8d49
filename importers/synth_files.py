"""Synthetic data written as the contract's twelve files, optionally with known bad rows.

The files are what an organiser would hand in: ``区划.csv`` … ``服务记录.csv`` (UTF-8 with BOM so
Excel opens them) or ``.xlsx``, exactly the contract's headers in its column order, cells written
the way the exporter writes them (是/否, YYYY-MM-DD, YYYY-MM, yuan, lists joined with 、).

With ``bad_rows`` the files also carry rows an import must refuse, each listed in a manifest with
the row number, column and reason code the import report should show. Bad rows are always
*additional* rows, never corruptions of good ones, so every good row and everything that depends
on it still imports; their keys are fresh (nothing else refers to them), except the duplicate-key
kind, which repeats an earlier good row's key after it (the import keeps the first occurrence).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import xlsxwriter

from graph_schema.enums import (
    CadreRole,
    DeliveryOutcome,
    Department,
    DisabilityCategory,
    DisabilityGrade,
    LabourAbility,
    LedgerKind,
    MonitoringCategory,
    Need,
    NeedSource,
    NeedStatus,
    OfferMode,
    OrgType,
    Relation,
    RiskFactor,
    ServiceCategory,
    ServiceDept,
    ServiceMode,
    ServiceUnit,
    UnitLevel,
)
from graph_schema.household.models import Household, Person
from graph_schema.identifiers import id_check_char, uscc_check_char
from graph_schema.ledger.models import LedgerEntry
from graph_schema.listing.models import Listing
from importers import synth
from importers.formats import yuan
from importers.contract import (
    CADRES,
    DELIVERIES,
    HOUSEHOLDS,
    LEDGER,
    LISTINGS,
    NEEDS,
    OFFERS,
    ORGS,
    PERSONS,
    REGIONS,
    SERVICE_TYPES,
    SPECS,
    Code,
    FileSpec,
)
from importers.synth import SynthData

Row = list[str]
FUTURE_DAY = "2099-12-31"  # fixed, so the files stay byte-identical, and later than any real "today"
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- cells ---------------------------------------------------------------------------------
# The same text as ``importers.formats`` (the tests check they agree), but from lookup tables: a
# province writes ~30 million cells, and most values (dates, amounts, enums) repeat.

class _Memo(dict):
    """``memo[value]`` is ``render(value)``, computed once per distinct value."""

    def __init__(self, render: Callable) -> None:
        super().__init__({None: ""})
        self.render = render

    def __missing__(self, value):
        text = self[value] = self.render(value)
        return text


# an enum member's text by lookup: several times faster than ``.value`` for millions of cells
TEXT: dict = {m: m.value for enum in (CadreRole, Department, LabourAbility, LedgerKind, MonitoringCategory, Need,
                                      OrgType, RiskFactor, Relation, ServiceMode, UnitLevel, DeliveryOutcome,
                                      NeedSource, NeedStatus, OfferMode, ServiceCategory, ServiceDept, ServiceUnit)
              for m in enum}
TEXT[None] = ""
CATEGORY = {c: c.zh for c in DisabilityCategory}
GRADE = {g: g.zh for g in DisabilityGrade}
YES_NO = {True: "是", False: "否", None: ""}


def _words(values) -> str:
    return "、".join(map(TEXT.__getitem__, values)) if values else ""


def _fields(model: type, names: str) -> Callable:
    """The named fields of a record at once (one C call instead of an attribute lookup each)."""
    fields = names.split()
    assert set(fields) <= set(model.model_fields), fields
    return itemgetter(*fields)


# --- good rows -------------------------------------------------------------------------------

def _regions(data: SynthData) -> list[Row]:
    return [[r.code, r.name or ""] for r in data.regions]


def _households(data: SynthData) -> list[Row]:
    get = _fields(Household, "household_no head_name head_id region_code address size labour income_fen monitoring "
                             "formerly_poor dibao tekun elderly_carer risk_factors phone")
    money, number = _Memo(yuan), _Memo(str)
    out = []
    for h in data.households:
        (no, head, head_id, region, address, size, labour, income, monitoring, poor, dibao, tekun, carer, risks,
         phone) = get(h.__dict__)
        out.append([no, head, head_id, region, address or "", number[size], number[labour], money[income],
                    TEXT[monitoring], YES_NO[poor], YES_NO[dibao], YES_NO[tekun], YES_NO[carer], _words(risks),
                    phone or ""])
    return out


def _persons(data: SynthData) -> list[Row]:
    get = _fields(Person, "name id_number cert_no household_no relation category grade cert_expiry labour_ability "
                          "needs")
    day = _Memo(dt.date.isoformat)
    out = []
    for p in data.persons:
        name, number, cert, household_no, relation, category, grade, expiry, ability, needs = get(p.__dict__)
        out.append([name, number, cert, household_no, TEXT[relation], CATEGORY[category], GRADE[grade], day[expiry],
                    TEXT[ability], _words(needs)])
    return out


def _cadres(data: SynthData) -> list[Row]:
    return [[c.cadre_no, c.name, c.phone or "", c.unit, TEXT[c.unit_level], TEXT[c.role], c.station_code,
             str(c.pair_limit), YES_NO[c.on_duty]] for c in data.cadres]


def _orgs(data: SynthData) -> list[Row]:
    return [[o.name, o.uscc, TEXT[o.org_type], o.service_region_code, _words(o.service_modes), o.contact or "",
             o.phone or ""] for o in data.orgs]


def _pairings(data: SynthData) -> list[Row]:
    day = _Memo(dt.date.isoformat)
    return ([[p.household_no, "一对一", p.cadre_no, "", day[p.started_on], day[p.ended_on], p.end_reason or ""]
             for p in data.pairings] +
            [[p.household_no, "辅助", "", p.uscc, day[p.started_on], day[p.ended_on], p.end_reason or ""]
             for p in data.aux_pairings])


def _ledger(data: SynthData) -> list[Row]:
    get = _fields(LedgerEntry, "entry_date household_no cadre_no uscc kind amount_fen in_kind_fen note problem_no")
    day, money = _Memo(dt.date.isoformat), _Memo(yuan)
    out = []
    for e in data.ledger:
        date, household_no, cadre_no, uscc, kind, amount, in_kind, note, problem_no = get(e.__dict__)
        out.append([day[date], household_no, cadre_no or "", uscc or "", TEXT[kind], money[amount], money[in_kind],
                    note or "", problem_no or "", ""])
    return out


def _listings(data: SynthData) -> list[Row]:
    get = _fields(Listing, "dept item id_number name valid_from valid_to amount_fen")
    month, money = _Memo(lambda d: d.isoformat()[:7]), _Memo(yuan)
    out = []
    for item in data.listings:
        dept, name_of_item, number, name, valid_from, valid_to, amount = get(item.__dict__)
        out.append([TEXT[dept], name_of_item, number, name, month[valid_from], month[valid_to], money[amount]])
    return out


def _service_types(data: SynthData) -> list[Row]:
    return [[t.code, t.name, TEXT[t.category], YES_NO[t.counts], TEXT[t.unit], str(t.time_limit), TEXT[t.lead_dept]]
            for t in data.service_types]


def _offers(data: SynthData) -> list[Row]:
    day = _Memo(dt.date.isoformat)
    return [[o.uscc, o.service_code, o.region_code, "" if o.capacity is None else str(o.capacity), _words(o.modes),
             day[o.valid_from], day[o.valid_to], day[o.designated_until]] for o in data.offers]


def _needs(data: SynthData) -> list[Row]:
    day = _Memo(dt.date.isoformat)
    return [[n.id_number, n.service_code or "", TEXT[n.category], day[n.assessed_on], TEXT[n.status], TEXT[n.source],
             n.assessor or "", n.note or ""] for n in data.needs]


def _deliveries(data: SynthData) -> list[Row]:
    day, money, number = _Memo(dt.date.isoformat), _Memo(yuan), _Memo(str)
    return [[d.record_no or "", d.id_number, d.service_code, day[d.delivered_on], day[d.ended_on], d.uscc or "",
             TEXT[d.dept], number[d.quantity], d.item or "", money[d.cost_fen], money[d.subsidy_fen], TEXT[d.outcome]]
            for d in data.deliveries]


ROWS: dict[str, Callable[[SynthData], list[Row]]] = {
    "regions": _regions, "households": _households, "persons": _persons, "cadres": _cadres, "orgs": _orgs,
    "pairings": _pairings, "ledger": _ledger, "listings": _listings, "service_types": _service_types,
    "offers": _offers, "needs": _needs, "deliveries": _deliveries,
}


def key_of(spec: FileSpec) -> Callable[[Row], tuple]:
    """The natural key of a written row (its cells, as text)."""
    fields = [c.field for c in spec.columns]
    index = [fields.index(k) for k in spec.key]
    return lambda row: tuple(row[i] for i in index)


def good_rows(spec: FileSpec, data: SynthData) -> list[Row]:
    """The rows of one file, sorted by the file's natural key (stable output)."""
    rows = ROWS[spec.kind](data)
    fields = [c.field for c in spec.columns]
    rows.sort(key=itemgetter(*[fields.index(k) for k in spec.key]))
    return rows


# --- bad rows --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    """One kind of known bad row: the column the report should name and its reason code."""

    file: str  # the contract file's name, e.g. 家庭
    kind: str  # short description, unique within the file
    column: str
    code: str
    make: Callable[["_Maker", int], Row]  # (maker, serial) → the row
    duplicate: bool = False  # repeats an earlier row's key; must come after it


class _Maker:
    """Builds bad rows from fresh values and from a few good records to refer to (taken from
    ``data``, so only the file being written is held as rows)."""

    def __init__(self, data: SynthData, rng: random.Random) -> None:
        self.data, self.rng = data, rng
        self.as_of = data.as_of
        levels: dict[str, list[str]] = {}
        for r in data.regions:
            levels.setdefault(r.level.value, []).append(r.code)
        self.villages = levels.get("village") or ["620121101201"]
        self.townships = levels.get("township") or ["620121101000"]
        self.counties = levels.get("county") or ["620121000000"]
        self.county = self.counties[0][:6]
        self.usccs = {o.uscc for o in data.orgs}
        self.current: list[Row] = []  # the good rows of the file being written
        self.duplicate_of: int = 0  # index (in ``current``) of the good row a duplicate repeats

    # fresh identifiers: births in 1900–1934 never occur in the generated data, so they are unused;
    # 12,783 days × 999 sequence numbers keep them distinct for any number of bad rows
    def fresh_id(self, serial: int) -> str:
        born = dt.date(1900, 1, 1) + dt.timedelta(days=serial % 12_783)
        first17 = f"{self.county}{born:%Y%m%d}{1 + (serial // 12_783) % 999:03d}"
        return first17 + id_check_char(first17)

    def wrong_check(self, number: str) -> str:
        return number[:17] + _ID_CHECK[(_ID_CHECK.index(number[17]) + 1) % 11]

    def fresh_uscc(self) -> str:
        while True:
            first17 = "52" + self.county + "".join(self.rng.choice(_USCC_ALPHABET) for _ in range(9))
            code = first17 + uscc_check_char(first17)
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def pick(self, items: Sequence):
        return items[self.rng.randrange(len(items))]

    def household_no(self) -> str:
        return self.pick(self.data.households).household_no if self.data.households else "H0000000000000"

    def cadre_no(self) -> str:
        return self.data.cadres[0].cadre_no if self.data.cadres else "GB000001"

    def village(self) -> str:
        return self.pick(self.villages)

    def day(self) -> str:
        return (self.as_of - dt.timedelta(days=self.rng.randint(1, 300))).isoformat()

    def actor(self) -> tuple[str, str]:
        """A household and a cadre that assists it (from a good ledger entry), for ledger rows."""
        if self.data.ledger:
            for _ in range(20):
                entry = self.pick(self.data.ledger)
                if entry.cadre_no:
                    return entry.household_no, entry.cadre_no
        return self.household_no(), self.cadre_no()

    def one_to_one(self, serial: int) -> tuple[str, str, str]:
        """An existing household, one of its cadres and a start date no other row uses for them
        (years before any good pairing, and different for every serial)."""
        if self.data.pairings:
            p = self.pick(self.data.pairings)
            household_no, cadre_no, start = p.household_no, p.cadre_no, p.started_on
        else:
            household_no, cadre_no, start = self.household_no(), self.cadre_no(), self.as_of
        return household_no, cadre_no, (start - dt.timedelta(days=1500 + serial)).isoformat()

    def uscc(self) -> str:
        return self.pick(self.data.orgs).uscc if self.data.orgs else self.fresh_uscc()

    def original(self) -> Row:
        """A good row of the current file to repeat; remembers its index so the repeat goes after it."""
        self.duplicate_of = self.rng.randrange(len(self.current))
        return self.current[self.duplicate_of]

    # one template per file: a plausible row with fresh keys, into which one bad value goes
    def region(self, serial: int) -> Row:
        township = self.townships[serial % len(self.townships)]
        return [f"{township[:9]}{900 + (serial // len(self.townships)) % 100:03d}", "新建村"]

    def household(self, serial: int) -> Row:
        return [f"HB{serial:08d}", "王建国", self.fresh_id(serial), self.village(), "3组12号", "3", "1", "5600", "",
                "否", "否", "否", "否", "因残", "13912345678"]

    def person(self, serial: int, household_no: str | None = None) -> Row:
        number = self.fresh_id(serial)
        return ["李秀英", number, f"{number}43", household_no or self.household_no(), "配偶", "肢体", "三级",
                "2027-06-30", "部分", "康复"]

    def cadre(self, serial: int) -> Row:
        return [f"GBX{serial:06d}", "赵明", "13812345678", "县残联", "县", "驻村工作队员", self.village(), "3", "是"]

    def org(self, serial: int) -> Row:
        return [f"新建助残服务中心{serial}", self.fresh_uscc(), "民办非企业单位", self.counties[0],
                "志愿服务", "周文", "13712345678"]

    def ledger(self, serial: int) -> Row:
        household_no, cadre_no = self.actor()
        return [self.day(), household_no, cadre_no, "", "入户走访", "", "", f"入户了解情况（补录{serial}）", "", ""]

    def listing(self, serial: int) -> Row:
        return ["民政", "困难残疾人生活补贴", self.fresh_id(serial), "张桂兰", "2024-01", "", "90"]

    def person_id(self) -> str:
        return self.pick(self.data.persons).id_number if self.data.persons else self.fresh_id(0)

    def service_type(self, serial: int) -> Row:
        return [f"ZX{serial:04d}", "心理疏导", "其他", "是", "次", "30", "残联"]

    def offer(self, serial: int) -> Row:
        return [self.uscc(), "KF01", self.village(), "50", "机构", "2024-01-01", "", "2026-12-31"]

    def need(self, serial: int) -> Row:
        # dated years before any good assessment and apart for every serial: no key repeats another row's
        day = dt.date(2015, 1, 1) + dt.timedelta(days=serial)
        return [self.person_id(), "KF01", "", day.isoformat(), "已确认", "入户走访", "", f"补录{serial}"]

    def delivery(self, serial: int) -> Row:
        return [f"FWX{serial:07d}", self.person_id(), "KF01", self.day(), "", "", "残联", "1", "", "", "", "完成"]


def _set(row: Row, spec: FileSpec, header: str, value: str) -> Row:
    row = list(row)
    row[spec.headers.index(header)] = value
    return row


def _bad_kinds() -> list[Bad]:
    R, H, P, C, O, L, D = REGIONS, HOUSEHOLDS, PERSONS, CADRES, ORGS, LEDGER, LISTINGS
    T, F, N, V = SERVICE_TYPES, OFFERS, NEEDS, DELIVERIES

    def numbered_duplicate(m: _Maker, n: int) -> Row:
        """A delivery repeating an earlier one's 记录编号 (about half the deliveries have one)."""
        row = m.original()
        for _ in range(100):
            if row[0]:
                break
            row = m.original()
        return _set(row, V, "物品", f"{row[8]}（重复登记）")

    def letter_in_code(m: _Maker, n: int) -> Row:
        row = m.region(n)
        return _set(row, R, "区划代码", f"{row[0][:9]}O{row[0][10:]}")  # the letter O typed for a zero

    def household_duplicate(m: _Maker, n: int) -> Row:
        row = m.original()
        return _set(row, H, "详细地址", f"{row[4]}（重复登记）")

    def person_duplicate(m: _Maker, n: int) -> Row:
        row = m.original()
        return _set(row, P, "需求", "辅具" if row[9] != "辅具" else "康复")

    def date_order(m: _Maker, n: int) -> Row:
        household_no, cadre_no, start = m.one_to_one(n)
        end = (dt.date.fromisoformat(start) - dt.timedelta(days=30)).isoformat()
        return [household_no, "一对一", cadre_no, "", start, end, "干部调动"]

    def unknown_pairing(m: _Maker, n: int) -> Row:
        _, cadre_no, start = m.one_to_one(n)
        return [f"HX{n:08d}", "一对一", cadre_no, "", start, "", ""]

    def no_cadre(m: _Maker, n: int) -> Row:
        household_no, _, start = m.one_to_one(n)
        return [household_no, "一对一", "", "", start, "", ""]

    def uscc_chars(m: _Maker, n: int) -> Row:
        code = m.fresh_uscc()
        return _set(m.org(n), O, "统一社会信用代码", f"{code[:10]}I{code[11:]}")

    def uscc_checksum(m: _Maker, n: int) -> Row:
        code = m.fresh_uscc()
        wrong = _USCC_ALPHABET[(_USCC_ALPHABET.index(code[17]) + 1) % 31]
        return _set(m.org(n), O, "统一社会信用代码", code[:17] + wrong)

    def both_actors(m: _Maker, n: int) -> Row:
        return _set(m.ledger(n), L, "统一社会信用代码", m.uscc())

    def no_actor(m: _Maker, n: int) -> Row:
        return _set(m.ledger(n), L, "干部编号", "")

    def bad_money(m: _Maker, n: int) -> Row:
        row = _set(m.ledger(n), L, "类型", "资助")
        return _set(_set(row, L, "内容", f"发放慰问金（补录{n}）"), L, "金额", "12.345")

    def never_opened(m: _Maker, n: int) -> Row:
        row = _set(_set(m.ledger(n), L, "类型", "解决困难"), L, "内容", f"协调解决出行困难（补录{n}）")
        return _set(row, L, "问题编号", f"PX{n:07d}")

    def float_id(m: _Maker, n: int) -> Row:
        number = m.fresh_id(n)
        return _set(m.household(n), H, "户主身份证号", f"{float(number[:17] + '0'):.14e}")

    return [
        Bad("区划", "region code with a letter", "区划代码", "REGION_FORMAT", letter_in_code),
        Bad("区划", "region without a name", "名称", Code.REQUIRED, lambda m, n: _set(m.region(n), R, "名称", "")),

        Bad("家庭", "head ID with a wrong check character", "户主身份证号", "ID_CHECKSUM",
            lambda m, n: _set(m.household(n), H, "户主身份证号", m.wrong_check(m.fresh_id(n)))),
        Bad("家庭", "head ID turned into a float", "户主身份证号", "ID_FLOAT", float_id),
        Bad("家庭", "head ID without its check character", "户主身份证号", "ID_LENGTH",
            lambda m, n: _set(m.household(n), H, "户主身份证号", m.fresh_id(n)[:17])),
        Bad("家庭", "labour force larger than the household", "劳动力人数", Code.INCONSISTENT,
            lambda m, n: _set(_set(m.household(n), H, "家庭人口", "2"), H, "劳动力人数", "5")),
        Bad("家庭", "household in a township, not a village", "区划代码", Code.WRONG_LEVEL,
            lambda m, n: _set(m.household(n), H, "区划代码", m.village()[:9] + "000")),
        Bad("家庭", "household head without a name", "户主姓名", Code.REQUIRED,
            lambda m, n: _set(m.household(n), H, "户主姓名", "")),
        Bad("家庭", "household number repeated", "户编号", Code.DUPLICATE_KEY, household_duplicate, duplicate=True),
        Bad("家庭", "dibao neither yes nor no", "是否低保", Code.BAD_BOOLEAN,
            lambda m, n: _set(m.household(n), H, "是否低保", "也许")),
        Bad("家庭", "household size in words", "家庭人口", Code.BAD_INTEGER,
            lambda m, n: _set(m.household(n), H, "家庭人口", "三")),

        Bad("残疾人", "person of an unknown household", "户编号", Code.UNKNOWN_REFERENCE,
            lambda m, n: m.person(n, f"HX{n:08d}")),
        Bad("残疾人", "certificate grade digit differs from the grade", "残疾人证号", "CERT_GRADE",
            lambda m, n: _set(m.person(n), P, "残疾人证号", f"{m.fresh_id(n)}41")),
        Bad("残疾人", "grade that does not exist", "残疾等级", Code.BAD_CHOICE,
            lambda m, n: _set(m.person(n), P, "残疾等级", "五级")),
        Bad("残疾人", "expiry date that does not exist", "证件有效期至", Code.BAD_DATE,
            lambda m, n: _set(m.person(n), P, "证件有效期至", "2024-02-30")),
        Bad("残疾人", "ID number repeated", "身份证号", Code.DUPLICATE_KEY, person_duplicate, duplicate=True),

        Bad("干部", "pairing limit above 10", "结对上限", Code.OUT_OF_RANGE,
            lambda m, n: _set(m.cadre(n), C, "结对上限", "12")),
        Bad("干部", "unit level that does not exist", "单位层级", Code.BAD_CHOICE,
            lambda m, n: _set(m.cadre(n), C, "单位层级", "部")),
        Bad("干部", "cadre stationed in a county", "驻点区划代码", Code.WRONG_LEVEL,
            lambda m, n: _set(m.cadre(n), C, "驻点区划代码", m.counties[n % len(m.counties)])),
        Bad("干部", "mobile number too short", "手机号", Code.BAD_PHONE,
            lambda m, n: _set(m.cadre(n), C, "手机号", "12345")),

        Bad("社会组织", "USCC with a wrong check character", "统一社会信用代码", "USCC_CHECKSUM", uscc_checksum),
        Bad("社会组织", "USCC with the letter I", "统一社会信用代码", "USCC_CHARS", uscc_chars),

        Bad("结对", "one-to-one pairing without a cadre", "干部编号", Code.REQUIRED, no_cadre),
        Bad("结对", "pairing of an unknown household", "户编号", Code.UNKNOWN_REFERENCE, unknown_pairing),
        Bad("结对", "pairing ended before it started", "结束日期", "DATE_ORDER", date_order),

        Bad("帮扶记录", "entry by both a cadre and an organisation", "干部编号", Code.INCONSISTENT, both_actors),
        Bad("帮扶记录", "entry by nobody", "干部编号", Code.REQUIRED, no_actor),
        Bad("帮扶记录", "entry dated in the future", "日期", Code.FUTURE_DATE,
            lambda m, n: _set(m.ledger(n), L, "日期", FUTURE_DAY)),
        Bad("帮扶记录", "date that does not exist", "日期", Code.BAD_DATE,
            lambda m, n: _set(m.ledger(n), L, "日期", "2024-13-45")),
        Bad("帮扶记录", "amount with three decimals", "金额", Code.BAD_MONEY, bad_money),
        Bad("帮扶记录", "entry kind that does not exist", "类型", Code.BAD_CHOICE,
            lambda m, n: _set(m.ledger(n), L, "类型", "吃饭")),
        Bad("帮扶记录", "problem solved that was never reported", "问题编号", "PROBLEM_NOT_OPEN", never_opened),

        Bad("部门名单", "month that does not exist", "起始年月", Code.BAD_MONTH,
            lambda m, n: _set(m.listing(n), D, "起始年月", "2024-13")),
        Bad("部门名单", "listed ID with a wrong check character", "身份证号", "ID_CHECKSUM",
            lambda m, n: _set(m.listing(n), D, "身份证号", m.wrong_check(m.fresh_id(n)))),
        Bad("部门名单", "department that does not exist", "来源部门", Code.BAD_CHOICE,
            lambda m, n: _set(m.listing(n), D, "来源部门", "外星")),

        Bad("服务目录", "category that does not exist", "类别", Code.BAD_CHOICE,
            lambda m, n: _set(m.service_type(n), T, "类别", "理发")),
        Bad("服务目录", "time limit of 0 days", "办理时限", Code.OUT_OF_RANGE,
            lambda m, n: _set(m.service_type(n), T, "办理时限", "0")),
        Bad("服务目录", "counts toward the rate: neither yes nor no", "计入服务率", Code.BAD_BOOLEAN,
            lambda m, n: _set(m.service_type(n), T, "计入服务率", "也许")),

        Bad("服务供给", "service not in the catalogue", "服务编码", Code.UNKNOWN_REFERENCE,
            lambda m, n: _set(m.offer(n), F, "服务编码", f"ZZ{n:04d}")),
        Bad("服务供给", "region in no region file", "服务区划代码", Code.UNKNOWN_REGION,
            lambda m, n: _set(m.offer(n), F, "服务区划代码", f"{m.county}999{n % 1000:03d}")),
        Bad("服务供给", "capacity in words", "年度容量", Code.BAD_INTEGER,
            lambda m, n: _set(m.offer(n), F, "年度容量", "很多")),
        Bad("服务供给", "offer ending before it starts", "截止日期", Code.INCONSISTENT,
            lambda m, n: _set(m.offer(n), F, "截止日期", "2023-06-30")),
        Bad("服务供给", "organisation that does not exist", "统一社会信用代码", Code.UNKNOWN_REFERENCE,
            lambda m, n: _set(m.offer(n), F, "统一社会信用代码", m.fresh_uscc())),

        Bad("服务需求", "neither a service nor a category", "服务编码", Code.REQUIRED,
            lambda m, n: _set(m.need(n), N, "服务编码", "")),
        Bad("服务需求", "service and category that disagree", "类别", Code.INCONSISTENT,
            lambda m, n: _set(m.need(n), N, "类别", "辅具")),
        Bad("服务需求", "person the registry does not know", "身份证号", Code.UNKNOWN_REFERENCE,
            lambda m, n: _set(m.need(n), N, "身份证号", m.fresh_id(n))),
        Bad("服务需求", "assessment dated in the future", "评估日期", Code.FUTURE_DATE,
            lambda m, n: _set(m.need(n), N, "评估日期", FUTURE_DAY)),
        Bad("服务需求", "source 登记, which only the registry gives", "来源", Code.BAD_CHOICE,
            lambda m, n: _set(m.need(n), N, "来源", "登记")),

        Bad("服务记录", "no provider", "统一社会信用代码", Code.REQUIRED,
            lambda m, n: _set(m.delivery(n), V, "提供部门", "")),
        Bad("服务记录", "subsidy above the cost", "补贴金额", Code.INCONSISTENT,
            lambda m, n: _set(_set(m.delivery(n), V, "费用", "1000"), V, "补贴金额", "1200")),
        Bad("服务记录", "quantity of 0", "数量", Code.OUT_OF_RANGE, lambda m, n: _set(m.delivery(n), V, "数量", "0")),
        Bad("服务记录", "outcome that does not exist", "结果", Code.BAD_CHOICE,
            lambda m, n: _set(m.delivery(n), V, "结果", "失败")),
        Bad("服务记录", "ends before it starts", "结束日期", Code.INCONSISTENT,
            lambda m, n: _set(_set(m.delivery(n), V, "服务日期", "2024-03-01"), V, "结束日期", "2024-02-01")),
        Bad("服务记录", "record number repeated", "记录编号", Code.DUPLICATE_KEY, numbered_duplicate, duplicate=True),
    ]


BAD_KINDS: list[Bad] = _bad_kinds()
"""Every kind of bad row, in the order each file cycles through them."""


def _inject(spec: FileSpec, rows: list[Row], kinds: Sequence[Bad], maker: _Maker, share: float,
            serial: list[int]) -> tuple[list[Row], list[tuple[int, Bad]]]:
    """``rows`` with about ``share × len(rows)`` bad rows (at least one of each kind) inserted at positions drawn
    from the seed; returns the rows and, for each bad row, its 0-based index and kind."""
    rng = maker.rng
    wanted = max(len(kinds), round(share * len(rows))) if kinds else 0  # every kind, even in a short file
    placed: list[tuple[int, int, Row, Bad]] = []  # (insert before good row #, order, row, kind)
    for j in range(wanted):
        kind = kinds[j % len(kinds)]
        if kind.duplicate and not rows:
            continue
        serial[0] += 1
        row = kind.make(maker, serial[0])
        low = maker.duplicate_of + 1 if kind.duplicate else 0
        placed.append((rng.randint(low, len(rows)), j, row, kind))
    placed.sort(key=lambda p: (p[0], p[1]))
    out: list[Row] = []
    marks: list[tuple[int, Bad]] = []
    start = 0
    for before, _, row, kind in placed:
        out.extend(rows[start:before])
        start = before
        marks.append((len(out), kind))
        out.append(row)
    out.extend(rows[start:])
    return out, marks


def _write_csv(path: Path, headers: list[str], rows: list[Row]) -> None:
    # the BOM by hand: the "utf-8-sig" codec encodes row by row in Python, ~3× slower
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("\ufeff")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)


def _write_xlsx(path: Path, name: str, headers: list[str], rows: list[Row], created: dt.date) -> None:
    # every cell as text, as in the CSV: an ID or a code must never become a number or a formula
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    # a fixed creation time (it is also the zip entries' timestamp): same seed, same bytes
    book.set_properties({"created": dt.datetime.combine(created, dt.time())})
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, headers)
    for index, row in enumerate(rows, 1):
        for column, value in enumerate(row):
            if value:
                sheet.write_string(index, column, value)
    book.close()


def write_files(data: SynthData, out: Path, *, bad_rows: float = 0.0, seed: int = 1, fmt: str = "csv") -> list[dict]:
    """Write the eight contract files of ``data`` into ``out``; with ``bad_rows`` > 0, add about that
    share of known bad rows to each file and write ``manifest.json``. Returns the manifest: one
    ``{file, row, column, code, kind}`` per bad row (``row`` as the spreadsheet numbers it, header = 1),
    sorted by file and row."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown format {fmt!r}: csv or xlsx")
    # millions of new row lists would make the cyclic garbage collector rescan every record of
    # ``data`` over and over (more than half the time for a province); rows form no cycles
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _write_files(data, Path(out), bad_rows, seed, fmt)
    finally:
        if was_enabled:
            gc.enable()


def _write_files(data: SynthData, out: Path, bad_rows: float, seed: int, fmt: str) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    maker = _Maker(data, random.Random(seed))
    serial = [0]
    manifest: list[dict] = []
    for spec in SPECS:  # one file at a time: only its rows are held in memory
        name = f"{spec.name}.{fmt}"
        content = maker.current = good_rows(spec, data)
        if bad_rows > 0:
            kinds = [k for k in BAD_KINDS if k.file == spec.name]
            content, marks = _inject(spec, content, kinds, maker, bad_rows, serial)
            manifest += [{"file": name, "row": index + 2, "column": kind.column, "code": str(kind.code),
                          "kind": kind.kind} for index, kind in marks]
        if fmt == "csv":
            _write_csv(out / name, spec.headers, content)
        else:
            _write_xlsx(out / name, spec.name, spec.headers, content, data.as_of)
    manifest.sort(key=lambda m: (m["file"], m["row"]))
    target = out / "manifest.json"
    if bad_rows > 0:
        target.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    else:
        target.unlink(missing_ok=True)  # a manifest left from an earlier run would describe other files
    return manifest


def synth_to_dir(preset: str | synth.Preset, seed: int, out: Path, bad_rows: float = 0.0, fmt: str = "csv",
                 as_of: dt.date | None = None) -> list[dict]:
    """Generate ``preset`` with ``seed`` (as of ``as_of``, default the generator's fixed date) and
    write it as contract files into ``out`` (see :func:`write_files`)."""
    data = synth.generate(preset, seed=seed, **({"as_of": as_of} if as_of else {}))
    return write_files(data, out, bad_rows=bad_rows, seed=seed, fmt=fmt)
