"""Services: the catalogue (服务目录), assessed needs (服务需求), offers (服务供给), deliveries
(服务记录) and referrals (转介).

Each record that an import or a user writes has a natural key made from its content (the data
contract's keys), so writing it twice changes nothing; keys that would carry an ID number are
digests of it, since a need's or a delivery's id travels where the number itself must not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Self

from pydantic import Field, model_validator

from graph_schema.enums import (
    DeliveryOutcome,
    NeedSource,
    NeedStatus,
    OfferMode,
    ReferralReason,
    ReferralStatus,
    ServiceCategory,
    ServiceDept,
    ServiceUnit,
)
from graph_schema.models import Fen, IdNumber, Key, Model, OptionalText, RegionCode, RuleBroken, Text, Uscc, list_of

DEFAULT_TIME_LIMIT = 90


def digest(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ServiceType(Model):
    """One entry of the catalogue: ``counts`` (计入服务率) says whether its deliveries count toward
    its category's service rate; ``time_limit`` (办理时限) is the days from a confirmed need to a
    delivery before the need is overdue."""

    code: Key
    name: Text
    category: ServiceCategory
    counts: bool = True
    unit: ServiceUnit | None = None
    time_limit: int = Field(DEFAULT_TIME_LIMIT, ge=1, le=730)
    lead_dept: ServiceDept | None = None


def _default(code: str, name: str, category: ServiceCategory, unit: ServiceUnit, days: int) -> ServiceType:
    return ServiceType(code=code, name=name, category=category, unit=unit, time_limit=days)


_C, _U = ServiceCategory, ServiceUnit
#: The catalogue the system ships (data contract); an import of 服务目录 adds or changes entries.
DEFAULT_CATALOGUE: tuple[ServiceType, ...] = (
    _default("KF01", "康复训练", _C.REHABILITATION, _U.SESSION, 60),
    _default("KF02", "残疾儿童康复救助", _C.REHABILITATION, _U.PERSON, 30),
    _default("KF03", "精神障碍社区康复", _C.REHABILITATION, _U.SESSION, 60),
    _default("FJ01", "轮椅、助行器等辅具适配", _C.ASSISTIVE_DEVICE, _U.ITEM, 60),
    _default("FJ02", "助听器适配", _C.ASSISTIVE_DEVICE, _U.ITEM, 60),
    _default("WZ01", "家庭无障碍改造", _C.ACCESSIBILITY, _U.HOUSEHOLD, 180),
    _default("TY01", "托养照护", _C.CARE, _U.PERSON, 90),
    _default("JY01", "就业帮扶", _C.EMPLOYMENT, _U.PERSON, 90),
    _default("PX01", "实用技术培训", _C.TRAINING, _U.PERSON, 90),
    _default("JX01", "送教上门", _C.EDUCATION, _U.PERSON, 90),
)


class Need(Model):
    """One assessment of a person's need for a service (``service_code``) or for any service of a
    category: at least one of the two; the service's own category is filled in when it is stored.
    A later assessment of the same service or category supersedes this one; none is ever
    overwritten."""

    id_number: IdNumber
    service_code: Key | None = None
    category: ServiceCategory | None = None
    assessed_on: dt.date
    status: NeedStatus = NeedStatus.CONFIRMED
    source: NeedSource | None = None
    assessor: OptionalText = None
    note: OptionalText = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.service_code is None and self.category is None:
            raise RuleBroken("SERVICE_OR_CATEGORY", "服务编码与类别至少填写一个 / a service code or a category is needed")
        if self.source is NeedSource.REGISTRY:
            raise RuleBroken("NEED_SOURCE", "来源「登记」只用于残疾人登记的需求列 / source 登记 is the registry's own")
        return self

    @property
    def subject(self) -> str:
        """What the assessment is about: the service, or else the category."""
        return self.service_code or (self.category.value if self.category else "")

    @property
    def need_id(self) -> str:
        """The data contract's key: 身份证号 + 服务编码 or 类别 + 评估日期."""
        return digest("need", self.id_number, self.subject, self.assessed_on)

    def to_row(self) -> dict:
        return {"need_id": self.need_id, **super().to_row()}


def registry_need_id(id_number: str, category: str) -> str:
    """The id of the need the registry's 需求 column records (no node holds it: see needs.py)."""
    return digest("need", id_number, category, "登记")


class Offer(Model):
    """An organisation's offer of one service over a region (any level; it covers everything under
    it), valid from ``valid_from`` to ``valid_to`` (both days included; open-ended when empty).
    ``capacity`` is persons a year (None: not limited); ``designated_until`` the end of the
    designation (定点资质) that lets its deliveries be subsidised."""

    uscc: Uscc
    service_code: Key
    region_code: RegionCode
    capacity: int | None = Field(None, ge=0)
    modes: list_of(OfferMode) = []
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    designated_until: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise RuleBroken("DATE_ORDER", f"截止日期 {self.valid_to} 早于起始日期 {self.valid_from} / "
                             f"the offer ends ({self.valid_to}) before it starts ({self.valid_from})")
        return self

    @property
    def offer_id(self) -> str:
        return f"{self.uscc}/{self.service_code}/{self.region_code}"

    def active_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or self.valid_to >= day)

    def designated_on(self, day: dt.date) -> bool:
        return self.designated_until is not None and self.designated_until >= day

    def to_row(self) -> dict:
        return {"offer_id": self.offer_id, **super().to_row()}


class Delivery(Model):
    """A service delivered to a person, by an organisation (``uscc``), a department (``dept``) or
    both. 完成 and 进行中 count toward the service rates; 未完成 does not."""

    record_no: Key | None = None
    id_number: IdNumber
    service_code: Key
    delivered_on: dt.date
    ended_on: dt.date | None = None
    uscc: Uscc | None = None
    dept: ServiceDept | None = None
    quantity: int = Field(1, ge=1, le=1_000_000)
    item: OptionalText = None
    cost_fen: Fen | None = None
    subsidy_fen: Fen | None = None
    outcome: DeliveryOutcome = DeliveryOutcome.DONE

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.uscc is None and self.dept is None:
            raise RuleBroken("PROVIDER", "统一社会信用代码与提供部门至少填写一个 / an organisation or a department must provide it")
        if self.ended_on and self.ended_on < self.delivered_on:
            raise RuleBroken("DATE_ORDER", f"结束日期 {self.ended_on} 早于服务日期 {self.delivered_on} / "
                             f"ends ({self.ended_on}) before it starts ({self.delivered_on})")
        if self.cost_fen is not None and self.subsidy_fen is not None and self.subsidy_fen > self.cost_fen:
            raise RuleBroken("SUBSIDY_OVER_COST", "补贴金额大于费用 / the subsidy exceeds the cost")
        return self

    @property
    def delivery_id(self) -> str:
        """The 记录编号 when given, else the data contract's key: person, service, day, provider."""
        if self.record_no:
            return self.record_no
        return digest("delivery", self.id_number, self.service_code, self.delivered_on, self.uscc,
                      self.dept and self.dept.value)

    def to_row(self) -> dict:
        return {"delivery_id": self.delivery_id, **super().to_row()}


class Referral(Model):
    """A need sent to a provider (an organisation or a department) by an organiser, due within the
    service's 办理时限. Open while 待接收 or 已接收; 已拒绝 and 已撤回 carry a reason; 已完成 names the
    delivery that fulfilled it."""

    referral_id: Key
    need_id: Key
    id_number: IdNumber
    category: ServiceCategory
    service_code: Key | None = None
    provider_uscc: Uscc | None = None
    provider_dept: ServiceDept | None = None
    made_on: dt.date
    made_by: Key
    due_on: dt.date
    status: ReferralStatus = ReferralStatus.PENDING
    accepted_on: dt.date | None = None
    closed_on: dt.date | None = None
    reason: ReferralReason | None = None
    note: OptionalText = None
    delivery_id: Key | None = None
    proposal_id: Key | None = None

    @model_validator(mode="after")
    def _one_provider(self) -> Self:
        if (self.provider_uscc is None) == (self.provider_dept is None):
            raise RuleBroken("PROVIDER", "转介对象须为一个组织或一个部门 / a referral goes to one organisation or one department")
        return self

    @property
    def provider(self) -> str:
        return self.provider_uscc or (self.provider_dept.value if self.provider_dept else "")

    def open_on(self, day: dt.date) -> bool:
        """Made on or before ``day`` and not closed by then."""
        return self.made_on <= day and (self.closed_on is None or self.closed_on > day)
