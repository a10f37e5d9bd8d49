"""Users and their bearer tokens, kept in the graph store beside the data they guard."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from graph_schema.access.models import Role, User
from graph_schema.errors import InvalidValue, JieduiError, NotFound
from graph_schema.identifiers import normalize_region_code
from graph_schema.records import fetch_by_keys
from graph_schema.region.service import require_regions
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import CADRE, ORG, TOKEN, USER


class Unauthenticated(JieduiError):
    """No token, an unknown one, or one expired or revoked: all answer alike."""

    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("未登录或令牌无效、已过期、已吊销", "missing, unknown, expired or revoked token")


class Forbidden(JieduiError):
    """The user's role may not do this at all (as opposed to an object outside their scope,
    which answers NotFound so that its existence is not revealed)."""

    code = "FORBIDDEN"

    def __init__(self, role: Role, action_zh: str, action_en: str) -> None:
        super().__init__(f"角色「{role.value}」无权{action_zh}", f"role '{role.value}' may not {action_en}",
                         role=role.value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bound(tx: Tx, role: Role, region: str | None, cadre_no: str | None, uscc: str | None) -> dict:
    """Check that the role has exactly the bound it needs and that the bound exists."""
    needed = {Role.ORGANIZER: "region", Role.PORTAL: "region", Role.CADRE: "cadre", Role.ORG: "org"}.get(role)
    given = {"region": region, "cadre": cadre_no, "org": uscc}
    for name, value in given.items():
        if value and name != needed:
            raise InvalidValue(name, value, f"角色「{role.value}」不用此项", f"role '{role.value}' takes no {name}")
    if needed is None:
        return {}
    value = given[needed]
    if not value:
        raise InvalidValue(needed, value, f"角色「{role.value}」必须指定", f"role '{role.value}' needs one")
    if needed == "region":
        value = normalize_region_code(value)
        require_regions(tx, [value])  # a user's jurisdiction never invents a region
        return {"region_code": value}
    table = {"cadre": CADRE, "org": ORG}[needed]
    if not fetch_by_keys(tx, table, [value], [table.key]):
        raise NotFound({"cadre": "干部", "org": "社会组织"}[needed], needed, value)
    return {"cadre": {"cadre_no": value}, "org": {"uscc": value}}[needed]


def add_user(*, store: GraphStore, user_id: str, role: Role, region: str | None = None, cadre_no: str | None = None,
             uscc: str | None = None) -> User:
    """Create a user (refused if the name is taken)."""
    if not user_id or not user_id.strip() or len(user_id) > 64:
        raise InvalidValue("user", user_id, "用户名须为 1–64 个字符", "a user name has 1–64 characters")

    def work(tx: Tx) -> User:
        if fetch_by_keys(tx, USER, [user_id], ["user_id"]):
            raise InvalidValue("user", user_id, "用户名已存在", "this user name is taken", code="USER_EXISTS")
        bound = _bound(tx, role, region, cadre_no, uscc)
        row = {"user_id": user_id, "role": role.value, "created_at": _now().isoformat(), "disabled": False} | bound
        tx.create_nodes(USER, [row])
        return User(user_id, role, bound.get("region_code"), bound.get("cadre_no"), bound.get("uscc"))

    return store.write(work)


def issue_token(*, store: GraphStore, user_id: str, days: int = 90) -> str:
    """A new bearer token for the user, valid ``days`` days; only its hash is stored, so this is
    the one time it can be shown."""
    if not 1 <= days <= 3650:
        raise InvalidValue("days", days, "有效期须在 1 到 3650 天之间", "validity must be 1–3650 days")
    token = secrets.token_urlsafe(32)
    now = _now()

    def work(tx: Tx) -> None:
        if not fetch_by_keys(tx, USER, [user_id], ["user_id"]):
            raise NotFound("用户", "user", user_id)
        tx.create_nodes(TOKEN, [{"token_hash": token_hash(token), "user_id": user_id, "created_at": now.isoformat(),
                                 "expires_at": (now + dt.timedelta(days=days)).isoformat(), "revoked": False}])

    store.write(work)
    return token


def revoke_tokens(*, store: GraphStore, user_id: str) -> int:
    """Revoke every token of a user (bearer tokens and console sessions); returns how many were
    still valid. NotFound for a user that does not exist, so a mistyped name is not a silent 0."""
    def work(tx: Tx) -> int:
        if not fetch_by_keys(tx, USER, [user_id], ["user_id"]):
            raise NotFound("用户", "user", user_id)
        return tx.run(
            "MATCH (t:Token) WHERE t.user_id = $user AND t.revoked = false SET t.revoked = true "
            "RETURN sum(CASE WHEN t.expires_at > $now THEN 1 ELSE 0 END) AS n",
            {"user": user_id, "now": _now().isoformat()})[0]["n"] or 0

    return store.write(work)


_LOOKUP = ("MATCH (t:Token {token_hash: $hash}) WHERE t.revoked = false AND t.expires_at > $now "
           "MATCH (u:User {user_id: t.user_id}) WHERE u.disabled = false "
           "RETURN u.user_id AS user_id, u.role AS role, u.region_code AS region_code, u.cadre_no AS cadre_no, "
           "u.uscc AS uscc")


def authenticate(*, store: GraphStore, token: str | None) -> User:
    """The user a bearer token belongs to; Unauthenticated if it is unknown, expired or revoked."""
    if not token:
        raise Unauthenticated()
    rows = store.query(_LOOKUP, {"hash": token_hash(token), "now": _now().isoformat()})
    if not rows:
        raise Unauthenticated()
    r = rows[0]
    return User(r["user_id"], Role(r["role"]), r["region_code"], r["cadre_no"], r["uscc"])


def list_users(*, store: GraphStore) -> list[User]:
    rows = store.query("MATCH (u:User) RETURN u.user_id AS user_id, u.role AS role, u.region_code AS region_code, "
                       "u.cadre_no AS cadre_no, u.uscc AS uscc ORDER BY user_id")
    return [User(r["user_id"], Role(r["role"]), r["region_code"], r["cadre_no"], r["uscc"]) for r in rows]


def demo_bounds(*, store: GraphStore) -> tuple[str | None, str | None, str | None]:
    """What the demo users are bound to: the first county, the first cadre with an active pairing
    and the first organisation with auxiliary pairings and referrals addressed to it, so that whoever
    tries the demo as an organisation has its whole job in front of it (else the first
    organisation; each None when the store has none)."""
    def first(*queries: str) -> str | None:
        for query in queries:
            rows = store.query(query)
            if rows:
                return rows[0]["k"]
        return None

    return (first("MATCH (r:Region) WHERE r.level = 'county' RETURN r.code AS k ORDER BY k LIMIT 1"),
            first("MATCH (c:Cadre)-[p:PAIRED_WITH]->(:Household) WHERE p.ended_on IS NULL "
                  "RETURN c.cadre_no AS k ORDER BY k LIMIT 1"),
            first("MATCH (:Referral)-[:REFERRED_TO]->(o:Org) WHERE EXISTS { MATCH (o)-[:AUX_PAIRED_WITH]->(:Household) } "
                  "RETURN DISTINCT o.uscc AS k ORDER BY k LIMIT 1",
                  "MATCH (o:Org) RETURN o.uscc AS k ORDER BY k LIMIT 1"))


_hasher = PasswordHasher()  # Argon2id, the library's defaults (memory-hard)


def hash_password(password: str) -> str:
    """The Argon2id hash of a new password, once it is long enough (at least 10 characters)."""
    if len(password) < 10:
        raise InvalidValue("password", "…", "密码至少 10 个字符", "a password has at least 10 characters")
    if len(password) > 256:
        raise InvalidValue("password", "…", "密码最多 256 个字符", "a password has at most 256 characters")
    return _hasher.hash(password)


def set_password(*, store: GraphStore, user_id: str, password: str) -> None:
    """Let a user also sign in to the console with a password; only its Argon2id hash is kept."""
    hashed = hash_password(password)

    def work(tx: Tx) -> None:
        if not tx.run("MATCH (u:User {user_id: $user}) SET u.password_hash = $hash RETURN u.user_id AS u",
                      {"user": user_id, "hash": hashed}):
            raise NotFound("用户", "user", user_id)

    store.write(work)


def sign_in(*, store: GraphStore, user_id: str, password: str, hours: int = 12) -> str:
    """A new token, valid ``hours``, for a user who gives their password; Unauthenticated alike
    for an unknown user, a wrong password or a user without one."""
    rows = store.query("MATCH (u:User {user_id: $user}) WHERE u.disabled = false RETURN u.password_hash AS h",
                       {"user": user_id})
    if not rows or not rows[0]["h"]:
        _hasher.hash(password)  # the same work as a real check, so timing tells nothing
        raise Unauthenticated()
    try:
        _hasher.verify(rows[0]["h"], password)
    except (VerifyMismatchError, InvalidHashError) as exc:
        raise Unauthenticated() from exc
    return open_session(store=store, user_id=user_id, hours=hours)


def open_session(*, store: GraphStore, user_id: str, hours: int = 12) -> str:
    """A console session's own token, valid ``hours``, for a user already signed in (by password,
    or by a bearer token). The console never keeps the bearer token itself as its cookie: a
    90-day token would then live in a browser, and signing out would revoke the token the
    user's other programs use."""
    token = secrets.token_urlsafe(32)
    now = _now()
    store.write(lambda tx: tx.create_nodes(TOKEN, [{
        "token_hash": token_hash(token), "user_id": user_id, "created_at": now.isoformat(),
        "expires_at": (now + dt.timedelta(hours=hours)).isoformat(), "revoked": False}]))
    return token


def revoke_token(*, store: GraphStore, token: str) -> None:
    """Revoke one token (signing out of the console)."""
    store.write(lambda tx: tx.run("MATCH (t:Token {token_hash: $hash}) SET t.revoked = true", {"hash": token_hash(token)}))
