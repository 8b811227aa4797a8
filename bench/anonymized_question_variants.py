"""Ways of asking one kept store, question by question: the dense leg's question text and the
fusion's weights, measured on ONE store (built once into --store, reused by later runs).

    python bench/anonymized_question_variants.py --dataset ../shared/eval/squad-dev \
        --store /tmp/squad-anon --anonymize --limit 1000 --out on-variants.json
    python bench/anonymized_question_variants.py ... --skip 1000 --limit 1000   # held out

Dense variants (the full-text leg always gets the production question, pseudonymized as
`RagService.pseudonymize_question` does):

* production: the dense leg embeds the same pseudonymized question;
* plain-unheld: the dense leg embeds the question with each word-valued token the store does
  not hold put back as the asker's words (the documents can only carry those words in plain
  text, if at all); computed in-process, never sent to SQL;
* plain-unheld-person: the same, PERSON tokens only;
* plain-all: the dense leg embeds every word-valued token of the question as typed, held or
  not (the passages' tokens then meet only the full-text leg).

Weights: "dense:fulltext" pairs for the convex fusion (default 1:1 only); the store's build is
the slow part (minutes with --anonymize), each variant costs one pass of rankings.
The --out JSON has `per_query[variant]` as `rag eval retrieval --out` has `per_query[mode]`, so
bench/per_question_diff.py --mode VARIANT compares two variants of it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from results_io import load_average, write_results

from rag.config import Settings, get_settings
from rag.db.fulltext.base import PSEUDONYM
from rag.evaluation.metrics import METRICS, documents_from_chunks
from rag.evaluation.retrieval import DEPTH, load_beir
from rag.evaluation.store import write_corpus
from rag.retrieve import Retriever
from rag.stored_values import tokens_in_store


class SubstitutingEmbedder:
    """The service's embedder, embedding `dense_text[q]` when asked to embed question q; each
    embedded text cached (the variants embed the same texts many times)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.dense_text: dict[str, str] = {}
        self.cache: dict[str, object] = {}

    def embed_query(self, texts):
        import numpy as np

        rows = []
        for text in texts:
            text = self.dense_text.get(text, text)
            if text not in self.cache:
                self.cache[text] = self.embedder.embed_query([text])[0]
            rows.append(self.cache[text])
        return np.stack(rows)

    def __getattr__(self, name):
        return getattr(self.embedder, name)


def kept_store(corpus, settings: Settings, anonymize: bool, folder: Path):
    """(service, names): the store in `folder`, built there by the ingest pipeline if absent."""
    from rag.db.migrate import upgrade
    from rag.service import RagService

    store_settings = settings.model_copy(
        update={
            "data_dir": folder / "data",
            "database_url": "",
            "anonymize": settings.anonymize.model_copy(update={"enabled": anonymize}),
        }
    )
    names_file = folder / "names.json"
    if names_file.is_file():
        return RagService(store_settings), json.loads(names_file.read_text())
    (folder / "data").mkdir(parents=True)
    upgrade(store_settings.resolved_database_url)
    names = write_corpus(corpus, folder / "corpus")
    service = RagService(store_settings)
    started = time.perf_counter()
    report = service.pipeline.ingest_folder(folder / "corpus")
    seconds = time.perf_counter() - started
    print(f"built {report.indexed} documents, {report.chunks} chunks in {seconds:.0f}s")
    service.index.save()
    names_file.write_text(json.dumps(names))
    return service, names


def plain_unheld(question, stored, types: set[str], keep_held: bool = False) -> str:
    """The pseudonymized question with each token of `types` the store does not hold written
    back as the asker's words (keep_held: each held one as the words followed by the token)."""
    tokens = [
        m.group(0)
        for m in PSEUDONYM.finditer(question.text)
        if m.group(1) in types and m.group(0) in question.originals
    ]
    held = stored(sorted(set(tokens))) if tokens else set()
    text = question.text
    for token in set(tokens) - held:
        text = text.replace(token, question.originals[token])
    if keep_held:
        for token in held:
            text = text.replace(token, f"{question.originals[token]} {token}")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--anonymize", action="store_true")
    parser.add_argument("--skip", type=int, default=0)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--weights", default="1:1", help="dense:fulltext pairs, comma-separated")
    parser.add_argument("--dense", default="production,plain-unheld,plain-unheld-person")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = get_settings()
    corpus, queries, qrels = load_beir(args.dataset, "test")
    judged = [qid for qid in queries if qrels.get(qid)][args.skip : args.skip + args.limit]
    service, names = kept_store(corpus, settings, args.anonymize, args.store)
    embedder = SubstitutingEmbedder(service.embedder)
    weights = [tuple(float(x) for x in pair.split(":")) for pair in args.weights.split(",")]
    retrievers = {
        pair: Retriever(
            service.session_factory,
            service.index,
            embedder,
            settings.retrieval.model_copy(
                update={"candidates": DEPTH, "dense_weight": pair[0], "fulltext_weight": pair[1]}
            ),
        )
        for pair in weights
    }
    dense_kinds = args.dense.split(",") if args.anonymize else ["production"]
    stored = tokens_in_store(service.session_factory, None)
    word_types = set(service.question_anonymizer.word_types) if args.anonymize else set()
    per_query: dict[str, dict] = {}
    totals: dict[str, dict[str, float]] = {}
    changed: dict[str, int] = {}
    started = time.perf_counter()
    for qid in judged:
        asked = service.pseudonymize_question(queries[qid]) if args.anonymize else None
        full_text = asked.text if asked else queries[qid]
        for kind in dense_kinds:
            if kind == "production":
                dense_text = full_text
            elif kind == "plain-unheld":
                dense_text = plain_unheld(asked, stored, word_types)
            elif kind == "plain-and-held":
                dense_text = plain_unheld(asked, stored, word_types, keep_held=True)
            elif kind == "plain-all":
                dense_text = plain_unheld(asked, lambda tokens: set(), word_types)
            elif kind == "plain-unheld-person":
                dense_text = plain_unheld(asked, stored, {"PERSON"} & word_types)
            else:
                raise SystemExit(f"unknown dense variant {kind}")
            embedder.dense_text = {full_text: dense_text}
            for pair, retriever in retrievers.items():
                name = f"{kind} {pair[0]:g}:{pair[1]:g}"
                changed[name] = changed.get(name, 0) + (dense_text != full_text)
                hits = retriever.rank(full_text, DEPTH, "hybrid")
                ranked = documents_from_chunks([names[Path(h.path).name] for h in hits])[:DEPTH]
                scores = {m: measure(ranked, qrels[qid]) for m, measure in METRICS.items()}
                for m, v in scores.items():
                    totals.setdefault(name, dict.fromkeys(METRICS, 0.0))[m] += v
                per_query.setdefault(name, {})[qid] = {
                    "nDCG@10": round(scores["nDCG@10"], 4),
                    "top": ranked[:3],
                }
    results = {
        name: {
            **{m: round(v / len(judged), 4) for m, v in values.items()},
            "dense text changed": changed[name],
        }
        for name, values in totals.items()
    }
    for name, values in results.items():
        print(f"{name:28s} " + "  ".join(f"{m} {v}" for m, v in values.items()))
    if args.out:
        write_results(
            args.out,
            {
                "dataset": str(args.dataset),
                "anonymize": args.anonymize,
                "skip": args.skip,
                "queries": len(judged),
                "seconds": round(time.perf_counter() - started),
                "load_average": load_average(),
                "results": results,
                "per_query": per_query,
            },
        )
    service.close()


if __name__ == "__main__":
    main()
