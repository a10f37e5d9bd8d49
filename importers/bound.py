"""An organiser's import kept inside their jurisdiction, without telling them what lies outside it.

An import's answer for a row must never depend on records the organiser may not see, or a dry run
of another county's ID numbers would tell who is registered where. So every row is answered in one
of three ways, by what the organiser may know:

1. **The row's own data lies outside** (a region, a household's village, a cadre's station, an
   organisation's service region): rejected ``OUT_OF_JURISDICTION``, naming the row's own value.
   So is a row that would change an organisation the organiser sees but does not own (one serving
   a wider region), and a reference to a record this very import places outside.
2. **A reference to a record stored outside** (户编号, 干部编号, 统一社会信用代码 in a person,
   pairing or ledger row): the record is hidden from the deciders (:class:`Hidden`), so the row
   answers ``UNKNOWN_REFERENCE`` with exactly the message an unknown key gets.
3. **A row whose own key is held outside** (a 户编号, an ID number, a 干部编号 or a 统一社会信用代码
   another county holds; a department listing of such a person): decided as if the key were new,
   the stored record unseen, so it answers as an unknown key does; the real run then holds it,
   with the rows that depend on its key, as a claim (``graph_schema/claims``) for an organiser
   whose region holds both to accept or decline. The other county's record is never changed by it.

What the organiser can still learn: after a real run, that a key they imported did not appear in
their region. Every such case is a claim that the organisers above both see, and the import is
in the audit trail (``docs/api.md``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph_schema.claims.models import Claim, common_region
from graph_schema.claims.service import now
from graph_schema.enums import ClaimStatus
from graph_schema.identifiers import normalize_region_code, region_prefix
from graph_schema.records import fetch_by_keys
from graph_schema.store.base import GraphStore, Tx
from graph_schema.store.schema import CADRE, HOUSEHOLD, ORG, PERSON

OUT_OF_JURISDICTION = "OUT_OF_JURISDICTION"
#: the key a row of each kind holds as its own, by kind of record
OWN_KEY = {"households": ("household", "household_no"), "persons": ("person", "id_number"),
           "cadres": ("cadre", "cadre_no"), "orgs": ("org", "uscc"), "listings": ("person", "id_number")}
#: the keys a row of each kind refers to, in the order a held row is filed under a claim
REFERENCES = {"persons": (("household", "household_no"),),
              "pairings": (("household", "household_no"), ("cadre", "cadre_no"), ("org", "uscc")),
              "ledger": (("household", "household_no"), ("cadre", "cadre_no"), ("org", "uscc")),
              "listings": (("person", "id_number"),),
              "offers": (("org", "uscc"),),
              "needs": (("person", "id_number"),),
              "deliveries": (("person", "id_number"), ("org", "uscc"))}


@dataclass
class Hidden:
    """Records stored outside the bound, by key, and the region each is held in: the import's
    deciders do not see them."""

    households: dict[str, str] = field(default_factory=dict)  # household_no -> its village
    cadres: dict[str, str] = field(default_factory=dict)  # cadre_no -> station
    orgs: dict[str, str] = field(default_factory=dict)  # uscc -> service region
    persons: dict[str, str] = field(default_factory=dict)  # id_number -> their household's village

    def of(self, kind: str) -> dict[str, str]:
        return {"household": self.households, "cadre": self.cadres, "org": self.orgs, "person": self.persons}[kind]


@dataclass
class _Places:
    """Where each record an import names lies, as this import says and as the store holds it."""

    households: dict[str, str]  # household_no -> region code, in the import
    cadres: dict[str, str]  # cadre_no -> station, in the import
    orgs: dict[str, str]  # uscc -> service region, in the import
    persons: dict[str, str]  # id_number -> household number, in the import
    stored_households: dict[str, str]
    stored_cadres: dict[str, str]
    stored_orgs: dict[str, str]
    stored_persons: dict[str, str]  # id_number -> household number


def _places(store: GraphStore, records: Callable[[str], list[Any]]) -> _Places:
    households = {r.household_no: r.region_code for r in records("households")}
    cadres = {r.cadre_no: r.station_code for r in records("cadres")}
    orgs = {r.uscc: r.service_region_code for r in records("orgs")}
    persons = {r.id_number: r.household_no for r in records("persons")}
    refs = [r for kind in ("pairings", "ledger") for r in records(kind)]
    services = [r for kind in ("offers", "deliveries") for r in records(kind)]
    household_keys = set(households) | {r.household_no for r in records("persons")} | {r.household_no for r in refs}
    cadre_keys = set(cadres) | {r.cadre_no for r in refs if getattr(r, "cadre_no", None)}
    org_keys = set(orgs) | {r.uscc for r in refs + services if getattr(r, "uscc", None)}
    person_keys = set(persons) | {r.id_number for kind in ("listings", "needs", "deliveries") for r in records(kind)}

    def work(tx: Tx) -> tuple[dict, dict, dict, dict]:
        stored_persons = fetch_by_keys(tx, PERSON, sorted(person_keys), ["id_number", "household_no"])
        keys = household_keys | {p["household_no"] for p in stored_persons.values()}
        return (stored_persons,
                fetch_by_keys(tx, HOUSEHOLD, sorted(keys), ["household_no", "region_code"]),
                fetch_by_keys(tx, CADRE, sorted(cadre_keys), ["cadre_no", "station_code"]),
                fetch_by_keys(tx, ORG, sorted(org_keys), ["uscc", "service_region_code"]))

    stored_persons, stored_households, stored_cadres, stored_orgs = store.read(work)
    return _Places(households, cadres, orgs, persons,
                   {k: r["region_code"] for k, r in stored_households.items()},
                   {k: r["station_code"] for k, r in stored_cadres.items()},
                   {k: r["service_region_code"] for k, r in stored_orgs.items()},
                   {k: r["household_no"] for k, r in stored_persons.items()})


Out = tuple[str, str, str, str] | None
"""(column, value, what in Chinese, what in English) of a row outside, or None."""


def check_bound(store: GraphStore, bound: str, records: Callable[[str], list[Any]],
                reject: Callable[[str, Any, str, str, str, str], None]) -> Hidden:
    """Reject the rows outside the bound by their own data (1. above) with ``reject(kind, record,
    column, value, zh, en)``, and return what the store holds outside it (for 2. and 3.).

    ``records(kind)`` gives the records of the import's rows of one kind that are still valid."""
    at = _places(store, records)

    def inside(code: str) -> bool:
        return code.startswith(bound)

    def wider(code: str) -> bool:  # an organisation serving a region that holds the whole bound
        return bound.startswith(region_prefix(code))

    hidden = Hidden(
        households={k: code for k, code in at.stored_households.items() if not inside(code)},
        cadres={k: code for k, code in at.stored_cadres.items() if not inside(code)},
        orgs={k: code for k, code in at.stored_orgs.items() if not (inside(code) or wider(code))})
    hidden.persons = {k: hidden.households[no] for k, no in at.stored_persons.items() if no in hidden.households}

    def placed_outside(places: dict[str, str], key: str | None, ok: Callable[[str], bool], column: str,
                       zh: str, en: str) -> Out:
        """A reference to a record this import itself places outside (its own data only)."""
        if key and key in places and not ok(places[key]):
            return column, key, f"{zh}「{key}」", f"{en} {key}"
        return None

    def references(r: Any) -> Out:
        return (placed_outside(at.households, r.household_no, inside, "户编号", "家庭", "household")
                or placed_outside(at.cadres, getattr(r, "cadre_no", None), inside, "干部编号", "干部", "cadre")
                or placed_outside(at.orgs, getattr(r, "uscc", None), lambda c: inside(c) or wider(c),
                                  "统一社会信用代码", "社会组织", "organisation"))

    def check(kind: str, r: Any) -> Out:
        if kind == "regions":
            return None if inside(r.code) else ("区划代码", r.code, f"区划「{r.code}」", f"region {r.code}")
        if kind == "households" and not inside(r.region_code):
            return "区划代码", r.region_code, f"村「{r.region_code}」", f"village {r.region_code}"
        if kind == "cadres" and not inside(r.station_code):
            return "驻点区划代码", r.station_code, f"驻点「{r.station_code}」", f"station {r.station_code}"
        if kind == "orgs":
            code = r.service_region_code
            if not inside(code):
                return "服务区划代码", code, f"服务区划「{code}」", f"service region {code}"
            stored = at.stored_orgs.get(r.uscc)
            if stored is not None and wider(stored) and not inside(stored):  # seen by the organiser, not theirs
                return ("统一社会信用代码", r.uscc, f"社会组织「{r.uscc}」（服务更大的区划）",
                        f"organisation {r.uscc} (it serves a wider region)")
        if kind in ("persons", "pairings", "ledger"):
            return references(r)
        if kind == "listings" and r.id_number not in at.persons and (
                r.id_number not in at.stored_persons or r.id_number in hidden.persons):
            # a person the organiser does not know is placed by the county of their ID number
            if not (len(bound) <= 6 and r.id_number.startswith(bound)):
                return "身份证号", r.id_number, "该人员", "the person"
        if kind == "listings" and r.id_number in at.persons:
            home = at.persons[r.id_number]
            if home in at.households and not inside(at.households[home]):
                return "身份证号", r.id_number, "该人员", "the person"
        if kind == "service_types" and len(bound) > 2:  # one catalogue for every region: a province's to keep
            return "服务编码", r.code, "全省共用的服务目录", "the shared service catalogue"
        if kind == "offers":
            if not inside(r.region_code):
                return "服务区划代码", r.region_code, f"服务区划「{r.region_code}」", f"service region {r.region_code}"
            return placed_outside(at.orgs, r.uscc, lambda c: inside(c) or wider(c), "统一社会信用代码", "社会组织",
                                  "organisation")
        if kind in ("needs", "deliveries") and r.id_number in at.persons:
            home = at.persons[r.id_number]  # a person this import places in a household outside
            if home in at.households and not inside(at.households[home]):
                return "身份证号", r.id_number, "该人员", "the person"
        if kind == "deliveries":
            return placed_outside(at.orgs, getattr(r, "uscc", None), lambda c: inside(c) or wider(c),
                                  "统一社会信用代码", "社会组织", "organisation")
        return None

    region = normalize_region_code(bound)  # named as every region is, by its 12 digits
    for kind in ("regions", "households", "persons", "cadres", "orgs", "pairings", "ledger", "listings",
                 "service_types", "offers", "needs", "deliveries"):
        for record in records(kind):
            out = check(kind, record)
            if out is not None:
                column, value, zh, en = out
                reject(kind, record, column, value, f"{zh}不在您的管辖范围（{region}）内，未导入",
                       f"{en} lies outside your jurisdiction ({region}): not imported")
    return hidden


@dataclass
class Held:
    """One row held by a claim: where it came from and the record it would write."""

    file: str
    row: int
    kind: str
    record: Any

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "kind": self.kind, "model": type(self.record).__name__,
                "record": self.record.model_dump(mode="json")}


def held_under(kind: str, record: Any, hidden: Hidden, claimed: set[tuple[str, str]]) -> tuple[str, str] | None:
    """The claim a valid row belongs to: its own key held outside, else the first key it refers to
    that this import claims; None for a row written as usual."""
    own = OWN_KEY.get(kind)
    if own and getattr(record, own[1]) in hidden.of(own[0]):
        return own[0], getattr(record, own[1])
    for key_kind, attribute in REFERENCES.get(kind, ()):
        key = getattr(record, attribute, None)
        if key and (key_kind, key) in claimed:
            return key_kind, key
    return None


def claims_of(held: dict[tuple[str, str], list[Held]], hidden: Hidden, bound: str, claimant: str,
              import_id: str | None) -> list[Claim]:
    """One pending claim per key held outside, with every row held under it."""
    out = []
    for (key_kind, key), rows in sorted(held.items()):
        region = hidden.of(key_kind).get(key, "")
        out.append(Claim(claim_id=uuid.uuid4().hex, key_kind=key_kind, record_key=key, held_region=region,
                         claimant=claimant, claimant_region=bound, common_region=common_region(bound, region),
                         import_id=import_id, rows=json.dumps([r.as_json() for r in rows], ensure_ascii=False),
                         claimed_at=now(), status=ClaimStatus.PENDING))
    return out
