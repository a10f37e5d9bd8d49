"""The per-operation hook of the schema: name the operation for the audit trail, and record what
it showed once, at its end (also when it failed half-way)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from api.graphql.context import Context


def operation_label(document, operation_name: str | None) -> str:
    """``graphql <operationName>``, or ``graphql <root fields>`` for an anonymous operation."""
    if operation_name:
        return f"graphql {operation_name}"[:200]
    fields: list[str] = []
    for definition in getattr(document, "definitions", ()):
        if isinstance(definition, OperationDefinitionNode):
            fields += [s.name.value for s in definition.selection_set.selections
                       if isinstance(s, FieldNode) and s.name.value not in fields and s.name.value != "__typename"]
            break
    return f"graphql {','.join(fields) or 'operation'}"[:200]


class AuditReads(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if isinstance(ec.context, Context):
            ec.context.name_operation(operation_label(ec.graphql_document, ec.operation_name))
        yield

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            if isinstance(self.execution_context.context, Context):
                self.execution_context.context.record_reads()
