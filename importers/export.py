"""The whole store written back as the contract's twelve files: the backup format, and the proof
that an import loses nothing (import → export → import into an empty store → export is identical).

Rows are sorted by each file's natural key, so two exports of the same graph are byte-identical.

An export is the whole store, written for the local operator who holds the store itself: the
privacy policy's masks (``graph_schema/access/privacy.py``) do not apply, since a backup that
masked an ID number could not be restored. It is never served over the API; keep it as the store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph_schema.cadre.models import Cadre
from graph_schema.household.models import Household, Person
from graph_schema.ledger.models import LedgerEntry
from graph_schema.listing.models import Listing
from graph_schema.org.models import Org
from graph_schema.store.base import GraphStore
from graph_schema.service.models import Delivery, Need, Offer, ServiceType
from graph_schema.store.dump import ledger_rows, node_rows, pairing_rows, region_names
from graph_schema.store.schema import (
    AUX_PAIRED_WITH,
    CADRE,
    DELIVERY,
    HOUSEHOLD,
    LISTING,
    NEED,
    OFFER,
    ORG,
    PAIRED_WITH,
    PERSON,
    SERVICE_TYPE,
)
from importers import formats as fmt
from importers.contract import (
    CADRES,
    DELIVERIES,
    HOUSEHOLDS,
    LEDGER,
    LISTINGS,
    NEEDS,
    OFFERS,
    ORGS,
    PAIRINGS,
    PERSONS,
    REGIONS,
    SERVICE_TYPES,
    FileSpec,
)
from importers.csv_escape import SafeWriter

def _regions(store: GraphStore) -> list[list[str]]:
    return [[r["code"], r["name"]] for r in region_names(store)]


def _households(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, HOUSEHOLD):
        h = Household.from_row(row)
        out.append([h.household_no, h.head_name, h.head_id, h.region_code, fmt.text(h.address), str(h.size),
                    fmt.number(h.labour), fmt.yuan(h.income_fen), fmt.word(h.monitoring), fmt.yes_no(h.formerly_poor),
                    fmt.yes_no(h.dibao), fmt.yes_no(h.tekun), fmt.yes_no(h.elderly_carer), fmt.words(h.risk_factors),
                    fmt.text(h.phone)])
    return out


def _persons(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, PERSON):
        p = Person.from_row(row)
        out.append([p.name, p.id_number, p.cert_no, p.household_no, fmt.word(p.relation), fmt.word(p.category),
                    fmt.word(p.grade), fmt.day(p.cert_expiry), fmt.word(p.labour_ability), fmt.words(p.needs)])
    return out


def _cadres(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, CADRE):
        c = Cadre.from_row(row)
        out.append([c.cadre_no, c.name, fmt.text(c.phone), c.unit, fmt.word(c.unit_level), fmt.word(c.role),
                    c.station_code, str(c.pair_limit), fmt.yes_no(c.on_duty)])
    return out


def _orgs(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, ORG):
        o = Org.from_row(row)
        out.append([o.name, o.uscc, fmt.word(o.org_type), o.service_region_code, fmt.words(o.service_modes),
                    fmt.text(o.contact), fmt.text(o.phone)])
    return out


def _pairings(store: GraphStore) -> list[list[str]]:
    rows = pairing_rows(store, CADRE, PAIRED_WITH)
    aux = pairing_rows(store, ORG, AUX_PAIRED_WITH)
    return ([[r["h"], "一对一", r["who"], "", fmt.day(r["started_on"]), fmt.day(r["ended_on"]), fmt.text(r["reason"])]
             for r in rows] +
            [[r["h"], "辅助", "", r["who"], fmt.day(r["started_on"]), fmt.day(r["ended_on"]), fmt.text(r["reason"])]
             for r in aux])


def _ledger(store: GraphStore) -> list[list[str]]:
    rows = ledger_rows(store)
    out = []
    for row in rows:
        e = LedgerEntry.from_row(row)
        out.append([fmt.day(e.entry_date), e.household_no, fmt.text(e.cadre_no), fmt.text(e.uscc), fmt.word(e.kind),
                    fmt.yuan(e.amount_fen), fmt.yuan(e.in_kind_fen), fmt.text(e.note), fmt.text(e.problem_no),
                    fmt.text(e.record_no)])
    return out


def _listings(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, LISTING):
        item = Listing.from_row(row)
        out.append([fmt.word(item.dept), item.item, item.id_number, item.name, fmt.month(item.valid_from),
                    fmt.month(item.valid_to), fmt.yuan(item.amount_fen)])
    return out


def _service_types(store: GraphStore) -> list[list[str]]:
    """The catalogue entries the store holds (the defaults appear once something used them)."""
    out = []
    for row in node_rows(store, SERVICE_TYPE):
        t = ServiceType.from_row(row)
        out.append([t.code, t.name, fmt.word(t.category), fmt.yes_no(t.counts), fmt.word(t.unit), str(t.time_limit),
                    fmt.word(t.lead_dept)])
    return out


def _offers(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, OFFER):
        o = Offer.from_row(row)
        out.append([o.uscc, o.service_code, o.region_code, fmt.number(o.capacity), fmt.words(o.modes),
                    fmt.day(o.valid_from), fmt.day(o.valid_to), fmt.day(o.designated_until)])
    return out


def _needs(store: GraphStore) -> list[list[str]]:
    """The assessments (the registry's needs travel in 残疾人.csv's 需求 column)."""
    out = []
    for row in node_rows(store, NEED):
        n = Need.from_row(row)
        out.append([n.id_number, fmt.text(n.service_code), fmt.word(n.category), fmt.day(n.assessed_on),
                    fmt.word(n.status), fmt.word(n.source), fmt.text(n.assessor), fmt.text(n.note)])
    return out


def _deliveries(store: GraphStore) -> list[list[str]]:
    out = []
    for row in node_rows(store, DELIVERY):
        d = Delivery.from_row(row)
        out.append([fmt.text(d.record_no), d.id_number, d.service_code, fmt.day(d.delivered_on), fmt.day(d.ended_on),
                    fmt.text(d.uscc), fmt.word(d.dept), str(d.quantity), fmt.text(d.item), fmt.yuan(d.cost_fen),
                    fmt.yuan(d.subsidy_fen), fmt.word(d.outcome)])
    return out


EXPORTS: list[tuple[FileSpec, Callable[[GraphStore], list[list[str]]]]] = [
    (REGIONS, _regions), (HOUSEHOLDS, _households), (PERSONS, _persons), (CADRES, _cadres), (ORGS, _orgs),
    (PAIRINGS, _pairings), (LEDGER, _ledger), (LISTINGS, _listings), (SERVICE_TYPES, _service_types),
    (OFFERS, _offers), (NEEDS, _needs), (DELIVERIES, _deliveries),
]


def export(store: GraphStore, out: str | Path) -> dict[str, int]:
    """Write ``区划.csv`` … ``服务记录.csv`` (UTF-8 with BOM, for Excel) into ``out``; returns rows per file."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for spec, rows_of in EXPORTS:
        rows = sorted(rows_of(store))
        with (folder / f"{spec.name}.csv").open("w", encoding="utf-8-sig", newline="") as f:
            writer = SafeWriter(f, lineterminator="\n")  # text written through the APIs may look like a formula
            writer.writerow(spec.headers)
            writer.writerows(rows)
        counts[f"{spec.name}.csv"] = len(rows)
    return counts
