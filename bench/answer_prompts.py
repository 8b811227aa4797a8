"""Prompt and decoding variants for the small LLM, compared on the same questions and store.

    python bench/answer_prompts.py --dataset ../shared/eval/squad-dev --limit 40 \
        [--skip 0] [--variants before,after,...] [--out FILE.json]

One store is built (as `rag eval answers` builds it), then every question is asked once per
variant, the variants taking turns question by question (so the machine's load falls on all of
them alike), through the real service and `rag.evaluation.answers.ask_one`: containment, token
F1, the grounding check, time to first token. A variant sets the system prompt, the answer
settings (sources' token cap, quotes first), the answer's maximum tokens and the decoding.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from results_io import load_average, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

import rag.answer  # noqa: E402
import rag.llm.facts  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation.answers import ask_one, load_answer_set, summarize  # noqa: E402
from rag.evaluation.store import eval_folder_store, eval_store  # noqa: E402

OLD_PROMPT = (
    "You are a company assistant. Answer the question using only the numbered sources. "
    "After each fact, cite its source number in brackets, like [1]. "
    "If the sources do not contain the answer, say that you could not find it in the documents."
)
SHORT_PROMPT = (
    "Answer the question in one short sentence, using only the sources. "
    "Cite the source number in brackets, like [1]. "
    "If the sources do not contain the answer, say that you could not find it in the documents."
)
WORDS_PROMPT = (
    "Answer the question with the words of the sources, in one short sentence, and cite the "
    "source number in brackets, like [1]. "
    "If the sources do not contain the answer, say that you could not find it in the documents."
)
# No citation instruction (the 135M model answered "The answer is: 1", a source number, with
# and without it: not shown to be the cause).
PLAIN_PROMPT = (
    "Answer the question in one short sentence, using only the sources. "
    "If the sources do not contain the answer, say that you could not find it in the documents."
)
# The words of the source, copied: a 135M model paraphrases into a wrong name or figure.
COPY_PROMPT = (
    "Answer the question with the exact words of the source that answer it, in one short "
    "sentence. If the source does not contain the answer, say that you could not find it in "
    "the documents."
)
BASE = {
    "prompt": OLD_PROMPT,
    "source_tokens": None,
    "quotes_in_prompt": False,
    "max_tokens": 256,
    "repeat_penalty": 1.1,
    "temperature": 0.0,
    "sources_in_prompt": True,
    "quotes_shown": None,  # the quotes found, all (None) or the best N
    "quote_bias": 0.0,  # logit bias toward the tokens of the quotes shown (llama.cpp)
    "facts_from_sources": False,  # names and numbers only as the prompt prints them
    "span": False,  # the answer is a span of the quotes shown (llama.cpp)
    "lead": "",  # text the answer is made to open with (put after the prompt; not shown)
    "citation_marks": True,  # false: the facts rule allows no "[n]" in the answer
}
DEFAULT = {
    "prompt": PLAIN_PROMPT,
    "max_tokens": 64,
    "repeat_penalty": 1.0,
    "source_tokens": 200,
    "quotes_in_prompt": True,
    "sources_in_prompt": False,
    "facts_from_sources": True,
}
VARIANTS = {
    "before": {},
    "default": DEFAULT,
    "span": {**DEFAULT, "span": True},
    "span-copy": {**DEFAULT, "span": True, "prompt": COPY_PROMPT},
    "lead": {**DEFAULT, "lead": "The answer is:"},
    "span-lead": {**DEFAULT, "span": True, "lead": "The answer is:"},
    "nocite": {**DEFAULT, "citation_marks": False},
    "lead-nocite": {**DEFAULT, "lead": "The answer is:", "citation_marks": False},
    "short": {"prompt": SHORT_PROMPT, "max_tokens": 64},
    "short-400": {"prompt": SHORT_PROMPT, "max_tokens": 64, "source_tokens": 400},
    "short-400-quotes": {
        "prompt": SHORT_PROMPT,
        "max_tokens": 64,
        "source_tokens": 400,
        "quotes_in_prompt": True,
    },
    "short-200-quotes": {
        "prompt": SHORT_PROMPT,
        "max_tokens": 64,
        "source_tokens": 200,
        "quotes_in_prompt": True,
    },
    "words-400-quotes": {
        "prompt": WORDS_PROMPT,
        "max_tokens": 64,
        "source_tokens": 400,
        "quotes_in_prompt": True,
    },
    "short-400-quotes-rp1.0": {
        "prompt": SHORT_PROMPT,
        "max_tokens": 64,
        "source_tokens": 400,
        "quotes_in_prompt": True,
        "repeat_penalty": 1.0,
    },
    "plain-400-quotes": {
        "prompt": PLAIN_PROMPT,
        "max_tokens": 64,
        "source_tokens": 400,
        "quotes_in_prompt": True,
    },
    "plain-200-quotes": {
        "prompt": PLAIN_PROMPT,
        "max_tokens": 64,
        "source_tokens": 200,
        "quotes_in_prompt": True,
    },
    "short-200-quotes-rp1.0": {
        "prompt": SHORT_PROMPT,
        "max_tokens": 64,
        "source_tokens": 200,
        "quotes_in_prompt": True,
        "repeat_penalty": 1.0,
    },
    "short-400-quotes-t0.2": {
        "prompt": SHORT_PROMPT,
        "max_tokens": 64,
        "source_tokens": 400,
        "quotes_in_prompt": True,
        "temperature": 0.2,
    },
    "quote-only": {
        "prompt": PLAIN_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
    },
    "quote-only-facts": {
        "prompt": PLAIN_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
        "facts_from_sources": True,
    },
    "copy-quote-only": {
        "prompt": COPY_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
    },
    "copy-top-quote": {
        "prompt": COPY_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
        "quotes_shown": 1,
    },
    "copy-quote-only-bias2": {
        "prompt": COPY_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
        "quote_bias": 2.0,
    },
    "copy-quote-only-bias4": {
        "prompt": COPY_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
        "quote_bias": 4.0,
    },
    "quote-only-bias4": {
        "prompt": PLAIN_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
        "quote_bias": 4.0,
    },
    "copy-quote-only-bias8": {
        "prompt": COPY_PROMPT,
        "max_tokens": 64,
        "quotes_in_prompt": True,
        "sources_in_prompt": False,
        "quote_bias": 8.0,
    },
    "copy-200-quotes": {
        "prompt": COPY_PROMPT,
        "max_tokens": 64,
        "source_tokens": 200,
        "quotes_in_prompt": True,
    },
}
_CITE, _CITE_START = rag.llm.facts._CITE, rag.llm.facts._CITE_START
_CHOSEN: dict = dict(BASE)  # the variant in force (read by the wrappers below)
_LAST_QUOTES: list = []
_SPAN: dict = {}


def hook(service) -> None:
    """Wrap the service's quote finder (to keep the best N, and to know the quotes) and the
    llama.cpp call (to add the logit bias toward the quotes' tokens): bench-only levers."""
    finder = service.quotes
    find = finder.find

    def find_kept(question, passages):
        quotes = find(question, passages)
        if _CHOSEN["quotes_shown"]:
            quotes = quotes[: _CHOSEN["quotes_shown"]]
        _LAST_QUOTES[:] = quotes
        return quotes

    finder.find = find_kept
    llm = getattr(service.generator, "_llm", None)
    if llm is None:
        return
    complete = llm.create_completion

    def biased(*args, **kwargs):
        if _CHOSEN["span"] and _LAST_QUOTES:
            from llama_cpp import LogitsProcessorList
            from span_decoding import SpanProcessor, token_ids_by_text

            from rag.llm.llama_facts import TokenTexts

            if "tokens" not in _SPAN:
                _SPAN["tokens"] = TokenTexts(llm)
                _SPAN["by_text"] = token_ids_by_text(_SPAN["tokens"], llm.n_vocab())
            processor = SpanProcessor(
                _SPAN["tokens"], [q.text for q in _LAST_QUOTES], _SPAN["by_text"]
            )
            kwargs["logits_processor"] = LogitsProcessorList([processor])
        if _CHOSEN["lead"]:
            prompt = kwargs["prompt"]
            kwargs["prompt"] = list(prompt) + llm.tokenize(
                _CHOSEN["lead"].encode("utf-8"), add_bos=False, special=False
            )
        if _CHOSEN["quote_bias"] and _LAST_QUOTES:
            ids: set[int] = set()
            for quote in _LAST_QUOTES:
                for text in (quote.text, " " + quote.text):
                    ids.update(llm.tokenize(text.encode("utf-8"), add_bos=False))
            kwargs["logit_bias"] = {i: _CHOSEN["quote_bias"] for i in ids}
        return complete(*args, **kwargs)

    llm.create_completion = biased


ANSWER_SETTINGS = ("source_tokens", "quotes_in_prompt", "sources_in_prompt", "facts_from_sources")


def apply(service, variant: dict) -> None:
    """Set the variant on the running service: the prompt, its settings and the decoding."""
    chosen = {**BASE, **variant}
    _CHOSEN.update(chosen)
    # The facts rule's citation marks (rag/llm/facts.py), or a pattern that matches nothing.
    rag.llm.facts._CITE = _CITE if chosen["citation_marks"] else re.compile(r"(?!)")
    rag.llm.facts._CITE_START = _CITE_START if chosen["citation_marks"] else re.compile(r"(?!)")
    rag.answer.SYSTEM_PROMPT = chosen["prompt"]
    llm = service.settings.llm.model_copy(
        update={k: chosen[k] for k in ("max_tokens", "repeat_penalty", "temperature")}
    )
    answer = service.settings.answer.model_copy(update={k: chosen[k] for k in ANSWER_SETTINGS})
    service.settings = service.settings.model_copy(update={"llm": llm, "answer": answer})
    service.generator.settings = llm  # the backend reads its decoding settings per request


def small_corpus(answer_set, asked: list[str]):
    """The documents the asked questions are about, and their neighbours of the same article."""
    wanted = {doc for qid in asked for doc in answer_set.judged.get(qid, ())}
    if isinstance(answer_set.corpus, Path):
        folder = Path(tempfile.mkdtemp(prefix="answer-prompts-"))
        for source in wanted:
            (folder / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(answer_set.corpus / source, folder / source)
        return folder
    titles = {answer_set.corpus[doc][0] for doc in wanted if doc in answer_set.corpus}
    return {doc: row for doc, row in answer_set.corpus.items() if row[0] in titles}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N questions")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument(
        "--small-corpus",
        action="store_true",
        help="only the asked questions' articles (BEIR: the passages sharing a title with a "
        "judged one) or source files (a question file): a store built in minutes",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench/results/answer-prompts.json")
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(names) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    answer_set = load_answer_set(args.dataset)
    asked = [q for q in answer_set.questions if q in answer_set.answers]
    asked = asked[args.skip : args.skip + args.limit]
    documents = answer_set.corpus
    if args.small_corpus:
        documents = small_corpus(answer_set, asked)
    store_for = eval_folder_store if isinstance(documents, Path) else eval_store
    rows: dict[str, list[dict]] = {name: [] for name in names}
    started_load = load_average()
    with store_for(documents, Settings(), False) as store:
        store.service.load_all()
        hook(store.service)
        apply(store.service, VARIANTS[names[-1]])  # the last variant: the shortest prompt
        store.service.ask(answer_set.questions[asked[0]])  # warm-up, not counted
        for number, qid in enumerate(asked, start=1):
            for name in names:
                apply(store.service, VARIANTS[name])
                rows[name].append(
                    ask_one(
                        store,
                        qid,
                        answer_set.questions[qid],
                        answer_set.answers[qid],
                        answer_set.judged,
                        keep_texts=True,
                    )
                )
            line = " ".join(f"{n}={int(rows[n][-1]['answered'])}" for n in names)
            print(f"{number}/{len(asked)} {time.strftime('%H:%M:%S')} {line}", flush=True)
            # Written after every question: a run cut short keeps what it measured.
            results = {
                "dataset": str(args.dataset),
                "questions": number,
                "skip": args.skip,
                "small_corpus": args.small_corpus,
                "documents": store.indexed,
                "chunks": store.chunks,
                "load_average": {"start": started_load, "end": load_average()},
                "variants": {name: {**BASE, **VARIANTS[name]} for name in names},
                "summary": {name: summarize(rows[name]) for name in names},
                "per_question": rows,
            }
            write_results(args.out, results)
    for name in names:
        s = results["summary"][name]
        print(
            f"{name:28} contains {100 * s['answer contains answer']:5.1f} %  "
            f"F1 {s['answer token F1']:.3f}  quote {100 * s['top quote contains answer']:5.1f} %  "
            f"wrong-marked {s['wrong answers marked unsupported']}  "
            f"right-marked {s['right answers marked unsupported']}  "
            f"first token {s.get('s/first token median')}  prompt {s.get('prompt tokens median')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
