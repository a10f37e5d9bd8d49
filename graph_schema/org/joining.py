"""Organisations asking to join (入驻申请): a social organisation that is not in the roster asks
from the sign-in page, without an account, and an organiser of the region it would serve decides.

Rules:
- A request names the organisation (名称), its 统一社会信用代码 (checked by its check character),
  the region it would serve (a region the store holds), a contact person and a phone. It is
  stored as it stands and waits: whether the code is registered already changes nothing in the
  answer, so the form tells no one which organisations the store holds.
- The organisers whose region holds the service region, and admins, see the request; they see
  too whether its code is registered already (:func:`registered`).
- Approving creates the organisation (serving that region) and its account with a one-time
  sign-in code, in one transaction, after checking again that the code is not registered
  (``ORG_REGISTERED``: such a request is declined, or the organisation's account is made from the
  roster). Declining keeps a note. A request is decided once (``JOIN_REQUEST_DECIDED``).
Requests are never deleted: they keep who decided, when, and the account made.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field

from graph_schema.access.accounts import CODE_DAYS, IssuedCode, issue_in
from graph_schema.access.models import EVERYTHING, Role, Scope
from graph_schema.enums import JoinStatus
from graph_schema.errors import InvalidValue, NotFound, RuleViolation
from graph_schema.models import Model, RegionCode, Text, Uscc
from graph_schema.org.models import Org
from graph_schema.org.service import upsert_orgs_in
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import fetch_by_keys
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import JOIN_REQUEST, ORG, REGION

_COLUMNS = ", ".join(f"j.{c} AS {c}" for c in JOIN_REQUEST.columns)


class JoinRequestIn(Model):
    """What an organisation writes in the form (its phone checked by the caller, as the importer
    checks a roster's)."""

    name: Annotated[Text, Field(min_length=2, max_length=100)]
    uscc: Uscc
    service_region_code: RegionCode
    contact: Annotated[Text, Field(min_length=1, max_length=50)]
    phone: Annotated[Text, Field(min_length=7, max_length=20)]


class JoinRequest(JoinRequestIn):
    request_id: str
    status: JoinStatus
    requested_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    user_id: str | None = None


class OrgRegistered(RuleViolation):
    """Told to the organiser deciding a request (never to the one who asked)."""

    code = "ORG_REGISTERED"

    def __init__(self, uscc: str) -> None:
        super().__init__(f"统一社会信用代码「{uscc}」已登记为社会组织：请拒绝此申请，或在账号页为该组织建账号",
                         f"the code '{uscc}' is registered already: decline this request, or make the "
                         "organisation's account from the accounts page", uscc=uscc)


class JoinRequestDecided(RuleViolation):
    code = "JOIN_REQUEST_DECIDED"

    def __init__(self, request_id: str, status: str) -> None:
        super().__init__(f"入驻申请「{request_id}」已是「{status}」，不能再审批",
                         f"request to join '{request_id}' is already {status}: it cannot change again",
                         request_id=request_id, status=status)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def ask_to_join(*, store: GraphStore, request: JoinRequestIn) -> JoinRequest:
    """Store a request to join; the service region must be one the store holds."""
    def work(tx: Tx) -> JoinRequest:
        if not fetch_by_keys(tx, REGION, [request.service_region_code], ["code"]):
            raise InvalidValue("服务区划代码", request.service_region_code, "区划不存在", "no such region",
                               code="UNKNOWN_REGION", field_en="service region")
        made = JoinRequest(**request.model_dump(), request_id=uuid.uuid4().hex, status=JoinStatus.PENDING,
                           requested_at=_now())
        tx.create_nodes(JOIN_REQUEST, [made.to_row()])
        return made

    return store.write(work)


def join_request_in(tx: Tx, request_id: str, scope: Scope = EVERYTHING) -> JoinRequest | None:
    rows = tx.run(f"MATCH (j:JoinRequest {{request_id: $id}}) WITH j{scope.join_requests()} RETURN {_COLUMNS}",
                  {"id": request_id} | scope.params)
    return JoinRequest.from_row(rows[0]) if rows else None


def list_join_requests(*, store: GraphStore, scope: Scope = EVERYTHING, status: JoinStatus | None = None,
                       page: PageRequest = PageRequest()) -> Page[JoinRequest]:
    """The requests in ``scope`` (by the region each would serve), newest first."""
    statuses = [status] if status else list(JoinStatus)
    match = f"MATCH (j:JoinRequest){scope.join_requests()} WITH j WHERE j.status IN $statuses"
    return store.read(lambda tx: page_of(tx, match, "j", _COLUMNS, "requested_at DESC, request_id",
                                         scope.params | {"statuses": statuses}, page, JoinRequest.from_row))


def registered(*, store: GraphStore, usccs: list[str]) -> set[str]:
    """Which of these codes belong to an organisation of the roster (anywhere: an organiser
    deciding a request must know, even of one outside their region)."""
    return set(store.read(lambda tx: fetch_by_keys(tx, ORG, sorted(set(usccs)), ["uscc"])))


def _pending(tx: Tx, request_id: str, scope: Scope) -> JoinRequest:
    found = join_request_in(tx, request_id, scope)
    if found is None:
        raise NotFound("入驻申请", "request to join", request_id)
    tx.lock(JOIN_REQUEST, [request_id])
    found = join_request_in(tx, request_id)  # as it stands now that no one else decides it
    if found.status is not JoinStatus.PENDING:
        raise JoinRequestDecided(request_id, found.status.value)
    return found


def _decide(tx: Tx, request: JoinRequest, status: JoinStatus, by: str, note: str | None,
            user_id: str | None = None) -> JoinRequest:
    done = request.model_copy(update={"status": status, "decided_at": _now(), "decided_by": by,
                                      "decision_note": note, "user_id": user_id})
    tx.run("MATCH (j:JoinRequest {request_id: $id}) SET j.status = $status, j.decided_at = $at, j.decided_by = $by, "
           "j.decision_note = $note, j.user_id = $user",
           {"id": request.request_id, "status": status, "at": done.decided_at, "by": by, "note": note,
            "user": user_id})
    return done


def approve_join_request(*, store: GraphStore, request_id: str, decided_by: str, scope: Scope = EVERYTHING,
                         note: str | None = None, days: int = CODE_DAYS) -> tuple[JoinRequest, IssuedCode]:
    """Approve: the organisation and its account (with a one-time code, returned only here) are
    created with the decision, in one transaction."""
    def work(tx: Tx) -> tuple[JoinRequest, IssuedCode]:
        request = _pending(tx, request_id, scope)
        if fetch_by_keys(tx, ORG, [request.uscc], ["uscc"]):
            raise OrgRegistered(request.uscc)
        org = Org(uscc=request.uscc, name=request.name, service_region_code=request.service_region_code,
                  contact=request.contact, phone=request.phone)
        upsert_orgs_in(tx, [org])
        issued = issue_in(tx, Role.ORG, [(org.uscc, org.name)], days)[0]
        return _decide(tx, request, JoinStatus.APPROVED, decided_by, note, issued.user_id), issued

    return store.write(work)


def decline_join_request(*, store: GraphStore, request_id: str, decided_by: str, scope: Scope = EVERYTHING,
                         note: str | None = None) -> JoinRequest:
    return store.write(lambda tx: _decide(tx, _pending(tx, request_id, scope), JoinStatus.DECLINED, decided_by, note))
