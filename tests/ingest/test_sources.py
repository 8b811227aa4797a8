"""Where a source may lie, and registering and removing one, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from ingest.sources import (
    SourceError,
    SourceNotFound,
    add_source,
    find_source,
    remove_source,
    validate_folder,
)
from rag.db.models import Chunk, Document, IndexLog, Job, Source
from rag.db.session import make_engine, make_session_factory, transaction
from rag.jobs import enqueue


@pytest.fixture
def root(tmp_path):
    allowed = tmp_path / "allowed"
    (allowed / "hr" / "policies").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return allowed


def test_a_folder_below_an_allowed_root_is_accepted(root):
    assert validate_folder(root / "hr", [root]) == (root / "hr").resolve()
    assert validate_folder(root, [root]) == root.resolve()


def test_a_folder_outside_every_root_is_refused(root):
    with pytest.raises(SourceError, match="outside the allowed roots"):
        validate_folder(root.parent / "outside", [root])


def test_dot_dot_is_refused_even_when_it_stays_inside(root):
    with pytest.raises(SourceError, match=r"'\.\.' is not allowed"):
        validate_folder(root / "hr" / ".." / "hr", [root])


def test_a_symlink_that_escapes_the_root_is_refused(root):
    link = root / "escape"
    os.symlink(root.parent / "outside", link)
    with pytest.raises(SourceError, match="through a symbolic link"):
        validate_folder(link, [root])


def test_a_symlink_inside_the_root_is_followed(root):
    link = root / "shortcut"
    os.symlink(root / "hr" / "policies", link)
    assert validate_folder(link, [root]) == (root / "hr" / "policies").resolve()


def test_device_files_and_plain_files_are_refused(root):
    with pytest.raises(SourceError, match="device file"):
        validate_folder("/dev/null", ["/"])
    (root / "note.txt").write_text("x")
    with pytest.raises(SourceError, match="not a folder"):
        validate_folder(root / "note.txt", [root])


def test_a_missing_folder_is_named(root):
    with pytest.raises(SourceError, match="folder not found"):
        validate_folder(root / "nope", [root])


def test_no_roots_configured_refuses_everything(root):
    with pytest.raises(SourceError, match=r"\(none configured\)"):
        validate_folder(root, [])


@pytest.fixture
def session_factory(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_register_twice_or_under_a_taken_name_is_an_error(session_factory, root):
    with transaction(session_factory) as session:
        add_source(session, root / "hr", groups=["hr", "hr"])
    with transaction(session_factory) as session:
        assert find_source(session, "hr").groups == ["hr"]
        with pytest.raises(SourceError, match="already registered"):
            add_source(session, root / "hr")
        with pytest.raises(SourceError, match="exists already"):
            add_source(session, root / "hr" / "policies", name="hr")
        with pytest.raises(SourceNotFound):
            find_source(session, "finance")


def test_remove_source_logs_every_chunk_removal_and_cancels_its_jobs(session_factory, root):
    with transaction(session_factory) as session:
        source = add_source(session, root / "hr")
        doc = Document(
            source_id=source.id, path="a.txt", sha256="x", format="txt", status="indexed"
        )
        session.add(doc)
        session.flush()
        chunks = [
            Chunk(document_id=doc.id, ordinal=i, page_start=1, page_end=1, text=f"t{i}",
                  token_count=1, embedding=b"\0" * 8)
            for i in range(3)
        ]  # fmt: skip
        session.add_all(chunks)
        job = enqueue(session, "scan", source_id=source.id)
    with transaction(session_factory) as session:
        assert remove_source(session, find_source(session, "hr")) == 3
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0
        assert session.scalar(select(func.count()).select_from(Document)) == 0
        assert session.scalar(select(func.count()).select_from(Chunk)) == 0
        removed = set(session.scalars(select(IndexLog.chunk_id).where(IndexLog.op == "remove")))
        assert removed == {c.id for c in chunks}
        assert session.get(Job, job.id).cancel_requested
