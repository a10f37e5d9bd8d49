"""Accounts for the people of the roster: one user per cadre and per social organisation, each
starting with a one-time sign-in code that the organiser hands out.

- **One-time codes.** 16 characters of Crockford's base32 (80 random bits), written in four
  groups (``K7M2-Q9XD-4HRT-WB6N``); a typed code is read without its spaces and hyphens, in any
  case, with ``O`` as ``0`` and ``I``/``L`` as ``1``. Only its SHA-256 is stored, with an expiry
  (:data:`CODE_DAYS` days by default): a slow hash is not needed for 80 random bits, and a
  county's thousand accounts are made in one transaction instead of a minute of Argon2.
- **The first sign-in.** The code is typed where the password goes. It does not open a session
  by itself: the user chooses a password (:func:`redeem_code`), which sets the Argon2id hash and
  clears the code in one transaction, so the code is good once. A used, expired or replaced code
  answers exactly as a wrong password.
- **Reset.** A new code replaces the old one, the password is removed and every token and console
  session of the user is revoked: a reset is for a forgotten password and for a lost phone alike.
- **Disable / enable.** A disabled user neither signs in nor uses a token (``authenticate`` and
  ``sign_in`` refuse them); enabling gives back what they had.
- **Whose accounts.** An organiser manages the accounts of the cadres stationed in their region
  and of the organisations whose service region lies in it (an organisation serving a wider region
  belongs to the organisers of that region); an admin all of them. Any other account, or one
  outside the region, answers as a user that does not exist.

User names are the cadre number or the 统一社会信用代码, what the person already knows; when
another user holds that name, ``-2``, ``-3`` … is added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from graph_schema.access.models import Role, Scope
from graph_schema.access.service import Unauthenticated, hash_password
from graph_schema.errors import InvalidValue, NotFound
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import resolve_scope
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import CADRE, ORG, USER

CODE_DAYS = 14
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_LENGTH = 16
#: the roles whose accounts are made from the roster
ROSTER_ROLES = (Role.CADRE, Role.ORG)
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class AccountState(StrEnum):
    """Where an account of the roster stands."""

    NONE = "无账号"  # the person has no account yet
    CODE = "待首次登录"  # a one-time code waits to be used
    EXPIRED = "登录码已过期"  # the code expired unused: reset it
    ACTIVE = "已启用"  # the user has set a password
    DISABLED = "已停用"  # neither signs in nor uses a token

    @property
    def en(self) -> str:
        return {"无账号": "no account", "待首次登录": "code not used yet", "登录码已过期": "code expired",
                "已启用": "active", "已停用": "disabled"}[self.value]


@dataclass(frozen=True)
class IssuedCode:
    """A one-time code as it is handed out: the only time it exists outside a hash."""

    user_id: str
    role: Role
    number: str  # the cadre number or the 统一社会信用代码
    name: str
    code: str
    valid_until: dt.datetime  # UTC


@dataclass(frozen=True)
class Account:
    """A person of the roster and their account, as an organiser sees it."""

    role: Role
    number: str
    name: str
    region_code: str  # the cadre's station, the organisation's service region
    state: AccountState
    user_id: str | None = None
    code_expires_at: str | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def new_code() -> str:
    """A fresh code, in four groups of four."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    """A code as typed, in the form it was hashed in: no spaces or hyphens, upper case, O as 0 and
    I or L as 1 (``k7m2 q9xd-4hrt wb6n`` → ``K7M2Q9XD4HRTWB6N``)."""
    return "".join(text.split()).replace("-", "").upper().translate(_TYPOS)


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def _valid_days(days: int) -> int:
    if not 1 <= days <= 90:
        raise InvalidValue("days", days, "一次性登录码有效期须在 1 到 90 天之间", "a one-time code is valid 1–90 days")
    return days


# --- the roster and its accounts -------------------------------------------------------------------

_BOUND = {Role.CADRE: "cadre_no", Role.ORG: "uscc"}
_ROSTER = {
    Role.CADRE: ("MATCH (c:Cadre) WHERE c.station_code STARTS WITH $prefix RETURN c.cadre_no AS number, "
                 "c.name AS name, c.station_code AS region_code, c.on_duty AS on_duty"),
    Role.ORG: ("MATCH (o:Org) WHERE o.service_region_code STARTS WITH $prefix RETURN o.uscc AS number, "
               "o.name AS name, o.service_region_code AS region_code, true AS on_duty"),
}
_ROSTER_USERS = ("MATCH (u:User) WHERE u.role = $role RETURN u.user_id AS user_id, u.cadre_no AS cadre_no, "
                 "u.uscc AS uscc, u.disabled AS disabled, "
                 "u.code_hash IS NOT NULL AS has_code, u.code_expires_at AS code_expires_at")


def _roster_role(role: Role) -> Role:
    if role not in ROSTER_ROLES:
        raise InvalidValue("role", role.value, "只能为干部或社会组织建账号", "accounts are made for cadres and organisations")
    return role


def _prefix(tx: Tx, scope: Scope, region: str | None) -> str:
    """The region whose roster is meant, as a code prefix: ``region`` inside the scope (NotFound
    outside it, as for a region the store does not hold; InvalidValue for a malformed code), by
    default the scope's own."""
    if scope.cadre_no or scope.uscc:
        raise NotFound("区划", "region", region or "")
    if not region:
        return scope.prefix
    _, prefix = resolve_scope(tx, region)
    if not scope.holds_region(prefix):
        raise NotFound("区划", "region", region)
    return prefix


def _state(user: dict, now: str) -> AccountState:
    if user["disabled"]:
        return AccountState.DISABLED
    if user["has_code"]:
        return AccountState.CODE if (user["code_expires_at"] or "") > now else AccountState.EXPIRED
    return AccountState.ACTIVE


def _users_by_number(tx: Tx, role: Role) -> dict[str, dict]:
    return {r[_BOUND[role]]: r for r in tx.run(_ROSTER_USERS, {"role": role.value}) if r[_BOUND[role]]}


def roster_accounts(*, store: GraphStore, role: Role, scope: Scope, region: str | None = None) -> list[Account]:
    """The cadres (on duty, or holding an account) or the organisations of the region, each with
    its account; those without one first, then by number."""
    role = _roster_role(role)
    now = _now().isoformat()

    def work(tx: Tx) -> list[Account]:
        prefix = _prefix(tx, scope, region)
        users = _users_by_number(tx, role)
        out = []
        for r in tx.run(_ROSTER[role], {"prefix": prefix}):
            user = users.get(r["number"])
            if user is None and not r["on_duty"]:
                continue
            out.append(Account(role, r["number"], r["name"], r["region_code"],
                               _state(user, now) if user else AccountState.NONE,
                               user["user_id"] if user else None, user["code_expires_at"] if user else None))
        return sorted(out, key=lambda a: (a.state is not AccountState.NONE, a.number))

    return store.read(work)


def _free_names(tx: Tx, numbers: Sequence[str]) -> dict[str, str]:
    """A user name for each number: the number itself, or with ``-2``, ``-3`` … when taken."""
    names: dict[str, str] = {}
    used: set[str] = set()
    pending, suffix = list(numbers), 1
    while pending:
        wanted = {n: n if suffix == 1 else f"{n[:63 - len(str(suffix))]}-{suffix}" for n in pending}
        taken = set(fetch_by_keys(tx, USER, sorted(set(wanted.values())), ["user_id"]))
        pending = []
        for number, name in wanted.items():
            if name in taken or name in used:
                pending.append(number)
            else:
                names[number] = name
                used.add(name)
        suffix += 1
    return names


def issue_in(tx: Tx, role: Role, people: Sequence[tuple[str, str]], days: int = CODE_DAYS) -> list[IssuedCode]:
    """Create an account with a one-time code for each (number, name) of the roster, in ``tx``
    (which has checked that they have none)."""
    if not people:
        return []
    now = _now()
    until = now + dt.timedelta(days=_valid_days(days))
    names = _free_names(tx, [number for number, _ in people])
    issued = [IssuedCode(names[number], role, number, name, new_code(), until) for number, name in people]
    tx.create_nodes(USER, [{"user_id": i.user_id, "role": role.value, _BOUND[role]: i.number,
                            "created_at": now.isoformat(), "disabled": False, "code_hash": code_hash(i.code),
                            "code_expires_at": until.isoformat()} for i in issued])
    return issued


def create_accounts(*, store: GraphStore, role: Role, scope: Scope, region: str | None = None,
                    days: int = CODE_DAYS) -> list[IssuedCode]:
    """An account with a one-time code for every cadre on duty (or every organisation) of the
    region that has none, in one transaction: the codes returned are the only copies."""
    role = _roster_role(role)
    _valid_days(days)
    table = CADRE if role is Role.CADRE else ORG

    def work(tx: Tx) -> list[IssuedCode]:
        prefix = _prefix(tx, scope, region)
        roster = [r for r in tx.run(_ROSTER[role], {"prefix": prefix}) if r["on_duty"]]
        tx.lock(table, sorted(r["number"] for r in roster))  # two runs at once: the second waits, then finds them
        users = _users_by_number(tx, role)
        wanted = sorted((r["number"], r["name"]) for r in roster if r["number"] not in users)
        return issue_in(tx, role, wanted, days)

    return store.write(work)


# --- one account: reset, disable, enable -----------------------------------------------------------

_USER = ("MATCH (u:User {user_id: $user}) RETURN u.user_id AS user_id, u.role AS role, u.cadre_no AS cadre_no, "
         "u.uscc AS uscc")


def _managed(tx: Tx, user_id: str, scope: Scope) -> tuple[dict, dict]:
    """The user and their roster record, if the user is a cadre's or an organisation's and lies in
    ``scope``; NotFound alike otherwise."""
    rows = tx.run(_USER, {"user": user_id})
    if rows and rows[0]["role"] in ROSTER_ROLES and not (scope.cadre_no or scope.uscc):
        user = rows[0]
        if user["role"] == Role.CADRE:
            found = fetch_by_keys(tx, CADRE, [user["cadre_no"] or ""], ["cadre_no", "name", "station_code"])
            record = {k: {"number": k, "name": v["name"], "region_code": v["station_code"]} for k, v in found.items()}
            key = user["cadre_no"]
        else:
            found = fetch_by_keys(tx, ORG, [user["uscc"] or ""], ["uscc", "name", "service_region_code"])
            record = {k: {"number": k, "name": v["name"], "region_code": v["service_region_code"]}
                      for k, v in found.items()}
            key = user["uscc"]
        if key in record and record[key]["region_code"].startswith(scope.prefix):
            return user, record[key]
    raise NotFound("用户", "user", user_id)


def reset_code(*, store: GraphStore, user_id: str, scope: Scope, days: int = CODE_DAYS) -> IssuedCode:
    """A new one-time code for a user of the roster: the old code and the password stop working,
    and every token and console session of the user is revoked."""
    _valid_days(days)
    now = _now()
    until = now + dt.timedelta(days=days)
    code = new_code()

    def work(tx: Tx) -> IssuedCode:
        user, record = _managed(tx, user_id, scope)
        tx.run("MATCH (u:User {user_id: $user}) SET u.password_hash = NULL, u.code_hash = $hash, "
               "u.code_expires_at = $until", {"user": user_id, "hash": code_hash(code), "until": until.isoformat()})
        tx.run("MATCH (t:Token) WHERE t.user_id = $user AND t.revoked = false SET t.revoked = true", {"user": user_id})
        return IssuedCode(user_id, Role(user["role"]), record["number"], record["name"], code, until)

    return store.write(work)


def set_disabled(*, store: GraphStore, user_id: str, disabled: bool, scope: Scope) -> None:
    """Disable a user of the roster (no sign-in, no token works) or enable them again."""
    def work(tx: Tx) -> None:
        _managed(tx, user_id, scope)
        tx.run("MATCH (u:User {user_id: $user}) SET u.disabled = $disabled", {"user": user_id, "disabled": disabled})

    store.write(work)


# --- signing in with a code -------------------------------------------------------------------------

_LIVE_CODE = ("MATCH (u:User {user_id: $user}) WHERE u.disabled = false AND u.code_hash = $hash "
              "AND u.code_expires_at > $now")


def code_matches(*, store: GraphStore, user_id: str, code: str) -> bool:
    """Whether ``code`` is the user's one-time code, unused and unexpired (and the user enabled)."""
    if not user_id or not code:
        return False
    rows = store.query(_LIVE_CODE + " RETURN u.user_id AS user_id",
                       {"user": user_id, "hash": code_hash(code), "now": _now().isoformat()})
    return bool(rows)


def redeem_code(*, store: GraphStore, user_id: str, code: str, password: str) -> None:
    """The first sign-in: the code is used up and the user's password set, in one transaction.
    Unauthenticated (as for a wrong password) if the code is not, or no longer, good."""
    hashed = hash_password(password)

    def work(tx: Tx) -> None:
        done = tx.run(_LIVE_CODE + " SET u.password_hash = $password, u.code_hash = NULL, u.code_expires_at = NULL "
                      "RETURN u.user_id AS user_id",
                      {"user": user_id, "hash": code_hash(code), "now": _now().isoformat(), "password": hashed})
        if not done:
            raise Unauthenticated()

    store.write(work)
