"""How errors leave the GraphQL API: the Chinese message, and ``extensions`` with a stable
``code``, ``message_en`` and the details (field, key …), as the REST API answers; never a
driver's or Python's internals (a store failure says only that the store failed).

Domain errors map through ``api.errors.body_of``, the one mapping REST uses too. Errors of the
query itself (syntax, unknown field, the depth/token/alias limits) get codes of their own.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from pydantic import ValidationError

from api.errors import body_of
from graph_schema.errors import JieduiError, StoreError
from graph_schema.identifiers import IdentifierError

log = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30


class InvalidInput(JieduiError):
    """A mutation's input that breaks the domain model's rules: VALIDATION with every field at
    fault, as the REST API's 422 answers."""

    code = "VALIDATION"

    def __init__(self, exc: ValidationError) -> None:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "input", "reason": e["msg"]} for e in exc.errors()]
        fields = "、".join(e["field"] for e in errors)
        super().__init__(f"请求字段无效：{fields}", f"invalid request fields: {fields}", errors=errors)


#: (what graphql-core or strawberry says, code, Chinese message) for errors of the query itself
_QUERY_ERRORS = [
    ("Document contains more than", "QUERY_TOO_LARGE", f"查询过长：最多 {MAX_TOKENS} 个词法单元"),
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP", f"查询嵌套过深：最多 {MAX_DEPTH} 层"),
    ("aliases found", "TOO_MANY_ALIASES", f"别名过多：最多 {MAX_ALIASES} 个"),
    ("Syntax Error", "GRAPHQL_PARSE_FAILED", "查询语法错误"),
]


def body(error: GraphQLError) -> dict:
    """``{code, message, message_en, …details}`` of one error."""
    original = error.original_error
    if isinstance(original, JieduiError):
        return body_of(original)
    if isinstance(original, IdentifierError):
        return {"code": original.code, "message": original.reason_zh, "message_en": original.reason_en}
    if not error.path and (original is None or isinstance(original, GraphQLError)):
        # the query itself: parse, validation, variable values
        for marker, code, zh in _QUERY_ERRORS:
            if marker in error.message:
                return {"code": code, "message": zh, "message_en": error.message}
        return {"code": "GRAPHQL_VALIDATION_FAILED", "message": f"查询无效：{error.message}",
                "message_en": error.message}
    return {"code": "INTERNAL", "message": "服务器内部错误，已记录", "message_en": "internal error; logged"}


def shaped(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: where it happened, and :func:`body`."""
    found = body(error)
    message = found.pop("message")
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions=found)


def expected(error: GraphQLError) -> bool:
    """Errors that answer a request as designed (refusals, bad input): not worth a log line."""
    original = error.original_error
    if isinstance(original, StoreError):
        return False
    return original is None or isinstance(original, (JieduiError, IdentifierError, GraphQLError))


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if not expected(error):
            original = error.original_error
            log.error("graphql error at %s: %s", error.path, error.message,
                      exc_info=(type(original), original, original.__traceback__) if original else None)
