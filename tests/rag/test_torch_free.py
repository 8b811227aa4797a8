"""Indexing processes do without torch unless their settings need it (rag/torch_free.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.config import Settings
from rag.torch_free import ingest_needs_torch, serving_needs_torch
from tests.conftest import EXAMPLES, REPO_ROOT


def test_the_onnx_backend_with_its_export_made_needs_no_torch(embedder):
    # The session's embedder (onnx, as tests pin it) made the export in the shared cache.
    assert not ingest_needs_torch(Settings(embedding={"backend": "onnx"}))


def test_auto_keeps_torch_until_both_cpu_runtimes_models_are_made(monkeypatch):
    """The store may choose either runtime, whatever this machine would (backend_choice.py)."""
    from rag import torch_free
    from rag.embed import backend_choice

    made = {"onnx": True, "openvino": False}
    monkeypatch.setattr(torch_free, "_runtime_needs_torch", lambda _, runtime: not made[runtime])
    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: True)
    auto = Settings(embedding={"backend": "auto"})
    assert ingest_needs_torch(auto)  # openvino's int8 model still to be made
    made["openvino"] = True
    assert not ingest_needs_torch(auto)
    made["onnx"] = False
    assert ingest_needs_torch(auto)
    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: False)
    made["onnx"] = True
    made["openvino"] = False
    assert not ingest_needs_torch(auto)  # without OpenVINO only onnx can run
    assert ingest_needs_torch(Settings(embedding={"backend": "auto", "device": "cuda"}))


@pytest.mark.parametrize(
    "changes",
    [
        {"embedding": {"backend": "torch"}},
        {"anonymize": {"spacy_model": "en_core_web_trf"}},
    ],
)
def test_settings_that_run_torch_keep_it(changes):
    assert ingest_needs_torch(Settings(**changes))


def test_an_export_not_yet_made_keeps_torch_to_make_it(tmp_path):
    assert ingest_needs_torch(Settings(embedding={"cache_dir": tmp_path / "empty-cache"}))


# `python -m rag.cli ingest FOLDER`, then what was imported.
RUN_INGEST = """
import runpy, sys
sys.argv = ["rag", "ingest", sys.argv[1]]
try:
    runpy.run_module("rag.cli", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    print("exit", stop.code or 0)
loaded = lambda name: sys.modules.get(name) is not None
print("torch", loaded("torch"), "transformers", loaded("transformers"))
print("presidio", loaded("presidio_analyzer"))
"""


@pytest.mark.slow
def test_rag_ingest_indexes_a_folder_without_importing_torch(tmp_path, embedder):
    env = dict(
        os.environ,
        RAG_DATA_DIR=str(tmp_path / "data"),
        RAG_INGEST__ALLOWED_ROOTS=json.dumps([str(EXAMPLES)]),
        HF_HUB_OFFLINE="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", RUN_INGEST, str(EXAMPLES)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert "exit 0" in done.stdout and "indexed" in done.stdout, done.stderr[-2000:]
    assert "torch False transformers False" in done.stdout
    assert "presidio True" in done.stdout  # it anonymized, without them


@pytest.mark.parametrize(
    ("llm", "needed"),
    [
        ({}, False),  # llama.cpp
        ({"backend": "transformers"}, True),
        ({"backend": "openai_compatible"}, False),  # prompt tokens estimated
    ],
)
def test_the_api_needs_torch_only_for_an_llm_that_runs_it(embedder, llm, needed):
    assert serving_needs_torch(Settings(llm=llm)) is needed


def test_an_llm_servers_tokenizer_needs_torch_unless_it_is_a_gguf_file(embedder, tmp_path):
    folder = tmp_path / "tokenizer"
    folder.mkdir()
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    for tokenizer, needed in ((folder, True), (gguf, False)):
        llm = {"backend": "openai_compatible", "server": {"tokenizer": str(tokenizer)}}
        assert serving_needs_torch(Settings(llm=llm)) is needed
