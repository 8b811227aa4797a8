"""Uploads and scans of the uploads folder running at the same time: an upload is never visible
with groups other than its own, and never fails because of a scan. Real database (SQLite and
PostgreSQL), real worker and models."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import rag.use_cases.documents as documents_module
from rag.api.main import create_app
from rag.db.models import Document, Source
from rag.db.session import transaction
from rag.keys import create_key

BODY = b"Travel policy\n\nTaxis are reimbursed up to 60 euros per trip, code PURPLEHERON.\n"


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def client(service):
    with TestClient(create_app(service.settings, service, run_worker=False)) as client:
        yield client


def _key(service, name, role="reader", groups=()):
    with transaction(service.session_factory) as session:
        secret = create_key(session, name, role, list(groups)).secret
    return {"Authorization": f"Bearer {secret}"}


def _run_jobs(service) -> None:
    service.worker().run(threading.Event(), once=True)


def _upload(client, headers, name, body=BODY, groups="finance"):
    return client.post(
        "/v1/documents", files={"file": (name, body, "text/plain")}, data={"groups": groups},
        headers=headers,
    )  # fmt: skip


def _upload_source_id(service) -> int:
    with service.session_factory() as session:
        return session.scalar(select(Source.id).where(Source.managed.is_(True)))


def test_a_scan_between_writing_and_committing_an_upload_sees_nothing(service, client, monkeypatch):
    admin = _key(service, "admin", "admin")
    lobby = _key(service, "lobby")  # no groups: sees documents without groups
    finance = _key(service, "finance", groups=["finance"])
    assert _upload(client, admin, "first.txt").status_code == 202  # makes the uploads source
    _run_jobs(service)
    source_id = _upload_source_id(service)

    real_save = documents_module._save
    seen_by_lobby: list[list[str]] = []

    def save_then_scan(upload, target, limit_bytes):
        real_save(upload, target, limit_bytes)
        # The worker scans the uploads folder right now, with the file written, no row yet.
        service.pipeline.ingest_source(source_id)
        seen_by_lobby.append([d["path"] for d in client.get("/v1/documents", headers=lobby).json()])

    monkeypatch.setattr(documents_module, "_save", save_then_scan)
    response = _upload(client, admin, "travel.txt")

    assert response.status_code == 202, response.text
    assert seen_by_lobby == [[]]
    document = response.json()["document"]
    assert document["groups"] == ["finance"]
    _run_jobs(service)
    assert client.get(f"/v1/documents/{document['id']}", headers=finance).json()["status"] == (
        "indexed"
    )
    assert client.get(f"/v1/documents/{document['id']}", headers=lobby).status_code == 404
    with service.session_factory() as session:
        rows = session.scalars(select(Document).where(Document.path.like("%travel.txt"))).all()
    assert [(row.groups, row.status) for row in rows] == [(["finance"], "indexed")]


def test_a_file_put_into_the_uploads_folder_by_hand_is_not_indexed(service, client):
    admin = _key(service, "admin", "admin")
    lobby = _key(service, "lobby")
    assert _upload(client, admin, "first.txt").status_code == 202
    _run_jobs(service)
    (service.settings.upload_dir / "dropped.txt").write_bytes(BODY)

    service.pipeline.ingest_source(_upload_source_id(service))

    assert [d["path"] for d in client.get("/v1/documents", headers=lobby).json()] == []
    with service.session_factory() as session:
        paths = session.scalars(select(Document.path)).all()
    assert "dropped.txt" not in paths


def test_deleting_an_upload_never_removes_the_uploads_folder(service, client):
    """A document at the top of the uploads folder (an older layout, or a row made by hand)
    takes only its own file with it."""
    admin = _key(service, "admin", "admin")
    kept = _upload(client, admin, "kept.txt").json()["document"]
    _run_jobs(service)
    upload_dir = service.settings.upload_dir
    (upload_dir / "top.txt").write_bytes(BODY)
    with transaction(service.session_factory) as session:
        doc = Document(
            source_id=_upload_source_id(service), path="top.txt", sha256="", format="txt",
            title="top", status="queued", groups=[],
            path_hash=service.path_vault.digest("top.txt"),
            path_encrypted=service.path_vault.seal("top.txt"),
        )  # fmt: skip
        session.add(doc)
        session.flush()
        top_id = doc.id

    assert client.delete(f"/v1/documents/{top_id}", headers=admin).status_code == 204

    assert upload_dir.is_dir() and not (upload_dir / "top.txt").exists()
    assert (upload_dir / _raw_path(service, kept["id"])).read_bytes() == BODY
    assert client.get(f"/v1/documents/{kept['id']}/file", headers=admin).content == BODY


def test_uploaded_files_are_owner_only(service, client):
    admin = _key(service, "admin", "admin")
    document = _upload(client, admin, "private.txt").json()["document"]
    uploaded = service.settings.upload_dir / _raw_path(service, document["id"])
    assert oct(uploaded.stat().st_mode & 0o777) == oct(0o600)
    assert oct(uploaded.parent.stat().st_mode & 0o777) == oct(0o700)
    assert oct(service.settings.upload_dir.stat().st_mode & 0o777) == oct(0o700)


def _raw_path(service, document_id: int) -> str:
    """Where the upload lies: the path readers see is anonymized (a random folder name can
    look like anything to a recognizer), the real one is kept sealed."""
    with service.session_factory() as session:
        return service.path_vault.open(session.get(Document, document_id).path_encrypted)
