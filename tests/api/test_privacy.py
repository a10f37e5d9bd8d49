"""The privacy table (graph_schema/access/privacy.py), field by field, for every role, in every
channel: the REST answers, GraphQL (objects and monitoring lists), the report downloads (JSON, CSV,
XLSX) and the console's pages; on both engines.

Each observed value is checked against the table itself (shown: as stored; masked: its mask;
withheld: null, an empty cell, or absent from the page; a caller's own record in full) AND a few
values against literals written here, so that a wrong table is caught too. Every row of the table
must have been checked in each channel that serves its object, so a field cannot slip out of the
test.

The world: county A holds H1 (head 张三华, a mobile phone, address, income, statuses; members
李小红 肢体一级 and 张伟 视力三级; paired with cadre C1 now and with C0 before; auxiliary pairings
with organisations O1 and O2; ledger entries by all four; problem P1 open) and H2 (head 欧阳明华,
a landline, 特困, unpaired, member 王芳芳 智力二级). The users: an admin, an organiser and a portal of
county A, cadre C1, organisation O1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from api.app import create_app
from api.report_output import cell, jsonable
from api.security import csrf_token
from factories import OTHER_VILLAGE, VILLAGE, cadre, household, org, person
from graph_schema.access.models import Role
from graph_schema.access.privacy import BY_FIELD, PUBLIC, REPORT_FIELDS, RULES, View, mask_id
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
    world = World(store)
    for user_id, (role, bound) in USERS.items():
        bound = {"uscc": O1.uscc} if bound.get("uscc") else bound
        add_user(store=store, user_id=user_id, role=role, **bound)
        world.tokens[user_id] = issue_token(store=store, user_id=user_id)
    return world


@pytest.fixture
def world(store: GraphStore) -> World:
    return build(store)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


# --- what is stored, and what each role should see of it ----------------------------------------

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
    ("cadre", "household.phone", "H1"): "13812341234",
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


# --- REST ---------------------------------------------------------------------------------------

REST_READS = [("household", "/households"), ("household", "/households/H1"), ("household", "/households/H2"),
              ("person", "/households/H1/members"), ("person", "/households/H2/members"),
              ("pairing", "/households/H1/pairings"), ("pairing", "/households/H1/aux-pairings"),
              ("ledger", "/households/H1/ledger"), ("problem", "/households/H1/problems"), ("problem", "/problems"),
              ("cadre", "/cadres"), ("cadre", "/cadres/C0"), ("cadre", "/cadres/C1"), ("household", "/cadres/C1/households"),
              ("org", "/orgs"), ("org", "/orgs/{o1}"), ("org", "/orgs/{o2}"), ("ledger", "/orgs/{o1}/ledger"),
              ("pairing", "/orgs/{o1}/aux-pairings"), ("person", "/persons/{p1}")]


def test_rest_answers_follow_the_table(client, world):
    raws, checks = stored(world.store), Checks()
    for user in USERS:
        for kind, path in REST_READS:
            url = API + path.format(o1=O1.uscc, o2=O2.uscc, p1=H1_PERSONS[0].id_number)
            got = client.get(url, headers=world.auth(user))
            assert got.status_code in (200, 403, 404), (user, url, got.text)
            if got.status_code != 200:
                continue
            body = got.json()
            for seen in body["items"] if isinstance(body, dict) and "items" in body else \
                    body if isinstance(body, list) else [body]:
                checks.record(user, kind, match(kind, raws[kind], seen), seen)
    assert {f for _, f in checks.fields} == rules_of({"household", "person", "pairing", "ledger", "problem", "cadre",
                                                      "org"})
    for user in USERS:  # every role met every field of the household it serves
        assert {f for u, f in checks.fields if u == user} >= rules_of({"household", "person"}), user
    missed = {lit for lit in LITERALS if not lit[1].startswith("risk.")} - checks.literals
    assert missed <= {("cadre", "cadre.phone", "C0"), ("org", "cadre.phone", "C1"), ("cadre", "org.phone", "O1"),
                      ("org", "org.phone", "O2"), ("org", "org.contact", "O2")}, missed  # GraphQL reaches these


@pytest.mark.parametrize("user", USERS)
def test_a_lookup_by_full_id_number_is_for_organisers_only(client, world, user):
    """A full ID number tells whether anyone is a registered disabled person: the other roles get
    403 whatever the number, so a known number and an unknown one answer alike."""
    known, unknown = H1_PERSONS[0].id_number, "62082219800101001X"
    answers = [client.get(f"{API}/persons/{n}", headers=world.auth(user)) for n in (known, unknown)]
    if user in ("admin", "organizer"):
        assert [a.status_code for a in answers] == [200, 404]
        assert answers[0].json()["id_number"] == known
    else:
        assert [a.status_code for a in answers] == [403, 403]
        assert answers[0].json()["code"] == answers[1].json()["code"] == "FORBIDDEN"
    query = "query($p: String!) { person(idNumber: $p) { name } }"
    for number in (known, unknown):
        got = client.post("/graphql", json={"query": query, "variables": {"p": number}}, headers=world.auth(user)).json()
        assert got["data"]["person"] is None or user in ("admin", "organizer")
        assert ("errors" in got) == (user not in ("admin", "organizer"))


def test_the_openapi_document_declares_every_withheld_field_nullable(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    models = {"household": "HouseholdOut", "person": "PersonOut", "cadre": "CadreOut", "org": "OrgOut",
              "pairing": "PairingOut", "ledger": "LedgerEntryOut", "problem": "ProblemOut"}
    for kind, model in models.items():
        properties = schemas[model]["properties"]
        assert set(properties) <= PUBLIC[kind] | {f for r in RULES if r.subject == kind for f in r.fields}, model
        for rule in RULES:
            if rule.subject != kind or View.WITHHELD not in rule.views.values():
                continue
            for name in rule.fields:
                nullable = {"type": "null"} in properties[name].get("anyOf", [])
                assert nullable, (model, name)


# --- GraphQL ------------------------------------------------------------------------------------

def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def snake(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        out["".join("_" + c.lower() if c.isupper() else c for c in key)] = value
    return out


def selection(kind: str, *more: str) -> str:
    """The key and every field the table names for the kind, in GraphQL's names."""
    names = [KEYS[kind], *more, *(f for rule in RULES if rule.subject == kind for f in rule.fields)]
    return " ".join(dict.fromkeys(camel(n) for n in names))


GRAPHQL = f"""{{
  households(first: 100) {{ edges {{ node {{ {selection("household")}
    members {{ {selection("person")} }}
    pairings {{ {selection("pairing")} cadre {{ {selection("cadre")} }} }}
    auxPairings {{ {selection("pairing")} organisation {{ {selection("org")} }} }}
    ledger(first: 100) {{ edges {{ node {{ {selection("ledger", "cadre_no", "uscc")} }} }} }}
    problems {{ {selection("problem")} }}
    risk {{ priority level score reasons }} }} }} }}
  cadres {{ edges {{ node {{ {selection("cadre")} }} }} }}
  organisations {{ edges {{ node {{ {selection("org")} }} }} }}
}}"""


def test_graphql_objects_follow_the_table(client, world):
    raws, checks = stored(world.store), Checks()
    admin_risk: dict[str, dict] = {}
    for user in USERS:  # the admin first: the risk as computed, which the others are compared with
        got = client.post("/graphql", json={"query": GRAPHQL}, headers=world.auth(user)).json()
        assert "errors" not in got, (user, got)
        data = got["data"]
        for edge in data["households"]["edges"]:
            h = edge["node"]
            checks.record(user, "household", raws["household"][h["householdNo"]], snake(h))
            for p in h["members"]:
                checks.record(user, "person", match("person", raws["person"], snake(p)), snake(p))
            for p in h["pairings"]:
                checks.record(user, "pairing", raws["pairing"][p["pairingId"]], snake(p))
                checks.record(user, "cadre", raws["cadre"][p["cadre"]["cadreNo"]], snake(p["cadre"]))
            for a in h["auxPairings"]:
                checks.record(user, "pairing", raws["pairing"][a["pairingId"]], snake(a))
                checks.record(user, "org", raws["org"][a["organisation"]["uscc"]], snake(a["organisation"]))
            for e in h["ledger"]["edges"]:
                checks.record(user, "ledger", raws["ledger"][e["node"]["entryId"]], snake(e["node"]))
            for p in h["problems"]:
                checks.record(user, "problem", raws["problem"][p["problemNo"]], snake(p))
            risk = admin_risk.setdefault(h["householdNo"], h["risk"] | {"household_no": h["householdNo"]})
            checks.record(user, "risk", risk, h["risk"])
            assert (h["risk"]["priority"], h["risk"]["level"]) == (risk["priority"], risk["level"])
        for edge in data["cadres"]["edges"]:
            checks.record(user, "cadre", raws["cadre"][edge["node"]["cadreNo"]], snake(edge["node"]))
        for edge in data["organisations"]["edges"]:
            checks.record(user, "org", raws["org"][edge["node"]["uscc"]], snake(edge["node"]))
    assert admin_risk["H1"]["reasons"] == ["脱贫不稳定户", "重度残疾成员1人", "一户多残（2人）", "以老养残", "低保"]
    kinds = {"household", "person", "pairing", "ledger", "problem", "cadre", "org", "risk"}
    assert {f for _, f in checks.fields} == rules_of(kinds)
    for user in USERS:
        assert {f for u, f in checks.fields if u == user} >= rules_of({"household", "person", "risk", "ledger"}), user
    assert checks.literals == set(LITERALS), set(LITERALS) - checks.literals


def test_the_graphql_schema_declares_every_withheld_field_nullable(client):
    from api.graphql.schema import schema

    types = {"household": "Household", "person": "Person", "cadre": "Cadre", "org": "Organisation",
             "pairing": "Pairing", "ledger": "LedgerEntry", "problem": "Problem", "risk": "Risk"}
    for kind, name in types.items():
        gql_type = schema.get_type_by_name(name)
        fields = {f.python_name: f for f in gql_type.fields}
        for rule in RULES:
            if rule.subject == kind and View.WITHHELD in rule.views.values():
                for f in rule.fields:
                    assert "Optional" in str(fields[f].type) or "None" in str(fields[f].type), (name, f)
    for report, columns in REPORT_FIELDS.items():
        node = schema.get_type_by_name(REPORTS[report].row.__name__)
        fields = {f.python_name: f for f in node.fields}
        for column, rule_name in columns.items():
            if rule_name and View.WITHHELD in BY_FIELD[rule_name].views.values():
                assert "Optional" in str(fields[column].type) or "None" in str(fields[column].type), (report, column)


# --- report rows: GraphQL lists, JSON pages, CSV and XLSX downloads ----------------------------------

PERSONAL_REPORTS = sorted(name for name, columns in REPORT_FIELDS.items() if any(columns.values()))


def report_rows(store: GraphStore, name: str) -> list[dict]:
    found = REPORTS[name].run(store=store, region=COUNTY, page=PageRequest(1, 1000, 1000))
    return [json.loads(json.dumps(as_dict(r), default=jsonable)) for r in found.items]


def expected_row(name: str, raw: dict, user: str) -> dict:
    return {c: expected(REPORT_FIELDS[name][c], v, user) if REPORT_FIELDS[name].get(c) else v
            for c, v in raw.items()}


def sheet_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def test_report_rows_follow_the_table_in_every_format(client, world):
    checked: set[tuple[str, str, str]] = set()  # (user, report, column) with a value to hide
    for name in PERSONAL_REPORTS:
        raws = report_rows(world.store, name)
        assert raws, f"{name}: an empty report proves nothing"
        report = REPORTS[name]
        gql_field = camel(name.replace("-", "_"))
        query = f'{{ {gql_field}(region: "{COUNTY}", first: 1000) {{ edges {{ node {{ {" ".join(camel(f) for f in report.fields)} }} }} }} }}'
        for user in USERS:
            params = {"region": COUNTY}
            answers = {fmt: client.get(f"{API}/reports/{name}", params=params | {"format": fmt, "page_size": 1000},
                                       headers=world.auth(user)) for fmt in ("json", "csv", "xlsx")}
            listed = client.post("/graphql", json={"query": query}, headers=world.auth(user)).json()
            if user not in READERS:
                assert {a.status_code for a in answers.values()} == {403}
                assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
                continue
            wanted = [expected_row(name, raw, user) for raw in raws]
            assert answers["json"].json()["items"] == wanted, (user, name)
            assert [snake(e["node"]) for e in listed["data"][gql_field]["edges"]] == wanted, (user, name)
            text_rows = [[str(cell(row[f])) for f in report.fields] for row in wanted]
            header, *lines = list(csv.reader(io.StringIO(answers["csv"].content.decode("utf-8-sig"))))
            assert header == [report.headers[f] for f in report.fields] and lines == text_rows, (user, name)
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(answers["xlsx"].content)).get_sheet_by_index(0).to_python()
            assert [[sheet_text(v) for v in row] for row in sheet[1:]] == text_rows, (user, name)
            checked |= {(user, name, c) for c, rule in REPORT_FIELDS[name].items() if rule
                        for raw in raws if raw[c] is not None}
    assert {(name, c) for _, name, c in checked} == {(n, c) for n, cs in REPORT_FIELDS.items() for c, r in cs.items() if r}
    # a few by hand: the portal's lists name households by masked names and show no disability
    portal = client.get(f"{API}/reports/unpaired", params={"region": COUNTY}, headers=world.auth("portal")).json()
    assert [(r["head_name"], r["risk_score"], r["reasons"]) for r in portal["items"]] == [("欧**华", None, None)]
    gaps = client.get(f"{API}/reports/benefit-gaps", params={"region": COUNTY, "format": "csv"},
                      headers=world.auth("portal")).content.decode("utf-8-sig")
    assert "李*红" in gaps and "李小红" not in gaps and "一级" not in gaps and "护理补贴" not in gaps
    organiser = client.get(f"{API}/reports/benefit-gaps", params={"region": COUNTY, "format": "csv"},
                           headers=world.auth("organizer")).content.decode("utf-8-sig")
    assert "李小红" in organiser and "一级残疾" in organiser


def test_counts_by_category_stay_for_the_portal(client, world):
    got = client.get(f"{API}/reports/disability-counts", params={"region": COUNTY}, headers=world.auth("portal"))
    county = got.json()["items"][0]
    assert (county["persons"], county["physical"], county["visual"], county["intellectual"], county["severe"]) == \
        (3, 1, 1, 1, 2)


# --- the console ----------------------------------------------------------------------------------

def sign_in(client: TestClient, world: World, user: str) -> None:
    answer = client.post("/login", data={"token": world.tokens[user], "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303
    client.headers["X-CSRF-Token"] = csrf_token(client.app.state.csrf_secret, world.tokens[user])


def shown_as(kind: str, name: str, raw: dict) -> str | None:
    """How the console writes one stored value (None: it does not draw this field)."""
    value = raw.get(name)
    if value is None:
        return None
    match f"{kind}.{name}":
        case "person.category":
            return "视力 听力 言语 肢体 智力 精神 多重".split()[value - 1]
        case "person.grade":
            return "一级 二级 三级 四级".split()[value - 1]
        case "person.needs":
            return "、".join(value)
        case "ledger.amount_fen" | "ledger.in_kind_fen":
            return f"{value / 100:.2f}"
        case ("household.head_name" | "household.head_id" | "household.address" | "household.phone"
              | "household.monitoring" | "person.name" | "person.id_number" | "person.cert_no" | "person.relation"
              | "person.cert_expiry" | "pairing.end_reason" | "problem.description" | "ledger.note"):
            return str(value)
    return None


#: fields the console shows by a heading or label rather than a distinctive value
LABELS = {"household.labour": "劳动力 / labour", "household.dibao": "低保 / 特困 / 以老养残",
          "risk.score": "分值 / score", "risk.reasons": "重度残疾成员1人", "benefit.item": "享受的服务 困难残疾人生活补贴"}


def test_console_household_page_follows_the_table(client, world):
    raws = stored(world.store)
    problem_texts = {p[f] for p in raws["problem"].values() for f in ("description", "resolution")}
    drawn: set[str] = set()
    for user in USERS:
        sign_in(client, world, user)
        page = client.get("/households/H1")
        assert page.status_code == 200, (user, page.text)
        html = page.text
        for kind in ("household", "person", "pairing", "ledger", "problem", "cadre", "org"):
            for raw in raws[kind].values():
                if kind in ("household", "problem") and raw.get("household_no") != "H1":
                    continue
                if kind == "person" and raw["household_no"] != "H1":
                    continue
                mine = own(kind, raw, user)
                for name, value in raw.items():
                    rule_name = f"{kind}.{name}"
                    if rule_name not in BY_FIELD or value is None or (kind == "ledger" and value in problem_texts):
                        continue  # a problem entry's note is the problem's description or resolution: checked as that
                    text = shown_as(kind, name, raw)
                    want = expected(rule_name, value, user, mine)
                    raw_text = text if text is not None else str(value)
                    if len(raw_text) < 2:
                        continue  # a one-character value (无) is no evidence either way
                    if want == value:
                        if text is not None:
                            assert text in html, (user, rule_name, text)
                            drawn.add(rule_name)
                    elif want is None:  # withheld: neither the value nor its mask is on the page
                        assert raw_text not in html, (user, rule_name)
                        if BY_FIELD[rule_name].mask:
                            assert BY_FIELD[rule_name].mask(raw_text) not in html, (user, rule_name)
                    else:  # masked: the mask, never the value
                        assert raw_text not in html, (user, rule_name)
                        if text is not None:
                            assert want in html, (user, rule_name, want)
        for rule_name, label in LABELS.items():
            assert (label in html) == (BY_FIELD[rule_name].views[USERS[user][0]] is not View.WITHHELD), \
                (user, rule_name)
    assert drawn >= {"household.head_name", "household.head_id", "household.address", "household.phone",
                     "person.name", "person.id_number", "person.category", "person.grade", "person.needs",
                     "person.cert_expiry", "pairing.end_reason", "problem.description", "ledger.note",
                     "ledger.amount_fen"}


#: the console's list pages: path → the report it shows
LIST_PAGES = {"/unpaired": "unpaired", "/problems": "open-problems", "/cert-expiry": "cert-expiry",
              "/benefit-gaps": "benefit-gaps", "/overdue": "overdue-visits", "/cadre-load": "cadre-load"}


def test_console_lists_follow_the_table(client, world):
    for user in USERS:
        sign_in(client, world, user)
        for path, name in LIST_PAGES.items():
            page = client.get(path)
            if user not in READERS:
                assert page.status_code == 403
                continue
            html = page.text
            headers = REPORTS[name].headers
            for raw in report_rows(world.store, name):
                for column, rule_name in REPORT_FIELDS[name].items():
                    if not rule_name or raw[column] in (None, []):
                        continue
                    want = expected(rule_name, raw[column], user)
                    text = "；".join(raw[column]) if isinstance(raw[column], list) else str(raw[column])
                    if want is None:  # withheld: no column, and (for a text) not on the page
                        assert isinstance(raw[column], int) or text not in html, (user, path, column)
                        assert f'<th scope="col">{headers[column]}' not in html or column == "id_masked", (user, path)
                    elif want == raw[column]:
                        assert text in html, (user, path, column, text)
                    else:
                        assert text not in html and str(want) in html, (user, path, column)
    sign_in(client, world, "portal")
    unpaired = client.get("/unpaired").text
    assert "欧**华" in unpaired and "欧阳明华" not in unpaired and 'id="reason"' not in unpaired
    # no row matches a reason the portal may not see, so the filter tells nothing about a household
    assert "/households/H2" not in client.get("/unpaired", params={"reason": "特困"}).text
    sign_in(client, world, "organizer")
    assert "/households/H2" in client.get("/unpaired", params={"reason": "特困"}).text


def test_console_never_shows_the_fields_it_does_not_draw(client, world):
    """Income, risk factors, labour ability, contacts and the phones of cadres and organisations
    are not on the console's pages for any role."""
    hidden = ["12345.00", "1234500", "因病", "孙联系", "周其他", "13900001111", "13700002222", "0931-8123456",
              "13600003333"]
    for user in USERS:
        sign_in(client, world, user)
        for path in ["/households/H1", *(LIST_PAGES if user in READERS else [])]:
            html = client.get(path).text
            assert not [h for h in hidden if h in html], (user, path)
