"""A backend's library may quote what it was given (the prompt, with the question and the
passages) in its exception text. A GeneratorError's message reaches the API client, so it names
the failure and the exception's type, never that text."""

from __future__ import annotations

import pytest

from rag.llm import GeneratorError

PLANTED = "Priya Raman"
QUESTION = [{"role": "user", "content": f"How many days of leave does {PLANTED} have?"}]


def test_llama_cpp_library_error_text_is_not_in_the_generator_error(generator, monkeypatch):
    llm = generator._llm

    def refuse(prompt, **_):
        raise ValueError(f"cannot process prompt: {llm.detokenize(prompt).decode()}")

    monkeypatch.setattr(llm, "create_completion", refuse)
    with pytest.raises(GeneratorError) as caught:
        generator.stream(QUESTION, max_tokens=4).text()
    assert PLANTED in str(caught.value.__cause__)  # the library's text did quote it
    assert PLANTED not in str(caught.value)
    assert "ValueError" in str(caught.value)


def test_transformers_library_error_text_is_not_in_the_generator_error(
    transformers_generator, monkeypatch
):
    tokenizer = transformers_generator.tokenizer

    def fail(inputs, *_args, **_kwargs):
        quoted = tokenizer.decode(inputs["input_ids"][0])
        raise RuntimeError(f"generation failed for input: {quoted}")

    monkeypatch.setattr(transformers_generator, "_run_model", fail)
    with pytest.raises(GeneratorError) as caught:
        transformers_generator.stream(QUESTION, max_tokens=4).text()
    assert PLANTED in str(caught.value.__cause__)
    assert PLANTED not in str(caught.value)
    assert "RuntimeError" in str(caught.value)
