"""One row of a contract file → one domain record, or every problem the row has.

Each cell is parsed by its column's parser so a problem names its column and carries a precise
code (ID_CHECKSUM, BAD_DATE …); only when every cell is fine is the model built, and what the model
still refuses (a rule across columns, such as 劳动力人数 > 家庭人口) is reported as INCONSISTENT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError

from graph_schema.cadre.models import Cadre
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
    PairingSource,
    PairingType,
    Relation,
    RiskFactor,
    ServiceCategory,
    ServiceDept,
    ServiceMode,
    ServiceUnit,
    UnitLevel,
)
from graph_schema.household.models import Household, Person
from graph_schema.identifiers import (
    IdentifierError,
    RegionLevel,
    normalize_cert_number,
    normalize_id_number,
    normalize_region_code,
    normalize_uscc,
    region_level,
)
from graph_schema.ledger.models import LedgerEntry
from graph_schema.listing.models import Listing
from graph_schema.org.models import Org
from graph_schema.pairing.models import AuxPairRequest, PairRequest
from graph_schema.region.models import Region
from graph_schema.service import models as service
from importers import cells
from importers.cells import CellError
from importers.contract import Code, FileSpec


@dataclass(frozen=True)
class Problem:
    """One line of the import report."""

    file: str
    row: int | None  # as the spreadsheet shows it (header = its own row); None for file-level problems
    column: str | None  # the Chinese header
    value: str
    code: str
    reason: str  # Chinese, for the clerk
    reason_en: str

    @property
    def rejects_row(self) -> bool:
        return self.code not in (Code.UNKNOWN_COLUMN, Code.DUPLICATE_COLUMN)


class RowRejected(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


Parser = Callable[[Any], Any]


SHOWN_MAX = 200  # a report's value column: enough to find the cell, never a pasted megabyte


def _shown(value: Any) -> str:
    shown = "" if value is None else str(value)
    return shown if len(shown) <= SHOWN_MAX else shown[: SHOWN_MAX - 1] + "…"


_UNSEEN = object()


class Seen:
    """The values a file's columns parsed to, by raw cell, so a repeated cell is parsed once.

    Most columns repeat a few values (是/否, a category, a village code, a date) across thousands
    of rows; parsing each distinct cell once is what checking a whole column at a time would save,
    without a second set of parsers that could disagree with these. A column whose cells keep
    differing (names, ID numbers) stops being remembered after ``limit`` distinct cells, and so does
    one whose parser is made anew for each row (it may depend on the row's other cells). Only cells
    that parsed well are remembered; a bad cell is parsed, and reported, each time it occurs.
    """

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._columns: dict[str, tuple[Parser, dict[Any, Any]] | None] = {}

    def value(self, field: str, parse: Parser, raw: Any) -> Any:
        column = self._columns.get(field)
        if column is None or column[0] is not parse:
            return _UNSEEN
        try:
            return column[1].get((type(raw), raw), _UNSEEN)
        except TypeError:  # an unhashable cell
            return _UNSEEN

    def keep(self, field: str, parse: Parser, raw: Any, value: Any) -> None:
        if field not in self._columns:
            self._columns[field] = (parse, {})
        column = self._columns[field]
        if column is None:
            return
        if column[0] is not parse or len(column[1]) >= self.limit:
            self._columns[field] = None  # not worth remembering, or not safe to
            return
        try:
            column[1][(type(raw), raw)] = value  # by type too: True, 1 and 1.0 are equal keys
        except TypeError:
            pass


class Row:
    """The cells of one row, read by field name; problems are collected, not raised one by one."""

    def __init__(self, spec: FileSpec, file: str, number: int, values: dict[str, Any],
                 seen: Seen | None = None) -> None:
        self.spec, self.file, self.number, self.values = spec, file, number, values
        self.problems: list[Problem] = []
        self.seen = seen

    def problem(self, field: str, code: str, zh: str, en: str) -> None:
        self.problems.append(Problem(self.file, self.number, self.spec.column(field).header,
                                     _shown(self.values.get(field)), str(code), zh, en))

    def get(self, field: str, parse: Parser = cells.text) -> Any:
        raw = self.values.get(field)
        if self.seen is not None:
            value = self.seen.value(field, parse, raw)
            if value is not _UNSEEN:
                return value
        try:
            value = parse(raw)
        except CellError as exc:
            self.problem(field, exc.code, exc.zh, exc.en)
            return None
        except IdentifierError as exc:
            self.problem(field, exc.code, exc.reason_zh, exc.reason_en)
            return None
        if value in (None, []) and self.spec.column(field).required:
            self.problem(field, Code.REQUIRED, "必填项为空", "a required cell is empty")
        elif self.seen is not None:
            self.seen.keep(field, parse, raw, value)
        return value

    def build(self, model: type, blame: str | None = None, **fields: Any) -> Any:
        """The model, or RowRejected with every problem of the row. A rule across columns has no
        single field; ``blame`` names the column the clerk should look at first."""
        if self.problems:
            raise RowRejected(self.problems)
        try:
            return model(**fields)
        except ValidationError as exc:
            for error in exc.errors():
                field = next((str(p) for p in error["loc"] if str(p) in fields), None)
                column = _column_of(self.spec, field) or blame or self.spec.columns[0].field
                message = str(error.get("msg", "")).removeprefix("Value error, ")
                zh, _, en = message.partition(" / ")
                self.problem(column, Code.INCONSISTENT, zh, en or zh)
            raise RowRejected(self.problems) from exc


def _column_of(spec: FileSpec, model_field: str | None) -> str | None:
    if model_field is None:
        return None
    renamed = {"income_fen": "income", "amount_fen": "amount", "in_kind_fen": "in_kind", "cost_fen": "cost",
               "subsidy_fen": "subsidy"}
    name = renamed.get(model_field, model_field)
    return name if any(c.field == name for c in spec.columns) else None


# --- parsers built from the domain's vocabularies -------------------------------------------

def choice(enum: type[Enum], parse: Callable[[str], Enum] | None = None, but: tuple[Enum, ...] = ()) -> Parser:
    """One word of ``enum`` (its Chinese value), or BAD_CHOICE listing the allowed words; the
    members ``but`` names are not allowed in a file."""
    allowed = "、".join(str(m.value) if not isinstance(m.value, int) else m.zh for m in enum if m not in but)

    def parser(raw: Any) -> Enum | None:
        text = cells.text(raw)
        if text is None:
            return None
        try:
            value = parse(text) if parse else enum(text)
            if value in but:
                raise ValueError(text)
            return value
        except ValueError:
            raise CellError(Code.BAD_CHOICE, f"「{text}」不是可选值（{allowed}）",
                            f"'{text}' is not one of: {allowed}") from None

    return parser


def choices(enum: type[Enum]) -> Parser:
    one = choice(enum)
    return lambda raw: [one(item) for item in cells.items(raw)]


def bounded(low: int, high: int) -> Parser:
    def parser(raw: Any) -> int | None:
        value = cells.integer(raw)
        if value is not None and not low <= value <= high:
            raise CellError(Code.OUT_OF_RANGE, f"应在 {low} 到 {high} 之间", f"must be between {low} and {high}")
        return value

    return parser


def region_at(*levels: RegionLevel) -> Parser:
    names = "、".join(level.label for level in levels)

    def parser(raw: Any) -> str | None:
        code = cells.key(raw)
        if code is None:
            return None
        code = normalize_region_code(code)
        if levels and region_level(code) not in levels:
            raise CellError(Code.WRONG_LEVEL, f"区划代码应为{names}级，实际为{region_level(code).label}级",
                            f"the region must be at level {'/'.join(levels)}, not {region_level(code)}")
        return code

    return parser


def identifier(normalize: Callable[[Any], str]) -> Parser:
    """An identifier cell: full-width forms folded, floats passed through so they are reported."""
    return lambda raw: None if cells.text(raw) is None else normalize(
        cells.halfwidth(raw) if isinstance(raw, str) else raw)


def not_future(raw: Any) -> dt.date | None:
    value = cells.date(raw)
    if value is not None and value > dt.date.today():
        raise CellError(Code.FUTURE_DATE, f"日期 {value} 晚于今天", f"date {value} is in the future")
    return value


ID = identifier(normalize_id_number)
USCC = identifier(normalize_uscc)
# built once: a parser made per row costs more than the parsing itself
MONITORING, RISK_FACTORS = choice(MonitoringCategory), choices(RiskFactor)
CATEGORY, GRADE = choice(DisabilityCategory, DisabilityCategory.parse), choice(DisabilityGrade, DisabilityGrade.parse)
RELATION, LABOUR_ABILITY, NEEDS = choice(Relation), choice(LabourAbility), choices(Need)
UNIT_LEVEL, ROLE, ORG_TYPE, SERVICE_MODES = choice(UnitLevel), choice(CadreRole), choice(OrgType), choices(ServiceMode)
PAIRING_TYPE, KIND, DEPARTMENT = choice(PairingType), choice(LedgerKind), choice(Department)
ANY_REGION, VILLAGE = region_at(), region_at(RegionLevel.VILLAGE)
STATION = region_at(RegionLevel.VILLAGE, RegionLevel.TOWNSHIP)
SIZE, LABOUR, LIMIT = bounded(1, 50), bounded(0, 50), bounded(1, 10)
SERVICE_CATEGORY, SERVICE_UNIT, SERVICE_DEPT = choice(ServiceCategory), choice(ServiceUnit), choice(ServiceDept)
NEED_STATUS, NEED_SOURCE = choice(NeedStatus), choice(NeedSource, but=(NeedSource.REGISTRY,))
OFFER_MODES, OUTCOME = choices(OfferMode), choice(DeliveryOutcome)
TIME_LIMIT, CAPACITY, QUANTITY = bounded(1, 730), bounded(0, 10_000_000), bounded(1, 1_000_000)


def mobile(raw: Any) -> str | None:
    return cells.phone(raw, mobile_only=True)


def note(raw: Any) -> str | None:
    return cells.text(raw, max_len=2000)


# --- one mapper per contract file ---------------------------------------------------------

def region(r: Row) -> Region:
    return r.build(Region, code=r.get("code", ANY_REGION), name=r.get("name"))


def household(r: Row) -> Household:
    return r.build(
        Household, blame="labour", household_no=r.get("household_no", cells.key), head_name=r.get("head_name"),
        head_id=r.get("head_id", ID), region_code=r.get("region_code", VILLAGE),
        address=r.get("address"), size=r.get("size", SIZE), labour=r.get("labour", LABOUR),
        income_fen=r.get("income", cells.money_fen), monitoring=r.get("monitoring", MONITORING),
        formerly_poor=r.get("formerly_poor", cells.boolean), dibao=r.get("dibao", cells.boolean),
        tekun=r.get("tekun", cells.boolean), elderly_carer=r.get("elderly_carer", cells.boolean),
        risk_factors=r.get("risk_factors", RISK_FACTORS), phone=r.get("phone", cells.phone),
    )


def person(r: Row) -> Person:
    id_number = r.get("id_number", ID)
    category = r.get("category", CATEGORY)
    grade = r.get("grade", GRADE)
    cert_no = r.get("cert_no", identifier(lambda v: normalize_cert_number(
        v, id_number=id_number, category=category and int(category), grade=grade and int(grade))))
    return r.build(
        Person, blame="cert_no", id_number=id_number, name=r.get("name"), cert_no=cert_no,
        household_no=r.get("household_no", cells.key), relation=r.get("relation", RELATION),
        category=category, grade=grade, cert_expiry=r.get("cert_expiry", cells.date),
        labour_ability=r.get("labour_ability", LABOUR_ABILITY), needs=r.get("needs", NEEDS),
    )


def cadre(r: Row) -> Cadre:
    limit = r.get("pair_limit", LIMIT)
    on_duty = r.get("on_duty", cells.boolean)
    return r.build(
        Cadre, cadre_no=r.get("cadre_no", cells.key), name=r.get("name"),
        phone=r.get("phone", mobile), unit=r.get("unit"),
        unit_level=r.get("unit_level", UNIT_LEVEL), role=r.get("role", ROLE),
        station_code=r.get("station_code", STATION),
        pair_limit=3 if limit is None else limit, on_duty=True if on_duty is None else on_duty,
    )


def org(r: Row) -> Org:
    return r.build(
        Org, name=r.get("name"), uscc=r.get("uscc", USCC), org_type=r.get("org_type", ORG_TYPE),
        service_region_code=r.get("service_region_code", ANY_REGION),
        service_modes=r.get("service_modes", SERVICE_MODES), contact=r.get("contact"),
        phone=r.get("phone", cells.phone),
    )


def pairing(r: Row) -> PairRequest | AuxPairRequest:
    kind = r.get("pairing_type", PAIRING_TYPE)
    common = {"household_no": r.get("household_no", cells.key), "started_on": r.get("started_on", not_future),
              "ended_on": r.get("ended_on", not_future), "end_reason": r.get("end_reason"),
              "source": PairingSource.IMPORT}
    cadre_no, uscc = r.get("cadre_no", cells.key), r.get("uscc", USCC)
    if kind is PairingType.ONE_TO_ONE and not cadre_no:
        r.problem("cadre_no", Code.REQUIRED, "一对一结对必须填写干部编号", "a one-to-one pairing needs a cadre number")
    if kind is PairingType.AUXILIARY and not uscc:
        r.problem("uscc", Code.REQUIRED, "辅助结对必须填写统一社会信用代码", "an auxiliary pairing needs an organisation code")
    if kind is PairingType.AUXILIARY:
        return r.build(AuxPairRequest, uscc=uscc, **common)
    return r.build(PairRequest, cadre_no=cadre_no, **common)


def ledger_entry(r: Row) -> LedgerEntry:
    cadre_no, uscc = r.get("cadre_no", cells.key), r.get("uscc", USCC)
    if cadre_no and uscc:
        r.problem("cadre_no", Code.INCONSISTENT, "干部编号与统一社会信用代码只能填写一个",
                  "only one of cadre number and organisation code may be filled")
    elif not (cadre_no or uscc or any(p.column in ("干部编号", "统一社会信用代码") for p in r.problems)):
        r.problem("cadre_no", Code.REQUIRED, "干部编号与统一社会信用代码必须填写一个",
                  "one of cadre number and organisation code must be filled")
    kind = r.get("kind", KIND)
    problem_no = r.get("problem_no", cells.key)
    if kind is LedgerKind.REPORT_PROBLEM and not problem_no:
        r.problem("problem_no", Code.REQUIRED, "反映困难必须填写问题编号", "a reported difficulty needs a problem number")
    return r.build(
        LedgerEntry, blame="cadre_no", entry_date=r.get("entry_date", not_future), household_no=r.get("household_no", cells.key),
        cadre_no=cadre_no, uscc=uscc, kind=kind, amount_fen=r.get("amount", cells.money_fen),
        in_kind_fen=r.get("in_kind", cells.money_fen), note=r.get("note", note),
        problem_no=problem_no, record_no=r.get("record_no", cells.key),
    )


def listing(r: Row) -> Listing:
    return r.build(
        Listing, dept=r.get("dept", DEPARTMENT), item=r.get("item"), id_number=r.get("id_number", ID),
        name=r.get("name"), valid_from=r.get("valid_from", cells.month), valid_to=r.get("valid_to", cells.month),
        amount_fen=r.get("amount", cells.money_fen),
    )


def service_type(r: Row) -> service.ServiceType:
    counts, limit = r.get("counts", cells.boolean), r.get("time_limit", TIME_LIMIT)
    return r.build(
        service.ServiceType, code=r.get("code", cells.key), name=r.get("name"),
        category=r.get("category", SERVICE_CATEGORY), counts=True if counts is None else counts,
        unit=r.get("unit", SERVICE_UNIT), time_limit=service.DEFAULT_TIME_LIMIT if limit is None else limit,
        lead_dept=r.get("lead_dept", SERVICE_DEPT),
    )


def offer(r: Row) -> service.Offer:
    return r.build(
        service.Offer, blame="valid_to", uscc=r.get("uscc", USCC), service_code=r.get("service_code", cells.key),
        region_code=r.get("region_code", ANY_REGION), capacity=r.get("capacity", CAPACITY),
        modes=r.get("modes", OFFER_MODES), valid_from=r.get("valid_from", cells.date),
        valid_to=r.get("valid_to", cells.date), designated_until=r.get("designated_until", cells.date),
    )


def _one_of(r: Row, first: str, second: str, values: tuple[Any, Any], zh: str, en: str) -> None:
    """REQUIRED on ``first`` when neither column has a value (unless one is already at fault)."""
    if not any(values) and not any(p.column in (r.spec.column(first).header, r.spec.column(second).header)
                                   for p in r.problems):
        r.problem(first, Code.REQUIRED, zh, en)


def need(r: Row) -> service.Need:
    code, category = r.get("service_code", cells.key), r.get("category", SERVICE_CATEGORY)
    _one_of(r, "service_code", "category", (code, category), "服务编码与类别至少填写一个",
            "a service code or a category is needed")
    status = r.get("status", NEED_STATUS)
    return r.build(
        service.Need, blame="service_code", id_number=r.get("id_number", ID), service_code=code, category=category,
        assessed_on=r.get("assessed_on", not_future), status=status or NeedStatus.CONFIRMED,
        source=r.get("source", NEED_SOURCE), assessor=r.get("assessor"), note=r.get("note", note),
    )


def delivery(r: Row) -> service.Delivery:
    uscc, dept = r.get("uscc", USCC), r.get("dept", SERVICE_DEPT)
    _one_of(r, "uscc", "dept", (uscc, dept), "统一社会信用代码与提供部门至少填写一个",
            "an organisation code or a providing department is needed")
    start, end = r.get("delivered_on", not_future), r.get("ended_on", cells.date)
    if start and end and end < start:
        r.problem("ended_on", Code.INCONSISTENT, f"结束日期早于服务日期 {start}", f"ends before it starts ({start})")
    cost, subsidy = r.get("cost", cells.money_fen), r.get("subsidy", cells.money_fen)
    if cost is not None and subsidy is not None and subsidy > cost:
        r.problem("subsidy", Code.INCONSISTENT, "补贴金额大于费用", "the subsidy exceeds the cost")
    quantity, outcome = r.get("quantity", QUANTITY), r.get("outcome", OUTCOME)
    return r.build(
        service.Delivery, record_no=r.get("record_no", cells.key), id_number=r.get("id_number", ID),
        service_code=r.get("service_code", cells.key), delivered_on=start, ended_on=end, uscc=uscc, dept=dept,
        quantity=1 if quantity is None else quantity, item=r.get("item"), cost_fen=cost, subsidy_fen=subsidy,
        outcome=outcome or DeliveryOutcome.DONE,
    )


MAPPERS: dict[str, Callable[[Row], Any]] = {
    "regions": region, "households": household, "persons": person, "cadres": cadre, "orgs": org,
    "pairings": pairing, "ledger": ledger_entry, "listings": listing, "service_types": service_type,
    "offers": offer, "needs": need, "deliveries": delivery,
}
