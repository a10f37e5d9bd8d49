"""A whole-store backup, engine-neutral: the contract's twelve files (:mod:`importers.export`) plus
what those files do not carry, and its restore into an empty store of either engine.

Layout of a backup folder::

    区划.csv … 服务记录.csv      the export (rows sorted by natural key)
    extra/<Table>.jsonl         one JSON object per line, per extra node or edge table
    manifest.json               format version, time, rows and SHA-256 of every file above

The extra tables are those no contract file holds: the exclusion list (``EXCLUDED``), certificate
reminders, revisions and creation records (the history reports for past days read), users and
tokens (token hashes only, password hashes as stored), the audit trail, the organisations' requests
for auxiliary pairings and to join, the claims on records outside an organiser's jurisdiction, the
answers kept for idempotency keys (so a client's repeat after a restore still finds its first answer), the
referrals with their edges, the inboxes and the outbox; and the pairing edges with their ids, source and
proposal (the pairing file carries neither). ``LISTED``, ``MEMBER_OF``, ``IN_REGION``,
``PART_OF``, ``STATIONED_IN``, ``SERVES``, ``HAS_PROBLEM`` and the ``Problem`` nodes, and the
service files' edges (``HAS_NEED``, ``OF``, ``OFFERS``, ``COVERS``, ``RECEIVED``, ``DELIVERED``)
are derived by the import from the contract files, so they are not stored twice; so are the
households' member counts and priority flag (``disabled_count``, ``severe_count``, ``priority``),
which the import's household and person writes keep; the households' pairing counts
(``active_pairings``, ``on_duty_pairings``) and the ledger's sums (``LedgerSum``) are made again
once the pairing and ledger edges are replaced. Referrals are
written after the import, so the deliveries it imports complete none of them.

Dates are ISO strings (``YYYY-MM-DD``), typed back on restore from the table's declared
:class:`~graph_schema.store.schema.Kind`. Lines are sorted, so two backups of the same graph have
byte-identical extra files.

Restore: verify every checksum first (nothing is written from a damaged backup), refuse a store
that holds any node, import the contract files with the import engine, then replace the pairing
edges by their exact copies and write the extra tables with the bulk paths, in batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_schema.errors import JieduiError
from graph_schema.store import ledger_sums, paired
from graph_schema.store.base import GraphStore, Tx, chunks
from graph_schema.store.dump import delete_edges, delete_nodes, node_rows, rel_rows, tables_with_data
from graph_schema.store.schema import (
    ASSISTED, AUDIT, AUX_PAIRED_WITH, AUX_REQUEST, CLAIM, CREATION, EXCLUDED, HAS_REFERRAL, IDEMPOTENT_REPLY, INBOX,
    JOIN_REQUEST, MESSAGE, NODES, OUTGOING, PAIRED_WITH, REFERRAL, REFERRED_TO, REMINDER, REVISION, TOKEN, USER, Kind,
    NodeTable, RelTable,
)
from importers.engine import ImportResult, run_import
from importers.export import export

FORMAT = "jiedui-backup"
VERSION = 1
MANIFEST = "manifest.json"
EXTRA = "extra"
BATCH = 20_000

#: node tables no contract file carries, in restore order
EXTRA_NODES: tuple[NodeTable, ...] = (REFERRAL, REMINDER, REVISION, USER, TOKEN, AUDIT, MESSAGE, OUTGOING, AUX_REQUEST,
                                      CLAIM, CREATION, JOIN_REQUEST, IDEMPOTENT_REPLY)
#: edge tables no contract file carries, or carries without every property (the pairings; the
#: ledger entries, whose volunteer figures no file carries)
EXTRA_RELS: tuple[RelTable, ...] = (EXCLUDED, PAIRED_WITH, AUX_PAIRED_WITH, ASSISTED, HAS_REFERRAL, REFERRED_TO, INBOX)
#: edges the import writes from the pairing and ledger files, replaced on restore by their exact copies
REPLACED = (PAIRED_WITH, AUX_PAIRED_WITH, ASSISTED)

#: (name, done, total) after each batch of a file
Progress = Callable[[str, int, int], None]


class BackupError(JieduiError):
    """A backup that cannot be restored, or a store it may not be restored into."""

    code = "BACKUP_REFUSED"


@dataclass
class RestoreResult:
    imported: ImportResult
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- values


def _dump_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _load_value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind is Kind.DATE:
        return dt.date.fromisoformat(value)
    return value


def _line(row: dict[str, Any]) -> str:
    return json.dumps({k: _dump_value(v) for k, v in row.items()}, ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- reading the store


# ---------------------------------------------------------------- backup


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> int:
    lines = sorted(_line(r) for r in rows)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    return len(lines)


def backup(store: GraphStore, out: str | Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Write the backup of ``store`` into ``out`` (created; files already there are overwritten);
    returns the manifest."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EXTRA).mkdir(exist_ok=True)
    tables: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = (
        [(t.label, lambda t=t: node_rows(store, t)) for t in EXTRA_NODES]
        + [(r.type, lambda r=r: rel_rows(store, r)) for r in EXTRA_RELS])
    steps = 1 + len(tables)
    counts = export(store, folder)
    if progress:
        progress("export", 1, steps)
    for i, (name, rows_of) in enumerate(tables, start=2):
        counts[f"{EXTRA}/{name}.jsonl"] = _write_jsonl(folder / EXTRA / f"{name}.jsonl", rows_of())
        if progress:
            progress(name, i, steps)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "engine": store.dialect.value,
        "files": {name: {"rows": rows, "sha256": _sha256(folder / name)} for name, rows in sorted(counts.items())},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


# ---------------------------------------------------------------- restore


def verify(folder: str | Path) -> dict[str, Any]:
    """The manifest of the backup in ``folder`` once every file it lists is present and unchanged;
    a :class:`BackupError` naming the first file that is not."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"备份清单无法读取：{folder / MANIFEST}", f"backup manifest unreadable: {folder / MANIFEST}",
                          file=MANIFEST) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"不是可识别的备份（格式或版本不符）：{folder}",
                          f"not a backup of a known format or version: {folder}", file=MANIFEST)
    for name, info in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"备份文件缺失：{name}", f"backup file missing: {name}", file=name)
        if _sha256(path) != info["sha256"]:
            raise BackupError(f"备份文件已损坏（校验和不符）：{name}", f"backup file damaged (checksum mismatch): {name}",
                              file=name)
    return manifest


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _typed(row: dict[str, Any], props: dict[str, Kind]) -> dict[str, Any]:
    return {c: _load_value(row.get(c), k) for c, k in props.items()}


def restore(store: GraphStore, folder: str | Path, *, progress: Progress | None = None,
            import_progress: Callable[[str, str, int, int], None] | None = None) -> RestoreResult:
    """Restore the backup in ``folder`` into the empty ``store``; see the module docstring."""
    folder = Path(folder)
    manifest = verify(folder)
    held = tables_with_data(store)
    if held:
        raise BackupError(f"目标图库不是空的（已有 {', '.join(held)}），只能恢复到空图库：{store.location}",
                          f"the target store is not empty (it holds {', '.join(held)}); restore only into an "
                          f"empty store: {store.location}", labels=held)
    contract = sorted(folder / name for name in manifest["files"] if "/" not in name and name.endswith(".csv"))
    imported = run_import(store, contract, progress=import_progress)
    if imported.exit_code == 2:
        raise BackupError("备份中的导入文件无法导入", "the backup's contract files could not be imported")
    result = RestoreResult(imported)

    for rel in REPLACED:  # the import made them with new ids: the backup's own copies replace them
        delete_edges(store, rel)
    # the import recorded every record as created now: the backup's records of when they were
    # created replace that, so reports for past days read the same as before the backup
    delete_nodes(store, CREATION)
    for table in EXTRA_NODES:
        name = f"{EXTRA}/{table.label}.jsonl"
        rows = [_typed(r, table.props) for r in _read_jsonl(folder / name)] if name in manifest["files"] else []
        _write_batches(store, name, rows, lambda tx, part, t=table: tx.create_nodes(t, part), progress)
        result.counts[name] = len(rows)
    for rel in EXTRA_RELS:
        name = f"{EXTRA}/{rel.type}.jsonl"
        rows = _read_jsonl(folder / name) if name in manifest["files"] else []
        for a, b in rel.ends:
            mine = [{"src": r["src"], "dst": r["dst"], **_typed(r, rel.props)}
                    for r in rows if r["from"] == a and r["to"] == b]
            _write_batches(store, name, mine,
                           lambda tx, part, r=rel, a=a, b=b: tx.create_rels(r, NODES[a], NODES[b], part), progress)
        result.counts[name] = len(rows)
    paired.recount_all(store)  # the pairing edges were replaced by the backup's after the import counted them
    ledger_sums.resum_all(store)  # … and the ledger's after the import summed them
    store.checkpoint()
    store.after_bulk_load()
    return result


def _write_batches(store: GraphStore, name: str, rows: list[dict[str, Any]],
                   write: Callable[[Tx, list[dict[str, Any]]], None], progress: Progress | None) -> None:
    done = 0
    for part in chunks(rows, BATCH):
        store.write(lambda tx, part=part: write(tx, list(part)))
        done += len(part)
        if progress:
            progress(name, done, len(rows))
