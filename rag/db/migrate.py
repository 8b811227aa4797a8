"""Apply the Alembic migrations: the only way the schema is made or changed."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from rag.config import REPO_ROOT

MIGRATIONS_DIR = REPO_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is Alembic's interpolation character; a password may contain it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration in migrations/versions."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def upgrade_embedded(database_url: str) -> bool:
    """Bring an SQLite database file (the embedded default) to head, making it if needed, so
    that a first `rag ingest` just works. PostgreSQL is left alone: its admin runs
    `rag db upgrade` when they choose. True when it migrated."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    if current_revision(database_url) == head_revision():
        return False
    upgrade(database_url)
    return True


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from rag.db.session import ENGINE_OPTIONS

    engine = create_engine(database_url, **ENGINE_OPTIONS)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
