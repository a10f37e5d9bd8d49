"""Assessed needs (服务需求): recording them, and reading a person's needs as episodes.

Rules: the person exists; a service code is in the catalogue; a need given both a code and a
category names the code's own category; the assessment is not dated in the future. A need's
key is the person, its service (or category) and its date: the same assessment recorded again
changes nothing, a corrected one is updated and its previous values kept. A later assessment
is a new record that supersedes this one (``facts.py`` says how); none is overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from graph_schema.errors import FutureDate, InvalidValue, JieduiError, NotFound
from graph_schema.models import today
from graph_schema.records import BatchResult, Progress, fetch_by_keys, require_unique, upsert_nodes, write_in_batches
from graph_schema.service import fact_versions
from graph_schema.service.catalogue import Catalogue, catalogue_in, ensure_catalogue
from graph_schema.service.facts import Assessment, Episode, episodes
from graph_schema.service.models import Need
from graph_schema.store.base import FROM_KEY, GraphStore, Tx, keyed
from graph_schema.store.schema import HAS_NEED, NEED, OF, PERSON, SERVICE_TYPE


def check_need(need: Need, catalogue: Catalogue, persons: set[str] | dict) -> Need:
    """The need with its category filled in, or the rule it breaks (shared by an import's check
    and the write)."""
    if need.assessed_on > today():
        raise FutureDate("评估日期", need.assessed_on)
    if need.id_number not in persons:
        raise NotFound("残疾人", "person", need.id_number)
    if need.service_code is None:
        return need
    if need.service_code not in catalogue:
        raise NotFound("服务编码", "service", need.service_code)
    category = catalogue.get(need.service_code).category
    if need.category is not None and need.category is not category:
        raise InvalidValue("类别", need.category.value, f"服务「{need.service_code}」属于类别「{category.value}」",
                           f"service '{need.service_code}' belongs to category '{category.value}'",
                           code="INCONSISTENT")
    return need.model_copy(update={"category": category})


def record_needs(*, store: GraphStore, needs: Sequence[Need], progress: Progress | None = None) -> BatchResult:
    """Record assessments (10k per transaction); ``errors`` holds the refused ones by index."""
    require_unique(needs, "need_id", "评估")
    return write_in_batches(store, needs, _record, progress)


def record_need(*, store: GraphStore, need: Need) -> str:
    """Record one assessment or raise the rule it breaks; returns its id."""

    def work(tx: Tx) -> str:
        result = _record(tx, [need], 0)
        if result.errors:
            raise result.errors[0][1]
        return need.need_id

    return store.write(work)


def _record(tx: Tx, needs: Sequence[Need], offset: int) -> BatchResult:
    ensure_catalogue(tx)
    catalogue = catalogue_in(tx)
    persons = fetch_by_keys(tx, PERSON, sorted({n.id_number for n in needs}), ["id_number"])
    accepted, errors = [], []
    for index, need in enumerate(needs):
        try:
            accepted.append(check_need(need, catalogue, persons))
        except JieduiError as exc:
            errors.append((offset + index, exc))
    result = upsert_nodes(tx, NEED, [n.to_row() for n in accepted])
    created = set(result.created)
    new = [n for n in accepted if n.need_id in created]
    tx.create_rels(HAS_NEED, PERSON, NEED, [{"src": n.id_number, "dst": n.need_id} for n in new])
    tx.create_rels(OF, NEED, SERVICE_TYPE, [{"src": n.need_id, "dst": n.service_code} for n in new if n.service_code])
    written = created | set(result.updated)  # last (fact_versions); a corrected need may name another person
    fact_versions.raise_for_persons(tx, [n.id_number for n in accepted if n.need_id in written]
                                    + [v["id_number"] for v in result.previous.values() if "id_number" in v])
    result.errors = errors
    return result


_NEED_COLUMNS = ", ".join(f"n.{c} AS {c}" for c in NEED.columns)


def assessments_in(tx: Tx, id_numbers: Sequence[str]) -> dict[str, list[Need]]:
    """Each person's assessments, oldest first (callers scope the persons)."""
    start, params = keyed(PERSON, "p", id_numbers)
    rows = tx.run(f"{start} {FROM_KEY} (p)-[:HAS_NEED]->(n:Need) RETURN p.id_number AS person, {_NEED_COLUMNS} "
                  "ORDER BY assessed_on, need_id", params)
    out: dict[str, list[Need]] = {k: [] for k in id_numbers}
    for r in rows:
        if r["need_id"] is not None:
            out[r["person"]].append(Need.from_row(r))
    return out


@dataclass(frozen=True)
class PersonNeeds:
    """A person's assessments as recorded, and the needs they add up to on ``as_of``."""

    assessments: list[Need]
    episodes: list[Episode]


def person_needs(tx: Tx, id_number: str, registry: Sequence[str], as_of: dt.date | None = None) -> PersonNeeds:
    """One person's needs (callers scope the person and pass the registry's 需求 column)."""
    day = as_of or today()
    catalogue = catalogue_in(tx)
    recorded = assessments_in(tx, [id_number])[id_number]
    seen = [Assessment(n.need_id, n.service_code, catalogue.category(n.service_code, n.category and n.category.value),
                       n.assessed_on, n.status.value, n.source and n.source.value)
            for n in recorded if n.assessed_on <= day]
    return PersonNeeds(recorded, episodes(id_number, registry, seen))


__all__ = ["PersonNeeds", "assessments_in", "check_need", "person_needs", "record_need", "record_needs"]
