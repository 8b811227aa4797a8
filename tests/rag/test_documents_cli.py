"""`rag documents`: status, error and personal-data counts per type, never values."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from rag.cli import app, format_pii_counts
from rag.config import get_settings
from tests.conftest import EXAMPLES

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_INGEST__ALLOWED_ROOTS", json.dumps([str(tmp_path)]))
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_format_pii_counts():
    assert format_pii_counts({"EMAIL_ADDRESS": 1, "PERSON": 3}) == "PERSON 3, EMAIL_ADDRESS 1"
    assert format_pii_counts({}) == "-"


def test_documents_lists_counts_and_errors_without_values(env):
    folder = env / "docs"
    shutil.copytree(EXAMPLES, folder)
    (folder / "empty.pdf").write_bytes(b"")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(folder)]).exit_code == 0

    result = runner.invoke(app, ["documents"])
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "employee-handbook.pdf" in row)
    assert "indexed" in line and "EMAIL_ADDRESS 1" in line and "PHONE_NUMBER 1" in line
    assert "empty.pdf" in result.output and "file is empty" in result.output
    assert "maria.jensen" not in result.output and "206-555-0142" not in result.output
    failed = runner.invoke(app, ["documents", "--status", "failed"])
    assert "empty.pdf" in failed.output and "employee-handbook.pdf" not in failed.output
