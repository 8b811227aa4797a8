"""The default embedding backend (auto) as an admin meets it: `rag ingest` in a process of its
own (OpenVINO stays out of the test process: tests/rag/embed/conftest.py) fills the store with
this machine's runtime, and `rag doctor` says which and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ingest.reembed import stored_fingerprint
from rag.config import Settings
from rag.db.session import make_engine, make_session_factory, transaction
from rag.embed.backend_choice import host_runtime, stored_runtime
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def test_the_default_backend_embeds_with_this_machines_runtime_and_says_so(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.txt").write_text("Staff get 27 days of annual leave per year.")
    env = {k: v for k, v in os.environ.items() if k != "RAG_EMBEDDING__BACKEND"}
    env.update(
        RAG_DATA_DIR=str(tmp_path / "data"),
        RAG_INGEST__ALLOWED_ROOTS=json.dumps([str(tmp_path)]),
        HF_HUB_OFFLINE="1",
        COLUMNS="200",  # the doctor's table unwrapped
    )

    def rag(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "rag.cli", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        return run.stdout

    rag("ingest", str(folder))
    engine = make_engine(Settings(data_dir=tmp_path / "data").resolved_database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            runtime = stored_runtime(stored_fingerprint(session))
    finally:
        engine.dispose()
    assert runtime == host_runtime()
    assert f"backend auto → {runtime} (int8)" in rag("doctor", "--no-load")
