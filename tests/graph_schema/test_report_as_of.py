"""Reports for a past day read the state of that day: a report run for a past date, then run again
for the same date after later imports (a cadre leaves, a limit is raised, a household changes its
category, its flags, its village, a member's grade and certificate change, new households and
persons arrive), gives the very same rows. Every report, on both engines.

The store's clock is set (``graph_schema.models.now``, the one clock the store stamps changes
with), so that the first import, the past report and the later import fall on different days.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest

from factories import cadre, household, org, person
from graph_schema import models
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import Department, LedgerKind
from graph_schema.history import Past, end_of, first_day, past
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.listing.models import Listing
from graph_schema.listing.service import upsert_listings
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.common import as_dict
from graph_schema.org.service import upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.models import AuxPairRequest, PairRequest
from graph_schema.pairing.service import aux_pair_many, pair_many
from graph_schema.region.models import Region
from graph_schema.region.service import upsert_regions
from graph_schema.store.schema import CADRE, HOUSEHOLD
from importers import synth
from importers.engine import run_import
from importers.export import export

V1, V2, V3 = "620822100201", "620822100202", "620822101203"  # V3: another township of the county
FIRST = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.timezone.utc)  # the first import
DAY = dt.date(2025, 3, 15)  # the day reported on
RUN = dt.datetime(2025, 3, 20, 1, 0, tzinfo=dt.timezone.utc)  # the first report
LATER = dt.datetime(2025, 4, 1, 1, 0, tzinfo=dt.timezone.utc)  # the later import
ALL = PageRequest(1, 1000)


@pytest.fixture
def clock(monkeypatch):
    """Set the store's clock: ``clock(moment)``."""
    def set_to(moment: dt.datetime) -> None:
        monkeypatch.setattr(models, "now", lambda: moment)
    return set_to


def world(store) -> dict[str, str]:
    """A county on its first day: households, members, cadres, pairings, visits, a problem, an
    organisation's auxiliary pairing, department lists. Returns the ID numbers it made."""
    upsert_regions(store=store, regions=[Region(code="620822", name="灵台县"), Region(code="620822100", name="十字镇"),
                                         Region(code=V1, name="赵家沟村"), Region(code=V2, name="十字村"),
                                         Region(code="620822101", name="新开乡"), Region(code=V3, name="南山村")])
    upsert_households(store=store, households=[
        household("H1", V1, monitoring="脱贫不稳定户"),  # paired with C1, visited
        household("H2", V1, tekun=True),  # unpaired all along
        household("H3", V2, dibao=True),  # a member's grade becomes 二级 later: priority from then on
        household("H4", V2, elderly_carer=True),  # paired with C2, who leaves later
        household("H5", V1, monitoring="边缘易致贫户", dibao=True),  # leaves monitoring later
        household("H6", V1, tekun=True),  # moves to V3 later
    ])
    p1, p3, p5 = (person("H1", grade=1, cert_expiry=dt.date(2025, 5, 1)), person("H3", grade=3),
                  person("H5", grade=4, cert_expiry=dt.date(2025, 6, 30)))
    upsert_persons(store=store, persons=[p1, p3, p5])
    ids = {"P1": p1.id_number, "P3": p3.id_number, "P5": p5.id_number}
    upsert_cadres(store=store, cadres=[cadre("C1", V1, pair_limit=1), cadre("C2", V2, pair_limit=2),
                                       cadre("C3", V1, pair_limit=2)])
    started = dt.date(2024, 6, 1)
    assert not pair_many(store=store, requests=[
        PairRequest(household_no="H1", cadre_no="C1", started_on=started),
        PairRequest(household_no="H4", cadre_no="C2", started_on=started),
        PairRequest(household_no="H6", cadre_no="C3", started_on=started)]).errors
    the_org = org(region="620822")
    upsert_orgs(store=store, orgs=[the_org])
    assert not aux_pair_many(store=store, requests=[
        AuxPairRequest(household_no="H2", uscc=the_org.uscc, started_on=started)]).errors
    assert not log_entries(store=store, entries=[
        LedgerEntry(entry_date=dt.date(2025, 2, 20), household_no="H1", cadre_no="C1", kind=LedgerKind.VISIT),
        LedgerEntry(entry_date=dt.date(2024, 7, 1), household_no="H6", cadre_no="C3", kind=LedgerKind.POLICY),
        LedgerEntry(entry_date=dt.date(2025, 1, 10), household_no="H6", cadre_no="C3", kind=LedgerKind.AID,
                    amount_fen=50_000),
        LedgerEntry(entry_date=dt.date(2025, 2, 1), household_no="H6", cadre_no="C3", kind=LedgerKind.REPORT_PROBLEM,
                    problem_no="Q1", note="住房漏雨"),
    ]).errors
    upsert_listings(store=store, listings=[
        Listing(dept=Department.CIVIL_AFFAIRS, item="重度残疾人护理补贴", id_number=ids["P1"], name="测试人",
                valid_from=dt.date(2024, 1, 1)),
        Listing(dept=Department.CIVIL_AFFAIRS, item="困难残疾人生活补贴", id_number=ids["P5"], name="测试人",
                valid_from=dt.date(2024, 1, 1)),
    ])
    return ids


def later_import(store, folder: Path, ids: dict[str, str]) -> None:
    """The organiser's next import: the whole county exported and changed as the spreadsheets
    would be, and a new household with a severely disabled member."""
    export(store, folder)

    def edit(name: str, key: str, changes: dict[str, dict[str, str]], more: list[dict] = ()) -> None:
        path = folder / f"{name}.csv"
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row.update(changes.get(row[key], {}))
        rows += [dict(rows[0], **m) for m in more]
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            out = csv.DictWriter(f, fieldnames=list(rows[0]))
            out.writeheader()
            out.writerows(rows)

    edit("干部", "干部编号", {"C2": {"是否在岗": "否"}, "C1": {"结对上限": "3"}, "C3": {"姓名": "改名干部"}})
    h7 = household("H7", V1, tekun=True)
    edit("家庭", "户编号", {"H5": {"监测类别": "", "是否低保": "否"}, "H6": {"区划代码": V3},
                          "H2": {"是否以老养残": "是", "户主姓名": "新户主"}},
         more=[{"户编号": "H7", "户主身份证号": h7.head_id, "区划代码": V1, "是否特困": "是", "监测类别": ""}])
    p3, p8 = ids["P3"], person("H7", grade=1)
    edit("残疾人", "身份证号", {p3: {"残疾等级": "二级", "残疾人证号": f"{p3}42"},
                            ids["P1"]: {"证件有效期至": "2030-01-01"}, ids["P5"]: {"户编号": "H2"}},
         more=[{"身份证号": p8.id_number, "残疾人证号": p8.cert_no, "户编号": "H7", "残疾等级": "一级",
                "证件有效期至": "2025-06-01"}])
    result = run_import(store, [folder])
    assert result.exit_code == 0, [(p.file, p.row, p.column, p.code) for p in result.problems]
    assert sum(f.updated for f in result.files) >= 8 and sum(f.created for f in result.files) == 2


def reports(store, as_of: dt.date) -> dict[str, list[dict]]:
    return {name: [as_dict(row) for row in report.run(store=store, region="620822", as_of=as_of, page=ALL).items]
            for name, report in REPORTS.items()}


def test_a_past_report_is_unchanged_by_later_imports(store, clock, tmp_path):
    clock(FIRST)
    ids = world(store)
    clock(RUN)
    before = reports(store, DAY)
    earlier = reports(store, dt.date(2024, 12, 31))  # before the store's first day: that day's state
    # what the day looked like, as the later import will try to change it
    assert {r["household_no"] for r in before["unpaired"]} == {"H2", "H5"}
    assert [(r["cadre_no"], r["finding"]) for r in before["cadre-load"]] == [("C1", "满额")]
    assert {r["household_no"] for r in before["cert-expiry"]} == {"H1", "H5"}
    assert any(r["household_no"] == "H6" and r["region_code"] == V1 for r in before["post-evaluation"])

    clock(LATER)
    later_import(store, tmp_path / "later", ids)
    again = reports(store, DAY)
    for name in before:
        assert again[name] == before[name], name
    assert reports(store, dt.date(2024, 12, 31)) == earlier

    # …while today's reports do show every change
    now = reports(store, LATER.date())
    assert {r["household_no"] for r in now["unpaired"]} == {"H2", "H3", "H4", "H7"}
    assert [(r["cadre_no"], r["finding"]) for r in now["cadre-load"]] == [("C2", "不在岗仍有结对")]
    assert {r["household_no"] for r in now["cert-expiry"]} == {"H2", "H7"}
    assert any(r["household_no"] == "H6" and r["region_code"] == V3 for r in now["post-evaluation"])
    for name in ("overdue-visits", "open-problems", "problem-closure", "benefit-gaps", "coverage"):
        assert now[name] != before[name], name


def test_the_history_of_a_day(store, clock):
    clock(FIRST)
    upsert_households(store=store, households=[household("A", tekun=True)])
    upsert_cadres(store=store, cadres=[cadre("C1")])
    clock(RUN)
    assert store.read(lambda tx: past(tx, DAY)) is None  # nothing recorded since
    assert store.read(first_day) == FIRST.astimezone().date()
    clock(LATER)
    upsert_households(store=store, households=[household("A", tekun=False, monitoring="突发严重困难户"), household("B")])
    upsert_cadres(store=store, cadres=[cadre("C1", on_duty=False)])
    upsert_cadres(store=store, cadres=[cadre("C1", on_duty=True, pair_limit=5)])
    found: Past = store.read(lambda tx: past(tx, DAY))
    assert found.day == DAY
    assert found.row(HOUSEHOLD, {"household_no": "A", "tekun": False, "monitoring": "突发严重困难户"}) == \
        {"household_no": "A", "tekun": True, "monitoring": None}
    # two changes since: the earlier one holds the day's value of each column
    assert found.row(CADRE, {"cadre_no": "C1", "on_duty": True, "pair_limit": 5}) == \
        {"cadre_no": "C1", "on_duty": True, "pair_limit": 3}
    assert not found.existed(HOUSEHOLD, "B") and found.existed(HOUSEHOLD, "A")
    assert found.touched(HOUSEHOLD) == {"A", "B"}
    # today, and any day since the last change, reads the current state
    assert store.read(lambda tx: past(tx, LATER.astimezone().date())) is None
    # a day before the first reads the end of the first day
    assert store.read(lambda tx: past(tx, dt.date(2020, 1, 1))).day == FIRST.astimezone().date()


def test_end_of_a_day_is_the_next_local_midnight_in_utc():
    stamp = end_of(DAY)
    moment = dt.datetime.fromisoformat(stamp)
    assert moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0)
    assert moment.astimezone().date() == DAY + dt.timedelta(days=1) and moment.astimezone().hour == 0


def changed(record, **values):
    """``record`` with ``values`` changed, validated as a new record is."""
    return type(record).model_validate({**record.model_dump(), **values})


def _reports_in(store, as_of: dt.date, regions: list[str]) -> dict[tuple[str, str], list[dict]]:
    return {(name, region): [as_dict(r) for r in report.run(store=store, region=region, as_of=as_of, page=ALL).items]
            for name, report in REPORTS.items() for region in regions}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_later_changes_never_change_a_past_report(store, clock, seed):
    """Invented villages, then random changes to a third of every kind of record (flags, category,
    village, members' grades, certificates and households, cadres' duty, limits and stations) and
    new households, persons and cadres: the past reports of the county and of a township stay."""
    rng = random.Random(seed)
    data = synth.generate("tiny", seed=seed, as_of=dt.date(2025, 1, 3))
    clock(FIRST)
    synth.load(store, data)
    county = next(r.code for r in data.regions if r.level.value == "county")
    township = next(r.code for r in data.regions if r.level.value == "township")
    villages = [r.code for r in data.regions if r.level.value == "village"]
    regions = [county[:6], township[:9]]
    clock(RUN)
    before = _reports_in(store, DAY, regions)
    clock(LATER)
    categories = [None, "脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
    households = [changed(h, monitoring=rng.choice(categories), tekun=rng.random() < 0.3, dibao=rng.random() < 0.4,
                          elderly_carer=rng.random() < 0.2, labour=rng.choice([0, h.labour]),
                          region_code=rng.choice(villages))
                  for h in rng.sample(data.households, len(data.households) // 3)]
    households += [household(f"NEW{i}", rng.choice(villages), tekun=True) for i in range(3)]
    upsert_households(store=store, households=households)
    numbers = [h.household_no for h in data.households]
    persons = []
    for p in rng.sample(data.persons, len(data.persons) // 3):
        grade = rng.randint(1, 4)
        persons.append(changed(p, grade=grade, cert_no=f"{p.id_number}{int(p.category)}{grade}",
                               household_no=rng.choice(numbers),
                               cert_expiry=DAY + dt.timedelta(days=rng.randint(-30, 400))))
    persons += [person(f"NEW{i}", grade=1, cert_expiry=DAY + dt.timedelta(days=40)) for i in range(3)]
    persons += [person(rng.choice(numbers), grade=2) for _ in range(3)]
    assert not upsert_persons(store=store, persons=persons).errors
    cadres = [changed(c, on_duty=not c.on_duty, pair_limit=rng.randint(1, 5), station_code=rng.choice(villages))
              for c in rng.sample(data.cadres, max(1, len(data.cadres) // 2))]
    upsert_cadres(store=store, cadres=cadres + [cadre("NEWC", rng.choice(villages))])
    after = _reports_in(store, DAY, regions)
    for key in before:
        assert after[key] == before[key], key
    assert _reports_in(store, LATER.date(), regions) != before  # the changes are there today


def test_a_store_older_than_the_creation_records_keeps_its_revisions(store, clock):
    """Its records count as always there; its changes are undone all the same."""
    clock(FIRST)
    upsert_households(store=store, households=[household("A", tekun=True)])
    store.execute("MATCH (c:Creation) DELETE c")
    clock(LATER)
    upsert_households(store=store, households=[household("A", tekun=False, monitoring="突发严重困难户"), household("B")])
    store.execute("MATCH (c:Creation) DELETE c")
    found = store.read(lambda tx: past(tx, DAY))
    assert found.day == DAY and found.existed(HOUSEHOLD, "B")
    assert found.row(HOUSEHOLD, {"household_no": "A", "tekun": False})["tekun"] is True
