"""Where models and the index run: the configured device, checked before anything loads.

`auto` takes a GPU when one can be used and the CPU otherwise; an explicit `cuda` that cannot
run is a startup error naming the setting, never a silent fall back to the CPU (a GPU host
quietly running on its CPU is slow in a way nobody notices until it matters).
"""

from __future__ import annotations


class DeviceUnavailableError(RuntimeError):
    """A configured device cannot be used. Raised at startup, naming the setting."""


def pick_torch_device(preference: str, setting: str = "device") -> str:
    """cpu or cuda for a torch model; `setting` names the config key in the error."""
    if preference == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if preference == "auto":
        return "cpu"
    raise DeviceUnavailableError(
        f"{setting} is cuda, but torch sees no CUDA device (a CPU build of torch, no driver, "
        f"or CUDA_VISIBLE_DEVICES empty); set it to auto or cpu"
    )


def pick_embedding_device(embedding) -> str:
    """cpu or cuda for the configured embedder (`EmbeddingSettings`): the onnx and openvino
    backends run on the CPU (their settings refuse cuda), and so does auto unless the device
    is cuda (then it is torch), so no torch is asked."""
    if embedding.on_cpu_runtime:
        return "cpu"
    return pick_torch_device(embedding.device, "embedding.device")


def faiss_gpu_available() -> bool:
    """Whether this faiss build has GPU support and sees at least one GPU."""
    import faiss

    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def resolve_index_device(preference: str) -> str:
    """`retrieval.index_device` as it will run: cpu or cuda."""
    if preference == "cpu":
        return "cpu"
    if faiss_gpu_available():
        return "cuda"
    if preference == "auto":
        return "cpu"
    import faiss

    if not hasattr(faiss, "StandardGpuResources"):
        raise DeviceUnavailableError(
            "retrieval.index_device is cuda, but the installed faiss has no GPU support: "
            "install faiss-gpu-cu12 in place of faiss-cpu, or set it to auto"
        )
    raise DeviceUnavailableError(
        "retrieval.index_device is cuda, but faiss sees no GPU (check the driver and "
        "CUDA_VISIBLE_DEVICES), or set it to auto"
    )


def check_devices(settings) -> dict[str, str]:
    """Every configured device as it will run ({setting: cpu|cuda}); raises
    DeviceUnavailableError for the first that cannot."""
    devices = {
        "embedding.device": pick_embedding_device(settings.embedding),
        "retrieval.index_device": resolve_index_device(settings.retrieval.index_device),
    }
    if settings.llm.backend == "transformers":
        setting = "llm.transformers.device"
        devices[setting] = pick_torch_device(settings.llm.transformers.device, setting)
    return devices
