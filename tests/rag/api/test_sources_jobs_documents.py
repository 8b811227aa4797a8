"""/v1/sources, /v1/jobs and /v1/documents through the app, with the real worker and models,
on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil

import pytest
from fastapi.testclient import TestClient

from rag.api.main import create_app
from rag.db.session import transaction
from rag.keys import create_key
from tests.conftest import EXAMPLES


@pytest.fixture
def root(tmp_path):
    allowed = tmp_path / "shares"
    shutil.copytree(EXAMPLES, allowed / "handbooks")
    (allowed / "hr").mkdir()
    (allowed / "hr" / "salaries.txt").write_text(
        "Salary bands\n\nEngineering band E3 pays between 70,000 and 85,000 euros a year.\n"
    )
    return allowed


@pytest.fixture
def service(make_service, root):
    return make_service(ingest=make_service().settings.ingest.model_copy(
        update={"allowed_roots": [root], "max_file_mb": 5}
    ))  # fmt: skip


@pytest.fixture
def client(service):
    with TestClient(create_app(service.settings, service, run_worker=False)) as client:
        yield client


def _key(service, name, role="reader", groups=()):
    with transaction(service.session_factory) as session:
        secret = create_key(session, name, role, list(groups)).secret
    return {"Authorization": f"Bearer {secret}"}


def _run_jobs(service) -> None:
    import threading

    service.worker().run(threading.Event(), once=True)


def test_admin_registers_scans_pauses_and_removes_a_source(service, client, root):
    admin = _key(service, "admin", "admin")
    created = client.post(
        "/v1/sources", json={"path": str(root / "handbooks"), "groups": ["all"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    source, job = created.json()["source"], created.json()["job"]
    assert source["status"] == "active" and job["status"] == "queued"

    _run_jobs(service)
    job = client.get(f"/v1/jobs/{job['id']}", headers=admin).json()
    assert job["status"] == "succeeded" and job["done"] == job["total"] == 5
    listed = client.get("/v1/sources", headers=admin).json()
    assert listed[0]["documents"] == 5 and listed[0]["chunks"] == job["chunks_written"] > 0
    assert [j["id"] for j in client.get("/v1/jobs", headers=admin).json()] == [job["id"]]

    paused = client.patch(f"/v1/sources/{source['id']}", json={"status": "paused"}, headers=admin)
    assert paused.json()["status"] == "paused"
    refused = client.post(f"/v1/sources/{source['id']}/reindex", headers=admin)
    assert refused.status_code == 409 and "paused" in refused.json()["message"]
    client.patch(f"/v1/sources/{source['id']}", json={"status": "active"}, headers=admin)
    again = client.post(f"/v1/sources/{source['id']}/reindex", headers=admin)
    assert again.status_code == 202
    cancelled = client.post(f"/v1/jobs/{again.json()['id']}/cancel", headers=admin).json()
    assert cancelled["status"] == "cancelled"

    assert client.delete(f"/v1/sources/{source['id']}", headers=admin).status_code == 204
    assert client.get("/v1/sources", headers=admin).json() == []
    assert client.get("/v1/documents", headers=admin).json() == []
    assert client.get("/readyz").json() == {"status": "ready"}  # caught up with the removal
    assert "rag_index_vectors 0.0" in client.get("/metrics", headers=admin).text


def test_bad_source_paths_get_specific_errors(service, client, root, tmp_path):
    admin = _key(service, "admin", "admin")
    os.symlink(tmp_path, root / "escape")
    cases = {
        str(tmp_path): "outside the allowed roots",
        str(root / "escape"): "through a symbolic link",
        str(root / "hr" / ".." / "hr"): "'..' is not allowed",
        "/dev/null": "device file",
        str(root / "missing"): "folder not found",
    }
    for path, message in cases.items():
        response = client.post("/v1/sources", json={"path": path}, headers=admin)
        assert response.status_code == 400 and message in response.json()["message"], path
    assert client.get("/v1/sources", headers=admin).json() == []


def test_readers_see_only_their_documents_and_cannot_administer(service, client, root):
    admin = _key(service, "admin", "admin")
    client.post("/v1/sources", json={"path": str(root / "hr"), "groups": ["hr"]}, headers=admin)
    client.post("/v1/sources", json={"path": str(root / "handbooks")}, headers=admin)
    _run_jobs(service)
    engineer, hr = _key(service, "eng", groups=["eng"]), _key(service, "hr", groups=["hr"])

    seen = {d["path"] for d in client.get("/v1/documents", headers=engineer).json()}
    assert "salaries.txt" not in seen and "employee-handbook.pdf" in seen
    hidden = next(
        d for d in client.get("/v1/documents", headers=hr).json() if d["path"] == "salaries.txt"
    )
    for url in (f"/v1/documents/{hidden['id']}", f"/v1/documents/{hidden['id']}/file"):
        response = client.get(url, headers=engineer)
        assert response.status_code == 404 and "salar" not in response.text.lower()
    assert client.get(f"/v1/documents/{hidden['id']}/file", headers=hr).text.startswith("Salary")
    for method, url in (("get", "/v1/sources"), ("get", "/v1/jobs"), ("post", "/v1/documents")):
        assert client.request(method, url, headers=engineer).status_code == 403
    assert client.get("/v1/jobs").status_code == 401


def test_an_upload_is_indexed_by_the_worker_and_can_be_deleted(service, client):
    admin = _key(service, "admin", "admin")
    reader = _key(service, "reader", groups=["finance"])
    body = b"Travel policy\n\nTaxis are reimbursed up to 60 euros per trip.\n"
    response = client.post(
        "/v1/documents",
        files={"file": ("travel.txt", body, "text/plain")},
        data={"groups": "finance"},
        headers=admin,
    )
    assert response.status_code == 202, response.text
    document = response.json()["document"]
    assert document["status"] == "queued" and document["groups"] == ["finance"]

    _run_jobs(service)
    indexed = client.get(f"/v1/documents/{document['id']}", headers=reader).json()
    assert indexed["status"] == "indexed" and indexed["chunk_count"] >= 1
    assert indexed["groups"] == ["finance"] and indexed["title"]
    assert client.get(f"/v1/documents/{document['id']}/file", headers=reader).content == body

    assert client.delete(f"/v1/documents/{document['id']}", headers=admin).status_code == 204
    assert client.get(f"/v1/documents/{document['id']}", headers=reader).status_code == 404
    assert not list(service.settings.upload_dir.rglob("travel.txt"))


def test_bad_uploads_are_refused_with_the_reason(service, client, root):
    admin = _key(service, "admin", "admin")
    wrong = client.post(
        "/v1/documents", files={"file": ("tool.exe", b"MZ", "application/x-msdownload")},
        headers=admin,
    )  # fmt: skip
    assert wrong.status_code == 400 and "unsupported file type '.exe'" in wrong.json()["message"]
    big = client.post(
        "/v1/documents",
        files={"file": ("big.txt", b"x" * (6 * 1024 * 1024), "text/plain")},
        headers=admin,
    )
    assert big.status_code == 413 and "MB upload limit" in big.json()["message"]
    assert not list(service.settings.upload_dir.rglob("big.txt"))

    client.post("/v1/sources", json={"path": str(root / "hr")}, headers=admin)
    _run_jobs(service)
    folder_doc = client.get("/v1/documents", headers=admin).json()[0]
    refused = client.delete(f"/v1/documents/{folder_doc['id']}", headers=admin)
    assert refused.status_code == 409 and "remove the file there" in refused.json()["message"]
