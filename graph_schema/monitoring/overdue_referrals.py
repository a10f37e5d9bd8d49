"""Overdue referrals: needs sent to a provider that has not closed them by their due date.

A referral of a person of the region is listed when, on ``as_of``, it was made on or before
``as_of``, its due date (the referral's date plus the service's 办理时限) is before ``as_of``, and it
is not closed by then (closed after ``as_of``, or not at all). ``status`` is its state on ``as_of``:
已接收 when accepted by then, else 待接收.

Rows are grouped by provider (an organisation's code, or a department), then by due date, oldest
first, then by the referral's id; ``overdue_at_provider`` is how many of the provider's referrals
the list holds, so a provider's backlog reads at a glance. ID numbers are shown masked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from graph_schema.enums import ReferralStatus
from graph_schema.identifiers import mask_id_number
from graph_schema.monitoring.common import SCOPED_HOUSEHOLDS, Report, as_of_or_today, paginate
from graph_schema.pagination import Page, PageRequest
from graph_schema.region.service import resolve_scope
from graph_schema.service.models import Referral
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import REFERRAL

_REFERRAL_COLUMNS = ", ".join(f"r.{c} AS {c}" for c in REFERRAL.columns)
_OVERDUE = (
    SCOPED_HOUSEHOLDS + "MATCH (p:Person)-[:MEMBER_OF]->(h) MATCH (p)-[:HAS_REFERRAL]->(r:Referral) "
    "WITH h, p, r WHERE r.made_on <= $as_of AND r.due_on < $as_of AND (r.closed_on IS NULL OR r.closed_on > $as_of) "
    "OPTIONAL MATCH (r)-[:REFERRED_TO]->(g:Org) "
    "RETURN p.name AS name, h.household_no AS household_no, h.region_code AS region_code, g.name AS org_name, "
    + _REFERRAL_COLUMNS
)


@dataclass(frozen=True)
class OverdueReferral:
    provider: str  # 统一社会信用代码, or the department
    provider_name: str
    overdue_at_provider: int
    id_masked: str
    name: str
    household_no: str
    region_code: str
    category: str
    service_code: str | None
    made_on: dt.date
    due_on: dt.date
    days_overdue: int
    status: str
    referral_id: str


def overdue_referrals(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                      page: PageRequest = PageRequest(), **_) -> Page[OverdueReferral]:
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> list[tuple[dict, Referral]]:
        _, prefix = resolve_scope(tx, region)
        return [(row, Referral.from_row(row)) for row in tx.run(_OVERDUE, {"prefix": prefix, "as_of": as_of})]

    found = store.read(work)
    backlog = Counter(r.provider for _, r in found)
    rows = [OverdueReferral(
        provider=r.provider, provider_name=row["org_name"] or r.provider, overdue_at_provider=backlog[r.provider],
        referral_id=r.referral_id, id_masked=mask_id_number(r.id_number), name=row["name"],
        household_no=row["household_no"], region_code=row["region_code"], category=r.category.value,
        service_code=r.service_code, made_on=r.made_on, due_on=r.due_on, days_overdue=(as_of - r.due_on).days,
        status=(ReferralStatus.ACCEPTED if r.accepted_on and r.accepted_on <= as_of else ReferralStatus.PENDING).value,
    ) for row, r in found]
    rows.sort(key=lambda o: (o.provider, o.due_on, o.referral_id))
    return paginate(rows, page)


OVERDUE_REFERRALS = Report(
    name="overdue-referrals", title="逾期未办结的转介 / overdue referrals by provider", row=OverdueReferral,
    headers={"provider": "承接方", "provider_name": "承接方名称", "overdue_at_provider": "该承接方逾期数",
             "id_masked": "身份证号", "name": "姓名", "household_no": "户编号",
             "region_code": "区划代码", "category": "类别", "service_code": "服务编码", "made_on": "转介日期",
             "due_on": "办理期限", "days_overdue": "逾期天数", "status": "状态", "referral_id": "转介编号"},
    run=overdue_referrals, organisers_only=True)
