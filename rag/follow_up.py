"""Follow-up questions in a conversation: which lean on an earlier question, and what to search.

"And for part-time staff?" or "Is it paid?" mean little on their own words: searched alone they
find passages about part-time staff in general, or nothing. Such a question is searched
together with the asker's last self-contained question. Only clear signs make a follow-up: a
leading connective ("and ...", "what about ..."), no content word at all ("Why?", "How
much?"), or a single content word beside a word pointing back ("Is it paid?", "Who approves
that?"). "What is GDPR?" or "Where is the canteen?" are short but complete, and stay alone.
A looser rule would cost more than it gains: a self-contained question searched with the
previous one finds the previous topic's passages relevant, and "not in the documents" must
stay detectable after a change of topic. The answer is still written for the question as
asked, with the conversation before it in the prompt (rag/answer.py).
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
