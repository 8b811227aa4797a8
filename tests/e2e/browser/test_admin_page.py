"""The admin view in a real browser: sources, a running job's progress, re-index, PII counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rag.db.models import Job, Source
from rag.db.session import transaction
from tests.conftest import EXAMPLES
from tests.e2e.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture
def running_job(server):
    """A job as a worker would leave it mid-way: 3 of 10 files done, its lease held."""
    with transaction(server.service.session_factory) as session:
        source = session.scalar(select(Source).where(Source.path == str(EXAMPLES.resolve())))
        job = Job(
            kind="scan",
            source_id=source.id,
            status="running",
            done=3,
            total=10,
            chunks_written=12,
            current="employee-handbook.pdf",
            lease_owner="browser-test",
            lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
            started_at=datetime.now(UTC),
        )
        session.add(job)
        session.flush()
        job_id = job.id
    yield job_id
    with transaction(server.service.session_factory) as session:
        session.get(Job, job_id).status = "cancelled"


def test_admin_sees_sources_progress_and_personal_data_counts(open_page, server, running_job):
    page = open_page()
    sign_in(page, server.admin_key)
    page.click("#nav-admin")
    page.wait_for_selector("#admin[data-loaded=true]")

    source_row = page.locator("#sources tbody tr", has_text="examples")
    assert "active" in source_row.inner_text()
    assert source_row.locator("td.num").first.inner_text() == "5"  # documents

    bar = page.locator(f"#job-progress-{running_job}")
    assert bar.get_attribute("value") == "3" and bar.get_attribute("max") == "10"
    job = page.locator(f".job[data-id='{running_job}']")
    assert "3 of 10 files" in job.inner_text() and "running" in job.inner_text()

    person = page.locator("#pii tbody tr[data-type=PERSON] td.num")
    assert int(person.inner_text()) > 0
    assert page.locator("#pii tbody tr[data-type=EMAIL_ADDRESS]").count() == 1
    screenshot(page, "admin.png")

    # Live progress: the bar follows the job without reloading the page.
    with transaction(server.service.session_factory) as session:
        session.get(Job, running_job).done = 7
    page.wait_for_selector(f"#job-progress-{running_job}[value='7']", timeout=10_000)

    # Once it has finished, re-index queues a new scan job, which the list then shows.
    with transaction(server.service.session_factory) as session:
        finished = session.get(Job, running_job)
        finished.status, finished.done, finished.finished_at = "succeeded", 10, datetime.now(UTC)
    page.wait_for_selector(f".job[data-id='{running_job}'].succeeded", timeout=10_000)
    before = page.locator(".job").count()
    source_row.locator("button.reindex").click()
    page.wait_for_function("n => document.querySelectorAll('.job').length > n", arg=before)
    assert "queued" in page.locator(".job").first.inner_text()
    assert not page.text_content("#admin-status")
    assert "Re-indexing examples" in page.text_content("#admin-note")


def test_a_reader_gets_no_admin_view(open_page, server):
    page = open_page()
    sign_in(page, server.reader_key)
    assert page.is_hidden("#nav-admin")


def test_admin_sees_a_reprocess_job_and_the_documents_it_could_not_make_again(open_page, server):
    from ingest.reprocess import FILE_GONE

    with transaction(server.service.session_factory) as session:
        job = Job(
            kind="reprocess",
            status="running",
            done=2,
            total=5,
            current="faq.md",
            errors=[{"path": "old-policy.md", "reason": FILE_GONE}],
            lease_owner="browser-test",
            lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
            started_at=datetime.now(UTC),
        )
        session.add(job)
        session.flush()
        job_id = job.id
    try:
        page = open_page()
        sign_in(page, server.admin_key)
        page.click("#nav-admin")
        page.wait_for_selector("#admin[data-loaded=true]")
        shown = page.locator(f".job[data-id='{job_id}']")
        text = shown.inner_text()
        assert f"Job {job_id}: reprocess" in text and "2 of 5 documents" in text
        shown.locator("summary").click()
        assert f"old-policy.md: {FILE_GONE}" in shown.inner_text()
    finally:
        with transaction(server.service.session_factory) as session:
            session.get(Job, job_id).status = "cancelled"
