"""The migrations are the only way the schema is made: they must build exactly the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rag.config import Settings
from rag.db.fulltext import include_object
from rag.db.models import Base
from rag.service import HEAD_REVISION, RagService, SchemaOutOfDate


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


def test_an_unmigrated_database_is_refused_with_the_command_to_run(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    service = RagService(settings)
    with pytest.raises(SchemaOutOfDate, match="run `rag db upgrade`"):
        service.check_schema()
