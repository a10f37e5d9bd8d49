"""Synthetic, invented data with the shape of a real county, city or province (seeded: same seed, same data).

The province preset is calibrated on the Gansu 2023 figures of the domain guide (``PROVINCE_TARGETS``);
the smaller presets are the same society at a smaller population, so every rate is kept per household:

* ~700k households with ~854k certified disabled persons (~1.22 per household);
* ~37% of them priority households (三类对象, the contract's definition), ~60% of those paired
  one-to-one with one of ~100k cadres (limit 3, some 5; ~5% no longer 在岗), plus ended pairings
  kept as history (a cadre transferred, a household re-paired or out of hardship);
* ~2.9k social organisations holding ~4.6k auxiliary pairings (some ended);
* one year of 帮扶记录 up to ``as_of`` at the report's yearly rates: contacts, visits, policies,
  practical help, problems reported (反映困难, each with a number) and solved (解决困难, some closing a
  reported number), cadre aid (资助) and the organisations' donations (捐款捐物) and volunteering
  (志愿服务) totals;
* the departments' lists (部门名单) with a realistic share of mismatches for the comparison reports;
* services at the provincial reports' proportions: about 60% of disabled persons with an assessed
  rehabilitation need and ~6% with an assistive-device need (besides the registry's 需求 column),
  each county's few designated institutions (定点机构, a few hundred in a province) offering them
  over the county or one township (so some villages are service deserts), deliveries that bring
  the rehabilitation and device rates near 95%, and referrals of needs not yet served. Services
  draw from a random generator of their own, so the other records stay as they were.

Every name, ID number and code is generated and valid under the identifier rules; none is real.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

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
    Relation,
    ReferralReason,
    ReferralStatus,
    RiskFactor,
    ServiceCategory,
    ServiceDept,
    ServiceMode,
    ServiceUnit,
    UnitLevel,
)
from graph_schema.household.models import Household, Person
from graph_schema.ledger.models import LedgerEntry
from graph_schema.listing.models import Listing
from graph_schema.org.models import Org
from graph_schema.pairing.models import AuxPairRequest, PairRequest
from graph_schema.identifiers import region_prefix
from graph_schema.region.models import Region
from graph_schema.service import models as service

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文玉兰红梅海燕小东军安庆康志宏"
PLACE_FIRST = "金河西平安永临定庆天武张白陇宁清康和兴泉丰华云红"
PLACE_SECOND = "川原阳远宁水山台峪昌城丰谷源泽坪岭泉"
TOWNSHIP_SUFFIX = ("镇", "乡")
VILLAGE_WORDS = "赵家沟 十字 南山 北坡 东川 西湾 杨庄 李堡 王岘 上河 下寨 新庄 老庄 中坪 马莲 柳树 红崖 石门".split()
#: Every name a region of each level can take, in the order a repeated draw moves on through them.
PLACE_NAMES = {suffix: [f"{a}{b}{suffix}" for a in PLACE_FIRST for b in PLACE_SECOND] for suffix in "市区县"}
TOWNSHIP_NAMES = [f"{s}家{t}" for s in SURNAMES for t in TOWNSHIP_SUFFIX]
VILLAGE_NAMES = [f"{w}村" for w in VILLAGE_WORDS]


def _unique(drawn: str, names: Sequence[str], taken: set[str]) -> str:
    """``drawn``, or when a sibling already has it, the next name of ``names`` no sibling has
    (cyclically); the name is added to ``taken``."""
    if drawn in taken:
        start = names.index(drawn)
        drawn = next(n for i in range(1, len(names) + 1) if (n := names[(start + i) % len(names)]) not in taken)
    taken.add(drawn)
    return drawn


@dataclass(frozen=True)
class Preset:
    cities: int
    counties_per_city: int
    townships_per_county: int
    villages_per_township: int
    households_per_village: int

    @property
    def villages(self) -> int:
        return self.cities * self.counties_per_city * self.townships_per_county * self.villages_per_township

    @property
    def households(self) -> int:
        """Expected households (each village varies around ``households_per_village``)."""
        return self.villages * self.households_per_village


PRESETS = {
    # one county (~1/80 of a province): 15 townships × 13 villages × 45 households ≈ 8.8k households
    "county": Preset(1, 1, 15, 13, 45),
    # one city (~1/14 of a province): 6 counties × 14 townships × 13 villages × 46 ≈ 50k households
    "city": Preset(1, 6, 14, 13, 46),
    # the whole province: 14 cities × 6 counties × 14 townships × 13 villages × 46 ≈ 703k households
    # (84 counties, 1,176 townships, 15,288 villages)
    "province": Preset(14, 6, 14, 13, 46),
    # a few villages, for tests and the quick demo
    "tiny": Preset(1, 1, 2, 3, 8),
}

#: The Gansu 2023 figures the province preset is calibrated on (money in fen). Smaller presets
#: get the same figures scaled by their number of households (see :func:`targets`).
PROVINCE_TARGETS: dict[str, int] = {
    "households": 700_000,
    "persons": 853_772,
    "priority": 263_000,
    "paired": 158_800,
    "cadres": 100_000,
    "orgs": 2_896,
    "aux_pairings": 4_639,  # active ones; ended ones come on top as history
    "volunteer_projects": 965,
    "donated_fen": 1_318_000_000,  # ¥13.18 million, organisations' 捐款捐物
    "aid_fen": 1_234_900_000,  # ¥12.349 million, cadres' 资助 including in-kind
    LedgerKind.CONTACT.value: 298_000,
    LedgerKind.VISIT.value: 235_000,
    LedgerKind.POLICY.value: 249_000,
    LedgerKind.SOLVE_PROBLEM.value: 31_000,
    LedgerKind.REPORT_PROBLEM.value: 8_588,
    LedgerKind.PRACTICAL_HELP.value: 40_000,
}


def targets(households: int) -> dict[str, float]:
    """The province figures scaled to ``households``: a county or a city is the same society,
    smaller, so every count is kept per household."""
    share = households / PROVINCE_TARGETS["households"]
    return {name: value * share for name, value in PROVINCE_TARGETS.items()}


@dataclass
class SynthData:
    as_of: dt.date
    regions: list[Region] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    cadres: list[Cadre] = field(default_factory=list)
    orgs: list[Org] = field(default_factory=list)
    pairings: list[PairRequest] = field(default_factory=list)  # one-to-one, active and ended
    ledger: list[LedgerEntry] = field(default_factory=list)
    aux_pairings: list[AuxPairRequest] = field(default_factory=list)  # organisation ↔ household
    listings: list[Listing] = field(default_factory=list)  # the departments' lists
    service_types: list[service.ServiceType] = field(default_factory=list)  # changes to the default catalogue
    offers: list[service.Offer] = field(default_factory=list)
    needs: list[service.Need] = field(default_factory=list)  # assessments (服务需求)
    deliveries: list[service.Delivery] = field(default_factory=list)
    referrals: list[service.Referral] = field(default_factory=list)  # in no contract file: synth.load writes them


# --- calibration --------------------------------------------------------------------------
# Disabled members per household: mean ≈ 1.22 (853,772 / 700,000); two or more make it a priority
# household (一户多残), so together with the grades below this sets the ~37% priority share.
MEMBER_COUNTS = ((1, 82.0), (2, 15.0), (3, 2.3), (4, 0.7))
CATEGORY_WEIGHTS = ((1, 8), (2, 10), (3, 3), (4, 40), (5, 12), (6, 12), (7, 15))
# 一级/二级 (重度) make a household priority too; their share is what keeps priority near 37%.
GRADE_WEIGHTS = ((1, 4.0), (2, 8.5), (3, 32.0), (4, 55.5))
MONITORING = ((MonitoringCategory.UNSTABLE, 0.035), (MonitoringCategory.MARGINAL, 0.06),
              (MonitoringCategory.SUDDEN_HARDSHIP, 0.07))  # cumulative: 7% of households are monitored
DIBAO, TEKUN, ELDERLY_CARER, FORMERLY_POOR = 0.20, 0.03, 0.04, 0.30
PAIRED_SHARE = 0.604  # of priority households
PREVIOUS_PAIRING = 0.10  # a paired household that had another cadre before
LEFT_BEHIND = 0.30  # an unpaired priority household whose cadre left (no longer 在岗)
OUT_OF_HARDSHIP = 0.03  # a non-priority household whose pairing ended
OFF_DUTY, TOWNSHIP_STATION = 0.05, 0.10
EXPIRED_CERT = 0.025
AUX_ENDED = 0.10  # ended auxiliary pairings, on top of the active ones
PROBLEM_CLOSED = 0.72  # share of reported problems closed by a later 解决困难 with the same number
AID_MEAN_FEN, DONATION_MEAN_FEN = 60_000, 200_000
MISSING_FROM_SUBSIDY = 0.05  # entitled but absent from the 民政 subsidy lists
UNKNOWN_LISTED = 0.004  # listed by a department, unknown to the disability registry
MONITORED_WITHOUT_CATEGORY = 0.015  # of 低保 persons: on the 监测对象 list, no 监测类别 in the registry

NOTES: dict[LedgerKind, tuple[str, ...]] = {
    LedgerKind.CONTACT: ("电话询问近况", "微信联系了解需求", "电话提醒按时复查", "节日电话问候", "电话了解康复情况"),
    LedgerKind.VISIT: ("入户了解生产生活情况", "入户核实家庭收入", "走访查看住房安全", "入户宣讲助残政策",
                       "入户查看康复训练情况"),
    LedgerKind.POLICY: ("协助申请困难残疾人生活补贴", "协助办理重度残疾人护理补贴", "协助办理医保代缴",
                        "协助申请临时救助", "落实低保政策", "协助办理残疾人证换证", "落实养老保险代缴"),
    LedgerKind.SOLVE_PROBLEM: ("协调解决饮水困难", "联系医院安排就医", "协助申请辅助器具", "协调修缮住房漏雨",
                               "协调解决出行困难"),
    LedgerKind.PRACTICAL_HELP: ("代购生活用品", "代办社保认证", "帮助销售农产品", "协助办理证件", "帮助春耕播种"),
    LedgerKind.AID: ("发放慰问金", "送米面油", "资助医疗费用", "送冬季取暖煤", "资助子女上学"),
    LedgerKind.DONATION: ("捐赠轮椅", "捐赠米面油", "捐款助学", "捐赠冬衣", "捐赠康复器材"),
}
# 反映困难 and the 解决困难 that closes it
PROBLEMS = (("轮椅损坏，需要更换", "协调县残联更换轮椅"), ("住房漏雨，需要维修", "协调乡镇维修住房"),
            ("子女上学交通困难", "协调学校安排接送"), ("医疗费用负担重", "协助申请医疗救助"),
            ("冬季取暖困难", "协调发放取暖煤"), ("需要康复训练", "联系康复机构上门服务"))
VOLUNTEER_ACTIVITIES = ("助残理发", "康复陪护", "家政清洁", "心理疏导", "助残读书", "义诊")
END_REASONS_LEFT = ("干部调动", "干部退休")  # the cadre is no longer 在岗
END_REASONS_ROTATED = ("工作调整", "帮扶轮换")
END_REASONS_OUT = ("家庭情况好转，退出结对",)
AUX_END_REASONS = ("帮扶项目结束", "组织服务调整")
UNITS: tuple[tuple[UnitLevel, str, float], ...] = (
    (UnitLevel.PROVINCE, "省残联", 1), (UnitLevel.PROVINCE, "省民政厅", 1),
    (UnitLevel.CITY, "市残联", 4), (UnitLevel.CITY, "市人社局", 4),
    (UnitLevel.COUNTY, "县残联", 10), (UnitLevel.COUNTY, "县民政局", 8), (UnitLevel.COUNTY, "县医保局", 6),
    (UnitLevel.COUNTY, "县乡村振兴局", 6),
    (UnitLevel.TOWNSHIP, "乡镇政府", 25), (UnitLevel.TOWNSHIP, "乡镇卫生院", 10),
    (UnitLevel.VILLAGE, "村委会", 25),
)
ROLES = ((CadreRole.FIRST_SECRETARY, 10), (CadreRole.WORK_TEAM, 30), (CadreRole.LIAISON, 15),
         (CadreRole.PARTY_CADRE, 40), (CadreRole.OTHER, 5))
ORG_TYPES: tuple[tuple[OrgType, str, tuple[str, ...], float], ...] = (
    # type, the USCC's registration-authority and kind digits, name endings, weight
    (OrgType.SOCIAL_GROUP, "51", ("助残志愿者协会", "残疾人互助协会", "慈善协会"), 30),
    (OrgType.PRIVATE_NON_ENTERPRISE, "52", ("公益服务中心", "康复服务中心", "社会工作服务中心"), 40),
    (OrgType.FOUNDATION, "53", ("慈善基金会", "助残基金会"), 5),
    (OrgType.VOLUNTEER, "52", ("志愿服务队", "志愿者服务站"), 15),
    (OrgType.ENTERPRISE, "91", ("农业科技有限公司", "商贸有限公司"), 10),
)
ORG_WORDS = ("爱心", "阳光", "春晖", "同心", "善行", "温暖", "共享")
NEEDS = tuple(Need)
OTHER_RISKS = (RiskFactor.ILLNESS, RiskFactor.NO_LABOUR, RiskFactor.NO_SKILLS, RiskFactor.DISASTER,
               RiskFactor.SCHOOLING, RiskFactor.ACCIDENT)
ABILITIES = (LabourAbility.FULL, LabourAbility.PARTIAL, LabourAbility.NONE, LabourAbility.NONE)
CERT_SUFFIX = {(c, g): f"{int(c)}{int(g)}" for c in DisabilityCategory for g in DisabilityGrade}
MODES = (ServiceMode.DONATION, ServiceMode.VOLUNTEERING, ServiceMode.AUX_PAIRING)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _maker(cls: type) -> Callable[[dict[str, Any]], Any]:
    """A constructor that skips validation: the generator builds millions of values that are valid
    by construction, and pydantic's validation (or ``model_construct``) would spend most of the
    time budget re-checking them. The result is the same frozen model (equality, ``model_dump``,
    ``to_row``, ``model_copy`` behave alike); the tests run every record of the small presets back
    through the models' validation. ``values`` must name every field, in the model's order."""
    fields_set = set(cls.model_fields)  # shared: frozen models never change it in place
    new, put = object.__new__, object.__setattr__

    def make(values: dict[str, Any]) -> Any:
        obj = new(cls)
        put(obj, "__dict__", values)
        put(obj, "__pydantic_fields_set__", fields_set)
        put(obj, "__pydantic_extra__", None)
        put(obj, "__pydantic_private__", None)
        return obj

    return make


def _check_shapes(data: SynthData) -> None:
    """Records built without validation must still have exactly their model's fields: checked on
    the first record of each kind, so a field added to a model fails here, not in a later dump."""
    for records in (data.regions, data.households, data.persons, data.cadres, data.orgs, data.pairings,
                    data.aux_pairings, data.ledger, data.listings, data.offers, data.needs, data.deliveries,
                    data.referrals):
        if records:
            first = records[0]
            assert list(first.__dict__) == list(type(first).model_fields), type(first).__name__


_region = _maker(Region)
_household = _maker(Household)
_person = _maker(Person)
_cadre = _maker(Cadre)
_org = _maker(Org)
_pair = _maker(PairRequest)
_aux = _maker(AuxPairRequest)
_entry = _maker(LedgerEntry)
_listing = _maker(Listing)
_offer = _maker(service.Offer)
_need = _maker(service.Need)
_delivery = _maker(service.Delivery)
_referral = _maker(service.Referral)


class _Pick:
    """Weighted choice with one ``random()`` call (``random.choices`` re-sums the weights each time)."""

    def __init__(self, rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> None:
        self.rng = rng
        self.values = [v for v, _ in pairs]
        self.cumulative = list(accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def __call__(self) -> Any:
        return self.values[bisect(self.cumulative, self.rng.random() * self.total)]


def _stochastic_round(rng: random.Random, x: float) -> int:
    """``x`` rounded up with probability equal to its fraction: totals stay right in expectation
    even when every village or pairing gets only a fraction of a record."""
    whole = int(x)
    return whole + (rng.random() < x - whole)


class _Ids:
    """Unique, valid ID numbers for people born in a county.

    The check character is computed from precomputed partial sums (county part, birth-date part)
    because ~1.6 million numbers are drawn for a province."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.county_sums: dict[str, int] = {}
        first, last = dt.date(1935, 1, 1), dt.date(2018, 12, 31)
        self.births = [f"{first + dt.timedelta(days=i):%Y%m%d}" for i in range((last - first).days + 1)]
        self.birth_sums = [sum(int(c) * w for c, w in zip(b, _ID_WEIGHTS[6:14])) for b in self.births]
        self.year_start = {int(b[:4]): i for i, b in reversed(list(enumerate(self.births)))}

    def new(self, county6: str, born_from: int = 1940, born_to: int = 2015) -> str:
        rng = self.rng
        lo, hi = self.year_start[born_from], self.year_start[born_to + 1] if born_to + 1 in self.year_start \
            else len(self.births)
        head = self.county_sums.get(county6)
        if head is None:
            head = self.county_sums[county6] = sum(int(c) * w for c, w in zip(county6, _ID_WEIGHTS))
        while True:
            b = lo + int(rng.random() * (hi - lo))
            seq = 1 + int(rng.random() * 999)
            s = f"{seq:03d}"
            total = head + self.birth_sums[b] + int(s[0]) * 8 + int(s[1]) * 4 + int(s[2]) * 2
            number = f"{county6}{self.births[b]}{s}{_ID_CHECK[total % 11]}"
            if number not in self.used:
                self.used.add(number)
                return number


def _uscc(rng: random.Random, prefix2: str, county6: str) -> str:
    first17 = prefix2 + county6 + "".join(_USCC_ALPHABET[int(rng.random() * 31)] for _ in range(9))
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS))
    return first17 + _USCC_ALPHABET[(31 - total % 31) % 31]


def _code12(prefix: str) -> str:
    return prefix.ljust(12, "0")


def generate(preset: str | Preset = "county", *, seed: int = 1, as_of: dt.date = dt.date(2024, 12, 31),
             households: int | None = None) -> SynthData:
    """Invented data for ``preset``; ``households`` caps the number of households (benchmarks)."""
    p = PRESETS[preset] if isinstance(preset, str) else preset
    # The cyclic garbage collector would rescan the millions of new, acyclic records again and
    # again (it made the province preset ~40% slower); nothing created here forms a cycle.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Generator(p, seed, as_of, households).run()
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Village:
    code: str
    township: str
    households: list[Household] = field(default_factory=list)


class _Generator:
    def __init__(self, preset: Preset, seed: int, as_of: dt.date, cap: int | None) -> None:
        self.p, self.as_of, self.cap, self.seed = preset, as_of, cap, seed
        self.rng = rng = random.Random(seed)
        self.ids = _Ids(rng)
        self.data = SynthData(as_of=as_of)
        self.members: list[list[Person]] = []  # parallel to data.households
        self.priority: list[bool] = []  # parallel to data.households
        self.by_county: dict[str, list[int]] = {}  # county6 → indexes into data.households
        # one-to-one pairings as spans of the ledger year: (household_no, cadre_no, first day, last day)
        self.spans: list[tuple[str, str, int, int]] = []
        self.window_start = as_of - dt.timedelta(days=364)
        self.days = [self.window_start + dt.timedelta(days=i) for i in range(365)]
        self.expired = [as_of - dt.timedelta(days=i) for i in range(1, 701)]  # certificate expiry dates
        self.valid = [as_of + dt.timedelta(days=i) for i in range(30, 3651)]
        self.pick_members = _Pick(rng, MEMBER_COUNTS)
        self.pick_category = _Pick(rng, [(DisabilityCategory(c), w) for c, w in CATEGORY_WEIGHTS])
        self.pick_grade = _Pick(rng, [(DisabilityGrade(g), w) for g, w in GRADE_WEIGHTS])
        self.pick_unit = _Pick(rng, [((level, unit), w) for level, unit, w in UNITS])
        self.pick_role = _Pick(rng, ROLES)
        self.pick_org_type = _Pick(rng, [((t, code, ends), w) for t, code, ends, w in ORG_TYPES])
        self.pick_limit = _Pick(rng, ((3, 75), (5, 20), (2, 5)))
        self.pick_size = _Pick(rng, ((1, 12), (2, 22), (3, 25), (4, 22), (5, 12), (6, 7)))

    # --- helpers ---------------------------------------------------------------------------
    def name(self) -> str:
        rng = self.rng
        given = GIVEN[int(rng.random() * len(GIVEN))]
        if rng.random() < 0.67:
            given += GIVEN[int(rng.random() * len(GIVEN))]
        return SURNAMES[int(rng.random() * len(SURNAMES))] + given

    def phone(self) -> str:
        return f"1{'3456789'[int(self.rng.random() * 7)]}{int(self.rng.random() * 1e9):09d}"

    def one(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def day_before(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> SynthData:
        villages = self.regions()
        per_village = self.p.households_per_village
        if self.cap is not None:
            per_village = max(1, -(-self.cap // len(villages)))
        spread = per_village // 3 if self.cap is None else 0
        cadre_rate = PROVINCE_TARGETS["cadres"] / PROVINCE_TARGETS["households"]
        for village in villages:
            count = per_village + (self.rng.randint(-spread, spread) if spread else 0)
            for k in range(1, count + 1):
                if self.cap is not None and len(self.data.households) >= self.cap:
                    break
                self.household(village, k)
            if village.households:
                cadres = self.cadres(village, max(1, _stochastic_round(self.rng, len(village.households) * cadre_rate)))
                self.pairings(village, cadres)
        self.orgs_and_aux()
        self.ledger()
        self.listings()
        _Services(self).run()
        _check_shapes(self.data)
        return self.data

    def regions(self) -> list[_Village]:
        """The regions, no two children of one region alike (a county's townships, a township's
        villages …), as real ones are: a name drawn twice gives way to the next free one of its
        list, so the draws, and all the data after them, stay what they were."""
        p, out = self.p, []
        add = self.data.regions.append
        add(_region({"code": "620000000000", "name": "甘肃省"}))
        cities: set[str] = set()
        for c in range(1, p.cities + 1):
            city = f"62{c:02d}"
            name = _unique(f"{self.one(PLACE_FIRST)}{self.one(PLACE_SECOND)}市", PLACE_NAMES["市"], cities)
            add(_region({"code": _code12(city), "name": name}))
            counties: set[str] = set()
            for k in range(1, p.counties_per_city + 1):
                county = f"{city}{20 + k:02d}"
                suffix = "区" if k == 1 else "县"
                name = _unique(f"{self.one(PLACE_FIRST)}{self.one(PLACE_SECOND)}{suffix}", PLACE_NAMES[suffix],
                               counties)
                add(_region({"code": _code12(county), "name": name}))
                townships: set[str] = set()
                for t in range(1, p.townships_per_county + 1):
                    township = f"{county}{100 + t:03d}"
                    name = _unique(f"{self.one(SURNAMES)}家{self.one(TOWNSHIP_SUFFIX)}", TOWNSHIP_NAMES, townships)
                    add(_region({"code": _code12(township), "name": name}))
                    villages: set[str] = set()
                    for v in range(1, p.villages_per_township + 1):
                        village = f"{township}{200 + v:03d}"
                        add(_region({"code": village,
                                     "name": _unique(f"{self.one(VILLAGE_WORDS)}村", VILLAGE_NAMES, villages)}))
                        out.append(_Village(village, _code12(township)))
        return out

    def household(self, village: _Village, k: int) -> None:
        # the hottest code of the generator (~1.5M calls for a province): plain random() arithmetic
        # and precomputed dates instead of randint/timedelta
        random, ids = self.rng.random, self.ids
        county6 = village.code[:6]
        count = self.pick_members()
        size = max(count, self.pick_size())
        roll = random()
        monitoring = None
        if roll < MONITORING[-1][1]:
            monitoring = next(m for m, edge in MONITORING if roll < edge)
        tekun = random() < TEKUN
        dibao = not tekun and random() < DIBAO  # 特困供养 and 低保 exclude each other
        income = (20 + int(random() * 40) if dibao or tekun else 40 + int(random() * 110)) * 10_000
        risks = [RiskFactor.DISABILITY]
        if random() < 0.5:
            risks.append(OTHER_RISKS[int(random() * len(OTHER_RISKS))])
        head_name, head_id = self.name(), ids.new(county6, 1940, 1995)
        household_no = f"H{village.code[2:]}{k:03d}"
        h = _household({
            "household_no": household_no, "head_name": head_name, "head_id": head_id,
            "region_code": village.code, "address": f"{1 + int(random() * 8)}组{1 + int(random() * 60)}号",
            "size": size, "labour": int(random() * (size - count + 1)), "income_fen": income,
            "monitoring": monitoring, "formerly_poor": random() < FORMERLY_POOR, "dibao": dibao, "tekun": tekun,
            "elderly_carer": random() < ELDERLY_CARER, "risk_factors": risks,
            "phone": self.phone() if random() < 0.9 else None,
        })
        members = []
        for i in range(count):
            is_head = i == 0 and random() < 0.6
            number = head_id if is_head else ids.new(county6, 1935, 2018)
            category, grade = self.pick_category(), self.pick_grade()
            expiry = (self.expired[int(random() * len(self.expired))] if random() < EXPIRED_CERT
                      else self.valid[int(random() * len(self.valid))])
            needs = [] if random() < 0.2 else [NEEDS[int(random() * len(NEEDS))]]
            if needs and random() < 0.3:
                extra = NEEDS[int(random() * len(NEEDS))]
                if extra is not needs[0]:
                    needs.append(extra)
            members.append(_person({
                "id_number": number, "name": head_name if is_head else self.name(),
                "cert_no": number + CERT_SUFFIX[category, grade], "household_no": household_no,
                "relation": Relation.SELF if is_head else _relation(int(number[6:10]) - int(head_id[6:10]), random()),
                "category": category, "grade": grade, "cert_expiry": expiry,
                "labour_ability": ABILITIES[int(random() * len(ABILITIES))], "needs": needs,
            }))
        index = len(self.data.households)
        self.data.households.append(h)
        self.data.persons.extend(members)
        self.members.append(members)
        self.priority.append(_priority(h, members))
        self.by_county.setdefault(county6, []).append(index)
        village.households.append(h)

    def cadres(self, village: _Village, count: int) -> list[Cadre]:
        rng, out = self.rng, []
        for _ in range(count):
            level, unit = self.pick_unit()
            no = f"GB{len(self.data.cadres) + 1:06d}"
            cadre = _cadre({
                "cadre_no": no, "name": self.name(), "phone": self.phone(), "unit": unit, "unit_level": level,
                "role": self.pick_role(),
                "station_code": village.township if rng.random() < TOWNSHIP_STATION else village.code,
                "pair_limit": self.pick_limit(), "on_duty": rng.random() >= OFF_DUTY,
            })
            self.data.cadres.append(cadre)
            out.append(cadre)
        return out

    def pairings(self, village: _Village, cadres: list[Cadre]) -> None:
        """Active pairings within each cadre's limit (on-duty cadres only), and ended ones as history:
        the previous cadre of a re-paired household (ended before the new one started), the cadre
        who left an unpaired household behind, a household out of hardship."""
        rng = self.rng
        room = [[c.cadre_no, c.pair_limit] for c in cadres if c.on_duty]
        off_duty = [c.cadre_no for c in cadres if not c.on_duty]
        first = len(self.data.households) - len(village.households)
        for offset, h in enumerate(village.households):
            index = first + offset
            if not self.priority[index]:
                if rng.random() < OUT_OF_HARDSHIP:
                    start = self.day_before(400, 1100)
                    end = start + dt.timedelta(days=rng.randint(90, (self.as_of - start).days - 1))
                    self.pair(h.household_no, self.one(cadres).cadre_no, start, end, self.one(END_REASONS_OUT))
                continue
            if rng.random() < PAIRED_SHARE and room:
                slot = room[int(rng.random() * len(room))]
                slot[1] -= 1
                if not slot[1]:
                    room.remove(slot)
                start = self.day_before(20, 900)
                if len(cadres) > 1 and rng.random() < PREVIOUS_PAIRING:
                    before = self.one([c for c in cadres if c.cadre_no != slot[0]])
                    end = start - dt.timedelta(days=rng.randint(1, 60))
                    reasons = END_REASONS_ROTATED if before.on_duty else END_REASONS_LEFT
                    self.pair(h.household_no, before.cadre_no, end - dt.timedelta(days=rng.randint(90, 700)), end,
                              self.one(reasons))
                self.pair(h.household_no, slot[0], start)
            elif off_duty and rng.random() < LEFT_BEHIND:
                start = self.day_before(300, 1100)
                end = start + dt.timedelta(days=rng.randint(60, (self.as_of - start).days - 1))
                self.pair(h.household_no, self.one(off_duty), start, end, self.one(END_REASONS_LEFT))

    def pair(self, household_no: str, cadre_no: str, start: dt.date, end: dt.date | None = None,
             reason: str | None = None) -> None:
        self.data.pairings.append(_pair({
            "household_no": household_no, "cadre_no": cadre_no, "started_on": start, "ended_on": end,
            "end_reason": reason, "source": PairingSource.IMPORT, "proposal_id": None}))
        lo = max(0, (start - self.window_start).days)
        hi = 364 if end is None else (end - self.window_start).days
        if hi >= lo:
            self.spans.append((household_no, cadre_no, lo, hi))

    # --- organisations -----------------------------------------------------------------------
    def orgs_and_aux(self) -> None:
        rng, data = self.rng, self.data
        goal = targets(len(data.households))
        counties = sorted(self.by_county)
        wanted = [_stochastic_round(rng, goal["orgs"] * len(self.by_county[c]) / max(1, len(data.households)))
                  for c in counties]
        if counties and sum(wanted) < 3:  # a tiny preset still gets one organisation of each kind
            wanted[0] += 3 - sum(wanted)
        used: set[str] = set()
        cities: dict[str, list[int]] = {}  # city4 → its households, built once per city
        regions: list[list[int]] = []  # households each organisation serves, parallel to data.orgs
        for county, n in zip(counties, wanted):
            for _ in range(n):
                org_type, prefix2, endings = self.pick_org_type()
                citywide = rng.random() < 0.15
                service = _code12(county[:4]) if citywide else _code12(county)
                code = _uscc(rng, prefix2, county)
                while code in used:
                    code = _uscc(rng, prefix2, county)
                used.add(code)
                i = len(data.orgs)
                modes = [m for j, m in enumerate(MODES) if j == i % 3 or rng.random() < 0.35]
                data.orgs.append(_org({
                    "uscc": code, "name": f"{self.one(PLACE_FIRST)}{self.one(PLACE_SECOND)}{self.one(ORG_WORDS)}"
                                          f"{self.one(endings)}",
                    "org_type": org_type, "service_region_code": service, "service_modes": modes,
                    "contact": self.name(), "phone": self.phone(),
                }))
                if citywide and county[:4] not in cities:
                    cities[county[:4]] = [x for c in counties if c.startswith(county[:4]) for x in self.by_county[c]]
                regions.append(cities[county[:4]] if citywide else self.by_county[county])
        self.org_regions = regions
        self.aux_households: list[list[int]] = [[] for _ in data.orgs]
        helpers = [i for i, o in enumerate(data.orgs) if ServiceMode.AUX_PAIRING in o.service_modes]
        if not helpers:
            return
        per_org = goal["aux_pairings"] / len(helpers)
        priority_in: dict[str, list[int]] = {}  # service region → its priority households
        for i in helpers:
            homes, service = regions[i], data.orgs[i].service_region_code
            if service not in priority_in:
                priority_in[service] = [x for x in homes if self.priority[x]] or homes
            priority = priority_in[service]
            active = max(1, _stochastic_round(rng, per_org))  # an organisation offering it pairs with someone
            ended = _stochastic_round(rng, active * AUX_ENDED)
            chosen: set[int] = set()
            for n in range(min(active + ended, len(priority))):
                x = self.one(priority)
                if x in chosen:
                    continue
                chosen.add(x)
                end = reason = None
                if n >= active:
                    start = self.day_before(90, 1000)
                    end = start + dt.timedelta(days=rng.randint(30, (self.as_of - start).days - 1))
                    reason = self.one(AUX_END_REASONS)
                else:
                    start = self.day_before(30, 1000)
                    self.aux_households[i].append(x)
                data.aux_pairings.append(_aux({
                    "household_no": data.households[x].household_no, "uscc": data.orgs[i].uscc, "started_on": start,
                    "ended_on": end, "end_reason": reason, "source": PairingSource.IMPORT}))

    # --- the ledger --------------------------------------------------------------------------
    def ledger(self) -> None:
        """A year of entries up to ``as_of``, spread over the days each cadre was paired."""
        rng, data, days = self.rng, self.data, self.days
        goal = targets(len(data.households))
        total_days = sum(hi - lo + 1 for _, _, lo, hi in self.spans) or 1
        reported = goal[LedgerKind.REPORT_PROBLEM.value]
        plain = {
            LedgerKind.CONTACT: goal[LedgerKind.CONTACT.value], LedgerKind.VISIT: goal[LedgerKind.VISIT.value],
            LedgerKind.POLICY: goal[LedgerKind.POLICY.value],
            LedgerKind.PRACTICAL_HELP: goal[LedgerKind.PRACTICAL_HELP.value],
            # 解决困难 without a number: the report's count less the closings of reported problems
            LedgerKind.SOLVE_PROBLEM: max(0.0, goal[LedgerKind.SOLVE_PROBLEM.value] - reported * PROBLEM_CLOSED),
            LedgerKind.AID: goal["aid_fen"] / AID_MEAN_FEN,
        }
        rates = [(kind, count / total_days, NOTES[kind]) for kind, count in plain.items()]
        report_rate = reported / total_days
        add = data.ledger.append
        problem = 0
        for household_no, cadre_no, lo, hi in self.spans:
            length = hi - lo + 1
            seen: set[tuple] = set()
            for kind, rate, notes in rates:
                for _ in range(_stochastic_round(rng, rate * length)):
                    day = lo + int(rng.random() * length)
                    note = notes[int(rng.random() * len(notes))]
                    amount = in_kind = None
                    if kind is LedgerKind.AID:
                        amount, in_kind = self.money(20, 101)
                    key = (day, kind, note, amount, in_kind)
                    if key in seen:  # the same entry twice would repeat the file's natural key
                        continue
                    seen.add(key)
                    add(_entry({"entry_date": days[day], "household_no": household_no, "cadre_no": cadre_no,
                                "uscc": None, "kind": kind, "amount_fen": amount, "in_kind_fen": in_kind,
                                "note": note, "problem_no": None, "volunteers": None, "minutes": None,
                                "record_no": None}))
            for _ in range(_stochastic_round(rng, report_rate * length)):
                problem += 1
                number = f"P{problem:07d}"
                day = lo + int(rng.random() * length)
                opened, closed = PROBLEMS[int(rng.random() * len(PROBLEMS))]
                add(_entry({"entry_date": days[day], "household_no": household_no, "cadre_no": cadre_no,
                            "uscc": None, "kind": LedgerKind.REPORT_PROBLEM, "amount_fen": None,
                            "in_kind_fen": None, "note": opened, "problem_no": number, "volunteers": None,
                            "minutes": None, "record_no": None}))
                if rng.random() < PROBLEM_CLOSED:
                    later = day + 1 + int(rng.random() * 45)  # strictly later: a file sorted by date opens first
                    if later <= hi:
                        add(_entry({"entry_date": days[later], "household_no": household_no, "cadre_no": cadre_no,
                                    "uscc": None, "kind": LedgerKind.SOLVE_PROBLEM, "amount_fen": None,
                                    "in_kind_fen": None, "note": closed, "problem_no": number, "volunteers": None,
                                    "minutes": None, "record_no": None}))
        self.org_entries(goal)

    def money(self, low: int, high: int) -> tuple[int | None, int | None]:
        """A value of ¥(10·low)…¥(10·high) in steps of ¥10 (mean ¥5·(low+high)), given as money,
        in kind, or split between the two."""
        rng = self.rng
        value = (low + int(rng.random() * (high - low))) * 1000
        roll = rng.random()
        if roll < 0.5:
            return value, None
        if roll < 0.8:
            return None, value
        cash = (value // 2 // 1000) * 1000
        return cash, value - cash

    def org_entries(self, goal: dict[str, float]) -> None:
        """Donations and volunteering, only by organisations offering that 服务方式, for households in
        their service region (donations favour the households they are paired with)."""
        rng, data, days = self.rng, self.data, self.days
        seen: set[tuple] = set()

        def add(org: int, x: int, day: int, kind: LedgerKind, note: str, amount=None, in_kind=None,
                volunteers=None, minutes=None) -> None:
            key = (org, x, day, kind, note, amount, in_kind)
            if key in seen:
                return
            seen.add(key)
            data.ledger.append(_entry({
                "entry_date": days[day], "household_no": data.households[x].household_no, "cadre_no": None,
                "uscc": data.orgs[org].uscc, "kind": kind, "amount_fen": amount, "in_kind_fen": in_kind,
                "note": note, "problem_no": None, "volunteers": volunteers, "minutes": minutes, "record_no": None}))

        donors = [i for i, o in enumerate(data.orgs) if ServiceMode.DONATION in o.service_modes and self.org_regions[i]]
        volunteers = [i for i, o in enumerate(data.orgs)
                      if ServiceMode.VOLUNTEERING in o.service_modes and self.org_regions[i]]
        # a low ¥ step range keeps the mean at DONATION_MEAN_FEN: (100 + 301) / 2 × ¥10 ≈ ¥2,000
        donations = max(1, _stochastic_round(rng, goal["donated_fen"] / DONATION_MEAN_FEN)) if donors else 0
        for _ in range(donations):
            org = self.one(donors)
            paired = self.aux_households[org]
            x = self.one(paired) if paired and rng.random() < 0.5 else self.one(self.org_regions[org])
            amount, in_kind = self.money(100, 301)
            add(org, x, int(rng.random() * 365), LedgerKind.DONATION, self.one(NOTES[LedgerKind.DONATION]),
                amount, in_kind)
        projects = max(1, _stochastic_round(rng, goal["volunteer_projects"])) if volunteers else 0
        for project in range(1, projects + 1):
            org = self.one(volunteers)
            day = int(rng.random() * 365)
            note = f"{self.one(VOLUNTEER_ACTIVITIES)}（志愿服务项目{project:04d}）"
            # a project's team and hours follow from its number: the draws of the data stay as they were
            team, minutes = 2 + project % 5, 60 + 30 * (project % 5)
            for _ in range(rng.randint(1, 5)):
                add(org, self.one(self.org_regions[org]), day, LedgerKind.VOLUNTEER, note, volunteers=team,
                    minutes=minutes)

    # --- the departments' lists ----------------------------------------------------------------
    def listings(self) -> None:
        """Who each department lists, from the registry's facts, with the mismatches comparison
        must find: entitled persons missing from a subsidy list, listed persons unknown to the
        registry, listed persons whose certificate has expired (about 2.5% of all certificates),
        monitoring-list persons whose household has no 监测类别."""
        rng, data = self.rng, self.data
        months = _months(dt.date(2018, 1, 1), self.as_of)
        add = data.listings.append
        civil, medical, hr, rural = (Department.CIVIL_AFFAIRS, Department.MEDICAL_INSURANCE,
                                     Department.HUMAN_RESOURCES, Department.RURAL_REVITALISATION)
        last_working_birth = f"{self.as_of.year - 16}{self.as_of:%m%d}"
        first_working_birth = f"{self.as_of.year - 60}{self.as_of:%m%d}"

        def listed(dept: Department, item: str, id_number: str, name: str, amount: int | None) -> None:
            add(_listing({"dept": dept, "item": item, "id_number": id_number, "name": name,
                          "valid_from": months[int(rng.random() * len(months))], "valid_to": None,
                          "amount_fen": amount}))

        living = severe = 0
        for h, members in zip(data.households, self.members):
            for p in members:
                number, name = p.id_number, p.name
                if h.dibao:
                    listed(civil, "低保", number, name, rng.randrange(40, 71) * 1000)
                    if rng.random() >= MISSING_FROM_SUBSIDY:
                        listed(civil, "困难残疾人生活补贴", number, name, 9000)
                        living += 1
                if h.tekun:
                    listed(civil, "特困", number, name, rng.randrange(90, 121) * 1000)
                if p.grade <= 2 and rng.random() >= MISSING_FROM_SUBSIDY:
                    listed(civil, "重度残疾人护理补贴", number, name, 10_000 if p.grade == 1 else 9000)
                    severe += 1
                if h.dibao or h.tekun or h.monitoring:
                    listed(medical, "医保代缴", number, name, None)
                if (h.dibao or h.tekun or p.grade <= 2) and first_working_birth < number[6:14] <= last_working_birth:
                    listed(hr, "养老保险代缴", number, name, None)
                if h.monitoring or (h.dibao and rng.random() < MONITORED_WITHOUT_CATEGORY):
                    listed(rural, "监测对象", number, name, None)
        counties = sorted(self.by_county)
        if not counties:
            return
        for item, count, amount in (("困难残疾人生活补贴", living, 9000), ("重度残疾人护理补贴", severe, 9000)):
            for _ in range(max(1, round(count * UNKNOWN_LISTED))):
                listed(civil, item, self.ids.new(self.one(counties)), self.name(), amount)


# --- services -------------------------------------------------------------------------------
REHAB_NEED, DEVICE_NEED, ACCESS_NEED = 0.60, 0.06, 0.02  # assessed needs, of persons (access: of severe ones)
NEED_MET, NEED_DROPPED = 0.04, 0.01  # assessed needs a later assessment closes (已满足, 不再需要)
SERVED = {"康复": 0.975, "辅具": 0.975, "无障碍改造": 0.70, "托养": 0.60, "就业": 0.50, "培训": 0.60, "教育": 0.80}
OUTCOMES = ((DeliveryOutcome.DONE, 90.0), (DeliveryOutcome.ONGOING, 8.5), (DeliveryOutcome.NOT_DONE, 1.5))
INSTITUTIONS_PER_COUNTY = 3.5  # designated institutions (定点机构): ~300 in a province
TOWNSHIP_OFFER, ENDED_OFFER, UNLIMITED_OFFER = 0.30, 0.08, 0.20
REFERRED = 0.60  # of assessed needs not served: sent to a provider
REFERRAL_STATES = ((ReferralStatus.PENDING, 40.0), (ReferralStatus.ACCEPTED, 30.0), (ReferralStatus.REJECTED, 15.0),
                   (ReferralStatus.WITHDRAWN, 15.0))
#: the service each category's need is for: (default, for children 0–6, for a disability category)
SERVICE_OF = {"康复": "KF01", "辅具": "FJ01", "无障碍改造": "WZ01", "托养": "TY01", "就业": "JY01", "培训": "PX01",
              "教育": "JX01"}
DEPT_OF = {"就业": ServiceDept.HUMAN_RESOURCES, "培训": ServiceDept.HUMAN_RESOURCES, "教育": ServiceDept.EDUCATION,
           "无障碍改造": ServiceDept.HOUSING}
ITEMS = {"FJ01": ("轮椅", "助行器", "坐便椅"), "FJ02": ("助听器",), "FJ03": ("盲杖",)}
ASSESSORS = {NeedSource.PROFESSIONAL: ("县康复中心", "县医院康复科"), NeedSource.SURVEY: ("村残协专职委员",),
             NeedSource.VISIT: ("结对干部",)}
#: the catalogue's additions (服务目录.csv): home rehabilitation guidance, white canes for the blind
EXTRA_SERVICES = (
    service.ServiceType(code="KF04", name="居家康复指导", category=ServiceCategory.REHABILITATION,
                        unit=ServiceUnit.SESSION, time_limit=45, lead_dept=ServiceDept.DPF),
    service.ServiceType(code="FJ03", name="盲杖等视力辅具适配", category=ServiceCategory.ASSISTIVE_DEVICE,
                        unit=ServiceUnit.ITEM, time_limit=60, lead_dept=ServiceDept.DPF),
)
SOURCES = ((NeedSource.SURVEY, 60.0), (NeedSource.VISIT, 25.0), (NeedSource.PROFESSIONAL, 15.0))


class _Services:
    """Offers, assessed needs, deliveries and referrals for the generated society (see the module
    docstring), from a random generator of their own."""

    def __init__(self, g: _Generator) -> None:
        self.g, self.data, self.as_of = g, g.data, g.as_of
        self.rng = rng = random.Random(g.seed * 7919 + 104729)
        self.pick_outcome = _Pick(rng, OUTCOMES)
        self.pick_state = _Pick(rng, REFERRAL_STATES)
        self.pick_source = _Pick(rng, SOURCES)
        self.limits = {t.code: t.time_limit for t in (*service.DEFAULT_CATALOGUE, *EXTRA_SERVICES)}
        self.offers: dict[str, list[service.Offer]] = {}  # county6 → active offers there
        self.numbers = 0

    def day(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=low + int(self.rng.random() * (high - low + 1)))

    def run(self) -> None:
        self.data.service_types.extend(EXTRA_SERVICES)
        self.institutions()
        for h, members in zip(self.data.households, self.g.members):
            for p in members:
                self.person(h, p)

    def institutions(self) -> None:
        rng, data = self.rng, self.data
        by_county: dict[str, list[Org]] = {}
        for o in data.orgs:
            if len(o.service_region_code.rstrip("0")) <= 6:
                by_county.setdefault(o.service_region_code[:6], []).append(o)
        townships: dict[str, list[str]] = {}
        for r in data.regions:
            if r.code.endswith("000") and not r.code.endswith("000000"):
                townships.setdefault(r.code[:6], []).append(r.code)
        for county in sorted(self.g.by_county):
            orgs = by_county.get(county, [])
            chosen = [orgs[int(rng.random() * len(orgs))] for _ in range(_stochastic_round(rng, INSTITUTIONS_PER_COUNTY))
                      ] if orgs else []
            people = sum(len(self.g.members[i]) for i in self.g.by_county[county])
            for n, org in enumerate({o.uscc: o for o in chosen}.values()):
                codes = ["KF01"] + (["KF02", "KF03"] if n == 0 else []) + (["FJ01", "FJ02"] if n < 2 else [])
                region = (self.one(townships.get(county, [])) if rng.random() < TOWNSHIP_OFFER and townships.get(county)
                          else _code12(county))
                for code in codes:
                    ended = rng.random() < ENDED_OFFER
                    start = self.day(400, 1100)
                    offer = _offer({
                        "uscc": org.uscc, "service_code": code, "region_code": region,
                        "capacity": None if rng.random() < UNLIMITED_OFFER else max(10, 10 * round(people * 0.06)),
                        "modes": [OfferMode.CENTRE, OfferMode.HOME] if rng.random() < 0.6 else [OfferMode.CENTRE],
                        "valid_from": start, "valid_to": self.day(30, 300) if ended else None,
                        "designated_until": self.as_of + dt.timedelta(days=180 + int(rng.random() * 800))
                        if rng.random() < 0.85 else None,
                    })
                    data.offers.append(offer)
                    if not ended:
                        self.offers.setdefault(county, []).append(offer)

    def one(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def code_for(self, category: str, p: Person) -> str:
        if category == "康复":
            age = self.as_of.year - int(p.id_number[6:10])
            return "KF02" if age <= 6 else "KF03" if p.category is DisabilityCategory.MENTAL else "KF01"
        if category == "辅具":
            return {DisabilityCategory.HEARING: "FJ02", DisabilityCategory.VISUAL: "FJ03"}.get(p.category, "FJ01")
        return SERVICE_OF[category]

    def person(self, h: Household, p: Person) -> None:
        rng, add = self.rng, self.data.needs.append
        wanted: dict[str, dt.date | None] = {str(n.value): None for n in p.needs}  # category → confirmed on
        assessed = []
        if rng.random() < REHAB_NEED:
            assessed.append("康复")
        if p.category in (DisabilityCategory.VISUAL, DisabilityCategory.HEARING, DisabilityCategory.PHYSICAL,
                          DisabilityCategory.MULTIPLE) and rng.random() < DEVICE_NEED / 0.73:
            assessed.append("辅具")
        if p.grade <= 2 and rng.random() < ACCESS_NEED:
            assessed.append("无障碍改造")
        open_needs: dict[str, tuple] = {}  # category → (service, confirmed on, need id, the code the need names)
        for category in assessed:
            code = self.code_for(category, p)
            roll = rng.random()
            given_code, given_category = (code, None) if roll < 0.7 else (code, category) if roll < 0.9 else (None, category)
            source = self.pick_source()
            on = self.day(30, 540)
            need = _need({"id_number": p.id_number, "service_code": given_code,
                          "category": ServiceCategory(given_category) if given_category else None,
                          "assessed_on": on, "status": NeedStatus.CONFIRMED, "source": source,
                          "assessor": self.one(ASSESSORS[source]), "note": None})
            add(need)
            closing = rng.random()
            if closing < NEED_MET + NEED_DROPPED and (self.as_of - on).days > 60:
                later = on + dt.timedelta(days=30 + int(rng.random() * ((self.as_of - on).days - 30)))
                met = closing < NEED_MET
                add(_need({**need.__dict__, "assessed_on": later, "status": NeedStatus.MET if met
                           else NeedStatus.NOT_NEEDED, "note": None}))
                wanted.pop(category, None)
                if met:  # served, then found met
                    self.deliver(h, p, category, code, on, until=later)
                continue
            wanted[category] = on
            open_needs[category] = (code, on, need.need_id, given_code)
        for category, confirmed in wanted.items():
            served = rng.random() < SERVED.get(category, 0.5)
            code = open_needs[category][0] if category in open_needs else self.code_for(category, p)
            if served:
                self.deliver(h, p, category, code, confirmed)
            elif category in open_needs and rng.random() < REFERRED:
                self.refer(h, p, category, *open_needs[category])

    def provider(self, h: Household, code: str, category: str) -> tuple[str | None, ServiceDept | None]:
        for o in self.offers.get(h.region_code[:6], []):
            if o.service_code == code and h.region_code.startswith(region_prefix(o.region_code)):
                return o.uscc, None
        return None, DEPT_OF.get(category, ServiceDept.DPF)

    def deliver(self, h: Household, p: Person, category: str, code: str, confirmed: dt.date | None,
                until: dt.date | None = None) -> None:
        rng = self.rng
        year = dt.date(self.as_of.year, 1, 1)  # in the year the rates are reported for
        first = max(confirmed or year, year)
        span = ((until or self.as_of) - first).days
        if span < 0:
            return
        uscc, dept = self.provider(h, code, category)
        times = 1 + (rng.random() < 0.35) if category == "康复" else 1  # 人次 a little above 人
        seen: set[dt.date] = set()
        for _ in range(times):
            on = first + dt.timedelta(days=int(rng.random() * (span + 1)))
            if on in seen:
                continue
            seen.add(on)
            item, cost, subsidy, quantity = None, None, None, 1
            if category == "辅具":
                item = self.one(ITEMS.get(code, ("辅具",)))
                cost = (80 + int(rng.random() * 220)) * 1000
                subsidy = cost if rng.random() < 0.8 else cost // 2
            elif category == "康复":
                quantity = 1 + int(rng.random() * 12)
            self.numbers += 1
            numbered = rng.random() < 0.5
            self.data.deliveries.append(_delivery({
                "record_no": f"FW{self.numbers:08d}" if numbered else None, "id_number": p.id_number,
                "service_code": code, "delivered_on": on, "ended_on": None, "uscc": uscc, "dept": dept,
                "quantity": quantity, "item": item, "cost_fen": cost, "subsidy_fen": subsidy,
                "outcome": self.pick_outcome()}))

    def refer(self, h: Household, p: Person, category: str, code: str, confirmed: dt.date, need_id: str,
              named: str | None) -> None:
        rng = self.rng
        made = confirmed + dt.timedelta(days=5 + int(rng.random() * 36))
        if made > self.as_of:
            return
        uscc, dept = self.provider(h, code, category)
        state = self.pick_state()
        later = made + dt.timedelta(days=int(rng.random() * max(1, (self.as_of - made).days)))
        self.data.referrals.append(_referral({
            "referral_id": f"{int(rng.random() * 2**64):016x}{int(rng.random() * 2**64):016x}", "need_id": need_id,
            "id_number": p.id_number, "category": ServiceCategory(category), "service_code": named,
            "provider_uscc": uscc, "provider_dept": dept, "made_on": made, "made_by": "organiser",
            "due_on": made + dt.timedelta(days=self.limits.get(code, service.DEFAULT_TIME_LIMIT)), "status": state,
            "accepted_on": later if state is ReferralStatus.ACCEPTED else None,
            "closed_on": later if not state.open else None,
            "reason": self.one(list(ReferralReason)) if not state.open else None, "note": None, "delivery_id": None,
            "proposal_id": None}))


def _relation(years_younger: int, roll: float) -> Relation:
    """与户主关系 that fits the ages the two ID numbers give."""
    if years_younger <= -15:
        return Relation.PARENT
    if years_younger >= 40:
        return Relation.GRANDCHILD
    if years_younger >= 15:
        return Relation.CHILD
    return Relation.SPOUSE if roll < 0.7 else Relation.SIBLING if roll < 0.95 else Relation.OTHER


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def _priority(h: Household, members: list[Person]) -> bool:
    """The contract's priority household (see ``graph_schema.monitoring.risk``)."""
    return bool(h.monitoring or h.tekun or h.elderly_carer or len(members) >= 2
                or any(p.grade <= 2 for p in members))


def load(store, data: SynthData, progress=None) -> dict[str, dict[str, int]]:
    """Write ``data`` through the services' batch paths; returns counts per kind of record.

    ``progress(kind, n)`` is called as batches land, for a progress bar (households, persons,
    pairings and ledger, the kinds callers show bars for).
    """
    from graph_schema.cadre.service import upsert_cadres
    from graph_schema.household.service import upsert_households, upsert_persons
    from graph_schema.ledger.service import log_entries
    from graph_schema.listing.service import upsert_listings
    from graph_schema.org.service import upsert_orgs
    from graph_schema.pairing.service import aux_pair_many, pair_many
    from graph_schema.region.service import upsert_regions
    from graph_schema.service.catalogue import upsert_service_types
    from graph_schema.service.deliveries import record_deliveries
    from graph_schema.service.needs import record_needs
    from graph_schema.service.offers import upsert_offers

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
        "aux_pairings": aux_pair_many(store=store, requests=data.aux_pairings).counts(),
        "ledger": log_entries(store=store, entries=data.ledger, progress=tick("ledger")).counts(),
        "listings": upsert_listings(store=store, listings=data.listings).counts(),
        "service_types": upsert_service_types(store=store, types=data.service_types).counts(),
        "offers": upsert_offers(store=store, offers=data.offers).counts(),
        "needs": record_needs(store=store, needs=data.needs, progress=tick("needs")).counts(),
        "deliveries": record_deliveries(store=store, deliveries=data.deliveries, progress=tick("deliveries")).counts(),
        "referrals": load_referrals(store, data.referrals),  # after the deliveries, which would complete them
    }


def load_referrals(store, referrals: list[service.Referral]) -> dict[str, int]:
    """Write the generated referrals as they are (no contract file carries referrals, so an import
    of the generated files is followed by this)."""
    from graph_schema.service.referrals import write_referrals

    for start in range(0, len(referrals), 10_000):
        store.write(lambda tx, start=start: write_referrals(tx, referrals[start:start + 10_000]))
    return {"created": len(referrals)}
