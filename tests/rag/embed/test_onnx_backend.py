"""The onnx backend's session: it shares the CPU with the file workers during an ingest."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rag.config import Settings
from rag.embed import load_embedder


def test_onnx_threads_sleep_between_calls_instead_of_spinning():
    # A spinning thread holds a core the file workers' anonymizing needs (bench/RESULTS.md,
    # issue 19, "ONNX Runtime's threads without spinning").
    settings = Settings().embedding.model_copy(update={"backend": "onnx"})
    embedder = load_embedder(settings)
    options = embedder.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


AFFINITY_PROBE = """
import os, sys
one = {min(os.sched_getaffinity(0))}
os.sched_setaffinity(0, one)
from rag.config import Settings
from rag.embed import load_embedder
embedder = load_embedder(Settings().embedding.model_copy(update={"backend": "onnx"}))
embedder.embed(["The parking rules of the office."] * 64)
escaped = {}
for tid in map(int, os.listdir("/proc/self/task")):
    try:
        cpus = os.sched_getaffinity(tid)
    except ProcessLookupError:  # a thread that ended meanwhile
        continue
    if not cpus <= one:
        escaped[tid] = sorted(cpus)
print(escaped)
"""


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux and two CPUs to pin a process to one of them",
)
def test_the_default_threads_stay_on_the_cpus_the_process_may_use():
    """`taskset`, a cpuset or a container's quota limits the CPUs: ONNX Runtime's own default
    pool pinned a thread to each core of the machine, outside the process's affinity."""
    probe = subprocess.run(
        [sys.executable, "-c", AFFINITY_PROBE], capture_output=True, text=True, timeout=300
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip() == "{}", probe.stdout
