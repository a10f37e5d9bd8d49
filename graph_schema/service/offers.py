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

from collections.abc import Sequence

from graph_schema.access.models import EVERYTHING, Scope
from graph_schema.errors import JieduiError, NotFound
from graph_schema.pagination import Page, PageRequest, page_of
from graph_schema.records import BatchResult, fetch_by_keys, require_unique, upsert_nodes
from graph_schema.region.service import scope_prefix
from graph_schema.service.catalogue import Catalogue, catalogue_in, ensure_catalogue
from graph_schema.service.models import Offer
from graph_schema.store.base import GraphStore, Tx
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
