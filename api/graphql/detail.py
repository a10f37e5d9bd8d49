"""What a query asks of one household, for the one-household read
(``graph_schema/household/detail.py``): the household's columns, and which of its lists with
which columns, worked out from the query's selection (aliases and fragments merged).

``household(householdNo:)`` then costs one store call, whatever it nests: the lists, and the
cadres of the pairings, come with the household and are handed to the nested fields with the
objects they belong to (never through the request's shared loaders, which other parts of the
same query may fill with other columns of the same records).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import cache

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode
from strawberry import Info
from strawberry.utils.str_converters import to_camel_case

from graph_schema.household.detail import CADRE_PREFIX, Wanted

#: A selection: each field's name (not its alias) → what is selected under it, merged.
Tree = dict[str, "Tree"]

#: Columns a resolved field reads beyond its own name (python names, per GraphQL type).
NEEDS = {
    "Household": {"risk": {"monitoring", "tekun", "dibao", "elderly_carer", "labour"}},
    "AuxPairing": {"active": {"ended_on"}},
    "Problem": {"open": {"closed_on"}},
    "Cadre": {"at_limit": {"pair_limit"}},
}


def tree(selections: Iterable[SelectionNode], fragments: Mapping[str, FragmentDefinitionNode], into: Tree) -> Tree:
    """The fields of ``selections`` added to ``into`` (fields under @skip or @include count as
    selected: reading a column too many is harmless; validation has refused fragment cycles)."""
    for node in selections:
        if isinstance(node, FieldNode):
            under = into.setdefault(node.name.value, {})
            if node.selection_set:
                tree(node.selection_set.selections, fragments, under)
        elif isinstance(node, InlineFragmentNode):
            tree(node.selection_set.selections, fragments, into)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            tree(fragments[node.name.value].selection_set.selections, fragments, into)
    return into


def items(connection: Tree) -> Tree:
    """The fields selected on the items of a connection (``edges { node { … } }``)."""
    return connection.get("edges", {}).get("node", {})


@cache
def _python_names(type_name: str) -> dict[str, str]:
    """GraphQL field name → python name, for one of the object types."""
    from api.graphql import types

    fields = getattr(types, type_name).__strawberry_definition__.fields
    return {f.graphql_name or to_camel_case(f.python_name): f.python_name for f in fields}


def columns(type_name: str, selected: Tree) -> set[str]:
    """The python names of the fields selected on an object of ``type_name``, and the columns
    its resolved fields read."""
    names = _python_names(type_name)
    out = {names[f] for f in selected if f in names}
    for field, needs in NEEDS.get(type_name, {}).items():
        if field in out:
            out |= needs
    return out


#: the answers of :func:`wanted` for the last parsed queries, by the identity of their field nodes
#: (the schema's parser cache hands out the same document for the same text); each entry holds
#: its nodes, so no other node can take their ids while it is kept
_WANTED: OrderedDict[tuple[int, ...], tuple[tuple[FieldNode, ...], Wanted]] = OrderedDict()
_KEEP = 256


def wanted(info: Info) -> Wanted:
    """What the current ``household`` field asks of the household (worked out once per query text
    while it stays in the parser cache: ~0.3 ms of a request otherwise)."""
    raw = info._raw_info  # graphql-core's resolve info: the field's nodes and the document's fragments
    nodes = tuple(raw.field_nodes)
    key = tuple(map(id, nodes))
    hit = _WANTED.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], nodes, strict=True)):
        return hit[1]
    found = _wanted(nodes, raw.fragments)
    _WANTED[key] = (nodes, found)
    while len(_WANTED) > _KEEP:
        _WANTED.popitem(last=False)
    return found


def _wanted(nodes: tuple[FieldNode, ...], fragments: Mapping[str, FragmentDefinitionNode]) -> Wanted:
    selected: Tree = {}
    for node in nodes:  # the same field asked twice under one name: merged
        if node.selection_set:
            tree(node.selection_set.selections, fragments, selected)
    lists: dict[str, set[str]] = {}
    members = items(selected["members"]) if "members" in selected else None
    if members is not None or "risk" in selected:
        lists["members"] = columns("Person", members or {}) | ({"grade"} if "risk" in selected else set())
    pairings: Tree = {}
    for name, under in (("pairings", items), ("activePairing", lambda t: t)):
        if name in selected:
            for field, sub in under(selected[name]).items():
                pairings.setdefault(field, {}).update(sub)
    if "pairings" in selected or "activePairing" in selected:
        lists["pairings"] = columns("Pairing", pairings)
        if "cadre" in pairings:
            lists["pairings"] |= {CADRE_PREFIX + c for c in columns("Cadre", pairings["cadre"])}
    for field, name, type_name in (("auxPairings", "aux_pairings", "AuxPairing"), ("ledger", "ledger", "LedgerEntry"),
                                   ("problems", "problems", "Problem")):
        if field in selected:
            lists[name] = columns(type_name, items(selected[field]))
    return Wanted(frozenset(columns("Household", selected)),
                  tuple(sorted((name, frozenset(c)) for name, c in lists.items())))

