"""The cost of a GraphQL operation, computed from its document before it runs, and its limit.

Depth, token and alias limits bound the size of a query's text, not the work it asks for: nine
aliases of 1,000 households each with members and pairings are a short query that took 10 s of
one service's time. So every operation gets a cost, and one above ``JIEDUI_GRAPHQL_MAX_COST``
(default 50,000) is refused before anything runs (QUERY_TOO_COSTLY, naming the cost and the
limit). The cost counts the objects an answer may hold:

- a field returning an object costs ``rows × (1 + the cost of its selection)``; a scalar costs 0;
- ``rows`` is the connection's ``first`` for the ``edges`` of a connection: as given, else its
  default (50) for a list of the query's root and :data:`LIST_ROWS` for a list under an object (a
  household's members or pairings, a region's children: a household has a few members, not 50);
  :data:`LIST_ROWS` for any other list, and 1 for a single object;
- a field that runs a whole report (every monitoring list, ``Region.coverage``) adds
  :data:`REPORT_COST` for each time it runs, ``pairingProposal`` (the matcher) :data:`PROPOSAL_COST`;
- an edge only wraps its node: the node is counted, the edge is not;
- costs multiply down the nesting: ``households(first: 1000) { edges { node { members { edges { node
  { name } } } } } }`` costs about 1000 × (1 + 1 + 10) = 12,000; the same with the pairings and
  their cadres and ``risk`` added about 34,000.

The weights follow times measured on the demo county (8,915 households, 2 cores): the 34,000 query
above takes 1.5–3 s on either engine, one ``coverage`` run 60 ms embedded and 200–350 ms on Neo4j.
So the attack review's queries are refused: 9 aliases of it cost 306,009, 29 ``coverage`` aliases
58,058. Report runs are counted at a flat rate, since their work depends on the size of the region,
which the document does not tell. @skip and @include are ignored (the cost is an upper bound).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from strawberry.extensions import SchemaExtension

from api.graphql.documents import ByDocument
from api.graphql.pagination import MAX_FIRST
from api.graphql.reports import REPORT_FIELDS
from graph_schema.errors import JieduiError
from graph_schema.settings import get_settings

LIST_ROWS = 10
REPORT_COST = 2_000
PROPOSAL_COST = 10_000

#: fields that run a report or the matcher each time they are resolved: (type, field) → cost
RUNS: dict[tuple[str, str], int] = {
    **{("Query", name): REPORT_COST for name in REPORT_FIELDS},
    ("Region", "coverage"): REPORT_COST,
    ("Query", "pairingProposal"): PROPOSAL_COST,
}


class QueryTooCostly(JieduiError):
    """An operation whose cost (this module) is above the limit; nothing of it ran."""

    code = "QUERY_TOO_COSTLY"

    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(
            f"查询开销 {cost} 超过上限 {limit}：请减少 first、嵌套层数或别名，分页获取其余部分",
            f"the query would cost {cost}, above the limit of {limit}: ask for fewer rows (first), "
            "less nesting or fewer aliases, and page through the rest", cost=cost, limit=limit)


#: costs worked out, per document: (operation name, the values of the variables its ``first``
#: arguments read) → cost; the first entry, under (operation name, None), names those variables
_COSTS = ByDocument()


def operation_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                   variables: Mapping[str, Any] | None) -> int:
    """The cost of the operation ``operation_name`` (the only one when None) of ``document``.

    Kept per document and per value of the variables it depends on (only ``first`` arguments
    given as variables; the document does not change): the walk over the document was ~10 % of
    a household detail request's CPU."""
    variables = variables or {}
    if not isinstance(operation_name, (str, type(None))):
        return _cost(schema, document, operation_name, _Counter(schema, {}, variables))
    read = _COSTS.get(document, (schema, operation_name, None))
    if read is not None:
        key = _values(read, variables)
        if key is not None:
            cost = _COSTS.get(document, (schema, operation_name, key))
            if cost is not None:
                return cost
    counter = _Counter(schema, {}, variables)
    cost = _cost(schema, document, operation_name, counter)
    names = tuple(sorted(counter.read))
    key = _values(names, variables)
    if key is not None:
        _COSTS.put(document, (schema, operation_name, None), names)
        _COSTS.put(document, (schema, operation_name, key), cost)
    return cost


def _values(names: tuple[str, ...], variables: Mapping[str, Any]) -> tuple | None:
    """The values of the named variables as a key (with whether each was given, since a missing
    one counts the default and a null one the most, and with their types: ``true`` is not ``1``);
    None when one is not a plain value (a list, an object: not cached)."""
    values = tuple((n in variables, type(variables.get(n)), variables.get(n)) for n in names)
    try:
        hash(values)
    except TypeError:
        return None
    return values


def _cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, counter: _Counter) -> int:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [d for d in operations if operation_name is None or (d.name and d.name.value == operation_name)]
    if not chosen:
        return 0  # execution refuses an unknown operation itself
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    counter.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return counter.selection(root, operation.selection_set, 1, ())


class _Counter:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.read: set[str] = set()  # the variables the cost depends on

    def selection(self, parent: GraphQLObjectType, selection_set: SelectionSetNode | None, edges_rows: int,
                  spread: tuple[str, ...]) -> int:
        """The cost of one object of type ``parent`` answering ``selection_set``; ``edges_rows``
        is how many ``edges`` it holds when it is a connection."""
        return sum(self.field(parent, node, edges_rows, spread) for node in self._fields(parent, selection_set, spread))

    def _fields(self, parent: GraphQLObjectType, selection_set: SelectionSetNode | None,
                spread: tuple[str, ...]) -> Iterator[FieldNode]:
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                yield node
            elif isinstance(node, InlineFragmentNode):
                yield from self._fields(parent, node.selection_set, spread)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in spread:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    yield from self._fields(parent, fragment.selection_set, (*spread, node.name.value))

    def field(self, parent: GraphQLObjectType, node: FieldNode, edges_rows: int, spread: tuple[str, ...]) -> int:
        definition = parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        if definition is None:
            return 0  # __typename, introspection: nothing from the store
        runs = RUNS.get((parent.name, node.name.value), 0)
        target = get_named_type(definition.type)
        if not isinstance(target, GraphQLObjectType):
            return runs
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            rows = edges_rows if node.name.value == "edges" else LIST_ROWS
        else:
            rows = 1
        first = self._first(node, definition, nested=parent is not self.schema.query_type)
        inner = self.selection(target, node.selection_set, first if first is not None else 1, spread)
        if node.name.value == "edges":
            return runs + rows * inner  # an edge only wraps its node, which is counted
        return runs + rows * (1 + inner)

    def _first(self, node: FieldNode, definition: Any, nested: bool) -> int | None:
        """The ``first`` argument, within what the API allows: as given, else its default (at most
        :data:`LIST_ROWS` for a list under an object)."""
        if "first" not in definition.args:
            return None
        value = definition.args["first"].default_value
        if nested and isinstance(value, int):
            value = min(value, LIST_ROWS)
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                self.read.add(argument.value.name.value)
                value = self.variables.get(argument.value.name.value, value)
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_FIRST  # not a number: execution refuses it; count the most it could be
        return max(0, min(value, MAX_FIRST))  # beyond MAX_FIRST the resolver refuses it by name


class CostLimit(SchemaExtension):
    """Refuse an operation above ``JIEDUI_GRAPHQL_MAX_COST`` before it executes."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None:
            limit = get_settings().graphql_max_cost
            cost = operation_cost(ec.schema._schema, ec.graphql_document, ec.operation_name, ec.variables)
            if cost > limit:
                raise QueryTooCostly(cost, limit)
        yield
