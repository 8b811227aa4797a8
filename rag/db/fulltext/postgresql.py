"""PostgreSQL: `chunks.text_tsv`, a generated tsvector column over a chunk's text and its
context header, with a GIN index (migrations 0002, 0007), ranked by ts_rank_cd.

PostgreSQL's parser would read a pseudonym such as <PERSON_3fa9c2d1> as an XML tag and drop it,
so the generated column first rewrites it to one word with a digit in it
(`pii0personx3fa9c2d1`), which the `english` configuration indexes as is (the `simple`
dictionary: lower case, no stemming). All other punctuation becomes a space there, so codes
like FRZ-4471 split as in questions.
"""

from __future__ import annotations

import re

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    bindparam,
    func,
    literal_column,
    select,
    text,
)

from rag.db.fulltext.base import DialectFullText, query_terms
from rag.db.models import Chunk, Document

TSV_COLUMN = "text_tsv"
TSV_INDEX = "ix_chunks_text_tsv"

# A pseudonym (a type of up to three parts) as one unstemmed word.
PG_PSEUDONYM_SQL = r"<([A-Z]+)_?([A-Z]*)_?([A-Z]*)_([0-9a-f]{8,64})>"
PG_PSEUDONYM_REPLACEMENT = r"pii0\1\2\3x\4"
# Then every run of other characters becomes a space, as the questions are split: PostgreSQL's
# parser would otherwise keep "-4471", "4.5" or "a/b.txt" as single lexemes no word matches.
# The document is the chunk's text and its context header (migration 0007).
PG_TSV_EXPRESSION = (
    "to_tsvector('english'::regconfig, regexp_replace("
    "regexp_replace(text || ' ' || context, "
    f"'{PG_PSEUDONYM_SQL}', '{PG_PSEUDONYM_REPLACEMENT}', 'g'), "
    "'[^[:alnum:]]+', ' ', 'g'))"
)
_PG_PSEUDONYM = re.compile(PG_PSEUDONYM_SQL)


class PostgresFullText(DialectFullText):
    dialect = "postgresql"

    def terms(self, question: str, *, every: bool) -> str | None:
        words, pseudonyms = query_terms(question)
        terms = []
        for token in pseudonyms:
            match = _PG_PSEUDONYM.fullmatch(token)
            if match:  # others are not indexed on PostgreSQL (types of four or more parts)
                a, b, c, digest = match.groups()
                terms.append(f"pii0{(a + b + c).lower()}x{digest}")
        # Only letters and digits remain: nothing is tsquery syntax.
        terms += words
        return (" & " if every else " | ").join(terms) or None

    def ranked(self, terms: str, limit: int, conditions: list[ColumnElement[bool]]) -> Select:
        tsv = literal_column(f"chunks.{TSV_COLUMN}")
        tsquery = func.to_tsquery(literal_column("'english'::regconfig"), bindparam("terms", terms))
        score = func.ts_rank_cd(tsv, tsquery, 1)
        return (
            select(Chunk.id, score.label("score"))
            .join(Document, Document.id == Chunk.document_id)
            .where(tsv.op("@@")(tsquery), *conditions)
            .order_by(score.desc(), Chunk.id)
            .limit(limit)
        )

    def scores_sql(self, ids: str) -> TextClause:
        return text(
            f"SELECT id, ts_rank_cd({TSV_COLUMN}, q, 1) "
            f"FROM chunks, to_tsquery('english', :terms) AS q "
            f"WHERE {TSV_COLUMN} @@ q AND id IN ({ids})"
        )

    def matching_sql(self, ids: str) -> TextClause:
        return text(
            f"SELECT id FROM chunks WHERE {TSV_COLUMN} @@ to_tsquery('english', :terms) "
            f"AND id IN ({ids})"
        )
