"""Follow-up questions: which are taken as follow-ups, and that they find what the
conversation is about (real models, both databases)."""

from __future__ import annotations

import pytest

from rag.follow_up import earlier_question, is_follow_up

LEAVE = "How many days of annual leave do employees get?"


@pytest.mark.parametrize(
    "question",
    [
        "And part-time staff?",
        "what about interns?",
        "How about contractors in Berlin?",
        "Also for managers?",
        "Is it paid?",
        "How much?",
        "How long?",
        "Why?",
        "Can I carry them over?",
        "Who approves that?",
    ],
)
def test_follow_ups(question):
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        LEAVE,
        "Gym subsidy?",
        "What is GDPR?",
        "Where is the canteen?",
        "Who is the CEO?",
        "Is there parking?",
        "Or is remote work allowed on Fridays?",
        "But who approves expenses over 500 euros?",
        "Where do I park my bike?",
        "Is it possible to work from home on Fridays?",
        "Android devices need which encryption settings?",
    ],
)
def test_self_contained_questions(question):
    assert not is_follow_up(question)


def test_the_earlier_question_is_the_last_self_contained_one_of_the_asker():
    history = [
        {"role": "user", "content": "Where is the canteen?"},
        {"role": "assistant", "content": "On the ground floor [1]."},
        {"role": "user", "content": LEAVE},
        {"role": "assistant", "content": "27 days [1]."},
        {"role": "user", "content": "And part-time staff?"},
        {"role": "assistant", "content": "Pro rata [1]."},
    ]
    assert earlier_question("What about interns?", history) == LEAVE
    assert earlier_question("Where do I park my bike?", history) is None
    assert earlier_question("What about interns?", []) is None
    assert earlier_question("What about interns?", history[-2:]) is None


DOCS = {
    "leave.txt": "Annual leave\n\nEmployees get 27 days of paid annual leave per calendar "
    "year. Staff on reduced hours receive their days pro rata.",
    "part-time-work.txt": "Working part-time\n\nPart-time staff agree their working pattern "
    "with their manager and record it in the HR system.",
    "canteen.txt": "Canteen\n\nThe canteen serves lunch from noon to two o'clock.",
}


@pytest.fixture
def service(make_indexed_service):
    return make_indexed_service(DOCS)


def test_a_follow_up_is_searched_with_the_question_it_follows(service):
    history = [
        {"role": "user", "content": LEAVE},
        {"role": "assistant", "content": "27 days [1]."},
    ]
    alone = service.search("And part-time staff?")
    assert alone and alone[0].path == "part-time-work.txt"
    followed = service.search("And part-time staff?", history=history)
    assert followed[0].path == "leave.txt"


def test_a_change_of_topic_is_searched_alone(service):
    history = [
        {"role": "user", "content": LEAVE},
        {"role": "assistant", "content": "27 days [1]."},
    ]
    for question in ("Where do I park my bike?", "What is GDPR?", "Who is the CEO?"):
        assert service.search(question, history=history) == service.search(question) == []
