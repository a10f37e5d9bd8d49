"""Cypher is only ever parameterised: every f-string (or concatenation) that builds a query may
interpolate only trusted fragments, named in ALLOWED with why each is safe; values always travel
as ``$params``. Also refused: ``.format(…)`` and ``%`` on a query string. The checker is tested on
a planted string-built query."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["api", "graph_schema", "importers", "matching", "scripts", "bench"]
CYPHER = re.compile(r"\b(MATCH|MERGE|CREATE|RETURN|UNWIND|DELETE|DETACH|SET|WHERE|CALL|COPY|ALTER|DROP)\b")

#: expression (as ast.unparse writes it) → why it cannot carry user input
ALLOWED = {
    "FROM_KEY": "a constant MATCH fragment (graph_schema.records)",
    "start": "the first clause built by keyed(table, var, keys): labels and keys from schema.py, values as $keys",
    "var": "a query variable name chosen in code (Scope's fragments)",
    "scope.households()": "Scope's region/cadre/org fragment: names $scope_* parameters only",
    "scope.cadres()": "as scope.households()",
    "scope.orgs()": "as scope.households()",
    "scope.aux_requests()": "as scope.households()",
    "scope.claims()": "as scope.households()",
    "scope.join_requests()": "as scope.households()",
    "aliased(head)": "alias AS expression pairs of schema.py columns; graph_schema/household/detail.py's select "
                     "drops every name that is no column",
    "aliased(part.columns)": "as aliased(head)",
    "aliased(columns)": "alias AS expression pairs a report declares as constants (Tx.ordered_page)",
    "aliased(_COLUMNS)": "as aliased(columns): a module's constant columns",
    "fields": "alias: expression pairs of schema.py columns (as aliased(head))",
    "part.pattern": "a constant pattern of a Part declared in graph_schema/household/detail.py",
    "carried": "query variable names made in code (the keyed variable and _part0, _part1 …)",
    "lists": "_partN AS a Part's name, both from code",
    "query": "the statement built so far in the same function from these fragments",
    "i": "a loop index",
    "self.households()": "Scope building its own fragments",
    "t.label": "a node table's label from schema.py", "t.key": "its key column from schema.py",
    "t.label.lower()": "as t.label", "p": "an indexed property name from schema.py (loop over t.indexed)",
    "r.type": "a rel table's type from schema.py", "r.type.lower()": "as r.type",
    "MARK.label": "the label of the store's own marks, a schema.py constant",
    "table.label": "a node table's label from schema.py", "table.key": "its key from schema.py",
    "src.label": "schema.py label", "src.key": "schema.py key", "dst.label": "schema.py label",
    "dst.key": "schema.py key", "rel.type": "schema.py rel type",
    "cols": "DDL column list from schema.py", "ends": "DDL FROM/TO list from schema.py",
    "', '.join(cols)": "as cols", "name or t.label": "a schema.py label, or one made from it in code",
    "label": "a schema.py label or rel type (the embedded store's check for columns declared since)",
    "c": "a column name of a schema.py table", "kind.value": "a column type from schema.py's Kind",
    "rebuilt": "a schema.py label with a fixed suffix (the table a rekeying fills)",
    "prefix": "substring() of a schema.py key to a width computed in code",
    "values": "a property map of a schema.py table's columns (c: n.c)",
    "props": "property map from a schema.py table's columns, casts by kind",
    "sets": "SET list from schema.py columns, values as $rows", "returned": "RETURN list from schema columns",
    "columns": "RETURN list from schema columns", "counted": "a query variable chosen in code",
    "match": "a MATCH built in code from the fragments allowed here, values as $params",
    "returns": "a RETURN list chosen in code", "area": "a RETURN column chosen in code (coverage's _AREA or _VILLAGE)",
    "order": "an ORDER BY list chosen in code",
    "where": "a WHERE built from constant strings only (audit filters as $params)",
    "a": "a rel table's source label from schema.py (rel.ends)", "b": "its target label from schema.py",
    "actor": "a node label chosen in code (Cadre/Org)", "rel": "a rel type chosen in code",
    "half": "a constant condition on the scope's half (coverage: region_code < or >= $split)",
    "subsidy_param": "the name of a $parameter chosen in code ($living or $care)",
    "_AUX_COLUMNS": "constant", "_COLUMNS": "constant", "_EDGE_COLUMNS": "constant", "_ENTRY_COLUMNS": "constant",
    "_HOUSEHOLD_COLUMNS": "constant", "_OPEN_ON_AS_OF": "constant", "_PAIRING_COLUMNS": "constant",
    "_PERSON_COLUMNS": "constant", "_VALID": "constant",
    "_PRIORITY": "constant", "PRIORITY_CONDITION": "constant", "_PRIORITY_AT_ZERO": "constant",
    "_PRIORITY_KEPT": "constant", "ENTRY_FIGURES": "constant", "ledger_sums.ENTRY_FIGURES": "constant",
    "on": "a list of n.property from schema.py (an index's properties)", "name": "an index name made of them",
    "author": "a pattern of coverage's _AUTHORS, constants",
    "by_org": "an expression of coverage's _AUTHORS, constants",
    "aliased(_FACT_COLUMNS)": "as aliased(_COLUMNS): a module's constant columns",
}


def _cypher_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return ""


def _leaves(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _leaves(node.left) + _leaves(node.right)
    return [node]


def _trusted(expr: ast.AST) -> bool:
    text = ast.unparse(expr)
    if text in ALLOWED:
        return True
    if isinstance(expr, ast.Name) and expr.id.isupper():  # a module constant (itself checked here)
        return True
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.attr.isupper():
        return True  # an imported module's constant (risk.SCORE), checked in its own module
    if (isinstance(expr, ast.Call) and ast.unparse(expr.func) == "aliased" and len(expr.args) == 1
            and isinstance(expr.args[0], ast.Name) and expr.args[0].id.isupper()):
        return True  # the alias AS expression pairs of a module's constant columns
    if isinstance(expr, ast.IfExp):  # "… AND x = $y" if flag else "": both branches must be trusted
        return _trusted(expr.body) and _trusted(expr.orelse)
    return isinstance(expr, (ast.Constant, ast.JoinedStr))


def offences(source: str, filename: str = "<string>") -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.JoinedStr) and CYPHER.search(_cypher_text(node)):
            for value in node.values:
                if isinstance(value, ast.FormattedValue) and not _trusted(value.value):
                    found.append(f"{where}: interpolates {ast.unparse(value.value)}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            leaves = _leaves(node)
            if any(CYPHER.search(_cypher_text(leaf)) for leaf in leaves):
                found += [f"{where}: concatenates {ast.unparse(leaf)}" for leaf in leaves if not _trusted(leaf)]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and CYPHER.search(_cypher_text(node.left)):
            found.append(f"{where}: %-formats a query")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and CYPHER.search(_cypher_text(node.func.value))):
            found.append(f"{where}: .format() on a query")
    return found


def test_the_project_builds_no_query_from_values():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += offences(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def test_the_checker_catches_a_planted_query():
    planted = 'def f(tx, no):\n    return tx.run(f"MATCH (h {{no: \'{no}\'}}) RETURN h")\n'
    assert offences(planted) == ["<string>:2: interpolates no"]
    assert offences('q = "MATCH (h) WHERE h.no = \'" + no + "\' RETURN h"\n')
    assert offences('q = "MATCH (h) WHERE h.no = \'%s\'" % no\n')
    assert offences('q = "MATCH (h) WHERE h.no = \'{}\'".format(no)\n')
    assert offences('q = f"MATCH (n:{t.label}) WHERE n.k = $k RETURN n"\n') == []
    # another module's constant and a constant's columns pass; an attribute of a value does not
    assert offences('q = risk.SCORE + " MATCH (h) RETURN " + aliased(COLUMNS)\n') == []
    assert offences('q = "MATCH (h) WHERE h.no = \'" + row.no + "\' RETURN h"\n')
    assert offences('q = "MATCH (h) RETURN " + aliased(columns_from(request))\n')
