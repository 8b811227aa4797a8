"""Full-text search: one contract both dialects keep (kept current by chunk writes, safe
queries, pseudonyms, the access filter inside the ranked query); each dialect's class runs it
on its own database."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from rag.db.fulltext import (
    FullTextSearch,
    PostgresFullText,
    SqliteFullText,
    containing_all_terms,
    fulltext_for,
    fulltext_search,
    query_terms,
)
from rag.db.models import Chunk, Document, Source
from rag.db.session import make_engine, make_session_factory, transaction

TEXTS = [
    "Annual leave: employees get 28 days of paid holiday per year.",
    "The reset code for the basement freezer is ZK7Q93; ask facilities.",
    "Expense claims for meals are reimbursed up to the daily per diem.",
    "Contact <PERSON_3fa9c2d1> about payroll questions.",
    "Contact <PERSON_3fa9c2d2> about the person in charge of parking.",
    "Write to <EMAIL_ADDRESS_abcdefed> for the running holiday calendar.",
    "Badge readers run firmware QX-88 (version 4.5).",
    "Archive boxes are signed out by <PERSON_3fa9c2d1e07b5a64>.",
]


@pytest.fixture
def factory(database_url):
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    yield factory
    engine.dispose()


@pytest.fixture
def chunk_ids(factory) -> list[int]:
    with transaction(factory) as session:
        source = Source(name="s", path="/s", groups=[], status="active")
        session.add(source)
        session.flush()
        doc = Document(source_id=source.id, path="a.txt", sha256="", format="txt", status="indexed")
        session.add(doc)
        session.flush()
        chunks = [
            Chunk(
                document_id=doc.id,
                ordinal=n,
                page_start=1,
                page_end=1,
                text=text,
                token_count=10,
                embedding=b"\0" * 4,
            )
            for n, text in enumerate(TEXTS)
        ]
        session.add_all(chunks)
        session.flush()
        return [chunk.id for chunk in chunks]


class FullTextContract:
    """What every dialect's full-text search keeps; a dialect's class inherits it, names its
    `fulltext` and runs on its own database."""

    fulltext: FullTextSearch

    def test_the_session_picks_this_dialect(self, factory):
        with factory() as session:
            assert fulltext_for(session) is not None
            assert type(fulltext_for(session)) is type(self.fulltext)
            assert self.fulltext.dialect == session.get_bind().dialect.name

    def test_the_access_filter_applies_inside_the_ranked_query(self, factory, chunk_ids):
        """The filter is a condition on documents that the caller passes in; the limit counts
        only the chunks it lets through."""
        with transaction(factory) as session:
            first = session.get(Document, session.get(Chunk, chunk_ids[0]).document_id)
            other = Document(
                source_id=first.source_id, path="b.txt", sha256="", format="txt", status="indexed"
            )
            session.add(other)
            session.flush()
            session.add(
                Chunk(
                    document_id=other.id,
                    ordinal=0,
                    page_start=1,
                    page_end=1,
                    text="Paid holiday.",
                    token_count=3,
                    embedding=b"\0" * 4,
                )
            )
            other_chunk = session.scalar(select(Chunk.id).where(Chunk.document_id == other.id))
            first_id, other_id = first.id, other.id
        question = "paid holiday days"  # best in the first document: TEXTS[0]
        with factory() as session:
            both = self.fulltext.search(session, question, 10)
            mine = self.fulltext.search(session, question, 1, Document.id == first_id)
            others = self.fulltext.search(session, question, 1, Document.id == other_id)
            none = self.fulltext.search(session, question, 10, Document.id < 0)
        assert {chunk_ids[0], other_chunk} <= {c for c, _ in both}
        assert [c for c, _ in mine] == [chunk_ids[0]]
        assert [c for c, _ in others] == [other_chunk]
        assert none == []

    def _search(self, factory, question: str, limit: int = 10) -> list[int]:
        with factory() as session:
            return [chunk_id for chunk_id, _ in self.fulltext.search(session, question, limit)]

    def test_finds_an_exact_rare_term_and_ranks_best_first(self, factory, chunk_ids):
        assert self._search(factory, "What is ZK7Q93?") == [chunk_ids[1]]
        with factory() as session:
            results = self.fulltext.search(session, "paid holiday days", 10)
        assert results[0][0] == chunk_ids[0]  # three words match there, one elsewhere
        assert [score for _, score in results] == sorted((s for _, s in results), reverse=True)

    def test_codes_with_punctuation_split_as_questions_do(self, factory, chunk_ids):
        assert self._search(factory, "QX-88") == [chunk_ids[6]]
        assert self._search(factory, "version 4.5") == [chunk_ids[6]]
        with factory() as session:
            assert self.fulltext.containing_all_terms(session, "firmware QX-88?", chunk_ids) == {
                chunk_ids[6]
            }

    def test_words_are_stemmed(self, factory, chunk_ids):
        assert chunk_ids[0] in self._search(factory, "holidays for an employee")

    def test_pseudonyms_match_exactly(self, factory, chunk_ids):
        assert self._search(factory, "Who is <PERSON_3fa9c2d1>?") == [chunk_ids[3]]
        assert self._search(factory, "Who is <PERSON_3fa9c2d2>?") == [chunk_ids[4]]
        # The type word alone does not match the pseudonym, nor does a pseudonym never written.
        assert chunk_ids[3] not in self._search(factory, "person")
        assert self._search(factory, "<PERSON_00000000>") == []
        # A digest that ends in "ed" is not stemmed into something else.
        assert self._search(factory, "mail <EMAIL_ADDRESS_abcdefed>") == [chunk_ids[5]]
        assert self._search(factory, "<EMAIL_ADDRESS_abcdef>") == []

    def test_64_bit_pseudonyms_match_exactly_beside_older_ones(self, factory, chunk_ids):
        """A store being re-processed holds 32-bit and 64-bit pseudonyms (ingest/reprocess.py)."""
        assert self._search(factory, "Who is <PERSON_3fa9c2d1e07b5a64>?") == [chunk_ids[7]]
        assert self._search(factory, "Who is <PERSON_3fa9c2d1>?") == [chunk_ids[3]]
        assert self._search(factory, "<PERSON_3fa9c2d1e07b5a65>") == []
        with factory() as session:
            found = self.fulltext.containing_all_terms(
                session, "<PERSON_3fa9c2d1e07b5a64>", chunk_ids
            )
        assert found == {chunk_ids[7]}

    def test_search_syntax_in_the_question_is_only_words(self, factory, chunk_ids):
        for hostile in [
            'freezer" OR "payroll',
            "freezer* AND NOT payroll",
            "NEAR(freezer code) text:freezer -payroll ^code",
            "freezer) | (payroll & !code <-> 'x'",
            "\"'\\;:",
        ]:
            found = self._search(factory, hostile)  # must not raise a syntax error
            assert set(found) <= set(chunk_ids)
        assert self._search(factory, "the of and what is") == []  # stopwords only
        assert self._search(factory, "") == []

    def test_the_chunk_writes_keep_the_fulltext_current(self, factory, chunk_ids):
        with transaction(factory) as session:
            session.execute(
                update(Chunk)
                .where(Chunk.id == chunk_ids[1])
                .values(text="The freezer code is now QX55.")
            )
            session.execute(delete(Chunk).where(Chunk.id == chunk_ids[2]))
        assert self._search(factory, "ZK7Q93") == []
        assert self._search(factory, "QX55") == [chunk_ids[1]]
        assert self._search(factory, "diem") == []
        with transaction(factory) as session:  # deleting the document cascades to its chunks
            session.execute(delete(Document))
        assert self._search(factory, "QX55 holiday payroll") == []

    def test_containing_all_terms(self, factory, chunk_ids):
        with factory() as session:
            assert self.fulltext.containing_all_terms(session, "freezer code?", chunk_ids) == {
                chunk_ids[1]
            }
            assert (
                self.fulltext.containing_all_terms(session, "freezer payroll", chunk_ids) == set()
            )
            assert self.fulltext.containing_all_terms(session, "<PERSON_3fa9c2d1>", chunk_ids) == {
                chunk_ids[3]
            }
            assert (
                self.fulltext.containing_all_terms(session, "freezer code", chunk_ids[:1]) == set()
            )
            assert self.fulltext.containing_all_terms(session, "the", chunk_ids) == set()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestSqliteFullText(FullTextContract):
    fulltext = SqliteFullText()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
class TestPostgresFullText(FullTextContract):
    fulltext = PostgresFullText()


def test_the_module_functions_use_the_session_dialect(factory, chunk_ids):
    with factory() as session:
        assert [c for c, _ in fulltext_search(session, "ZK7Q93", 10)] == [chunk_ids[1]]
        assert containing_all_terms(session, "freezer code", chunk_ids) == {chunk_ids[1]}


def test_query_terms():
    words, pseudonyms = query_terms("What's the code of <PERSON_3fa9c2d1>, and ZK-7?")
    assert pseudonyms == ["<PERSON_3fa9c2d1>"]
    assert words == ["code", "zk", "7"]
