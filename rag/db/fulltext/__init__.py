"""Full-text search over chunks(text): one class per SQL dialect behind one protocol
(`FullTextSearch`), the only place with dialect-specific search SQL.

sqlite.py: FTS5 ranked by BM25; postgresql.py: a generated tsvector ranked by ts_rank_cd. Both
indexes are made by migration 0002 and maintained by the very writes that change the chunks,
so the full-text side can never lag behind SQL. Access is the caller's business: `search` takes
the access filter as a condition on `documents` (rag/access.py's `document_visible`).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from rag.db.fulltext.base import FullTextSearch, query_terms
from rag.db.fulltext.postgresql import TSV_COLUMN, TSV_INDEX, PostgresFullText
from rag.db.fulltext.sqlite import FTS_TABLE, SqliteFullText

__all__ = [
    "FTS_TABLE",
    "FullTextSearch",
    "PostgresFullText",
    "SqliteFullText",
    "containing_all_terms",
    "fulltext_for",
    "fulltext_scores",
    "fulltext_search",
    "include_object",
    "naming_every_pseudonym",
    "query_terms",
]

DIALECTS: dict[str, FullTextSearch] = {
    search.dialect: search for search in (SqliteFullText(), PostgresFullText())
}


def fulltext_for(session: Session) -> FullTextSearch:
    """The full-text search of the session's database."""
    dialect = session.get_bind().dialect.name
    search = DIALECTS.get(dialect)
    if search is None:
        raise NotImplementedError(f"full-text search is not available on {dialect}")
    return search


def fulltext_search(
    session: Session, question: str, limit: int, visible: ColumnElement[bool] | None = None
) -> list[tuple[int, float]]:
    return fulltext_for(session).search(session, question, limit, visible)


def fulltext_scores(session: Session, question: str, chunk_ids: list[int]) -> dict[int, float]:
    return fulltext_for(session).scores(session, question, chunk_ids)


def containing_all_terms(session: Session, question: str, chunk_ids: list[int]) -> set[int]:
    return fulltext_for(session).containing_all_terms(session, question, chunk_ids)


def naming_every_pseudonym(session: Session, question: str, chunk_ids: list[int]) -> set[int]:
    return fulltext_for(session).naming_every_pseudonym(session, question, chunk_ids)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the full-text objects are made by migration 0002, not by the models, so
    schema comparisons (autogenerate, the migration test) leave them out."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False  # the FTS5 table and its shadow tables
    return not (name in (TSV_COLUMN, TSV_INDEX) and reflected and compare_to is None)
