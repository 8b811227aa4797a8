"""The transformers backend's own parts: device and quantization choices, the repeat penalty,
and int8 weights on the CPU with the real model.

No GPU here: the CUDA choices (bitsandbytes 4-bit / 8-bit, bfloat16) are checked as the
arguments they give from_pretrained, not run.
"""

from __future__ import annotations

import pytest
import torch

from rag.config import Settings, TransformersSettings
from rag.llm import GeneratorError
from rag.llm.transformers_backend import (
    RecentRepetitionPenalty,
    TransformersGenerator,
    load_options,
)


def test_cpu_loads_float32_and_quantizes_int8_after_loading():
    assert load_options(TransformersSettings(), "cpu") == ({"dtype": torch.float32}, False)
    options, int8 = load_options(TransformersSettings(quantization="int8"), "cpu")
    assert options == {"dtype": torch.float32} and int8


def test_nf4_without_cuda_is_a_clear_error():
    with pytest.raises(GeneratorError, match="nf4 needs CUDA"):
        load_options(TransformersSettings(device="auto", quantization="nf4"), "cpu")


def test_cuda_choices_become_bitsandbytes_configs():
    options, int8_on_cpu = load_options(TransformersSettings(quantization="nf4"), "cuda")
    config = options["quantization_config"]
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert options["device_map"] == {"": 0} and not int8_on_cpu
    options, _ = load_options(TransformersSettings(quantization="int8"), "cuda")
    assert options["quantization_config"].load_in_8bit
    options, _ = load_options(TransformersSettings(dtype="float16"), "cuda")
    assert options == {"dtype": torch.float16, "device_map": {"": 0}}


def test_repeat_penalty_looks_at_recent_generated_tokens_only():
    penalty = RecentRepetitionPenalty(2.0, prompt_tokens=3, window=2)
    scores = torch.tensor([[4.0, 4.0, 4.0, 4.0, -4.0, 4.0]])
    # Tokens 0-2 are the prompt; 1, 4 and 5 were generated, 4 and 5 are within the window.
    ids = torch.tensor([[0, 1, 2, 1, 4, 5]])
    out = penalty(ids, scores.clone())
    assert out.tolist() == [[4.0, 4.0, 4.0, 4.0, -8.0, 2.0]]
    # Nothing generated yet: the prompt is never penalized.
    assert penalty(ids[:, :3], scores.clone()).tolist() == scores.tolist()


def test_a_model_file_that_is_not_gguf_is_refused(tmp_path):
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"not a model")
    settings = Settings().llm.model_copy(update={"backend": "transformers", "model": str(weights)})
    with pytest.raises(GeneratorError, match="checkpoint folder or a GGUF file, not model.bin"):
        TransformersGenerator(settings)


@pytest.mark.slow
def test_int8_weights_on_the_cpu_still_generate():
    llm = Settings().llm
    settings = llm.model_copy(
        update={
            "backend": "transformers",
            "transformers": TransformersSettings(device="cpu", quantization="int8"),
        }
    )
    generator = TransformersGenerator(settings)
    modules = list(generator.model.modules())
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in modules)
    assert not any(type(m) is torch.nn.Linear for m in modules)  # every linear layer is int8
    stream = generator.stream([{"role": "user", "content": "Say hello."}], max_tokens=8)
    assert stream.text().strip()
    assert 1 <= stream.usage.completion_tokens <= 8
