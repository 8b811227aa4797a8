"""The chat page in a real browser: sign in, ask, read the source; conversations; errors;
keyboard only; phone width."""

from __future__ import annotations

import json
import re

import pytest

from rag.db.models import ApiKey
from rag.db.session import transaction
from tests.e2e.browser.conftest import ask, screenshot, sign_in

pytestmark = pytest.mark.slow

LEAVE = "How many days of paid annual leave do employees get?"
NOT_IN_DOCUMENTS = "What is the boiling point of tungsten?"


def test_ask_and_open_the_first_source(open_page, server):
    page = open_page()
    sign_in(page, server.reader_key)
    assert "browser-reader" in page.text_content("#who")
    assert page.is_hidden("#nav-admin")

    answer = ask(page, LEAVE)
    assert answer.locator(".text").inner_text().strip()
    assert "not-found" not in answer.get_attribute("class")

    # Each source names its file (as readers see it) beside its title.
    listed_source = answer.locator(".sources li").first.inner_text()
    assert "Northwind Robotics Employee Handbook (employee-handbook.pdf), p. 3" in listed_source
    answer.locator(".sources .cite").first.click()
    dialog = page.locator("dialog#source")
    dialog.wait_for()
    assert dialog.locator("#source-title").inner_text() == "Northwind Robotics Employee Handbook"
    assert dialog.locator("#source-page").inner_text() == "Page 3"
    assert dialog.locator("#source-path").inner_text() == "employee-handbook.pdf"
    assert "annual leave" in dialog.locator("#source-passage").inner_text().lower()
    link = dialog.locator("#source-open").get_attribute("href")
    assert link.startswith("/v1/documents/") and link.endswith("/file#page=3")
    screenshot(page, "chat-source.png")

    # The original can be fetched with the key, as the link's click handler does.
    status = page.evaluate(
        """async href => (await fetch(href.split('#')[0], {headers:
            {Authorization: 'Bearer ' + sessionStorage.getItem('rag.apiKey')}})).status""",
        link,
    )
    assert status == 200

    # Clicking opens the original through a short-lived file link at the cited page: a real
    # URL of the service with its own headers, never a blob: URL of the page's origin.
    with page.context.expect_page() as opened:
        dialog.locator("#source-open").click()
    opened.value.wait_for_url(re.compile(r"/v1/documents/\d+/file\?ticket=[\w.-]+#page=3$"))
    opened.value.close()

    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    # The conversation is listed under its question.
    listed = page.locator("#conversation-list .conversation", has_text=LEAVE)
    assert listed.count() >= 1
    screenshot(page, "chat-laptop.png")


def test_not_in_the_documents_past_conversations_and_new_chat(open_page, server):
    page = open_page()
    sign_in(page, server.new_key("browser-history"))
    answer = ask(page, NOT_IN_DOCUMENTS)
    assert "not-found" in answer.get_attribute("class")
    assert answer.locator(".who-said").inner_text() == "Not in the documents"
    assert answer.locator(".sources").count() == 0

    page.click("#new-chat")
    assert page.locator(".message").count() == 0
    assert page.evaluate("document.activeElement.id") == "question"

    page.locator("#conversation-list .conversation", has_text=NOT_IN_DOCUMENTS).click()
    page.wait_for_selector(".message.question")
    assert page.locator(".message.question .text").inner_text() == NOT_IN_DOCUMENTS
    assert page.locator(".message.answer.not-found").count() == 1

    # Kept in SQL per key: a new tab with the same key sees it too.
    again = open_page()
    sign_in(again, server.new_key("browser-other"))
    assert again.locator("#conversation-list .conversation").count() == 0


def test_keyboard_only(open_page, server):
    page = open_page()
    # The page's script puts the focus on the key field once it has started.
    # A function, not a bare expression: Playwright evaluates a bare expression with eval()
    # on each poll, which the page's Content-Security-Policy (no 'unsafe-eval') refuses.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'key'")
    page.keyboard.type(server.reader_key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "question"

    page.keyboard.type("How much is the gym")
    page.keyboard.press("Shift+Enter")  # a new line, not sent
    page.keyboard.type("subsidy?")
    assert page.input_value("#question") == "How much is the gym\nsubsidy?"
    answer_count = page.locator(".message.answer").count()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.message.answer[data-state=done]').length > n",
        arg=answer_count,
        timeout=180_000,
    )
    page.wait_for_selector("#send:not([disabled])")
    assert page.evaluate("document.activeElement.id") == "question"
    screenshot(page, "chat-answer.png")

    # Back from the question box to the last source of the answer, open it, close it.
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "cite" in focused
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog#source[open]")
    assert page.locator("#source-title").inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog#source:not([open])", state="attached")
    assert "cite" in page.evaluate("document.activeElement.className")
    # Focus is visible: the focused element draws an outline.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_errors_in_plain_words(open_page, server):
    page = open_page()
    page.fill("#key", "rag_not-a-key")
    page.press("#key", "Enter")
    page.wait_for_selector("#signin-error:not(:empty)")
    assert "not accepted" in page.text_content("#signin-error")
    assert page.is_visible("#signin")

    # A busy generator's 429 (its own test is the API's) is shown with its wait, and the
    # question is given back to send again.
    sign_in(page, server.reader_key)
    busy = '{"status": 429, "code": "too_many_requests", "message": "busy"}'
    page.route(
        "**/v1/conversations/*/messages",
        lambda route: route.fulfill(
            status=429, body=busy, headers={"Retry-After": "7"}, content_type="application/json"
        ),
    )
    page.fill("#question", "When does the canteen open?")
    page.press("#question", "Enter")
    page.wait_for_selector("#chat-status:not(:empty)")
    assert "try again in 7 seconds" in page.text_content("#chat-status")
    assert page.input_value("#question") == "When does the canteen open?"
    page.unroute("**/v1/conversations/*/messages")
    page.click("#sign-out")

    # A key revoked while the page is open sends the employee back to sign in, saying why.
    name = "browser-revoked"
    sign_in(page, server.new_key(name))
    with transaction(server.service.session_factory) as session:
        session.query(ApiKey).filter_by(name=name).one().revoked = True
    page.fill("#question", "When does the canteen open?")
    page.press("#question", "Enter")
    page.wait_for_selector("#signin:not([hidden])")
    assert "not accepted" in page.text_content("#signin-error")


def test_phone_width(open_page, server):
    page = open_page(390, 844)
    sign_in(page, server.reader_key)
    ask(page, NOT_IN_DOCUMENTS)
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "chat-phone.png")


def test_the_quote_is_highlighted_in_its_source(open_page, server):
    page = open_page()
    sign_in(page, server.reader_key)
    answer = ask(page, LEAVE)
    # The sources' own words come with the answer (before its tokens: rag/api/sse.py).
    quote = answer.locator(".quotes .quote").first
    quoted = quote.locator("q").inner_text()
    assert "leave" in quoted.lower()
    quote.locator(".cite").click()
    dialog = page.locator("dialog#source")
    dialog.wait_for()
    marks = dialog.locator("#source-passage mark.quote-mark")
    assert marks.count() >= 1
    assert quoted in [marks.nth(i).inner_text() for i in range(marks.count())]
    # Highlighted inside its passage, not in place of it.
    assert len(dialog.locator("#source-passage").inner_text()) > len(quoted)
    screenshot(page, "chat-quote.png")
    page.keyboard.press("Escape")


def _stream(events: list[tuple[str, dict]]) -> str:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def test_an_unsupported_sentence_is_marked_plainly(open_page, server):
    page = open_page()
    sign_in(page, server.new_key("browser-grounding"))
    # Whether the small model states something unsupported cannot be chosen, so the server's
    # stream is replaced by one in its shape (the API's tests check the server's checking):
    # the page must mark the unsupported sentence, and only it, saying why.
    citation = {
        "n": 1,
        "document_id": 1,
        "title": "Handbook",
        "path": "handbook.pdf",
        "page": 3,
        "snippet": "Annual leave. Employees receive 27 days of paid annual leave per year.",
        "score": 0.8,
    }
    grounded = "Employees receive 27 days of paid annual leave [1]."
    unsupported = "Unused days are paid out at 150% in March [1]."
    text = grounded + " " + unsupported
    sentences = [
        {"text": grounded, "grounded": True, "reason": "its figures are in the sources"},
        {"text": unsupported, "grounded": False, "reason": "150% is not in the sources"},
    ]
    quote = {
        "citation": 1,
        "text": "Employees receive 27 days of paid annual leave per year.",
        "start": 14,
        "end": 70,
    }
    body = _stream(
        [
            ("citations", {"citations": [citation], "found": True}),
            ("quotes", {"quotes": [quote]}),
            ("token", {"text": text}),
            (
                "done",
                {
                    "answer": text,
                    "found": True,
                    "citations": [citation],
                    "sentences": sentences,
                    "conversation_id": 0,
                    "title": LEAVE,
                    "message_ids": [0, 0],
                },
            ),
        ]
    )
    page.route(
        "**/v1/conversations/*/messages",
        lambda route: route.fulfill(status=200, body=body, content_type="text/event-stream"),
    )
    answer = ask(page, LEAVE)
    page.unroute("**/v1/conversations/*/messages")
    marked = answer.locator(".text .unsupported")
    assert marked.count() == 1
    assert marked.inner_text() == "Unused days are paid out at 150% in March 1."  # [1]: a button
    note = answer.locator(".text .unsupported-note").inner_text()
    assert "not supported by the sources" in note and "150% is not in the sources" in note
    assert answer.locator(".text").inner_text().startswith("Employees receive 27 days")
    # The quote is highlighted where it stands in the passage.
    answer.locator(".quotes .cite").click()
    mark = page.locator("#source-passage mark.quote-mark")
    assert mark.inner_text() == quote["text"]
    assert page.locator("#source-passage").inner_text().startswith("Annual leave. Employees")
    screenshot(page, "chat-unsupported.png")
