"""The graph's tables, declared once: the DDL of both engines, bulk-load schemas and SET clauses
are all generated from these declarations, so a property exists everywhere or nowhere.

Property names avoid words that are reserved in one of the dialects (``limit``, ``from``, ``to``,
``date``): hence ``pair_limit``, ``valid_from``, ``entry_date``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """Property types both engines store natively."""

    STRING = "STRING"
    INT = "INT64"
    BOOL = "BOOLEAN"
    DATE = "DATE"
    STRINGS = "STRING[]"
    INTS = "INT64[]"


S, I, B, D, L = Kind.STRING, Kind.INT, Kind.BOOL, Kind.DATE, Kind.STRINGS


@dataclass(frozen=True)
class NodeTable:
    label: str
    key: str
    props: dict[str, Kind]
    #: Neo4j's lookup indexes: a property, or a composite index's properties in order (the embedded
    #: engine indexes only primary keys)
    indexed: tuple[str | tuple[str, ...], ...] = ()
    #: For a table that grows with use and is never looked up by ``key``: the embedded engine keys it
    #: by a ``SERIAL`` column of this name instead. LadybugDB keeps ~90 bytes a row of a string
    #: primary key in the writing process's memory for as long as it runs. ``key`` stays unique on
    #: Neo4j by constraint, and on both by how it is made.
    serial: str | None = None
    #: Properties derived from other records and kept current by the writes that change them (a
    #: household's member counts): stored like ``props`` but never imported, exported or compared
    #: by the upserts, so they are not in :attr:`columns`.
    kept: dict[str, Kind] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.props)

    @property
    def stored(self) -> dict[str, Kind]:
        """Every stored property: the record's own and the kept ones."""
        return self.props | self.kept


@dataclass(frozen=True)
class RelTable:
    type: str
    ends: tuple[tuple[str, str], ...]
    props: dict[str, Kind] = field(default_factory=dict)
    indexed: tuple[str, ...] = ()


REGION = NodeTable("Region", "code", {"code": S, "level": S, "name": S})
HOUSEHOLD = NodeTable(
    "Household",
    "household_no",
    {
        "household_no": S, "head_name": S, "head_id": S, "region_code": S, "address": S,
        "size": I, "labour": I, "income_fen": I, "monitoring": S, "formerly_poor": B, "dibao": B,
        "tekun": B, "elderly_carer": B, "risk_factors": L, "phone": S,
    },
    # on Neo4j, the priority households of a scope by one index seek (graph_schema/store/counts.py)
    # and its 低保 households (monitoring/benefits.py)
    indexed=("region_code", ("priority", "region_code"), ("dibao", "region_code")),
    # its disabled members (MEMBER_OF) and those graded 一级/二级, and whether it is a priority
    # household, kept by the household and person upserts (graph_schema/store/counts.py) so reports
    # need not walk the members nor read every household's facts; its active one-to-one pairings and
    # those with a 在岗 cadre, kept by the pairing and cadre writes (graph_schema/store/paired.py) so
    # reports need not walk the pairings
    kept={"disabled_count": I, "severe_count": I, "priority": B, "active_pairings": I, "on_duty_pairings": I},
)
PERSON = NodeTable(
    "Person",
    "id_number",
    {
        "id_number": S, "name": S, "cert_no": S, "household_no": S, "relation": S, "category": I,
        "grade": I, "cert_expiry": D, "labour_ability": S, "needs": L,
    },
    # on Neo4j, a wide scope's severe and expired persons by index (monitoring/benefits.py)
    indexed=("household_no", "grade", "cert_expiry"),
)
CADRE = NodeTable(
    "Cadre",
    "cadre_no",
    {
        "cadre_no": S, "name": S, "phone": S, "unit": S, "unit_level": S, "role": S,
        "station_code": S, "pair_limit": I, "on_duty": B,
    },
    indexed=("station_code",),
)
ORG = NodeTable(
    "Org",
    "uscc",
    {
        "uscc": S, "name": S, "org_type": S, "service_region_code": S, "service_modes": L,
        "contact": S, "phone": S,
    },
)
#: The service catalogue (服务目录): ``counts`` is 计入服务率, ``time_limit`` the 办理时限 in days.
SERVICE_TYPE = NodeTable(
    "ServiceType",
    "code",
    {"code": S, "name": S, "category": S, "counts": B, "unit": S, "time_limit": I, "lead_dept": S},
)
#: One assessment of a person's need (服务需求): a later one supersedes it, nothing is overwritten.
NEED = NodeTable(
    "Need",
    "need_id",
    {"need_id": S, "id_number": S, "service_code": S, "category": S, "assessed_on": D, "status": S,
     "source": S, "assessor": S, "note": S},
    indexed=("id_number",),
)
#: An organisation's offer of one service over one region (服务供给), keyed by the three.
OFFER = NodeTable(
    "Offer",
    "offer_id",
    {"offer_id": S, "uscc": S, "service_code": S, "region_code": S, "capacity": I, "modes": L,
     "valid_from": D, "valid_to": D, "designated_until": D},
    indexed=("uscc",),
)
#: A service delivered to a person (服务记录), by an organisation (``uscc``) or a department.
DELIVERY = NodeTable(
    "Delivery",
    "delivery_id",
    {"delivery_id": S, "record_no": S, "id_number": S, "service_code": S, "delivered_on": D, "ended_on": D,
     "uscc": S, "dept": S, "quantity": I, "item": S, "cost_fen": I, "subsidy_fen": I, "outcome": S},
    indexed=("id_number",),
)
#: A need sent to a provider (转介): an organisation (``provider_uscc``) or a department.
REFERRAL = NodeTable(
    "Referral",
    "referral_id",
    {"referral_id": S, "need_id": S, "id_number": S, "category": S, "service_code": S, "provider_uscc": S,
     "provider_dept": S, "made_on": D, "made_by": S, "due_on": D, "status": S, "accepted_on": D,
     "closed_on": D, "reason": S, "note": S, "delivery_id": S, "proposal_id": S},
    indexed=("id_number",),
)
#: A difficulty reported for a household. 问题编号 are each county's own (two counties may both
#: have a P0001, and neither learns of the other's), so the key is the county and the number,
#: ``620822:P0001`` (:func:`graph_schema.ledger.models.problem_key`).
PROBLEM = NodeTable(
    "Problem",
    "problem_key",
    {
        "problem_key": S, "problem_no": S, "household_no": S, "opened_on": D, "closed_on": D, "reported_by": S,
        "resolved_by": S, "description": S, "resolution": S,
    },
    indexed=("household_no",),
)
LISTING = NodeTable(
    "Listing",
    "listing_id",
    {
        "listing_id": S, "dept": S, "item": S, "id_number": S, "name": S, "valid_from": D, "valid_to": D,
        "amount_fen": I,
    },
    # on Neo4j, a wide scope's listings of one item by index (monitoring/benefits.py, post_evaluation.py)
    indexed=("id_number", "item"),
)
#: A certificate-expiry reminder (证件到期提醒) given to a holder: one per certificate expiry date
#: and window (``6m`` six months ahead, ``1m`` one month ahead), so each holder gets both.
REMINDER = NodeTable(
    "Reminder",
    "reminder_id",
    {"reminder_id": S, "id_number": S, "cert_expiry": D, "window": S, "sent_on": D, "note": S},
    indexed=("id_number",),
)
#: The previous values of a record that an update changed (``previous`` is a JSON object).
REVISION = NodeTable(
    "Revision",
    "revision_id",
    {"revision_id": S, "label": S, "entity_key": S, "recorded_at": S, "previous": S},
    indexed=("entity_key",),
)
#: The records one write created (their keys) and when: beside the ``Revision`` nodes, what tells a
#: report for a past day which records the store did not hold yet (graph_schema/history.py).
CREATION = NodeTable("Creation", "creation_id", {"creation_id": S, "label": S, "recorded_at": S, "keys": L})

#: An organisation's request for an auxiliary pairing with a household (辅助结对申请), decided by
#: an organiser of the household's region: kept whatever its outcome, so it has a history.
#: ``region_code`` is the household's village when it was asked for (it bounds who decides);
#: times are ISO strings in UTC, as the audit trail's.
AUX_REQUEST = NodeTable(
    "AuxRequest",
    "request_id",
    {"request_id": S, "household_no": S, "uscc": S, "region_code": S, "reason": S, "service": S, "status": S,
     "requested_at": S, "requested_by": S, "decided_at": S, "decided_by": S, "decision_note": S,
     "consent_note": S, "pairing_id": S},
    indexed=("household_no",),
)

#: An organisation's request to join (入驻申请), made from the sign-in page without an account and
#: decided by an organiser whose region holds the service region it names; approving creates the
#: ``Org`` and its user (``user_id``). Kept whatever its outcome; times are ISO strings in UTC.
JOIN_REQUEST = NodeTable(
    "JoinRequest",
    "request_id",
    {"request_id": S, "name": S, "uscc": S, "service_region_code": S, "contact": S, "phone": S, "status": S,
     "requested_at": S, "decided_at": S, "decided_by": S, "decision_note": S, "user_id": S},
    indexed=("uscc",),
)

#: A row of an organiser's import whose own key (a 户编号, an ID number, a 干部编号, a 统一社会信用代码)
#: is held by a record outside their jurisdiction: accepted as a new key would be, but held here
#: instead of written, with the rows of the import that depend on it (``rows``, JSON), for an
#: organiser whose region holds both (``common_region``) to accept or decline.
CLAIM = NodeTable(
    "Claim",
    "claim_id",
    {"claim_id": S, "key_kind": S, "record_key": S, "held_region": S, "claimant": S, "claimant_region": S,
     "common_region": S, "import_id": S, "rows": S, "claimed_at": S, "status": S, "decided_at": S,
     "decided_by": S, "decision_note": S, "outcome": S},
)

#: A user of the API or console; ``region_code``, ``cadre_no`` or ``uscc`` bounds what they see.
#: ``code_hash`` is the SHA-256 of a one-time sign-in code, good until ``code_expires_at`` (UTC,
#: ISO) and cleared when it is used (``access/accounts.py``).
USER = NodeTable(
    "User",
    "user_id",
    {"user_id": S, "role": S, "region_code": S, "cadre_no": S, "uscc": S, "created_at": S,
     "password_hash": S, "disabled": B, "code_hash": S, "code_expires_at": S},
)
#: A bearer token: only its SHA-256 is stored (tokens are 256-bit random, so a fast hash is safe).
TOKEN = NodeTable(
    "Token",
    "token_hash",
    {"token_hash": S, "user_id": S, "created_at": S, "expires_at": S, "revoked": B},
    indexed=("user_id",),
)
#: One audit entry: who read or changed which household data, when, through which request.
#: ``object_keys`` holds every key of ``object_kind`` the request touched (one entry per request and kind).
AUDIT = NodeTable(
    "AuditEntry",
    "audit_id",
    {"audit_id": S, "at": S, "user_id": S, "role": S, "action": S, "operation": S, "object_kind": S,
     "object_keys": L, "request_id": S},
    indexed=("at",),
    serial="seq",  # one entry a request: the fastest-growing table
)

#: One message in a user's inbox (``notify``): what to do, for which household, by when. The key is
#: made from what the message is about, so notifying twice never says the same thing twice.
MESSAGE = NodeTable(
    "Message",
    "message_id",
    {"message_id": S, "user_id": S, "kind": S, "created_on": D, "due_on": D, "subject": S, "body": S,
     "household_no": S, "read_at": S},
    indexed=("user_id",),
)
#: A text message to a user's phone, waiting for the sender or sent (the outbox). It names no person:
#: only how many messages wait in the inbox.
OUTGOING = NodeTable(
    "Outgoing",
    "outgoing_id",
    {"outgoing_id": S, "user_id": S, "phone": S, "body": S, "created_on": D, "status": S, "attempts": I,
     "last_error": S, "sent_at": S},
    indexed=("status",),
)

#: The first answer to a request that carried an ``Idempotency-Key``, kept so that a repeat of the
#: request (a phone's retry after a lost answer) gets that answer instead of doing the work again.
#: The key is a hash of the user and their key; ``status`` is NULL while the first request runs.
#: Times are ISO strings in UTC; ``header_json`` is JSON, ``body_b64`` base64 (``headers`` is a word the
#: embedded engine's DDL reserves). See graph_schema/access/idempotency.py.
IDEMPOTENT_REPLY = NodeTable(
    "IdempotentReply",
    "reply_key",
    {"reply_key": S, "user_id": S, "fingerprint": S, "claim": S, "claimed_at": S, "status": I, "header_json": S,
     "body_b64": S, "done_at": S},
    indexed=("claimed_at",),
)

NODE_TABLES = (REGION, HOUSEHOLD, PERSON, CADRE, ORG, SERVICE_TYPE, NEED, OFFER, DELIVERY, REFERRAL, PROBLEM, LISTING,
               REMINDER, REVISION, USER, TOKEN, AUDIT, MESSAGE, OUTGOING, AUX_REQUEST, CLAIM, CREATION, JOIN_REQUEST,
               IDEMPOTENT_REPLY)
NODES = {t.label: t for t in NODE_TABLES}
#: What the store itself records about its own state, by name: that the household counts were
#: filled (graph_schema/store/counts.py, graph_schema/store/paired.py). Not one of
#: :data:`NODE_TABLES`: no backup, export or emptiness check is about it.
MARK = NodeTable("StoreMark", "name", {"name": S, "done_at": S})
#: The counties' service tallies (graph_schema/service/tally.py), derived like the marks and so,
#: like them, in no backup, export or emptiness check: a version per county (``county``: its
#: 6-digit code, or ``catalogue`` for the catalogue) that every write changing the county's
#: service facts raises; per county and year, the tallies kept and the version they were made
#: from; the rate tally's rows, a category's changes of the seven figures on one day; the
#: open-need tally's, a village's and category's change of persons with an open need on one day;
#: the person tally's, a village's disabled persons of one 残疾类别 and 等级 (today's); the
#: overdue tally's, a need overdue on some day of the year, from which day and until which; and the
#: served tally's, per organisation, service and region (a village, a township, the county), the
#: day of the year (0: 1 January) each person of the region was first served, sorted.
FACTS_VERSION = NodeTable("FactsVersion", "county", {"county": S, "version": I})
TALLY_MARK = NodeTable("TallyMark", "mark_id", {"mark_id": S, "county": S, "year": I, "build": S, "previous": S,
                                                "version": I, "catalogue_version": I})
_RATE_TALLY_PROPS = {
    "tally_id": S, "build": S, "area": S, "category": S, "day": D, "persons_in_need": I, "persons_served": I,
    "deliveries": I, "severe_in_need": I, "severe_served": I, "children_in_need": I, "children_served": I}
#: a county's rate changes (area: the county's 12-digit code), which city and province pages read
RATE_TALLY = NodeTable("RateTally", "tally_id", _RATE_TALLY_PROPS, indexed=("build",), serial="seq")
#: the same per township (area: the township's code), which a county's page reads: a table of its
#: own, so that a province's page scans only the counties' rows
TOWNSHIP_RATE_TALLY = NodeTable("TownshipRateTally", "tally_id", _RATE_TALLY_PROPS, indexed=("build",), serial="seq")
NEED_TALLY = NodeTable(
    "NeedTally", "tally_id",
    {"tally_id": S, "build": S, "village": S, "category": S, "day": D, "open": I},
    indexed=("build",), serial="seq")
PERSON_TALLY = NodeTable(
    "PersonTally", "tally_id",
    {"tally_id": S, "build": S, "village": S, "category": I, "grade": I, "persons": I},
    indexed=("build",), serial="seq")
OVERDUE_TALLY = NodeTable(
    "OverdueTally", "tally_id",
    {"tally_id": S, "build": S, "need_id": S, "id_number": S, "household_no": S, "village": S, "category": S,
     "service_code": S, "confirmed_on": D, "due_on": D, "from_day": D, "until_day": D},
    indexed=("build",), serial="seq")
SERVED_TALLY = NodeTable(
    "ServedTally", "tally_id",
    {"tally_id": S, "build": S, "uscc": S, "service_code": S, "region": S, "days": Kind.INTS},
    indexed=("build",), serial="seq")
#: The ledger's sums per county (6-digit code), month (its first day), entry kind and whether an
#: organisation made the entries, kept by the ledger writes (graph_schema/ledger/sums.py); derived,
#: so with the tallies.
LEDGER_SUM = NodeTable(
    "LedgerSum", "sum_key",
    {"sum_key": S, "county": S, "month": D, "kind": S, "by_org": B, "n": I, "cash": I, "in_kind": I, "people": I,
     "given": I})
TALLY_TABLES = (FACTS_VERSION, TALLY_MARK, RATE_TALLY, TOWNSHIP_RATE_TALLY, NEED_TALLY, PERSON_TALLY, OVERDUE_TALLY,
                SERVED_TALLY, LEDGER_SUM)
#: the store's own tables beside :data:`NODE_TABLES`
OWN_TABLES = (MARK, *TALLY_TABLES)

_PAIRING = {
    "pairing_id": S, "started_on": D, "ended_on": D, "end_reason": S, "source": S, "proposal_id": S,
}
IN_REGION = RelTable("IN_REGION", (("Household", "Region"),))
PART_OF = RelTable("PART_OF", (("Region", "Region"),))
STATIONED_IN = RelTable("STATIONED_IN", (("Cadre", "Region"),))
SERVES = RelTable("SERVES", (("Org", "Region"),))
MEMBER_OF = RelTable("MEMBER_OF", (("Person", "Household"),), {"relation": S})
PAIRED_WITH = RelTable("PAIRED_WITH", (("Cadre", "Household"),), _PAIRING, indexed=("pairing_id",))
AUX_PAIRED_WITH = RelTable("AUX_PAIRED_WITH", (("Org", "Household"),), _PAIRING, indexed=("pairing_id",))
#: The ledger is one edge type with a ``kind`` property rather than one type per kind: the kinds
#: are a closed enum, every report reads several kinds at once, and LadybugDB needs each edge type
#: declared with its endpoints, so one type keeps the schema and the queries small. A 志愿服务
#: entry may say how many volunteers took part (``volunteers``) and for how long each (``minutes``).
ASSISTED = RelTable(
    "ASSISTED",
    (("Cadre", "Household"), ("Org", "Household")),
    {
        "entry_id": S, "entry_date": D, "kind": S, "amount_fen": I, "in_kind_fen": I, "note": S,
        "problem_no": S, "volunteers": I, "minutes": I, "record_no": S,
    },
    # entry_date: on Neo4j, the days a report reads from the entries rather than from the sums
    # (graph_schema/ledger/sums.py) are sought by date, not by every household's edges
    indexed=("entry_id", "entry_date"),
)
#: The exclusion list (回避名单): a cadre who may not be paired with a household (a relative, or
#: excluded by the organiser). Every pairing path refuses such a pair, the matcher included.
EXCLUDED = RelTable("EXCLUDED", (("Cadre", "Household"),), {"reason": S, "since": D, "note": S})
#: A person named by a department list: kept by the person and listing upserts, so comparison
#: reports reach a person's listings by an edge (the embedded engine indexes only primary keys).
LISTED = RelTable("LISTED", (("Person", "Listing"),))
HAS_PROBLEM = RelTable("HAS_PROBLEM", (("Household", "Problem"),))
# Services. ``FOR`` is a reserved word of LadybugDB's Cypher, so a need points to its service by
# ``OF``, as offers and deliveries do. An offer covers its region by ``COVERS`` (``SERVES`` is the
# organisation's own service region, and LadybugDB cannot add an end pair to an existing edge table).
HAS_NEED = RelTable("HAS_NEED", (("Person", "Need"),))
OF = RelTable("OF", (("Need", "ServiceType"), ("Offer", "ServiceType"), ("Delivery", "ServiceType")))
OFFERS = RelTable("OFFERS", (("Org", "Offer"),))
COVERS = RelTable("COVERS", (("Offer", "Region"),))
RECEIVED = RelTable("RECEIVED", (("Person", "Delivery"),))
DELIVERED = RelTable("DELIVERED", (("Org", "Delivery"),))
HAS_REFERRAL = RelTable("HAS_REFERRAL", (("Person", "Referral"),))
REFERRED_TO = RelTable("REFERRED_TO", (("Referral", "Org"),))

#: A user's inbox: the embedded engine indexes only primary keys, so a user's messages are reached
#: from the user's node rather than by scanning every message for its ``user_id``.
INBOX = RelTable("INBOX", (("User", "Message"),))

REL_TABLES = (
    IN_REGION, PART_OF, STATIONED_IN, SERVES, MEMBER_OF, PAIRED_WITH, AUX_PAIRED_WITH, ASSISTED, EXCLUDED,
    LISTED, HAS_PROBLEM, HAS_NEED, OF, OFFERS, COVERS, RECEIVED, DELIVERED, HAS_REFERRAL, REFERRED_TO, INBOX,
)
RELS = {t.type: t for t in REL_TABLES}


def ladybug_node_ddl(t: NodeTable, name: str | None = None) -> str:
    """The ``CREATE NODE TABLE`` of ``t``, under ``name`` if given (a table being rebuilt)."""
    cols = [f"{t.serial} SERIAL PRIMARY KEY"] if t.serial else []
    cols += [f"{c} {kind.value}{' PRIMARY KEY' if c == t.key and not t.serial else ''}" for c, kind in t.stored.items()]
    return f"CREATE NODE TABLE IF NOT EXISTS {name or t.label}({', '.join(cols)})"


def ladybug_rel_ddl(r: RelTable) -> str:
    """The ``CREATE REL TABLE`` of ``r``."""
    ends = ", ".join(f"FROM {a} TO {b}" for a, b in r.ends)
    cols = "".join(f", {name} {kind.value}" for name, kind in r.props.items())
    return f"CREATE REL TABLE IF NOT EXISTS {r.type}({ends}{cols})"


def ladybug_ddl() -> list[str]:
    """``CREATE … TABLE IF NOT EXISTS`` statements, node tables first (edges refer to them)."""
    return [ladybug_node_ddl(t) for t in (*NODE_TABLES, *OWN_TABLES)] + [ladybug_rel_ddl(r) for r in REL_TABLES]


def _index(label: str, index: str | tuple[str, ...]) -> str:
    """The statement making a lookup index of ``label`` on one property or, in order, several."""
    props = (index,) if isinstance(index, str) else index
    name = f"{label.lower()}_{'_'.join(props)}"
    on = ", ".join(f"n.{p}" for p in props)
    return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON ({on})"


def neo4j_ddl() -> list[str]:
    """Uniqueness constraints (which also index the key) and lookup indexes, all idempotent."""
    out = [
        f"CREATE CONSTRAINT {t.label.lower()}_key IF NOT EXISTS "
        f"FOR (n:{t.label}) REQUIRE n.{t.key} IS UNIQUE"
        for t in (*NODE_TABLES, *OWN_TABLES)
    ]
    out += [_index(t.label, p) for t in (*NODE_TABLES, *OWN_TABLES) for p in t.indexed]
    out += [
        f"CREATE INDEX {r.type.lower()}_{p} IF NOT EXISTS FOR ()-[e:{r.type}]-() ON (e.{p})"
        for r in REL_TABLES for p in r.indexed
    ]
    return out
