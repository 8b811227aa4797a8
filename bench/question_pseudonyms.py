"""How questions meet an anonymized store: squad-dev hybrid nDCG@10 with the questions as typed,
pseudonymized by the anonymizer alone, and pseudonymized with the store's own values hidden too
(rag/stored_values.py), all on ONE anonymized store, question by question.

    python bench/question_pseudonyms.py --dataset ../shared/eval/squad-dev --limit 1000 \
        --out bench/results/question-pseudonyms-squad-dev.json

Compare with `rag eval retrieval --modes hybrid --limit 1000` (anonymization off).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.config import get_settings
from rag.evaluation.metrics import METRICS, documents_from_chunks
from rag.evaluation.retrieval import DEPTH, load_beir
from rag.evaluation.store import eval_store
from rag.retrieve import Retriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = get_settings()
    corpus, queries, qrels = load_beir(args.dataset, "test")
    judged = [qid for qid in queries if qrels.get(qid)][: args.limit]
    with eval_store(corpus, settings, anonymize=True) as store:
        service = store.service
        retrieval = settings.retrieval
        retriever = Retriever(service.session_factory, service.index, service.embedder, retrieval)
        variants = {
            "as typed": lambda q: q,
            "anonymizer only": lambda q: service.question_anonymizer.anonymize(q).text,
            "anonymizer + stored values": lambda q: service.pseudonymize_question(q).text,
        }
        totals = {name: dict.fromkeys(METRICS, 0.0) for name in variants}
        changed = {name: 0 for name in variants}
        for qid in judged:
            for name, question_of in variants.items():
                question = question_of(queries[qid])
                changed[name] += question != queries[qid]
                hits = retriever.rank(question, retrieval.candidates, "hybrid")
                ranked = documents_from_chunks([store.names[h.path] for h in hits])[:DEPTH]
                for metric, measure in METRICS.items():
                    totals[name][metric] += measure(ranked, qrels[qid])
    results = {
        name: {
            **{m: round(v / len(judged), 4) for m, v in values.items()},
            "questions changed": changed[name],
        }
        for name, values in totals.items()
    }
    for name, values in results.items():
        print(f"{name:30s} " + "  ".join(f"{m} {v}" for m, v in values.items()))
    if args.out:
        args.out.write_text(json.dumps({"queries": len(judged), "results": results}, indent=1))


if __name__ == "__main__":
    main()
