"""The GraphQL schema: the query and mutation roots, their limits (depth, tokens, aliases, and the
cost of ``api/graphql/cost.py``) and caches.

Every top-level field reads through the scoped store functions: an object outside the caller's
scope is null, exactly as one that does not exist, and absent from lists.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry import Info
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.auth import ORGANISERS
from api.graphql.aux_requests import AuxRequestMutations, AuxRequestQueries
from api.graphql.context import Context
from api.graphql import detail
from api.graphql.cost import CostLimit
from api.graphql.documents import ValidationByDocument
from api.graphql.errors import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, log_unexpected
from api.graphql.extensions import AuditReads
from api.graphql.loaders import blocking
from api.graphql.mutations import Mutation, Proposals
from api.graphql.pagination import DEFAULT_FIRST, Connection, connection, window
from api.graphql.reports import Monitoring
from api.graphql.scalars import SCALARS
from api.graphql.types import Cadre, Household, Organisation, Person, Region
from graph_schema.cadre.service import list_cadres
from graph_schema.household.service import list_households
from graph_schema.identifiers import normalize_region_code, region_prefix
from graph_schema.org.service import list_orgs

_NULL_OUTSIDE = "；不存在或不在调用者辖区内时为空 / null when it does not exist or lies outside the caller's scope"


@strawberry.type
class Objects:
    @strawberry.field(description="一户" + _NULL_OUTSIDE)
    async def household(self, info: Info[Context, None], household_no: str) -> Household | None:
        # one store call, whatever the query nests under it (api/graphql/detail.py)
        found = await info.context.loaders.household_detail.load((household_no, detail.wanted(info)))
        return Household.of(found, info.context) if found else None

    @strawberry.field(description="辖区内的家庭，按户编号 / households in the caller's scope (or a region of it), by number")
    async def households(self, info: Info[Context, None], region: str | None = None, first: int = DEFAULT_FIRST,
                         after: str | None = None) -> Connection[Household] | None:
        ctx = info.context
        win = window(first, after)
        page = await blocking(lambda: list_households(store=ctx.who.store, region=region, page=win, scope=ctx.scope))
        for h in page.items:  # nested fields reach these households again without a store call
            ctx.loaders.household_scoped.prime(h.household_no, h)
        return connection(page.items, page.total, win, lambda h: Household.of(h, ctx))

    @strawberry.field(description="一名残疾人（完整身份证号；仅管理员与组织者，其他角色 FORBIDDEN）" + _NULL_OUTSIDE)
    async def person(self, info: Info[Context, None], id_number: str) -> Person | None:
        # a full ID number would tell anyone whether its holder is a registered disabled person
        info.context.who.require(ORGANISERS, "按身份证号查询残疾人", "look a person up by ID number")
        found = await info.context.loaders.person_scoped.load(id_number.upper())
        return Person.of(found, info.context) if found else None

    @strawberry.field(description="一名结对干部" + _NULL_OUTSIDE)
    async def cadre(self, info: Info[Context, None], cadre_no: str) -> Cadre | None:
        found = await info.context.loaders.cadre_scoped.load(cadre_no)
        return Cadre.of(found, info.context) if found else None

    @strawberry.field(description="辖区内的结对干部，按干部编号 / cadres in the caller's scope, by number")
    async def cadres(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                     after: str | None = None) -> Connection[Cadre] | None:
        ctx = info.context
        win = window(first, after)
        page = await blocking(lambda: list_cadres(store=ctx.who.store, page=win, scope=ctx.scope))
        return connection(page.items, page.total, win, lambda c: Cadre.of(c, ctx))

    @strawberry.field(description="一个社会组织（统一社会信用代码）" + _NULL_OUTSIDE)
    async def organisation(self, info: Info[Context, None], uscc: str) -> Organisation | None:
        found = await info.context.loaders.org_scoped.load(uscc.upper())
        return Organisation.of(found, info.context) if found else None

    @strawberry.field(description="辖区内的社会组织，按统一社会信用代码 / organisations in the caller's scope")
    async def organisations(self, info: Info[Context, None], first: int = DEFAULT_FIRST,
                            after: str | None = None) -> Connection[Organisation] | None:
        ctx = info.context
        win = window(first, after)
        page = await blocking(lambda: list_orgs(store=ctx.who.store, page=win, scope=ctx.scope))
        return connection(page.items, page.total, win, lambda o: Organisation.of(o, ctx))

    @strawberry.field(description="一个区划（2/4/6/9/12位代码）及其下级与统计" + _NULL_OUTSIDE)
    async def region(self, info: Info[Context, None], code: str) -> Region | None:
        full = normalize_region_code(code)  # a malformed code is an error, not null
        if not info.context.scope.holds_region(region_prefix(full)):
            return None
        found = await info.context.loaders.region.load(full)
        return Region.of(found) if found else None


Query = merge_types("Query", (Objects, Monitoring, Proposals, AuxRequestQueries))


class _Limits(AddValidationRules):
    """The depth and alias limits. Their rule classes are built once, here: the validation cache
    (``api/graphql/documents.py``) keys on the rule classes, and ``QueryDepthLimiter`` builds a new class per instance,
    so one instance per request would never hit the cache."""

    RULES = (*QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
             *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules)

    def __init__(self) -> None:
        super().__init__(list(self.RULES))


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log what went wrong unexpectedly; refusals and bad input are answers, not incidents."""
        log_unexpected(errors)


schema = Schema(
    query=Query,
    mutation=merge_types("Mutation", (Mutation, AuxRequestMutations)),
    config=StrawberryConfig(scalar_map=SCALARS),
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=256),
        _Limits,
        ValidationByDocument,
        CostLimit,
        AuditReads,
    ],
)
