"""An import: files in, every valid row applied in dependency order, every problem reported.

Three phases, so a dry run and a real run decide alike:
1. read   — identify each file (by name, else by headers), check its columns; a file that cannot be
             read or lacks a required column stops the import before anything is written (and
             voids the rows judged so far);
2. check  — map rows to records as each file is read, its table then released: the raw cells of
             its accepted rows wait on disk for the report (``importers/spool.py``), so one file's
             table is in memory at a time; refuse repeated natural keys, refuse region codes that neither the
             store nor this import's 区划.csv holds, resolve references against the store and this
             import, and apply the stateful rules (one active pairing per household, the cadre
             limit, problems opened before they are closed) with the services' own deciders;
3. apply  — write through the services' batch paths, which check again inside their
             transactions; a row refused there (the store changed meanwhile) is reported too.
             A file's records come back from disk a few batches at a time (:func:`_slices`).
             A dry run instead counts what the write would create, update or leave unchanged
             (``preview``), by the same comparisons and deciders, and writes nothing.

Phases 1 and 2 go one kind of file at a time, in dependency order (:func:`_run_streamed`): a
kind's records are checked against the keys the kinds before it left (:class:`Known`), previewed
or put on disk until the writes, and let go, so one kind's records are in memory at a time. Every
file is still read and checked before the first write.

An organiser's import is bounded to their region: rows outside it are refused, records stored
outside it are hidden from the checks, and rows that claim such a record are held as a claim
instead of written (``importers/bound.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

from graph_schema.cadre.service import upsert_cadres
from graph_schema.claims.models import Claim
from graph_schema.claims.service import record_claims
from graph_schema.errors import JieduiError, NotFound
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.service import ENTRY_IDS, decide_entries, load_ledger_state, log_entries
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
from graph_schema.records import BatchResult, fetch_by_keys, preview_nodes
from graph_schema.region.service import unknown_regions, upsert_regions
from graph_schema.service.catalogue import Catalogue, catalogue_in, upsert_service_types
from graph_schema.service.deliveries import check_delivery, record_deliveries
from graph_schema.service.needs import check_need, record_needs
from graph_schema.service.offers import check_offer, upsert_offers
from graph_schema.settings import get_settings
from graph_schema.store.base import GraphStore, Tx, chunks
from graph_schema.store.schema import (CADRE, DELIVERY, HOUSEHOLD, LISTING, NEED, OFFER, ORG, PERSON, REGION,
                                       SERVICE_TYPE)
from importers import bound as jurisdiction
from importers import mapping
from importers.bound import OUT_OF_JURISDICTION, Held, Hidden
from importers.contract import SPECS, Code, FileSpec
from importers.mapping import Problem, Row, RowRejected
from importers.readers import ReadError, Table, normalise_header, read_table
from importers.spool import RowSpool

SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}
REPORT_PREFIX = "导入报告"
FILE_FAILURES = {Code.UNREADABLE, Code.FILE_TOO_LARGE, Code.UNKNOWN_FILE, Code.MISSING_COLUMN}  # reports written into an import folder are not imported with it
UNKNOWN_REGION = "UNKNOWN_REGION"  # a region code neither in the store nor in this import (see check_regions)
#: The region code each kind of record carries, and its column: every one is checked by
#: :func:`check_regions`. A file kind with a region column adds itself here.
REGION_COLUMNS: dict[str, tuple[str, str]] = {
    "households": ("region_code", "区划代码"), "cadres": ("station_code", "驻点区划代码"),
    "orgs": ("service_region_code", "服务区划代码"), "offers": ("region_code", "服务区划代码"),
}
NAMED_KEYS = ("household_no", "id_number", "cadre_no", "uscc")  # the keys of ImportResult.named
TOUCHING = ("households", "persons", "pairings", "ledger")  # the kinds of ImportResult.touched
Progress = Callable[[str, str, int, int], None]
"""progress(file, phase, done, total): called as rows are checked and written."""
Reader = Callable[[Path, Collection[str]], Table]
"""reader(path, known headers): the file's table; ``read_table`` in this process, or
``importers.sandbox.read_isolated`` for an untrusted upload."""


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
    held: list[tuple[int, Any]] = field(default_factory=list)  # accepted, held by a claim (importers/bound.py)
    rejected_rows: dict[int, list[Problem]] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)  # file-level problems and ignored columns
    spool: RowSpool | None = None  # the raw cells of accepted rows while checking (spool_raw_rows)
    kept: RowSpool | None = None  # a streamed real run's accepted records, from their check to their write

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
    claims: list[Claim] = field(default_factory=list)  # made by a real run of an organiser's import
    #: the keys the accepted and held rows name (:data:`NAMED_KEYS`), and the households whose own
    #: data they change (:data:`TOUCHING`): what the audit trail files an import under, kept as
    #: each file's records are let go
    named: dict[str, set[str]] = field(default_factory=lambda: {a: set() for a in NAMED_KEYS})
    touched: set[str] = field(default_factory=set)

    def note(self, f: FileResult) -> None:
        """Add the keys the accepted and held rows of ``f`` name."""
        values = [vars(rec) for _, rec in f.valid + f.held]  # a model's fields (getattr of a missing one raises inside)
        for attribute, keys in self.named.items():
            keys.update(key for fields in values if (key := fields.get(attribute)))
        if f.spec and f.spec.kind in TOUCHING:
            self.touched.update(fields["household_no"] for fields in values)

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


def read_file(path: Path, read: Reader = read_table) -> FileResult:
    """Phase 1 for one file."""
    spec = _spec_by_name(path)
    result = FileResult(path, spec)
    if not path.is_file():
        result.notes.append(Problem(path.name, None, None, str(path), Code.UNREADABLE, "文件不存在",
                                    "no such file"))
        return result
    try:
        table = read(path, _known_headers(spec))
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


SPOOL_ROWS = 20_000  # rows checked between two writes of their cells to the spool (check_rows(spool=True))


def check_rows(f: FileResult, progress: Progress | None = None, spool: bool = False) -> None:
    """Phase 2a: every row mapped to a record or rejected; repeated natural keys refused. With
    ``spool``, the cells of every ``SPOOL_ROWS`` rows checked go as :func:`spool_raw_rows` sends them
    (to disk if accepted, kept if refused), so the file's table and its records are not both whole
    in memory: at province size each is about a gigabyte."""
    spec, table = f.spec, f.table
    assert spec is not None and table is not None
    mapper = mapping.MAPPERS[spec.kind]
    fields = f.fields
    keys: dict[tuple, int] = {}
    seen = mapping.Seen()
    rows, refused, sent = table.rows, [], 0
    for done, (number, cells) in enumerate(rows, 1):
        if spool and done - sent > SPOOL_ROWS:
            sent = _spool_checked(f, rows, sent, done - 1, refused)
        values = {name: value for name, value in zip(fields, cells) if name}
        row = Row(spec, f.name, number, values, seen)
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
        f.valid.append((number, _compact(record)))
        if progress and done % 5000 == 0:
            progress(f.name, "check", done, f.rows_read)
    if spool:
        _spool_checked(f, rows, sent, len(rows), refused)
        table.rows = refused
    if progress:
        progress(f.name, "check", f.rows_read, f.rows_read)


def _spool_checked(f: FileResult, rows: list, start: int, end: int, refused: list) -> int:
    """The cells of ``rows[start:end]``, all checked: the accepted ones to the spool, the refused
    ones to ``refused``; their places in ``rows`` emptied. Returns ``end``."""
    accepted = []
    for index in range(start, end):
        row = rows[index]
        (refused if row[0] in f.rejected_rows else accepted).append(row)
        rows[index] = None
    if accepted:
        if f.spool is None:
            f.spool = RowSpool()
        f.spool.write(accepted)
    return end


_FIELDS_SETS: dict[tuple[type, frozenset[str]], set[str]] = {}


def _compact(record: Any) -> Any:
    """The record sharing its set of given fields with every record of its class that gave the same
    ones. Pydantic keeps that set per instance (~730 bytes for a dozen fields, more than the
    record's values), and an import holds every accepted record until it writes; the models are
    frozen, so nothing adds to the set, and a copy of a model copies it."""
    given = getattr(record, "__pydantic_fields_set__", None)
    if given is None:
        return record
    shared = _FIELDS_SETS.setdefault((type(record), frozenset(given)), given)
    if shared is not given:
        object.__setattr__(record, "__pydantic_fields_set__", shared)
    return record


def spool_raw_rows(f: FileResult) -> None:
    """After :func:`check_rows`: the raw cells of the rows accepted so far go to disk (a later rule
    may still refuse one, and the report writes refused rows back as they were read); those of the
    rows refused already stay. So only one file's whole table is in memory at a time, not every
    file's (``importers/spool.py``)."""
    if f.table is None:
        return
    accepted = [(n, cells) for n, cells in f.table.rows if n not in f.rejected_rows]
    if accepted:
        f.spool = RowSpool()
        f.spool.write(accepted)
    f.table.rows = [(n, cells) for n, cells in f.table.rows if n in f.rejected_rows]


def release_raw_rows(f: FileResult) -> None:
    """Keep the raw cells only of rows rejected so far (the report writes them back), those refused
    since :func:`spool_raw_rows` read back from the spool. A row refused later, while writing (the
    store changed meanwhile), is still in the report, without its cells."""
    if f.table is None:
        return
    if f.spool is not None:
        later = set(f.rejected_rows) - {n for n, _ in f.table.rows}
        back = f.spool.read(later) if later else []
        f.spool.close()
        f.spool = None
        f.table.rows = sorted(f.table.rows + back, key=lambda row: row[0])
    f.table.rows = [(n, cells) for n, cells in f.table.rows if n in f.rejected_rows]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cycle collector off while many objects without cycles are made, then as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _forget_rows(f: FileResult) -> None:
    """A file of an import that stops before writing: no row judged, no cells kept."""
    f.valid, f.rejected_rows = [], {}
    f.created = f.updated = f.unchanged = 0
    for spool in (f.spool, f.kept):
        if spool is not None:
            spool.close()
    f.spool = f.kept = None
    if f.table is not None:
        f.table.rows = []


@dataclass
class Known:
    """What the rows of later files are checked against from the files decided before them: the
    keys and the few values the rules need, not the records (a province's records of every file at
    once were most of its import's memory). Filled kind by kind in dependency order (:meth:`learn`)."""

    regions: set[str] = field(default_factory=set)  # codes of the import's valid 区划 rows
    households: set[str] = field(default_factory=set)
    counties: dict[str, str] = field(default_factory=dict)  # household_no -> its village (the ledger's rules)
    cadres: dict[str, dict] = field(default_factory=dict)  # cadre_no -> what the pairing rules read
    orgs: set[str] = field(default_factory=set)
    persons: set[str] = field(default_factory=set)  # ID numbers
    types: dict[str, Any] = field(default_factory=dict)  # the import's catalogue entries, by code

    def learn(self, files: list[FileResult]) -> Known:
        """Add the valid rows of ``files`` (the rows left once their own checks are done)."""
        for _, _, rec in _records(files, "regions"):
            self.regions.add(rec.code)
        for _, _, rec in _records(files, "households"):
            self.households.add(rec.household_no)
            self.counties[rec.household_no] = rec.region_code
        for _, _, rec in _records(files, "cadres"):
            self.cadres[rec.cadre_no] = {"cadre_no": rec.cadre_no, "pair_limit": rec.pair_limit,
                                         "on_duty": rec.on_duty}
        self.orgs.update(rec.uscc for _, _, rec in _records(files, "orgs"))
        self.persons.update(rec.id_number for _, _, rec in _records(files, "persons"))
        self.types.update((rec.code, rec) for _, _, rec in _records(files, "service_types"))
        return self


def _records(files: list[FileResult], kind: str) -> list[tuple[FileResult, int, Any]]:
    return [(f, n, rec) for f in files if f.spec and f.spec.kind == kind for n, rec in f.valid]


def _decide(items: list[tuple[FileResult, int, Any]], decide: Callable[..., tuple[Any, BatchResult]],
            column_of: Callable[[JieduiError, Any], tuple[str, str]], tally: bool) -> None:
    """Run a decider over the records of one file after another (its state carries over, as in
    one run) and refuse the rows it refuses; with ``tally``, count each file's decided rows as
    created or unchanged (a dry run's counts)."""
    result, start = BatchResult(), 0
    for _, group in groupby(items, key=lambda item: id(item[0])):
        rows = list(group)
        _, part = decide([rec for _, _, rec in rows], offset=start)
        if tally:
            rows[0][0].created += len(part.created)
            rows[0][0].unchanged += len(part.unchanged)
        result += part
        start += len(rows)
    _refuse_all(items, result, column_of)


def check_references(store: GraphStore, files: list[FileResult], hidden: Hidden | None = None, *,
                     tally: bool = False, known: Known | None = None) -> None:
    """Phase 2b: references and the stateful rules, decided on the store's state plus this import;
    ``tally`` counts the pairings and ledger entries that would be created (a dry run).

    With ``hidden`` (an organiser's import), the records stored outside the jurisdiction are taken
    out of that state first: a reference to one answers as an unknown key does, and a row that
    claims one as its own is decided as if its key were new (``importers/bound.py``).

    ``known`` holds what the files decided before ``files`` put in this import (a streamed import
    passes one kind's files at a time); without it, ``files`` are the whole import."""
    hidden = hidden or Hidden()
    if known is None:
        known = Known().learn([f for f in files if f.spec and f.spec.kind != "persons"])
    households, cadres, orgs = known.households, known.cadres, known.orgs

    persons = _records(files, "persons")
    if persons:
        stored = store.read(lambda tx: fetch_by_keys(
            tx, HOUSEHOLD, sorted({r.household_no for _, _, r in persons} - households), ["household_no"]))
        stored = set(stored) - set(hidden.households)
        unknown = BatchResult(errors=[(i, NotFound("家庭", "household", rec.household_no))
                                      for i, (_, _, rec) in enumerate(persons)
                                      if rec.household_no not in households and rec.household_no not in stored])
        _refuse_all(persons, unknown, lambda error, rec: ("户编号", rec.household_no))
        known.learn([f for f in files if f.spec and f.spec.kind == "persons"])

    pairings = _records(files, "pairings")
    one_to_one = [(f, n, r) for f, n, r in pairings if isinstance(r, PairRequest)]
    aux = [(f, n, r) for f, n, r in pairings if isinstance(r, AuxPairRequest)]
    if one_to_one:
        requests = [r for _, _, r in one_to_one]
        state = store.read(lambda tx: load_pairing_state(tx, requests, lock=False))
        _forget_pairings(state, hidden)
        state.households |= households
        state.cadres.update(cadres)
        _decide(one_to_one, lambda recs, offset: decide_pairings(state, recs, offset=offset, allow_off_duty=True),
                _pairing_column, tally)
    if aux:
        requests = [r for _, _, r in aux]
        state = store.read(lambda tx: load_aux_state(tx, requests, lock=False))
        _forget_aux(state, hidden)
        state.households |= households
        state.orgs |= orgs
        _decide(aux, lambda recs, offset: decide_aux(state, recs, offset=offset), _pairing_column, tally)
    entries = _records(files, "ledger")
    if entries:
        records = [r for _, _, r in entries]
        state = store.read(lambda tx: load_ledger_state(tx, records, lock=False))
        if hidden.households or hidden.cadres or hidden.orgs:
            _forget_ledger(store, state, hidden)
        state.households |= households
        state.counties.update(known.counties)
        state.cadres |= set(cadres)
        state.orgs |= orgs
        _decide(entries, lambda recs, offset: decide_entries(state, recs, offset=offset), _ledger_column, tally)
    _check_services(store, files, known, hidden)


def _check_services(store: GraphStore, files: list[FileResult], known: Known, hidden: Hidden) -> None:
    """The service files' references, on the store's catalogue overlaid by this import's; persons
    and organisations stored outside an organiser's jurisdiction are unknown to them."""
    offers, needs, deliveries = (_records(files, kind) for kind in ("offers", "needs", "deliveries"))
    if not (offers or needs or deliveries):
        return
    stored = store.read(catalogue_in)
    catalogue = Catalogue({**stored.types, **known.types})
    named, orgs = known.persons, known.orgs
    wanted = sorted({r.id_number for _, _, r in needs + deliveries} - named)
    persons = named | (set(store.read(lambda tx: fetch_by_keys(tx, PERSON, wanted, ["id_number"]))) - set(hidden.persons))
    usccs = sorted({r.uscc for _, _, r in offers + deliveries if r.uscc} - orgs)
    orgs = orgs | (set(store.read(lambda tx: fetch_by_keys(tx, ORG, usccs, ["uscc"]))) - set(hidden.orgs))
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


def _forget_pairings(state: Any, hidden: Hidden) -> None:
    """The pairing state without what it holds of hidden households and cadres: a household or
    cadre claimed by this import is decided as a new one (no pairings, no load). A visible
    household's own pairings stay, whoever its cadre: the organiser sees them anyway."""
    for no in set(state.active) & set(hidden.households):
        state.load[state.active.pop(no)] -= 1
    for no in set(state.cadres) & set(hidden.cadres):
        del state.cadres[no]
        state.load.pop(no, None)
    state.households -= set(hidden.households)
    state.existing = {e for e in state.existing if e[0] not in hidden.households}
    state.excluded = {e for e in state.excluded if e[0] not in hidden.households}


def _forget_aux(state: Any, hidden: Hidden) -> None:
    """The auxiliary pairing state without hidden households and organisations."""
    state.households -= set(hidden.households)
    state.orgs -= set(hidden.orgs)
    state.existing = {e for e in state.existing if e[0] not in hidden.households and e[1] not in hidden.orgs}
    state.active = {a for a in state.active if a[0] not in hidden.households and a[1] not in hidden.orgs}


def _forget_ledger(store: GraphStore, state: Any, hidden: Hidden) -> None:
    """The ledger state without the hidden households (their entries, problems and county), cadres
    and organisations."""
    gone = sorted(state.households & set(hidden.households))
    state.households -= set(gone)
    state.cadres -= set(hidden.cadres)
    state.orgs -= set(hidden.orgs)
    for no in gone:
        state.counties.pop(no, None)
    state.seen -= {r["entry_id"] for part in chunks(gone, 20_000)
                   for r in store.query(ENTRY_IDS, {"keys": list(part)})}
    theirs = {key for key, p in state.stored.items() if p.household_no in hidden.households}
    state.stored = {k: p for k, p in state.stored.items() if k not in theirs}
    state.problems = {k: p for k, p in state.problems.items() if k not in theirs}
    state.owned = {k: v for k, v in state.owned.items() if v not in theirs}


def check_bound(store: GraphStore, files: list[FileResult], bound: str) -> Hidden:
    """Phase 2a': keep an organiser's import inside their region (``bound``, a code prefix): rows
    outside it by their own data are rejected (``OUT_OF_JURISDICTION``); what the store holds
    outside it is returned, for :func:`check_references` and :func:`hold` to hide
    (``importers/bound.py``)."""
    where = {id(rec): (f, number) for f in files for number, rec in f.valid}

    def reject(kind: str, record: Any, column: str, value: str, zh: str, en: str) -> None:
        f, number = where[id(record)]
        f.reject(number, [Problem(f.name, number, column, value, OUT_OF_JURISDICTION, zh, en)])

    hidden = jurisdiction.check_bound(store, bound, lambda kind: [r for _, _, r in _records(files, kind)], reject)
    for f in files:
        f.valid = [(n, r) for n, r in f.valid if n not in f.rejected_rows]
    return hidden


def hold(files: list[FileResult], hidden: Hidden) -> dict[tuple[str, str], list[Held]]:
    """Phase 2c: move the valid rows whose own key is held outside, and those that refer to such
    a key, from ``valid`` to ``held``; returned by the key that holds them."""
    def rows() -> list[tuple[FileResult, int, Any]]:
        return [(f, n, r) for f in files if f.spec for n, r in f.valid]

    claimed = {jurisdiction.held_under(f.spec.kind, r, hidden, set()) for f, _, r in rows()} - {None}
    held: dict[tuple[str, str], list[Held]] = {}
    for f, number, record in rows():
        under = jurisdiction.held_under(f.spec.kind, record, hidden, claimed)
        if under is not None:
            held.setdefault(under, []).append(Held(f.name, number, f.spec.kind, record))
            f.held.append((number, record))
    for f in files:
        if f.held:
            gone = {n for n, _ in f.held}
            f.valid = [(n, r) for n, r in f.valid if n not in gone]
    return held


def check_regions(store: GraphStore, files: list[FileResult], named: set[str] | None = None) -> None:
    """Phase 2a'': every region code a row names must be a region of the store or of this import's
    区划.csv (a valid row of it), or an ancestor of one of those, which follows from the code; any
    other code rejects its row (``UNKNOWN_REGION``), so a mistyped village code is reported
    instead of becoming a village of its own. The ancestors of a listed region are created with
    it; a code whose township is known but which itself is not is unknown like any other.
    ``named``: the import's region codes, when ``files`` are not the whole import."""
    if named is None:
        named = {rec.code for _, _, rec in _records(files, "regions")}
    used = [(f, n, rec, getattr(rec, field), column) for kind, (field, column) in REGION_COLUMNS.items()
            for f, n, rec in _records(files, kind)]
    if not used:
        return
    unknown = store.read(lambda tx: unknown_regions(tx, {code for _, _, _, code, _ in used}, named))
    refused: set[tuple[int, int]] = set()
    for f, number, _, code, column in used:
        if code in unknown:
            f.reject(number, [Problem(f.name, number, column, code, UNKNOWN_REGION,
                                      f"区划代码「{code}」既不在本次导入的区划.csv 中，也未登记在库中：请更正代码或先导入该区划",
                                      f"region code {code} is neither in 区划.csv of this import nor in the store: "
                                      "correct the code or import the region first")])
            refused.add((id(f), number))
    for f in files:
        f.valid = [(n, r) for n, r in f.valid if (id(f), n) not in refused]


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


def write_records(store: GraphStore, kind: str, records: list[Any],
                  progress: Callable[[int], None] | None = None) -> BatchResult:
    """Write records of one kind through their service's batch path (an import, or the rows of an
    accepted claim); errors name the record's index in ``records``. 一对一 and 辅助 pairing rows go
    to their own services. No rows write nothing (a service file of no rows would write the default
    catalogue, and the next export would differ from the file imported)."""
    if not records:
        return BatchResult()
    if kind == "pairings":
        result = BatchResult()
        for cls, write in ((PairRequest, lambda recs: pair_many(store=store, requests=recs, allow_off_duty=True,
                                                                  progress=progress)),
                           (AuxPairRequest, lambda recs: aux_pair_many(store=store, requests=recs,
                                                                       progress=progress))):
            at = [i for i, r in enumerate(records) if isinstance(r, cls)]
            part = write([records[i] for i in at]) if at else BatchResult()
            part.errors = [(at[i], error) for i, error in part.errors]
            result += part
        return result
    writers: dict[str, Callable[[], BatchResult]] = {
        "regions": lambda: upsert_regions(store=store, regions=records),
        "households": lambda: upsert_households(store=store, households=records, progress=progress),
        "persons": lambda: upsert_persons(store=store, persons=records, progress=progress),
        "cadres": lambda: upsert_cadres(store=store, cadres=records),
        "orgs": lambda: upsert_orgs(store=store, orgs=records),
        "ledger": lambda: log_entries(store=store, entries=records, progress=progress),
        "listings": lambda: upsert_listings(store=store, listings=records, progress=progress),
        "service_types": lambda: upsert_service_types(store=store, types=records),
        "offers": lambda: upsert_offers(store=store, offers=records),
        "needs": lambda: record_needs(store=store, needs=records, progress=progress),
        "deliveries": lambda: record_deliveries(store=store, deliveries=records, progress=progress),
    }
    return writers[kind]()


def column_of(kind: str) -> Callable[[JieduiError, Any], tuple[str, str]]:
    """Which column a refusal of a row of ``kind`` names."""
    return {"pairings": _pairing_column, "ledger": _ledger_column, "offers": _service_column,
            "needs": _service_column, "deliveries": _service_column}.get(
        kind, lambda error, rec: ("户编号", getattr(rec, "household_no", "")))


#: the kinds whose batch paths write ``JIEDUI_BATCH_SIZE`` records per transaction, each batch
#: decided against the store as the batches before it left it: a file of these kinds read back from
#: its spool is written a slice of whole batches at a time, and gives the same transactions
SLICED_KINDS = ("households", "persons", "pairings", "ledger", "listings", "needs", "deliveries")
SLICE_BATCHES = 5  # batches of records read back and written at a time (50k records at the default size)


def apply(store: GraphStore, files: list[FileResult], progress: Progress | None = None,
          noted: ImportResult | None = None) -> None:
    """Phase 3: write, in dependency order, through the services' batch paths. A file whose
    records wait in a spool (a streamed import) is read back and written a slice at a time
    (:func:`_slices`), noted in ``noted`` and let go, and the store gives back what its engine held
    for the writes after each slice as after each file: read back whole, a province's largest
    file's records, and what the embedded engine kept for their writes until the file's end, took
    the import's write phase from under 2 GiB to 4.9 GiB."""
    def tick(f: FileResult, total: int):
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            if progress:
                progress(f.name, "write", done[0], total)
        return advance

    for f in sorted(files, key=lambda f: f.spec.order):
        if f.kept is None:
            advance = tick(f, len(f.valid))
            _apply_one(f, lambda recs, f=f: write_records(store, f.spec.kind, recs, advance), column_of(f.spec.kind))
            if noted is not None:
                noted.note(f)
                f.valid = []
        else:
            advance, read, full = tick(f, f.kept.count), 0, False
            for part in _slices(f):
                read, full = read + len(part), len(part) == _slice_size(f)
                f.valid = part
                _apply_one(f, lambda recs, f=f: write_records(store, f.spec.kind, recs, advance),
                           column_of(f.spec.kind))
                if noted is not None:
                    noted.note(f)
                f.valid = part = []  # let the slice go before the next is read
                if full and read < f.kept.count:  # as after a file: what the engine held for the slice's writes
                    store.checkpoint()
                    store.between_bulk_loads()
            f.kept.close()
            f.kept = None
        store.checkpoint()
        store.between_bulk_loads()  # the import's peak in the engine: its largest file's, not all of them


def _slices(f: FileResult) -> Iterator[list[tuple[int, Any]]]:
    """``f``'s records read back from its spool: a kind of :data:`SLICED_KINDS` in slices of
    :data:`SLICE_BATCHES` whole batches, each cut where the batch path would cut it (the pairing
    file's 一对一 rows first, then its 辅助 rows, as :func:`write_records` writes them), so the
    transactions and every decision are those of the whole file; any other kind whole."""
    size = _slice_size(f)
    classes: tuple[type | None, ...] = (PairRequest, AuxPairRequest) if size and f.spec.kind == "pairings" else (None,)
    for cls in classes:
        part: list[tuple[int, Any]] = []
        for n, rec in f.kept.rows():
            if cls is not None and not isinstance(rec, cls):
                continue
            part.append((n, _compact(rec)))
            if size and len(part) == size:
                yield _frozen(part)
                part = []
        if part:
            yield _frozen(part)


def _slice_size(f: FileResult) -> int:
    """Records in a slice of ``f`` (0: the file whole)."""
    return SLICE_BATCHES * get_settings().batch_size if f.spec.kind in SLICED_KINDS else 0


def _frozen(part: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    gc.freeze()  # as after the check: the collector need not go through the records read back
    return part


#: the node table each file kind is upserted into (pairings and ledger entries are decided instead)
NODE_TABLES = {"regions": REGION, "households": HOUSEHOLD, "persons": PERSON, "cadres": CADRE, "orgs": ORG,
               "listings": LISTING, "service_types": SERVICE_TYPE, "offers": OFFER, "needs": NEED,
               "deliveries": DELIVERY}


PREVIEW_ROWS = 20_000  # rows compared with the store at a time by a dry run


def preview(store: GraphStore, files: list[FileResult]) -> None:
    """Phase 3 of a dry run: each node file's valid rows compared with the store as the batch
    paths compare them (created, updated, unchanged), in one read; nothing is written. The
    pairings and ledger entries were counted as they were decided (:func:`check_references`).
    The rows are built a slice at a time: a province file's rows at once took as much memory as
    its records."""
    def work(tx: Tx) -> None:
        for f in files:
            table = NODE_TABLES.get(f.spec.kind)
            if table is not None and f.valid:
                f.created = f.updated = f.unchanged = 0
                for start in range(0, len(f.valid), PREVIEW_ROWS):
                    rows = [rec.to_row() for _, rec in f.valid[start:start + PREVIEW_ROWS]]
                    result = preview_nodes(tx, table, rows)
                    f.created += len(result.created)
                    f.updated += len(result.updated)
                    f.unchanged += len(result.unchanged)

    store.read(work)


def run_import(store: GraphStore, paths: Sequence[str | Path], *, dry_run: bool = False,
               progress: Progress | None = None, bound: str | None = None, claimant: str = "",
               import_id: str | None = None, read: Reader = read_table) -> ImportResult:
    """Import ``paths`` (files or folders) into ``store``; see the module docstring.

    ``bound`` is a region prefix (e.g. ``"620822"``) that an organiser's import is kept inside:
    rows outside it are rejected, records outside it are hidden, and rows claiming them are held
    as claims of ``claimant`` (see :func:`check_bound`). None (the CLI, an admin): no bound.
    ``read`` reads each file (:data:`Reader`).
    """
    try:
        if bound:
            return _run_whole(store, paths, dry_run, progress, bound, claimant, import_id, read)
        return _run_streamed(store, paths, dry_run, progress, read)
    finally:
        gc.unfreeze()


def _run_streamed(store: GraphStore, paths: Sequence[str | Path], dry_run: bool, progress: Progress | None,
                  read: Reader) -> ImportResult:
    """An import with no bound, one kind of file at a time in dependency order: its files read and
    checked, their rows checked against the store and against what the files before them left in
    :class:`Known` (keys and rule state, not records), then previewed (a dry run) or put in a spool
    (a real run) and let go before the next kind's files are read. Every rule looks only at rows of
    its own kind and at the kinds before it, so each row is decided as in :func:`_run_whole`.
    A real run writes only once every file is checked, as before: a file that cannot be used
    still stops the import with nothing written; the writes then go file by file as they did."""
    files = [FileResult(path, _spec_by_name(path)) for path in collect(paths)]
    for index, f in enumerate(files):  # a file not named for its kind: its headers say which
        if f.spec is None:
            files[index] = f = read_file(f.path, read)
            if f.table is not None and not f.failed:
                f.table = None  # read again in its turn, so that one table is in memory at a time
    failed = any(f.failed for f in files)
    result = ImportResult(files, dry_run)
    known = Known()
    order = sorted(range(len(files)), key=lambda i: (files[i].spec.order if files[i].spec else 0, i))
    for _, group in groupby(order, key=lambda i: files[i].spec.order if files[i].spec else 0):
        batch: list[FileResult] = []
        for index in group:
            if files[index].table is None and not files[index].failed:
                files[index] = read_file(files[index].path, read)
            f = files[index]
            failed = failed or f.failed
            if failed:  # read for its own notes only; the import stops before writing
                _forget_rows(f)
                continue
            check_rows(f, progress, spool=True)
            gc.freeze()  # see _run_whole
            batch.append(f)
        if not failed:
            _decide_kind(store, batch, known, result)
    if not files or failed:
        for f in files:  # nothing is written, and no row is judged, when any file is unusable
            _forget_rows(f)
        result.named, result.touched = {a: set() for a in NAMED_KEYS}, set()
        return result
    if not dry_run:
        apply(store, files, progress, noted=result)
        store.after_bulk_load()
    return result


def _decide_kind(store: GraphStore, files: list[FileResult], known: Known, result: ImportResult) -> None:
    """The files of one kind, checked already row by row: their region codes and references
    against ``known`` and the store, then ``known`` told their keys; a dry run previews them, a
    real run puts their records in a spool until its writes. Their records are let go."""
    check_regions(store, files, known.regions)
    check_references(store, files, tally=result.dry_run, known=known)
    known.learn(files)
    for f in files:
        release_raw_rows(f)
    if result.dry_run:
        preview(store, files)
    for f in files:
        if result.dry_run:
            result.note(f)
        elif f.valid:
            f.kept = RowSpool()
            with _collector_paused():
                f.kept.write(f.valid)
        f.valid = []


def _run_whole(store: GraphStore, paths: Sequence[str | Path], dry_run: bool, progress: Progress | None,
               bound: str | None, claimant: str, import_id: str | None, read: Reader) -> ImportResult:
    """An organiser's import: every file's records kept until the end, since what it holds as a
    claim is decided across kinds (a pairing row is held with the household row it names)."""
    files: list[FileResult] = []
    for path in collect(paths):  # one file's table at a time: checked, then its cells spooled
        f = read_file(path, read)
        files.append(f)
        if not any(g.failed for g in files):
            check_rows(f, progress)
            spool_raw_rows(f)
            # The records stay until the end; the collector of cycles would go through them again
            # and again as the next files add theirs (43% of the city preset's dry run). Records
            # hold no cycles, and an object frozen is still freed when its last reference goes.
            gc.freeze()
    result = ImportResult(files, dry_run)
    if not files or any(f.failed for f in files):
        for f in files:  # nothing is written, and no row is judged, when any file is unusable
            _forget_rows(f)
        return result
    hidden = check_bound(store, files, bound) if bound else None
    check_regions(store, files)
    check_references(store, files, hidden, tally=dry_run)
    held = hold(files, hidden) if hidden else {}
    for f in files:
        release_raw_rows(f)
    if dry_run:
        preview(store, files)
    else:
        apply(store, files, progress)
        if hidden is not None:
            result.claims = jurisdiction.claims_of(held, hidden, bound or "", claimant, import_id)
            record_claims(store=store, claims=result.claims)
    for f in files:  # held rows count as a new key's rows do: the answer must not tell them apart
        if not dry_run or (f.spec and f.spec.kind in NODE_TABLES):  # (a dry run tallied the others as decided)
            f.created += len(f.held)
        result.note(f)
    if not dry_run:
        store.after_bulk_load()
    return result


