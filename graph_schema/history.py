"""The state of the records on a past day, from what the store recorded after it.

A report for a past day (``as_of``) reads two kinds of facts:

- **dated facts** — pairings, ledger entries, problems, department listings, reminders — carry
  their own dates and are taken by those dates, whenever they were recorded;
- **state** — a household's 监测类别 and flags, its village and members, a person's grade and
  certificate, a cadre's 在岗, 结对上限 and station, names — has no date of its own in the
  contract files: the store knows it from the moment it was imported or changed.

State is taken as the store held it at the end of the day: every change recorded later is undone
from the ``Revision`` nodes (each keeps the values a change replaced, stamped with the time the
store recorded it: an import's time, not a date in the file), and every record created later (the
``Creation`` nodes) is left out. Before the store's first day (its first recorded creation) there
is nothing to go back to, so a day before it reads the state at the end of that first day: an
organiser who imports years of pairings and ledger on day one can report on those years with the
households as first imported. Records made before creations were recorded (a store older than
this rule) count as always there, and such a store's history begins with its first import since.

:func:`past` answers ``None`` when nothing was recorded after the day: the current state is the
state of the day, and a report takes its ordinary path (today, and any day since the last change).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graph_schema.models import today
from graph_schema.store.base import Tx
from graph_schema.store.schema import NODES, Kind, NodeTable

_FIRST = "MATCH (c:Creation) RETURN min(c.recorded_at) AS first"
_REVISIONS_SINCE = (
    "MATCH (v:Revision) WHERE v.recorded_at >= $cutoff "
    "RETURN v.label AS label, v.entity_key AS entity_key, v.recorded_at AS recorded_at, "
    "v.revision_id AS revision_id, v.previous AS previous"
)
_CREATIONS_SINCE = "MATCH (c:Creation) WHERE c.recorded_at >= $cutoff RETURN c.label AS label, c.keys AS keys"


@dataclass(frozen=True)
class Past:
    """What the store recorded after the end of ``day``: enough to put any record back as it was."""

    day: dt.date  # the day whose end the state is taken at (the as-of day, or the first day)
    #: label → key → {column: value at the end of the day}, for the columns changed since
    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: label → keys of the records created since
    created: dict[str, set[str]] = field(default_factory=dict)

    def existed(self, table: NodeTable, key: str) -> bool:
        return key not in self.created.get(table.label, ())

    def row(self, table: NodeTable, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` (a current row of ``table``) with the values it had on the day."""
        then = self.values.get(table.label, {}).get(row[table.key])
        return {**row, **{c: v for c, v in then.items() if c in row}} if then else row

    def touched(self, table: NodeTable) -> set[str]:
        """Keys of the records of ``table`` changed or created since the day."""
        return set(self.values.get(table.label, ())) | self.created.get(table.label, set())

    def earlier(self, table: NodeTable, column: str) -> dict[str, Any]:
        """key → the value of ``column`` on the day, for the records whose ``column`` changed since."""
        return {k: v[column] for k, v in self.values.get(table.label, {}).items() if column in v}


def end_of(day: dt.date) -> str:
    """The first instant after ``day`` (local time) as the store stamps it: UTC, ISO 8601."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).astimezone()
    return midnight.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def first_day(tx: Tx) -> dt.date | None:
    """The store's first day: that of its first recorded creation (local time); None when it has
    recorded none (it is empty, or older than the creation records). One read of the few
    ``Creation`` nodes (one a batch of an import)."""
    first = tx.run(_FIRST)[0]["first"]
    return dt.datetime.fromisoformat(first).astimezone().date() if first else None


def past(tx: Tx, as_of: dt.date) -> Past | None:
    """What changed after ``as_of`` (see the module docstring); None when the current state is
    the state of that day. Costs nothing for today or later; otherwise a read of the revisions
    and creations recorded since."""
    if as_of >= today():
        return None
    day = max(as_of, first_day(tx) or as_of)
    if day >= today():
        return None
    params = {"cutoff": end_of(day)}
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for r in sorted(tx.run(_REVISIONS_SINCE, params), key=lambda r: (r["recorded_at"], r["revision_id"])):
        table = NODES.get(r["label"])
        if table is None:
            continue
        kept = values.setdefault(r["label"], {}).setdefault(r["entity_key"], {})
        for column, value in json.loads(r["previous"]).items():
            if column not in kept:  # the earliest change after the day holds the day's value
                kept[column] = _typed(value, table.props.get(column))
    created: dict[str, set[str]] = {}
    for r in tx.run(_CREATIONS_SINCE, params):
        created.setdefault(r["label"], set()).update(r["keys"])
    if not values and not created:
        return None
    return Past(day=day, values=values, created=created)


def _typed(value: Any, kind: Kind | None) -> Any:
    """A value as a revision keeps it (JSON: dates as ISO text) back in its column's type."""
    if kind is Kind.DATE and isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


def then(past_state: Past | None, table: NodeTable, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` of ``table`` as they were on the day: those created since left out, the others
    with their values of the day (``rows`` unchanged when ``past_state`` is None)."""
    if past_state is None:
        return list(rows)
    return [past_state.row(table, r) for r in rows if past_state.existed(table, r[table.key])]
