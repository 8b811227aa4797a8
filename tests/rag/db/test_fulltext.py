"""Full-text search on both databases: kept current by chunk writes, safe queries, pseudonyms."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from rag.db.fulltext import containing_all_terms, fulltext_search, query_terms
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


def _search(factory, question: str, limit: int = 10) -> list[int]:
    with factory() as session:
        return [chunk_id for chunk_id, _ in fulltext_search(session, question, limit)]


def test_finds_an_exact_rare_term_and_ranks_best_first(factory, chunk_ids):
    assert _search(factory, "What is ZK7Q93?") == [chunk_ids[1]]
    with factory() as session:
        results = fulltext_search(session, "paid holiday days", 10)
    assert results[0][0] == chunk_ids[0]  # three words match there, one elsewhere
    assert [score for _, score in results] == sorted((s for _, s in results), reverse=True)


def test_codes_with_punctuation_split_as_questions_do(factory, chunk_ids):
    assert _search(factory, "QX-88") == [chunk_ids[6]]
    assert _search(factory, "version 4.5") == [chunk_ids[6]]
    with factory() as session:
        assert containing_all_terms(session, "firmware QX-88?", chunk_ids) == {chunk_ids[6]}


def test_words_are_stemmed(factory, chunk_ids):
    assert chunk_ids[0] in _search(factory, "holidays for an employee")


def test_pseudonyms_match_exactly(factory, chunk_ids):
    assert _search(factory, "Who is <PERSON_3fa9c2d1>?") == [chunk_ids[3]]
    assert _search(factory, "Who is <PERSON_3fa9c2d2>?") == [chunk_ids[4]]
    # The type word alone does not match the pseudonym, nor does a pseudonym never written.
    assert chunk_ids[3] not in _search(factory, "person")
    assert _search(factory, "<PERSON_00000000>") == []
    # A digest that ends in "ed" is not stemmed into something else.
    assert _search(factory, "mail <EMAIL_ADDRESS_abcdefed>") == [chunk_ids[5]]
    assert _search(factory, "<EMAIL_ADDRESS_abcdef>") == []


def test_64_bit_pseudonyms_match_exactly_beside_older_ones(factory, chunk_ids):
    """A store being re-processed holds 32-bit and 64-bit pseudonyms (ingest/reprocess.py)."""
    assert _search(factory, "Who is <PERSON_3fa9c2d1e07b5a64>?") == [chunk_ids[7]]
    assert _search(factory, "Who is <PERSON_3fa9c2d1>?") == [chunk_ids[3]]
    assert _search(factory, "<PERSON_3fa9c2d1e07b5a65>") == []
    with factory() as session:
        found = containing_all_terms(session, "<PERSON_3fa9c2d1e07b5a64>", chunk_ids)
    assert found == {chunk_ids[7]}


def test_search_syntax_in_the_question_is_only_words(factory, chunk_ids):
    for hostile in [
        'freezer" OR "payroll',
        "freezer* AND NOT payroll",
        "NEAR(freezer code) text:freezer -payroll ^code",
        "freezer) | (payroll & !code <-> 'x'",
        "\"'\\;:",
    ]:
        found = _search(factory, hostile)  # must not raise a syntax error
        assert set(found) <= set(chunk_ids)
    assert _search(factory, "the of and what is") == []  # stopwords only
    assert _search(factory, "") == []


def test_the_chunk_writes_keep_the_fulltext_current(factory, chunk_ids):
    with transaction(factory) as session:
        session.execute(
            update(Chunk)
            .where(Chunk.id == chunk_ids[1])
            .values(text="The freezer code is now QX55.")
        )
        session.execute(delete(Chunk).where(Chunk.id == chunk_ids[2]))
    assert _search(factory, "ZK7Q93") == []
    assert _search(factory, "QX55") == [chunk_ids[1]]
    assert _search(factory, "diem") == []
    with transaction(factory) as session:  # deleting the document cascades to its chunks
        session.execute(delete(Document))
    assert _search(factory, "QX55 holiday payroll") == []


def test_containing_all_terms(factory, chunk_ids):
    with factory() as session:
        assert containing_all_terms(session, "freezer code?", chunk_ids) == {chunk_ids[1]}
        assert containing_all_terms(session, "freezer payroll", chunk_ids) == set()
        assert containing_all_terms(session, "<PERSON_3fa9c2d1>", chunk_ids) == {chunk_ids[3]}
        assert containing_all_terms(session, "freezer code", chunk_ids[:1]) == set()
        assert containing_all_terms(session, "the", chunk_ids) == set()


def test_query_terms():
    words, pseudonyms = query_terms("What's the code of <PERSON_3fa9c2d1>, and ZK-7?")
    assert pseudonyms == ["<PERSON_3fa9c2d1>"]
    assert words == ["code", "zk", "7"]
