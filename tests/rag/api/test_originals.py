"""Original files: never active content in the service's origin, who may download them
(`api.originals`), and the short-lived file links the chat page opens. Real database (SQLite
and PostgreSQL), real models."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rag.api.main import create_app
from rag.api.originals import TicketSigner
from rag.db.models import Document
from rag.db.session import transaction
from rag.keys import create_key
from tests.conftest import EXAMPLES

ACTIVE_HTML = "<html><body><h1>Travel</h1><p>Book trains.</p><script>steal()</script></body></html>"
WEB_DIR = Path(__file__).resolve().parents[3] / "rag" / "web"


@pytest.fixture
def service(make_service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "travel.html").write_text(ACTIVE_HTML)
    (folder / "notes.txt").write_text("Notes\n\nThe printer is on the second floor.\n")
    shutil.copy(EXAMPLES / "employee-handbook.pdf", folder)
    shutil.copy(EXAMPLES / "it-security-policy.docx", folder)
    secret = tmp_path / "hr"
    secret.mkdir()
    (secret / "salaries.txt").write_text("Salaries\n\nBand E3 pays 80,000 euros.\n")
    service = make_service()
    assert service.pipeline.ingest_folder(folder).indexed == 4
    assert service.pipeline.ingest_folder(secret, ["hr"]).indexed == 1
    return service


def _ids(service) -> dict[str, int]:
    with service.session_factory() as session:
        return {doc.path: doc.id for doc in session.scalars(select(Document))}


def _key(service, name, role="reader", groups=()) -> dict[str, str]:
    with transaction(service.session_factory) as session:
        secret = create_key(session, name, role, list(groups)).secret
    return {"Authorization": f"Bearer {secret}"}


def _client(service, **api) -> TestClient:
    if api:
        settings = service.settings.model_copy(
            update={"api": service.settings.api.model_copy(update=api)}
        )
        service.settings = settings
    return TestClient(create_app(service.settings, service, run_worker=False))


def test_active_content_is_downloaded_never_rendered_in_our_origin(service):
    ids, reader = _ids(service), _key(service, "reader")
    with _client(service) as client:
        html = client.get(f"/v1/documents/{ids['travel.html']}/file", headers=reader)
        docx = client.get(f"/v1/documents/{ids['it-security-policy.docx']}/file", headers=reader)
        pdf = client.get(f"/v1/documents/{ids['employee-handbook.pdf']}/file", headers=reader)
        text = client.get(f"/v1/documents/{ids['notes.txt']}/file", headers=reader)

    for active in (html, docx):
        assert active.status_code == 200 and active.content
        assert active.headers["content-disposition"].startswith("attachment")
        assert active.headers["x-content-type-options"] == "nosniff"
        assert active.headers["content-security-policy"] == "sandbox"
        assert "html" not in active.headers["content-type"]
    assert html.content == ACTIVE_HTML.encode()
    # Inert types are shown: a PDF opens at #page=N, text is text.
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert text.headers["content-type"].startswith("text/plain")
    assert text.headers["content-disposition"].startswith("inline")
    assert text.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    ("policy", "reader_status", "admin_status"),
    [("readers", 200, 200), ("admins", 403, 200), ("nobody", 403, 403)],
)
def test_who_may_download_originals_is_a_setting(service, policy, reader_status, admin_status):
    ids, reader, admin = _ids(service), _key(service, "reader"), _key(service, "admin", "admin")
    url = f"/v1/documents/{ids['notes.txt']}/file"
    with _client(service, originals=policy) as client:
        as_reader, as_admin = client.get(url, headers=reader), client.get(url, headers=admin)
        link = client.post(f"/v1/documents/{ids['notes.txt']}/file-link", headers=reader)
    assert (as_reader.status_code, as_admin.status_code) == (reader_status, admin_status)
    assert link.status_code == reader_status
    if reader_status == 403:
        assert "api.originals" in as_reader.json()["message"]


def test_a_file_link_opens_one_document_for_a_short_while_without_a_key(service):
    ids, reader = _ids(service), _key(service, "reader")
    pdf_id, text_id = ids["employee-handbook.pdf"], ids["notes.txt"]
    with _client(service) as client:
        link = client.post(f"/v1/documents/{pdf_id}/file-link", headers=reader)
        assert link.status_code == 200, link.text
        url = link.json()["url"]
        assert link.json()["inline"] is True
        assert re.fullmatch(rf"/v1/documents/{pdf_id}/file\?ticket=[\w.-]+", url)
        opened = client.get(url)  # no key: the browser follows the link
        assert opened.status_code == 200 and opened.content[:4] == b"%PDF"

        ticket = url.split("ticket=")[1]
        other = client.get(f"/v1/documents/{text_id}/file?ticket={ticket}")
        assert other.status_code == 401  # one document only
        forged = client.get(f"/v1/documents/{pdf_id}/file?ticket={ticket[:-2]}xx")
        assert forged.status_code == 401
        key_id, _, _, _ = ticket.split(".")
        signer: TicketSigner = client.app.state.ticket_signer
        expired = signer.issue(int(key_id), pdf_id, now=0)
        assert client.get(f"/v1/documents/{pdf_id}/file?ticket={expired}").status_code == 401
        html = client.post(f"/v1/documents/{ids['travel.html']}/file-link", headers=reader)
        assert html.json()["inline"] is False

        # A document the key may not see gets no link, and a revoked key's links stop working.
        hidden = client.post(f"/v1/documents/{ids['salaries.txt']}/file-link", headers=reader)
        assert hidden.status_code == 404
        with transaction(service.session_factory) as session:
            from rag.db.models import ApiKey

            session.get(ApiKey, int(key_id)).revoked = True
        assert client.get(url).status_code == 401


def test_the_page_never_opens_originals_as_blob_urls():
    """A blob: URL made by the page runs in the page's origin, whatever the file holds."""
    for script in WEB_DIR.glob("*.js"):
        assert "createObjectURL" not in script.read_text(), script.name
