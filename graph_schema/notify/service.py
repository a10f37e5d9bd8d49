"""Reminders that reach people: each user's inbox, and a text message telling them it holds news.

:func:`notify` (run daily: ``jiedui notify``, the console's button, or the service at
``JIEDUI_NOTIFY_AT``) writes, for every enabled user:

- **a cadre** (their active 一对一 pairings): each household whose quarterly home visit falls due
  within :data:`DUE_SOON_DAYS` days, and each whose visit is late. A visit is due 90 days after the
  cadre's last 入户走访 to the household made since the pairing began, or 90 days after the pairing
  began when there was none (:func:`graph_schema.monitoring.visits.visit_due`, the rule the
  cadre's pages show too). The certificate reminders due for the members of their households
  (six months and one month before expiry, as :mod:`graph_schema.monitoring.certificates` defines
  them): the message is the reminder, so it is recorded as given (``Reminder``, sent on ``as_of``)
  in the same transaction and never goes twice. Problems of their households open for more than
  :data:`PROBLEM_DAYS` days (opened before ``as_of`` minus that many days).
- **an organiser**: a digest of their region on ``as_of``: how many priority households are
  unpaired, how many visits are overdue, problems open, certificate reminders due, benefit gaps.
- **an organisation**: its requests for auxiliary pairings decided in the :data:`ORG_NEWS_DAYS`
  days up to ``as_of`` (approved: the household is open to it now; declined, with the note), one
  message per decision; and the referrals sent to it in those days that still wait for its answer
  (待接收), one message each. What an organisation is told is the list :data:`ORG_NEWS`.

A message's key is made from what it says (the household and the due date, the reminder, the
problem, the digest's day), so running ``notify`` again the same day, or the next day for a fact
that has not changed, adds nothing. Users are handled in groups of :data:`USERS_PER_WRITE`, each
in one write transaction: an interrupted run leaves whole groups, and the next run completes it.

Each user with a mobile phone (a cadre's or an organisation's, from the roster; a landline takes no
text) and new messages also gets one text message in the outbox for the day, naming no person and
no household (an SMS gateway is a third party): only how many messages wait in the inbox.
:mod:`graph_schema.notify.senders` sends it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from graph_schema.access.models import Role
from graph_schema.enums import AuxRequestStatus, LedgerKind, ReferralStatus
from graph_schema.errors import FutureDate
from graph_schema.history import end_of
from graph_schema.models import today
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.certificates import WINDOWS, add_months, reminder_id, windows_of
from graph_schema.monitoring.visits import visit_due
from graph_schema.notify.models import Message, MessageKind, Outgoing, OutgoingStatus, message_key
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import scope_prefix
from graph_schema.store.base import GraphStore, Tx, chunks
from graph_schema.store.schema import INBOX, MESSAGE, OUTGOING, REMINDER, USER

DUE_SOON_DAYS = 14
PROBLEM_DAYS = 30
ORG_NEWS_DAYS = 14  # an organisation hears of decisions this recent (a first run does not replay all history)
USERS_PER_WRITE = 500
_MOBILE = re.compile(r"1[0-9]{10}")

_USERS = ("MATCH (u:User) WHERE u.disabled = false AND u.role IN $roles "
          "RETURN u.user_id AS user_id, u.role AS role, u.region_code AS region_code, u.cadre_no AS cadre_no, "
          "u.uscc AS uscc ORDER BY user_id")
_CADRES = "UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k}) RETURN c.cadre_no AS cadre_no, c.station_code AS station, " \
          "c.phone AS phone"
_ORGS = ("UNWIND $keys AS k MATCH (o:Org {uscc: k}) RETURN o.uscc AS uscc, o.service_region_code AS station, "
         "o.phone AS phone")
#: the table of requests is small (a scan beats a walk, as ``Scope.aux_requests`` says)
_DECIDED = ("MATCH (q:AuxRequest) WHERE q.uscc IN $keys AND q.status IN $statuses AND q.decided_at >= $since "
            "AND q.decided_at < $until RETURN q.request_id AS request_id, q.uscc AS uscc, q.household_no AS household_no, "
            "q.status AS status, q.decided_at AS decided_at, q.decision_note AS note")
#: referrals sent to the organisations lately and still waiting for their answer
_REFERRED = ("MATCH (r:Referral)-[:REFERRED_TO]->(o:Org) WHERE o.uscc IN $keys AND r.status = $pending "
             "AND r.made_on >= $since AND r.made_on <= $as_of RETURN o.uscc AS uscc, r.referral_id AS referral_id, "
             "r.category AS category, r.made_on AS made_on, r.due_on AS due_on")
_PAIRINGS = ("UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k}) OPTIONAL MATCH (c)-[p:PAIRED_WITH]->(h:Household) "
             "WHERE p.ended_on IS NULL AND p.started_on <= $as_of "
             "RETURN c.cadre_no AS cadre_no, h.household_no AS household_no, p.started_on AS started_on")
_VISITS = ("UNWIND $keys AS k MATCH (c:Cadre {cadre_no: k}) OPTIONAL MATCH (c)-[e:ASSISTED]->(h:Household) "
           "WHERE e.kind = $visit AND e.entry_date <= $as_of "
           "RETURN c.cadre_no AS cadre_no, h.household_no AS household_no, max(e.entry_date) AS last")
_EXPIRING = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) OPTIONAL MATCH (p:Person)-[:MEMBER_OF]->(h) "
             "WHERE p.cert_expiry >= $as_of AND p.cert_expiry <= $until "
             "RETURN h.household_no AS household_no, p.id_number AS id_number, p.name AS name, "
             "p.cert_expiry AS cert_expiry")
_OLD_PROBLEMS = ("UNWIND $keys AS k MATCH (h:Household {household_no: k}) OPTIONAL MATCH (h)-[:HAS_PROBLEM]->(q:Problem) "
                 "WHERE q.opened_on <= $cutoff AND (q.closed_on IS NULL OR q.closed_on > $as_of) "
                 "RETURN h.household_no AS household_no, q.problem_no AS problem_no, q.opened_on AS opened_on")

#: the reports an organiser's digest counts, with the words it counts them in
DIGEST = (("unpaired", "未结对重点户", "unpaired priority households"),
          ("overdue-visits", "走访逾期", "overdue visits"),
          ("open-problems", "未解决困难", "open problems"),
          ("cert-expiry", "证件将到期", "certificates expiring"),
          ("benefit-gaps", "待遇比对疑点", "benefit gaps"))


@dataclass
class NotifyResult:
    as_of: dt.date
    users: int = 0  # users looked at
    messages: Counter = field(default_factory=Counter)  # new messages by kind
    reminders: int = 0  # certificate reminders recorded as given
    outgoing: int = 0  # text messages put in the outbox


@dataclass(frozen=True)
class _User:
    user_id: str
    role: Role
    region_code: str | None
    cadre_no: str | None
    uscc: str | None


def notify(*, store: GraphStore, as_of: dt.date | None = None, region: str | None = None) -> NotifyResult:
    """Write the inboxes and the outbox for ``as_of`` (default today; never a future day), for the
    users whose cadre is stationed, or whose region lies, under ``region`` (default: everyone)."""
    as_of = as_of or today()
    if as_of > today():
        raise FutureDate("通知日期", as_of)
    prefix = scope_prefix(region)
    users = [_User(r["user_id"], Role(r["role"]), r["region_code"], r["cadre_no"], r["uscc"])
             for r in store.query(_USERS, {"roles": [Role.CADRE.value, Role.ORGANIZER.value, Role.ORG.value]})]
    result = NotifyResult(as_of)
    for group in chunks(users, USERS_PER_WRITE):
        roster = store.read(lambda tx: _roster(tx, group))  # noqa: B023 - called at once
        mine = [u for u in group if _under(u, roster, prefix)]
        digests = [_digest(store, u, as_of) for u in mine if u.role is Role.ORGANIZER]
        result.users += len(mine)
        store.write(lambda tx: _notify_group(tx, mine, roster, digests, as_of, result))  # noqa: B023
    return result


def _roster(tx: Tx, users: Sequence[_User]) -> dict[tuple[Role, str], dict]:
    """The station (a cadre's; an organisation's service region) and phone of the users' cadres
    and organisations, by role and cadre number or 统一社会信用代码."""
    cadres = tx.run(_CADRES, {"keys": sorted({u.cadre_no for u in users if u.cadre_no})})
    orgs = tx.run(_ORGS, {"keys": sorted({u.uscc for u in users if u.uscc})})
    return {(Role.CADRE, r["cadre_no"]): r for r in cadres} | {(Role.ORG, r["uscc"]): r for r in orgs}


def _bound(user: _User) -> tuple[Role, str] | None:
    """The roster record a cadre's or an organisation's user acts for."""
    if user.role is Role.CADRE:
        return (Role.CADRE, user.cadre_no or "")
    return (Role.ORG, user.uscc or "") if user.role is Role.ORG else None


def _under(user: _User, roster: dict[tuple[Role, str], dict], prefix: str) -> bool:
    bound = _bound(user)
    if bound is not None:
        return bound in roster and (roster[bound]["station"] or "").startswith(prefix)
    return (scope_prefix(user.region_code) or "").startswith(prefix)


def _notify_group(tx: Tx, users: Sequence[_User], roster: dict[tuple[Role, str], dict], digests: Sequence[Message],
                  as_of: dt.date, result: NotifyResult) -> None:
    """Decide and write one group's messages, reminders and texts, in one transaction. The users
    are locked first, so two runs at once wait for each other and the second finds the first's
    messages stored."""
    tx.lock(USER, sorted(u.user_id for u in users))
    messages: list[Message] = list(digests)
    reminders: list[dict] = []
    cadre_users = [u for u in users if u.role is Role.CADRE]
    if cadre_users:
        found, reminders = _cadre_messages(tx, cadre_users, as_of)
        messages += found
    org_users = [u for u in users if u.role is Role.ORG]
    if org_users:
        messages += _org_messages(tx, org_users, as_of)
    stored = fetch_by_keys(tx, MESSAGE, [m.message_id for m in messages], ["message_id"])
    new = [m for m in messages if m.message_id not in stored]
    sent_reminders = {m.message_id for m in new if m.kind is MessageKind.CERT_REMINDER}
    reminders = [r for r in reminders if message_key("cert", r["reminder_id"]) in sent_reminders]
    tx.create_nodes(MESSAGE, [m.to_row() for m in new])
    tx.create_rels(INBOX, USER, MESSAGE, [{"src": m.user_id, "dst": m.message_id} for m in new])
    tx.create_nodes(REMINDER, reminders)
    outgoing = _texts(tx, users, roster, new, as_of)
    tx.create_nodes(OUTGOING, [o.to_row() for o in outgoing])
    result.messages.update(m.kind for m in new)
    result.reminders += len(reminders)
    result.outgoing += len(outgoing)


def _cadre_messages(tx: Tx, users: Sequence[_User], as_of: dt.date) -> tuple[list[Message], list[dict]]:
    """The visit, certificate and problem messages of cadre users, and the reminders they give."""
    keys = sorted({u.cadre_no for u in users if u.cadre_no})
    params = {"keys": keys, "as_of": as_of, "visit": LedgerKind.VISIT.value}
    pairings = [r for r in tx.run(_PAIRINGS, params) if r["household_no"]]
    last = {(r["cadre_no"], r["household_no"]): r["last"] for r in tx.run(_VISITS, params) if r["household_no"]}
    user_of = {u.cadre_no: u.user_id for u in users}
    household_user = {p["household_no"]: user_of[p["cadre_no"]] for p in pairings}
    out: list[Message] = []
    for p in pairings:
        out += _visit_message(user_of[p["cadre_no"]], p, last.get((p["cadre_no"], p["household_no"])), as_of)
    households = sorted(household_user)
    reminders: list[dict] = []
    expiring = [r for r in tx.run(_EXPIRING, {"keys": households, "as_of": as_of, "until": add_months(as_of, 6)})
                if r["id_number"]]
    given = fetch_by_keys(tx, REMINDER, [reminder_id(r["id_number"], r["cert_expiry"], w)
                                         for r in expiring for w in WINDOWS], ["reminder_id"])
    for r in expiring:
        for window in windows_of(r["cert_expiry"], as_of):
            key = reminder_id(r["id_number"], r["cert_expiry"], window)
            if key in given:
                continue
            user_id = household_user[r["household_no"]]
            months = "6个月" if window == WINDOWS[0] else "1个月"
            out.append(Message(
                message_key("cert", key), user_id, MessageKind.CERT_REMINDER, as_of,
                f"证件到期提醒（{months}）/ certificate expires within {months.replace('个月', ' month(s)')}",
                f"户 {r['household_no']} 成员 {r['name']} 的残疾人证将于 {r['cert_expiry']} 到期，请提醒其及时换证 / "
                f"a member of household {r['household_no']} has a certificate expiring on {r['cert_expiry']}: "
                "remind them to renew it",
                due_on=r["cert_expiry"], household_no=r["household_no"]))
            reminders.append({"reminder_id": key, "id_number": r["id_number"], "cert_expiry": r["cert_expiry"],
                              "window": window, "sent_on": as_of, "note": f"通知结对干部 / told the cadre ({user_id})"})
    cutoff = as_of - dt.timedelta(days=PROBLEM_DAYS + 1)  # open longer than PROBLEM_DAYS days
    for r in tx.run(_OLD_PROBLEMS, {"keys": households, "as_of": as_of, "cutoff": cutoff}):
        if r["problem_no"]:
            days = (as_of - r["opened_on"]).days
            out.append(Message(
                message_key("problem", household_user[r["household_no"]], r["household_no"], r["problem_no"]),
                household_user[r["household_no"]], MessageKind.PROBLEM_OPEN, as_of,
                f"困难 {r['problem_no']} 已 {days} 天未解决 / problem {r['problem_no']} open for {days} days",
                f"户 {r['household_no']} 的困难 {r['problem_no']} 自 {r['opened_on']} 起未解决，请跟进或上报 / "
                f"problem {r['problem_no']} of household {r['household_no']} is open since {r['opened_on']}: "
                "follow it up or escalate it",
                household_no=r["household_no"]))
    return out, reminders


def _visit_message(user_id: str, pairing: dict, last: dt.date | None, as_of: dt.date) -> list[Message]:
    household, started = pairing["household_no"], pairing["started_on"]
    due = visit_due(started, last)
    visited = last is not None and last >= started
    since = f"上次走访 {last}" if visited else f"结对于 {started}，尚未走访"
    since_en = f"last visit {last}" if visited else f"paired on {started}, not visited yet"
    if due < as_of:
        return [Message(message_key("visit", user_id, household, due, "overdue"), user_id, MessageKind.VISIT_OVERDUE,
                        as_of, f"户 {household} 走访逾期 / home visit overdue: {household}",
                        f"户 {household} 应于 {due} 前入户走访（{since}）/ household {household} should have been "
                        f"visited by {due} ({since_en})", due_on=due, household_no=household)]
    if due <= as_of + dt.timedelta(days=DUE_SOON_DAYS):
        return [Message(message_key("visit", user_id, household, due, "due"), user_id, MessageKind.VISIT_DUE, as_of,
                        f"户 {household} 待走访 / home visit due: {household}",
                        f"户 {household} 须于 {due} 前入户走访（{since}）/ household {household} needs a home "
                        f"visit by {due} ({since_en})", due_on=due, household_no=household)]
    return []


def _aux_decisions(tx: Tx, usccs: Sequence[str], as_of: dt.date) -> list[tuple[str, Message]]:
    """The organisations' requests for auxiliary pairings decided lately: (uscc, message) pairs,
    the message's user left blank for each of the organisation's users to take."""
    rows = tx.run(_DECIDED, {"keys": list(usccs), "statuses": [AuxRequestStatus.APPROVED, AuxRequestStatus.DECLINED],
                             # the decisions are stamped in UTC; the days are local, as as_of is
                             "since": end_of(as_of - dt.timedelta(days=ORG_NEWS_DAYS)), "until": end_of(as_of)})
    out = []
    for r in rows:
        household, day = r["household_no"], dt.datetime.fromisoformat(r["decided_at"]).astimezone().date()
        if r["status"] == AuxRequestStatus.APPROVED:
            out.append((r["uscc"], Message(
                r["request_id"], "", MessageKind.AUX_APPROVED, as_of,
                f"户 {household} 的辅助结对已批准 / auxiliary pairing with {household} approved",
                f"组织者已于 {day} 批准与户 {household} 辅助结对，可以开始帮扶并记录捐赠和志愿服务 / an organiser approved "
                f"the auxiliary pairing with household {household} on {day}: your help and its records can begin",
                household_no=household)))
        else:
            note = f"：{r['note']}" if r["note"] else ""
            out.append((r["uscc"], Message(
                r["request_id"], "", MessageKind.AUX_DECLINED, as_of,
                f"户 {household} 的辅助结对申请未获批准 / request for {household} declined",
                f"组织者已于 {day} 拒绝与户 {household} 辅助结对的申请{note} / an organiser declined the request for "
                f"household {household} on {day}{note.replace('：', ': ')}")))
    return out


def _new_referrals(tx: Tx, usccs: Sequence[str], as_of: dt.date) -> list[tuple[str, Message]]:
    """The referrals sent to the organisations in the :data:`ORG_NEWS_DAYS` days up to ``as_of``
    that wait for their answer: (uscc, message) pairs naming the category and the date due, not
    the person (the console's 转介 page shows whom)."""
    rows = tx.run(_REFERRED, {"keys": list(usccs), "pending": ReferralStatus.PENDING.value,
                              "since": as_of - dt.timedelta(days=ORG_NEWS_DAYS - 1), "as_of": as_of})
    return [(r["uscc"], Message(
        r["referral_id"], "", MessageKind.REFERRAL_NEW, as_of,
        f"新转介：{r['category']}，{r['due_on']} 前办理 / a new referral ({r['category']}), due by {r['due_on']}",
        f"组织者于 {r['made_on']} 向本组织转介了一项{r['category']}服务需求，请在“转介”页接收或拒绝，并在 {r['due_on']} 前"
        f"提供服务 / an organiser sent your organisation a need ({r['category']}) on {r['made_on']}: accept or turn it "
        f"down on the Referrals page, and serve it by {r['due_on']}", due_on=r["due_on"])) for r in rows]


#: What organisations are told: functions of (tx, their 统一社会信用代码, as_of) giving (uscc, message)
#: pairs, each message made once per user by its key.
ORG_NEWS: tuple[Callable[[Tx, Sequence[str], dt.date], list[tuple[str, Message]]], ...] = (_aux_decisions,
                                                                                          _new_referrals)


def _org_messages(tx: Tx, users: Sequence[_User], as_of: dt.date) -> list[Message]:
    """Each organisation user's news (:data:`ORG_NEWS`), keyed by the user and the news itself."""
    usccs = sorted({u.uscc for u in users if u.uscc})
    by_org: dict[str, list[_User]] = {}
    for u in users:
        by_org.setdefault(u.uscc or "", []).append(u)
    out = []
    for news in ORG_NEWS:
        for uscc, message in news(tx, usccs, as_of):
            for u in by_org.get(uscc, []):
                key = message_key("org", u.user_id, message.kind.value, message.message_id)
                out.append(Message(key, u.user_id, message.kind, message.created_on, message.subject, message.body,
                                   message.due_on, message.household_no))
    return out


def _digest(store: GraphStore, user: _User, as_of: dt.date) -> Message:
    """An organiser's figures of the day, counted by the reports themselves."""
    counts = [(zh, en, REPORTS[name].run(store=store, region=user.region_code, as_of=as_of,
                                          page=PageRequest(1, 1)).total) for name, zh, en in DIGEST]
    return Message(
        message_key("digest", user.user_id, as_of), user.user_id, MessageKind.DIGEST, as_of,
        f"{as_of} 辖区日报 / daily digest of {as_of}",
        "；".join(f"{zh} {n}" for zh, _, n in counts) + " / " + "; ".join(f"{en}: {n}" for _, en, n in counts))


#: what a text says is waiting, by role (never whom it is about)
_TEXT_TOPICS = {Role.CADRE: "走访、证件到期、困难", Role.ORG: "辅助结对审批"}


def _texts(tx: Tx, users: Sequence[_User], roster: dict[tuple[Role, str], dict], new: Sequence[Message],
           as_of: dt.date) -> list[Outgoing]:
    """One text a day for each user with a mobile phone and new messages; it names nobody."""
    waiting = Counter(m.user_id for m in new)
    out = []
    for u in users:
        bound = _bound(u)
        phone = (roster.get(bound) or {}).get("phone") if bound else None
        if not phone or not _MOBILE.fullmatch(phone) or not waiting[u.user_id]:
            continue
        out.append(Outgoing(message_key("text", u.user_id, as_of), u.user_id, phone,
                            f"【结对帮扶】您有 {waiting[u.user_id]} 条新提醒（{_TEXT_TOPICS[u.role]}），请登录查看。",
                            as_of))
    stored = fetch_by_keys(tx, OUTGOING, [o.outgoing_id for o in out], ["outgoing_id"])
    return [o for o in out if o.outgoing_id not in stored]


# --------------------------------------------------------------------------- the inbox

_INBOX = "MATCH (u:User {user_id: $user})-[:INBOX]->(m:Message)"
_INBOX_UNREAD = _INBOX + " WHERE m.read_at IS NULL"
_COLUMNS = ", ".join(f"m.{c} AS {c}" for c in MESSAGE.columns)


def inbox(*, store: GraphStore, user_id: str, unread: bool = False, page: PageRequest = PageRequest()) -> Page[Message]:
    """A user's messages, newest first (then by due date, the most urgent first)."""
    return store.read(lambda tx: page_of(tx, _INBOX_UNREAD if unread else _INBOX, "m", _COLUMNS,
                                         "created_on DESC, due_on, message_id", {"user": user_id}, page,
                                         Message.from_row))


def unread_count(*, store: GraphStore, user_id: str) -> int:
    return store.query(_INBOX_UNREAD + " RETURN count(m) AS n", {"user": user_id})[0]["n"]


def mark_read(*, store: GraphStore, user_id: str, message_ids: Sequence[str], at: str) -> int:
    """Mark some of the user's own messages read (another user's are not touched); returns how many."""
    return store.write(lambda tx: tx.run(
        "UNWIND $ids AS k MATCH (u:User {user_id: $user})-[:INBOX]->(m:Message {message_id: k}) "
        "WHERE m.read_at IS NULL SET m.read_at = $at RETURN count(m) AS n",
        {"ids": list(message_ids), "user": user_id, "at": at})[0]["n"])


# --------------------------------------------------------------------------- the outbox

_OUT_COLUMNS = ", ".join(f"o.{c} AS {c}" for c in OUTGOING.columns)
_PENDING = "MATCH (o:Outgoing) WHERE o.status = $pending RETURN " + _OUT_COLUMNS + " ORDER BY outgoing_id LIMIT $limit"


def pending(*, store: GraphStore, limit: int = 1000) -> list[Outgoing]:
    return [Outgoing.from_row(r) for r in store.query(
        _PENDING, {"pending": OutgoingStatus.PENDING.value, "limit": limit})]


def record_attempt(*, store: GraphStore, outgoing_id: str, status: OutgoingStatus, attempts: int,
                   error: str | None = None, sent_at: str | None = None) -> None:
    store.write(lambda tx: tx.run(
        "MATCH (o:Outgoing {outgoing_id: $id}) SET o.status = $status, o.attempts = $attempts, "
        "o.last_error = $error, o.sent_at = $sent_at",
        {"id": outgoing_id, "status": status.value, "attempts": attempts, "error": error, "sent_at": sent_at}))


def outbox(*, store: GraphStore, status: OutgoingStatus | None = None,
           page: PageRequest = PageRequest()) -> Page[Outgoing]:
    """The outbox, for operators (dead letters above all)."""
    match = "MATCH (o:Outgoing)" + (" WHERE o.status = $status" if status else "")
    return store.read(lambda tx: page_of(
        tx, match, "o", _OUT_COLUMNS, "created_on DESC, outgoing_id",
        {"status": status.value} if status else {}, page, Outgoing.from_row))
