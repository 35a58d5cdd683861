"""The generic RAG pipeline Yandu is measured against: what peers ship by default.

500-character windows with 50 overlap over the raw text, the same embedding model, jieba + BM25,
reciprocal rank fusion — built in memory over the same corpus.
"""
from __future__ import annotations

import bm25s
import faiss
import jieba
import numpy as np

from ..config import Settings
from ..errors import ReadError
from ..ingest import corpus_files, read_file
from ..store import EmbeddingCache, embed_passages


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


