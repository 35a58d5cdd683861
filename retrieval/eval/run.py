"""`app.py eval`: score Yandu and the generic RAG pipeline side by side with the project's own scorer."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import Settings
from .baseline import baseline_results
from .metrics import METRICS, score
from .questions import load_jsonl


def yandu_results(app, questions: list[dict], top_k: int) -> list[dict]:
    app.ensure_index()
    return [{"id": q["id"], "passages": [p.to_json() for p in app.search(q["question"], top_k).passages]}
            for q in questions]


def run_eval(settings: Settings, questions_path: Path, top_k: int = 10, baseline: bool = True) -> str:
    """The metrics table (Yandu vs the generic pipeline) as text."""
    from ..engine import Yandu

    questions = load_jsonl(questions_path)
    app = Yandu(settings)
    columns = {"yandu": score(questions, yandu_results(app, questions, top_k))[0]}
    if baseline:
        columns["generic RAG"] = score(questions, baseline_results(settings, app.encoder, questions, top_k))[0]
    return format_table(columns, len(questions), settings.corpus_dir)


def format_table(columns: dict[str, dict], n: int, corpus: Path) -> str:
    names = list(columns)
    lines = [f"{n} questions, corpus {corpus}", "| metric | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for metric in METRICS:
        if all(metric in c for c in columns.values()):
            lines.append(f"| {metric} | " + " | ".join(f"{columns[c][metric]}" for c in names) + " |")
    lines.append("json: " + json.dumps(columns, ensure_ascii=False))
    return "\n".join(lines)
