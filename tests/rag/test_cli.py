"""The `rag` command, as an admin runs it, against a real SQLite file and the real models."""

from __future__ import annotations

import io
import json
import re
import shutil

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ingest.report import Failure, IngestReport
from rag import cli
from rag.cli import app
from rag.config import get_settings
from tests.conftest import EXAMPLES, PG_URL, _fresh_postgres_schema

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    roots = [str(tmp_path), str(EXAMPLES.parent)]
    monkeypatch.setenv("RAG_INGEST__ALLOWED_ROOTS", json.dumps(roots))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.slow
def test_ingest_on_a_fresh_sqlite_data_folder_makes_the_database(env):
    # No `rag db upgrade` first: the embedded SQLite database migrates itself.
    result = runner.invoke(app, ["ingest", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "Ingest summary" in result.output
    database = env / "data" / "rag.db"
    assert database.stat().st_mode & 0o777 == 0o600
    listed = runner.invoke(app, ["documents", "--status", "indexed"])
    assert "Documents (5)" in listed.output


def test_an_unmigrated_postgresql_database_says_what_to_run(env, monkeypatch):
    if not PG_URL:
        pytest.skip("set RAG_TEST_DATABASE_URL to run the storage tests on PostgreSQL")
    monkeypatch.setenv("RAG_DATABASE_URL", _fresh_postgres_schema(PG_URL))
    get_settings.cache_clear()
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 2
    assert "run `rag db upgrade`" in result.output


def test_the_ingest_summary_reads_whole_at_80_columns(monkeypatch):
    output = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=output, width=80, color_system=None))
    report = IngestReport(source_id=1, indexed=12, unchanged=340, moved=2, deleted=7)
    report.skipped = [Failure("a.bin", "not a supported format")]
    report.pages, report.chunks, report.seconds = 95, 1234, 61.25
    cli._print_report(report)
    text = output.getvalue()
    expected = {"indexed": "12", "unchanged": "340", "moved": "2", "skipped": "1", "failed": "0",
                "deleted": "7", "pages": "95", "chunks": "1234", "seconds": "61.2"}  # fmt: skip
    for word, value in expected.items():
        # The word whole, and its own count beside it (only spaces and rules between).
        assert re.search(rf"\b{word}\W+{re.escape(value)}\b", text), f"{word} {value}:\n{text}"
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text


def test_ingest_lists_failures_and_exits_zero_unless_strict(env):
    folder = env / "docs"
    shutil.copytree(EXAMPLES, folder)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage without any objects")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    result = runner.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Ingest summary" in result.output
    assert "broken.pdf" in result.output and "corrupt PDF" in result.output

    strict = runner.invoke(app, ["ingest", "--strict", str(folder)])
    assert strict.exit_code == 1


def test_missing_model_fails_at_startup_naming_it(env, monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", "package:no_such_embedding_pkg/model")
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["ingest", str(EXAMPLES)])
    assert result.exit_code == 2
    assert "no_such_embedding_pkg" in result.output


def test_keys_bootstrap_prints_an_admin_key_once(env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["keys", "bootstrap"])
    assert first.exit_code == 0 and "rag_" in first.output
    second = runner.invoke(app, ["keys", "bootstrap"])
    assert "rag_" not in second.output


@pytest.mark.parametrize(
    ("command", "variable", "named"),
    [
        (["serve"], "RAG_RETRIEVAL__INDEX_DEVICE", "retrieval.index_device is cuda"),
        (["serve"], "RAG_EMBEDDING__DEVICE", "embedding.device is cuda"),
        (["worker", "--once"], "RAG_EMBEDDING__DEVICE", "embedding.device is cuda"),
    ],
)
def test_a_configured_gpu_that_is_not_there_stops_startup(
    env, monkeypatch, command, variable, named
):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the setting would work")
    monkeypatch.setenv(variable, "cuda")
    if variable == "RAG_EMBEDDING__DEVICE":
        # The default backend, auto, is torch on cuda (onnx and openvino refuse it).
        monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "auto")
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "Traceback" not in result.output
