"""The project's own scorer: the same metrics, on the same rules, as the scorer the project is judged with.

A passage hits a gold item when the item's span occurs in its text (NFKC, whitespace removed, on
both sides); a passage over ``MAX_CHARS`` characters is a miss (a whole report is not an answer).
``tests/test_eval.py`` checks this gives exactly what ``../shared/eval/score.py`` gives.
"""
from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 800
DEPTH = 10  # passages per question that are looked at
NOISE = re.compile(r"##paid(begin|end)##|笔杆儿网|bgzjy|编辑密码")  # seed noise a passage must never carry
_WS = re.compile(r"\s+")
METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "recall@5", "items@3", "mean_len", "noise_rate")


def norm(text: str) -> str:
    """Matching form for gold spans: NFKC, no whitespace."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def first_hit(texts: list[str], spans: list[str]) -> int | None:
    """0-based rank of the first passage holding any gold span."""
    return next((i for i, t in enumerate(texts) if any(s in t for s in spans)), None)


def share_found(texts: list[str], spans: list[str]) -> float:
    """Share of the spans that occur in at least one of the texts."""
    return sum(1 for s in spans if any(s in t for t in texts)) / len(spans)


def score(questions: list[dict], results: list[dict], ks: tuple[int, ...] = (1, 3, 5)) -> tuple[dict, dict]:
    """(summary metrics, 0-based rank of the first hit per question id or None)."""
    by_id = {r["id"]: r["passages"] for r in results}
    hits = dict.fromkeys(ks, 0)
    mrr = recall = items = 0.0
    n_items = noisy = 0
    lengths: list[int] = []
    per_question: dict = {}
    for q in questions:
        raw = [p["text"] for p in by_id.get(q["id"], [])[:DEPTH]]
        lengths += [len(t) for t in raw]
        noisy += sum(1 for t in raw if NOISE.search(t))
        texts = [norm(t) if len(t) <= MAX_CHARS else "" for t in raw]
        spans = [norm(g["span"]) for g in q["gold"]]
        first = first_hit(texts, spans)
        for k in ks:
            hits[k] += first is not None and first < k
        mrr += 0.0 if first is None else 1.0 / (first + 1)
        recall += share_found(texts[:5], spans)
        if q.get("items"):
            items += share_found(texts[:3], [norm(g["span"]) for g in q["items"]])
            n_items += 1
        per_question[q["id"]] = first
    n = len(questions)
    out = {f"hit@{k}": round(hits[k] / n, 3) for k in ks}
    out["mrr@10"] = round(mrr / n, 3)
    out["recall@5"] = round(recall / n, 3)
    if n_items:
        out["items@3"] = round(items / n_items, 3)
    out["mean_len"] = round(sum(lengths) / max(1, len(lengths)), 1)
    out["noise_rate"] = round(noisy / max(1, len(lengths)), 3)
    out["n"] = n
    return out, per_question
