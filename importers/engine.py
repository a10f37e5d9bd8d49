"""An import: files in, every valid row applied in dependency order, every problem reported.

Three phases, so a dry run and a real run decide alike:
1. read   — identify each file (by name, else by headers), check its columns; a file that cannot be
             read or lacks a required column stops the import before anything is written;
2. check  — map rows to records, refuse repeated natural keys, resolve references against the store
             and this import, and apply the stateful rules (one active pairing per household, the
             cadre limit, problems opened before they are closed) with the services' own deciders;
3. apply  — (not in a dry run) write through the services' batch paths, which check again inside
             their transactions; a row refused there (the store changed meanwhile) is reported too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_schema.cadre.service import upsert_cadres
from graph_schema.errors import JieduiError, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.service import decide_entries, load_ledger_state, log_entries
from graph_schema.listing.service import upsert_listings
from graph_schema.org.service import upsert_orgs
from graph_schema.pairing.models import AuxPairRequest, PairRequest
from graph_schema.pairing.service import (
    aux_pair_many,
    decide_aux,
    decide_pairings,
    load_aux_state,
    load_pairing_state,
    pair_many,
)
from graph_schema.identifiers import region_ancestors, region_prefix
from graph_schema.records import BatchResult, fetch_by_keys
from graph_schema.region.service import upsert_regions
from graph_schema.service.catalogue import Catalogue, catalogue_in, upsert_service_types
from graph_schema.service.deliveries import check_delivery, record_deliveries
from graph_schema.service.needs import check_need, record_needs
from graph_schema.service.offers import check_offer, upsert_offers
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import CADRE, HOUSEHOLD, ORG, PERSON, REGION
from importers import mapping
from importers.contract import SPECS, Code, FileSpec
from importers.mapping import Problem, Row, RowRejected
from importers.readers import ReadError, Table, normalise_header, read_table

SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}
REPORT_PREFIX = "导入报告"
FILE_FAILURES = {Code.UNREADABLE, Code.UNKNOWN_FILE, Code.MISSING_COLUMN}  # reports written into an import folder are not imported with it
OUT_OF_JURISDICTION = "OUT_OF_JURISDICTION"  # a row outside the importing organiser's region (see check_bound)
Progress = Callable[[str, str, int, int], None]
"""progress(file, phase, done, total): called as rows are checked and written."""


@dataclass
class FileResult:
    path: Path
    spec: FileSpec | None
    table: Table | None = None
    fields: list[str | None] = field(default_factory=list)  # the contract field of each column
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    valid: list[tuple[int, Any]] = field(default_factory=list)  # (row number, record)
    rejected_rows: dict[int, list[Problem]] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)  # file-level problems and ignored columns

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def failed(self) -> bool:
        """The file as a whole could not be used."""
        return any(p.code in FILE_FAILURES for p in self.notes)

    def reject(self, number: int, problems: Iterable[Problem]) -> None:
        self.rejected_rows.setdefault(number, []).extend(problems)


@dataclass
class ImportResult:
    files: list[FileResult]
    dry_run: bool

    @property
    def problems(self) -> list[Problem]:
        out = [p for f in self.files for p in f.notes]
        out += [p for f in self.files for number in sorted(f.rejected_rows) for p in f.rejected_rows[number]]
        return out

    @property
    def exit_code(self) -> int:
        """0 every row imported; 1 some rows rejected, the rest imported; 2 nothing imported."""
        if not self.files or any(f.failed for f in self.files):
            return 2
        return 1 if any(f.rejected for f in self.files) else 0


def collect(paths: Sequence[str | Path]) -> list[Path]:
    """The files named, folders expanded (Excel's ~$ lock files and hidden files skipped)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                          and not p.name.startswith(("~$", ".")))
        else:
            out.append(path)
    return out


def _spec_by_name(path: Path) -> FileSpec | None:
    named = [s for s in SPECS if s.name in path.stem]
    return max(named, key=lambda s: len(s.name)) if named else None


def _known_headers(spec: FileSpec | None) -> set[str]:
    specs = [spec] if spec else SPECS
    return {name for s in specs for c in s.columns for name in (c.header, *c.aliases)}


def _spec_by_headers(headers: list[str]) -> FileSpec | None:
    present = {h.lower() for h in headers}

    def score(spec: FileSpec) -> tuple[int, int]:
        hits = [c for c in spec.columns if {c.header, *c.aliases} & present or c.header.lower() in present]
        return sum(c.required for c in hits), len(hits)

    best = max(SPECS, key=score)
    return best if score(best)[0] == len(best.required) else None


def read_file(path: Path) -> FileResult:
    """Phase 1 for one file."""
    spec = _spec_by_name(path)
    result = FileResult(path, spec)
    if not path.is_file():
        result.notes.append(Problem(path.name, None, None, str(path), Code.UNREADABLE, "文件不存在",
                                    "no such file"))
        return result
    try:
        table = read_table(path, _known_headers(spec))
    except ReadError as exc:
        result.notes.append(Problem(path.name, None, None, "", str(exc.code), exc.zh, exc.en))
        return result
    result.table, result.rows_read = table, len(table.rows)
    if spec is None:
        result.spec = spec = _spec_by_headers(table.headers)
        if spec is None:
            result.notes.append(Problem(path.name, None, None, "", Code.UNKNOWN_FILE,
                                        "无法识别文件类型：文件名和表头都不符合导入模板",
                                        "neither the file name nor the headers match a contract file"))
            return result
    lookup = {name.lower(): c.field for c in spec.columns for name in (c.header, *c.aliases)}
    fields = [lookup.get(normalise_header(h).lower()) for h in table.headers]
    for column in spec.required:
        if column.field not in fields:
            result.notes.append(Problem(path.name, table.header_row, column.header, "", Code.MISSING_COLUMN,
                                        f"缺少必填列「{column.header}」，整个文件未导入",
                                        f"required column '{column.header}' is missing: the file was not imported"))
    for header, name in zip(table.headers, fields):
        if name is None and header:
            result.notes.append(Problem(path.name, table.header_row, header, "", Code.UNKNOWN_COLUMN,
                                        "未知列，已忽略", "unknown column, ignored"))
    seen: set[str] = set()
    for index, name in enumerate(fields):  # a repeated column keeps its first occurrence
        if name is not None and name in seen:
            fields[index] = None
            result.notes.append(Problem(path.name, table.header_row, table.headers[index], "", Code.DUPLICATE_COLUMN,
                                        "重复的列，已忽略（使用左侧第一个同名列）",
                                        "repeated column, ignored (the first one on the left is used)"))
        seen.add(name)
    result.fields = fields
    return result


def _row_problem(f: FileResult, number: int, column: str, value: str, error: JieduiError) -> Problem:
    code = Code.UNKNOWN_REFERENCE if isinstance(error, NotFound) else error.code
    return Problem(f.name, number, column, value, str(code), error.zh, error.en)


def check_rows(f: FileResult, progress: Progress | None = None) -> None:
    """Phase 2a: every row mapped to a record or rejected; repeated natural keys refused."""
    spec, table = f.spec, f.table
    assert spec is not None and table is not None
    mapper = mapping.MAPPERS[spec.kind]
    fields = f.fields
    keys: dict[tuple, int] = {}
    for done, (number, cells) in enumerate(table.rows, 1):
        values = {name: value for name, value in zip(fields, cells) if name}
        row = Row(spec, f.name, number, values)
        try:
            record = mapper(row)
        except RowRejected as exc:
            f.reject(number, exc.problems)
            continue
        if spec.identity:
            key: tuple = (getattr(record, spec.identity),)
        else:
            key = tuple(values.get(k) if not hasattr(record, k) else getattr(record, k) for k in spec.key)
        if key in keys:
            named = "record_no" if getattr(record, "record_no", None) else next(k for k in spec.key if k != "record_no")
            column = spec.column(named)
            f.reject(number, [Problem(f.name, number, column.header, mapping._shown(values.get(named)),
                                      Code.DUPLICATE_KEY, f"与第 {keys[key]} 行重复（同一文件中不能出现两次）",
                                      f"repeats row {keys[key]} of this file")])
            continue
        keys[key] = number
        f.valid.append((number, record))
        if progress and done % 5000 == 0:
            progress(f.name, "check", done, f.rows_read)
    if progress:
        progress(f.name, "check", f.rows_read, f.rows_read)


def release_raw_rows(f: FileResult) -> None:
    """Keep the raw cells only of rows rejected so far (the report writes them back): at province
    size the raw cells of the valid rows would double the import's memory. A row refused later,
    while writing (the store changed meanwhile), is still in the report, without its cells."""
    if f.table is not None:
        f.table.rows = [(n, cells) for n, cells in f.table.rows if n in f.rejected_rows]


@dataclass
class Known:
    """Keys that exist in the store or in this import, for the cross-file references."""

    households: set[str]
    cadres: dict[str, dict]
    orgs: set[str]


def _records(files: list[FileResult], kind: str) -> list[tuple[FileResult, int, Any]]:
    return [(f, n, rec) for f in files if f.spec and f.spec.kind == kind for n, rec in f.valid]


def check_references(store: GraphStore, files: list[FileResult]) -> None:
    """Phase 2b: references and the stateful rules, decided on the store's state plus this import."""
    households = {rec.household_no for _, _, rec in _records(files, "households")}
    cadres = {rec.cadre_no: {"cadre_no": rec.cadre_no, "pair_limit": rec.pair_limit, "on_duty": rec.on_duty}
              for _, _, rec in _records(files, "cadres")}
    orgs = {rec.uscc for _, _, rec in _records(files, "orgs")}

    persons = _records(files, "persons")
    if persons:
        stored = store.read(lambda tx: fetch_by_keys(
            tx, HOUSEHOLD, sorted({r.household_no for _, _, r in persons} - households), ["household_no"]))
        unknown = BatchResult(errors=[(i, NotFound("家庭", "household", rec.household_no))
                                      for i, (_, _, rec) in enumerate(persons)
                                      if rec.household_no not in households and rec.household_no not in stored])
        _refuse_all(persons, unknown, lambda error, rec: ("户编号", rec.household_no))

    pairings = _records(files, "pairings")
    one_to_one = [(f, n, r) for f, n, r in pairings if isinstance(r, PairRequest)]
    aux = [(f, n, r) for f, n, r in pairings if isinstance(r, AuxPairRequest)]
    if one_to_one:
        requests = [r for _, _, r in one_to_one]
        state = store.read(lambda tx: load_pairing_state(tx, requests, lock=False))
        state.households |= households
        state.cadres.update(cadres)
        _, result = decide_pairings(state, requests, allow_off_duty=True)
        _refuse_all(one_to_one, result, _pairing_column)
    if aux:
        requests = [r for _, _, r in aux]
        state = store.read(lambda tx: load_aux_state(tx, requests, lock=False))
        state.households |= households
        state.orgs |= orgs
        _, result = decide_aux(state, requests)
        _refuse_all(aux, result, _pairing_column)
    entries = _records(files, "ledger")
    if entries:
        records = [r for _, _, r in entries]
        state = store.read(lambda tx: load_ledger_state(tx, records, lock=False))
        state.households |= households
        state.cadres |= set(cadres)
        state.orgs |= orgs
        _, result = decide_entries(state, records)
        _refuse_all(entries, result, _ledger_column)
    _check_services(store, files, orgs)


class UnknownRegion(JieduiError):
    code = Code.UNKNOWN_REGION

    def __init__(self, code: str) -> None:
        super().__init__(f"区划代码「{code}」既不在本次导入的区划.csv中，也不在图库中",
                         f"region '{code}' is neither in this import's 区划.csv nor in the store", entity="region")


def unknown_regions(store: GraphStore, files: list[FileResult], codes: set[str]) -> set[str]:
    """The region codes in neither 区划.csv of this import (a code there brings its ancestors) nor
    the store: the data contract's UNKNOWN_REGION rule."""
    named = {r.code for _, _, r in _records(files, "regions")}
    named |= {a for code in named for a in region_ancestors(code)}
    rest = sorted(set(codes) - named)
    stored = store.read(lambda tx: fetch_by_keys(tx, REGION, rest, ["code"])) if rest else {}
    return set(rest) - set(stored)


def _check_services(store: GraphStore, files: list[FileResult], orgs: set[str]) -> None:
    """The service files' references, on the store's catalogue overlaid by this import's."""
    offers, needs, deliveries = (_records(files, kind) for kind in ("offers", "needs", "deliveries"))
    if not (offers or needs or deliveries):
        return
    stored = store.read(catalogue_in)
    catalogue = Catalogue({**stored.types, **{r.code: r for _, _, r in _records(files, "service_types")}})
    named = {r.id_number for _, _, r in _records(files, "persons")}
    wanted = sorted({r.id_number for _, _, r in needs + deliveries} - named)
    persons = named | set(store.read(lambda tx: fetch_by_keys(tx, PERSON, wanted, ["id_number"])))
    usccs = sorted({r.uscc for _, _, r in offers + deliveries if r.uscc} - orgs)
    orgs = orgs | set(store.read(lambda tx: fetch_by_keys(tx, ORG, usccs, ["uscc"])))
    unknown = unknown_regions(store, files, {r.region_code for _, _, r in offers})
    _refuse_all(offers, BatchResult(errors=[(i, UnknownRegion(r.region_code)) for i, (_, _, r) in enumerate(offers)
                                            if r.region_code in unknown]), _service_column)
    offers = _records(files, "offers")
    regions = {r.region_code for _, _, r in offers}
    for items, check in ((offers, lambda r: check_offer(r, catalogue, orgs, regions)),
                         (needs, lambda r: check_need(r, catalogue, persons)),
                         (deliveries, lambda r: check_delivery(r, catalogue, persons, orgs))):
        result = BatchResult()
        for index, (_, _, record) in enumerate(items):
            try:
                check(record)
            except JieduiError as exc:
                result.errors.append((index, exc))
        _refuse_all(items, result, _service_column)


def _service_column(error: JieduiError, rec: Any) -> tuple[str, str]:
    entity, field_zh = error.details.get("entity"), error.details.get("field")
    if entity == "person":
        return "身份证号", rec.id_number
    if entity == "service":
        return "服务编码", rec.service_code
    if entity == "organisation":
        return "统一社会信用代码", rec.uscc
    if entity == "region":
        return "服务区划代码", rec.region_code
    if field_zh in ("类别", "评估日期", "服务日期"):
        return field_zh, str(error.details.get("value", ""))
    return "身份证号", getattr(rec, "id_number", "") or ""


@dataclass
class _Places:
    """Where each record an import names lies, as this import says and as the store holds it."""

    households: dict[str, list[str]]  # household_no -> region codes (import, store)
    cadres: dict[str, list[str]]  # cadre_no -> station codes
    orgs: dict[str, list[str]]  # uscc -> service region codes
    persons: dict[str, list[str]]  # id_number -> household numbers
    stored_persons: dict[str, str]  # id_number -> household number as stored


def _places(store: GraphStore, files: list[FileResult]) -> _Places:
    households = {r.household_no: [r.region_code] for _, _, r in _records(files, "households")}
    cadres = {r.cadre_no: [r.station_code] for _, _, r in _records(files, "cadres")}
    orgs = {r.uscc: [r.service_region_code] for _, _, r in _records(files, "orgs")}
    persons = {r.id_number: [r.household_no] for _, _, r in _records(files, "persons")}
    refs = [r for kind in ("pairings", "ledger") for _, _, r in _records(files, kind)]
    services = [r for kind in ("offers", "deliveries") for _, _, r in _records(files, kind)]
    household_keys = set(households) | {r.household_no for _, _, r in _records(files, "persons")} | \
        {r.household_no for r in refs}
    cadre_keys = set(cadres) | {r.cadre_no for r in refs if getattr(r, "cadre_no", None)}
    org_keys = set(orgs) | {r.uscc for r in refs + services if getattr(r, "uscc", None)}
    person_keys = set(persons) | {r.id_number for kind in ("listings", "needs", "deliveries")
                                  for _, _, r in _records(files, kind)}

    def work(tx: Tx) -> tuple[dict, dict, dict, dict]:
        stored_persons = fetch_by_keys(tx, PERSON, sorted(person_keys), ["id_number", "household_no"])
        keys = household_keys | {p["household_no"] for p in stored_persons.values()}
        return (stored_persons,
                fetch_by_keys(tx, HOUSEHOLD, sorted(keys), ["household_no", "region_code"]),
                fetch_by_keys(tx, CADRE, sorted(cadre_keys), ["cadre_no", "station_code"]),
                fetch_by_keys(tx, ORG, sorted(org_keys), ["uscc", "service_region_code"]))

    stored_persons, stored_households, stored_cadres, stored_orgs = store.read(work)
    for key, row in stored_households.items():
        households.setdefault(key, []).append(row["region_code"])
    for key, row in stored_cadres.items():
        cadres.setdefault(key, []).append(row["station_code"])
    for key, row in stored_orgs.items():
        orgs.setdefault(key, []).append(row["service_region_code"])
    for key, row in stored_persons.items():
        persons.setdefault(key, []).append(row["household_no"])
    return _Places(households, cadres, orgs, persons,
                   {key: row["household_no"] for key, row in stored_persons.items()})


def check_bound(store: GraphStore, files: list[FileResult], bound: str) -> None:
    """Phase 2a': keep an organiser's import inside their region (``bound``, a code prefix).

    A row is rejected (``OUT_OF_JURISDICTION``) when the record it writes lies outside the bound:
    a region outside it (its ancestors too: an organiser does not rename the province), a
    household whose village, a cadre whose station, an organisation whose service region lies
    outside; also when the record is already stored outside the bound (an import must not move a
    household, a person, a cadre or an organisation in from another organiser's region). Rows
    that refer to such records are rejected too: a disabled person, pairing or ledger row whose
    household lies outside, a one-to-one pairing or ledger row of a cadre stationed outside, an
    auxiliary pairing or ledger row of an organisation that does not serve the region (one that
    serves a wider region holding it does). Of the service files: an offer whose region lies
    outside, or whose organisation does not serve the region; a need or delivery of a person
    outside (a delivery also by its organisation, as a ledger row); every catalogue row unless the
    bound is a province (the catalogue is shared by every region). A department listing belongs to its person's
    household; a person the registry does not know is placed by the county of their ID number,
    so only a bound of a county or wider accepts them. References nobody knows are left to
    :func:`check_references` (UNKNOWN_REFERENCE).
    """
    at = _places(store, files)

    def inside(code: str) -> bool:
        return code.startswith(bound)

    def serves(code: str) -> bool:
        return inside(code) or bound.startswith(region_prefix(code))

    def where(places: dict[str, list[str]], key: str, ok: Callable[[str], bool]) -> bool | None:
        """True if every known place of the record is fine, None if the record is unknown."""
        known = places.get(key)
        return None if not known else all(ok(code) for code in known)

    def household(no: str) -> bool | None:
        return where(at.households, no, inside)

    def person_inside(id_number: str) -> bool:
        homes = [household(no) for no in at.persons.get(id_number, [])]
        if homes and all(h is not None for h in homes):
            return all(homes)
        return len(bound) <= 6 and id_number.startswith(bound)

    Out = tuple[str, str, str, str] | None  # (column, value, what in Chinese, what in English)

    def household_ref(no: str) -> Out:
        return None if household(no) is not False else ("户编号", no, f"家庭「{no}」", f"household {no}")

    def cadre_ref(no: str | None) -> Out:
        if no and where(at.cadres, no, inside) is False:
            return "干部编号", no, f"干部「{no}」", f"cadre {no}"
        return None

    def org_ref(uscc: str | None) -> Out:
        if uscc and where(at.orgs, uscc, serves) is False:
            return "统一社会信用代码", uscc, f"社会组织「{uscc}」", f"organisation {uscc}"
        return None

    def stored_elsewhere(places: dict[str, list[str]], key: str, ok: Callable[[str], bool], column: str,
                         zh: str, en: str) -> Out:
        if not all(ok(code) for code in places.get(key, [])):
            return column, key, f"{zh}「{key}」（已登记在辖区外）", f"{en} {key} (registered outside it)"
        return None

    def check(kind: str, r: Any) -> Out:
        if kind == "regions":
            return None if inside(r.code) else ("区划代码", r.code, f"区划「{r.code}」", f"region {r.code}")
        if kind == "households":
            if not inside(r.region_code):
                return "区划代码", r.region_code, f"村「{r.region_code}」", f"village {r.region_code}"
            return stored_elsewhere(at.households, r.household_no, inside, "户编号", "家庭", "household")
        if kind == "persons":
            stored = at.stored_persons.get(r.id_number)
            if stored and household(stored) is False:
                return "身份证号", r.id_number, f"残疾人（已登记在家庭「{stored}」）", \
                    f"the person (registered in household {stored})"
            return household_ref(r.household_no)
        if kind == "cadres":
            if not inside(r.station_code):
                return "驻点区划代码", r.station_code, f"驻点「{r.station_code}」", f"station {r.station_code}"
            return stored_elsewhere(at.cadres, r.cadre_no, inside, "干部编号", "干部", "cadre")
        if kind == "orgs":
            code = r.service_region_code
            if not inside(code):
                return "服务区划代码", code, f"服务区划「{code}」", f"service region {code}"
            return stored_elsewhere(at.orgs, r.uscc, inside, "统一社会信用代码", "社会组织", "organisation")
        if kind in ("pairings", "ledger"):
            return household_ref(r.household_no) or cadre_ref(getattr(r, "cadre_no", None)) or \
                org_ref(getattr(r, "uscc", None))
        if kind == "listings":
            return None if person_inside(r.id_number) else ("身份证号", r.id_number, "该人员", "the person")
        if kind == "service_types":  # one catalogue for every region: a province's organiser keeps it
            return None if len(bound) <= 2 else ("服务编码", r.code, "全省共用的服务目录", "the shared service catalogue")
        if kind == "offers":
            if not inside(r.region_code):
                return "服务区划代码", r.region_code, f"服务区划「{r.region_code}」", f"service region {r.region_code}"
            return org_ref(r.uscc)
        if kind in ("needs", "deliveries"):
            if not person_inside(r.id_number):
                return "身份证号", r.id_number, "该人员", "the person"
            return org_ref(getattr(r, "uscc", None))
        return None

    for f in files:
        kept = []
        for number, record in f.valid:
            out = check(f.spec.kind, record)
            if out is None:
                kept.append((number, record))
                continue
            column, value, zh, en = out
            f.reject(number, [Problem(f.name, number, column, value, OUT_OF_JURISDICTION,
                                      f"{zh}不在您的管辖范围（{bound}）内，未导入",
                                      f"{en} lies outside your jurisdiction ({bound}): not imported")])
        f.valid = kept


def _refuse_all(items: list[tuple[FileResult, int, Any]], result: BatchResult,
                column_of: Callable[[JieduiError, Any], tuple[str, str]]) -> None:
    refused: dict[int, set[int]] = {}
    for index, error in result.errors:
        f, number, record = items[index]
        column, value = column_of(error, record)
        f.reject(number, [_row_problem(f, number, column, value, error)])
        refused.setdefault(id(f), set()).add(number)
    for f in {id(f): f for f, _, _ in items}.values():
        gone = refused.get(id(f), set())
        if gone:
            f.valid = [(n, r) for n, r in f.valid if n not in gone]


def _pairing_column(error: JieduiError, rec: Any) -> tuple[str, str]:
    entity = error.details.get("entity")
    if entity == "cadre" or error.code in ("CADRE_AT_LIMIT", "CADRE_NOT_ON_DUTY"):
        return "干部编号", rec.cadre_no
    if entity == "organisation":
        return "统一社会信用代码", rec.uscc
    if error.code == "DATE_ORDER" or error.details.get("field") == "结束日期":
        return "结束日期", str(rec.ended_on)
    if error.details.get("field") == "开始日期":
        return "开始日期", str(rec.started_on)
    return "户编号", rec.household_no


def _ledger_column(error: JieduiError, rec: Any) -> tuple[str, str]:
    entity = error.details.get("entity")
    if entity == "cadre":
        return "干部编号", rec.cadre_no
    if entity == "organisation":
        return "统一社会信用代码", rec.uscc
    if entity == "household":
        return "户编号", rec.household_no
    if error.code in ("FUTURE_DATE",):
        return "日期", str(rec.entry_date)
    if error.code == "RECORD_CONFLICT":
        return "记录编号", rec.record_no
    if error.code == "DATE_ORDER" or error.code.startswith("PROBLEM"):
        return "问题编号", rec.problem_no or ""
    return "户编号", rec.household_no


def _apply_one(f: FileResult, write: Callable[[list[Any]], BatchResult],
               column_of: Callable[[JieduiError, Any], tuple[str, str]]) -> None:
    records = [rec for _, rec in f.valid]
    result = write(records)
    f.created += len(result.created)
    f.updated += len(result.updated)
    f.unchanged += len(result.unchanged)
    _refuse_all([(f, n, rec) for n, rec in f.valid], result, column_of)


def apply(store: GraphStore, files: list[FileResult], progress: Progress | None = None) -> None:
    """Phase 3: write, in dependency order, through the services' batch paths."""
    def tick(f: FileResult):
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            if progress:
                progress(f.name, "write", done[0], len(f.valid))
        return advance

    def household_column(error: JieduiError, rec: Any) -> tuple[str, str]:
        return "户编号", getattr(rec, "household_no", "")

    writers: dict[str, Callable[[list[Any], Callable[[int], None]], BatchResult]] = {
        "regions": lambda recs, _: upsert_regions(store=store, regions=recs),
        "households": lambda recs, tick: upsert_households(store=store, households=recs, progress=tick),
        "persons": lambda recs, tick: upsert_persons(store=store, persons=recs, progress=tick),
        "cadres": lambda recs, _: upsert_cadres(store=store, cadres=recs),
        "orgs": lambda recs, _: upsert_orgs(store=store, orgs=recs),
        "ledger": lambda recs, tick: log_entries(store=store, entries=recs, progress=tick),
        "listings": lambda recs, tick: upsert_listings(store=store, listings=recs, progress=tick),
        "service_types": lambda recs, _: upsert_service_types(store=store, types=recs),
        "offers": lambda recs, _: upsert_offers(store=store, offers=recs),
        "needs": lambda recs, tick: record_needs(store=store, needs=recs, progress=tick),
        "deliveries": lambda recs, tick: record_deliveries(store=store, deliveries=recs, progress=tick),
    }
    columns = {"ledger": _ledger_column, "offers": _service_column, "needs": _service_column,
               "deliveries": _service_column}
    for f in sorted(files, key=lambda f: f.spec.order):
        kind = f.spec.kind
        if kind == "pairings":
            _apply_pairings(store, f, tick(f))
        else:
            column_of = columns.get(kind, household_column)
            _apply_one(f, lambda recs, f=f, kind=kind: writers[kind](recs, tick(f)), column_of)
        store.checkpoint()


def _apply_pairings(store: GraphStore, f: FileResult, progress: Callable[[int], None]) -> None:
    """一对一 and 辅助 rows of one file go to their own services; results are merged by row."""
    kept = f.valid
    for cls, write in ((PairRequest, lambda recs: pair_many(store=store, requests=recs, allow_off_duty=True,
                                                              progress=progress)),
                       (AuxPairRequest, lambda recs: aux_pair_many(store=store, requests=recs, progress=progress))):
        part = FileResult(f.path, f.spec, valid=[(n, r) for n, r in kept if isinstance(r, cls)])
        _apply_one(part, write, _pairing_column)
        f.created += part.created
        f.unchanged += part.unchanged
        for number, problems in part.rejected_rows.items():
            f.reject(number, problems)
    f.valid = [(n, r) for n, r in kept if n not in f.rejected_rows]


def run_import(store: GraphStore, paths: Sequence[str | Path], *, dry_run: bool = False,
               progress: Progress | None = None, bound: str | None = None) -> ImportResult:
    """Import ``paths`` (files or folders) into ``store``; see the module docstring.

    ``bound`` is a region prefix (e.g. ``"620822"``) that an organiser's import is kept inside:
    rows outside it are rejected (see :func:`check_bound`). None (the CLI, an admin): no bound.
    """
    files = [read_file(p) for p in collect(paths)]
    result = ImportResult(files, dry_run)
    if not files or any(f.failed for f in files):
        return result  # nothing is written when any file is unusable
    for f in files:
        check_rows(f, progress)
    if bound:
        check_bound(store, files, bound)
    check_references(store, files)
    for f in files:
        release_raw_rows(f)
    if not dry_run:
        apply(store, files, progress)
        store.after_bulk_load()
    return result


