"""GraphQL mutations: each role may do its own changes, inside its jurisdiction only; the pairing
and ledger rules answer with their codes; every change is in the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

from factories import VILLAGE, household
from graph_schema.access.audit import audit_entries
from graph_schema.household.service import upsert_households

TODAY = dt.date.today().isoformat()
PAIR = 'mutation { pair(householdNo: "HA2", cadreNo: "CA2") { householdNo cadreNo active source } }'
STATE = '''{ household(householdNo: "HA2") { activePairing { cadreNo }
  pairings { edges { node { cadreNo active endReason } } } } }'''


def gql(client, world, user, query, variables=None):
    response = client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=world.auth(user))
    assert response.status_code == 200, response.text
    return response.json()


def codes(result) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


@pytest.mark.parametrize(("user", "code"), [
    ("portal-a", "FORBIDDEN"), ("cadre-a", "FORBIDDEN"), ("org-a", "FORBIDDEN"), ("organizer-b", "NOT_FOUND")])
def test_only_an_organiser_of_the_jurisdiction_pairs(client, world, user, code):
    refused = gql(client, world, user, PAIR)
    assert codes(refused) == [code] and refused["data"] is None
    assert gql(client, world, "admin", STATE)["data"]["household"]["activePairing"] is None  # nothing changed


def test_an_organiser_pairs_transfers_and_ends_and_each_change_is_audited(client, world):
    paired = gql(client, world, "organizer-a", PAIR)["data"]["pair"]
    assert paired == {"householdNo": "HA2", "cadreNo": "CA2", "active": True, "source": "manual"}
    moved = gql(client, world, "organizer-a", """mutation { transferPairing(householdNo: "HA2", cadreNo: "CA1") {
      ended { cadreNo active endReason } new { cadreNo active } } }""")["data"]["transferPairing"]
    assert moved == {"ended": {"cadreNo": "CA2", "active": False, "endReason": "干部调整"},
                     "new": {"cadreNo": "CA1", "active": True}}
    ended = gql(client, world, "organizer-a", 'mutation { endPairing(householdNo: "HA2", reason: "户已稳定") { active } }')
    assert ended["data"]["endPairing"] == {"active": False}
    state = gql(client, world, "organizer-a", STATE)["data"]["household"]
    assert state["activePairing"] is None
    # both started and ended today, so their order is the pairing ids'
    assert sorted((e["node"]["cadreNo"], e["node"]["endReason"]) for e in state["pairings"]["edges"]) == [
        ("CA1", "户已稳定"), ("CA2", "干部调整")]
    writes = [e for e in audit_entries(store=world.store, object_key="HA2").items if e.action == "write"]
    assert sorted(e.operation for e in writes) == ["graphql endPairing", "graphql pair", "graphql transferPairing"]
    assert {e.user_id for e in writes} == {"organizer-a"}


def test_the_pairing_rules_answer_with_their_codes(client, world):
    taken = gql(client, world, "organizer-a", 'mutation { pair(householdNo: "HA1", cadreNo: "CA2") { cadreNo } }')
    assert codes(taken) == ["HOUSEHOLD_ALREADY_PAIRED"]
    error = taken["errors"][0]
    assert "已与干部" in error["message"] and "already" in error["extensions"]["message_en"]
    assert error["extensions"]["cadre_no"] == "CA1"
    none = gql(client, world, "organizer-a", 'mutation { endPairing(householdNo: "HA2", reason: "x") { active } }')
    assert codes(none) == ["NO_ACTIVE_PAIRING"]
    empty = gql(client, world, "organizer-a", 'mutation { endPairing(householdNo: "HA1", reason: " ") { active } }')
    assert codes(empty) == ["INVALID_VALUE"] and empty["errors"][0]["extensions"]["field"] == "reason"


def test_the_exclusion_list_binds_pairing_until_lifted(client, world):
    excluded = gql(client, world, "organizer-a", """mutation { excludePair(householdNo: "HA2", cadreNo: "CA2",
      reason: "亲属", note: "表兄") { householdNo cadreNo reason since note } }""")["data"]["excludePair"]
    assert excluded == {"householdNo": "HA2", "cadreNo": "CA2", "reason": "亲属", "since": TODAY, "note": "表兄"}
    assert codes(gql(client, world, "organizer-a", PAIR)) == ["PAIR_EXCLUDED"]
    lift = 'mutation { liftExclusion(householdNo: "HA2", cadreNo: "CA2") }'
    assert gql(client, world, "organizer-a", lift)["data"] == {"liftExclusion": True}
    assert gql(client, world, "organizer-a", lift)["data"] == {"liftExclusion": False}
    assert gql(client, world, "organizer-a", PAIR)["data"]["pair"]["cadreNo"] == "CA2"
    bad = gql(client, world, "organizer-a", 'mutation { excludePair(householdNo: "HA1", cadreNo: "CA2", reason: "讨厌") { since } }')
    assert codes(bad) == ["INVALID_VALUE"] and bad["errors"][0]["extensions"]["field"] == "reason"


RECORD = """mutation($e: LedgerEntryInput!) { recordLedgerEntry(entry: $e) {
  entryId entryDate householdNo cadreNo uscc kind amountFen note problemNo } }"""


def test_a_cadre_records_visits_and_problems_for_its_own_households_only(client, world):
    def entry(**fields):
        return {"entryDate": TODAY, "householdNo": "HA1", "cadreNo": "CA1", "kind": "入户走访"} | fields

    visit = gql(client, world, "cadre-a", RECORD, {"e": entry(note="送轮椅")})["data"]["recordLedgerEntry"]
    assert (visit["kind"], visit["note"], visit["cadreNo"], visit["uscc"]) == ("入户走访", "送轮椅", "CA1", None)
    assert len(visit["entryId"]) == 32
    gql(client, world, "cadre-a", RECORD, {"e": entry(kind="反映困难", problemNo="P2", note="缺助听器")})
    gql(client, world, "cadre-a", RECORD, {"e": entry(kind="解决困难", problemNo="P2", note="已配发")})
    problems = gql(client, world, "cadre-a",
                   '{ household(householdNo: "HA1") { problems { edges { node { problemNo open resolution } } } } }')
    assert [e["node"] for e in problems["data"]["household"]["problems"]["edges"]] == [
        {"problemNo": "P1", "open": True, "resolution": None}, {"problemNo": "P2", "open": False, "resolution": "已配发"}]
    assert codes(gql(client, world, "cadre-a", RECORD, {"e": entry(householdNo="HA2")})) == ["NOT_FOUND"]
    assert codes(gql(client, world, "cadre-a", RECORD, {"e": entry(cadreNo="CA2")})) == ["FORBIDDEN"]
    assert codes(gql(client, world, "cadre-a", RECORD, {"e": entry(kind="捐款捐物", amountFen=100)})) == ["FORBIDDEN"]
    nobody = gql(client, world, "cadre-a", RECORD, {"e": entry(cadreNo=None)})
    assert codes(nobody) == ["VALIDATION"]
    assert "只能填写一个" in nobody["errors"][0]["extensions"]["errors"][0]["reason"]
    unknown = gql(client, world, "cadre-a", RECORD, {"e": entry(kind="吃饭")})
    assert codes(unknown) == ["VALIDATION"] and unknown["errors"][0]["extensions"]["errors"][0]["field"] == "kind"


def test_an_organisation_asks_donates_and_ends_in_the_region_it_serves(client, world):
    register = """mutation($h: String!, $o: String!) { registerAuxPairing(householdNo: $h, uscc: $o) {
      householdNo uscc active } }"""
    assert codes(gql(client, world, "org-a", register, {"h": "HA1", "o": world.org_a})) == ["FORBIDDEN"]
    asked = gql(client, world, "org-a", 'mutation { requestAuxPairing(householdNo: "HA1", reason: "助学") { requestId } }')
    approve = 'mutation($r: String!) { approveAuxRequest(requestId: $r) { pairing { householdNo uscc active } } }'
    made = gql(client, world, "organizer-a", approve, {"r": asked["data"]["requestAuxPairing"]["requestId"]})
    assert made["data"]["approveAuxRequest"]["pairing"] == {"householdNo": "HA1", "uscc": world.org_a, "active": True}
    donation = {"entryDate": TODAY, "householdNo": "HA1", "uscc": world.org_a, "kind": "捐款捐物",
                "amountFen": 3_000_000_000, "note": "助学"}  # ¥30 million: more than a 32-bit Int holds
    given = gql(client, world, "org-a", RECORD, {"e": donation})["data"]["recordLedgerEntry"]
    assert (given["amountFen"], given["uscc"], given["cadreNo"]) == (3_000_000_000, world.org_a, None)
    mine = gql(client, world, "org-a", """query($o: String!) { organisation(uscc: $o) {
      ledger(kinds: ["捐款捐物"]) { edges { node { householdNo amountFen } } } } }""", {"o": world.org_a})
    assert [e["node"] for e in mine["data"]["organisation"]["ledger"]["edges"]] == [
        {"householdNo": "HA2", "amountFen": 50000}, {"householdNo": "HA1", "amountFen": 3_000_000_000}]  # oldest first
    end = """mutation($o: String!) { endAuxPairing(householdNo: "HA1", uscc: $o, reason: "项目结束") { active endReason } }"""
    assert gql(client, world, "org-a", end, {"o": world.org_a})["data"]["endAuxPairing"] == {
        "active": False, "endReason": "项目结束"}
    assert codes(gql(client, world, "org-a", register, {"h": "HB1", "o": world.org_a})) == ["FORBIDDEN"]
    assert codes(gql(client, world, "org-a", register, {"h": "HA1", "o": world.org_b})) == ["FORBIDDEN"]
    assert codes(gql(client, world, "cadre-a", register, {"h": "HA1", "o": world.org_a})) == ["FORBIDDEN"]


def test_an_organiser_confirms_a_proposal_made_through_graphql(client, world):
    upsert_households(store=world.store, households=[household("HX1", VILLAGE, tekun=True)])
    proposal = gql(client, world, "organizer-a", '{ pairingProposal(region: "620822") }')["data"]["pairingProposal"]
    assert [(p["household_no"], p["change"]) for p in proposal["pairs"] if p["change"] != "keep"] == [("HX1", "new")]
    assert codes(gql(client, world, "portal-a", '{ pairingProposal }')) == ["FORBIDDEN"]
    assert codes(gql(client, world, "organizer-a", '{ pairingProposal(reach: "planet") }')) == ["INVALID_VALUE"]
    confirm = """mutation($p: JSON!) { confirmProposal(proposal: $p) {
      confirmed { householdNo cadreNo source } dropped unchanged refused { householdNo code } } }"""
    assert codes(gql(client, world, "portal-a", confirm, {"p": proposal})) == ["FORBIDDEN"]
    # the same JSON types as the REST API's: a flag is no number
    churned = gql(client, world, "organizer-a", confirm, {"p": proposal | {"summary": proposal["summary"] | {"churn": False}}})
    assert codes(churned) == ["VALIDATION"] and churned["errors"][0]["extensions"]["errors"][0]["field"] == "summary.churn"
    done = gql(client, world, "organizer-a", confirm, {"p": proposal})["data"]["confirmProposal"]
    assert [(p["householdNo"], p["source"]) for p in done["confirmed"]] == [("HX1", "matcher")]
    assert done["refused"] == [] and "HA1" in done["unchanged"]
    again = gql(client, world, "organizer-a", confirm, {"p": proposal})["data"]["confirmProposal"]
    assert again["confirmed"] == [] and "HX1" in again["unchanged"]  # confirming twice changes nothing
    garbage = gql(client, world, "organizer-a", confirm, {"p": {"pairs": "all of them"}})
    assert codes(garbage) == ["VALIDATION"] and garbage["errors"][0]["extensions"]["errors"]
