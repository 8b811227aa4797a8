"""The migrations are the only way the schema is made: they must build exactly the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rag.config import Settings
from rag.db.fulltext import include_object
from rag.db.migrate import current_revision, upgrade, upgrade_embedded
from rag.db.models import Base
from rag.service import HEAD_REVISION, RagService, SchemaOutOfDate
from tests.conftest import PG_URL, _fresh_postgres_schema


def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        # The full-text objects are the migrations' own (rag/db/fulltext.py), not the models'.
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert context.get_current_revision() == HEAD_REVISION
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_every_model_table_exists(database_url):
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_a_fresh_sqlite_database_is_migrated_on_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'data' / 'rag.db'}"
    service = RagService(Settings(data_dir=tmp_path / "data", database_url=url))
    service.check_schema()
    service.engine.dispose()
    assert current_revision(url) == HEAD_REVISION
    assert (tmp_path / "data" / "rag.db").stat().st_mode & 0o777 == 0o600


def test_an_older_sqlite_schema_is_brought_to_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'rag.db'}"
    upgrade(url, "0001")
    assert upgrade_embedded(url) is True
    assert current_revision(url) == HEAD_REVISION
    assert upgrade_embedded(url) is False  # already current: nothing to do


def test_an_unmigrated_postgresql_database_is_refused_with_the_command_to_run(tmp_path):
    if not PG_URL:
        pytest.skip("set RAG_TEST_DATABASE_URL to run the storage tests on PostgreSQL")
    url = _fresh_postgres_schema(PG_URL)
    service = RagService(Settings(data_dir=tmp_path, database_url=url))
    with pytest.raises(SchemaOutOfDate, match="run `rag db upgrade`"):
        service.check_schema()
    service.engine.dispose()
    assert current_revision(url) is None  # PostgreSQL is migrated only when an admin says so
