"""The passages the service really quotes from, saved once for tuning the quotes offline.

`bench/quotes_tuning.py` quotes from a stand-in for retrieval (fast, but its passages are
worse than the service's). This builds the store of `rag eval quotes` (squad-dev: all 646
passages), asks every question with reference answers through `RagService.ask_stream` up to
the packed prompt (the LLM never runs), and writes what the service would quote from, in
bench/quotes_tuning.py's cache format: ([(question, references, passages)], {sentence:
vector, ("question", question): vector, ("tokens", passage): TokenVectors, ("question tokens",
question): TokenVectors}), token vectors in float16. Then

    python bench/quotes_service_passages.py --dataset ../shared/eval/squad-dev \
        --cache /tmp/quotes-service.pkl
    python bench/quotes_tuning.py --dataset ../shared/eval/squad-dev --cache /tmp/quotes-service.pkl
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import get_settings  # noqa: E402
from rag.embed.inputs import TokenVectors  # noqa: E402
from rag.evaluation.answers import load_answers  # noqa: E402
from rag.evaluation.retrieval import load_beir  # noqa: E402
from rag.evaluation.store import eval_store  # noqa: E402
from rag.quotes import QUOTED_PASSAGES  # noqa: E402
from rag.text_units import units  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    answers = load_answers(args.dataset)
    corpus, queries, _ = load_beir(args.dataset, "test")
    asked = [q for q in queries if q in answers]
    rows = []
    with eval_store(corpus, get_settings()) as store:
        service = store.service
        for number, qid in enumerate(asked, start=1):
            answer = service.ask_stream(queries[qid])
            close = getattr(answer.tokens, "close", None)
            if close is not None:
                close()
            rows.append((queries[qid], answers[qid], answer.passages[:QUOTED_PASSAGES]))
            if number % 250 == 0:
                print(f"{number}/{len(asked)}", flush=True)
        embedder = service.embedder
        texts = sorted({p[u.start : u.end] for _, _, ps in rows for p in ps for u in units(p)})
        vectors = dict(zip(texts, embedder.embed(texts), strict=True))
        questions = [q for q, _, _ in rows]
        asked_vectors = embedder.embed_query(questions)
        vectors.update({("question", q): v for q, v in zip(questions, asked_vectors, strict=True)})
        passages = sorted({p for _, _, ps in rows for p in ps})
        for kind, texts, read in (
            ("tokens", passages, embedder.embed_tokens),
            ("question tokens", questions, embedder.embed_query_tokens),
        ):
            for text, tokens in zip(texts, read(texts), strict=True):
                small = tokens.vectors.astype(np.float16)
                vectors[(kind, text)] = TokenVectors(tokens.spans, small)
    args.cache.write_bytes(pickle.dumps((rows, vectors)))
    print(f"{len(rows)} questions, {len(vectors)} vectors written to {args.cache}")


if __name__ == "__main__":
    main()
