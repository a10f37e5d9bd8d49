"""The privacy table (graph_schema/access/privacy.py), field by field, for every role, in the
service's data channels: the REST answers, GraphQL (objects and monitoring lists) and the report
downloads (JSON, CSV, XLSX); on both engines. The world and the expectations are in
tests/privacy_world.py; the console's pages are checked in tests/web/test_privacy_pages.py.

Every row of the table must have been checked in each channel that serves its object, so a field
cannot slip out of the test.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from strawberry.types.private import is_private

from api.app import create_app
from api.report_output import cell
from factories import id_number
from graph_schema.access.models import Role
from graph_schema.access.privacy import BY_FIELD, PUBLIC, REPORT_FIELDS, RULES, View
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.store import GraphStore
from privacy_world import (
    API, COUNTY, H1_PERSONS, KEYS, LITERALS, O1, O2, READERS, USERS, Checks, World, build, expected_row,
    match, report_rows, rules_of, stored,
)


@pytest.fixture
def world(store: GraphStore) -> World:
    return build(store)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c


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
    known, unknown = H1_PERSONS[0].id_number, id_number()  # a valid number nobody holds
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
    members(first: 20) {{ edges {{ node {{ {selection("person")} }} }} }}
    pairings(first: 20) {{ edges {{ node {{ {selection("pairing")} cadre {{ {selection("cadre")} }} }} }} }}
    auxPairings(first: 20) {{ edges {{ node {{ {selection("pairing")} organisation {{ {selection("org")} }} }} }} }}
    ledger(first: 20) {{ edges {{ node {{ {selection("ledger", "cadre_no", "uscc")} }} }} }}
    problems(first: 20) {{ edges {{ node {{ {selection("problem")} }} }} }}
    risk {{ priority level score reasons }} }} }} }}
  cadres {{ edges {{ node {{ {selection("cadre")} }} }} }}
  organisations {{ edges {{ node {{ {selection("org")} }} }} }}
}}"""


def nodes(connection: dict) -> list[dict]:
    return [e["node"] for e in connection["edges"]]


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
            for p in nodes(h["members"]):
                checks.record(user, "person", match("person", raws["person"], snake(p)), snake(p))
            for p in nodes(h["pairings"]):
                checks.record(user, "pairing", raws["pairing"][p["pairingId"]], snake(p))
                checks.record(user, "cadre", raws["cadre"][p["cadre"]["cadreNo"]], snake(p["cadre"]))
            for a in nodes(h["auxPairings"]):
                checks.record(user, "pairing", raws["pairing"][a["pairingId"]], snake(a))
                checks.record(user, "org", raws["org"][a["organisation"]["uscc"]], snake(a["organisation"]))
            for e in h["ledger"]["edges"]:
                checks.record(user, "ledger", raws["ledger"][e["node"]["entryId"]], snake(e["node"]))
            for p in nodes(h["problems"]):
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


#: GraphQL fields that lead to other objects or derive a flag from public fields
LINKS = {"members", "pairings", "active_pairing", "aux_pairings", "ledger", "problems", "risk", "household", "cadre",
         "organisation", "households", "active", "open", "at_limit", "load"}


def test_the_graphql_schema_declares_every_withheld_field_nullable():
    from api.graphql.schema import schema

    types = {"household": "Household", "person": "Person", "cadre": "Cadre", "org": "Organisation",
             "pairing": "Pairing", "ledger": "LedgerEntry", "problem": "Problem", "risk": "Risk"}
    for kind, name in types.items():
        gql_type = schema.get_type_by_name(name)
        fields = {f.python_name: f for f in gql_type.fields if not is_private(f.type)}
        # every field is in the table, public, or a link to other objects (which the table covers)
        assert set(fields) - PUBLIC.get(kind, frozenset()) - {f for r in RULES if r.subject == kind for f in r.fields} \
            <= LINKS, (name, set(fields))
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
            if user not in READERS or (report.organisers_only and USERS[user][0] is Role.PORTAL):
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
