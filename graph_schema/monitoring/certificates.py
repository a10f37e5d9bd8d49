"""Certificate expiry (证件到期提醒): whose disability certificate expires within six months of
``as_of``, and which of their two reminders have been given or are due.

A person of the scope (by their household's region) is listed when their certificate expires on
or after ``as_of`` and no later than ``as_of`` plus six calendar months (both ends inclusive: a
certificate expiring on ``as_of`` is listed with 0 days left; one already expired is not listed
here, the benefit comparison reports it). Calendar months keep the day of the month, clamped to
the month's end: 31 August plus six months is 28 (or 29) February.

Two reminder windows apply to each certificate expiry date:

- ``6m``: every listed person is inside it (expiry ≤ ``as_of`` + 6 months);
- ``1m``: expiry ≤ ``as_of`` + 1 month. ``within`` shows the narrowest window: 1个月 or 6个月.

A window's reminder is *sent* when a ``Reminder`` for that ID number, that expiry date and that
window was given on or before ``as_of``; it is *due* when the person is inside the window and it
is not sent. A renewed certificate has a new expiry date and so needs new reminders.
:func:`record_reminders` records the due ones (sent on ``as_of``) and never records one twice.

Rows are ordered by expiry date, then ID number (shown masked).

Persons (their certificate, name and household) and households (their village) are taken as they
were on ``as_of`` (:mod:`graph_schema.history`): a certificate renewed later is still listed for a
day it was about to expire. Later imports never change a past answer.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from graph_schema import history
from graph_schema.errors import FutureDate
from graph_schema.identifiers import RegionLevel, mask_id_number
from graph_schema.models import today
from graph_schema.monitoring.common import (
    HOUSEHOLD_IN_SCOPE_NEO4J,
    SCOPED_HOUSEHOLDS,
    Report,
    as_of_or_today,
)
from graph_schema.monitoring.past import affected_households, households_then, members_then
from graph_schema.pagination import Page, PageRequest
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import Dialect, GraphStore, Tx, chunks
from graph_schema.store.schema import PERSON, REMINDER

SIX_MONTHS = "6m"
ONE_MONTH = "1m"
#: The windows in the order they open.
WINDOWS = (SIX_MONTHS, ONE_MONTH)
_WITHIN = {SIX_MONTHS: "6个月", ONE_MONTH: "1个月"}

_COLUMNS = ("RETURN p.id_number AS id_number, p.name AS name, h.household_no AS household_no, "
            "h.region_code AS region_code, p.cert_expiry AS cert_expiry ")
#: (The date condition follows a WITH so that the engine starts from the scope, not from every person.)
_IN_SCOPE = (
    SCOPED_HOUSEHOLDS +
    "MATCH (p:Person)-[:MEMBER_OF]->(h) WITH h, p WHERE p.cert_expiry >= $as_of AND p.cert_expiry <= $until "
)
#: On Neo4j a scope wider than a county starts from the index on ``Person(cert_expiry)`` (the
#: province's ~35k persons expiring within six months, not the members of its 700,967 households),
#: each one's household reached in a ``CALL`` subquery (as in monitoring/benefits.py).
_IN_WIDE_SCOPE_NEO4J = (
    "MATCH (p:Person) USING INDEX p:Person(cert_expiry) WHERE p.cert_expiry >= $as_of AND p.cert_expiry <= $until "
    + HOUSEHOLD_IN_SCOPE_NEO4J
)
_COUNT = "RETURN count(p) AS n"
_PAGE = _COLUMNS + "ORDER BY cert_expiry, id_number SKIP $skip LIMIT $limit"
EXPIRING_ALL = _IN_SCOPE + _COLUMNS
EXPIRING_OF = (
    "UNWIND $ids AS k MATCH (p:Person {id_number: k})-[:MEMBER_OF]->(h:Household) "
    "WITH h, p WHERE h.region_code STARTS WITH $prefix AND p.cert_expiry >= $as_of AND p.cert_expiry <= $until "
) + _COLUMNS


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end
    (2024-08-31 + 6 → 2025-02-28; 2023-08-31 + 6 → 2024-02-29)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def reminder_id(id_number: str, cert_expiry: dt.date, window: str) -> str:
    """The key of the reminder of one window for one certificate expiry date."""
    text = "\x1f".join((id_number, cert_expiry.isoformat(), window))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def windows_of(cert_expiry: dt.date, as_of: dt.date) -> list[str]:
    """The reminder windows a certificate expiring on ``cert_expiry`` is inside on ``as_of``."""
    if not as_of <= cert_expiry <= add_months(as_of, 6):
        return []
    return [SIX_MONTHS, ONE_MONTH] if cert_expiry <= add_months(as_of, 1) else [SIX_MONTHS]


@dataclass(frozen=True)
class CertExpiry:
    id_masked: str
    name: str
    household_no: str
    region_code: str
    cert_expiry: dt.date
    days_left: int
    within: str
    reminders_sent: list[str]
    reminders_due: list[str]


def _scope_params(tx: Tx, region: str, as_of: dt.date) -> dict[str, object]:
    return {"prefix": resolve_scope(tx, region)[1], "as_of": as_of, "until": add_months(as_of, 6)}


def _stored_reminders(tx: Tx, persons: Sequence[dict]) -> dict[str, dt.date]:
    """``reminder_id → sent_on`` of the stored reminders of ``persons``' current expiry dates."""
    keys = [reminder_id(p["id_number"], p["cert_expiry"], w) for p in persons for w in WINDOWS]
    return {k: row["sent_on"] for k, row in fetch_by_keys(tx, REMINDER, keys, ["reminder_id", "sent_on"]).items()}


def _row(p: dict, as_of: dt.date, stored: dict[str, dt.date]) -> CertExpiry:
    windows = windows_of(p["cert_expiry"], as_of)
    sent_on = {w: stored.get(reminder_id(p["id_number"], p["cert_expiry"], w)) for w in WINDOWS}
    sent = [w for w in WINDOWS if sent_on[w] is not None and sent_on[w] <= as_of]
    return CertExpiry(
        id_masked=mask_id_number(p["id_number"]), name=p["name"], household_no=p["household_no"],
        region_code=p["region_code"], cert_expiry=p["cert_expiry"], days_left=(p["cert_expiry"] - as_of).days,
        within=_WITHIN[windows[-1]], reminders_sent=sent, reminders_due=[w for w in windows if w not in sent])


def cert_expiry(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                page: PageRequest = PageRequest(), **_: object) -> Page[CertExpiry]:
    """Persons of ``region`` whose certificate expires within six months of ``as_of`` (default
    today), with their reminders; see the module for the windows."""
    as_of = as_of_or_today(as_of)

    def work(tx: Tx) -> Page[CertExpiry]:
        params = _scope_params(tx, region, as_of)
        past = history.past(tx, as_of)
        if past is None:
            wide = len(params["prefix"]) < RegionLevel.COUNTY.prefix_length and tx.dialect is Dialect.NEO4J
            match = _IN_WIDE_SCOPE_NEO4J if wide else _IN_SCOPE
            total = tx.run(match + _COUNT, params)[0]["n"]
            persons = tx.run(match + _PAGE, params | {"skip": page.skip, "limit": page.page_size}) \
                if page.skip < total else []
        else:
            every = _as_it_was(tx, past, tx.run(EXPIRING_ALL, params), params)
            every.sort(key=lambda p: (p["cert_expiry"], p["id_number"]))
            total, persons = len(every), every[page.skip:page.skip + page.page_size]
        stored = _stored_reminders(tx, persons)
        return Page([_row(p, as_of, stored) for p in persons], total, page.page, page.page_size)

    return store.read(work)


def _as_it_was(tx: Tx, past: history.Past, persons: list[dict], params: dict) -> list[dict]:
    """``persons`` (today's) with the members of the households changed since the day, and the
    persons changed since, made again from their state of the day."""
    affected = affected_households(tx, past)
    gone = {p["id_number"] for found in members_then(tx, None, affected).values() for p in found}
    gone |= past.touched(PERSON)
    then = households_then(tx, past, affected, params["prefix"])
    kept = [p for p in persons if p["id_number"] not in gone]
    for no, members in members_then(tx, past, then).items():
        kept += [{"id_number": p["id_number"], "name": p["name"], "household_no": no,
                  "region_code": then[no]["region_code"], "cert_expiry": p["cert_expiry"]}
                 for p in members
                 if p["cert_expiry"] is not None and params["as_of"] <= p["cert_expiry"] <= params["until"]]
    return kept


def record_reminders(*, store: GraphStore, region: str, as_of: dt.date | None = None,
                     id_numbers: Sequence[str] | None = None, note: str | None = None) -> int:
    """Record every reminder due on ``as_of`` (default today; not in the future) for the persons of
    ``region`` (only those of ``id_numbers`` when given: others are ignored), sent on ``as_of``,
    in one transaction. A reminder already stored for the same ID number, expiry date and window
    (whenever it was sent) is never recorded again. Returns how many were recorded."""
    as_of = as_of_or_today(as_of)
    if as_of > today():
        raise FutureDate("提醒日期", as_of)

    def work(tx: Tx) -> int:
        params = _scope_params(tx, region, as_of)
        if id_numbers is None:
            persons = tx.run(EXPIRING_ALL, params)
        else:
            persons = [row for part in chunks(sorted(set(id_numbers)), 20_000)
                       for row in tx.run(EXPIRING_OF, params | {"ids": list(part)})]
        # concurrent recorders of the same persons wait here, then see each other's reminders
        tx.lock(PERSON, sorted(p["id_number"] for p in persons))
        stored = _stored_reminders(tx, persons)
        new = [{"reminder_id": key, "id_number": p["id_number"], "cert_expiry": p["cert_expiry"], "window": w,
                "sent_on": as_of, "note": note}
               for p in persons for w in windows_of(p["cert_expiry"], as_of)
               if (key := reminder_id(p["id_number"], p["cert_expiry"], w)) not in stored]
        tx.create_nodes(REMINDER, new)
        return len(new)

    return store.write(work)


CERT_EXPIRY = Report(
    name="cert-expiry", title="残疾人证到期提醒 / certificate expiry", row=CertExpiry,
    headers={"id_masked": "身份证号", "name": "姓名", "household_no": "户编号", "region_code": "区划代码",
             "cert_expiry": "证件有效期至", "days_left": "剩余天数", "within": "到期范围",
             "reminders_sent": "已提醒", "reminders_due": "待提醒"},
    run=cert_expiry)
