"""Synthetic, invented data with the shape of a real county or province (seeded: same seed, same data).

Proportions follow the Gansu 2023 figures of the domain guide, per household:
~1.2 certified disabled persons, ~37% priority households of which ~60% are paired one-to-one,
one cadre per ~7 households with a limit of 3 (some 5), ~5% of cadres no longer 在岗.
Every name, ID number and code is generated and valid under the identifier rules; none is real.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from graph_schema.cadre.models import Cadre
from graph_schema.enums import LedgerKind, MonitoringCategory
from graph_schema.household.models import Household, Person
from graph_schema.identifiers import id_check_char, uscc_check_char
from graph_schema.ledger.models import LedgerEntry
from graph_schema.org.models import Org
from graph_schema.pairing.models import PairRequest
from graph_schema.region.models import Region

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文玉兰红梅海燕小东军安庆康志宏"
TOWNSHIP_SUFFIX = ("镇", "乡")
VILLAGE_WORDS = "赵家沟 十字 南山 北坡 东川 西湾 杨庄 李堡 王岘 上河 下寨 新庄 老庄 中坪 马莲 柳树 红崖 石门".split()


@dataclass(frozen=True)
class Preset:
    cities: int
    counties_per_city: int
    townships_per_county: int
    villages_per_township: int
    households_per_village: int


PRESETS = {
    # one county (~1/80 of a province): 15 townships × 13 villages × 45 households ≈ 8.8k households
    "county": Preset(1, 1, 15, 13, 45),
    # the whole province: 14 cities × 6 counties × 14 townships × 13 villages × 45 ≈ 688k households
    "province": Preset(14, 6, 14, 13, 45),
    # a few villages, for tests and the quick demo
    "tiny": Preset(1, 1, 2, 3, 8),
}


@dataclass
class SynthData:
    as_of: dt.date
    regions: list[Region] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    cadres: list[Cadre] = field(default_factory=list)
    orgs: list[Org] = field(default_factory=list)
    pairings: list[PairRequest] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)


class _Ids:
    """Unique, valid ID numbers for people born in a county."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, county6: str, born_from: int = 1940, born_to: int = 2015) -> str:
        while True:
            born = dt.date(self.rng.randint(born_from, born_to), self.rng.randint(1, 12), self.rng.randint(1, 28))
            first17 = f"{county6}{born:%Y%m%d}{self.rng.randint(1, 999):03d}"
            number = first17 + id_check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _uscc(rng: random.Random, county6: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "52" + county6 + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + uscc_check_char(first17)


def generate(preset: str | Preset = "county", *, seed: int = 1, as_of: dt.date = dt.date(2024, 12, 31),
             households: int | None = None) -> SynthData:
    """Invented data for ``preset``; ``households`` caps the number of households (benchmarks)."""
    p = PRESETS[preset] if isinstance(preset, str) else preset
    rng = random.Random(seed)
    ids = _Ids(rng)
    data = SynthData(as_of=as_of)
    data.regions.append(Region(code="620000000000", name="甘肃省"))
    villages: list[str] = []
    for c in range(1, p.cities + 1):
        city = f"62{c:02d}"
        data.regions.append(Region(code=city, name=f"第{c}市"))
        for k in range(1, p.counties_per_city + 1):
            county = f"{city}{20 + k:02d}"
            data.regions.append(Region(code=county, name=f"第{c}市第{k}县"))
            for t in range(1, p.townships_per_county + 1):
                township = f"{county}{100 + t:03d}"
                data.regions.append(Region(code=township, name=f"{rng.choice(SURNAMES)}家{rng.choice(TOWNSHIP_SUFFIX)}"))
                for v in range(1, p.villages_per_township + 1):
                    village = f"{township}{200 + v:03d}"
                    data.regions.append(Region(code=village, name=f"{rng.choice(VILLAGE_WORDS)}村"))
                    villages.append(village)
    per_village = p.households_per_village
    if households is not None:
        per_village = max(1, -(-households // len(villages)))
    hh_by_village: dict[str, list[Household]] = defaultdict(list)
    for village in villages:
        for _ in range(per_village):
            if households is not None and len(data.households) >= households:
                break
            h = _household(rng, ids, village, len(data.households) + 1)
            data.households.append(h)
            hh_by_village[village].append(h)
            data.persons.extend(_members(rng, ids, h))
    _cadres_and_pairings(rng, data, villages, hh_by_village)
    _orgs(rng, data)
    _ledger(rng, data)
    return data


def _household(rng: random.Random, ids: _Ids, village: str, n: int) -> Household:
    size = rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6))
    roll = rng.random()
    monitoring = (MonitoringCategory.UNSTABLE if roll < 0.06 else MonitoringCategory.MARGINAL if roll < 0.11
                  else MonitoringCategory.SUDDEN_HARDSHIP if roll < 0.13 else None)
    return Household(
        household_no=f"H{village[4:]}{n:07d}", head_name=_name(rng), head_id=ids.new(village[:6], 1940, 1995),
        region_code=village, address=f"{rng.randint(1, 200)}号", size=size, labour=rng.randint(0, size),
        income_fen=rng.randrange(2_000, 15_000, 100) * 100, monitoring=monitoring,
        formerly_poor=rng.random() < 0.3, dibao=rng.random() < 0.2, tekun=rng.random() < 0.04,
        elderly_carer=rng.random() < 0.05, risk_factors=rng.sample(["因病", "因残", "因灾", "缺劳力", "缺技术"], 1),
        phone=f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
    )


def _members(rng: random.Random, ids: _Ids, h: Household) -> list[Person]:
    count = 2 if rng.random() < 0.15 and h.size >= 2 else 1
    out = []
    for i in range(count):
        number = h.head_id if i == 0 and rng.random() < 0.6 else ids.new(h.region_code[:6])
        category, grade = rng.choices(range(1, 8), (8, 10, 3, 40, 12, 12, 15))[0], rng.choices(
            range(1, 5), (10, 20, 30, 40))[0]
        out.append(Person(
            id_number=number, name=h.head_name if number == h.head_id else _name(rng),
            cert_no=f"{number}{category}{grade}", household_no=h.household_no,
            relation="本人" if number == h.head_id else rng.choice(["配偶", "子女", "父母"]), category=category,
            grade=grade, cert_expiry=dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 5 * 365)),
            labour_ability=rng.choice(["有", "部分", "无"]), needs=rng.sample(["康复", "辅具", "就业", "托养"], 1),
        ))
    return out


def _priority(h: Household, members: list[Person]) -> bool:
    return bool(h.monitoring or h.tekun or h.elderly_carer or len(members) >= 2
                or any(p.grade <= 2 for p in members))


def _cadres_and_pairings(rng: random.Random, data: SynthData, villages: list[str],
                         hh_by_village: dict[str, list[Household]]) -> None:
    members: dict[str, list[Person]] = defaultdict(list)
    for person in data.persons:
        members[person.household_no].append(person)
    n = 0
    for village in villages:
        homes = hh_by_village[village]
        cadres = []
        for _ in range(max(1, round(len(homes) / 7))):
            n += 1
            cadre = Cadre(cadre_no=f"GB{n:06d}", name=_name(rng), phone=f"13{rng.randint(0, 999_999_999):09d}",
                          unit=rng.choice(["县残联", "乡镇政府", "县民政局", "村委会"]),
                          unit_level=rng.choice(["县", "乡", "村"]), role=rng.choice(
                              ["驻村第一书记", "驻村工作队员", "村残协专职委员", "党员干部"]),
                          station_code=village, pair_limit=rng.choice((3, 3, 3, 5)), on_duty=rng.random() > 0.05)
            cadres.append(cadre)
        data.cadres.extend(cadres)
        room = {c.cadre_no: c.pair_limit for c in cadres if c.on_duty}
        for h in homes:
            if not _priority(h, members[h.household_no]) or rng.random() > 0.6 or not room:
                continue
            cadre_no = rng.choice(sorted(room))
            room[cadre_no] -= 1
            if not room[cadre_no]:
                del room[cadre_no]
            data.pairings.append(PairRequest(
                household_no=h.household_no, cadre_no=cadre_no, source="import",
                started_on=data.as_of - dt.timedelta(days=rng.randint(30, 900))))


def _orgs(rng: random.Random, data: SynthData) -> None:
    counties = sorted({h.region_code[:6] for h in data.households})
    for county in counties:
        for _ in range(3):
            data.orgs.append(Org(uscc=_uscc(rng, county), name=f"{rng.choice(SURNAMES)}{rng.choice(['爱心', '助残', '阳光'])}公益服务中心",
                                 org_type=rng.choice(["社会团体", "民办非企业单位", "志愿服务组织"]),
                                 service_region_code=county, service_modes=["捐款捐物", "志愿服务", "辅助结对"]))


def _ledger(rng: random.Random, data: SynthData) -> None:
    """About one visit per quarter for most paired households, and a few problems."""
    problem = 0
    for pairing in data.pairings:
        for quarter in range(4):
            if rng.random() < 0.85:
                day = data.as_of - dt.timedelta(days=quarter * 91 + rng.randint(0, 80))
                data.ledger.append(LedgerEntry(entry_date=day, household_no=pairing.household_no,
                                               cadre_no=pairing.cadre_no, kind=LedgerKind.VISIT, note="入户走访"))
        if rng.random() < 0.05:
            problem += 1
            opened = data.as_of - dt.timedelta(days=rng.randint(20, 300))
            number = f"P{problem:06d}"
            data.ledger.append(LedgerEntry(entry_date=opened, household_no=pairing.household_no,
                                           cadre_no=pairing.cadre_no, kind=LedgerKind.REPORT_PROBLEM,
                                           problem_no=number, note="轮椅损坏，需要更换"))
            if rng.random() < 0.7:
                data.ledger.append(LedgerEntry(entry_date=opened + dt.timedelta(days=rng.randint(1, 19)),
                                               household_no=pairing.household_no, cadre_no=pairing.cadre_no,
                                               kind=LedgerKind.SOLVE_PROBLEM, problem_no=number,
                                               note="协调县残联更换轮椅"))


def load(store, data: SynthData, progress=None) -> dict[str, dict[str, int]]:
    """Write ``data`` through the services' batch paths; returns counts per kind of record.

    ``progress(kind, n)`` is called as batches land, for a progress bar.
    """
    from graph_schema.cadre.service import upsert_cadres
    from graph_schema.household.service import upsert_households, upsert_persons
    from graph_schema.ledger.service import log_entries
    from graph_schema.org.service import upsert_orgs
    from graph_schema.pairing.service import pair_many
    from graph_schema.region.service import upsert_regions

    def tick(kind: str):
        return (lambda n: progress(kind, n)) if progress else None

    return {
        "regions": upsert_regions(store=store, regions=data.regions).counts(),
        "households": upsert_households(store=store, households=data.households, progress=tick("households")).counts(),
        "persons": upsert_persons(store=store, persons=data.persons, progress=tick("persons")).counts(),
        "cadres": upsert_cadres(store=store, cadres=data.cadres).counts(),
        "orgs": upsert_orgs(store=store, orgs=data.orgs).counts(),
        "pairings": pair_many(store=store, requests=data.pairings, allow_off_duty=True,
                              progress=tick("pairings")).counts(),
        "ledger": log_entries(store=store, entries=data.ledger, progress=tick("ledger")).counts(),
    }
