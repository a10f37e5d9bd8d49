"""The object types: households, persons, pairings, ledger, problems, cadres, organisations and
regions, each built from the domain model by ``of`` (ID numbers masked there, once, for callers
that may not see them; households and persons noted for the audit trail there too).

Nested fields load through the request's DataLoaders, so a level of the query costs one store
call whatever the number of parents. Enumerations are the stored Chinese values as strings
(``入户走访``, ``脱贫不稳定户`` …), the same values as the import files and the REST API.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import Info

from api.auth import READERS
from api.graphql.context import Context
from api.graphql.loaders import CoverageKey
from api.graphql.scalars import Fen
from api.graphql.pagination import DEFAULT_FIRST, Connection, sliced
from api.graphql.reports import CoverageRow
from graph_schema.cadre import models as cadre_models
from graph_schema.enums import LedgerKind
from graph_schema.errors import InvalidValue
from graph_schema.household import models as household_models
from graph_schema.identifiers import region_parent
from graph_schema.ledger import models as ledger_models
from graph_schema.monitoring import risk
from graph_schema.org import models as org_models
from graph_schema.pairing import models as pairing_models
from graph_schema.region import models as region_models
from graph_schema.settings import get_settings


@strawberry.type(description="残疾人 / a certified disabled person")
class Person:
    id_number: str = strawberry.field(description="身份证号（非管理员与组织者打码）/ ID number, masked unless admin or organiser")
    name: str
    cert_no: str = strawberry.field(description="残疾人证号（同上打码）/ certificate number, masked alike")
    household_no: str
    relation: str | None
    category: int = strawberry.field(description="残疾类别 1视力 2听力 3言语 4肢体 5智力 6精神 7多重")
    grade: int = strawberry.field(description="残疾等级 1–4（一级最重）/ grade, 1 the most severe")
    cert_expiry: dt.date | None
    labour_ability: str | None
    needs: list[str]

    @classmethod
    def of(cls, p: household_models.Person, ctx: Context) -> Person:
        ctx.saw("person", (p.id_number,))
        return cls(id_number=ctx.shown_id(p.id_number), name=p.name, cert_no=ctx.shown_id(p.cert_no),
                   household_no=p.household_no, relation=p.relation, category=p.category, grade=p.grade,
                   cert_expiry=p.cert_expiry, labour_ability=p.labour_ability, needs=p.needs)

    @strawberry.field(description="所在家庭 / the person's household")
    async def household(self, info: Info[Context, None]) -> Household | None:
        found = await info.context.loaders.household_scoped.load(self.household_no)
        return Household.of(found, info.context) if found else None


@strawberry.type(description="风险评估 / the household's priority and risk score")
class Risk:
    priority: bool = strawberry.field(description="是否重点户 / whether a priority household")
    score: int
    level: str = strawberry.field(description="风险等级：高 / 中 / 低")
    reasons: list[str]


@strawberry.type(description="一对一结对 / a one-to-one pairing with a cadre")
class Pairing:
    pairing_id: str
    household_no: str
    cadre_no: str
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str | None
    source: str
    proposal_id: str | None

    @classmethod
    def of(cls, p: pairing_models.Pairing) -> Pairing:
        return cls(pairing_id=p.pairing_id, household_no=p.household_no, cadre_no=p.cadre_no,
                   started_on=p.started_on, ended_on=p.ended_on, end_reason=p.end_reason, source=p.source,
                   proposal_id=p.proposal_id)

    @strawberry.field(description="是否进行中 / whether still active")
    def active(self) -> bool:
        return self.ended_on is None

    @strawberry.field(description="结对干部 / the cadre")
    async def cadre(self, info: Info[Context, None]) -> Cadre | None:
        found = await info.context.loaders.cadre.load(self.cadre_no)
        return Cadre.of(found) if found else None


@strawberry.type(description="辅助结对 / an organisation's auxiliary pairing")
class AuxPairing:
    pairing_id: str
    household_no: str
    uscc: str
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str | None
    source: str

    @classmethod
    def of(cls, p: pairing_models.AuxPairing) -> AuxPairing:
        return cls(pairing_id=p.pairing_id, household_no=p.household_no, uscc=p.uscc, started_on=p.started_on,
                   ended_on=p.ended_on, end_reason=p.end_reason, source=p.source)

    @strawberry.field(description="是否进行中 / whether still active")
    def active(self) -> bool:
        return self.ended_on is None

    @strawberry.field(description="社会组织 / the organisation")
    async def organisation(self, info: Info[Context, None]) -> Organisation | None:
        found = await info.context.loaders.org.load(self.uscc)
        return Organisation.of(found) if found else None

    @strawberry.field(description="家庭（辖区外为空）/ the household, null outside the caller's scope")
    async def household(self, info: Info[Context, None]) -> Household | None:
        found = await info.context.loaders.household_scoped.load(self.household_no)
        return Household.of(found, info.context) if found else None


@strawberry.type(description="帮扶台账记录 / one ledger entry")
class LedgerEntry:
    entry_id: str
    entry_date: dt.date
    household_no: str
    cadre_no: str | None
    uscc: str | None
    kind: str = strawberry.field(description="类型：联系交流 入户走访 落实政策 解决困难 反映困难 帮办实事 资助 捐款捐物 志愿服务")
    amount_fen: Fen | None = strawberry.field(description="金额（分）/ cash in fen")
    in_kind_fen: Fen | None = strawberry.field(description="物资折合（分）/ in-kind value in fen")
    note: str | None
    problem_no: str | None

    @classmethod
    def of(cls, e: ledger_models.LedgerEntry) -> LedgerEntry:
        return cls(entry_id=e.entry_id, entry_date=e.entry_date, household_no=e.household_no, cadre_no=e.cadre_no,
                   uscc=e.uscc, kind=e.kind, amount_fen=e.amount_fen, in_kind_fen=e.in_kind_fen, note=e.note,
                   problem_no=e.problem_no)


@strawberry.type(description="反映的困难 / a reported difficulty")
class Problem:
    problem_no: str
    household_no: str
    opened_on: dt.date
    closed_on: dt.date | None
    reported_by: str
    resolved_by: str | None
    description: str | None
    resolution: str | None

    @classmethod
    def of(cls, p: ledger_models.Problem) -> Problem:
        return cls(problem_no=p.problem_no, household_no=p.household_no, opened_on=p.opened_on,
                   closed_on=p.closed_on, reported_by=p.reported_by, resolved_by=p.resolved_by,
                   description=p.description, resolution=p.resolution)

    @strawberry.field(description="是否未解决 / whether still open")
    def open(self) -> bool:
        return self.closed_on is None


@strawberry.type(description="户 / a household")
class Household:
    household_no: str
    head_name: str
    head_id: str = strawberry.field(description="户主身份证号（非管理员与组织者打码）/ head's ID number, masked unless admin or organiser")
    region_code: str
    address: str | None
    size: int
    labour: int | None
    income_fen: Fen | None = strawberry.field(description="家庭年收入（分）/ yearly income in fen")
    monitoring: str | None = strawberry.field(description="监测类别 / monitoring category")
    formerly_poor: bool | None
    dibao: bool | None
    tekun: bool | None
    elderly_carer: bool | None
    risk_factors: list[str]
    phone: str | None

    @classmethod
    def of(cls, h: household_models.Household, ctx: Context) -> Household:
        ctx.saw("household", (h.household_no,))
        return cls(household_no=h.household_no, head_name=h.head_name, head_id=ctx.shown_id(h.head_id),
                  region_code=h.region_code, address=h.address, size=h.size, labour=h.labour, income_fen=h.income_fen,
                  monitoring=h.monitoring, formerly_poor=h.formerly_poor, dibao=h.dibao, tekun=h.tekun,
                  elderly_carer=h.elderly_carer, risk_factors=h.risk_factors, phone=h.phone)

    @strawberry.field(description="家庭中的残疾人 / the disabled members")
    async def members(self, info: Info[Context, None]) -> list[Person]:
        ctx = info.context
        return [Person.of(p, ctx) for p in await ctx.loaders.members.load(self.household_no)]

    @strawberry.field(description="一对一结对，含历史，最早的在前 / one-to-one pairings, past ones too, oldest first")
    async def pairings(self, info: Info[Context, None]) -> list[Pairing]:
        return [Pairing.of(p) for p in await info.context.loaders.pairings.load(self.household_no)]

    @strawberry.field(description="进行中的一对一结对 / the active one-to-one pairing")
    async def active_pairing(self, info: Info[Context, None]) -> Pairing | None:
        found = await info.context.loaders.pairings.load(self.household_no)
        return next((Pairing.of(p) for p in reversed(found) if p.ended_on is None), None)

    @strawberry.field(description="辅助结对，含历史 / auxiliary pairings, past ones too, oldest first")
    async def aux_pairings(self, info: Info[Context, None]) -> list[AuxPairing]:
        return [AuxPairing.of(p) for p in await info.context.loaders.aux_pairings.load(self.household_no)]

    @strawberry.field(description="帮扶台账，最早的在前 / the ledger, oldest first")
    async def ledger(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                     after: str | None = None) -> Connection[LedgerEntry]:
        return sliced(await info.context.loaders.ledger.load(self.household_no), first, after, LedgerEntry.of)

    @strawberry.field(description="反映的困难，含已解决 / problems, solved ones too, oldest first")
    async def problems(self, info: Info[Context, None], open_only: bool = False) -> list[Problem]:
        found = await info.context.loaders.problems.load(self.household_no)
        return [Problem.of(p) for p in found if not open_only or p.closed_on is None]

    @strawberry.field(description="重点户判定与风险分值（见 graph_schema/monitoring/risk.py）/ priority and risk score")
    async def risk(self, info: Info[Context, None]) -> Risk:
        members = await info.context.loaders.members.load(self.household_no)
        facts = risk.RiskFacts(monitoring=self.monitoring, tekun=self.tekun, dibao=self.dibao,
                               elderly_carer=self.elderly_carer, labour=self.labour, disabled=len(members),
                               severe=sum(1 for m in members if m.grade <= 2))
        weights = get_settings().risk
        score = risk.score(facts, weights)
        return Risk(priority=facts.priority, score=score, level=risk.level(score, weights).value,
                    reasons=risk.reasons(facts))


@strawberry.type(description="结对干部 / a cadre")
class Cadre:
    cadre_no: str
    name: str
    phone: str | None
    unit: str
    unit_level: str
    role: str | None
    station_code: str
    pair_limit: int = strawberry.field(description="结对上限 / the most households the cadre may hold")
    on_duty: bool

    @classmethod
    def of(cls, c: cadre_models.Cadre) -> Cadre:
        return cls(cadre_no=c.cadre_no, name=c.name, phone=c.phone, unit=c.unit, unit_level=c.unit_level,
                   role=c.role, station_code=c.station_code, pair_limit=c.pair_limit, on_duty=c.on_duty)

    @strawberry.field(description="当前结对户数（全部，不限辖区）/ active one-to-one pairings, in any region")
    async def load(self, info: Info[Context, None]) -> int:
        return await info.context.loaders.cadre_load.load(self.cadre_no)

    @strawberry.field(description="是否已达结对上限 / whether the load has reached the limit")
    async def at_limit(self, info: Info[Context, None]) -> bool:
        return await info.context.loaders.cadre_load.load(self.cadre_no) >= self.pair_limit

    @strawberry.field(description="当前结对的家庭（仅调用者辖区内的）/ the households paired now, those in the caller's scope")
    async def households(self, info: Info[Context, None]) -> list[Household]:
        ctx = info.context
        numbers = await ctx.loaders.cadre_households.load(self.cadre_no)
        found = await ctx.loaders.household_scoped.load_many(numbers)
        return [Household.of(h, ctx) for h in found if h is not None]


@strawberry.type(description="社会组织 / a social organisation")
class Organisation:
    uscc: str = strawberry.field(description="统一社会信用代码 / unified social credit code")
    name: str
    org_type: str | None
    service_region_code: str
    service_modes: list[str]
    contact: str | None
    phone: str | None

    @classmethod
    def of(cls, o: org_models.Org) -> Organisation:
        return cls(uscc=o.uscc, name=o.name, org_type=o.org_type, service_region_code=o.service_region_code,
                   service_modes=o.service_modes, contact=o.contact, phone=o.phone)

    @strawberry.field(description="辅助结对（仅调用者辖区内的家庭），最早的在前 / auxiliary pairings with households in the caller's scope")
    async def aux_pairings(self, info: Info[Context, None], active_only: bool = False, first: int = DEFAULT_FIRST,
                           after: str | None = None) -> Connection[AuxPairing]:
        found = await info.context.loaders.org_aux_pairings.load(self.uscc)
        if active_only:
            found = [p for p in found if p.ended_on is None]
        return sliced(found, first, after, AuxPairing.of)

    @strawberry.field(description="捐款捐物、志愿服务等台账（仅调用者辖区内的家庭）/ donations, volunteering and other records")
    async def ledger(self, info: Info[Context, None], kinds: list[str] | None = None, first: int = DEFAULT_FIRST,
                     after: str | None = None) -> Connection[LedgerEntry]:
        wanted = _kinds(kinds)
        found = await info.context.loaders.org_ledger.load(self.uscc)
        if wanted is not None:
            found = [e for e in found if e.kind in wanted]
        return sliced(found, first, after, LedgerEntry.of)


def _kinds(kinds: list[str] | None) -> set[LedgerKind] | None:
    if kinds is None:
        return None
    try:
        return {LedgerKind(k) for k in kinds}
    except ValueError:
        allowed = "、".join(k.value for k in LedgerKind)
        raise InvalidValue("kinds", kinds, f"台账类型须为：{allowed}", f"ledger kinds must be among: {allowed}") from None


@strawberry.type(description="区划 / a region (province, city, county, township or village)")
class Region:
    code: str = strawberry.field(description="12位区划代码 / 12-digit code")
    name: str | None
    level: str = strawberry.field(description="层级：省 市 县 乡 村")
    parent_code: str | None

    @classmethod
    def of(cls, r: region_models.Region) -> Region:
        return cls(code=r.code, name=r.name, level=r.level.label, parent_code=region_parent(r.code))

    @strawberry.field(description="下一级区划 / the regions one level down")
    async def children(self, info: Info[Context, None]) -> list[Region]:
        return [Region.of(r) for r in await info.context.loaders.region_children.load(self.code)]

    @strawberry.field(description="帮扶覆盖统计（统计期 from 至 asOf，默认当年1月1日至今天）/ coverage figures for the period")
    async def coverage(self, info: Info[Context, None], as_of: dt.date | None = None,
                       from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None) -> CoverageRow | None:
        info.context.who.require(READERS, "查看统计", "read coverage figures")
        return await info.context.loaders.coverage.load(CoverageKey(self.code, as_of, from_))
