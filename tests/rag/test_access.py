"""The access rule in SQL, on SQLite and PostgreSQL: open documents, shared groups, admins,
and values that are not arrays (fail closed)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from rag.access import SYSTEM, Caller, document_visible, visible_chunk_ids
from rag.db.models import Chunk, Document, Source
from rag.db.session import make_engine, make_session_factory, transaction

# path -> groups
DOCUMENTS = {
    "open.txt": [],
    "hr.txt": ["hr"],
    "eng.txt": ["eng"],
    "eng-and-all.txt": ["eng", "all"],
    # Group names are data, never SQL: quotes and JSON-ish text must match only themselves.
    "quote.txt": ["o'brien team"],
    "bracket.txt": ['"]'],
}


@pytest.fixture
def factory(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def ids(factory) -> dict[str, int]:
    """Document ids by path; every document indexed with one chunk, but queued.txt."""
    with transaction(factory) as session:
        source = Source(name="s", path="/s", groups=[], status="active")
        session.add(source)
        session.flush()
        docs = {
            path: Document(
                source_id=source.id,
                path=path,
                sha256="",
                format="txt",
                status="indexed",
                groups=groups,
            )
            for path, groups in DOCUMENTS.items()
        }
        docs["queued.txt"] = Document(
            source_id=source.id, path="queued.txt", sha256="", format="txt", status="queued"
        )
        session.add_all(docs.values())
        session.flush()
        for doc in docs.values():
            session.add(
                Chunk(
                    document_id=doc.id,
                    ordinal=0,
                    page_start=1,
                    page_end=1,
                    text=doc.path,
                    token_count=1,
                    embedding=b"\0" * 4,
                )
            )
        return {path: doc.id for path, doc in docs.items()}


def _visible_paths(factory, caller: Caller) -> set[str]:
    with factory() as session:
        query = select(Document.path).where(document_visible(caller), Document.path != "queued.txt")
        return set(session.scalars(query))


def test_a_reader_sees_open_documents_and_its_groups_only(factory, ids):
    assert _visible_paths(factory, Caller("nobody")) == {"open.txt"}
    assert _visible_paths(factory, Caller("hr", groups=frozenset({"hr"}))) == {
        "open.txt",
        "hr.txt",
    }
    eng = Caller("eng", groups=frozenset({"eng", "sales"}))
    assert _visible_paths(factory, eng) == {"open.txt", "eng.txt", "eng-and-all.txt"}
    assert _visible_paths(factory, Caller("all", groups=frozenset({"all"}))) == {
        "open.txt",
        "eng-and-all.txt",
    }


def test_group_names_are_bound_values_not_sql(factory, ids):
    quoted = Caller("q", groups=frozenset({"o'brien team"}))
    assert _visible_paths(factory, quoted) == {"open.txt", "quote.txt"}
    assert _visible_paths(factory, Caller("b", groups=frozenset({'"]'}))) == {
        "open.txt",
        "bracket.txt",
    }
    # A prefix or a case variant of a group is another group.
    assert _visible_paths(factory, Caller("x", groups=frozenset({"HR", "en"}))) == {"open.txt"}


def test_admins_and_the_system_see_everything(factory, ids):
    admin = Caller("root", role="admin")
    every = set(DOCUMENTS)
    assert _visible_paths(factory, admin) == every
    assert _visible_paths(factory, SYSTEM) == every
    with factory() as session:
        assert visible_chunk_ids(session, admin) is None
        assert visible_chunk_ids(session, SYSTEM) is None
        assert visible_chunk_ids(session, None) is None


def test_visible_ids_of_searchable_chunks(factory, ids):
    hr = Caller("hr", groups=frozenset({"hr"}))
    with factory() as session:
        chunk_docs = session.execute(select(Chunk.id, Chunk.document_id)).all()
        allowed = visible_chunk_ids(session, hr)
    by_doc = {doc_id: chunk_id for chunk_id, doc_id in chunk_docs}
    # Only chunks of indexed documents are searchable: queued.txt is open but not indexed.
    assert sorted(allowed.tolist()) == sorted([by_doc[ids["open.txt"]], by_doc[ids["hr.txt"]]])


def test_a_groups_value_that_is_not_an_array_is_hidden_from_readers(factory, ids):
    # A bad write (a string, an object or JSON null instead of an array) must not open the
    # document to everyone, nor break the query for the other documents.
    with transaction(factory) as session:
        dialect = session.get_bind().dialect.name
        value_sql = "CAST(:v AS json)" if dialect == "postgresql" else ":v"
        for path, value in (("hr.txt", '"hr"'), ("eng.txt", '{"g": "eng"}'), ("open.txt", "null")):
            session.execute(
                text(f"UPDATE documents SET groups = {value_sql} WHERE path = :p"),
                {"v": value, "p": path},
            )
    assert _visible_paths(factory, Caller("hr", groups=frozenset({"hr", "eng"}))) == {
        "eng-and-all.txt"
    }
    assert _visible_paths(factory, Caller("nobody")) == set()
    assert "hr.txt" in _visible_paths(factory, Caller("root", role="admin"))
