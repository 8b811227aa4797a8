"""The openvino backend's contract and export tests, run in a pytest process of their own
(conftest.py says why): this test fails when any of them fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.rag.embed.conftest import OPENVINO_PROCESS_VARIABLE, OPENVINO_TEST_FILES

pytestmark = pytest.mark.slow
HERE = "tests/rag/embed"


def test_the_openvino_backend_passes_its_tests_in_a_process_of_its_own():
    files = [f"{HERE}/test_embed_backends.py", *(f"{HERE}/{name}" for name in OPENVINO_TEST_FILES)]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "openvino", *files],
        cwd=REPO_ROOT,
        env={**os.environ, OPENVINO_PROCESS_VARIABLE: "1"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Every openvino test ran, none skipped: the contract's for int8 and for float32 (11 each
    # today), the export's (3) and auto's (4).
    summary = run.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 29 and "skipped" not in summary, summary
