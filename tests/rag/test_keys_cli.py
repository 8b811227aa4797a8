"""`rag keys create / list / revoke` against a real SQLite file."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import get_settings
from rag.db.session import make_engine, make_session_factory
from rag.keys import find_key

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def _secret(output: str) -> str:
    return next(word for word in output.split() if word.startswith("rag_"))


def test_create_list_and_revoke_by_name_or_prefix(env):
    made = runner.invoke(
        app, ["keys", "create", "--name", "wiki-bot", "--role", "reader", "--groups", "eng,all"]
    )
    assert made.exit_code == 0, made.output
    wiki = _secret(made.output)
    other = _secret(runner.invoke(app, ["keys", "create", "--name", "hr-bot"]).output)

    listing = runner.invoke(app, ["keys", "list"])
    assert listing.exit_code == 0
    assert "wiki-bot" in listing.output and "eng,all" in listing.output
    assert wiki[:12] in listing.output and wiki not in listing.output  # prefix, never the key

    assert runner.invoke(app, ["keys", "revoke", "wiki-bot"]).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", other[:12]]).exit_code == 0
    engine = make_engine(get_settings().resolved_database_url)
    with make_session_factory(engine)() as session:
        assert find_key(session, wiki) is None and find_key(session, other) is None
    engine.dispose()
    assert "yes" in runner.invoke(app, ["keys", "list"]).output


def test_errors_are_one_line_and_exit_2(env):
    missing = runner.invoke(app, ["keys", "revoke", "nobody"])
    assert missing.exit_code == 2 and "no key named or prefixed 'nobody'" in missing.output
    assert runner.invoke(app, ["keys", "create", "--name", "a"]).exit_code == 0
    again = runner.invoke(app, ["keys", "create", "--name", "a"])
    assert again.exit_code == 2 and "exists already" in again.output
    bad = runner.invoke(app, ["keys", "create", "--name", "b", "--role", "owner"])
    assert bad.exit_code == 2 and "role must be one of" in bad.output
