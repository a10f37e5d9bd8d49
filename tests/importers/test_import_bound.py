"""An organiser's import is kept inside their region (``run_import(…, bound=prefix)``), on both
engines: rows outside it by their own data are rejected (OUT_OF_JURISDICTION); rows naming records
stored outside answer exactly as rows naming unknown keys do, and never change those records (they
are held as claims for an organiser above both); without a bound nothing changes."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from factories import org
from graph_schema.access.models import Role, User
from graph_schema.claims.service import get_claim, list_claims
from graph_schema.errors import ClaimDecided, NotFound
from graph_schema.household.models import Person
from graph_schema.household.service import upsert_persons
from graph_schema.identifiers import id_check_char, uscc_check_char
from graph_schema.org.service import upsert_orgs
from importers.claims import accept_claim, decline_claim
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


def uscc_of(first17: str) -> str:
    return first17 + uscc_check_char(first17)


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


def answers(result) -> list[tuple]:
    """What an import told its caller, row by row, with the keys a row names taken out."""
    out = []
    for p in result.problems:
        out.append((p.file, p.row, p.column, p.code, re.sub(r"[0-9A-Z]{6,}", "#", p.reason),
                    re.sub(r"[0-9A-Z]{6,}", "#", p.reason_en)))
    return sorted(out)


def counts(result) -> list[tuple]:
    return [(f.name, f.rows_read, f.created, f.updated, f.unchanged, f.rejected) for f in result.files]


def an_id(prefix: str = COUNTY_A, born: str = "19800101", seq: str = "123") -> str:
    first17 = prefix + born + seq
    return first17 + id_check_char(first17)


def test_rows_claiming_a_key_held_in_another_county_answer_as_new_keys_and_change_nothing_there(store, tmp_path):
    """Finding 3 of the attack review: an organiser's import of another county's 户编号, ID number or
    干部编号 answered "registered outside" where an unknown key was accepted. Now both are accepted
    alike, in the dry run and the real run; the other county's records stay as they were, and the
    real run holds the rows as claims."""
    run_import(store, [SAMPLE])  # everything, as an admin
    households = [r | {"区划代码": "620822100201"} for r in rows_of("家庭") if r["户编号"] in ("H101203003", "H101203006")]
    households[1] = households[1] | {"户编号": "H900000001"}  # nobody's
    persons = [r | {"户编号": "H100201001"} for r in rows_of("残疾人") if r["户编号"] == "H101203003"]
    unknown_id = an_id(COUNTY_B, "19880207", "511")
    persons.append(persons[0] | {"身份证号": unknown_id, "残疾人证号": unknown_id + "73", "姓名": "某人"})
    cadres = [r | {"驻点区划代码": "620822100201"} for r in rows_of("干部") if r["干部编号"] == "GB0003"]
    cadres.append(cadres[0] | {"干部编号": "GX9999"})
    folder = folder_of(tmp_path, 家庭=households, 残疾人=persons, 干部=cadres)
    files = only(folder, "家庭", "残疾人", "干部")
    before = {label: store.query(f"MATCH (n:{label}) RETURN n AS n") for label in ("Household", "Person", "Cadre")}
    dry = run_import(store, files, bound=COUNTY_A, dry_run=True)
    assert dry.exit_code == 0 and dry.problems == [] or {p.code for p in dry.problems} == {"UNKNOWN_COLUMN"}
    real = run_import(store, files, bound=COUNTY_A, claimant="organizer-a", import_id="imp-1")
    assert answers(real) == answers(dry)
    assert counts(real) == [("家庭.csv", 2, 2, 0, 0, 0), ("残疾人.csv", 2, 2, 0, 0, 0), ("干部.csv", 2, 2, 0, 0, 0)]
    # the other county's records are as they were; the unknown keys were written
    assert store.query("MATCH (h:Household {household_no: 'H101203003'}) RETURN h.region_code AS r") == [
        {"r": "620802101203"}]
    assert store.query("MATCH (p:Person {id_number: '620802198802075134'}) RETURN p.household_no AS h") == [
        {"h": "H101203003"}]
    assert store.query("MATCH (c:Cadre {cadre_no: 'GB0003'}) RETURN c.station_code AS s") == [{"s": "620802101203"}]
    assert store.query("MATCH (h:Household {household_no: 'H900000001'}) RETURN h.region_code AS r") == [
        {"r": "620822100201"}]
    assert store.query("MATCH (p:Person {id_number: $id}) RETURN p.household_no AS h", {"id": unknown_id}) == [
        {"h": "H100201001"}]
    assert len(store.query("MATCH (n:Household) RETURN n AS n")) == len(before["Household"]) + 1
    held = sorted((c.key_kind, c.record_key, c.held_region, c.common_region, c.claimant, c.import_id)
                  for c in real.claims)
    assert held == [("cadre", "GB0003", "620802101203", "6208", "organizer-a", "imp-1"),
                    ("household", "H101203003", "620802101203", "6208", "organizer-a", "imp-1"),
                    ("person", "620802198802075134", "620802101203", "6208", "organizer-a", "imp-1")]
    assert store.query("MATCH (c:Claim) RETURN count(c) AS n") == [{"n": 3}]


def test_references_to_records_outside_answer_as_unknown_references(store, tmp_path):
    """A person, pairing or ledger row naming another county's household, cadre or organisation
    answers exactly as one naming a key nobody holds: UNKNOWN_REFERENCE, the same message."""
    run_import(store, [SAMPLE])
    upsert_orgs(store=store, orgs=[org(region=COUNTY_B)])
    org_b = store.query("MATCH (o:Org) WHERE o.service_region_code STARTS WITH '620802' RETURN o.uscc AS u")[0]["u"]
    unknown_org = uscc_of("52620802000000999")

    def rows_naming(household: str, cadre: str, uscc: str) -> dict:
        person = [r | {"户编号": household} for r in rows_of("残疾人") if r["户编号"] == "H100201001"][:1]
        pairings = [{"户编号": "H100201010", "结对类型": "一对一", "干部编号": cadre, "统一社会信用代码": "",
                     "开始日期": "2024-01-01", "结束日期": "", "结束原因": ""},
                    {"户编号": "H100201010", "结对类型": "辅助", "干部编号": "", "统一社会信用代码": uscc,
                     "开始日期": "2024-01-01", "结束日期": "", "结束原因": ""},
                    {"户编号": household, "结对类型": "一对一", "干部编号": "GB0004", "统一社会信用代码": "",
                     "开始日期": "2024-01-01", "结束日期": "", "结束原因": ""}]
        ledger = [{"日期": "2024-06-01", "户编号": "H100201010", "干部编号": cadre, "统一社会信用代码": "", "类型": "入户走访",
                   "金额": "", "物资折合": "", "内容": "", "问题编号": ""},
                  {"日期": "2024-06-01", "户编号": household, "干部编号": "", "统一社会信用代码": "52620800P32462330H",
                   "类型": "志愿服务", "金额": "", "物资折合": "", "内容": "", "问题编号": ""}]
        return {"残疾人": person, "结对": pairings, "帮扶记录": ledger}

    outside = run_import(store, only(folder_of(tmp_path, "b", **rows_naming("H101203003", "GB0003", org_b)),
                                     "残疾人", "结对", "帮扶记录"), bound=COUNTY_A, dry_run=True)
    missing = run_import(store, only(folder_of(tmp_path, "x", **rows_naming("H900000009", "GX0009", unknown_org)),
                                     "残疾人", "结对", "帮扶记录"), bound=COUNTY_A, dry_run=True)
    assert answers(outside) == answers(missing)
    assert {(p.file, p.row, p.column, p.code) for p in outside.problems} == {
        ("残疾人.csv", 2, "户编号", "UNKNOWN_REFERENCE"), ("结对.csv", 2, "干部编号", "UNKNOWN_REFERENCE"),
        ("结对.csv", 3, "统一社会信用代码", "UNKNOWN_REFERENCE"), ("结对.csv", 4, "户编号", "UNKNOWN_REFERENCE"),
        ("帮扶记录.csv", 2, "干部编号", "UNKNOWN_REFERENCE"), ("帮扶记录.csv", 3, "户编号", "UNKNOWN_REFERENCE")}
    assert all("620802" not in p.reason + p.reason_en for p in outside.problems)  # no county named


def test_rows_depending_on_a_claimed_key_are_decided_as_for_a_new_key_and_held_with_it(store, tmp_path):
    """A claimed household's own state (its active pairing in the other county) is not seen:
    two active 一对一 rows for it answer as two for a new household do; the rows are held with
    the claim and written only when an organiser above both accepts it."""
    run_import(store, [SAMPLE])

    def files_for(no: str, name: str, problem: str) -> list[Path]:
        household = [r | {"户编号": no, "区划代码": "620822100201"} for r in rows_of("家庭") if r["户编号"] == "H101203006"]
        pairings = [{"户编号": no, "结对类型": "一对一", "干部编号": cadre, "统一社会信用代码": "", "开始日期": "2024-01-01",
                     "结束日期": "", "结束原因": ""} for cadre in ("GB0001", "GB0004")]
        ledger = [{"日期": "2024-06-01", "户编号": no, "干部编号": "GB0001", "统一社会信用代码": "", "类型": "反映困难",
                   "金额": "", "物资折合": "", "内容": "房屋漏雨", "问题编号": problem}]
        return only(folder_of(tmp_path, name, 家庭=household, 结对=pairings, 帮扶记录=ledger), "家庭", "结对", "帮扶记录")

    claimed = run_import(store, files_for("H101203006", "c", "P0009"), bound=COUNTY_A, claimant="organizer-a")
    fresh = run_import(store, files_for("H900000006", "n", "P0010"), bound=COUNTY_A, claimant="organizer-a")
    assert answers(claimed) == answers(fresh) == [
        ("结对.csv", 3, "户编号", "HOUSEHOLD_ALREADY_PAIRED", *answers(fresh)[0][4:])]
    assert counts(claimed) == counts(fresh)
    [claim] = claimed.claims
    assert (claim.key_kind, claim.record_key) == ("household", "H101203006")
    assert [(r["file"], r["row"]) for r in claim.held_rows] == [("家庭.csv", 2), ("结对.csv", 2), ("帮扶记录.csv", 2)]
    assert store.query("MATCH (c:Cadre)-[p:PAIRED_WITH]->(h:Household {household_no: 'H101203006'}) "
                       "WHERE p.ended_on IS NULL RETURN c.cadre_no AS c") == [{"c": "GB0006"}]
    assert store.query("MATCH (h:Household {household_no: 'H101203006'})-[:HAS_PROBLEM]->(p) RETURN p.problem_no AS n") == []
    city = User("organizer-city", Role.ORGANIZER, region_code="6208").scope
    for scope in (User("a", Role.ORGANIZER, region_code=COUNTY_A).scope,
                  User("b", Role.ORGANIZER, region_code=COUNTY_B).scope):
        assert list_claims(store=store, scope=scope).total == 0  # neither county sees it
    assert [c.claim_id for c in list_claims(store=store, scope=city).items] == [claim.claim_id]
    done, refused = accept_claim(store=store, claim_id=claim.claim_id, decided_by="organizer-city", scope=city,
                                 note="户已迁入灵台县")
    assert done.status.value == "已采纳" and done.decision_note == "户已迁入灵台县"
    assert [(r["file"], r["row"], r["code"]) for r in refused] == [("结对.csv", 2, "HOUSEHOLD_ALREADY_PAIRED")]
    assert store.query("MATCH (h:Household {household_no: 'H101203006'}) RETURN h.region_code AS r") == [
        {"r": "620822100201"}]
    assert store.query("MATCH (h:Household {household_no: 'H101203006'})-[:HAS_PROBLEM]->(p) RETURN p.problem_key AS k") == [
        {"k": "620822:P0009"}]
    with pytest.raises(ClaimDecided):
        decline_claim(store=store, claim_id=claim.claim_id, decided_by="admin")


def test_a_declined_claim_changes_nothing(store, tmp_path):
    run_import(store, [SAMPLE])
    moved = [r | {"户编号": "H100201001"} for r in rows_of("残疾人") if r["户编号"] == "H101203003"]
    result = run_import(store, only(folder_of(tmp_path, 残疾人=moved), "残疾人"), bound=COUNTY_A, claimant="organizer-a")
    [claim] = result.claims
    with pytest.raises(NotFound):  # a county organiser decides nothing of it
        decline_claim(store=store, claim_id=claim.claim_id, decided_by="organizer-b",
                      scope=User("b", Role.ORGANIZER, region_code=COUNTY_B).scope)
    done = decline_claim(store=store, claim_id=claim.claim_id, decided_by="admin", note="身份证号填错")
    assert (done.status.value, done.decided_by) == ("已驳回", "admin")
    assert store.query("MATCH (p:Person {id_number: '620802198802075134'}) RETURN p.household_no AS h") == [
        {"h": "H101203003"}]
    assert get_claim(store=store, claim_id=claim.claim_id).status.value == "已驳回"


def test_a_listing_of_a_person_held_in_another_county_answers_as_for_an_unknown_person(store, tmp_path):
    run_import(store, [SAMPLE])
    moved_in = an_id(COUNTY_A, "19900101", "777")  # born in county A, registered in county B
    upsert_persons(store=store, persons=[Person(id_number=moved_in, name="迁出者", cert_no=moved_in + "41",
                                                household_no="H101203003", category=4, grade=1)])

    def listing(id_number: str) -> list[dict]:
        return [{"来源部门": "民政", "项目": "重度残疾人护理补贴", "身份证号": id_number, "姓名": "某人",
                 "起始年月": "2024-01", "截止年月": "", "金额": "90"}]

    results = {}
    for name, id_number in (("held-a", moved_in), ("new-a", an_id(COUNTY_A, "19900101", "779")),
                            ("held-b", "620802198802075134"), ("new-b", an_id(COUNTY_B, "19900101", "771"))):
        folder = folder_of(tmp_path, name, 部门名单=listing(id_number))
        results[name] = run_import(store, only(folder, "部门名单"), bound=COUNTY_A, claimant="organizer-a")
    assert answers(results["held-a"]) == answers(results["new-a"]) == []
    assert answers(results["held-b"]) == answers(results["new-b"]) != []
    assert counts(results["held-a"]) == counts(results["new-a"])
    assert [(c.key_kind, c.record_key) for c in results["held-a"].claims] == [("person", moved_in)]
    assert store.query("MATCH (l:Listing) WHERE l.id_number = $id RETURN count(l) AS n", {"id": moved_in}) == [{"n": 0}]


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
