"""``jiedui backup`` / ``jiedui restore``: a store holding every kind of data comes back identical,
table by table, on both engines and across them; damaged backups and non-empty targets are refused."""

from __future__ import annotations

import datetime as dt
import filecmp
from collections import Counter
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from factories import uscc
from graph_schema.access import audit
from graph_schema.access.models import Role
from graph_schema.access.service import add_user, issue_token, set_password
from graph_schema.claims.models import Claim
from graph_schema.claims.service import record_claims
from graph_schema.enums import ClaimStatus, ExclusionReason, LedgerKind
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.household.service import get_household, upsert_households
from graph_schema.monitoring.certificates import record_reminders
from graph_schema.pairing.exclusions import exclude
from graph_schema.org.joining import JoinRequestIn, approve_join_request, ask_to_join
from graph_schema.pairing.requests import approve_aux_request, request_aux
from graph_schema.region.service import scope_prefix
from graph_schema.pairing.service import end_pairing
from graph_schema.pairing.service import pair as pair_with
from graph_schema.store import GraphStore
from graph_schema.store.embedded import EmbeddedStore
from graph_schema.store.neo4j import Neo4jStore
from graph_schema.store.schema import NODE_TABLES, NODES, REL_TABLES
from graph_schema.identifiers import region_prefix
from graph_schema.service.referrals import ReferralRequest, accept_referral, refer_many
from importers.backup import EXTRA, EXTRA_NODES, EXTRA_RELS, MANIFEST, BackupError, backup, restore
from importers.engine import run_import
from importers.synth_files import synth_to_dir

runner = CliRunner()
TODAY = dt.date.today()


def dump(store: GraphStore) -> dict[str, list[tuple]]:
    """Every node and edge table as sorted rows of its properties (edges by their ends' keys)."""
    out: dict[str, list[tuple]] = {}
    for t in NODE_TABLES:
        columns = ", ".join(f"n.{c} AS {c}" for c in t.columns)
        rows = store.query(f"MATCH (n:{t.label}) RETURN {columns}")
        out[t.label] = sorted((tuple(repr(r[c]) for c in t.columns) for r in rows))
    for r in REL_TABLES:
        rows = []
        for a, b in r.ends:
            props = "".join(f", r.{p} AS {p}" for p in r.props)
            found = store.query(f"MATCH (a:{a})-[r:{r.type}]->(b:{b}) "
                                f"RETURN a.{NODES[a].key} AS src, b.{NODES[b].key} AS dst{props}")
            rows += [(a, b, *(repr(x[c]) for c in ("src", "dst", *r.props))) for x in found]
        out[r.type] = sorted(rows)
    return out


def fill(store: GraphStore, folder: Path) -> None:
    """Every kind of data: the invented county's files (households, persons, cadres, orgs, active
    and ended pairings, auxiliary pairings, a ledger with problems, department lists), then an
    exclusion, reminders, a revision, a user with a token and a password, audit entries, and
    organisations' requests for auxiliary pairings (one approved, one pending), a claim, and
    requests to join (one approved, its account waiting with a one-time code)."""
    synth_to_dir("tiny", 3, folder, as_of=TODAY)
    result = run_import(store, [folder])
    assert result.exit_code == 0, result.problems[:5]
    pair = store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household) WHERE p.ended_on IS NULL "
                       "RETURN c.cadre_no AS cadre, h.household_no AS hh ORDER BY hh LIMIT 1")[0]
    other = store.query("MATCH (c:Cadre) WHERE c.cadre_no <> $c RETURN c.cadre_no AS cadre ORDER BY cadre LIMIT 1",
                        {"c": pair["cadre"]})[0]["cadre"]
    end_pairing(store=store, household_no=pair["hh"], reason="干部调动")
    pair_with(store=store, household_no=pair["hh"], cadre_no=pair["cadre"])  # a manual pairing, not imported
    exclude(store=store, household_no=pair["hh"], cadre_no=other, reason=ExclusionReason.RELATIVE, note="表亲")
    assert record_reminders(store=store, region="62", as_of=TODAY, note="电话提醒") > 0
    h = get_household(store=store, household_no=pair["hh"])
    upsert_households(store=store, households=[h.model_copy(update={"phone": "13900000000"})])
    user = add_user(store=store, user_id="admin1", role=Role.ADMIN)
    issue_token(store=store, user_id="admin1")
    set_password(store=store, user_id="admin1", password="correct horse battery staple")
    store.write(lambda tx: audit.record(tx, [
        audit.entry(user, "read", "GET /api/v1/households/{household_no}", "household", [pair["hh"]], "req-1"),
        audit.entry(user, "write", "POST /exclusions", "household", [pair["hh"], "x"], "req-2")]))
    orgs = store.query("MATCH (o:Org) RETURN o.uscc AS uscc, o.service_region_code AS code ORDER BY uscc")
    homes = store.query("MATCH (h:Household) RETURN h.household_no AS no, h.region_code AS code ORDER BY no")
    asked = [(h["no"], o["uscc"]) for o in orgs for h in homes if h["code"].startswith(scope_prefix(o["code"]))][:2]
    requests = [request_aux(store=store, household_no=no, uscc=uscc, reason="志愿服务", requested_by="org1")
                for no, uscc in asked]
    approve_aux_request(store=store, request_id=requests[0].request_id, decided_by="admin1", consent_note="户主同意")
    record_claims(store=store, claims=[Claim(
        claim_id="c1", key_kind="household", record_key=asked[0][0], held_region="620802101203", claimant="org1",
        claimant_region="620822", common_region="6208", rows=json.dumps([{"file": "家庭.csv", "row": 2}]),
        claimed_at="2026-11-01T08:00:00.000000+00:00", status=ClaimStatus.PENDING)])
    # referrals, which no contract file carries: one answered (its history a revision), one open
    needs = store.query("MATCH (p:Person)-[:HAS_NEED]->(n:Need) MATCH (p)-[:MEMBER_OF]->(h:Household) "
                        "RETURN p.id_number AS person, n.need_id AS need, n.service_code AS code, n.status AS status, "
                        "n.assessed_on AS day, h.region_code AS village ORDER BY person, need")
    offers = store.query("MATCH (o:Offer) WHERE o.valid_to IS NULL RETURN o.uscc AS org, o.service_code AS code, "
                         "o.region_code AS region, o.valid_from AS start ORDER BY org, code, region")
    assessed = Counter(r["person"] for r in needs)
    in_reach = {r["need"]: (r, o) for r in needs for o in offers
                if assessed[r["person"]] == 1 and r["status"] == "已确认" and r["code"] == o["code"]
                and r["village"].startswith(region_prefix(o["region"]))}
    open_needs = [in_reach[n] for n in sorted(in_reach)[:2]]  # two needs, one offer each
    made = refer_many(store=store, requests=[ReferralRequest(id_number=r["person"], need_id=r["need"], provider_uscc=o["org"],
                                                             made_on=max(r["day"], o["start"]), made_by="organiser")
                                             for r, o in open_needs])
    assert len(made.created) == 2, made.errors
    accept_referral(store=store, referral_id=made.created[0])
    joining = [ask_to_join(store=store, request=JoinRequestIn(
        name=f"助残协会{n}", uscc=uscc(), service_region_code=homes[0]["code"], contact="李四", phone="13900000001"))
        for n in (1, 2)]
    approve_join_request(store=store, request_id=joining[0].request_id, decided_by="admin1")  # an account with a code
    # volunteer figures, which no contract file carries: the backup's copy of the ledger brings them back
    assert not log_entries(store=store, entries=[LedgerEntry(
        entry_date=TODAY, household_no=asked[0][0], uscc=asked[0][1], kind=LedgerKind.VOLUNTEER, note="上门理发",
        volunteers=3, minutes=90)]).errors
    data = dump(store)
    assert any("3" in row and "90" in row for row in data["ASSISTED"])
    for table in ("Household", "Person", "Cadre", "Org", "Problem", "Listing", "Reminder", "Revision", "User",
                  "Token", "AuditEntry", "AuxRequest", "Claim", "JoinRequest", "PAIRED_WITH", "AUX_PAIRED_WITH",
                  "ASSISTED", "EXCLUDED", "LISTED", "HAS_PROBLEM", "ServiceType", "Need", "Offer", "Delivery",
                  "Referral", "HAS_NEED", "OF", "OFFERS", "COVERS", "RECEIVED", "DELIVERED", "HAS_REFERRAL",
                  "REFERRED_TO"):
        assert data[table], f"{table} is empty: the test would prove nothing for it"
    ends = store.query("MATCH ()-[p:PAIRED_WITH]->() RETURN count(p) AS n, count(p.ended_on) AS ended")[0]
    assert 0 < ends["ended"] < ends["n"]


def fresh(tmp_path: Path, name: str) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / name, buffer_pool_mb=256)


def restored(tmp_path: Path, name: str, folder: Path) -> dict:
    """The dump of a fresh embedded store that ``folder`` was restored into."""
    target = fresh(tmp_path, name)
    try:
        restore(target, folder)
        return dump(target)
    finally:
        target.close()


def test_backup_restore_is_identical_and_repeatable(store, tmp_path):
    fill(store, tmp_path / "synth")
    before = dump(store)
    manifest = backup(store, tmp_path / "b1")
    assert manifest["files"]["家庭.csv"]["rows"] == len(before["Household"])
    assert manifest["files"][f"{EXTRA}/AuditEntry.jsonl"]["rows"] == 2
    store.wipe()
    restore(store, tmp_path / "b1")
    assert dump(store) == before
    backup(store, tmp_path / "b2")  # restore then backup: the same files, byte for byte
    names = [n for n in manifest["files"]]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "b1", tmp_path / "b2", names, shallow=False)
    assert mismatch == [] and errors == [] and sorted(match) == sorted(names)
    store.wipe()  # the same backup restored again gives the same store
    restore(store, tmp_path / "b1")
    assert dump(store) == before
    assert restored(tmp_path, "other", tmp_path / "b1") == before


def test_a_damaged_backup_is_refused_naming_the_file(store, tmp_path):
    fill(store, tmp_path / "synth")
    backup(store, tmp_path / "b")
    target = tmp_path / "b" / EXTRA / "Token.jsonl"
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    empty = fresh(tmp_path, "empty")
    try:
        with pytest.raises(BackupError) as caught:
            restore(empty, tmp_path / "b")
        assert "extra/Token.jsonl" in caught.value.en
        assert dump(empty) == dump_empty()
    finally:
        empty.close()


def dump_empty() -> dict[str, list]:
    return {t.label: [] for t in NODE_TABLES} | {r.type: [] for r in REL_TABLES}


def test_a_non_empty_store_is_refused(store, tmp_path):
    fill(store, tmp_path / "synth")
    backup(store, tmp_path / "b")
    before = dump(store)
    with pytest.raises(BackupError) as caught:
        restore(store, tmp_path / "b")
    assert "not empty" in caught.value.en
    assert dump(store) == before


def test_cli_backup_and_restore(engine, store, tmp_path):
    fill(store, tmp_path / "synth")
    before = dump(store)
    location = store.location
    if engine == "embedded":
        store.close()  # one process opens an embedded store once: hand the directory to the CLI
    made = runner.invoke(app, ["backup", "--out", str(tmp_path / "b"), "--store", location])
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "jiedui-backup" and len(manifest["files"]) == 12 + len(EXTRA_NODES) + len(EXTRA_RELS)
    refused = runner.invoke(app, ["restore", str(tmp_path / "b"), "--store", location])
    assert refused.exit_code == 2 and "not empty" in refused.output
    target = str(tmp_path / "restored")
    done = runner.invoke(app, ["restore", str(tmp_path / "b"), "--store", target])
    assert done.exit_code == 0, done.output
    with EmbeddedStore(Path(target), buffer_pool_mb=256) as restored:
        assert dump(restored) == before
    (tmp_path / "b" / "家庭.csv").write_bytes((tmp_path / "b" / "家庭.csv").read_bytes() + b"\n")
    damaged = runner.invoke(app, ["restore", str(tmp_path / "b"), "--store", str(tmp_path / "again")])
    assert damaged.exit_code == 2 and "家庭.csv" in damaged.output


def test_embedded_backup_restores_into_neo4j_and_back(tmp_path, neo4j_uri):
    source = fresh(tmp_path, "source")
    try:
        fill(source, tmp_path / "synth")
        before = dump(source)
        backup(source, tmp_path / "b")
    finally:
        source.close()
    neo = Neo4jStore(neo4j_uri)
    try:
        neo.wipe()
        restore(neo, tmp_path / "b")
        assert dump(neo) == before
        backup(neo, tmp_path / "from-neo4j")
    finally:
        neo.close()
    assert restored(tmp_path, "back", tmp_path / "from-neo4j") == before
    names = [p.relative_to(tmp_path / "b").as_posix() for p in (tmp_path / "b").rglob("*") if p.is_file()
             and p.name != MANIFEST]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "b", tmp_path / "from-neo4j", names, shallow=False)
    assert mismatch == [] and errors == []
