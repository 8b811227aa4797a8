"""llama.cpp's repacked weight buffers stay off: their AMX kernels crash on some Intel Xeons
(this project's test machine among them: every answer of the embedded model was a SIGSEGV)."""

from __future__ import annotations

import llama_cpp.llama_cpp as bindings

from rag.llm.llama_weights import plain_weight_buffers


def test_the_embedded_model_keeps_its_weights_in_plain_buffers(generator):
    assert generator._llm.model_params.use_extra_bufts is False


def test_the_model_answers_a_prompt_long_enough_to_use_the_batched_kernels(generator):
    # The crash came in the first decode of a prompt: a few hundred tokens read in one batch.
    messages = [{"role": "user", "content": "The capital of France is Paris. " * 60 + "Capital?"}]
    answer = "".join(generator.stream(messages, max_tokens=4))
    assert answer.strip()


def test_llama_cpp_defaults_are_restored_after_a_load():
    with plain_weight_buffers():
        assert bindings.llama_model_default_params().use_extra_bufts is False
    assert bindings.llama_model_default_params().use_extra_bufts is True
