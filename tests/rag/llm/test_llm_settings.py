"""The llm: settings: backends, the model server's allowed networks, clear errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.config import LlmSettings, ServerSettings, Settings, TransformersSettings


def test_defaults_come_from_the_yaml_and_keep_llama_cpp():
    llm = Settings().llm
    assert llm.backend == "llama_cpp"
    assert llm.server.base_url == "http://127.0.0.1:8080/v1"
    assert "10.0.0.0/8" in llm.server.allowed_networks
    assert llm.transformers.quantization == "none"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000/v1",
        "http://localhost:11434/v1",
        "https://10.1.2.3/v1",
        "http://172.20.0.5:8000/v1",
        "http://192.168.1.10/v1",
        "http://[::1]:8080/v1",
        "http://[fd12:3456::1]:8000/v1",
    ],
)
def test_loopback_and_private_addresses_are_accepted(base_url):
    assert ServerSettings(base_url=base_url).base_url == base_url


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://8.8.8.8/v1", "outside llm.server.allowed_networks"),
        ("http://172.32.0.1/v1", "outside llm.server.allowed_networks"),
        ("http://[::ffff:8.8.8.8]/v1", "outside llm.server.allowed_networks"),
        ("http://[2001:db8::1]/v1", "outside llm.server.allowed_networks"),
        ("http://api.example.com/v1", "not listed in llm.server.allowed_hosts"),
        # Another spelling of an address is a name: never resolved, so refused.
        ("http://2130706433/v1", "not listed in llm.server.allowed_hosts"),
        ("ftp://10.0.0.1/v1", "must start with http:// or https://"),
        ("10.0.0.1:8000/v1", "must start with http:// or https://"),
        ("http://user:secret@10.0.0.1/v1", "must not hold credentials"),
        ("http:///v1", "has no host"),
        ("http://10.0.0.1:99999/v1", "invalid port"),
    ],
)
def test_other_base_urls_are_refused_saying_why(base_url, message):
    with pytest.raises(ValidationError, match=message):
        ServerSettings(base_url=base_url)


def test_a_host_name_is_accepted_once_listed():
    server = ServerSettings(
        base_url="http://vllm.corp.internal:8000/v1", allowed_hosts=["VLLM.corp.internal"]
    )
    assert server.base_url.startswith("http://vllm.corp.internal")


def test_allowed_networks_can_be_narrowed_and_must_parse():
    with pytest.raises(ValidationError, match="outside"):
        ServerSettings(base_url="http://192.168.1.10/v1", allowed_networks=["10.0.0.0/8"])
    with pytest.raises(ValidationError, match="'10.0.0/33' is not a network"):
        ServerSettings(allowed_networks=["10.0.0/33"])


def test_environment_overrides_are_checked_too(monkeypatch):
    monkeypatch.setenv("RAG_LLM__BACKEND", "openai_compatible")
    monkeypatch.setenv("RAG_LLM__SERVER__BASE_URL", "http://10.0.0.7:8000/v1")
    monkeypatch.setenv("RAG_LLM__SERVER__API_KEY", "sk-local")
    llm = Settings().llm
    assert llm.server.base_url == "http://10.0.0.7:8000/v1"
    assert "sk-local" not in repr(llm)  # the key is a secret: never printed
    monkeypatch.setenv("RAG_LLM__SERVER__BASE_URL", "http://203.0.113.9/v1")
    with pytest.raises(ValidationError, match="203.0.113.9 is outside"):
        Settings()


def test_unknown_backend_and_misspelt_keys_are_refused():
    with pytest.raises(ValidationError, match="openai_compatible"):
        LlmSettings(backend="vllm")
    with pytest.raises(ValidationError, match="base_ur"):
        LlmSettings(server={"base_ur": "http://10.0.0.1/v1"})
    with pytest.raises(ValidationError, match="quantisation"):
        LlmSettings(transformers={"quantisation": "nf4"})


def test_nf4_is_refused_on_the_cpu():
    with pytest.raises(ValidationError, match="nf4 needs CUDA"):
        TransformersSettings(device="cpu", quantization="nf4")
    assert TransformersSettings(device="cuda", quantization="nf4").quantization == "nf4"
