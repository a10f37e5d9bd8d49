"""The mutations: each is one call of :mod:`api.operations`, which checks the role, checks in the
store that every object named lies in the caller's scope (NOT_FOUND otherwise), calls the service
and records the change in the audit trail. Here inputs are only mapped to its arguments and its
results to the object types, so REST and GraphQL cannot drift apart.

Who may do what (the operations decide): organisers pair, end and transfer one-to-one pairings,
keep the exclusion list and confirm proposals; cadres record their visits, contacts and problems
for their own households; organisations ask for auxiliary pairings (``aux_requests.py``: an
organiser approves), end theirs and record donations and volunteer services; organisers may also
record on anyone's behalf.

Every operation runs on a worker thread (``loaders.blocking``): a write waits for the store, and
the event loop must stay free for the other requests meanwhile.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from pydantic import BaseModel, ValidationError
from strawberry import Info
from strawberry.scalars import JSON

from api import operations
from api.graphql.context import Context
from api.graphql.errors import InvalidInput
from api.graphql.loaders import blocking
from api.graphql.scalars import Fen
from api.graphql.types import AuxPairing, LedgerEntry, Pairing
from api.rest.ledger import LedgerEntryIn
from api.rest.matcher import ProposalIn
from api.rest.services import AcceptIn, AnswerIn, DeliveryIn, NeedIn, ReferralIn, referral_out
from graph_schema.enums import ExclusionReason
from graph_schema.errors import InvalidValue
from graph_schema.service.referrals import ReferralRequest
from matching.candidates import Reach

_KEY, _REASON, _NOTE = 64, 200, 500


def _text(field: str, value: str | None, longest: int) -> None:
    if value is not None and not 1 <= len(value.strip()) <= longest:
        raise InvalidValue(field, value, f"须为 1 到 {longest} 个字符", f"must have 1 to {longest} characters")


def _keys(**values: str | None) -> None:
    for field, value in values.items():
        _text(field, value, _KEY)


def _model(model: type[BaseModel], value: Any) -> Any:
    """``value`` validated as ``model``, its failures as one VALIDATION error naming the fields."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise InvalidInput(exc) from None


@strawberry.input(description="一条帮扶台账 / one ledger entry to record")
class LedgerEntryInput:
    entry_date: dt.date
    household_no: str
    kind: str = strawberry.field(description="联系交流 入户走访 落实政策 解决困难 反映困难 帮办实事 资助 捐款捐物 志愿服务")
    cadre_no: str | None = strawberry.field(default=None, description="干部记录时填写 / when a cadre did it")
    uscc: str | None = strawberry.field(default=None, description="社会组织记录时填写 / when an organisation did it")
    amount_fen: Fen | None = None
    in_kind_fen: Fen | None = None
    note: str | None = None
    problem_no: str | None = strawberry.field(
        default=None, description="反映困难时新开、解决困难时关闭的问题编号 / the problem opened or closed")
    volunteers: int | None = strawberry.field(default=None, description="志愿服务的志愿者人数 / volunteers")
    minutes: int | None = strawberry.field(default=None, description="志愿服务每人时长（分钟）/ minutes each")
    record_no: str | None = strawberry.field(
        default=None, description="记录编号：给出时为该条的键，同日两条相同记录不合并 / the entry's own number, if any")


@strawberry.type(description="转移结对的结果 / the pairing ended and the new one")
class Transfer:
    ended: Pairing
    new: Pairing


@strawberry.type(description="回避名单中的一对 / a cadre–household pair that may not be paired")
class Exclusion:
    household_no: str
    cadre_no: str
    reason: str
    since: dt.date
    note: str | None


@strawberry.type(description="被拒绝的一户及原因 / a household the confirmation refused, and why")
class Refusal:
    household_no: str
    code: str
    message: str
    message_en: str


@strawberry.type(description="确认方案的结果 / what confirming a proposal did")
class Confirmation:
    confirmed: list[Pairing]
    dropped: list[str]
    unchanged: list[str]
    refused: list[Refusal]


@strawberry.type
class ServiceMutations:
    """Services (the same operations and input models as REST ``/needs``, ``/referrals`` …); the
    JSON they take and give is the REST routes' own."""

    @strawberry.mutation(description="记录一次需求评估（结对干部为其户，组织者）/ record an assessed need; gives its id")
    async def record_need(self, info: Info[Context, None], need: JSON) -> str:
        checked = _model(NeedIn, need)
        return await blocking(lambda: operations.record_need(info.context.who, checked))

    @strawberry.mutation(description="转介一项需求（组织者）/ send a person's open need to an organisation or a department")
    async def refer(self, info: Info[Context, None], referral: JSON) -> JSON:
        body = _model(ReferralIn, referral)
        request = ReferralRequest(id_number=body.id_number, need_id=body.need_id, provider_uscc=body.provider_uscc,
                                  provider_dept=body.provider_dept, made_by=info.context.who.user.user_id,
                                  note=body.note, **({"made_on": body.made_on} if body.made_on else {}))
        made = await blocking(lambda: operations.refer(info.context.who, request))
        return referral_out(made, info.context.who.user)

    @strawberry.mutation(description="答复转介：接收或拒绝（须有原因）（承接的社会组织）/ accept or reject a referral")
    async def answer_referral(self, info: Info[Context, None], referral_id: str, accept: bool,
                              answer: JSON | None = None) -> JSON:
        _keys(referral_id=referral_id)
        body = _model(AcceptIn, answer or {}) if accept else _model(AnswerIn, answer or {})
        done = await blocking(lambda: operations.answer_referral(info.context.who, referral_id, accept,
                                                                 getattr(body, "reason", None),
                                                                 getattr(body, "note", None), body.on))
        return referral_out(done, info.context.who.user)

    @strawberry.mutation(description="撤回转介，须有原因（组织者）/ withdraw a referral, with a reason")
    async def withdraw_referral(self, info: Info[Context, None], referral_id: str, answer: JSON) -> JSON:
        _keys(referral_id=referral_id)
        body = _model(AnswerIn, answer)
        done = await blocking(lambda: operations.withdraw_referral(info.context.who, referral_id, body.reason,
                                                                   body.note, body.on))
        return referral_out(done, info.context.who.user)

    @strawberry.mutation(description="记录一次服务（社会组织为转介给它或与其结对的人，组织者）/ record a delivery; gives its id")
    async def record_delivery(self, info: Info[Context, None], delivery: JSON) -> str:
        checked = _model(DeliveryIn, delivery)
        return await blocking(lambda: operations.record_delivery(info.context.who, checked))


@strawberry.type
class Mutation(ServiceMutations):
    @strawberry.mutation(description="一对一结对（组织者）/ pair a household with a cadre (organisers)")
    async def pair(self, info: Info[Context, None], household_no: str, cadre_no: str,
                   started_on: dt.date | None = None) -> Pairing:
        _keys(household_no=household_no, cadre_no=cadre_no)
        return Pairing.of(await blocking(lambda: operations.pair(info.context.who, household_no, cadre_no, started_on)),
                          info.context)

    @strawberry.mutation(description="结束一对一结对，保留为历史（组织者）/ end the household's active pairing")
    async def end_pairing(self, info: Info[Context, None], household_no: str, reason: str,
                          ended_on: dt.date | None = None) -> Pairing:
        _keys(household_no=household_no)
        _text("reason", reason, _REASON)
        return Pairing.of(await blocking(
            lambda: operations.end_pairing(info.context.who, household_no, reason, ended_on)), info.context)

    @strawberry.mutation(description="转移结对：结束现结对并与新干部结对，全部成功或全部不变（组织者）/ "
                                     "move a household to another cadre, all or nothing")
    async def transfer_pairing(self, info: Info[Context, None], household_no: str, cadre_no: str,
                               reason: str = "干部调整") -> Transfer:
        _keys(household_no=household_no, cadre_no=cadre_no)
        _text("reason", reason, _REASON)
        ended, new = await blocking(lambda: operations.transfer(info.context.who, household_no, cadre_no, reason))
        return Transfer(ended=Pairing.of(ended, info.context), new=Pairing.of(new, info.context))

    @strawberry.mutation(description="列入回避名单（幂等；原因：亲属 或 组织者排除）/ put a pair on the exclusion list")
    async def exclude_pair(self, info: Info[Context, None], household_no: str, cadre_no: str,
                           reason: str = ExclusionReason.ORGANISER.value, note: str | None = None) -> Exclusion:
        _keys(household_no=household_no, cadre_no=cadre_no)
        _text("note", note, _NOTE)
        try:
            why = ExclusionReason(reason)
        except ValueError:
            allowed = "、".join(r.value for r in ExclusionReason)
            raise InvalidValue("reason", reason, f"须为：{allowed}", f"must be one of: {allowed}") from None
        done = await blocking(lambda: operations.exclude(info.context.who, household_no, cadre_no, why, note))
        return Exclusion(household_no=done.household_no, cadre_no=done.cadre_no, reason=done.reason,
                         since=done.since, note=done.note)

    @strawberry.mutation(description="移出回避名单；不在名单上时为 false / take a pair off the exclusion list")
    async def lift_exclusion(self, info: Info[Context, None], household_no: str, cadre_no: str) -> bool:
        _keys(household_no=household_no, cadre_no=cadre_no)
        return await blocking(lambda: operations.lift_exclusion(info.context.who, household_no, cadre_no))

    @strawberry.mutation(description="确认方案（pairingProposal 的结果），全部或部分户；规则重新检查，被拒的逐条说明 / "
                                     "confirm a proposal, all of it or some households")
    async def confirm_proposal(self, info: Info[Context, None], proposal: JSON,
                               only: list[str] | None = None) -> Confirmation:
        for no in only or ():
            _keys(only=no)
        checked = _model(ProposalIn, proposal)
        result = await blocking(lambda: operations.confirm(info.context.who, checked, only))
        return Confirmation(
            confirmed=[Pairing.of(p, info.context) for p in result.confirmed], dropped=result.dropped, unchanged=result.unchanged,
            refused=[Refusal(household_no=no, code=exc.code, message=exc.zh, message_en=exc.en)
                     for no, exc in result.refused])

    @strawberry.mutation(description="登记辅助结对（组织者；社会组织请用 requestAuxPairing 申请）/ register an auxiliary "
                                     "pairing (organisers; an organisation asks with requestAuxPairing)")
    async def register_aux_pairing(self, info: Info[Context, None], household_no: str, uscc: str,
                                   started_on: dt.date | None = None) -> AuxPairing:
        _keys(household_no=household_no, uscc=uscc)
        return AuxPairing.of(await blocking(
            lambda: operations.aux_pair(info.context.who, household_no, uscc, started_on)), info.context)

    @strawberry.mutation(description="结束辅助结对 / end an auxiliary pairing")
    async def end_aux_pairing(self, info: Info[Context, None], household_no: str, uscc: str, reason: str,
                              ended_on: dt.date | None = None) -> AuxPairing:
        _keys(household_no=household_no, uscc=uscc)
        _text("reason", reason, _REASON)
        return AuxPairing.of(await blocking(
            lambda: operations.end_aux_pairing(info.context.who, household_no, uscc, reason, ended_on)), info.context)

    @strawberry.mutation(description="记一条帮扶台账：走访、联系、反映或解决困难、捐款捐物、志愿服务… / "
                                     "record one ledger entry (a cadre or organisation in its own name)")
    async def record_ledger_entry(self, info: Info[Context, None], entry: LedgerEntryInput) -> LedgerEntry:
        recorded = _model(LedgerEntryIn, {k: v for k, v in vars(entry).items() if v is not None})
        await blocking(lambda: operations.log(info.context.who, recorded))
        return LedgerEntry.of(recorded, info.context)


@strawberry.type
class Proposals:
    @strawberry.field(description="一个区划的最优一对一结对方案（不写入；组织者），原样交给 confirmProposal / "
                                  "the optimal pairing of a region's priority households; stores nothing")
    async def pairing_proposal(self, info: Info[Context, None], region: str | None = None, reach: str = "township",
                               keep_current: bool = False) -> JSON:
        if reach not in ("village", "township", "county"):
            raise InvalidValue("reach", reach, "须为 village、township 或 county", "must be village, township or county")
        proposal = await blocking(lambda: operations.propose(info.context.who, region, Reach.parse(reach), keep_current))
        return proposal.model_dump(mode="json")
