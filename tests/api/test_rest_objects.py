"""What the REST API answers, beyond who may ask: cadres, organisations, problems, exclusions,
matching, reports and the audit trail; ID numbers masked in every response for the roles that
may not see them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from python_calamine import CalamineWorkbook

from factories import VILLAGE, household, person
from graph_schema.access.audit import audit_entries
from graph_schema.household.service import upsert_households, upsert_persons

API = "/api/v1"
MASKING = ("portal-a", "cadre-a", "org-a")  # roles that never see a full ID number


def get(client, world, who: str, path: str, **params):
    got = client.get(API + path.format(oa=world.org_a, ob=world.org_b), params=params, headers=world.auth(who))
    assert got.status_code == 200, (who, path, got.text)
    return got


@pytest.mark.parametrize("user,cadres,orgs", [
    ("admin", ["CA1", "CA2", "CB1"], ["a", "b"]), ("organizer-a", ["CA1", "CA2"], ["a"]),
    ("organizer-b", ["CB1"], ["b"]), ("portal-a", ["CA1", "CA2"], ["a"]), ("cadre-a", ["CA1"], []),
    ("org-a", [], ["a"])])
def test_lists_of_cadres_and_organisations_are_scoped(client, world, user, cadres, orgs):
    assert [c["cadre_no"] for c in get(client, world, user, "/cadres").json()["items"]] == cadres
    codes = {"a": world.org_a, "b": world.org_b}
    assert [o["uscc"] for o in get(client, world, user, "/orgs").json()["items"]] == sorted(codes[o] for o in orgs)


def test_a_cadre_with_load_and_households_and_an_org_with_its_pairings_and_ledger(client, world):
    ca1 = get(client, world, "organizer-a", "/cadres/CA1").json()
    assert (ca1["load"], ca1["pair_limit"], ca1["on_duty"]) == (1, 3, True)
    assert get(client, world, "organizer-a", "/cadres/CA2").json()["load"] == 0
    households = get(client, world, "cadre-a", "/cadres/CA1/households").json()["items"]
    assert [h["household_no"] for h in households] == ["HA1"]
    aux = get(client, world, "org-a", "/orgs/{oa}/aux-pairings").json()["items"]
    assert [(p["household_no"], p["ended_on"]) for p in aux] == [("HA2", None)]
    ledger = get(client, world, "org-a", "/orgs/{oa}/ledger").json()["items"]  # its own entries, amounts included
    assert [(e["household_no"], e["kind"], e["amount_fen"]) for e in ledger] == [("HA2", "捐款捐物", 50000)]
    page = get(client, world, "admin", "/cadres", page_size=2, page=2).json()
    assert (page["total"], page["pages"], [c["cadre_no"] for c in page["items"]]) == (3, 2, ["CB1"])


def test_solving_a_problem_is_a_ledger_entry(client, world):
    assert [p["problem_no"] for p in get(client, world, "cadre-a", "/problems", open="true").json()["items"]] == ["P1"]
    solved = client.post(f"{API}/ledger", headers=world.auth("cadre-a"), json={
        "entry_date": dt.date.today().isoformat(), "household_no": "HA1", "cadre_no": "CA1", "kind": "解决困难",
        "problem_no": "P1", "note": "已更换轮椅"})
    assert solved.status_code == 201 and len(solved.json()["entry_id"]) == 32
    assert get(client, world, "portal-a", "/problems", open="true").json()["items"] == []
    closed = get(client, world, "organizer-a", "/problems", open="false").json()["items"]
    assert [(p["problem_no"], p["closed_on"], p["resolved_by"], p["resolution"]) for p in closed] == [
        ("P1", dt.date.today().isoformat(), "CA1", "已更换轮椅")]
    assert get(client, world, "organizer-b", "/problems").json()["total"] == 0
    again = client.post(f"{API}/ledger", headers=world.auth("cadre-a"), json={
        "entry_date": dt.date.today().isoformat(), "household_no": "HA1", "cadre_no": "CA1", "kind": "解决困难",
        "problem_no": "P1", "note": "再次"})
    assert again.status_code == 409 and again.json()["code"] == "PROBLEM_NOT_OPEN"


def test_the_exclusion_list_is_kept_and_obeyed(client, world):
    auth = world.auth("organizer-a")
    made = client.post(f"{API}/exclusions", json={"household_no": "HA2", "cadre_no": "CA2", "reason": "亲属",
                                                  "note": "表亲"}, headers=auth)
    assert made.status_code == 201 and made.json()["reason"] == "亲属"
    listed = get(client, world, "organizer-a", "/exclusions").json()["items"]
    assert [(e["household_no"], e["cadre_no"], e["note"]) for e in listed] == [("HA2", "CA2", "表亲")]
    assert get(client, world, "organizer-b", "/exclusions").json()["items"] == []
    refused = client.post(f"{API}/pairings", json={"household_no": "HA2", "cadre_no": "CA2"}, headers=auth)
    assert refused.status_code == 409 and refused.json()["code"] == "PAIR_EXCLUDED"
    assert client.delete(f"{API}/exclusions/HA2/CA2", headers=auth).json()["lifted"] is True
    assert client.delete(f"{API}/exclusions/HA2/CA2", headers=auth).json()["lifted"] is False
    paired = client.post(f"{API}/pairings", json={"household_no": "HA2", "cadre_no": "CA2"}, headers=auth)
    assert paired.status_code == 201


def test_propose_confirm_and_a_stale_pair_refused_with_its_reason(client, world):
    upsert_households(store=world.store, households=[household("HA3", VILLAGE, tekun=True),
                                                     household("HA4", VILLAGE, tekun=True)])
    auth = world.auth("organizer-a")
    proposal = client.post(f"{API}/matching/proposals", json={"reach": "county"}, headers=auth).json()
    new = {p["household_no"]: p["cadre_no"] for p in proposal["pairs"] if p["change"] == "new"}
    assert set(new) == {"HA3", "HA4"} and proposal["scope"] == "620822000000"
    first = client.post(f"{API}/pairings", json={"household_no": "HA4", "cadre_no": "CA2"}, headers=auth)
    assert first.status_code == 201  # HA4 is paired meanwhile: its pair in the proposal is stale
    done = client.post(f"{API}/matching/confirmations", json={"proposal": proposal}, headers=auth).json()
    assert [p["household_no"] for p in done["confirmed"]] == ["HA3"] and done["unchanged"] == ["HA1"]
    assert done["confirmed"][0]["source"] == "matcher" and done["confirmed"][0]["proposal_id"] == proposal["id"]
    (refusal,) = done["refused"]
    assert refusal["household_no"] == "HA4" and refusal["code"] == "PROPOSAL_STALE"
    assert "HA4" in refusal["message"] and "HA4" in refusal["message_en"]
    again = client.post(f"{API}/matching/confirmations", json={"proposal": proposal, "only": ["HA3"]},
                        headers=auth).json()
    assert again["confirmed"] == [] and again["unchanged"] == ["HA3"]
    moved = client.post(f"{API}/pairings/HA3/transfer", json={"cadre_no": "CA2"}, headers=auth).json()
    assert moved["ended"]["household_no"] == moved["new"]["household_no"] == "HA3"
    assert moved["ended"]["ended_on"] and moved["new"]["cadre_no"] == "CA2" and moved["new"]["source"] == "transfer"


def full_ids(world) -> set[str]:
    heads = {r["id"] for r in world.store.query("MATCH (h:Household) RETURN h.head_id AS id")}
    return heads | set(world.persons.values())


READ_PATHS = ["/households", "/households/HA1", "/households/HA1/members", "/households/HA2/members", "/cadres",
              "/cadres/CA1/households", "/orgs", "/orgs/{oa}/aux-pairings", "/orgs/{oa}/ledger", "/problems"]
REPORTS = [("benefit-gaps", {}), ("cert-expiry", {}), ("unpaired", {}), ("open-problems", {}), ("coverage", {}),
           ("cadre-load", {}), ("overdue-visits", {}), ("post-evaluation", {}), ("problem-closure", {}),
           ("post-evaluation-totals", {})]


def test_no_full_id_number_reaches_the_roles_that_may_not_see_them(client, world):
    upsert_persons(store=world.store, persons=[person("HA1", grade=2, cert_expiry=dt.date.today() + dt.timedelta(20))])
    ids = full_ids(world)
    masked = {i[:6] + "********" + i[14:] for i in ids}
    seen_masked = set()
    for user in MASKING:
        for path in READ_PATHS:
            got = client.get(API + path.format(oa=world.org_a), headers=world.auth(user))
            assert not any(i in got.text for i in ids), (user, path)
            seen_masked |= {m for m in masked if m in got.text}
    assert len(seen_masked) >= 3  # heads and members are there, masked
    for user in ("portal-a", "organizer-a", "admin"):
        for name, params in REPORTS:
            for fmt in ("json", "csv", "xlsx"):
                got = client.get(f"{API}/reports/{name}", params={"region": "620822", "format": fmt} | params,
                                 headers=world.auth(user))
                assert got.status_code == 200, (user, name, fmt, got.text)
                text = got.text if fmt != "xlsx" else str(
                    CalamineWorkbook.from_filelike(io.BytesIO(got.content)).get_sheet_by_index(0).to_python())
                assert not any(i in text for i in ids), (user, name, fmt)


def test_reports_that_name_persons_show_them_masked(client, world):
    upsert_persons(store=world.store, persons=[person("HA2", grade=2, cert_expiry=dt.date.today() + dt.timedelta(20))])
    gaps = get(client, world, "portal-a", "/reports/benefit-gaps", region="620822").json()
    assert gaps["items"] and all(r["id_masked"][6:14] == "********" for r in gaps["items"])
    expiring = get(client, world, "portal-a", "/reports/cert-expiry", region="620822").json()["items"]
    assert [(r["household_no"], r["within"]) for r in expiring] == [("HA2", "1个月")]
    assert expiring[0]["id_masked"][6:14] == "********"


def test_a_report_as_json_page_and_as_every_row_in_a_file(client, world):
    upsert_households(store=world.store, households=[household(f"HA{n}", VILLAGE, tekun=True) for n in (5, 6, 7)])
    page = get(client, world, "organizer-a", "/reports/unpaired", page_size=2, page=2).json()
    assert (page["report"], page["region"], page["total"], page["pages"], len(page["items"])) == (
        "unpaired", "620822", 3, 2, 1)
    assert page["items"][0]["risk_level"] and isinstance(page["items"][0]["reasons"], list)
    csv_rows = get(client, world, "organizer-a", "/reports/unpaired", page_size=1, format="csv").content
    assert csv_rows.startswith("\ufeff户编号".encode()) and csv_rows.decode("utf-8-sig").count("\n") == 4
    xlsx = get(client, world, "organizer-a", "/reports/unpaired", format="xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "户编号" and sorted(r[0] for r in rows[1:]) == ["HA5", "HA6", "HA7"]
    assert xlsx.headers["content-disposition"].startswith('attachment; filename="unpaired-620822-')
    coverage = get(client, world, "portal-a", "/reports/coverage", **{"from": "2024-01-01"}).json()
    assert coverage["items"][0]["region_code"] == "620822000000"
    catalogue = get(client, world, "portal-a", "/reports").json()
    assert {r["name"]: r["ranged"] for r in catalogue}["coverage"] is True
    assert next(r for r in catalogue if r["name"] == "unpaired")["headers"]["household_no"] == "户编号"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_full_width_region_code_is_refused_clearly(client, world, fmt):
    """It once failed with 500 while naming the download; the API takes region codes in ASCII
    digits, as its OpenAPI document says, and names a download by the code's digits."""
    got = client.get(f"{API}/reports/unpaired", params={"region": "６２０８２２", "format": fmt},
                     headers=world.auth("organizer-a"))
    assert got.status_code == 422 and got.json()["errors"][0]["field"] == "query.region"
    named = get(client, world, "organizer-a", "/reports/unpaired", region="620822", format=fmt)
    assert named.headers["content-disposition"].startswith('attachment; filename="unpaired-620822-')
    assert named.headers["content-disposition"].endswith(f'.{fmt}"')


def test_report_reads_and_writes_are_in_the_audit_trail_which_only_admins_read(client, world):
    get(client, world, "portal-a", "/reports/benefit-gaps", region="620822")
    client.post(f"{API}/pairings", json={"household_no": "HA2", "cadre_no": "CA2"}, headers=world.auth("organizer-a"))
    client.app.state.services.audit.flush()
    read = audit_entries(store=world.store, user_id="portal-a").items
    assert read[0].operation == "GET /api/v1/reports/{name}" and "HA1" in read[0].object_keys
    trail = get(client, world, "admin", "/audit", user="organizer-a").json()
    assert [(e["action"], e["operation"], e["object_keys"]) for e in trail["items"]] == [
        ("write", "POST /api/v1/pairings", ["HA2"])]
    assert get(client, world, "admin", "/audit", object="HA2", user="organizer-a").json()["total"] == 1
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    assert get(client, world, "admin", "/audit", since=later).json()["total"] == 0
    assert client.get(f"{API}/audit", params={"since": "0001-01-01T00:00:00+05:00"},
                      headers=world.auth("admin")).status_code == 422
    # read-only: no route of the audit trail changes anything
    assert set(client.app.openapi()["paths"][f"{API}/audit"]) == {"get"}


@pytest.mark.parametrize("path", ["/households", "/cadres", "/orgs", "/problems", "/audit", "/exclusions",
                                  "/reports/cert-expiry?region=620822", "/reports/unpaired?region=620822"])
def test_a_page_far_past_the_end_is_empty(client, world, path):
    """(The embedded engine crashed the process on ORDER BY … SKIP far beyond the rows.)"""
    sep = "&" if "?" in path else "?"
    got = client.get(f"{API}{path}{sep}page=999999&page_size=50", headers=world.auth("admin"))
    assert got.status_code == 200 and got.json()["items"] == [] and got.json()["page"] == 999999


def test_many_small_writes_do_not_exhaust_the_store(client, world):
    """Every request that shows or changes household data stores its audit entry; on the embedded
    engine ~40 one-row bulk loads used to fill a 256 MB buffer pool."""
    for n in range(80):
        assert client.get(f"{API}/households/HA1", headers=world.auth("admin")).status_code == 200
        client.app.state.services.audit.flush()
    assert audit_entries(store=world.store, object_key="HA1").total == 80
