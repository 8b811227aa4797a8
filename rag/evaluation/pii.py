"""`rag eval pii`: precision, recall and F2 of personal-data detection on a labelled dataset.

The dataset (../shared/eval/pii-presidio-synth/test.json) is a list of
{"text", "spans": [{"start", "end", "label"}]}. A predicted span is a true positive when it
overlaps a gold span of the same (mapped) type; a gold span is found when a predicted span of
its type overlaps it. Only the types the configuration detects are scored. F2 weighs recall
twice as much as precision: a missed value leaks, an extra one only hides a word.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

# The dataset's 17 labels -> Presidio/our types. None: not personal data under our policy,
# or no recognizer exists; those gold spans are not scored.
LABEL_TO_TYPE: dict[str, str | None] = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "STREET_ADDRESS": "STREET_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "GPE": "LOCATION",
    "DATE_TIME": "DATE_TIME",
    "NRP": "NRP",
    "DOMAIN_NAME": "URL",
    "ORGANIZATION": None,
    "TITLE": None,
    "AGE": None,
    "ZIP_CODE": None,
}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    if precision == 0 and recall == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def score(examples: list[dict], find) -> dict:
    """`find(text)` returns spans with .start, .end, .entity_type."""
    tp_pred, n_pred, found_gold, n_gold = Counter(), Counter(), Counter(), Counter()
    for example in examples:
        text = example["text"]
        gold = [
            (s["start"], s["end"], LABEL_TO_TYPE.get(s["label"]))
            for s in example["spans"]
            if LABEL_TO_TYPE.get(s["label"])
        ]
        predicted = [(p.start, p.end, p.entity_type) for p in find(text)]
        for start, end, kind in predicted:
            n_pred[kind] += 1
            if any(k == kind and _overlaps((start, end), (s, e)) for s, e, k in gold):
                tp_pred[kind] += 1
        for start, end, kind in gold:
            n_gold[kind] += 1
            if any(k == kind and _overlaps((start, end), (s, e)) for s, e, k in predicted):
                found_gold[kind] += 1
    return _table(tp_pred, n_pred, found_gold, n_gold)


def _row(tp: int, pred: int, found: int, gold: int) -> dict:
    precision = tp / pred if pred else 0.0
    recall = found / gold if gold else 0.0
    return {
        "predicted": pred,
        "gold": gold,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f2": round(f_beta(precision, recall), 4),
    }


def _table(tp_pred, n_pred, found_gold, n_gold) -> dict:
    kinds = sorted(set(n_pred) | set(n_gold))
    per_type = {k: _row(tp_pred[k], n_pred[k], found_gold[k], n_gold[k]) for k in kinds}
    overall = _row(
        sum(tp_pred.values()), sum(n_pred.values()), sum(found_gold.values()), sum(n_gold.values())
    )
    return {"per_type": per_type, "overall": overall}


HALVES = ("even", "odd")


def run_pii_eval(
    dataset: Path, settings, limit: int | None = None, half: str | None = None
) -> dict:
    """Score the configured detector; gold types the configuration does not detect are
    reported apart (`not_detected_types`), not counted as misses. `half` keeps the examples
    of even or odd index: tune on one, report the other."""
    from rag.privacy.anonymizer import Anonymizer

    examples = json.loads(dataset.read_text())
    if half:
        examples = examples[HALVES.index(half) :: 2]
    if limit:
        examples = examples[:limit]
    anonymizer = Anonymizer(settings.anonymize, secret=b"eval")
    detected = set(anonymizer.entities)
    gold_counts = Counter(LABEL_TO_TYPE.get(s["label"]) for e in examples for s in e["spans"])
    scored = [
        {**e, "spans": [s for s in e["spans"] if LABEL_TO_TYPE.get(s["label"]) in detected]}
        for e in examples
    ]
    result = score(scored, anonymizer.find)
    result["dataset"] = str(dataset)
    result["examples"] = len(examples)
    result["half"] = half
    result["entities"] = sorted(detected)
    result["person_filter"] = settings.anonymize.person_filter
    result["label_mapping"] = LABEL_TO_TYPE
    result["not_detected_types"] = {
        k: v
        for k, v in sorted(gold_counts.items(), key=lambda kv: str(kv[0]))
        if k and k not in detected
    }
    return result
