"""The anonymizer alone, engine variants taking turns in one process on the same texts (issue 19).

    python bench/anonymizer_ab.py [FOLDER ...] [--variants before,phones,senter,after] [--rounds 2]
        [--cache DIR] [--out RESULT.json] [--diff FILE.json]

Each folder's documents are loaded once (bench/anonymize_cost.py's loader and `--cache`), then
every variant finds personal data in every page text, heading and title as the file worker
does (one `find_many` per document); round after round the variants run in turn, the order
reversed each round, so the machine's load drifts over all alike. Figures: CPU seconds of
the process (all threads; the steadier figure on a shared machine) and wall seconds, per
variant and folder (the medians over rounds and each round's), how many texts needed the
on-demand components, and how the spans differ from the first variant's (`--diff` writes the
differing spans with their values: run it on public documents only).

Variants (rag/privacy/nlp_engine.py's engine and Presidio's phone recognizer; the rest is the
same code):
  before   parser in the entity pass, attribute ruler and lemmatizer on demand, Presidio's
           PhoneRecognizer on every text (main before)
  phones   before, with the phone recognizer gated (recognizers/presidio_phone.py)
  senter   the sentence segmenter instead of the parser; tok2vec, tagger, parser on demand
  after    senter and phones together (the default)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from anonymize_cost import DEFAULT_FOLDERS, _cached_texts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer
from results_io import load_average, write_results

from rag.config import AnonymizeSettings
from rag.privacy.anonymizer import Anonymizer, build_analyzer
from rag.privacy.nlp_engine import ON_DEMAND, DeferringSpacyNlpEngine
from rag.privacy.recognizers.presidio_phone import GatedPhoneRecognizer

BEFORE = ("attribute_ruler", "lemmatizer")
VARIANTS = {  # (the components made on demand, Presidio's phone recognizer gated)
    "before": (BEFORE, False),
    "phones": (BEFORE, True),
    "senter": (ON_DEMAND, False),
    "after": (ON_DEMAND, True),
}


class _Counted:
    """An on-demand component that counts the documents it completes."""

    def __init__(self, component) -> None:
        self.component, self.calls = component, 0

    def __call__(self, doc):
        self.calls += 1
        return self.component(doc)


def _anonymizer(settings: AnonymizeSettings, variant: str) -> tuple[Anonymizer, _Counted]:
    on_demand, gated = VARIANTS[variant]
    engine = DeferringSpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": settings.spacy_model}], on_demand=on_demand
    )
    engine.load()
    counted = _Counted(engine._on_demand["en"][-1])  # the last one: each completion runs it
    engine._on_demand["en"][-1] = counted
    analyzer = build_analyzer(settings)  # a registry of its own
    analyzer.nlp_engine = engine
    if not gated:
        registry = analyzer.registry
        for gate in [r for r in registry.recognizers if isinstance(r, GatedPhoneRecognizer)]:
            registry.recognizers.remove(gate)
            plain = PhoneRecognizer(
                context=gate.context,
                supported_regions=gate.supported_regions,
                leniency=gate.leniency,
            )
            registry.add_recognizer(plain)
    return Anonymizer(settings, b"0" * 32, analyzer=analyzer), counted


def _run(anonymizer: Anonymizer, documents: list[list[str]]) -> tuple[float, float, list]:
    wall, cpu = time.perf_counter(), time.process_time()
    spans = [
        [[(s.start, s.end, s.entity_type) for s in found] for found in anonymizer.find_many(texts)]
        for texts in documents
    ]
    return time.perf_counter() - wall, time.process_time() - cpu, spans


def _differences(documents, base, other) -> list[dict]:
    out = []
    for d, texts in enumerate(documents):
        for t, text in enumerate(texts):
            a, b = set(map(tuple, base[d][t])), set(map(tuple, other[d][t]))
            for start, end, kind in sorted(a ^ b):
                out.append(
                    {
                        "document": d,
                        "text": t,
                        "type": kind,
                        "value": text[start:end],
                        "in": "base" if (start, end, kind) in a else "variant",
                    }
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="*", default=list(DEFAULT_FOLDERS), type=Path)
    parser.add_argument("--variants", default="before,phones,senter,after")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="folder keeping the loaded texts")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--diff", type=Path, help="write the spans that differ from the first")
    args = parser.parse_args()
    names = args.variants.split(",")
    settings = AnonymizeSettings()
    built = {name: _anonymizer(settings, name) for name in names}
    for anonymizer, _ in built.values():
        anonymizer.anonymize("Warm-up text for Jane Doe at jane.doe@example.com, phone 555-0100.")
    corpora = {folder.name: _cached_texts(folder, args.cache) for folder in args.folders}
    report: dict = {"load_average_start": load_average(), "rounds": args.rounds, "folders": {}}
    diffs: dict = {}
    for folder, documents in corpora.items():
        texts = [t for d in documents for t in d]
        chars = sum(len(t) for t in texts)
        times: dict[str, list] = {name: [] for name in names}
        spans: dict[str, list] = {}
        completed: dict[str, int] = {}
        for round_ in range(args.rounds):
            order = names if round_ % 2 == 0 else names[::-1]
            for name in order:
                anonymizer, counted = built[name]
                counted.calls = 0
                wall, cpu, found = _run(anonymizer, documents)
                times[name].append((wall, cpu))
                spans[name], completed[name] = found, counted.calls
                print(f"{folder} round {round_ + 1} {name:8s} {wall:7.1f} s wall {cpu:7.1f} s CPU")
        base = names[0]
        entry = {
            "documents": len(documents),
            "texts": len(texts),
            "characters": chars,
            "variants": {},
        }
        for name in names:
            cpu = statistics.median(c for _, c in times[name])
            differing = _differences(documents, spans[base], spans[name])
            entry["variants"][name] = {
                "wall_s": [round(w, 2) for w, _ in times[name]],
                "cpu_s": [round(c, 2) for _, c in times[name]],
                "cpu_s_median": round(cpu, 2),
                "chars_per_cpu_s": round(chars / cpu),
                "texts_completed_on_demand": completed[name],
                "spans": sum(len(f) for d in spans[name] for f in d),
                f"spans_differing_from_{base}": len(differing),
            }
            diffs.setdefault(folder, {})[name] = differing
        report["folders"][folder] = entry
        base_cpu = entry["variants"][base]["cpu_s_median"]
        for name in names:
            v = entry["variants"][name]
            print(
                f"{folder}: {name:8s} CPU {v['cpu_s_median']:6.1f} s "
                f"({base_cpu / v['cpu_s_median']:.2f}x), {v['chars_per_cpu_s']:,} chars/CPU s, "
                f"completed {v['texts_completed_on_demand']}/{len(texts)}, spans {v['spans']}, "
                f"differing {v[f'spans_differing_from_{base}']}"
            )
    report["load_average_end"] = load_average()
    if args.out:
        write_results(args.out, report)
    if args.diff:
        args.diff.write_text(json.dumps(diffs, indent=1) + "\n")


if __name__ == "__main__":
    main()
