"""A region code that neither the store nor the import's 区划.csv holds rejects its row
(UNKNOWN_REGION) in every file that carries one, in a dry run as in a real run, on both engines;
codes of the same import's 区划.csv, their ancestors and the store's regions are accepted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph_schema.access.models import Role
from graph_schema.access.service import add_user
from graph_schema.errors import NotFound, UnknownRegion
from graph_schema.region.service import get_region, unknown_regions, upsert_regions
from graph_schema.region.models import Region
from importers.engine import run_import

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
TYPO = "620822100210"  # a village of 十字镇 (620822100000, known) that nobody registered


def rows_of(name: str) -> list[dict]:
    with (SAMPLE / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(exist_ok=True)
    with (folder / name).open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def problems(result) -> list[tuple]:
    return [(p.file, p.row, p.column, p.value, p.code) for p in result.problems if p.code != "UNKNOWN_COLUMN"]


def regions_stored(store) -> set[str]:
    return {r["code"] for r in store.query("MATCH (r:Region) RETURN r.code AS code")}


@pytest.mark.parametrize("name,column,index", [("家庭.csv", "区划代码", 1), ("干部.csv", "驻点区划代码", 0),
                                               ("社会组织.csv", "服务区划代码", 1)])
def test_a_mistyped_code_under_a_known_township_rejects_its_row_and_creates_no_region(store, tmp_path, name,
                                                                                      column, index):
    folder = tmp_path / "in"
    write(folder, "区划.csv", rows_of("区划.csv"))
    rows = rows_of(name)
    rows[index][column] = TYPO
    write(folder, name, rows)
    dry = run_import(store, [folder], dry_run=True)
    real = run_import(store, [folder])
    assert problems(dry) == problems(real) == [(name, index + 2, column, TYPO, "UNKNOWN_REGION")]
    assert dry.exit_code == real.exit_code == 1
    problem = real.problems[-1]
    assert "区划.csv" in problem.reason and "neither in 区划.csv of this import nor in the store" in problem.reason_en
    assert TYPO not in regions_stored(store)
    f = real.files[[f.name for f in real.files].index(name)]
    assert f.created == len(rows) - 1 and f.rejected == 1


def test_a_code_of_the_same_imports_region_file_or_its_ancestors_is_accepted(store, tmp_path):
    """区划.csv lists only a new village: its township, county and city follow from the code, and a
    household in the village, a cadre stationed at its township and an organisation serving its
    county are accepted; all of it in one import."""
    folder = tmp_path / "in"
    village = "620823105207"
    write(folder, "区划.csv", [{"区划代码": village, "名称": "新村"}])
    households = rows_of("家庭.csv")[:1]
    households[0]["区划代码"] = village
    write(folder, "家庭.csv", households)
    cadres = rows_of("干部.csv")[:1]
    cadres[0]["驻点区划代码"] = "620823105000"
    write(folder, "干部.csv", cadres)
    orgs = rows_of("社会组织.csv")[:1]
    orgs[0]["服务区划代码"] = "620823"
    write(folder, "社会组织.csv", orgs)
    dry = run_import(store, [folder], dry_run=True)
    assert problems(dry) == [] and regions_stored(store) == set()
    real = run_import(store, [folder])
    assert problems(real) == [] and real.exit_code == 0
    assert regions_stored(store) == {"620000000000", "620800000000", "620823000000", "620823105000", village}
    assert get_region(store=store, code=village).name == "新村"
    assert get_region(store=store, code="620823").name == "620823000000"  # an ancestor is named by its code


def test_regions_already_in_the_store_are_accepted_and_a_rejected_region_row_names_nothing(store, tmp_path):
    first = tmp_path / "first"
    write(first, "区划.csv", rows_of("区划.csv"))
    assert run_import(store, [first]).exit_code == 0
    second = tmp_path / "second"
    regions = [{"区划代码": "620822100203", "名称": ""}]  # refused: 名称 is required
    write(second, "区划.csv", regions)
    households = rows_of("家庭.csv")
    households[0]["区划代码"] = "620822100203"
    write(second, "家庭.csv", households)
    result = run_import(store, [second])
    assert problems(result) == [("区划.csv", 2, "名称", "", "REQUIRED"),
                                ("家庭.csv", 2, "区划代码", "620822100203", "UNKNOWN_REGION")]
    assert next(f for f in result.files if f.name == "家庭.csv").created == len(households) - 1
    assert "620822100203" not in regions_stored(store)


def test_the_rule_in_one_lookup(store):
    upsert_regions(store=store, regions=[Region(code="620822100201", name="赵家沟村")])
    found = store.read(lambda tx: unknown_regions(
        tx, ["620822100201", "620822100000", "620822100202", "620823105207", "620823000000"],
        named=["620823105207"]))
    assert found == {"620822100202"}  # stored, an ancestor of a stored one, named and its ancestor are known
    assert store.read(lambda tx: unknown_regions(tx, [])) == set()


def test_a_users_jurisdiction_never_invents_a_region(store):
    upsert_regions(store=store, regions=[Region(code="620822", name="灵台县")])
    with pytest.raises(UnknownRegion) as caught:
        add_user(store=store, user_id="typo", role=Role.ORGANIZER, region="620823")
    assert caught.value.code == "UNKNOWN_REGION" and isinstance(caught.value, NotFound)
    assert "620823000000" in caught.value.zh and "import the region first" in caught.value.en
    assert regions_stored(store) == {"620000000000", "620800000000", "620822000000"}
    assert add_user(store=store, user_id="right", role=Role.ORGANIZER, region="620822").region_code == "620822000000"

