"""Configured devices: auto falls back to the CPU, an explicit cuda that cannot run is a clear
startup error naming its setting. What torch and faiss report is set per test, so each case
runs on any machine; the CPU-only answers are also what this CI machine really gives."""

from __future__ import annotations

import faiss
import pytest
import torch

from rag.config import Settings
from rag.devices import (
    DeviceUnavailableError,
    check_devices,
    pick_torch_device,
    resolve_index_device,
)


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delattr(faiss, "StandardGpuResources", raising=False)


@pytest.fixture
def gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(faiss, "StandardGpuResources", object, raising=False)
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 1, raising=False)


def test_auto_and_cpu_run_on_the_cpu(cpu_only):
    assert pick_torch_device("auto") == pick_torch_device("cpu") == "cpu"
    assert resolve_index_device("auto") == resolve_index_device("cpu") == "cpu"
    assert check_devices(Settings()) == {
        "embedding.device": "cpu",
        "retrieval.index_device": "cpu",
    }


def test_this_machine_without_a_gpu_is_cpu_only():
    if torch.cuda.is_available() or hasattr(faiss, "StandardGpuResources"):
        pytest.skip("this machine has a GPU build: the other tests cover it")
    assert check_devices(Settings())["retrieval.index_device"] == "cpu"


def test_cuda_without_a_gpu_names_the_setting(cpu_only):
    with pytest.raises(DeviceUnavailableError, match="embedding.device is cuda"):
        pick_torch_device("cuda", "embedding.device")
    with pytest.raises(DeviceUnavailableError, match="faiss-gpu-cu12 in place of faiss-cpu"):
        resolve_index_device("cuda")


def test_faiss_gpu_without_a_visible_gpu(monkeypatch):
    monkeypatch.setattr(faiss, "StandardGpuResources", object, raising=False)
    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 0, raising=False)
    assert resolve_index_device("auto") == "cpu"
    with pytest.raises(DeviceUnavailableError, match="faiss sees no GPU"):
        resolve_index_device("cuda")


def test_auto_takes_a_gpu_and_cpu_keeps_the_cpu(gpu):
    assert pick_torch_device("auto") == resolve_index_device("auto") == "cuda"
    assert pick_torch_device("cpu") == resolve_index_device("cpu") == "cpu"


def test_the_transformers_backend_device_is_checked_only_when_it_is_used(cpu_only):
    llm = {"backend": "transformers", "transformers": {"device": "cuda", "quantization": "nf4"}}
    with pytest.raises(DeviceUnavailableError, match="llm.transformers.device"):
        check_devices(Settings(llm=llm))
    llm["backend"] = "llama_cpp"
    assert "llm.transformers.device" not in check_devices(Settings(llm=llm))


def test_the_onnx_embedder_is_reported_on_the_cpu_it_runs_on_even_beside_a_gpu(gpu):
    # Before, a GPU host showed embedding.device cuda while ONNX Runtime ran on its CPU.
    assert check_devices(Settings())["embedding.device"] == "cpu"
    torch_backend = Settings(embedding={"backend": "torch"})
    assert check_devices(torch_backend)["embedding.device"] == "cuda"


def test_auto_embeds_on_the_cpu_unless_its_device_is_cuda(gpu):
    auto = Settings(embedding={"backend": "auto"})
    assert check_devices(auto)["embedding.device"] == "cpu"
    on_cuda = Settings(embedding={"backend": "auto", "device": "cuda"})
    assert check_devices(on_cuda)["embedding.device"] == "cuda"  # auto on cuda is torch
