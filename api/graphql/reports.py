"""The monitoring lists of ``graph_schema.monitoring.catalogue.REPORTS`` as GraphQL fields, one
per report (``unpaired``, ``overdueVisits``, ``openProblems`` …), generated from the catalogue so
a new report appears here without code: its row dataclass becomes the node type (its fields and
Chinese column titles), its rows are returned as they are (no copy), or as the privacy policy
lets the caller see them (``Caller.report``; a column some role is denied is nullable).

Only admins, organisers and portals read them (FORBIDDEN otherwise; organisers only for the
reports that name persons with their needs); the region is the caller's
own by default, and one outside the jurisdiction is NOT_FOUND exactly like one that does not exist.
"""

# no ``from __future__ import annotations``: the resolvers' annotations are built at run time

import dataclasses
import datetime as dt
import enum
import types
import typing
from typing import Annotated, Optional, Union

import strawberry
from strawberry import Info
from strawberry.types.field import StrawberryField

from api.auth import ORGANISERS, READERS
from api.graphql.loaders import blocking
from api.graphql.scalars import Fen
from api.graphql.pagination import DEFAULT_FIRST, Connection, connection, window
from api.graphql.types import Household
from graph_schema.access import privacy
from graph_schema.monitoring.catalogue import REPORTS
from graph_schema.monitoring.common import Report, households_named


def _plain(hint: typing.Any) -> typing.Any:
    """A row field's type as GraphQL shows it: enumerations as their stored values."""
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return int if issubclass(hint, int) else str
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [_plain(a) for a in typing.get_args(hint) if a is not type(None)]
        return Optional[args[0]] if len(args) == 1 else hint
    if origin is list:
        return list[_plain(typing.get_args(hint)[0])]
    return hint


async def _household(root: typing.Any, info: Info) -> Optional[Household]:
    """A listed household in full: the portal's list shows its members and pairings (batched by
    the request's loaders; in the caller's scope, as the list itself is)."""
    found = await info.context.loaders.household_scoped.load(root.household_no)
    return Household.of(found, info.context) if found else None


def _row_type(report: Report) -> type:
    hints = typing.get_type_hints(report.row)
    namespace: dict[str, typing.Any] = {"__annotations__": {}, "__doc__": report.title}
    for f in dataclasses.fields(report.row):
        kind = _plain(hints[f.name])
        if privacy.withholdable(privacy.REPORT_FIELDS.get(report.name, {}).get(f.name) or ""):
            kind = Optional[kind]
        namespace["__annotations__"][f.name] = Fen if f.name.endswith("_fen") and kind is int else kind
        namespace[f.name] = strawberry.field(description=report.headers.get(f.name))
    if "household_no" in namespace["__annotations__"]:
        namespace["household"] = strawberry.field(
            resolver=_household, description="该户（成员、结对、台账…）/ the household, with its members, pairings, ledger…")
    return strawberry.type(type(report.row.__name__, (), namespace), description=report.title)


#: report name → the node type of its rows
ROW_TYPES: dict[str, type] = {name: _row_type(report) for name, report in REPORTS.items()}
CoverageRow = ROW_TYPES["coverage"]


def _itself(row: typing.Any) -> typing.Any:
    return row


async def _run(info: Info, report: Report, region: str | None, as_of: dt.date | None, first: int,
               after: str | None, period_start: dt.date | None = None) -> Connection:
    ctx = info.context
    ctx.who.require(ORGANISERS if report.organisers_only else READERS, "查看监测报表", "read monitoring lists")
    win = window(first, after)
    code = ctx.scope.region(region)
    options = {"as_of": as_of} | ({"period_start": period_start} if report.ranged else {})
    page = await blocking(lambda: ctx.who.report(report, code, win, **options))
    ctx.saw("household", [no for row in page.items for no in households_named(row)])
    return connection(page.items, page.total, win, _itself)


_REGION = "区划代码（2/4/6/9/12位），默认本人辖区 / region code, any level; default the caller's jurisdiction"
_AS_OF = "截止日期，默认今天 / as of this date (default today)"


def _field(report: Report) -> StrawberryField:
    node = ROW_TYPES[report.name]
    region_arg = Annotated[Optional[str], strawberry.argument(description=_REGION)]
    as_of_arg = Annotated[Optional[dt.date], strawberry.argument(description=_AS_OF)]
    if report.ranged:
        async def resolve(info: Info, region: region_arg = None, as_of: as_of_arg = None,
                          from_: Annotated[Optional[dt.date], strawberry.argument(
                              name="from", description="统计期开始，默认当年1月1日 / period start (default 1 January)")] = None,
                          first: int = DEFAULT_FIRST, after: Optional[str] = None):
            return await _run(info, report, region, as_of, first, after, from_)
    else:
        async def resolve(info: Info, region: region_arg = None, as_of: as_of_arg = None,
                          first: int = DEFAULT_FIRST, after: Optional[str] = None):
            return await _run(info, report, region, as_of, first, after)
    resolve.__annotations__["return"] = Optional[Connection[node]]
    return strawberry.field(resolver=resolve, name=_camel(report.name), description=report.title)


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.title() for part in rest)


#: The names of those fields (each runs its report when resolved: ``api/graphql/cost.py``).
REPORT_FIELDS = frozenset(_camel(name) for name in REPORTS)

#: The query fields of every monitoring list, merged into ``Query``.
Monitoring = strawberry.type(
    type("Monitoring", (), {name.replace("-", "_"): _field(report) for name, report in REPORTS.items()}))
