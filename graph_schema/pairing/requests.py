"""Auxiliary pairings by request and approval (辅助结对申请): an organisation asks, an organiser of
the household's region decides.

An organisation that could pair itself with any household of the region it serves could read
every such household's members, disabilities and ledger without anyone's consent; so its
pairings begin as requests, and only an approved request opens a household to it. Organisers
(and their imports of 结对.csv) still register auxiliary pairings directly: their act is the
approval.

Rules, enforced inside the write transactions on both engines:
- an organisation asks only for a household of the region it serves (its 服务区划代码 and all
  under it); a household outside that region answers exactly as one that does not exist (the
  same NOT_FOUND and message), so a request never tells which household numbers exist elsewhere;
- one pending request per organisation and household, and none while their pairing is active;
- a request is approved, declined or withdrawn once, and only while it is pending; approving
  checks the rules again (the household still in the organisation's region and in the
  organiser's jurisdiction, no active pairing) and creates the ``AUX_PAIRED_WITH`` edge (source
  ``request``) in the same transaction;
- a request outside the caller's scope answers as one that does not exist.
Requests are never deleted: declined and withdrawn ones keep who decided, when, and the notes.
Every change locks the household first, so two decisions on one request leave one winner.
"""

from __future__ import annotations

import datetime as dt
import uuid

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.enums import AuxRequestStatus, PairingSource
from graph_schema.errors import AlreadyAuxPaired, AuxRequestDecided, AuxRequestPending, NotFound, RuleViolation
from graph_schema.household.service import households_in
from graph_schema.models import today
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.pairing.models import AuxPairing, AuxPairRequest, AuxRequest
from graph_schema.pairing.service import aux_pair_in
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import scope_prefix
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import AUX_REQUEST, HOUSEHOLD, ORG

_COLUMNS = ", ".join(f"q.{c} AS {c}" for c in AUX_REQUEST.columns)
_ONE = "MATCH (q:AuxRequest {request_id: $id})"
_PENDING_OF = ("MATCH (q:AuxRequest) WHERE q.household_no = $h AND q.uscc = $o AND q.status = $pending "
               "RETURN q.request_id AS request_id")
_ACTIVE = ("MATCH (o:Org {uscc: $o})-[p:AUX_PAIRED_WITH]->(h:Household {household_no: $h}) "
           "WHERE p.ended_on IS NULL RETURN p.pairing_id AS pairing_id")
_DECIDE = ("MATCH (q:AuxRequest {request_id: $id}) SET q.status = $status, q.decided_at = $at, "
           "q.decided_by = $by, q.decision_note = $note, q.consent_note = $consent, q.pairing_id = $pairing")


class OutsideServiceArea(RuleViolation):
    """Told to an organiser deciding a request, who sees both: the household has left the region
    the organisation serves since it asked (an organisation asking is told NOT_FOUND instead)."""

    code = "OUTSIDE_SERVICE_AREA"

    def __init__(self, household_no: str, uscc: str) -> None:
        super().__init__(f"家庭「{household_no}」已不在社会组织「{uscc}」的服务区划内",
                         f"household '{household_no}' no longer lies in the region organisation '{uscc}' serves",
                         household_no=household_no, uscc=uscc)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def _served(tx: Tx, household_no: str, uscc: str) -> str | None:
    """The household's region code if it exists and lies in the region the organisation serves."""
    org = fetch_by_keys(tx, ORG, [uscc], ["uscc", "service_region_code"]).get(uscc)
    if org is None:
        raise NotFound("社会组织", "organisation", uscc)
    home = fetch_by_keys(tx, HOUSEHOLD, [household_no], ["household_no", "region_code"]).get(household_no)
    if home is None or not home["region_code"].startswith(scope_prefix(org["service_region_code"])):
        return None
    return home["region_code"]


def request_aux(*, store: GraphStore, household_no: str, uscc: str, reason: str, requested_by: str,
                service: str | None = None) -> AuxRequest:
    """An organisation asks for an auxiliary pairing with a household of the region it serves."""

    def work(tx: Tx) -> AuxRequest:
        region_code = _served(tx, household_no, uscc)
        if region_code is None:
            raise NotFound("家庭", "household", household_no)
        tx.lock(HOUSEHOLD, [household_no])  # only one the organisation may ask for
        pending = tx.run(_PENDING_OF, {"h": household_no, "o": uscc, "pending": AuxRequestStatus.PENDING})
        if pending:
            raise AuxRequestPending(household_no, uscc, pending[0]["request_id"])
        if tx.run(_ACTIVE, {"o": uscc, "h": household_no}):
            raise AlreadyAuxPaired(household_no, uscc)
        made = AuxRequest(request_id=uuid.uuid4().hex, household_no=household_no, uscc=uscc, region_code=region_code,
                          reason=reason, service=service, status=AuxRequestStatus.PENDING, requested_at=_now(),
                          requested_by=requested_by)
        tx.create_nodes(AUX_REQUEST, [made.to_row()])
        return made

    return store.write(work)


def aux_request_in(tx: Tx, request_id: str, scope: Scope = EVERYTHING) -> AuxRequest | None:
    """The request if it exists and lies in ``scope``: the organisation's own, or one of a
    household of the region (by the village it was asked for in)."""
    rows = tx.run(f"{_ONE} WITH q{scope.aux_requests()} RETURN {_COLUMNS}", {"id": request_id} | scope.params)
    return AuxRequest.from_row(rows[0]) if rows else None


def get_aux_request(*, store: GraphStore, request_id: str, scope: Scope = EVERYTHING) -> AuxRequest:
    """One request; NotFound alike whether it does not exist or lies outside ``scope``."""
    found = store.read(lambda tx: aux_request_in(tx, request_id, scope))
    if found is None:
        raise NotFound("辅助结对申请", "auxiliary pairing request", request_id)
    return found


def list_aux_requests(*, store: GraphStore, scope: Scope = EVERYTHING, status: AuxRequestStatus | None = None,
                      region: str | None = None, page: PageRequest = PageRequest()) -> Page[AuxRequest]:
    """The requests in ``scope``, newest first; optionally of one status, or of the households of
    one region (any level; outside a region scope NotFound, as a region that does not exist)."""
    prefix = scope_prefix(region)
    if region and not (scope.uscc or scope.cadre_no or scope.holds_region(prefix)):
        raise NotFound("区划", "region", region)
    statuses = [AuxRequestStatus(status)] if status else list(AuxRequestStatus)
    params = scope.params | {"statuses": statuses, "prefix": prefix}
    match = (f"MATCH (q:AuxRequest){scope.aux_requests()} "
             "WITH q WHERE q.status IN $statuses AND q.region_code STARTS WITH $prefix")
    return store.read(lambda tx: page_of(tx, match, "q", _COLUMNS, "requested_at DESC, request_id", params, page,
                                         AuxRequest.from_row))


def _pending(tx: Tx, request_id: str, scope: Scope) -> AuxRequest:
    """The request, in ``scope`` and still pending, with its household locked (NotFound when it
    does not exist or lies outside ``scope``; AUX_REQUEST_DECIDED once decided)."""
    found = aux_request_in(tx, request_id, scope)
    if found is None:
        raise NotFound("辅助结对申请", "auxiliary pairing request", request_id)
    tx.lock(HOUSEHOLD, [found.household_no])
    found = aux_request_in(tx, request_id)  # as it stands now that no one else decides it
    if found.status is not AuxRequestStatus.PENDING:
        raise AuxRequestDecided(request_id, found.status.value)
    return found


def _decided(tx: Tx, request: AuxRequest, status: AuxRequestStatus, by: str, note: str | None = None,
             consent_note: str | None = None, pairing_id: str | None = None) -> AuxRequest:
    done = request.model_copy(update={"status": status, "decided_at": _now(), "decided_by": by, "decision_note": note,
                                      "consent_note": consent_note, "pairing_id": pairing_id})
    tx.run(_DECIDE, {"id": request.request_id, "status": status, "at": done.decided_at, "by": by, "note": note,
                     "consent": consent_note, "pairing": pairing_id})
    return done


def approve_aux_request(*, store: GraphStore, request_id: str, decided_by: str, scope: Scope = EVERYTHING,
                        note: str | None = None, consent_note: str | None = None,
                        started_on: dt.date | None = None) -> tuple[AuxRequest, AuxPairing]:
    """Approve a pending request: the rules are checked again and the auxiliary pairing begins
    (``started_on``, default today), in one transaction. ``consent_note`` records the household's
    consent (who agreed, how, when)."""

    def work(tx: Tx) -> tuple[AuxRequest, AuxPairing]:
        request = _pending(tx, request_id, scope)
        if request.household_no not in households_in(tx, [request.household_no], scope):
            raise NotFound("辅助结对申请", "auxiliary pairing request", request_id)  # the household moved away
        if _served(tx, request.household_no, request.uscc) is None:
            raise OutsideServiceArea(request.household_no, request.uscc)
        made, result = aux_pair_in(tx, [AuxPairRequest(household_no=request.household_no, uscc=request.uscc,
                                                       started_on=started_on or today(),
                                                       source=PairingSource.REQUEST)], 0)
        if result.errors:
            raise result.errors[0][1]
        if not made:  # the very same pairing is already recorded
            raise AlreadyAuxPaired(request.household_no, request.uscc)
        return _decided(tx, request, AuxRequestStatus.APPROVED, decided_by, note, consent_note,
                        made[0].pairing_id), made[0]

    return store.write(work)


def decline_aux_request(*, store: GraphStore, request_id: str, decided_by: str, scope: Scope = EVERYTHING,
                        note: str | None = None) -> AuxRequest:
    """Decline a pending request (the household declined, or the organisation does not fit)."""
    return store.write(lambda tx: _decided(tx, _pending(tx, request_id, scope), AuxRequestStatus.DECLINED,
                                           decided_by, note))


def withdraw_aux_request(*, store: GraphStore, request_id: str, uscc: str, withdrawn_by: str) -> AuxRequest:
    """The organisation takes back its own pending request."""
    scope = Scope(uscc=uscc)
    return store.write(lambda tx: _decided(tx, _pending(tx, request_id, scope), AuxRequestStatus.WITHDRAWN,
                                           withdrawn_by))
