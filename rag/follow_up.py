"""Follow-up questions in a conversation: which lean on an earlier question, and what to search.
The rules, and why looser ones were left out: docs/architecture.md ("Asking", follow-ups). The
answer is still written for the question as asked, with the conversation before it in the prompt.
"""

from __future__ import annotations

import re

from rag.db.fulltext import query_terms
from rag.llm.base import ChatMessage

# Openings that continue the previous question rather than ask a new one.
CONNECTIVES = re.compile(
    r"^\s*(and|also|plus|what about|how about|what if|same for)\b", re.IGNORECASE
)
# Words that point back at something named earlier ("there" is left out: "is there ...?").
POINTING_BACK = frozenset(
    "it its they them their that this those these he she him her".split()  # noqa: SIM905
)
# Question words that name no topic ("How much?", "How long?").
NO_TOPIC = frozenset(["much", "many", "long", "often", "else", "exactly"])


def is_follow_up(question: str) -> bool:
    if CONNECTIVES.match(question):
        return True
    words, pseudonyms = query_terms(question)
    content = len([w for w in words if w not in NO_TOPIC]) + len(pseudonyms)
    if content == 0:
        return True
    every_word = {w.lower() for w in re.findall(r"[^\W_]+", question)}
    return content == 1 and bool(every_word & POINTING_BACK)


def earlier_question(question: str, history: list[ChatMessage] | None) -> str | None:
    """For a follow-up, the asker's last self-contained question before it; else None."""
    if not history or not is_follow_up(question):
        return None
    for turn in reversed(history):
        if turn["role"] == "user" and not is_follow_up(turn["content"]):
            return turn["content"]
    return None
