"""The OpenAPI document and the server agree on each finding of the attack review (finding 9):
what the document allows is accepted, what it forbids is refused, every status is declared, and
the ``Allow`` header of a 405 names every method of the path. (test_rest_schemathesis.py searches
for more; these are the cases it first found, kept as plain regressions.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from api.rest.inputs import REGION_PATTERN, SEMANTIC_CODES
from graph_schema.identifiers import uscc_check_char

API = "/api/v1"
TODAY = dt.date.today().isoformat()


def spec(client) -> dict:
    return client.app.openapi()


def component(client, name: str) -> dict:
    return spec(client)["components"]["schemas"][name]


def parameter(client, path: str, name: str) -> dict:
    found = next(p for p in spec(client)["paths"][API + path]["get"]["parameters"] if p["name"] == name)
    return found["schema"]["anyOf"][0] if "anyOf" in found["schema"] else found["schema"]


#: region code → whether it is one
REGIONS = {"62": True, "6208": True, "620822": True, "620822100": True, "620822100201": True, "6200": True,
           "000000000000": False, "00": False, "620022": False, "620800100": False, "6208221": False,
           "６２": False, "62082210020": False}


def test_the_region_pattern_is_the_servers_rule(client, world):
    """000000000000 is no region (no province 00), and a lower part under a zero part is none
    either: the document's pattern and the server say so alike."""
    published = parameter(client, "/households", "region")["pattern"]
    assert published == REGION_PATTERN
    for code, region in REGIONS.items():
        assert (re.search(published, code) is not None) == region, code
        got = client.get(f"{API}/problems", params={"region": code}, headers=world.auth("admin"))
        assert got.status_code == (200 if region else 422), (code, got.text)
        if not region:
            assert [e["field"] for e in got.json()["errors"]] == ["query.region"]


def test_a_time_is_rfc3339_with_its_offset_and_nothing_else(client, world):
    for since in ("0.5", "1577836800", "2024-01-01T08:00:00", "2024-01-01", "2024-02-30T00:00:00Z",
                  "0001-01-01T00:00:00Z", "2024-01-01t08:00:00z", "2024-01-01T08:00:60Z"):
        got = client.get(f"{API}/audit", params={"since": since}, headers=world.auth("admin"))
        assert got.status_code == 422 and got.json()["errors"][0]["field"] == "query.since", since
    for since in ("2024-01-01T08:00:00.5+08:00", "2024-01-01T00:00:00Z"):
        assert client.get(f"{API}/audit", params={"since": since}, headers=world.auth("admin")).status_code == 200


def test_flags_and_integers_in_a_query_are_written_as_the_document_says(client, world):
    for query, status in [("open=true", 200), ("open=false", 200), ("open=yes", 422), ("open=1", 422),
                          ("open=True", 422), ("page=1.0", 422), ("page=2", 200), ("page_size= 5", 422)]:
        assert client.get(f"{API}/problems?{query}", headers=world.auth("admin")).status_code == status, query


def entry(**fields) -> dict:
    return {"entry_date": TODAY, "household_no": "HA1", "kind": "入户走访"} | fields


@pytest.mark.parametrize("body,status", [
    (entry(cadre_no="CA1"), 201),
    (entry(), 422),  # neither actor
    (entry(cadre_no="CA1", uscc="x"), 422),  # both
    (entry(cadre_no=""), 422),
    (entry(cadre_no="CA1", amount_fen=100.0), 201),  # an integer, as JSON Schema counts one
    (entry(cadre_no="CA1", amount_fen="100"), 422),
    (entry(cadre_no="CA1", amount_fen=True), 422),
    (entry(cadre_no="CA1", entry_date=1577836800), 422),
    (entry(cadre_no="CA1", entry_date="1899-12-31"), 422),
    (entry(cadre_no="CA1", entry_date="2024-1-1"), 422),
    (entry(cadre_no="CA1", kind="反映困难"), 422),  # a reported difficulty needs its number
    (entry(cadre_no=" CA1"), 422),
])
def test_a_ledger_entry_names_exactly_one_actor_in_the_document_and_on_the_server(client, world, body, status):
    got = client.post(f"{API}/ledger", json=body, headers=world.auth("admin"))
    assert got.status_code == status, got.text
    schema = component(client, "LedgerEntryIn")
    assert [sorted(branch["required"]) for branch in schema["oneOf"]] == [["cadre_no"], ["uscc"]]
    assert schema["then"]["required"] == ["problem_no"] and schema["additionalProperties"] is False


def test_a_proposal_sent_back_keeps_its_json_types(client, world):
    auth = world.auth("admin")
    proposal = client.post(f"{API}/matching/proposals", json={"region": "620822", "reach": "county"}, headers=auth)
    assert proposal.status_code == 200
    sent = proposal.json()
    assert client.post(f"{API}/matching/confirmations", json={"proposal": sent, "only": []},
                       headers=auth).status_code == 200
    for path, value in [(("summary", "churn"), False), (("summary", "kept"), "0"), (("objective",), True),
                        (("as_of",), 20240101), (("created_at",), "2024-01-01T00:00:00")]:
        bad = {**sent, "summary": dict(sent["summary"])}
        (bad["summary"] if path[0] == "summary" else bad)[path[-1]] = value
        got = client.post(f"{API}/matching/confirmations", json={"proposal": bad}, headers=auth)
        assert got.status_code == 422 and got.json()["errors"][0]["field"] == ".".join(("body", "proposal", *path))


def test_an_empty_upload_is_refused_as_the_document_says(client, world):
    auth = world.auth("admin")
    got = client.post(f"{API}/imports", files=[], data={"x": "1"}, headers=auth)
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "body.files"
    files = component(client, "Body_upload_api_v1_imports_post")["properties"]["files"]
    assert (files["minItems"], files["maxItems"]) == (1, 50)
    twice = client.post(f"{API}/imports", files=[("files", ("a.csv", b"x")), ("files", ("a.csv", b"y"))], headers=auth)
    assert twice.status_code == 422 and twice.json()["code"] == "FILE_NAME"


def test_check_characters_are_verified_and_named_by_a_stable_code(client, world):
    auth, real = world.auth("admin"), world.persons["HA1"]
    wrong = real[:17] + ("0" if real[17] != "0" else "1")
    got = client.get(f"{API}/persons/{wrong}", headers=auth)
    assert got.status_code == 422 and got.json()["errors"][0]["code"] == "ID_CHECKSUM"
    lower = client.get(f"{API}/persons/{real.lower()}", headers=auth)
    assert lower.status_code == 200 and lower.json()["id_number"] == real
    good = "91620822MA0000001" + uscc_check_char("91620822MA0000001")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert client.get(f"{API}/orgs/{good}", headers=auth).status_code == 404
    got = client.get(f"{API}/orgs/{bad}", headers=auth)
    assert got.status_code == 422 and got.json()["errors"][0]["code"] == "USCC_CHECKSUM"
    assert client.get(f"{API}/orgs/{good.lower()}", headers=auth).json()["errors"][0]["field"] == "path.uscc"


def test_an_admin_names_the_region_of_a_report(client, world):
    got = client.get(f"{API}/reports/unpaired", headers=world.auth("admin"))
    assert got.status_code == 422 and got.json()["code"] == "REGION_REQUIRED"
    assert client.get(f"{API}/reports/unpaired", headers=world.auth("portal-a")).status_code == 200


def test_every_operation_declares_every_status_it_answers(client):
    for path, operations in spec(client)["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"401", "403", "404", "422", "429", "503"} <= declared, (method, path)
            if method != "get":
                assert {"400", "409"} <= declared or path.endswith("/imports"), (method, path)
            assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True
            assert all(code in operation["responses"]["422"]["description"] for code in SEMANTIC_CODES)
    assert "/graphql" not in spec(client)["paths"]  # its contract is the GraphQL schema


def test_a_405_names_every_method_of_the_path(client, world):
    for method, path, allowed in [("OPTIONS", "/exclusions", {"GET", "POST"}), ("PUT", "/exclusions", {"GET", "POST"}),
                                  ("GET", "/exclusions/HA1/CA1", {"DELETE"}), ("DELETE", "/households", {"GET"})]:
        got = client.request(method, API + path, headers=world.auth("admin"))
        assert got.status_code == 405 and set(got.headers["allow"].split(", ")) == allowed, (method, path)
