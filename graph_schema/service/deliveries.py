"""Deliveries (服务记录): ``(Person)-[:RECEIVED]->(Delivery)-[:OF]->(ServiceType)``, and
``(Org)-[:DELIVERED]->(Delivery)`` when an organisation provided it.

Rules: the person, the service and the organisation exist; the delivery is not dated in the
future. Its key is the 记录编号 when given (two deliveries on one day stay two), else the person,
service, day and provider: the same record again changes nothing, a corrected one is updated and
keeps its previous values (a numbered record may move to another person or service: its edges
follow).

What a delivery does besides (in the same transaction):

- a counting delivery (``facts.counts``) completes the person's open referrals of its category
  made on or before its date: 已完成, closed on its date, naming it;
- a new delivery by an organisation that has an auxiliary pairing with the person's household on
  its date also enters the ledger as that organisation's help (帮办实事, with 记录编号
  ``服务:<delivery id>``), so the organisation's work shows in the household's ledger and in
  coverage. The ledger's own rules apply; an entry already there is left as it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from graph_schema.enums import LedgerKind, ReferralStatus
from graph_schema.errors import FutureDate, JieduiError, NotFound
from graph_schema.ledger.models import LedgerEntry
from graph_schema.ledger.service import record_in
from graph_schema.models import today
from graph_schema.records import BatchResult, Progress, fetch_by_keys, require_unique, upsert_nodes, write_in_batches
from graph_schema.service import fact_versions
from graph_schema.service.catalogue import Catalogue, catalogue_in, ensure_catalogue
from graph_schema.service.facts import counts
from graph_schema.service.models import Delivery, digest
from graph_schema.service.referrals import referrals_in
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, chunks, keyed
from graph_schema.store.schema import DELIVERED, DELIVERY, OF, ORG, PERSON, RECEIVED, REFERRAL, SERVICE_TYPE

_AUX_ON = ("UNWIND $keys AS k MATCH (p:Person {id_number: k}) OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household) "
           "OPTIONAL MATCH (o:Org)-[a:AUX_PAIRED_WITH]->(h) RETURN p.id_number AS id_number, "
           "h.household_no AS household_no, o.uscc AS uscc, a.started_on AS started_on, a.ended_on AS ended_on")


def check_delivery(delivery: Delivery, catalogue: Catalogue, persons: set[str] | dict, orgs: set[str] | dict) -> None:
    if delivery.delivered_on > today():
        raise FutureDate("服务日期", delivery.delivered_on)
    if delivery.id_number not in persons:
        raise NotFound("残疾人", "person", delivery.id_number)
    if delivery.service_code not in catalogue:
        raise NotFound("服务编码", "service", delivery.service_code)
    if delivery.uscc and delivery.uscc not in orgs:
        raise NotFound("社会组织", "organisation", delivery.uscc)


def record_deliveries(*, store: GraphStore, deliveries: Sequence[Delivery],
                      progress: Progress | None = None) -> BatchResult:
    """Record deliveries (10k per transaction); ``errors`` holds the refused ones by index."""
    require_unique(deliveries, "delivery_id", "服务记录")
    return write_in_batches(store, deliveries, _record, progress)


def record_delivery(*, store: GraphStore, delivery: Delivery) -> str:
    """Record one delivery or raise the rule it breaks; returns its id."""

    def work(tx: Tx) -> str:
        result = _record(tx, [delivery], 0)
        if result.errors:
            raise result.errors[0][1]
        return delivery.delivery_id

    return store.write(work)


def _record(tx: Tx, deliveries: Sequence[Delivery], offset: int) -> BatchResult:
    ensure_catalogue(tx)
    catalogue = catalogue_in(tx)
    persons = fetch_by_keys(tx, PERSON, sorted({d.id_number for d in deliveries}), ["id_number"])
    orgs = fetch_by_keys(tx, ORG, sorted({d.uscc for d in deliveries if d.uscc}), ["uscc"])
    accepted, errors = [], []
    for index, delivery in enumerate(deliveries):
        try:
            check_delivery(delivery, catalogue, persons, orgs)
            accepted.append(delivery)
        except JieduiError as exc:
            errors.append((offset + index, exc))
    result = upsert_nodes(tx, DELIVERY, [d.to_row() for d in accepted])
    created, updated = set(result.created), set(result.updated)
    _unlink(tx, sorted(updated))
    linked = [d for d in accepted if d.delivery_id in created or d.delivery_id in updated]
    tx.create_rels(RECEIVED, PERSON, DELIVERY, [{"src": d.id_number, "dst": d.delivery_id} for d in linked])
    tx.create_rels(OF, DELIVERY, SERVICE_TYPE, [{"src": d.delivery_id, "dst": d.service_code} for d in linked])
    tx.create_rels(DELIVERED, ORG, DELIVERY, [{"src": d.uscc, "dst": d.delivery_id} for d in linked if d.uscc])
    _complete_referrals(tx, catalogue, [d for d in linked if counts(catalogue, d.service_code, d.outcome)])
    _enter_ledger(tx, catalogue, [d for d in accepted if d.delivery_id in created and d.uscc])
    # last (fact_versions); a corrected delivery may have moved from another person
    fact_versions.raise_for_persons(tx, [d.id_number for d in linked]
                                    + [v["id_number"] for v in result.previous.values() if "id_number" in v])
    result.errors = errors
    return result


_UNLINK = (
    "UNWIND $keys AS k MATCH (d:Delivery {delivery_id: k}) MATCH (:Person)-[e:RECEIVED]->(d) DELETE e",
    "UNWIND $keys AS k MATCH (d:Delivery {delivery_id: k}) MATCH (d)-[e:OF]->(:ServiceType) DELETE e",
    "UNWIND $keys AS k MATCH (d:Delivery {delivery_id: k}) MATCH (:Org)-[e:DELIVERED]->(d) DELETE e",
)


def _unlink(tx: Tx, delivery_ids: list[str]) -> None:
    """Drop the edges of updated deliveries (rare: a corrected record), to be made again."""
    for query in _UNLINK:
        for part in chunks(delivery_ids, 10_000):
            tx.run(query, {"keys": list(part)})


def _complete_referrals(tx: Tx, catalogue: Catalogue, deliveries: Sequence[Delivery]) -> None:
    if not deliveries:
        return
    by_person: dict[str, list[Delivery]] = defaultdict(list)
    for d in sorted(deliveries, key=lambda d: (d.delivered_on, d.delivery_id)):
        by_person[d.id_number].append(d)
    referrals = referrals_in(tx, sorted(by_person))
    done = []
    for number, given in by_person.items():
        for r in referrals[number]:
            if not r.status.open:
                continue
            match = next((d for d in given if catalogue.category(d.service_code) == r.category.value
                          and d.delivered_on >= r.made_on), None)
            if match:
                done.append(r.model_copy(update={"status": ReferralStatus.DONE, "closed_on": match.delivered_on,
                                                 "delivery_id": match.delivery_id}))
    upsert_nodes(tx, REFERRAL, [r.to_row() for r in done])


def ledger_number(delivery_id: str) -> str:
    """The 记录编号 of the ledger entry that mirrors a delivery (at most 64 characters)."""
    return f"服务:{delivery_id}" if len(delivery_id) <= 61 else f"服务:{digest(delivery_id)}"


def _enter_ledger(tx: Tx, catalogue: Catalogue, deliveries: Sequence[Delivery]) -> None:
    if not deliveries:
        return
    rows = tx.run(_AUX_ON, {"keys": sorted({d.id_number for d in deliveries})})
    pairings = defaultdict(list)
    for r in rows:
        if r["uscc"] is not None:
            pairings[r["id_number"]].append(r)
    entries = []
    for d in deliveries:
        pairing = next((r for r in pairings[d.id_number] if r["uscc"] == d.uscc and r["started_on"] <= d.delivered_on
                        and (r["ended_on"] is None or r["ended_on"] > d.delivered_on)), None)
        if pairing:
            entries.append(LedgerEntry(
                entry_date=d.delivered_on, household_no=pairing["household_no"], uscc=d.uscc,
                kind=LedgerKind.PRACTICAL_HELP, note=f"{catalogue.get(d.service_code).name}（服务记录）",
                record_no=ledger_number(d.delivery_id)))
    record_in(tx, entries)


_DELIVERY_COLUMNS = ", ".join(f"d.{c} AS {c}" for c in DELIVERY.columns)


def deliveries_in(tx: Tx, id_numbers: Sequence[str]) -> dict[str, list[Delivery]]:
    """Each person's deliveries, oldest first (callers scope the persons)."""
    start, params = keyed(PERSON, "p", id_numbers)
    rows = tx.run(f"{start} {FROM_KEY} (p)-[:RECEIVED]->(d:Delivery) RETURN p.id_number AS person, "
                  f"{_DELIVERY_COLUMNS} ORDER BY delivered_on, delivery_id", params)
    out: dict[str, list[Delivery]] = {k: [] for k in id_numbers}
    for r in rows:
        if r["delivery_id"] is not None:
            out[r["person"]].append(Delivery.from_row(r))
    return out
