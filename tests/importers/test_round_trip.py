"""Synthetic files → import → export → import into an empty store → export: identical files, on
both engines; and every injected bad row is reported while no good row is lost."""

from __future__ import annotations

import csv
import filecmp
import json
from pathlib import Path

from importers.engine import run_import
from importers.export import export
from importers.synth_files import synth_to_dir


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_synth_import_export_import_export_is_lossless(store, tmp_path, other_client):
    synth_to_dir("tiny", 5, tmp_path / "synth")
    first = run_import(store, [tmp_path / "synth"])
    assert first.exit_code == 0, first.problems[:5]
    counts = export(store, tmp_path / "export1")
    for f in first.files:  # everything imported comes back out (regions may add implicit ancestors)
        assert counts[f.spec.name + ".csv"] >= f.rows_read
    store.wipe()
    second = run_import(store, [tmp_path / "export1"])
    assert second.exit_code == 0, second.problems[:5]
    export(store, tmp_path / "export2")
    names = sorted(p.name for p in (tmp_path / "export1").iterdir())
    assert len(names) == 12
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "export1", tmp_path / "export2", names, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == 12


def test_every_injected_bad_row_is_reported_and_no_good_row_is_lost(store, tmp_path):
    manifest = synth_to_dir("county", 11, tmp_path / "synth", bad_rows=0.02)
    assert manifest == json.loads((tmp_path / "synth" / "manifest.json").read_text(encoding="utf-8"))
    result = run_import(store, [tmp_path / "synth"])
    assert result.exit_code == 1
    reported = {(p.file, p.row): set() for p in result.problems}
    for p in result.problems:
        reported[(p.file, p.row)].add(p.code)
    missing = [m for m in manifest if m["code"] not in reported.get((m["file"], m["row"]), set())]
    assert missing == []
    bad_by_file: dict[str, set[int]] = {}
    for m in manifest:
        bad_by_file.setdefault(m["file"], set()).add(m["row"])
    for f in result.files:
        # exactly the injected rows are rejected: every good row went in
        assert set(f.rejected_rows) == bad_by_file.get(f.name, set()), f.name
        assert f.created == f.rows_read - len(bad_by_file.get(f.name, ())), f.name
