"""Work done once per parsed query document, not once per request.

A portal sends the same few query texts over and over, and the schema's parser cache hands out
the same parsed document for the same text. What follows from the document alone (its validation
errors, its cost for given ``first`` values) is therefore kept here, keyed by the document's
identity: never an answer, which depends on the caller, the variables and the data.

Keyed by identity rather than by value because a document's value hash walks its whole tree
(~270 hash calls for the household detail query, on every request, inside strawberry's
``ValidationCache``). Each entry holds its document, so no other object can take its id while
the entry is kept; a document the parser cache has dropped is simply worked out again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

#: documents' entries kept: as many as the parser cache keeps query texts
KEEP = 256


class ByDocument:
    """A bounded map from (a document, a key of plain values) to what was worked out from them;
    the least recently used entry is dropped first."""

    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._kept: OrderedDict[tuple[int, Hashable], tuple[DocumentNode, Any]] = OrderedDict()
        self._lock = threading.Lock()  # the schema may also be run synchronously, from threads

    def get(self, document: DocumentNode, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            hit = self._kept.get((id(document), key))
            if hit is None or hit[0] is not document:
                return default
            self._kept.move_to_end((id(document), key))
            return hit[1]

    def put(self, document: DocumentNode, key: Hashable, value: Any) -> None:
        with self._lock:
            self._kept[(id(document), key)] = (document, value)
            self._kept.move_to_end((id(document), key))
            while len(self._kept) > self._keep:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


_VALIDATED = ByDocument()


class ValidationByDocument(SchemaExtension):
    """Strawberry's ``ValidationCache``, keyed by the document's identity (with the schema and the
    rules, as there): the same errors, or none, without hashing the document on every request."""

    def on_validate(self) -> Iterator[None]:
        from strawberry.schema.schema import validate_document  # strawberry imports its extensions first

        ec = self.execution_context
        document, key = ec.graphql_document, (ec.schema._schema, tuple(ec.validation_rules))
        errors = _VALIDATED.get(document, key)
        if errors is None:
            errors = validate_document(ec.schema._schema, document, key[1])
            _VALIDATED.put(document, key, errors)
        ec.pre_execution_errors = errors
        yield
