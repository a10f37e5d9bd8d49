"""Auxiliary pairings by request and approval in GraphQL: the request type, the lists an
organisation (its own requests) and an organiser (those of their region) read, and the
mutations, each one call of :mod:`api.operations` as REST's routes are (``api/rest/aux_requests.py``).

A request outside the caller's scope is null, as one that does not exist; asking for a household
that does not exist and for one outside the organisation's region answer with the same error.
"""

from __future__ import annotations

import strawberry
from strawberry import Info

from api import operations
from api.graphql.context import Context
from api.graphql.loaders import blocking
from api.graphql.mutations import _keys, _text
from api.graphql.pagination import DEFAULT_FIRST, Connection, connection, window
from api.graphql.types import AuxPairing, Household, Organisation
from graph_schema.enums import AuxRequestStatus
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.pairing import models
from graph_schema.pairing.requests import get_aux_request, list_aux_requests

_REASON, _SERVICE, _NOTE = 500, 100, 500


@strawberry.type(description="辅助结对申请：社会组织申请，户所在辖区的组织者审批 / an organisation's request for "
                             "an auxiliary pairing, decided by an organiser of the household's region")
class AuxRequest:
    request_id: str
    household_no: str
    uscc: str
    region_code: str = strawberry.field(description="申请时该户所在村 / the household's village when asked")
    reason: str | None = strawberry.field(description="申请理由（门户不可见）/ why it asks (withheld from portals)")
    service: str | None
    status: str = strawberry.field(description="待审批 / 已批准 / 已拒绝 / 已撤回")
    requested_at: str
    requested_by: str
    decided_at: str | None
    decided_by: str | None
    decision_note: str | None
    consent_note: str | None = strawberry.field(description="家庭同意情况 / the household's consent, as recorded")
    pairing_id: str | None

    @classmethod
    def of(cls, q: models.AuxRequest, ctx: Context) -> AuxRequest:
        v = ctx.shown("aux_request", q)
        return cls(**{name: v[name] for name in models.AuxRequest.model_fields} | {"status": q.status.value})

    @strawberry.field(description="申请的家庭（调用者可见时）/ the household, when the caller may see it")
    async def household(self, info: Info[Context, None]) -> Household | None:
        found = await info.context.loaders.household_scoped.load(self.household_no)
        return Household.of(found, info.context) if found else None

    @strawberry.field(description="提出申请的社会组织 / the organisation that asks")
    async def organisation(self, info: Info[Context, None]) -> Organisation | None:
        found = await info.context.loaders.org.load(self.uscc)
        return Organisation.of(found, info.context) if found else None


@strawberry.type(description="批准的结果：申请与开始的辅助结对 / the approved request and the pairing it began")
class AuxApproval:
    request: AuxRequest
    pairing: AuxPairing


def _status(value: str | None) -> AuxRequestStatus | None:
    if value is None:
        return None
    try:
        return AuxRequestStatus(value)
    except ValueError:
        allowed = "、".join(s.value for s in AuxRequestStatus)
        raise InvalidValue("status", value, f"须为：{allowed}", f"must be one of: {allowed}") from None


@strawberry.type
class AuxRequestQueries:
    @strawberry.field(description="一条辅助结对申请；不存在或不在调用者辖区内时为空 / one request; null when it does "
                                  "not exist or lies outside the caller's scope")
    async def aux_request(self, info: Info[Context, None], request_id: str) -> AuxRequest | None:
        who = info.context.who
        who.require(operations.AUX_REQUEST_READERS, "查看辅助结对申请", "see auxiliary pairing requests")
        _keys(request_id=request_id)
        try:
            found = await blocking(lambda: get_aux_request(store=who.store, request_id=request_id, scope=who.scope))
        except NotFound:
            return None
        info.context.saw("household", (found.household_no,))
        return AuxRequest.of(found, info.context)

    @strawberry.field(description="辅助结对申请，最新的在前：社会组织本组织的，组织者本辖区户的 / requests, newest "
                                  "first: an organisation's own, those of the households of an organiser's region")
    async def aux_requests(self, info: Info[Context, None], status: str | None = None, region: str | None = None,
                           first: int = DEFAULT_FIRST, after: str | None = None) -> Connection[AuxRequest]:
        who = info.context.who
        who.require(operations.AUX_REQUEST_READERS, "查看辅助结对申请", "see auxiliary pairing requests")
        win = window(first, after)
        wanted = _status(status)
        page = await blocking(lambda: list_aux_requests(store=who.store, scope=who.scope, status=wanted,
                                                        region=region, page=win))
        info.context.saw("household", (q.household_no for q in page.items))
        return connection(page.items, page.total, win, lambda q: AuxRequest.of(q, info.context))


@strawberry.type
class AuxRequestMutations:
    @strawberry.mutation(description="申请辅助结对（社会组织，以本组织名义；户须在其服务区划内）/ ask for an auxiliary "
                                     "pairing with a household of the region the organisation serves")
    async def request_aux_pairing(self, info: Info[Context, None], household_no: str, reason: str,
                                  service: str | None = None) -> AuxRequest:
        _keys(household_no=household_no)
        _text("reason", reason, _REASON)
        _text("service", service, _SERVICE)
        made = await blocking(lambda: operations.request_aux(info.context.who, household_no, reason.strip(),
                                                             service.strip() if service else None))
        return AuxRequest.of(made, info.context)

    @strawberry.mutation(description="批准申请，辅助结对即日开始（组织者）；consentNote 记录家庭同意情况 / approve: the "
                                     "pairing begins today (organisers); consentNote records the household's consent")
    async def approve_aux_request(self, info: Info[Context, None], request_id: str, note: str | None = None,
                                  consent_note: str | None = None) -> AuxApproval:
        _keys(request_id=request_id)
        _text("note", note, _NOTE)
        _text("consentNote", consent_note, _NOTE)
        done, pairing = await blocking(lambda: operations.approve_aux_request(
            info.context.who, request_id, note and note.strip(), consent_note and consent_note.strip()))
        return AuxApproval(request=AuxRequest.of(done, info.context), pairing=AuxPairing.of(pairing, info.context))

    @strawberry.mutation(description="拒绝申请（组织者）/ decline a pending request (organisers)")
    async def decline_aux_request(self, info: Info[Context, None], request_id: str,
                                  note: str | None = None) -> AuxRequest:
        _keys(request_id=request_id)
        _text("note", note, _NOTE)
        done = await blocking(lambda: operations.decline_aux_request(info.context.who, request_id, note and note.strip()))
        return AuxRequest.of(done, info.context)

    @strawberry.mutation(description="撤回本组织待审批的申请（社会组织）/ withdraw the organisation's own pending request")
    async def withdraw_aux_request(self, info: Info[Context, None], request_id: str) -> AuxRequest:
        _keys(request_id=request_id)
        done = await blocking(lambda: operations.withdraw_aux_request(info.context.who, request_id))
        return AuxRequest.of(done, info.context)
