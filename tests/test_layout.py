"""The layout's two rules, checked on the source: imports go one way (api → matching and importers
→ graph_schema; nothing in graph_schema reaches up), and only graph_schema speaks Cypher, so a
change of the store's dialect or of the schema is made in one package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: package → the project's packages it must never import
FORBIDDEN = {"graph_schema": {"api", "matching", "importers"}, "matching": {"api", "importers"},
             "importers": {"api", "matching"}}
QUERY = re.compile(r"\b(MATCH|MERGE)\s*\(|\bUNWIND \$|\bRETURN\s+\w+\.\w+\s+AS\b")


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _imported(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_imports_go_one_way():
    wrong = [(str(path.relative_to(ROOT)), sorted(_imported(tree) & banned))
             for package, banned in FORBIDDEN.items() for path, tree in _modules(package) if _imported(tree) & banned]
    assert wrong == []


def test_only_graph_schema_speaks_cypher():
    found = [(str(path.relative_to(ROOT)), node.lineno) for package in ("api", "matching", "importers")
             for path, tree in _modules(package) for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and QUERY.search(node.value)]
    assert found == []


def test_the_check_sees_a_query():
    assert QUERY.search("MATCH (h:Household) RETURN h.household_no AS no")
    assert QUERY.search("UNWIND $rows AS r MATCH (c:Cadre {cadre_no: r.c})")
    assert not QUERY.search("匹配 / match the households (MATCH is a word here)")
