"""GraphQL at ``/graphql``: the same data as the REST API, scoped, masked and audited alike."""

from __future__ import annotations

import json

from cross_web import HTTPException  # what strawberry answers a bad HTTP request with
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from api.graphql.context import request_context
from api.graphql.errors import shaped
from api.graphql.schema import schema


class Router(GraphQLRouter):
    def decode_json(self, data: str | bytes) -> object:
        """A body must be one JSON object (an operation): anything else, or bytes that are not
        UTF-8, is a 400, not an error deep inside the library."""
        try:
            value = json.loads(data)
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "请求体不是 UTF-8 文本 / the body is not UTF-8 text") from exc
        if not isinstance(value, dict):
            raise HTTPException(400, "请求体须为一个 JSON 对象 / the body must be one JSON object")
        return value

    async def process_result(self, request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error in the shape of :mod:`api.graphql.errors`, wherever it arose (a parse
        error escapes the schema extensions, so this is the one place that sees them all)."""
        if result.errors:
            result.errors = [shaped(e) for e in result.errors]
        return process_result(result)


def router() -> Router:
    """POST only (no GET queries, no in-browser IDE: every request needs a bearer token). Not in
    the OpenAPI document: the GraphQL schema is this endpoint's contract, and an OpenAPI entry
    could state only "200" for answers that are also 400 and 401."""
    return Router(schema, path="/graphql", context_getter=request_context, graphql_ide=None,
                  allow_queries_via_get=False, tags=["graphql"], include_in_schema=False)
