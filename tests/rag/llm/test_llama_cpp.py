"""The llama.cpp backend with the default settings, on the embedded SmolLM2 model."""

from __future__ import annotations

import pytest

from rag.answer import SYSTEM_PROMPT
from rag.llm.facts import facts_in

pytestmark = pytest.mark.slow


def test_the_default_decoding_lets_the_model_state_the_figure_its_quote_gives(generator):
    # A filing question as the answer prompt puts it (rag/answer.py). With llama.cpp's repeat
    # penalty at 1.1 the model wrote "Apple's net profit for the nine months ended June 25,
    # 2022." and no figure: the penalty on the words and digits it had just written pushed it
    # off them (bench/RESULTS.md, issue 18).
    question = "What was Apple's net income for the nine months ended June 25, 2022?"
    quote = "Net income; Nine Months Ended June 25, 2022: $79,082"
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": f"Most relevant:\n[2] {quote}\n\nQuestion: {question}\nAnswer:",
        },
    ]
    facts = facts_in([question, quote])  # what the answer may state (rag/llm/facts.py)
    assert "79,082" in generator.complete(messages, max_tokens=64, facts=facts).text
