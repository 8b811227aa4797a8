"""`rag eval`: one command per measurement, each in its own module of this package."""

from pathlib import Path
from typing import Annotated

import typer

eval_app = typer.Typer(help="Measure quality on a dataset.", no_args_is_help=True)


@eval_app.command("pii")
def eval_pii(
    dataset: Annotated[Path, typer.Option(help="JSON list of {text, spans[start,end,label]}.")],
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON here.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N examples.")] = None,
    half: Annotated[
        str | None,
        typer.Option(help="even or odd: only the examples of even or odd index (tune on one)."),
    ] = None,
    person_filter: Annotated[
        bool | None, typer.Option(help="Override anonymize.person_filter.")
    ] = None,
) -> None:
    """Personal-data detection: precision, recall, F2 per type and overall (span overlap)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from rag.config import get_settings
    from rag.evaluation.pii import run_pii_eval

    settings = get_settings()
    if person_filter is not None:
        settings = settings.model_copy(
            update={
                "anonymize": settings.anonymize.model_copy(update={"person_filter": person_filter})
            }
        )
    from rag.evaluation.pii import HALVES

    if half is not None and half not in HALVES:
        raise typer.BadParameter(f"--half must be one of {', '.join(HALVES)}", param_hint="--half")
    result = run_pii_eval(dataset, settings, limit, half)
    table = Table(title=f"Personal data detection ({result['examples']} examples)")
    for column in ("type", "gold", "predicted", "precision", "recall", "F2"):
        table.add_column(column, justify="left" if column == "type" else "right")
    rows = [*result["per_type"].items(), ("overall", result["overall"])]
    for kind, row in rows:
        table.add_row(
            kind,
            str(row["gold"]),
            str(row["predicted"]),
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f2']:.3f}",
        )
    Console().print(table)
    if out:
        out.write_text(json.dumps(result, indent=2))


@eval_app.command("person-filings")
def eval_person_filings(
    labels: Annotated[
        Path, typer.Option(help="Labelled pages: {pages: [{document, page, text, spans}]}.")
    ] = Path("tests/data/sec10q_person_labels.json"),
    documents: Annotated[
        Path | None,
        typer.Option(help="Folder of the labelled PDFs: check the loader still gives the text."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON here.")] = None,
) -> None:
    """PERSON precision and recall on hand-labelled pages of real business documents, and the
    values taken for a person that are none (the labelled filings are public)."""
    import json

    from rich.console import Console

    from rag.config import get_settings
    from rag.evaluation.person_filings import run_person_eval

    console = Console()
    try:
        result = run_person_eval(labels, get_settings(), documents)
    except (ValueError, FileNotFoundError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    row = result["person"]
    console.print(
        f"PERSON on {result['pages']} pages: gold {row['gold']}, predicted {row['predicted']}, "
        f"precision {row['precision']:.3f}, recall {row['recall']:.3f}"
    )
    console.print(f"not persons: {result['false_positives']}")
    console.print(f"missed: {result['missed']}")
    if out:
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


@eval_app.command("retrieval")
def eval_retrieval(
    dataset: Annotated[Path, typer.Option(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/")],
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    modes: Annotated[str, typer.Option(help="Comma-separated: dense,fulltext,hybrid.")] = (
        "dense,fulltext,hybrid"
    ),
    limit: Annotated[int | None, typer.Option(help="Only the first N judged queries.")] = None,
    candidates: Annotated[
        int, typer.Option(help="Chunks each leg proposes (100+ for Recall@100).")
    ] = 100,
    anonymize: Annotated[
        bool, typer.Option(help="Remove personal data as in production (slow; off: public data).")
    ] = False,
    split: Annotated[str, typer.Option(help="Relevance judgments: qrels/SPLIT.tsv.")] = "test",
) -> None:
    """Retrieval ranking per mode on a BEIR dataset: nDCG@10, Recall@10/100, MRR@10, ms/query."""

    from rich.console import Console

    from rag.config import get_settings
    from rag.evaluation.retrieval import results_table, run_retrieval_eval

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    try:
        payload = run_retrieval_eval(
            dataset, get_settings(), chosen, limit, candidates, anonymize, split
        )
    except (ValueError, FileNotFoundError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _show(results_table(payload), payload, anonymize, out)


@eval_app.command("answers")
def eval_answers(
    dataset: Annotated[
        Path,
        typer.Option(
            help="BEIR folder with answers.json (query id -> reference answers), or a question "
            "file: tests/data/handbook_questions.json."
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    limit: Annotated[
        int | None, typer.Option(help="Only the first N questions with answers (the LLM is slow).")
    ] = None,
    anonymize: Annotated[
        bool, typer.Option(help="Remove personal data as in production (slow; off: public data).")
    ] = False,
    split: Annotated[str, typer.Option(help="Relevance judgments: qrels/SPLIT.tsv.")] = "test",
    corpus: Annotated[
        Path | None, typer.Option(help="A question file's document folder (default: its own).")
    ] = None,
) -> None:
    """Answers through the real service: how often a cited passage, and how often the
    generated answer, contains a reference answer (SQuAD normalization), token F1, how often
    the grounding check marks wrong and right answers unsupported; s/question."""

    from rich.console import Console

    from rag.config import get_settings
    from rag.evaluation.answers import answers_table, run_answers_eval

    try:
        payload = run_answers_eval(dataset, get_settings(), limit, anonymize, split, corpus=corpus)
    except (ValueError, FileNotFoundError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _show(answers_table(payload), payload, anonymize, out)


@eval_app.command("quotes")
def eval_quotes(
    dataset: Annotated[
        Path, typer.Option(help="BEIR folder with answers.json (query id -> reference answers).")
    ],
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    dense_weights: Annotated[
        str, typer.Option(help="Comma-separated weights of the embedding score (0: words only).")
    ] = "0.75",
    split: Annotated[str, typer.Option(help="Relevance judgments: qrels/SPLIT.tsv.")] = "test",
) -> None:
    """Quotes without the LLM: how often the top quote contains a reference answer."""

    from rich.console import Console

    from rag.config import get_settings
    from rag.evaluation.quotes import quotes_table, run_quotes_eval

    try:
        weights = [float(w) for w in dense_weights.split(",") if w.strip()]
        payload = run_quotes_eval(dataset, get_settings(), weights, limit, split)
    except (ValueError, FileNotFoundError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _show(quotes_table(payload), payload, False, out)


@eval_app.command("figures")
def eval_figures(
    dataset: Annotated[
        Path,
        typer.Option(help="JSON: documents folder and questions {question, figure, document}."),
    ] = Path("tests/data/sec10q_questions.json"),
    documents: Annotated[
        Path | None, typer.Option(help="The documents' folder (default: the dataset's).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    top_k: Annotated[int, typer.Option(help="Passages searched per question.")] = 5,
    anonymize: Annotated[
        bool, typer.Option(help="Remove personal data as production does (the default).")
    ] = True,
    answers: Annotated[
        bool,
        typer.Option(
            help="Also ask each question as a user does (the LLM answering): does the answer, "
            "its top quote, or either show the figure?"
        ),
    ] = False,
) -> None:
    """Figures in business documents: how often a top passage of the question's document
    shows the figure asked for (ingested with the default config); lists the misses. With
    --answers also how often the answer or its top quote shows it."""

    from rich.console import Console

    from rag.config import get_settings
    from rag.evaluation.figures import failures_table, figures_table, run_figures_eval

    try:
        payload = run_figures_eval(
            dataset, get_settings(), documents, limit, top_k, anonymize, answers=answers
        )
    except (ValueError, FileNotFoundError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if payload["failed"]:
        Console().print(failures_table(payload))
    _show(figures_table(payload), payload, anonymize, out)


def _show(table, payload: dict, anonymize: bool, out: Path | None) -> None:
    """Print an evaluation's table and, with --out, write its results as JSON."""
    import json

    from rich.console import Console

    from rag.evaluation.retrieval import pii_state

    console = Console()
    console.print(table)
    console.print(f"personal-data removal: {pii_state(anonymize)}")
    if out:
        out.write_text(json.dumps(payload, indent=2) + "\n")
        console.print(f"results written to {out}")
