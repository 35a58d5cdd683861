"""`app.py eval`: score Yandu and the generic RAG pipeline side by side with the project's own scorer.

Several question sets, one row per set and system, on the corpus and index the settings name (the
index is updated, not rebuilt, so a second run reuses it and its embedding cache). Each set is also
scored on its odd- and even-numbered questions apart: ranking is tuned on the odd ones only, and the
even ones show whether a change holds on questions it was not tuned on. ``ablations`` re-scores Yandu
with one part switched off at a time (a ``Settings`` override each).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..config import Settings
from .answers import answer_scores, snapshot_reports
from .baseline import baseline_results
from .metrics import score
from .questions import load_jsonl

SHOWN = ("hit@1", "hit@3", "hit@5", "mrr@10", "items@3", "noise_rate")
# One part of the ranking switched off at a time (what each part adds).
ABLATIONS: dict[str, dict] = {
    "no unit agreement": {"unit_boost": 0.0},
    "no year agreement": {"year_boost": 0.0},
    "no recency": {"recency_boost": 0.0},
    "no paragraph roles": {"paragraph_roles": False},
    "no implied roles": {"implied_role_boost": 0.0},
    "no paraphrases": {"use_paraphrases": False},
    "no list completion": {"list_completion": False},
    "no role boost": {"role_boost": 0.0, "role_only_boost": 0.0},
    "no quantity": {"quantity_boost": 0.0},
    "no sentence evidence": {"sentence_weight": 0.0},
}


def yandu_results(app, questions: list[dict], top_k: int) -> list[dict]:
    """Yandu's answers (``app``: the Yandu facade, or a Searcher over its index)."""
    if hasattr(app, "ensure_index"):
        app.ensure_index()
    return [{"id": q["id"], "passages": [p.to_json() for p in app.search(q["question"], top_k).passages]}
            for q in questions]


def parity(question: dict, position: int) -> str:
    """"odd" or "even": by the number in the question's id (g07 → odd), else by its position (1-based)."""
    m = re.search(r"(\d+)\D*$", str(question.get("id", "")))
    return "odd" if (int(m.group(1)) if m else position) % 2 else "even"


def split_scores(questions: list[dict], results: list[dict]) -> dict[str, dict]:
    """Scores on all questions, on the odd-numbered and on the even-numbered ones."""
    out = {"all": score(questions, results)[0]}
    for half in ("odd", "even"):
        part = [q for i, q in enumerate(questions, 1) if parity(q, i) == half]
        if part:
            ids = {q["id"] for q in part}
            out[half] = score(part, [r for r in results if r["id"] in ids])[0]
    return out


def run_eval(settings: Settings, question_paths: list[Path], top_k: int = 10, baseline: bool = True,
             ablations: bool = False) -> str:
    """The metrics table (one row per set, half and system) as text, its JSON on the last line."""
    from ..engine import Yandu
    from ..search import Searcher

    app = Yandu(settings)
    table: dict[str, dict] = {}
    answers: dict[str, dict] = {}
    for path in question_paths:
        questions = load_jsonl(path)
        results = yandu_results(app, questions, top_k)
        row = {"yandu": split_scores(questions, results)}
        answers[path.stem] = answer_scores(questions, results, snapshot_reports(app.searcher.snapshot()))
        if baseline:
            row["generic RAG"] = split_scores(questions, baseline_results(settings, app.encoder, questions, top_k))
        if ablations:
            for name, override in ABLATIONS.items():
                variant = Searcher(settings.with_overrides(**override), app.encoder)  # same index and model
                row[name] = split_scores(questions, yandu_results(variant, questions, top_k))
        table[path.stem] = row
    return format_table(table, settings.corpus_dir, answers)


def format_table(table: dict[str, dict], corpus: Path, answers: dict[str, dict] | None = None) -> str:
    lines = [f"corpus {corpus}", "| set | questions | system | n | " + " | ".join(SHOWN) + " |",
             "|---|---|---|---|" + "---|" * len(SHOWN)]
    for name, row in table.items():
        for half in ("all", "odd", "even"):
            for system, scores in row.items():
                m = scores.get(half)
                if m:
                    cells = " | ".join(str(m.get(k, "")) for k in SHOWN)
                    lines.append(f"| {name} | {half} | {system} | {m['n']} | {cells} |")
    if answers:  # direct answers (eval/answers.py): right / given, and how many figure or list questions get one
        lines += ["", "| set | direct answers | right | precision | figure/list questions | coverage |", "|---|---|---|---|---|---|"]
        lines += [f"| {name} | {a['answers']} | {a['right']} | {a['precision']} | {a['asked']} | {a['coverage']} |"
                  for name, a in answers.items()]
    lines.append("json: " + json.dumps({**table, "direct answers": answers or {}}, ensure_ascii=False))
    return "\n".join(lines)
