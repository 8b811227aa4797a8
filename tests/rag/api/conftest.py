"""An API over a real store: documents in three groups and one open, keys of each kind, the
real models. `api_env` is built once per module on SQLite and on PostgreSQL (when
RAG_TEST_DATABASE_URL is set); `make_api` builds a fresh one with other API settings."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from rag.config import ApiSettings, LlmSettings, Settings
from rag.db.migrate import upgrade
from rag.db.session import transaction
from rag.keys import create_key
from rag.service import RagService
from tests.conftest import PG_URL

# group -> {file name: text}. Each document carries markers found nowhere else.
GROUP_DOCS = {
    "hr": {
        "salaries.txt": "Salary bands 2024\n\nThe chief executive salary is 912345 euros per "
        "year, approved by the board under codename BLUEHERON.",
    },
    "eng": {
        "deploys.txt": "Deployment guide\n\nProduction deploys run every Tuesday through the "
        "pipeline named REDFALCON. A rollback takes ten minutes.",
    },
    "finance": {
        "budget.txt": "Marketing budget 2025\n\nThe marketing budget for 2025 is 4.2 million "
        "euros, tracked under codename GREENOTTER.",
    },
}
OPEN_DOCS = {
    "handbook.txt": "Employee handbook\n\nOffice hours are nine to five. The canteen serves "
    "lunch from noon until two.",
}
# What may never reach a caller outside the group, in any form.
MARKERS = {
    "hr": ["BLUEHERON", "912345", "Salary bands", "salaries.txt"],
    "eng": ["REDFALCON", "rollback", "Deployment guide", "deploys.txt"],
    "finance": ["GREENOTTER", "4.2 million", "Marketing budget", "budget.txt"],
}
# key name -> (role, groups)
KEYS = {
    "admin": ("admin", []),
    "hr-bot": ("reader", ["hr"]),
    "eng-bot": ("reader", ["eng"]),
    "finance-bot": ("reader", ["finance", "sales"]),
    "lobby": ("reader", []),
}


@dataclass
class ApiEnv:
    service: RagService
    app: FastAPI
    client: TestClient
    keys: dict[str, str]  # name -> secret
    document_ids: dict[str, int] = field(default_factory=dict)  # file name -> id

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}


def _database_url(kind: str, tmp: Path, suffix: str) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'api.db'}"
    else:
        if not PG_URL:
            pytest.skip("set RAG_TEST_DATABASE_URL to run the API tests on PostgreSQL")
        # A schema of this process and fixture: concurrent runs cannot drop each other's.
        schema = f"rag_test_{os.getpid()}_{suffix}"
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        separator = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    upgrade(url)
    return url


@contextmanager
def build_api(
    tmp: Path, url: str, embedder, anonymizer, generator, **api: object
) -> Iterator[ApiEnv]:
    # Short answers keep the real LLM's part of each test to a few seconds.
    settings = Settings(
        data_dir=tmp / "data",
        database_url=url,
        api=ApiSettings(**api),
        llm=LlmSettings(max_tokens=32),
    )
    service = RagService(settings, embedder=embedder, anonymizer=anonymizer, generator=generator)
    document_ids: dict[str, int] = {}
    for group, docs in [*GROUP_DOCS.items(), (None, OPEN_DOCS)]:
        folder = tmp / f"docs-{group or 'open'}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in docs.items():
            (folder / name).write_text(content)
        report = service.pipeline.ingest_folder(folder, [group] if group else [])
        assert report.indexed == len(docs)
    from sqlalchemy import select

    from rag.db.models import Document

    with service.session_factory() as session:
        document_ids = {doc.path: doc.id for doc in session.scalars(select(Document))}
    with transaction(service.session_factory) as session:
        keys = {
            name: create_key(session, name, role, groups).secret
            for name, (role, groups) in KEYS.items()
        }
    from rag.api.main import create_app

    app = create_app(service=service, run_worker=False)
    with TestClient(app) as client:
        yield ApiEnv(service, app, client, keys, document_ids)
    service.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_env(request, tmp_path_factory, embedder, anonymizer, generator) -> Iterator[ApiEnv]:
    tmp = tmp_path_factory.mktemp("api")
    url = _database_url(request.param, tmp, request.module.__name__.rsplit(".", 1)[-1])
    with build_api(tmp, url, embedder, anonymizer, generator) as env:
        yield env


@pytest.fixture
def make_api(tmp_path, embedder, anonymizer, generator):
    """A fresh API on SQLite with the given `api:` settings (and optionally another
    generator); use as a context manager."""

    def make(generator_override=None, **api: object):
        url = _database_url("sqlite", tmp_path, "fresh")
        return build_api(
            tmp_path, url, embedder, anonymizer, generator_override or generator, **api
        )

    return make


def wait_until(condition, timeout_s: float = 30.0) -> None:
    """Poll until `condition()` holds (a synchronization aid, not a timing assertion)."""
    ends = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    server.config.lifespan = "off"  # the TestClient of the env already ran the lifespan
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
