"""Files of a source are read only from inside its folder: links that lead out are refused at
the scan, and a link swapped in after the scan is refused when the file is opened. Real
database (SQLite and PostgreSQL), real models."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

import ingest.pipeline as pipeline_module
from ingest.contained import OUTSIDE_ROOT, OutsideRoot, read_inside, sha256_inside
from rag.db.models import Chunk, Document

SECRET = "The vault code is ORANGEWALRUS and the board meets on Fridays."
HANDBOOK = "Employee handbook\n\nOffice hours are nine to five. Lunch is served at noon.\n"


@pytest.fixture
def layout(tmp_path):
    """A source folder, and a file beside it (another source's, a key, anything) it must not
    reach."""
    source = tmp_path / "public"
    source.mkdir()
    (source / "handbook.txt").write_text(HANDBOOK)
    private = tmp_path / "private"
    private.mkdir()
    (private / "vault.txt").write_text(f"Vault notes\n\n{SECRET}\n")
    return source, private / "vault.txt"


def _texts(service) -> str:
    with service.session_factory() as session:
        return "\n".join(session.scalars(select(Chunk.text)))


def _documents(service) -> dict[str, Document]:
    with service.session_factory() as session:
        return {doc.path: doc for doc in session.scalars(select(Document))}


def test_a_link_to_a_file_outside_the_folder_is_refused_with_a_reason(make_service, layout):
    source, outside = layout
    (source / "notes.txt").symlink_to(outside)
    (source / "alias.txt").symlink_to(source / "handbook.txt")  # inside: an ordinary file
    service = make_service()

    report = service.pipeline.ingest_folder(source, ["public"])

    docs = _documents(service)
    assert docs["notes.txt"].status == "failed" and docs["notes.txt"].error == OUTSIDE_ROOT
    assert docs["notes.txt"].chunk_count == 0 and docs["notes.txt"].sha256 == ""
    assert docs["alias.txt"].status == "indexed"
    assert [f.reason for f in report.failed] == [OUTSIDE_ROOT]
    assert "ORANGEWALRUS" not in _texts(service)


def test_a_link_swapped_in_after_the_scan_is_refused_when_opened(make_service, layout, monkeypatch):
    source, outside = layout
    swapped = source / "agenda.txt"
    swapped.write_text("Agenda\n\nThe team meets on Mondays to plan the week.\n")
    real_walk = pipeline_module.walk

    def walk_then_swap(root):
        entries = real_walk(root)
        swapped.unlink()
        swapped.symlink_to(outside)  # the scan saw a plain file; the read finds a link
        return entries

    monkeypatch.setattr(pipeline_module, "walk", walk_then_swap)
    service = make_service()
    service.pipeline.ingest_folder(source, ["public"])

    doc = _documents(service)["agenda.txt"]
    assert doc.status == "failed" and doc.error == OUTSIDE_ROOT
    assert "ORANGEWALRUS" not in _texts(service)


def test_a_moved_file_is_not_matched_by_hashing_a_file_outside(make_service, layout):
    """Move detection hashes new files; a link leading out is not hashed (nor adopted)."""
    source, outside = layout
    service = make_service()
    (source / "vault-copy.txt").write_text(outside.read_text())
    service.pipeline.ingest_folder(source, ["public"])
    (source / "vault-copy.txt").unlink()
    (source / "moved.txt").symlink_to(outside)  # same content, as a link leading out

    report = service.pipeline.ingest_folder(source)

    assert report.moved == 0
    assert _documents(service)["moved.txt"].error == OUTSIDE_ROOT


def test_read_inside_checks_the_opened_file(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_bytes(b"inside")
    (tmp_path / "out.txt").write_bytes(b"outside")
    (root / "in-link.txt").symlink_to(root / "a.txt")
    (root / "out-link.txt").symlink_to(tmp_path / "out.txt")
    (root / "dir-link").symlink_to(tmp_path)

    assert read_inside(root, root / "in-link.txt").data == b"inside"
    for path in (root / "out-link.txt", root / "dir-link" / "out.txt"):
        with pytest.raises(OutsideRoot) as raised:
            read_inside(root, path)
        assert str(raised.value) == OUTSIDE_ROOT  # names no file
        with pytest.raises(OutsideRoot):
            sha256_inside(root, path)


def test_a_fifo_in_place_of_a_file_does_not_hang(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    os.mkfifo(root / "pipe.txt")
    with pytest.raises(OSError, match="not a regular file"):
        read_inside(root, root / "pipe.txt")
