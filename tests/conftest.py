"""Shared fixtures: the two databases, loaded models shared across tests, the eval data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from rag.config import Settings
from rag.db.migrate import upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = REPO_ROOT / "examples"
SHARED_EVAL = REPO_ROOT.parent / "shared" / "eval"
PG_URL = os.environ.get("RAG_TEST_DATABASE_URL", "")
# The default backend (auto) takes openvino on a CPU with VNNI or AMX, and OpenVINO is kept out
# of the test process (tests/rag/embed/conftest.py): tests embed with onnx, as do the commands
# they start, unless a test asks for another backend. `auto` itself: tests/rag/embed/
# test_backend_choice.py, and a real `rag ingest` in tests/e2e/test_auto_backend.py.
os.environ.setdefault("RAG_EMBEDDING__BACKEND", "onnx")


def shared_eval(*parts: str) -> Path:
    """A path under ../shared/eval; the test skips, with the reason, where it is absent."""
    path = SHARED_EVAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (it sits beside the repo in CI)")
    return path


def _fresh_postgres_schema(url: str) -> str:
    """An empty schema of this test process's own, so concurrent test runs on one server
    cannot drop each other's tables. Returns the URL that puts it first on the search path."""
    schema = f"rag_test_{os.getpid()}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """An empty, migrated database: SQLite always, PostgreSQL when RAG_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        if not PG_URL:
            pytest.skip("set RAG_TEST_DATABASE_URL to run the storage tests on PostgreSQL")
        url = _fresh_postgres_schema(PG_URL)
    upgrade(url)
    return url


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import load_embedder

    return load_embedder(Settings().embedding)


@pytest.fixture(scope="session")
def anonymizer():
    from rag.privacy.anonymizer import Anonymizer

    return Anonymizer(Settings().anonymize, secret=b"test-secret-key")


@pytest.fixture(scope="session")
def generator():
    from rag.llm import build_generator

    return build_generator(Settings().llm)


@pytest.fixture
def make_service(settings, embedder, anonymizer):
    """A RagService on the test database, sharing the session's loaded models."""
    from rag.service import RagService

    services = []

    def make(generator=None, **overrides):
        service = RagService(
            settings.model_copy(update=overrides) if overrides else settings,
            embedder=embedder,
            anonymizer=anonymizer,
            generator=generator,
        )
        services.append(service)
        return service

    yield make
    for service in services:
        service.engine.dispose()


@pytest.fixture
def make_indexed_service(make_service, tmp_path):
    """A RagService whose store holds `docs` ({file name: text}), indexed from a folder."""

    def make(docs: dict[str, str], **overrides):
        folder = tmp_path / "docs"
        folder.mkdir()
        for name, body in docs.items():
            (folder / name).write_text(body)
        service = make_service(**overrides)
        assert service.pipeline.ingest_folder(folder).indexed == len(docs)
        return service

    return make
