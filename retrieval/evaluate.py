"""`app.py eval`: score Yandu and a generic RAG pipeline side by side with the project's scorer.

The generic pipeline is what peers ship: 500-character windows with 50 overlap over the raw text,
the same embedding model, jieba + BM25, reciprocal rank fusion. Both run on the same corpus.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import bm25s
import faiss
import jieba
import numpy as np

from .config import ROOT, Settings
from .indexer import EmbeddingCache, corpus_files, embed_passages
from .readers import ReadError, read_file

SHARED_SCORER = ROOT.parent / "shared" / "eval" / "score.py"
METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "recall@5", "items@3", "mean_len", "noise_rate")


def load_scorer():
    """The scorer the project is judged with (../shared/eval/score.py)."""
    if not SHARED_SCORER.exists():
        raise FileNotFoundError(f"the scorer {SHARED_SCORER} is missing")
    spec = importlib.util.spec_from_file_location("yandu_scorer", SHARED_SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_questions(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def yandu_results(app, questions: list[dict], top_k: int) -> list[dict]:
    app.ensure_index()
    return [{"id": q["id"], "passages": app.search(q["question"], top_k).passages} for q in questions]


def windows(text: str, size: int = 500, overlap: int = 50) -> list[str]:
    step = size - overlap
    return [text[i:i + size] for i in range(0, max(1, len(text) - overlap), step)]


def baseline_results(settings: Settings, encoder, questions: list[dict], top_k: int) -> list[dict]:
    """The generic pipeline, built in memory over the same corpus."""
    passages: list[dict] = []
    for name, path in corpus_files(settings.corpus_dir)[0].items():
        try:
            text = read_file(path).text
        except ReadError:
            continue
        passages += [{"source": name, "text": w} for w in windows(text)]
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    cache = EmbeddingCache(settings.index_dir / "embeddings.sqlite", encoder.model_id)
    try:
        vectors = embed_passages(encoder, cache, [p["text"] for p in passages], settings.embed_batch_size, None)
    finally:
        cache.close()
    dense = faiss.IndexFlatIP(vectors.shape[1])
    dense.add(vectors)
    bm25 = bm25s.BM25()
    bm25.index([jieba.lcut(p["text"]) or [""] for p in passages], show_progress=False)
    out = []
    for q in questions:
        qv = encoder.encode_queries([q["question"]])
        _, d_ids = dense.search(qv, min(100, len(passages)))
        k_scores = bm25.get_scores(jieba.lcut(q["question"]))
        k_ids = np.argsort(-k_scores)[:100]
        fused: dict[int, float] = {}
        for ranking in (d_ids[0], k_ids):
            for rank, i in enumerate(ranking):
                fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (60 + rank + 1)
        best = sorted(fused, key=lambda i: -fused[i])[:top_k]
        out.append({"id": q["id"], "passages": [passages[i] for i in best]})
    return out


def run_eval(settings: Settings, questions_path: Path, top_k: int = 10, baseline: bool = True) -> str:
    """The metrics table (Yandu vs the generic pipeline) as text."""
    from .engine import Yandu

    scorer = load_scorer()
    questions = load_questions(questions_path)
    app = Yandu(settings)
    columns = {"yandu": scorer.score(questions, yandu_results(app, questions, top_k))[0]}
    if baseline:
        columns["generic RAG"] = scorer.score(questions, baseline_results(settings, app.encoder, questions, top_k))[0]
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
