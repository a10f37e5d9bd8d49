"""A small world in two counties, a user of every role, and an HTTP client of the service.

County A (620822) holds households HA1 (paired with cadre CA1, a problem open) and HA2 (auxiliary
pairing with organisation OA); county B (620802) holds HB1 (paired with CB1). Each role's user sees
a different part of it, which is what the authorisation tests walk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from factories import OTHER_COUNTY_VILLAGE, OTHER_VILLAGE, VILLAGE, cadre, household, org, person
from graph_schema.access.models import Role
from graph_schema.access.service import add_user, issue_token
from graph_schema.cadre.service import upsert_cadres
from graph_schema.enums import LedgerKind
from graph_schema.household.service import upsert_households, upsert_persons
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import log_entries
from graph_schema.org.service import upsert_orgs
from graph_schema.pairing.service import aux_pair, pair
from graph_schema.store import GraphStore

COUNTY_A, COUNTY_B = "620822", "620802"


@dataclass
class World:
    store: GraphStore
    tokens: dict[str, str] = field(default_factory=dict)
    persons: dict[str, str] = field(default_factory=dict)  # household → its member's ID number
    org_a: str = ""
    org_b: str = ""

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


#: user → (role, bound); the names say what each sees
USERS = {
    "admin": (Role.ADMIN, {}),
    "organizer-a": (Role.ORGANIZER, {"region": COUNTY_A}),
    "organizer-b": (Role.ORGANIZER, {"region": COUNTY_B}),
    "portal-a": (Role.PORTAL, {"region": COUNTY_A}),
    "cadre-a": (Role.CADRE, {"cadre_no": "CA1"}),
    "org-a": (Role.ORG, {"uscc": "org_a"}),
}


def build_world(store: GraphStore) -> World:
    day = dt.date.today() - dt.timedelta(days=30)
    upsert_households(store=store, households=[
        household("HA1", VILLAGE, tekun=True), household("HA2", OTHER_VILLAGE, dibao=True),
        household("HB1", OTHER_COUNTY_VILLAGE, tekun=True)])
    members = [person("HA1", grade=1), person("HA2"), person("HB1", id_number=None)]
    upsert_persons(store=store, persons=members)
    upsert_cadres(store=store, cadres=[cadre("CA1", VILLAGE), cadre("CA2", OTHER_VILLAGE),
                                       cadre("CB1", OTHER_COUNTY_VILLAGE)])
    oa, ob = org(region=COUNTY_A), org(region=COUNTY_B)
    upsert_orgs(store=store, orgs=[oa, ob])
    pair(store=store, household_no="HA1", cadre_no="CA1", started_on=day)
    pair(store=store, household_no="HB1", cadre_no="CB1", started_on=day)
    aux_pair(store=store, household_no="HA2", uscc=oa.uscc, started_on=day)
    log_entries(store=store, entries=[
        LedgerEntry(entry_date=day, household_no="HA1", cadre_no="CA1", kind=LedgerKind.VISIT, note="走访"),
        # a day after the visit: entries of one day are ordered by their ids, which are digests
        LedgerEntry(entry_date=day + dt.timedelta(days=1), household_no="HA1", cadre_no="CA1",
                    kind=LedgerKind.REPORT_PROBLEM,
                    problem_no="P1", note="轮椅损坏"),
        LedgerEntry(entry_date=day, household_no="HA2", uscc=oa.uscc, kind=LedgerKind.DONATION, amount_fen=50000),
    ])
    world = World(store, persons={m.household_no: m.id_number for m in members}, org_a=oa.uscc, org_b=ob.uscc)
    for user_id, (role, bound) in USERS.items():
        if bound.get("uscc") == "org_a":
            bound = {"uscc": oa.uscc}
        add_user(store=store, user_id=user_id, role=role, **bound)
        world.tokens[user_id] = issue_token(store=store, user_id=user_id)
    return world


@pytest.fixture
def world(store: GraphStore) -> World:
    return build_world(store)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.store, audit_interval=0.05)) as c:
        yield c
