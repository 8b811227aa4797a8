"""Crash safety, for real: workers and the API run as subprocesses and are killed with -9.

After a take-over the job finishes, the chunks table holds each document once, and an index
that replays the change log holds exactly the chunks SQL holds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from rag.db.models import Chunk, Document, Job, Source
from rag.db.session import make_engine, make_session_factory, transaction
from rag.index import VectorIndex
from rag.jobs import enqueue
from rag.keys import create_key
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
WORDS = [
    "invoice", "approval", "budget", "travel", "laptop", "security", "badge", "parking",
    "holiday", "training", "contract", "supplier", "audit", "quarterly", "report", "office",
]  # fmt: skip


def _write_corpus(folder: Path, files: int, paragraphs: int = 30) -> None:
    folder.mkdir(parents=True)
    for n in range(files):
        text = [f"Procedure {n}"]
        for p in range(paragraphs):
            words = [WORDS[(n * 7 + p * 3 + i) % len(WORDS)] for i in range(40)]
            text.append(f"Section {p} of procedure {n}: " + " ".join(words) + ".")
        (folder / f"procedure-{n:03d}.txt").write_text("\n\n".join(text))


def _env(tmp_path: Path, database_url: str, lease_s: float = 4) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RAG_DATA_DIR=str(tmp_path / "data"),
        RAG_DATABASE_URL=database_url,
        RAG_WORKER__LEASE_S=str(lease_s),
        RAG_WORKER__POLL_S="0.3",
        RAG_WORKER__IN_PROCESS="false",
        RAG_INGEST__ALLOWED_ROOTS=json.dumps([str(tmp_path)]),
        # Each file written as soon as it is read, so a kill lands between committed files
        # (batched, a killed worker redoes its whole batch, which these tests do not count).
        RAG_INGEST__EMBED_BATCH_CHUNKS="1",
        HF_HUB_OFFLINE="1",
    )
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    proc.log = log  # read back when it exits early, so a failure says why
    return proc


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(predicate, timeout: float, what: str, procs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() not in (None, -9):
                raise AssertionError(
                    f"a process exited early ({proc.returncode}) before {what}: "
                    + proc.log.read_text(errors="replace")[-3000:]
                )
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def _add_source(db, folder: Path) -> int:
    with transaction(db) as session:
        source = Source(name=folder.name, path=str(folder.resolve()), groups=[])
        session.add(source)
        session.flush()
        return enqueue(session, "scan", source_id=source.id).id


def _job(db, job_id: int) -> Job:
    with db() as session:
        return session.get(Job, job_id)


def _assert_consistent(db, embedder, index_dir: Path, files: int) -> None:
    with db() as session:
        docs = session.scalars(select(Document)).all()
        assert len(docs) == files and {d.status for d in docs} == {"indexed"}
        pairs = session.execute(select(Chunk.document_id, Chunk.ordinal)).all()
        assert len(pairs) == len(set(pairs)), "a chunk was written twice"
        for doc in docs:
            count = session.scalar(select(func.count()).where(Chunk.document_id == doc.id))
            assert count == doc.chunk_count > 0, doc.path
        sql_ids = set(session.scalars(select(Chunk.id)))
        # Replaying the change log from nothing must give exactly the chunks SQL holds.
        index = VectorIndex(index_dir, embedder.dimension, embedder.model_name)
        index.catch_up(session)
    ids = index.ids().tolist()
    assert len(ids) == len(set(ids)) and set(ids) == sql_ids


def _kill_mid_document(db, job_id: int, proc: subprocess.Popen, after_files: int) -> None:
    _wait(
        lambda: (_job(db, job_id).done or 0) >= after_files and _job(db, job_id).current,
        timeout=600,
        what=f"{after_files} files done",
        procs=[proc],
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _stop(
    proc: subprocess.Popen, log: Path, within_s: float = 120, stop_signal=signal.SIGTERM
) -> int:
    """SIGTERM, as `docker stop` sends (or Ctrl-C, as an admin presses): the worker must exit
    on its own, after its file."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(stop_signal)
    try:
        return proc.wait(within_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        ignored = f"the worker ignored {stop_signal!r}: {log.read_text()[-2000:]}"
        raise AssertionError(ignored) from None


def test_a_killed_worker_job_is_finished_by_another(tmp_path, database_url, db, embedder):
    folder = tmp_path / "procedures"
    _write_corpus(folder, files=16)
    job_id = _add_source(db, folder)
    env = _env(tmp_path, database_url)
    log = tmp_path / "workers.log"

    first = _start(["worker"], env, log)
    _kill_mid_document(db, job_id, first, after_files=3)
    assert _job(db, job_id).status == "running"  # nobody told the database

    second = _start(["worker"], env, log)
    try:
        _wait(lambda: _job(db, job_id).status != "running", 900, "the job to end", [second])
    finally:
        _stop(second, log)
    job = _job(db, job_id)
    assert job.status == "succeeded", (job.error, log.read_text()[-2000:])
    # The second run skips what the first committed: only the rest is processed again.
    assert job.attempts == 2 and job.done == job.total and 0 < job.total <= 16 - 3
    _assert_consistent(db, embedder, tmp_path / "replay", files=16)


# Ctrl-C on the openvino backend: its thread pool was in the process when the suite crashed
# (tests/rag/embed/conftest.py); an admin's worker on it must stop as any other.
@pytest.mark.parametrize(
    ("backend", "stop_signal"),
    [("onnx", signal.SIGTERM), ("onnx", signal.SIGINT), ("openvino", signal.SIGINT)],
)
def test_a_stopped_worker_hands_its_job_back(
    tmp_path, database_url, db, embedder, backend, stop_signal
):
    folder = tmp_path / "procedures"
    _write_corpus(folder, files=16)
    job_id = _add_source(db, folder)
    env = _env(tmp_path, database_url, lease_s=600)  # a hand-back, not an expired lease
    env["RAG_EMBEDDING__BACKEND"] = backend
    log = tmp_path / "workers.log"

    first = _start(["worker"], env, log)
    _wait(lambda: (_job(db, job_id).done or 0) >= 2, 600, "2 files done", [first])
    assert _stop(first, log, stop_signal=stop_signal) == 0, log.read_text()[-2000:]
    job = _job(db, job_id)
    assert (job.status, job.lease_owner, job.attempts) == ("queued", None, 0), job.error
    assert "goes back to the queue" in log.read_text()

    finisher = subprocess.run(
        [sys.executable, "-m", "rag.cli", "worker", "--once"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert finisher.returncode == 0, finisher.stderr[-2000:]
    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("succeeded", 1), job.error
    assert job.done == job.total and 0 < job.total <= 16 - 2
    _assert_consistent(db, embedder, tmp_path / "replay", files=16)


# Several workers at once is the PostgreSQL set-up; SQLite runs one (the test above).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_share_jobs_and_survive_one_being_killed(tmp_path, database_url, db, embedder):
    folders = [tmp_path / "hr", tmp_path / "finance"]
    for folder in folders:
        _write_corpus(folder, files=8)
    job_ids = [_add_source(db, folder) for folder in folders]
    env = _env(tmp_path, database_url)
    log = tmp_path / "workers.log"
    workers = [_start(["worker"], env, log), _start(["worker"], env, log)]
    try:
        _wait(
            lambda: all(_job(db, j).status == "running" for j in job_ids),
            600,
            "both jobs to be claimed, one per worker",
            workers,
        )
        owners = {_job(db, j).lease_owner for j in job_ids}
        assert len(owners) == 2, "one worker took both jobs"
        victim_job = job_ids[0]
        victim_pid = int(_job(db, victim_job).lease_owner.split(":")[1])
        victim = next(w for w in workers if w.pid == victim_pid)
        _kill_mid_document(db, victim_job, victim, after_files=2)
        survivor = next(w for w in workers if w is not victim)
        _wait(
            lambda: all(_job(db, j).status not in ("queued", "running") for j in job_ids),
            900,
            "both jobs to end",
            [survivor],
        )
    finally:
        for worker in workers:
            _stop(worker, log)
    jobs = [_job(db, j) for j in job_ids]
    assert [j.status for j in jobs] == ["succeeded", "succeeded"], log.read_text()[-2000:]
    assert jobs[0].attempts == 2
    assert int(jobs[0].lease_owner.split(":")[1]) == survivor.pid
    _assert_consistent(db, embedder, tmp_path / "replay", files=16)


def test_a_killed_api_catches_up_from_the_change_log(tmp_path, database_url, db):
    env = _env(tmp_path, database_url)
    log = tmp_path / "api.log"
    first_batch, second_batch = tmp_path / "first", tmp_path / "second"
    _write_corpus(first_batch, files=3, paragraphs=10)
    _write_corpus(second_batch, files=10)
    # An index snapshot exists from an earlier run; the API starts from it.
    ingest = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", str(first_batch)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    port = free_port()
    serve = ["serve", "--port", str(port)]

    with transaction(db) as session:
        admin = {"Authorization": f"Bearer {create_key(session, 'ops', 'admin', []).secret}"}

    def ready_size() -> int | None:
        """The API's index size once it is ready and has caught up with the change log."""
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code != 200:
                return None
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=admin, timeout=5)
        except httpx.HTTPError:
            return None
        line = next(x for x in metrics.text.splitlines() if x.startswith("rag_index_vectors "))
        return int(float(line.split()[1]))

    api = _start(serve, env, log)
    job_id = _add_source(db, second_batch)
    worker = _start(["worker"], env, tmp_path / "worker.log")
    try:
        _wait(lambda: ready_size() is not None, 600, "the API to be ready", [api])
        _wait(lambda: (_job(db, job_id).done or 0) >= 2, 600, "the worker to commit", [worker])
        api.send_signal(signal.SIGKILL)  # while the worker goes on committing
        api.wait()
        api = _start(serve, env, log)
        _wait(lambda: _job(db, job_id).status == "succeeded", 900, "the job to end", [worker])
        _wait(lambda: ready_size() is not None, 600, "the API to be ready again", [api])
        with db() as session:
            expected = session.scalar(select(func.count()).select_from(Chunk))
        assert ready_size() == expected
    finally:
        for proc in (api, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
