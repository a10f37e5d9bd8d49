"""The object types: households, persons, pairings, ledger, problems, cadres, organisations and
regions, each built from the domain model by ``of``, which applies the privacy policy there, once
(``Context.shown``: masked values are strings, withheld ones null, so every field some role is
denied is nullable); households and persons are noted for the audit trail there too.

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
from graph_schema.cadre import models as cadre_models
from graph_schema.enums import LedgerKind
from graph_schema.errors import InvalidValue
from graph_schema.household import models as household_models
from graph_schema.household.detail import cadre_of
from graph_schema.identifiers import region_parent
from graph_schema.ledger import models as ledger_models
from graph_schema.monitoring import risk
from graph_schema.org import models as org_models
from graph_schema.pairing import models as pairing_models
from graph_schema.region import models as region_models
from graph_schema.settings import get_settings
from graph_schema.store.base import Row


def _field(obj: object, name: str) -> object:
    """A field of a domain model, or of a row of the one-household read (a dict)."""
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


@strawberry.type(description="残疾人 / a certified disabled person")
class Person:
    id_number: str = strawberry.field(description="身份证号（非管理员与组织者打码）/ ID number, masked unless admin or organiser")
    name: str = strawberry.field(description="姓名（门户打码）/ name, masked for portals")
    cert_no: str = strawberry.field(description="残疾人证号（同上打码）/ certificate number, masked alike")
    household_no: str
    relation: str | None
    category: int | None = strawberry.field(
        description="残疾类别 1视力 2听力 3言语 4肢体 5智力 6精神 7多重（门户不可见）/ category, withheld from portals")
    grade: int | None = strawberry.field(description="残疾等级 1–4（一级最重；门户不可见）/ grade, 1 the most severe")
    cert_expiry: dt.date | None
    labour_ability: str | None
    needs: list[str] | None

    @classmethod
    def of(cls, p: household_models.Person | Row, ctx: Context) -> Person:
        ctx.saw("person", (_field(p, "id_number"),))
        v = ctx.shown("person", p)
        return cls(id_number=v.get("id_number"), name=v.get("name"), cert_no=v.get("cert_no"),
                   household_no=v.get("household_no"), relation=v.get("relation"), category=v.get("category"),
                   grade=v.get("grade"), cert_expiry=v.get("cert_expiry"), labour_ability=v.get("labour_ability"),
                   needs=v.get("needs"))

    @strawberry.field(description="所在家庭 / the person's household")
    async def household(self, info: Info[Context, None]) -> Household | None:
        found = await info.context.loaders.household_scoped.load(self.household_no)
        return Household.of(found, info.context) if found else None


@strawberry.type(description="风险评估 / the household's priority and risk score")
class Risk:
    priority: bool = strawberry.field(description="是否重点户 / whether a priority household")
    score: int | None = strawberry.field(description="风险分值（组织与门户不可见）/ score, withheld from organisations and portals")
    level: str = strawberry.field(description="风险等级：高 / 中 / 低")
    reasons: list[str] | None


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
    cadre_row: strawberry.Private[Row | None] = None  # the cadre, read with a row of the one-household read

    @classmethod
    def of(cls, p: pairing_models.Pairing | Row, ctx: Context) -> Pairing:
        v = ctx.shown("pairing", p)
        return cls(pairing_id=v.get("pairing_id"), household_no=v.get("household_no"), cadre_no=v.get("cadre_no"),
                   started_on=v.get("started_on"), ended_on=v.get("ended_on"), end_reason=v.get("end_reason"),
                   source=v.get("source"), proposal_id=v.get("proposal_id"),
                   cadre_row=cadre_of(p) if isinstance(p, dict) else None)

    @strawberry.field(description="是否进行中 / whether still active")
    def active(self) -> bool:
        return self.ended_on is None

    @strawberry.field(description="结对干部 / the cadre")
    async def cadre(self, info: Info[Context, None]) -> Cadre | None:
        found = self.cadre_row or await info.context.loaders.cadre.load(self.cadre_no)
        return Cadre.of(found, info.context) if found else None


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
    def of(cls, p: pairing_models.AuxPairing | Row, ctx: Context) -> AuxPairing:
        v = ctx.shown("pairing", p)
        return cls(pairing_id=v.get("pairing_id"), household_no=v.get("household_no"), uscc=v.get("uscc"),
                   started_on=v.get("started_on"), ended_on=v.get("ended_on"), end_reason=v.get("end_reason"),
                   source=v.get("source"))

    @strawberry.field(description="是否进行中 / whether still active")
    def active(self) -> bool:
        return self.ended_on is None

    @strawberry.field(description="社会组织 / the organisation")
    async def organisation(self, info: Info[Context, None]) -> Organisation | None:
        found = await info.context.loaders.org.load(self.uscc)
        return Organisation.of(found, info.context) if found else None

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
    volunteers: int | None = strawberry.field(description="志愿服务的志愿者人数 / volunteers of a volunteer service")
    minutes: int | None = strawberry.field(description="志愿服务每人时长（分钟）/ minutes each volunteer gave")

    @classmethod
    def of(cls, e: ledger_models.LedgerEntry | Row, ctx: Context) -> LedgerEntry:
        v = ctx.shown("ledger", e)
        return cls(entry_id=_field(e, "entry_id"), entry_date=v.get("entry_date"), household_no=v.get("household_no"),
                   cadre_no=v.get("cadre_no"), uscc=v.get("uscc"), kind=v.get("kind"), amount_fen=v.get("amount_fen"),
                   in_kind_fen=v.get("in_kind_fen"), note=v.get("note"), problem_no=v.get("problem_no"),
                   volunteers=v.get("volunteers"), minutes=v.get("minutes"))


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
    def of(cls, p: ledger_models.Problem | Row, ctx: Context) -> Problem:
        v = ctx.shown("problem", p)
        return cls(problem_no=v.get("problem_no"), household_no=v.get("household_no"), opened_on=v.get("opened_on"),
                   closed_on=v.get("closed_on"), reported_by=v.get("reported_by"), resolved_by=v.get("resolved_by"),
                   description=v.get("description"), resolution=v.get("resolution"))

    @strawberry.field(description="是否未解决 / whether still open")
    def open(self) -> bool:
        return self.closed_on is None


@strawberry.type(description="户 / a household")
class Household:
    household_no: str
    head_name: str = strawberry.field(description="户主姓名（门户打码）/ head's name, masked for portals")
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
    risk_factors: list[str] | None
    phone: str | None = strawberry.field(description="联系电话（组织与门户打码）/ phone, masked for organisations and portals")
    source: strawberry.Private[household_models.Household | Row]  # as stored: the risk is computed from it
    #: the lists read with the household by the one-household read (absent: read through the loaders)
    prefetched: strawberry.Private[Row | None] = None

    @classmethod
    def of(cls, h: household_models.Household | Row, ctx: Context) -> Household:
        """From a model, or from a row of the one-household read (which carries its lists)."""
        ctx.saw("household", (_field(h, "household_no"),))
        v = ctx.shown("household", h)
        return cls(household_no=v.get("household_no"), head_name=v.get("head_name"), head_id=v.get("head_id"),
                   region_code=v.get("region_code"), address=v.get("address"), size=v.get("size"),
                   labour=v.get("labour"), income_fen=v.get("income_fen"), monitoring=v.get("monitoring"),
                   formerly_poor=v.get("formerly_poor"), dibao=v.get("dibao"), tekun=v.get("tekun"),
                   elderly_carer=v.get("elderly_carer"),
                   risk_factors=v.get("risk_factors"), phone=v.get("phone"), source=h,
                   prefetched=h if isinstance(h, dict) else None)

    async def _rows(self, info: Info[Context, None], name: str) -> list:
        """One of the household's lists: read with it, else through the request's loader."""
        if self.prefetched is not None and name in self.prefetched:
            return self.prefetched[name]
        return await getattr(info.context.loaders, name).load(self.household_no)

    @strawberry.field(description="家庭中的残疾人 / the disabled members")
    async def members(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                      after: str | None = None) -> Connection[Person]:
        ctx = info.context
        return sliced(await self._rows(info, "members"), first, after, lambda p: Person.of(p, ctx))

    @strawberry.field(description="一对一结对，含历史，最早的在前 / one-to-one pairings, past ones too, oldest first")
    async def pairings(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                       after: str | None = None) -> Connection[Pairing]:
        ctx = info.context
        return sliced(await self._rows(info, "pairings"), first, after, lambda p: Pairing.of(p, ctx))

    @strawberry.field(description="进行中的一对一结对 / the active one-to-one pairing")
    async def active_pairing(self, info: Info[Context, None]) -> Pairing | None:
        found = await self._rows(info, "pairings")
        return next((Pairing.of(p, info.context) for p in reversed(found) if _field(p, "ended_on") is None), None)

    @strawberry.field(description="辅助结对，含历史 / auxiliary pairings, past ones too, oldest first")
    async def aux_pairings(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                           after: str | None = None) -> Connection[AuxPairing]:
        ctx = info.context
        return sliced(await self._rows(info, "aux_pairings"), first, after, lambda p: AuxPairing.of(p, ctx))

    @strawberry.field(description="帮扶台账，最早的在前 / the ledger, oldest first")
    async def ledger(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                     after: str | None = None) -> Connection[LedgerEntry]:
        ctx = info.context
        return sliced(await self._rows(info, "ledger"), first, after, lambda e: LedgerEntry.of(e, ctx))

    @strawberry.field(description="反映的困难，含已解决 / problems, solved ones too, oldest first")
    async def problems(self, info: Info[Context, None], open_only: bool = False, first: int = DEFAULT_FIRST,
                       after: str | None = None) -> Connection[Problem]:
        found = await self._rows(info, "problems")
        return sliced([p for p in found if not open_only or _field(p, "closed_on") is None], first, after,
                      lambda p: Problem.of(p, info.context))

    @strawberry.field(description="重点户判定与风险分值（见 graph_schema/monitoring/risk.py）/ priority and risk score")
    async def risk(self, info: Info[Context, None]) -> Risk:
        members = await self._rows(info, "members")
        h = self.source
        facts = risk.RiskFacts(monitoring=_field(h, "monitoring"), tekun=_field(h, "tekun"), dibao=_field(h, "dibao"),
                               elderly_carer=_field(h, "elderly_carer"), labour=_field(h, "labour"),
                               disabled=len(members), severe=sum(1 for m in members if _field(m, "grade") <= 2))
        weights = get_settings().risk
        score = risk.score(facts, weights)
        v = info.context.shown("risk", {"priority": facts.priority, "score": score,
                                        "level": risk.level(score, weights).value, "reasons": risk.reasons(facts)})
        return Risk(priority=v["priority"], score=v["score"], level=v["level"], reasons=v["reasons"])


@strawberry.type(description="结对干部 / a cadre")
class Cadre:
    cadre_no: str
    name: str
    phone: str | None = strawberry.field(description="手机号（本人与组织者可见；其他干部不可见，组织与门户打码）/ "
                                                     "phone: a cadre sees only its own; masked for organisations and portals")
    unit: str
    unit_level: str
    role: str | None
    station_code: str
    pair_limit: int = strawberry.field(description="结对上限 / the most households the cadre may hold")
    on_duty: bool

    @classmethod
    def of(cls, c: cadre_models.Cadre | Row, ctx: Context) -> Cadre:
        v = ctx.shown("cadre", c)
        return cls(cadre_no=v.get("cadre_no"), name=v.get("name"), phone=v.get("phone"), unit=v.get("unit"),
                   unit_level=v.get("unit_level"), role=v.get("role"), station_code=v.get("station_code"),
                   pair_limit=v.get("pair_limit"), on_duty=v.get("on_duty"))

    @strawberry.field(description="当前结对户数（全部，不限辖区）/ active one-to-one pairings, in any region")
    async def load(self, info: Info[Context, None]) -> int:
        return await info.context.loaders.cadre_load.load(self.cadre_no)

    @strawberry.field(description="是否已达结对上限 / whether the load has reached the limit")
    async def at_limit(self, info: Info[Context, None]) -> bool:
        return await info.context.loaders.cadre_load.load(self.cadre_no) >= self.pair_limit

    @strawberry.field(description="当前结对的家庭（仅调用者辖区内的）/ the households paired now, those in the caller's scope")
    async def households(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                         after: str | None = None) -> Connection[Household]:
        ctx = info.context
        numbers = await ctx.loaders.cadre_households.load(self.cadre_no)
        found = [h for h in await ctx.loaders.household_scoped.load_many(numbers) if h is not None]
        return sliced(found, first, after, lambda h: Household.of(h, ctx))


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
    def of(cls, o: org_models.Org, ctx: Context) -> Organisation:
        v = ctx.shown("org", o)
        return cls(uscc=v["uscc"], name=v["name"], org_type=v["org_type"], service_region_code=v["service_region_code"],
                   service_modes=v["service_modes"], contact=v["contact"], phone=v["phone"])

    @strawberry.field(description="辅助结对（仅调用者辖区内的家庭），最早的在前 / auxiliary pairings with households in the caller's scope")
    async def aux_pairings(self, info: Info[Context, None], active_only: bool = False, first: int = DEFAULT_FIRST,
                           after: str | None = None) -> Connection[AuxPairing]:
        found = await info.context.loaders.org_aux_pairings.load(self.uscc)
        if active_only:
            found = [p for p in found if p.ended_on is None]
        return sliced(found, first, after, lambda p: AuxPairing.of(p, info.context))

    @strawberry.field(description="捐款捐物、志愿服务等台账（仅调用者辖区内的家庭）/ donations, volunteering and other records")
    async def ledger(self, info: Info[Context, None], kinds: list[str] | None = None, first: int = DEFAULT_FIRST,
                     after: str | None = None) -> Connection[LedgerEntry]:
        wanted = _kinds(kinds)
        found = await info.context.loaders.org_ledger.load(self.uscc)
        if wanted is not None:
            found = [e for e in found if e.kind in wanted]
        return sliced(found, first, after, lambda e: LedgerEntry.of(e, info.context))


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

    @strawberry.field(description="下一级区划，按代码 / the regions one level down, by code")
    async def children(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                       after: str | None = None) -> Connection[Region]:
        return sliced(await info.context.loaders.region_children.load(self.code), first, after, Region.of)

    @strawberry.field(description="帮扶覆盖统计（统计期 from 至 asOf，默认当年1月1日至今天）/ coverage figures for the period")
    async def coverage(self, info: Info[Context, None], as_of: dt.date | None = None,
                       from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None) -> Annotated["CoverageRow", strawberry.lazy("api.graphql.reports")] | None:
        info.context.who.require(READERS, "查看统计", "read coverage figures")
        return await info.context.loaders.coverage.load(CoverageKey(self.code, as_of, from_))
