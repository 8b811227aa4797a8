"""A source folder's name may be a person's ("Priya Raman files", and a source is named after
its folder by default). Errors of its scan jobs and of the source itself name the source by
id, never by its path or name: they are stored, listed and logged."""

from __future__ import annotations

from sqlalchemy import select

from rag import jobs
from rag.db.models import Job, Source
from rag.db.session import transaction

NAME = "Priya Raman"


def _scan(service, source_id: int) -> Job:
    with transaction(service.session_factory) as session:
        job_id = jobs.enqueue(session, "scan", source_id=source_id).id
    assert service.worker().run_next(job_id) is not None
    with service.session_factory() as session:
        return jobs.get(session, job_id)


def test_source_errors_name_the_source_by_id_only(make_service, tmp_path, caplog):
    caplog.set_level("DEBUG")
    service = make_service()
    folder = tmp_path / f"{NAME} files"
    folder.mkdir()
    (folder / "notes.txt").write_text("Leave policy\n\nThere are 25 days of leave a year.\n")
    with transaction(service.session_factory) as session:
        source = Source(name=folder.name, path=str(folder.resolve()), groups=[])
        session.add(source)
        session.flush()
        source_id = source.id
    assert _scan(service, source_id).status == "succeeded"

    with transaction(service.session_factory) as session:
        session.get(Source, source_id).status = "paused"
    paused = _scan(service, source_id)
    assert paused.status == "failed" and f"source {source_id} is paused" in paused.error

    with transaction(service.session_factory) as session:
        session.get(Source, source_id).status = "active"
    folder.rename(tmp_path / "unmounted")
    gone = _scan(service, source_id)
    assert gone.status == "failed" and "not available" in gone.error
    assert f"source {source_id}" in gone.error and "1 indexed documents are kept" in gone.error
    with service.session_factory() as session:
        stored = session.scalar(select(Source).where(Source.id == source_id))
        assert stored.status == "unavailable" and "not available" in stored.error
        errors = [stored.error, paused.error, gone.error]
    for text in [*errors, caplog.text]:
        assert NAME not in text, text
