"""Full-text search over chunks(text): the only module with dialect-specific search SQL.

SQLite: `chunks_fts`, an FTS5 external-content table over chunks(text), kept current by
triggers, ranked by BM25. PostgreSQL: `chunks.text_tsv`, a generated tsvector column with a
GIN index, ranked by ts_rank_cd. Both are made by migration 0002 and maintained by the very
writes that change the chunks, so the full-text side can never lag behind SQL.

Queries are built here from the user's words, never passed through: words are reduced to
letters and digits, stopwords dropped, and the rest OR-ed so the ranking function weighs them.
No FTS operator or quote from the question can reach the search syntax.

Pseudonyms such as <PERSON_3fa9c2d1e07b5a64> (8 hex digits in stores built before 64-bit
pseudonyms) must match exactly:
* SQLite's tokenizer keeps `<`, `>` and `_` inside tokens, so a pseudonym is one token
  (`<person_3fa9c2d1>`); the Porter stemmer leaves it alone because it ends in `>`.
* PostgreSQL's parser would read a pseudonym as an XML tag and drop it, so the generated
  column first rewrites it to one word with a digit in it (`pii0personx3fa9c2d1`), which the
  `english` configuration indexes as is (the `simple` dictionary: lower case, no stemming).
  All other punctuation becomes a space there, so codes like FRZ-4471 split as in questions.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from rag.access import Caller, document_visible
from rag.db.models import Chunk, Document

FTS_TABLE = "chunks_fts"
TSV_COLUMN = "text_tsv"
TSV_INDEX = "ix_chunks_text_tsv"
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2 tokenchars '<>_'"

# PostgreSQL: a pseudonym (a type of up to three parts) as one unstemmed word.
PG_PSEUDONYM_SQL = r"<([A-Z]+)_?([A-Z]*)_?([A-Z]*)_([0-9a-f]{8,64})>"
PG_PSEUDONYM_REPLACEMENT = r"pii0\1\2\3x\4"
# Then every run of other characters becomes a space, as the questions are split: PostgreSQL's
# parser would otherwise keep "-4471", "4.5" or "a/b.txt" as single lexemes no word matches.
PG_TSV_EXPRESSION = (
    "to_tsvector('english'::regconfig, regexp_replace("
    f"regexp_replace(text, '{PG_PSEUDONYM_SQL}', '{PG_PSEUDONYM_REPLACEMENT}', 'g'), "
    "'[^[:alnum:]]+', ' ', 'g'))"
)

PSEUDONYM = re.compile(r"<([A-Z][A-Z_]*)_([0-9a-f]{8,64})>")
_PG_PSEUDONYM = re.compile(r"<([A-Z]+)_?([A-Z]*)_?([A-Z]*)_([0-9a-f]{8,64})>")
_WORD = re.compile(r"[^\W_]+")

# Common English function words and question words: they carry no topic, and ORing them would
# let any chunk with "the" match. Kept small and general; the stemmers do the rest.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t d ll m re ve""".split()  # noqa: SIM905
)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the full-text objects are made by migration 0002, not by the models, so
    schema comparisons (autogenerate, the migration test) leave them out."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False  # the FTS5 table and its shadow tables
    return not (name in (TSV_COLUMN, TSV_INDEX) and reflected and compare_to is None)


def query_terms(question: str) -> tuple[list[str], list[str]]:
    """(words, pseudonyms) of a question: lower-cased content words, then pseudonym tokens."""
    pseudonyms = list(dict.fromkeys(m.group(0) for m in PSEUDONYM.finditer(question)))
    rest = PSEUDONYM.sub(" ", question)
    words = [w.lower() for w in _WORD.findall(rest)]
    words = [w for w in dict.fromkeys(words) if w not in STOPWORDS]
    return words, pseudonyms


def _sqlite_match(question: str, operator: str) -> str | None:
    words, pseudonyms = query_terms(question)
    # Every term is a quoted string: FTS5 reads nothing inside quotes as syntax.
    terms = [f'"{t.lower()}"' for t in pseudonyms] + [f'"{w}"' for w in words]
    return f" {operator} ".join(terms) or None


def _pg_tsquery(question: str, operator: str) -> str | None:
    words, pseudonyms = query_terms(question)
    terms = []
    for token in pseudonyms:
        match = _PG_PSEUDONYM.fullmatch(token)
        if match:  # others are not indexed on PostgreSQL (types of four or more parts)
            a, b, c, digest = match.groups()
            terms.append(f"pii0{(a + b + c).lower()}x{digest}")
    # Only letters and digits remain: nothing is tsquery syntax.
    terms += words
    return f" {operator} ".join(terms) or None


def fulltext_search(
    session: Session, question: str, limit: int, caller: Caller | None = None
) -> list[tuple[int, float]]:
    """(chunk id, score) best first; a higher score is a better match on either dialect.

    Only chunks of indexed documents `caller` may see compete (None: every indexed document):
    the join to documents is inside the ranked query, so the limit counts visible chunks only.
    """
    dialect = session.get_bind().dialect.name
    visible = (Document.status == "indexed", document_visible(caller))
    if dialect == "sqlite":
        match = _sqlite_match(question, "OR")
        if match is None:
            return []
        fts = table(FTS_TABLE, column("rowid"))
        rank = func.bm25(literal_column(FTS_TABLE))
        query = (
            select(fts.c.rowid, (-rank).label("score"))
            .select_from(
                fts.join(Chunk, Chunk.id == fts.c.rowid).join(
                    Document, Document.id == Chunk.document_id
                )
            )
            .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("match", match)), *visible)
            .order_by(rank)
            .limit(limit)
        )
    elif dialect == "postgresql":
        tsquery_text = _pg_tsquery(question, "|")
        if tsquery_text is None:
            return []
        tsv = literal_column(f"chunks.{TSV_COLUMN}")
        tsquery = func.to_tsquery(
            literal_column("'english'::regconfig"), bindparam("query", tsquery_text)
        )
        score = func.ts_rank_cd(tsv, tsquery, 1)
        query = (
            select(Chunk.id, score.label("score"))
            .join(Document, Document.id == Chunk.document_id)
            .where(tsv.op("@@")(tsquery), *visible)
            .order_by(score.desc(), Chunk.id)
            .limit(limit)
        )
    else:
        raise NotImplementedError(f"full-text search is not available on {dialect}")
    return [(int(chunk_id), float(score)) for chunk_id, score in session.execute(query)]


def fulltext_scores(session: Session, question: str, chunk_ids: list[int]) -> dict[int, float]:
    """The score `fulltext_search` gives each of chunk_ids (the same ranking function, the
    same corpus statistics); a chunk matching no word of the question scores 0, the lowest.
    Score-aware fusion needs both legs' scores for the candidates only one leg proposed."""
    scores = dict.fromkeys((int(i) for i in chunk_ids), 0.0)
    if not scores:
        return scores
    ids = ",".join(str(i) for i in scores)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = _sqlite_match(question, "OR")
        if match is None:
            return scores
        rows = session.execute(
            text(
                f"SELECT rowid, -bm25({FTS_TABLE}) FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH :match AND rowid IN ({ids})"
            ),
            {"match": match},
        )
    elif dialect == "postgresql":
        query = _pg_tsquery(question, "|")
        if query is None:
            return scores
        rows = session.execute(
            text(
                f"SELECT id, ts_rank_cd({TSV_COLUMN}, q, 1) "
                f"FROM chunks, to_tsquery('english', :query) AS q "
                f"WHERE {TSV_COLUMN} @@ q AND id IN ({ids})"
            ),
            {"query": query},
        )
    else:
        raise NotImplementedError(f"full-text search is not available on {dialect}")
    scores.update({int(chunk_id): float(score) for chunk_id, score in rows})
    return scores


def containing_all_terms(session: Session, question: str, chunk_ids: list[int]) -> set[int]:
    """Those of chunk_ids whose text has every content word and pseudonym of the question."""
    if not chunk_ids:
        return set()
    ids = ",".join(str(int(i)) for i in chunk_ids)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = _sqlite_match(question, "AND")
        if match is None:
            return set()
        rows = session.execute(
            text(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match AND rowid IN ({ids})"
            ),
            {"match": match},
        )
    elif dialect == "postgresql":
        query = _pg_tsquery(question, "&")
        if query is None:
            return set()
        rows = session.execute(
            text(
                f"SELECT id FROM chunks WHERE {TSV_COLUMN} @@ to_tsquery('english', :query) "
                f"AND id IN ({ids})"
            ),
            {"query": query},
        )
    else:
        raise NotImplementedError(f"full-text search is not available on {dialect}")
    return {int(row[0]) for row in rows}
