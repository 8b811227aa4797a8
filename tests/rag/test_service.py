"""The service's use cases on a real database (SQLite and PostgreSQL): what the routers and
the CLI call."""

from __future__ import annotations

import io

import pytest

from ingest.sources import SourceError, SourceNotFound
from rag.access import SYSTEM, Caller
from rag.jobs import JobNotFound
from rag.keys import DuplicateKeyName, KeyNotFound, KeyRequestError
from rag.use_cases.documents import (
    DocumentNotFound,
    FolderDocument,
    UnsupportedUpload,
    UploadTooLarge,
)
from rag.use_cases.keys import PROXY_KEY_PREFIX, ProxySignInRefused
from rag.use_cases.sources import SourcePaused


@pytest.fixture
def service(make_service, tmp_path):
    ingest = make_service().settings.ingest.model_copy(update={"allowed_roots": [tmp_path]})
    return make_service(ingest=ingest)


def test_sources_are_added_listed_paused_scanned_and_removed(service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    source, job = service.sources.add(
        folder, name="docs", groups=["hr"], scan_interval_s=None, scan=True
    )
    assert (source.name, source.groups, source.documents, source.chunks) == ("docs", ["hr"], 0, 0)
    assert job is not None and job["kind"] == "scan" and job["status"] == "queued"
    assert [s.id for s in service.sources.list()] == [source.id]
    # By id (the API) and by name (the CLI) alike.
    assert service.sources.get("docs").id == service.sources.get(source.id).id

    paused = service.sources.change(source.id, status="paused", scan_interval_s=3600)
    assert (paused.status, paused.scan_interval_s) == ("paused", 3600)
    with pytest.raises(SourcePaused):
        service.sources.queue_scan(source.id)
    assert service.sources.queue_scan("docs", refuse_paused=False)["source_id"] == source.id

    assert service.sources.remove(source.id) == ("docs", 0)
    with pytest.raises(SourceNotFound):
        service.sources.get(source.id)


def test_a_folder_outside_the_allowed_roots_is_refused(service, tmp_path):
    with pytest.raises(SourceError):
        service.sources.add("/etc", name=None, groups=[], scan_interval_s=None, scan=False)
    assert service.sources.list() == []


def test_jobs_are_listed_read_and_cancelled(service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    _, job = service.sources.add(folder, name=None, groups=[], scan_interval_s=None, scan=True)
    assert [j["id"] for j in service.jobs.list()] == [job["id"]]
    assert service.jobs.list(status="running") == []
    assert service.jobs.get(job["id"], reveal_paths=True)["errors"] == []
    assert service.jobs.cancel(job["id"])["status"] == "cancelled"
    with pytest.raises(JobNotFound):
        service.jobs.get(job["id"] + 1000)


def test_jobs_are_counted_by_state(service, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    _, first = service.sources.add(
        tmp_path / "a", name=None, groups=[], scan_interval_s=None, scan=True
    )
    service.sources.add(tmp_path / "b", name=None, groups=[], scan_interval_s=None, scan=True)
    service.jobs.cancel(first["id"])
    assert service.jobs.count_by_status() == {"queued": 1, "cancelled": 1}


def test_ingest_finds_its_folders_source_or_registers_it_without_a_job(service, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    first = service.sources.for_folder(folder, groups=["hr"])
    again = service.sources.for_folder(str(folder), groups=["other"])
    assert (again.id, again.groups) == (first.id, ["hr"])
    assert service.jobs.list() == []
    with pytest.raises(SourceError):
        service.sources.for_folder("/etc", groups=[])


# -- documents ---------------------------------------------------------------------------------

FINANCE = Caller("finance", groups=frozenset({"finance"}))
LOBBY = Caller("lobby")  # no groups: sees the documents without groups


@pytest.mark.slow  # the upload's file name is anonymized (spaCy)
def test_an_upload_is_shown_to_its_groups_regrouped_read_and_deleted(service):
    body = b"Taxis are reimbursed up to 60 euros per trip."
    doc, job = service.documents.upload("travel.txt", io.BytesIO(body), ["hr", "finance", "hr"])
    assert (doc.status, doc.groups, doc.format) == ("queued", ["finance", "hr"], "txt")
    assert (job["kind"], job["source_id"]) == ("scan", doc.source_id)

    assert [d.id for d in service.documents.list(FINANCE)] == [doc.id]
    assert service.documents.list(LOBBY) == []
    with pytest.raises(DocumentNotFound):  # hidden looks like missing
        service.documents.get(doc.id, LOBBY)
    original = service.documents.original_file(doc.id, FINANCE)
    assert original.path.read_bytes() == body and original.format == "txt"

    assert service.documents.set_groups(doc.id, []).groups == []
    assert service.documents.get(doc.id, LOBBY).id == doc.id

    service.documents.delete(doc.id)
    assert not original.path.exists()
    with pytest.raises(DocumentNotFound):
        service.documents.get(doc.id, SYSTEM)
    assert service.documents.list(SYSTEM) == []
    assert [d.status for d in service.documents.list(SYSTEM, include_deleted=True)] == ["deleted"]


def test_an_upload_of_an_unknown_type_or_over_the_limit_leaves_nothing(make_service):
    service = make_service()
    small = make_service(api=service.settings.api.model_copy(update={"max_upload_mb": 0.0001}))
    with pytest.raises(UnsupportedUpload, match="unsupported file type '.exe'"):
        service.documents.upload("setup.exe", io.BytesIO(b"MZ"), [])
    with pytest.raises(UploadTooLarge, match="upload limit"):
        small.documents.upload("big.txt", io.BytesIO(b"x" * 1000), [])
    assert not any(p.is_file() for p in small.settings.upload_dir.rglob("*"))
    assert small.documents.list(SYSTEM, include_deleted=True) == []


@pytest.mark.slow
def test_folder_documents_are_listed_by_path_with_raw_paths_on_request(make_indexed_service):
    service = make_indexed_service(
        {"b-travel.txt": "Taxis are reimbursed.", "a-canteen.txt": "The canteen opens at noon."}
    )
    listed = service.documents.list(SYSTEM, by_path=True, reveal_paths=True)
    assert [d.raw_path for d in listed] == ["a-canteen.txt", "b-travel.txt"]
    assert [d.status for d in listed] == ["indexed", "indexed"]
    assert all(d.raw_path is None for d in service.documents.list(SYSTEM))
    assert service.documents.original_file(listed[0].id, LOBBY).path.name == "a-canteen.txt"
    # The CLI's count of a folder's failures and the API's filter are the same listing.
    assert service.documents.list(SYSTEM, source_id=listed[0].source_id, status="failed") == []
    with pytest.raises(FolderDocument, match="remove the file there"):
        service.documents.delete(listed[0].id)


# -- keys ----------------------------------------------------------------------------------------


def test_keys_are_made_found_listed_and_revoked(service):
    made, secret = service.keys.create(" wiki-bot ", "reader", ["eng", "eng"])
    assert (made.name, made.role, made.groups, made.revoked) == (
        "wiki-bot",
        "reader",
        ["eng"],
        False,
    )
    assert secret.startswith("rag_") and made.prefix == secret[:12]
    assert service.keys.find(secret).id == made.id
    assert service.keys.find(secret + "x") is None
    with pytest.raises(DuplicateKeyName):
        service.keys.create("wiki-bot", "reader", [])
    with pytest.raises(KeyRequestError, match="role must be one of"):
        service.keys.create("other", "owner", [])
    assert [k.name for k in service.keys.list()] == ["wiki-bot"]
    assert service.keys.active(made.id).id == made.id

    assert service.keys.revoke(made.prefix).revoked  # by prefix (the CLI) or id (the API)
    assert service.keys.find(secret) is None and service.keys.active(made.id) is None
    assert [k.revoked for k in service.keys.list()] == [True]
    with pytest.raises(KeyNotFound):
        service.keys.revoke(made.id + 100)


def test_the_first_admin_key_is_made_only_while_there_is_none(service):
    secret = service.keys.create_first_admin()
    assert service.keys.find(secret).role == "admin"
    assert service.keys.create_first_admin() is None
    assert len(service.keys.list()) == 1


def test_a_proxy_user_gets_a_key_row_of_their_own_like_the_template(service):
    with pytest.raises(ProxySignInRefused, match="missing or revoked"):
        service.keys.sign_in_by_proxy("alice@example.com", "proxy-users")
    service.keys.create("proxy-users", "reader", ["staff"])
    alice = service.keys.sign_in_by_proxy("alice@example.com", "proxy-users")
    assert alice.name.startswith(PROXY_KEY_PREFIX) and "alice" not in alice.name
    assert (alice.role, alice.groups) == ("reader", ["staff"])
    assert service.keys.sign_in_by_proxy("alice@example.com", "proxy-users").id == alice.id
    assert service.keys.sign_in_by_proxy("bob@example.com", "proxy-users").id != alice.id
    service.keys.revoke(alice.id)
    with pytest.raises(ProxySignInRefused, match="revoked"):
        service.keys.sign_in_by_proxy("alice@example.com", "proxy-users")


def test_the_conversation_store_is_one_per_service(service):
    assert service.conversations is service.conversations


@pytest.mark.slow
def test_search_for_a_caller_shows_only_the_askers_own_values(make_indexed_service):
    service = make_indexed_service(
        {"leave.txt": "Leave requests go to Priya Raman in the people team, who approves them."}
    )
    hits = service.search_for("Who approves leave requests, Priya Raman?", None, Caller("lobby"))
    assert hits and "Priya Raman" in hits[0].text
    other = service.search_for("Who approves leave requests?", None, Caller("lobby"))
    assert other and "Priya Raman" not in other[0].text and "<PERSON_" in other[0].text


def test_a_citation_names_its_file_as_readers_see_it(make_indexed_service):
    """The file name beside a citation's title is the stored, anonymized one: a name in it
    never reaches a reader (rag/privacy/path_names.py)."""
    service = make_indexed_service(
        {"Review of Priya Raman.txt": "Annual review\n\nThe review covers the 2025 targets."}
    )
    answer = service.ask_stream("What does the annual review cover?")
    getattr(answer.tokens, "close", lambda: None)()  # only the citations are wanted
    assert answer.found and answer.citations
    cited = answer.citations[0]
    assert cited.file_name == cited.path.rsplit("/", 1)[-1]
    assert cited.file_name.startswith("Review of <PERSON_") and cited.file_name.endswith(".txt")
    assert "Priya" not in cited.file_name and "Raman" not in cited.file_name
