"""Offers (服务供给): which organisation offers which service over which region, with capacity and
validity.

An offer is a node, ``(Org)-[:OFFERS]->(Offer)-[:OF]->(ServiceType)`` and ``(Offer)-[:COVERS]->
(Region)``, rather than an ``OFFERS`` edge with properties: it has a key of its own
(organisation, service, region), its changes are kept as revisions like any record's, a
referral can name it, and "which offers cover this village" walks from the region's node. An
ended offer is history: it stays, with its 截止日期.

Rules: the organisation and the service exist, and so does the region (the organisation's own
service region is not required to hold it: a provincial hospital may offer one county).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.enums import DeliveryOutcome
from graph_schema.errors import JieduiError, NotFound
from graph_schema.monitoring.past import keyed_rows
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import BatchResult, fetch_by_keys, require_unique, upsert_nodes
from graph_schema.region.service import scope_prefix
from graph_schema.service.catalogue import Catalogue, catalogue_in, ensure_catalogue
from graph_schema.service.facts import covers
from graph_schema.service.models import Offer
from graph_schema.store.base import FROM_KEY, GraphStore, Tx
from graph_schema.store.schema import COVERS, OF, OFFER, OFFERS, ORG, REGION, SERVICE_TYPE


def check_offer(offer: Offer, catalogue: Catalogue, orgs: set[str] | dict, regions: set[str] | dict) -> None:
    if offer.uscc not in orgs:
        raise NotFound("社会组织", "organisation", offer.uscc)
    if offer.service_code not in catalogue:
        raise NotFound("服务编码", "service", offer.service_code)
    if offer.region_code not in regions:
        raise NotFound("区划", "region", offer.region_code)


def upsert_offers(*, store: GraphStore, offers: Sequence[Offer]) -> BatchResult:
    """Create or update offers by (organisation, service, region): a few thousand, one
    transaction; ``errors`` holds the refused ones by index."""
    require_unique(offers, "offer_id", "服务供给")

    def work(tx: Tx) -> BatchResult:
        ensure_catalogue(tx)
        catalogue = catalogue_in(tx)
        orgs = fetch_by_keys(tx, ORG, sorted({o.uscc for o in offers}), ["uscc"])
        regions = fetch_by_keys(tx, REGION, sorted({o.region_code for o in offers}), ["code"])
        accepted, errors = [], []
        for index, offer in enumerate(offers):
            try:
                check_offer(offer, catalogue, orgs, regions)
                accepted.append(offer)
            except JieduiError as exc:
                errors.append((index, exc))
        result = upsert_nodes(tx, OFFER, [o.to_row() for o in accepted])
        created = set(result.created)
        new = [o for o in accepted if o.offer_id in created]
        tx.create_rels(OFFERS, ORG, OFFER, [{"src": o.uscc, "dst": o.offer_id} for o in new])
        tx.create_rels(OF, OFFER, SERVICE_TYPE, [{"src": o.offer_id, "dst": o.service_code} for o in new])
        tx.create_rels(COVERS, OFFER, REGION, [{"src": o.offer_id, "dst": o.region_code} for o in new])
        result.errors = errors
        return result

    return store.write(work)


_COLUMNS = ", ".join(f"o.{c} AS {c}" for c in OFFER.columns)

#: per organisation, service and village: the distinct persons of the village who received the
#: service from the organisation from ``$year`` to ``$as_of`` (a delivery not 未完成), counted in
#: the store (a province's deliveries by the offering organisations are hundreds of thousands of
#: rows); an offer's served are the sum over the villages it covers (a person lives in one). Each
#: organisation's deliveries are walked once for all its offers (per offer, an organisation with
#: several offers had them walked again for each: 13.7 s against 10.3 s for a province's 584
#: offers with a capacity). Each step walks from what the previous one found, by OPTIONAL MATCH,
#: and is filtered after: plain MATCHes made the embedded engine scan far more of the store, 0.2 s
#: of a county's proposal against 0.03 s; a row whose person or household is missing drops out at
#: the WHERE.
_SERVED_BY = (
    "UNWIND $orgs AS o MATCH (g:Org {uscc: o.uscc}) OPTIONAL MATCH (g)-[:DELIVERED]->(d:Delivery) "
    "WITH o, d WHERE d.service_code IN o.codes AND d.delivered_on >= $year AND d.delivered_on <= $as_of "
    "AND d.outcome <> $not_done "
    "OPTIONAL MATCH (p:Person)-[:RECEIVED]->(d) OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household) WITH o, d, p, h "
    "WHERE h IS NOT NULL "
    "RETURN o.uscc AS uscc, d.service_code AS service_code, h.region_code AS village, "
    "count(DISTINCT p.id_number) AS served"
)
_REFERRED_TO = (
    f"UNWIND $keys AS k MATCH (g:Org {{uscc: k}}) {FROM_KEY} (r:Referral)-[:REFERRED_TO]->(g) "
    "WITH g, r WHERE r.made_on <= $as_of AND (r.closed_on IS NULL OR r.closed_on > $as_of) "
    f"{FROM_KEY} (p:Person)-[:HAS_REFERRAL]->(r) {FROM_KEY} (p)-[:MEMBER_OF]->(h:Household) WITH g, r, p, h "
    "WHERE h IS NOT NULL "
    "RETURN DISTINCT g.uscc AS uscc, r.service_code AS service_code, r.category AS category, "
    "p.id_number AS id_number, h.region_code AS village"
)
#: the deliveries from ``$year`` to ``$as_of`` (not 未完成) of some persons by some organisations
#: (by the delivery's own ``uscc``, which its ``DELIVERED`` edge is made from, and from the person
#: found by key first: one pattern from the key, or matching the edge, made the embedded engine
#: walk far more deliveries, a second for one county's proposal)
_SERVED_OF = (
    f"UNWIND $keys AS k MATCH (p:Person {{id_number: k}}) {FROM_KEY} (p)-[:RECEIVED]->(d:Delivery) "
    "WITH p, d WHERE d.delivered_on >= $year AND d.delivered_on <= $as_of AND d.outcome <> $not_done "
    "AND d.uscc IN $usccs "
    "RETURN DISTINCT d.uscc AS uscc, d.service_code AS service_code, p.id_number AS id_number"
)


def offer_room(tx: Tx, offers: Sequence[Offer], as_of: dt.date, catalogue: Catalogue,
               kept: dict[str, int] | None = None) -> dict[str, int | None]:
    """Each offer's room on ``as_of`` (None: not limited): its 年度容量 less the persons it holds
    this year, those of its region who received its service from the organisation since 1
    January (a counting delivery), and those the organisation has an open referral of for them
    (of its service, or of its category for a need of a whole category). Never below 0.

    The served are counted in the store per organisation, service and village, but for the offers
    ``kept`` gives them of (offer id → persons: ``tally.served``); the referred (few) are read,
    and those of them already counted as served are not counted twice."""
    limited = [o for o in offers if o.capacity is not None]
    usccs = sorted({o.uscc for o in limited})
    kept = kept or {}
    served: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)  # (uscc, service) → (village, persons)
    referred: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)  # (uscc, service) → (person, village)
    delivered: set[tuple[str, str, str]] = set()  # (uscc, service, person) of the referred persons
    if usccs:
        year, not_done = dt.date(as_of.year, 1, 1), DeliveryOutcome.NOT_DONE.value
        codes: dict[str, set[str]] = defaultdict(set)  # organisation → its counting services offered
        for o in limited:
            if catalogue.counted(o.service_code) and o.offer_id not in kept:
                codes[o.uscc].add(o.service_code)
        if codes:
            orgs = [{"uscc": uscc, "codes": sorted(held)} for uscc, held in sorted(codes.items())]
            for r in tx.run(_SERVED_BY, {"orgs": orgs, "as_of": as_of, "year": year, "not_done": not_done}):
                served[r["uscc"], r["service_code"]].append((r["village"], int(r["served"])))
        for r in tx.run(_REFERRED_TO, {"keys": usccs, "as_of": as_of}):
            codes = [r["service_code"]] if r["service_code"] else catalogue.codes(r["category"])
            for code in codes:
                referred[r["uscc"], code].add((r["id_number"], r["village"]))
        numbers = {number for held in referred.values() for number, _ in held}
        for r in keyed_rows(tx, _SERVED_OF, numbers, {"usccs": usccs, "as_of": as_of, "year": year,
                                                      "not_done": not_done}) if numbers else []:
            if catalogue.counted(r["service_code"]):
                delivered.add((r["uscc"], r["service_code"], r["id_number"]))
    room: dict[str, int | None] = {o.offer_id: None for o in offers}
    for o in limited:
        also = {number for number, village in referred[o.uscc, o.service_code]
                if covers(o.region_code, village) and (o.uscc, o.service_code, number) not in delivered}
        held = kept[o.offer_id] if o.offer_id in kept else \
            sum(n for village, n in served[o.uscc, o.service_code] if covers(o.region_code, village))
        room[o.offer_id] = max(0, o.capacity - held - len(also))
    return room


def offers_in(tx: Tx, offer_ids: Sequence[str]) -> dict[str, Offer]:
    return {k: Offer.from_row(r) for k, r in fetch_by_keys(tx, OFFER, offer_ids, OFFER.columns).items()}


def list_offers(*, store: GraphStore, region: str | None = None, uscc: str | None = None,
                page: PageRequest = PageRequest(), scope: Scope = EVERYTHING) -> Page[Offer]:
    """Offers covering anything under ``region`` (or held by a wider region that holds it), of one
    organisation when ``uscc`` is given, by key. An organisation sees its own offers; a cadre none;
    a region scope those that reach into its region."""
    prefix = scope_prefix(region) if region else scope.prefix
    if region and not scope.holds_region(prefix) and not scope.uscc:
        raise NotFound("区划", "region", region)
    wider = [prefix[:n].ljust(12, "0") for n in (2, 4, 6, 9, 12) if n <= len(prefix)]
    match = ("MATCH (o:Offer) WHERE (o.region_code STARTS WITH $prefix OR o.region_code IN $wider)"
             + (" AND o.uscc = $uscc" if uscc else "") + (" AND o.uscc = $scope_org" if scope.uscc else "")
             + (" AND false" if scope.cadre_no else ""))
    params = {"prefix": prefix, "wider": wider} | ({"uscc": uscc} if uscc else {}) | scope.params
    return store.read(lambda tx: page_of(tx, match, "o", _COLUMNS, "offer_id", params, page, Offer.from_row))
