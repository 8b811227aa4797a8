"""What the backends share: stop strings across streamed pieces, deadlines, the token stream."""

from __future__ import annotations

import pytest

from rag.llm.base import (
    Deadline,
    GeneratorTimeout,
    StopScanner,
    StreamControl,
    TokenStream,
    Usage,
)


def scan(pieces: list[str], stop: list[str]) -> tuple[str, bool]:
    scanner = StopScanner(stop)
    out = []
    for piece in pieces:
        out.append(scanner.feed(piece))
        if scanner.stopped:
            return "".join(out), True
    return "".join(out) + scanner.flush(), False


@pytest.mark.parametrize(
    ("pieces", "stop", "expected"),
    [
        (["The answer", " is 25", " days."], ["25"], ("The answer is ", True)),
        # The stop string arrives split across pieces: no part of it is ever yielded.
        (["The answer is 2", "5 days."], ["25"], ("The answer is ", True)),
        (["Alpha<|im", "_end|>junk"], ["<|im_end|>"], ("Alpha", True)),
        # A prefix that never completes is given back at the end.
        (["costs 2", "0 euros"], ["25"], ("costs 20 euros", False)),
        (["ends with <|im"], ["<|im_end|>"], ("ends with <|im", False)),
        # The earliest of several stop strings wins.
        (["one two three"], ["three", "two"], ("one ", True)),
        (["no stops here"], [], ("no stops here", False)),
    ],
)
def test_stop_scanner(pieces, stop, expected):
    assert scan(pieces, stop) == expected


def test_deadline():
    assert Deadline(None).remaining() is None
    Deadline(None).check()
    Deadline(60).check()
    with pytest.raises(GeneratorTimeout, match="longer than 0 s"):
        Deadline(0).check()


def test_token_stream_reports_cancel_and_closes_its_generator():
    closed = []

    def pieces(ts: StreamControl):
        try:
            for word in ("a", "b", "c"):
                if ts.cancelled.is_set():
                    break
                yield word
            ts.finish(Usage(3, 1), "stop")
        finally:
            closed.append(True)

    stream = TokenStream(pieces)
    assert next(stream) == "a"
    stream.cancel()
    assert list(stream) == []
    assert stream.finish_reason == "cancelled"
    assert stream.usage == Usage(3, 1)

    early = TokenStream(pieces)
    next(early)
    early.close()  # a client that goes away mid-answer
    assert closed == [True, True]


def test_a_dropped_stream_releases_its_generator_at_once():
    import gc

    released = []

    def pieces(ts: StreamControl):
        try:
            yield "a"
            yield "b"
        finally:
            released.append(True)  # where a backend gives its model lock back

    gc.disable()  # only reference counting: no cycle may keep the generator alive
    try:
        stream = TokenStream(pieces)
        next(stream)
        del stream
        assert released == [True]
    finally:
        gc.enable()
