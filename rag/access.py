"""Who may see what. A caller sees a document when the document has no access groups (it is
open to every key), when the caller is an admin, or when they share at least one group.

Every read of documents or chunks on behalf of a caller goes through `document_visible`, so
the rule lives in one place and is applied inside the query, before any top-k.

`documents.groups` is a JSON array. SQLite and PostgreSQL read JSON with different functions
(json_each / json_array_elements_text), so the two tests below are SQL constructs compiled per
dialect. A `groups` value that is not an array (a bad write) fails closed: only admins see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Boolean, ColumnElement, or_, select, true
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from rag.db.models import ApiKey, Chunk, Document


@dataclass(frozen=True)
class Caller:
    name: str
    role: str = "reader"
    groups: frozenset[str] = field(default_factory=frozenset)
    key_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def from_key(cls, key: ApiKey) -> Caller:
        return cls(name=key.name, role=key.role, groups=frozenset(key.groups or []), key_id=key.id)


# The CLI and the worker act with full rights.
SYSTEM = Caller(name="system", role="admin")


def document_visible(caller: Caller | None) -> ColumnElement[bool]:
    """A WHERE clause on `documents` that is true for the documents `caller` may see."""
    if caller is None or caller.is_admin:
        return true()
    groups = sorted(caller.groups)
    if not groups:
        return _GroupsEmpty(Document.groups)
    return or_(_GroupsEmpty(Document.groups), _GroupsOverlap(Document.groups, *groups))


def visible_chunk_ids(session: Session, caller: Caller | None) -> np.ndarray | None:
    """The ids of the searchable chunks (of indexed documents) `caller` may see, sorted;
    None when there is no restriction. The vector search is limited to these."""
    if caller is None or caller.is_admin:
        return None
    query = (
        select(Chunk.id)
        .join(Document, Chunk.document_id == Document.id)
        .where(Document.status == "indexed", document_visible(caller))
        .order_by(Chunk.id)
    )
    return np.fromiter(session.scalars(query), dtype=np.int64)


# -- per-dialect SQL -------------------------------------------------------------------------


class _GroupsEmpty(FunctionElement):
    """True when the JSON column holds an empty array."""

    type = Boolean()
    inherit_cache = True
    name = "groups_empty"


class _GroupsOverlap(FunctionElement):
    """True when the JSON array column holds at least one of the given strings."""

    type = Boolean()
    inherit_cache = True
    name = "groups_overlap"


@compiles(_GroupsEmpty)
@compiles(_GroupsOverlap)
def _unsupported(element, compiler, **kw) -> str:
    raise CompileError(f"access groups are not implemented for {compiler.dialect.name}")


@compiles(_GroupsEmpty, "sqlite")
def _sqlite_empty(element, compiler, **kw) -> str:
    (column,) = [compiler.process(c, **kw) for c in element.clauses]
    # json_array_length is 0 for any non-array too: check the type first.
    return f"(json_type({column}) = 'array' AND json_array_length({column}) = 0)"


@compiles(_GroupsOverlap, "sqlite")
def _sqlite_overlap(element, compiler, **kw) -> str:
    column, *groups = [compiler.process(c, **kw) for c in element.clauses]
    return (
        f"(json_type({column}) = 'array' AND EXISTS (SELECT 1 FROM json_each({column}) AS g "
        f"WHERE g.value IN ({', '.join(groups)})))"
    )


def _pg_array_or_empty(column: str) -> str:
    # PostgreSQL's json array functions raise on a scalar; CASE keeps them off non-arrays.
    return f"CASE WHEN json_typeof({column}) = 'array' THEN {column} ELSE '[]'::json END"


@compiles(_GroupsEmpty, "postgresql")
def _pg_empty(element, compiler, **kw) -> str:
    (column,) = [compiler.process(c, **kw) for c in element.clauses]
    return (
        f"(COALESCE(CASE WHEN json_typeof({column}) = 'array' "
        f"THEN json_array_length({column}) END, -1) = 0)"
    )


@compiles(_GroupsOverlap, "postgresql")
def _pg_overlap(element, compiler, **kw) -> str:
    column, *groups = [compiler.process(c, **kw) for c in element.clauses]
    return (
        f"EXISTS (SELECT 1 FROM json_array_elements_text({_pg_array_or_empty(column)}) "
        f"AS g(value) WHERE g.value IN ({', '.join(groups)}))"
    )
