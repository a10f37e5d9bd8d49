"""The world the privacy tests walk (tests/api/test_privacy.py, tests/web/test_privacy_pages.py),
and what each role should see of it by the privacy table (graph_schema/access/privacy.py).

County A holds H1 (head 张三华, a mobile phone, address, income, statuses; members 李小红 肢体一级
and 张伟 视力三级; paired with cadre C1 now and with C0 before; auxiliary pairings with
organisations O1 and O2; ledger entries by all four; problem P1 open, P2 solved) and H2 (head
欧阳明华, a landline, 特困, unpaired, member 王芳芳 智力二级). The users: an admin, an organiser and
a portal of county A, cadre C1, organisation O1.

Each observed value is checked against the table itself (shown: as stored; masked: its mask;
withheld: null, an empty cell, or absent from the page; a caller's own record in full) AND a few
values against :data:`LITERALS`, written by hand, so that a wrong table is caught too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from api.report_output import jsonable
from factories import OTHER_VILLAGE, VILLAGE, cadre, household, org, person
from graph_schema.access.models import Role
from graph_schema.access.privacy import BY_FIELD, REPORT_FIELDS, RULES, View, mask_id
from graph_schema.access.service import add_user, issue_token
from graph_schema.cadre.service import cadres_in, upsert_cadres
from graph_schema.enums import Department, LedgerKind
from graph_schema.household.service import households_in, members_in, upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import ledger_in, log_entries, problems_in
from graph_schema.listing.models import Listing
from graph_schema.listing.service import upsert_listings
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.common import as_dict
from graph_schema.org.service import orgs_in, upsert_orgs
from graph_schema.pagination import PageRequest
from graph_schema.pairing.service import aux_pair, aux_pairings_in, end_pairing, pair, pairings_in
from graph_schema.service.models import Need, Offer
from graph_schema.service.needs import record_needs
from graph_schema.service.offers import upsert_offers
from graph_schema.service.referrals import ReferralRequest, refer
from graph_schema.store import GraphStore

TODAY = dt.date.today()
COUNTY = "620822"
API = "/api/v1"
#: user → (role, what binds it)
USERS = {
    "admin": (Role.ADMIN, {}),
    "organizer": (Role.ORGANIZER, {"region": COUNTY}),
    "cadre": (Role.CADRE, {"cadre_no": "C1"}),
    "org": (Role.ORG, {"uscc": "O1"}),
    "portal": (Role.PORTAL, {"region": COUNTY}),
}
READERS = ("admin", "organizer", "portal")
#: each object kind: its key, and its rows of the table
KEYS = {"household": "household_no", "person": "id_number", "cadre": "cadre_no", "org": "uscc",
        "pairing": "pairing_id", "ledger": "entry_id", "problem": "problem_no", "risk": "household_no"}
O1 = org(contact="孙联系", phone="0931-8123456").model_copy(update={"name": "助残志愿者协会"})
O2 = org(contact="周其他", phone="13600003333").model_copy(update={"name": "爱心基金会"})


def named(name: str, household_no: str, **fields: Any):
    return person(household_no, **fields).model_copy(update={"name": name})


H1_PERSONS = (named("李小红", "H1", grade=1, category=4, relation="子女", cert_expiry=TODAY + dt.timedelta(days=20),
                    labour_ability="无", needs=["康复", "辅具"]),
              named("张伟", "H1", grade=3, category=1, relation="配偶", needs=["培训"]))
H2_PERSON = named("王芳芳", "H2", grade=2, category=5, relation="本人")


@dataclass
class World:
    store: GraphStore
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def build(store: GraphStore) -> World:
    upsert_households(store=store, households=[
        household("H1", VILLAGE, head_name="张三华", address="城关镇东街十七号", phone="13812341234", size=4, labour=1,
                  income_fen=1_234_500, monitoring="脱贫不稳定户", formerly_poor=True, dibao=True, tekun=False,
                  elderly_carer=True, risk_factors=["因病", "因残"]),
        household("H2", OTHER_VILLAGE, head_name="欧阳明华", address="西街五号", phone="0933-8123456", tekun=True)])
    upsert_persons(store=store, persons=[*H1_PERSONS, H2_PERSON])
    upsert_cadres(store=store, cadres=[cadre("C0", name="赵前任", phone="13900001111"),
                                       cadre("C1", name="钱现任", phone="13700002222")])
    upsert_orgs(store=store, orgs=[O1, O2])
    pair(store=store, household_no="H1", cadre_no="C0", started_on=dt.date(TODAY.year - 1, 1, 1))
    end_pairing(store=store, household_no="H1", reason="干部调动", ended_on=TODAY - dt.timedelta(days=100))
    pair(store=store, household_no="H1", cadre_no="C1", started_on=TODAY - dt.timedelta(days=90))
    aux_pair(store=store, household_no="H1", uscc=O1.uscc, started_on=TODAY - dt.timedelta(days=60))
    aux_pair(store=store, household_no="H1", uscc=O2.uscc, started_on=TODAY - dt.timedelta(days=50))

    def entry(days: int, kind: LedgerKind, note: str, **more: Any) -> LedgerEntry:
        return LedgerEntry(entry_date=TODAY - dt.timedelta(days=days), household_no="H1", kind=kind, note=note, **more)

    log_entries(store=store, entries=[
        entry(120, LedgerKind.VISIT, "前任走访记录", cadre_no="C0"),
        entry(10, LedgerKind.VISIT, "家中无障碍扶手松动", cadre_no="C1"),
        entry(11, LedgerKind.AID, "发放春节慰问金", cadre_no="C1", amount_fen=50_000),
        entry(12, LedgerKind.REPORT_PROBLEM, "轮椅损坏", cadre_no="C1", problem_no="P1"),
        entry(20, LedgerKind.REPORT_PROBLEM, "缺少常用药", cadre_no="C1", problem_no="P2"),
        entry(15, LedgerKind.SOLVE_PROBLEM, "已送药上门", cadre_no="C1", problem_no="P2"),
        entry(13, LedgerKind.DONATION, "捐赠轮椅一台", uscc=O1.uscc, amount_fen=30_000, in_kind_fen=20_000),
        entry(14, LedgerKind.VOLUNTEER, "志愿者上门理发", uscc=O2.uscc)])
    upsert_listings(store=store, listings=[Listing(
        dept=Department.CIVIL_AFFAIRS, item="困难残疾人生活补贴", id_number=H1_PERSONS[0].id_number, name="李小红",
        valid_from=TODAY.replace(day=1) - dt.timedelta(days=400))])
    # a need overdue with nobody handling it (unmet-needs), and one referred to O1 and overdue there
    upsert_offers(store=store, offers=[Offer(uscc=O1.uscc, service_code="FJ01", region_code=VILLAGE)])
    overdue_since = TODAY - dt.timedelta(days=200)
    record_needs(store=store, needs=[
        Need(id_number=H1_PERSONS[0].id_number, service_code="KF01", assessed_on=overdue_since),
        Need(id_number=H1_PERSONS[1].id_number, service_code="FJ01", assessed_on=overdue_since)])
    second = Need(id_number=H1_PERSONS[1].id_number, service_code="FJ01", assessed_on=overdue_since)
    refer(store=store, request=ReferralRequest(id_number=second.id_number, need_id=second.need_id,
                                               provider_uscc=O1.uscc, made_by="organizer",
                                               made_on=TODAY - dt.timedelta(days=150)))
    world = World(store)
    for user_id, (role, bound) in USERS.items():
        bound = {"uscc": O1.uscc} if bound.get("uscc") else bound
        add_user(store=store, user_id=user_id, role=role, **bound)
        world.tokens[user_id] = issue_token(store=store, user_id=user_id)
    return world


def stored(store: GraphStore) -> dict[str, dict[str, dict]]:
    """Every object of the world as stored, as JSON: kind → key → fields."""
    def work(tx) -> dict[str, list]:
        keys = ["H1", "H2"]
        return {"household": list(households_in(tx, keys).values()),
                "person": [p for ps in members_in(tx, keys).values() for p in ps],
                "pairing": [p for ps in pairings_in(tx, keys).values() for p in ps]
                + [p for ps in aux_pairings_in(tx, keys).values() for p in ps],
                "ledger": [e for es in ledger_in(tx, keys).values() for e in es],
                "problem": [p for ps in problems_in(tx, keys).values() for p in ps],
                "cadre": list(cadres_in(tx, ["C0", "C1"]).values()),
                "org": list(orgs_in(tx, [O1.uscc, O2.uscc]).values())}

    out: dict[str, dict[str, dict]] = {}
    for kind, records in store.read(work).items():
        for r in records:
            values = r.model_dump(mode="json") | ({"entry_id": r.entry_id} if kind == "ledger" else {})
            out.setdefault(kind, {})[values[KEYS[kind]]] = values
    return out


def own(kind: str, raw: dict, user: str) -> bool:
    """The caller's own record (shown in full): its cadre record, its organisation's, its entries."""
    if user == "cadre":
        return kind in ("cadre", "ledger") and raw.get("cadre_no") == "C1"
    if user == "org":
        return kind in ("org", "ledger") and raw.get("uscc") == O1.uscc
    return False


def expected(name: str, value: Any, user: str, is_own: bool = False) -> Any:
    """What the table says ``user`` sees of one stored value."""
    rule = BY_FIELD[name]
    if is_own or value is None:
        return value
    view = rule.views[USERS[user][0]]
    return value if view is View.SHOWN else rule.mask(value) if view is View.MASKED else None


#: Values written out by hand: a wrong table fails these even when the code follows it.
#: (user, field, key) → the value seen. Keys: household numbers, person names, cadre numbers,
#: organisation codes, ledger notes.
LITERALS: dict[tuple[str, str, str], Any] = {
    ("portal", "household.head_name", "H1"): "张*华",
    ("portal", "household.head_name", "H2"): "欧**华",
    ("portal", "household.phone", "H1"): "138****1234",
    ("portal", "household.phone", "H2"): "0933-***3456",
    ("portal", "household.address", "H1"): None,
    ("portal", "household.dibao", "H1"): None,
    ("portal", "household.income_fen", "H1"): None,
    ("portal", "person.name", "张伟"): "张*",
    ("portal", "person.name", "李小红"): "李*红",
    ("portal", "person.category", "李小红"): None,
    ("portal", "person.grade", "李小红"): None,
    ("portal", "person.cert_expiry", "李小红"): (TODAY + dt.timedelta(days=20)).isoformat(),
    ("portal", "ledger.note", "捐赠轮椅一台"): None,
    ("portal", "ledger.amount_fen", "捐赠轮椅一台"): None,
    ("portal", "org.contact", "O1"): "孙*系",
    ("portal", "org.phone", "O1"): "0931-***3456",
    ("portal", "cadre.phone", "C1"): "137****2222",
    ("portal", "problem.description", "P1"): None,
    ("portal", "risk.score", "H1"): None,
    ("cadre", "household.phone", "H1"): "138****1234",  # masked, as the head's ID number is
    ("cadre", "household.address", "H1"): "城关镇东街十七号",
    ("cadre", "household.income_fen", "H1"): 1_234_500,
    ("cadre", "person.category", "李小红"): 4,
    ("cadre", "person.grade", "李小红"): 1,
    ("cadre", "person.name", "李小红"): "李小红",
    ("cadre", "cadre.phone", "C0"): None,  # a former cadre's phone
    ("cadre", "cadre.phone", "C1"): "13700002222",  # its own
    ("cadre", "org.phone", "O1"): "0931-***3456",
    ("cadre", "ledger.note", "前任走访记录"): "前任走访记录",
    ("cadre", "risk.score", "H1"): 90,  # 脱贫不稳定户 30 + 重度 20 + 一户多残 15 + 以老养残 15 + 低保 10
    ("org", "household.phone", "H1"): "138****1234",
    ("org", "household.address", "H1"): "城关镇东街十七号",
    ("org", "household.income_fen", "H1"): None,
    ("org", "household.monitoring", "H1"): None,
    ("org", "person.category", "李小红"): 4,
    ("org", "person.cert_expiry", "李小红"): None,
    ("org", "org.phone", "O1"): "0931-8123456",  # its own
    ("org", "org.phone", "O2"): "136****3333",
    ("org", "org.contact", "O2"): "周其他",
    ("org", "cadre.phone", "C1"): "137****2222",
    ("org", "ledger.note", "捐赠轮椅一台"): "捐赠轮椅一台",  # its own entry
    ("org", "ledger.amount_fen", "捐赠轮椅一台"): 30_000,
    ("org", "ledger.note", "家中无障碍扶手松动"): None,  # the cadre's
    ("org", "ledger.amount_fen", "发放春节慰问金"): None,
    ("org", "problem.description", "P1"): "轮椅损坏",
    ("organizer", "cadre.phone", "C0"): "13900001111",
    ("organizer", "household.dibao", "H1"): True,
    ("organizer", "person.category", "王芳芳"): 5,
    ("admin", "risk.score", "H1"): 90,
}


def literal_key(kind: str, raw: dict) -> str:
    """How LITERALS name an object."""
    return {"person": raw.get("name"), "ledger": raw.get("note"),
            "org": {O1.uscc: "O1", O2.uscc: "O2"}.get(raw.get("uscc"))}.get(kind) or raw.get(KEYS[kind], "")


@dataclass
class Checks:
    """What one channel checked: every (user, field) compared, and the literals met."""

    fields: set[tuple[str, str]] = field(default_factory=set)
    literals: set[tuple[str, str, str]] = field(default_factory=set)

    def record(self, user: str, kind: str, raw: dict, seen: dict) -> None:
        """Compare every personal field of one observed record with the table and the literals."""
        mine = own(kind, raw, user)
        for name, value in raw.items():
            rule_name = f"{kind}.{name}"
            if rule_name not in BY_FIELD or name not in seen:
                continue
            got = seen[name]
            assert got == expected(rule_name, value, user, mine), (user, rule_name, raw.get(KEYS[kind]), got)
            if value is not None:
                self.fields.add((user, rule_name))
            lit = (user, rule_name, literal_key(kind, raw))
            if lit in LITERALS:
                assert got == LITERALS[lit], (lit, got)
                self.literals.add(lit)


def match(kind: str, raws: dict[str, dict], seen: dict) -> dict:
    """The stored record an observed one shows (a person's key may be masked)."""
    key = seen[KEYS[kind]]
    if kind == "person":
        return next(r for r in raws.values() if key in (r["id_number"], mask_id(r["id_number"])))
    return raws[key]


def rules_of(kinds: set[str]) -> set[str]:
    return {name for rule in RULES if rule.subject in kinds for name in rule.names}


def report_rows(store: GraphStore, name: str) -> list[dict]:
    found = REPORTS[name].run(store=store, region=COUNTY, page=PageRequest(1, 1000, 1000))
    return [json.loads(json.dumps(as_dict(r), default=jsonable)) for r in found.items]


def expected_row(name: str, raw: dict, user: str) -> dict:
    return {c: expected(REPORT_FIELDS[name][c], v, user) if REPORT_FIELDS[name].get(c) else v
            for c, v in raw.items()}

