"""One error hierarchy for the whole system.

Every error carries a stable machine-readable ``code`` and a message in Chinese and English.
Driver errors are translated here-below with ``raise ... from``; the mapping to HTTP status codes and
GraphQL errors lives only in ``api/``.
"""

from __future__ import annotations

from typing import Any


class JieduiError(Exception):
    """Base of every error the system raises on purpose."""

    code = "ERROR"

    def __init__(self, zh: str, en: str, **details: Any) -> None:
        self.zh = zh
        self.en = en
        self.details = details
        super().__init__(f"{zh} / {en}")

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.zh, "message_en": self.en, **self.details}


class InvalidValue(JieduiError):
    """A field's value breaks a rule (identifier checksum, enum, range…)."""

    code = "INVALID_VALUE"

    def __init__(self, field: str, value: Any, zh: str, en: str, code: str | None = None,
                 field_en: str | None = None) -> None:
        """``field`` names the field as the caller wrote it; ``field_en``, when the field has a
        Chinese name (a column title, 区划), names it in the English message."""
        if code:
            self.code = code
        super().__init__(f"字段「{field}」的值无效：{zh}", f"field '{field_en or field}' is invalid: {en}",
                         field=field, value=value)


class NotFound(JieduiError):
    """The record a request names does not exist."""

    code = "NOT_FOUND"

    def __init__(self, entity_zh: str, entity_en: str, key: str) -> None:
        super().__init__(f"{entity_zh}「{key}」不存在", f"{entity_en} '{key}' does not exist",
                         entity=entity_en, key=key)


class UnknownRegion(NotFound):
    """A region code that names no region the store holds: it is refused rather than created, so
    a mistyped code never becomes a village of its own."""

    code = "UNKNOWN_REGION"

    def __init__(self, code: str) -> None:
        JieduiError.__init__(self, f"区划代码「{code}」不存在：请先导入该区划（区划.csv）",
                             f"region code '{code}' is unknown: import the region first (区划.csv)",
                             entity="region", key=code)


class RuleViolation(JieduiError):
    """A business rule of the pairing, ledger or problem workflow refuses the change."""

    code = "RULE_VIOLATION"


class HouseholdAlreadyPaired(RuleViolation):
    code = "HOUSEHOLD_ALREADY_PAIRED"

    def __init__(self, household_no: str, cadre_no: str) -> None:
        super().__init__(
            f"家庭「{household_no}」已与干部「{cadre_no}」一对一结对，不能再结对",
            f"household '{household_no}' already has an active one-to-one pairing with cadre '{cadre_no}'",
            household_no=household_no, cadre_no=cadre_no)


class CadreAtLimit(RuleViolation):
    code = "CADRE_AT_LIMIT"

    def __init__(self, cadre_no: str, limit: int) -> None:
        super().__init__(
            f"干部「{cadre_no}」已达结对上限 {limit} 户",
            f"cadre '{cadre_no}' has reached the pairing limit of {limit} households",
            cadre_no=cadre_no, limit=limit)


class CadreNotOnDuty(RuleViolation):
    code = "CADRE_NOT_ON_DUTY"

    def __init__(self, cadre_no: str) -> None:
        super().__init__(f"干部「{cadre_no}」不在岗，不能新建结对",
                         f"cadre '{cadre_no}' is not on duty and takes no new pairing", cadre_no=cadre_no)


class NoActivePairing(RuleViolation):
    code = "NO_ACTIVE_PAIRING"

    def __init__(self, household_no: str, who: str = "") -> None:
        extra_zh = f"（干部或组织「{who}」）" if who else ""
        extra_en = f" with '{who}'" if who else ""
        super().__init__(f"家庭「{household_no}」没有进行中的结对{extra_zh}",
                         f"household '{household_no}' has no active pairing{extra_en}",
                         household_no=household_no)


class AlreadyAuxPaired(RuleViolation):
    code = "ALREADY_AUX_PAIRED"

    def __init__(self, household_no: str, uscc: str) -> None:
        super().__init__(f"社会组织「{uscc}」已与家庭「{household_no}」辅助结对",
                         f"organisation '{uscc}' already has an active auxiliary pairing with '{household_no}'",
                         household_no=household_no, uscc=uscc)


class AuxRequestPending(RuleViolation):
    code = "AUX_REQUEST_PENDING"

    def __init__(self, household_no: str, uscc: str, request_id: str) -> None:
        super().__init__(f"社会组织「{uscc}」对家庭「{household_no}」的辅助结对申请正在审批中",
                         f"organisation '{uscc}' already has a pending request for household '{household_no}'",
                         household_no=household_no, uscc=uscc, request_id=request_id)


class AuxRequestDecided(RuleViolation):
    code = "AUX_REQUEST_DECIDED"

    def __init__(self, request_id: str, status: str) -> None:
        super().__init__(f"辅助结对申请「{request_id}」已是「{status}」，不能再审批或撤回",
                         f"auxiliary pairing request '{request_id}' is already {status}: it cannot change again",
                         request_id=request_id, status=status)


class ClaimDecided(RuleViolation):
    code = "CLAIM_DECIDED"

    def __init__(self, claim_id: str, status: str) -> None:
        super().__init__(f"认领「{claim_id}」已是「{status}」，不能再处理", f"claim '{claim_id}' is already {status}",
                         claim_id=claim_id, status=status)


class PairExcluded(RuleViolation):
    code = "PAIR_EXCLUDED"

    def __init__(self, household_no: str, cadre_no: str) -> None:
        super().__init__(f"干部「{cadre_no}」与家庭「{household_no}」在回避名单上，不能结对",
                         f"cadre '{cadre_no}' is excluded from pairing with household '{household_no}'",
                         household_no=household_no, cadre_no=cadre_no)


class PairingRecorded(RuleViolation):
    """The same pairing (household, cadre, start date) is already recorded, and has ended: a new
    one would be indistinguishable from it (an import of the history would merge the two)."""

    code = "PAIRING_RECORDED"

    def __init__(self, household_no: str, cadre_no: str, started_on: object) -> None:
        super().__init__(
            f"家庭「{household_no}」与干部「{cadre_no}」自 {started_on} 起的结对已有记录且已结束，请另选开始日期",
            f"the pairing of household '{household_no}' with cadre '{cadre_no}' from {started_on} is already "
            f"recorded and has ended: choose another start date",
            household_no=household_no, cadre_no=cadre_no, started_on=str(started_on))


class ProposalStale(RuleViolation):
    """The graph changed after a matching proposal was made, in a way that breaks this pair."""

    code = "PROPOSAL_STALE"

    def __init__(self, household_no: str, expected: str | None, found: str | None) -> None:
        def who(cadre: str | None) -> str:
            return f"干部「{cadre}」" if cadre else "无结对"

        super().__init__(
            f"家庭「{household_no}」的结对已变化（方案时为{who(expected)}，现为{who(found)}），请重新生成方案",
            f"household '{household_no}' changed since the proposal (expected {expected or 'no pairing'}, "
            f"found {found or 'no pairing'}): propose again",
            household_no=household_no, expected=expected, found=found)


class DateOrder(RuleViolation):
    code = "DATE_ORDER"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en)


class FutureDate(RuleViolation):
    code = "FUTURE_DATE"

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(f"「{field}」不能晚于今天：{value}", f"'{field}' cannot be in the future: {value}",
                         field=field, value=str(value))


class ProblemAlreadyOpen(RuleViolation):
    code = "PROBLEM_EXISTS"

    def __init__(self, problem_no: str) -> None:
        super().__init__(f"问题编号「{problem_no}」在本县已被使用", f"problem number '{problem_no}' is already used in this county",
                         problem_no=problem_no)


class ProblemNotOpen(RuleViolation):
    code = "PROBLEM_NOT_OPEN"

    def __init__(self, problem_no: str, why_zh: str, why_en: str) -> None:
        super().__init__(f"问题「{problem_no}」不能关闭：{why_zh}",
                         f"problem '{problem_no}' cannot be closed: {why_en}", problem_no=problem_no)


class RecordConflict(RuleViolation):
    """A record number (记录编号) already names a different record."""

    code = "RECORD_CONFLICT"

    def __init__(self, field_zh: str, field_en: str, record_no: str) -> None:
        super().__init__(f"{field_zh}「{record_no}」已用于另一条内容不同的记录",
                         f"{field_en} '{record_no}' already names a different record", field=field_zh, key=record_no)


class NeedNotOpen(RuleViolation):
    """A referral names a need the person does not have open on its date."""

    code = "NEED_NOT_OPEN"

    def __init__(self, need_id: str, day: Any) -> None:
        super().__init__(f"需求「{need_id}」在 {day} 不是该人员未关闭的需求",
                         f"need '{need_id}' is not an open need of the person on {day}", need_id=need_id)


class ReferralExists(RuleViolation):
    code = "REFERRAL_OPEN"

    def __init__(self, need_id: str, referral_id: str) -> None:
        super().__init__(f"需求「{need_id}」已有进行中的转介「{referral_id}」",
                         f"need '{need_id}' already has an open referral '{referral_id}'",
                         need_id=need_id, referral_id=referral_id)


class ReferralStatusConflict(RuleViolation):
    """A referral's status does not allow the change (accepting a closed one …)."""

    code = "REFERRAL_STATE"

    def __init__(self, referral_id: str, status: str, action_zh: str, action_en: str) -> None:
        super().__init__(f"转介「{referral_id}」当前为「{status}」，不能{action_zh}",
                         f"referral '{referral_id}' is {status}: it cannot be {action_en}",
                         referral_id=referral_id, status=status)


class NoOffer(RuleViolation):
    """An organisation is sent a need that no active offer of it covers."""

    code = "NO_OFFER"

    def __init__(self, uscc: str, category: str, day: Any) -> None:
        super().__init__(f"社会组织「{uscc}」在 {day} 没有覆盖该人员所在地的「{category}」类服务供给",
                         f"organisation '{uscc}' has no active offer of a {category} service covering the "
                         f"person's village on {day}", uscc=uscc, category=category)


class OfferFull(RuleViolation):
    """An offer has no room left this year for another person."""

    code = "OFFER_FULL"

    def __init__(self, offer_id: str) -> None:
        super().__init__(f"服务供给「{offer_id}」本年度容量已满", f"offer '{offer_id}' has no room left this year",
                         offer_id=offer_id)


class IdempotencyKeyReused(InvalidValue):
    """An ``Idempotency-Key`` sent again with another request (another method, address or body)."""

    def __init__(self, key: str) -> None:
        super().__init__("Idempotency-Key", key, "该键已用于另一个请求（方法、地址或内容不同），请为新请求另生成一个键",
                         "the key was used for another request (method, address or body): make a new key for a "
                         "new request", code="IDEMPOTENCY_KEY_REUSED")


class RequestInProgress(RuleViolation):
    """The first request with this ``Idempotency-Key`` is still being answered."""

    code = "IDEMPOTENCY_IN_PROGRESS"

    def __init__(self) -> None:
        super().__init__("带相同幂等键的请求正在处理中，请稍后重试", "a request with the same Idempotency-Key is still "
                         "being answered; retry in a moment")


class StoreError(JieduiError):
    """The store failed for a reason that is not the caller's input."""

    code = "STORE_ERROR"


class StoreUnavailable(StoreError):
    code = "STORE_UNAVAILABLE"


class StoreLocked(StoreError):
    code = "STORE_LOCKED"


class QueryParameterError(StoreError):
    """A query names a ``$parameter`` the caller did not pass (Ladybug would silently use NULL)."""

    code = "QUERY_PARAMETER"
