"""SQLite: `chunks_fts`, an FTS5 external-content table over chunks(text, context), kept
current by triggers (migrations 0002, 0007), ranked by BM25 over both columns.

SQLite's tokenizer keeps `<`, `>` and `_` inside tokens, so a pseudonym such as
<PERSON_3fa9c2d1e07b5a64> is one token (`<person_3fa9c2d1e07b5a64>`); the Porter stemmer leaves
it alone because it ends in `>`.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)

from rag.db.fulltext.base import DialectFullText, query_terms
from rag.db.models import Chunk, Document

FTS_TABLE = "chunks_fts"
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2 tokenchars '<>_'"


class SqliteFullText(DialectFullText):
    dialect = "sqlite"

    def terms(self, question: str, *, every: bool) -> str | None:
        words, pseudonyms = query_terms(question)
        # Every term is a quoted string: FTS5 reads nothing inside quotes as syntax.
        quoted = [f'"{t.lower()}"' for t in pseudonyms] + [f'"{w}"' for w in words]
        return (" AND " if every else " OR ").join(quoted) or None

    def ranked(self, terms: str, limit: int, conditions: list[ColumnElement[bool]]) -> Select:
        fts = table(FTS_TABLE, column("rowid"))
        rank = func.bm25(literal_column(FTS_TABLE))
        return (
            select(fts.c.rowid, (-rank).label("score"))
            .select_from(
                fts.join(Chunk, Chunk.id == fts.c.rowid).join(
                    Document, Document.id == Chunk.document_id
                )
            )
            .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("terms", terms)), *conditions)
            .order_by(rank)
            .limit(limit)
        )

    def scores_sql(self, ids: str) -> TextClause:
        return text(
            f"SELECT rowid, -bm25({FTS_TABLE}) FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH :terms AND rowid IN ({ids})"
        )

    def matching_sql(self, ids: str) -> TextClause:
        return text(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :terms AND rowid IN ({ids})"
        )
