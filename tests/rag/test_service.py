"""The service's use cases on a real database (SQLite and PostgreSQL): what the routers and
the CLI call."""

from __future__ import annotations

import pytest

from ingest.sources import SourceError, SourceNotFound
from rag.access import Caller
from rag.jobs import JobNotFound
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


@pytest.mark.slow
def test_search_for_a_caller_shows_only_the_askers_own_values(make_indexed_service):
    service = make_indexed_service(
        {"leave.txt": "Leave requests go to Priya Raman in the people team, who approves them."}
    )
    hits = service.search_for("Who approves leave requests, Priya Raman?", None, Caller("lobby"))
    assert hits and "Priya Raman" in hits[0].text
    other = service.search_for("Who approves leave requests?", None, Caller("lobby"))
    assert other and "Priya Raman" not in other[0].text and "<PERSON_" in other[0].text
