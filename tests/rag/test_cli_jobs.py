"""`rag sources`, `rag reindex`, `rag jobs` and `rag worker`, as an admin runs them, on a real
SQLite file with the real models."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import get_settings
from tests.conftest import EXAMPLES

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_INGEST__ALLOWED_ROOTS", json.dumps([str(tmp_path / "shares")]))
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    shutil.copytree(EXAMPLES, tmp_path / "shares" / "handbooks")
    (tmp_path / "shares" / "handbooks" / "broken.pdf").write_bytes(b"%PDF-1.4\n no objects")
    (tmp_path / "elsewhere").mkdir()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_add_reindex_list_pause_remove(env):
    folder = env / "shares" / "handbooks"
    added = runner.invoke(app, ["sources", "add", str(folder), "--group", "hr", "--no-scan"])
    assert added.exit_code == 0, added.output
    assert "source 'handbooks' registered" in added.output

    reindexed = runner.invoke(app, ["reindex", "handbooks"])
    assert reindexed.exit_code == 0, reindexed.output
    assert "job 1 succeeded: 6/6 files" in reindexed.output
    assert "broken.pdf" in reindexed.output and "corrupt PDF" in reindexed.output

    listed = runner.invoke(app, ["sources", "list"])
    row = next(line for line in listed.output.splitlines() if "handbooks" in line)
    assert "hr" in row and "active" in row and " 5 " in row

    jobs = runner.invoke(app, ["jobs"])
    assert jobs.exit_code == 0 and "succeeded" in jobs.output and "6/6" in jobs.output

    (folder / "onboarding.md").unlink()
    again = runner.invoke(app, ["reindex", "handbooks"])
    assert "job 2 succeeded: 0/0 files" in again.output  # only the deletion, nothing to read

    assert "is paused" in runner.invoke(app, ["sources", "pause", "handbooks"]).output
    paused = runner.invoke(app, ["reindex", "handbooks"])
    assert paused.exit_code == 1 and "is paused; resume it" in paused.output
    assert "is active" in runner.invoke(app, ["sources", "resume", "handbooks"]).output

    removed = runner.invoke(app, ["sources", "remove", "handbooks", "--yes"])
    assert removed.exit_code == 0 and "removed with its" in removed.output
    assert "Sources (0)" in runner.invoke(app, ["sources", "list"]).output


def test_refusals_name_the_problem(env):
    outside = runner.invoke(app, ["sources", "add", str(env / "elsewhere")])
    assert outside.exit_code == 2 and "outside the allowed roots" in outside.output
    ingest = runner.invoke(app, ["ingest", str(env / "elsewhere")])
    assert ingest.exit_code == 2 and "outside the allowed roots" in ingest.output
    missing = runner.invoke(app, ["reindex", "nothing-here"])
    assert missing.exit_code == 2 and "no source named 'nothing-here'" in missing.output
    assert "no job with id 42" in runner.invoke(app, ["jobs", "cancel", "42"]).output


def test_worker_once_runs_the_queue_and_exits(env):
    folder = env / "shares" / "handbooks"
    assert runner.invoke(app, ["sources", "add", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "stopped after 1 jobs" in result.output
    assert "succeeded" in runner.invoke(app, ["jobs", "--status", "succeeded"]).output


def test_a_worker_starting_on_a_store_of_another_pipeline_reprocesses_it(env):
    """An upgrade leaves documents of the old pipeline version: `rag worker` queues the
    reprocess job as it starts, runs it, and `rag jobs` lists it."""
    from sqlalchemy import create_engine, text

    folder = env / "shares" / "handbooks"
    assert runner.invoke(app, ["sources", "add", str(folder)]).exit_code == 0
    assert "stopped after 1 jobs" in runner.invoke(app, ["worker", "--once"]).output
    engine = create_engine(get_settings().resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE documents SET pipeline_version = 'older'"))
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "stopped after 1 jobs" in result.output
    with engine.connect() as connection:
        versions = (
            connection.execute(
                text("SELECT DISTINCT pipeline_version FROM documents WHERE status = 'indexed'")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert len(versions) == 1 and versions != ["older"]
    listed = runner.invoke(app, ["jobs"]).output
    row = next(line for line in listed.splitlines() if "reprocess" in line)
    assert "succeeded" in row and "5/5" in row


def test_ctrl_c_during_reindex_stops_after_the_current_file_and_leaves_the_job_queued(
    env, monkeypatch
):
    import os
    import signal

    import ingest.pipeline as pipeline_module

    real_prepare = pipeline_module.IngestPipeline._prepare
    pressed = []

    def prepare(self, path, data):  # the admin presses Ctrl-C as the first file is read
        if not pressed:
            pressed.append(path)
            os.kill(os.getpid(), signal.SIGINT)
        return real_prepare(self, path, data)

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", prepare)
    # What the CLI must give back (ignored, not Python's handler, when run in the background).
    handler_before = signal.getsignal(signal.SIGINT)
    folder = env / "shares" / "handbooks"
    assert runner.invoke(app, ["sources", "add", str(folder), "--no-scan"]).exit_code == 0
    stopped = runner.invoke(app, ["reindex", "handbooks"])
    assert stopped.exit_code == 1, stopped.output
    assert "job 1 queued: 0/6 files" in stopped.output
    assert "queued again: a worker carries on" in stopped.output
    assert signal.getsignal(signal.SIGINT) is handler_before

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", real_prepare)
    finished = runner.invoke(app, ["worker", "--once"])
    assert finished.exit_code == 0, finished.output
    row = next(line for line in runner.invoke(app, ["jobs"]).output.splitlines() if "scan" in line)
    assert "succeeded" in row and "5/5" in row  # the file read before Ctrl-C is not read again
