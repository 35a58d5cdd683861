"""Keyword retrieval: exact BM25 over the jieba tokens of every live chunk, across segments.

Each segment stores its postings (term → rows, term frequency) and row lengths; a question's
scores use corpus-wide statistics — live rows N, mean length, and each term's document frequency
counted over the live rows of every segment — so BM25 is exactly what one index over the whole
corpus gives (bm25s's "lucene" variant, k1 = 1.5, b = 0.75; tests/test_store.py checks it against
bm25s), however the corpus is split into segments and whatever was deleted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75


@dataclass
class Postings:
    """One segment's inverted index: for term t, rows[ptr[t]:ptr[t+1]] with tf[...]; lengths per row."""

    terms: dict[str, int]
    ptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray

    @classmethod
    def build(cls, tokens: list[list[str]]) -> "Postings":
        vocab: dict[str, int] = {}
        term_ids = np.fromiter((vocab.setdefault(t, len(vocab)) for toks in tokens for t in toks), dtype=np.int64)
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int32, count=len(tokens))
        rows = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        keys, tf = np.unique(term_ids * max(len(tokens), 1) + rows, return_counts=True)  # term-major order
        terms_of = keys // max(len(tokens), 1)
        ptr = np.searchsorted(terms_of, np.arange(len(vocab) + 1)).astype(np.int64)
        return cls(vocab, ptr, (keys % max(len(tokens), 1)).astype(np.int32), tf.astype(np.float32), lengths)

    def save(self, folder: Path) -> None:
        (folder / "kw-terms.json").write_text(json.dumps(list(self.terms), ensure_ascii=False), encoding="utf-8")
        for name in ("ptr", "rows", "tf", "lengths"):
            np.save(folder / f"kw-{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> "Postings":
        terms = json.loads((folder / "kw-terms.json").read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"kw-{name}.npy", mmap_mode="r") for name in ("ptr", "rows", "tf")}
        return cls({t: i for i, t in enumerate(terms)}, lengths=np.load(folder / "kw-lengths.npy"), **arrays)

    def hits(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        t = self.terms.get(term)
        if t is None:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        lo, hi = int(self.ptr[t]), int(self.ptr[t + 1])
        return np.asarray(self.rows[lo:hi]), np.asarray(self.tf[lo:hi])


def _idf(n: int, df: int) -> np.float32:
    return np.float32(np.log(1 + (n - df + 0.5) / (df + 0.5)))


class CorpusStats:
    """The postings of every segment with its live rows, and the corpus-wide statistics BM25 needs
    (live rows N, mean length, each row's length norm) — computed once per snapshot."""

    def __init__(self, parts: list[tuple[Postings, np.ndarray]]):
        self.parts = [(p, None if live.all() else live) for p, live in parts]  # None: every row live
        self.sizes = [len(live) for _, live in parts]
        self.n = sum(int(live.sum()) for _, live in parts)
        self.avgdl = sum(float(p.lengths[live].sum()) for p, live in parts) / self.n if self.n else 1.0
        self.norms = [K1 * (1 - B + B * p.lengths.astype(np.float32) / self.avgdl) for p, _ in parts]

    def hits(self, term: str) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
        """Each part's live (rows, tf) for the term, and its document frequency over all live rows."""
        out = []
        for p, live in self.parts:
            rows, tf = p.hits(term)
            if live is not None:
                keep = live[rows]
                rows, tf = rows[keep], tf[keep]
            out.append((rows, tf))
        return out, sum(len(r) for r, _ in out)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each token found in a live row (unknown tokens left out)."""
        out = {}
        for t in dict.fromkeys(tokens):
            _, df = self.hits(t)
            if df:
                out[t] = float(_idf(self.n, df))
        return out

    def scores(self, query_tokens: list[str]) -> list[np.ndarray]:
        """BM25 of every row of every part for the query; deleted rows score 0 and count nowhere. A
        token repeated in the query counts each time (as in bm25s)."""
        out = [np.zeros(size, np.float32) for size in self.sizes]
        if not self.n or not query_tokens:
            return out
        for term, repeat in zip(*np.unique(np.asarray(query_tokens, dtype=object), return_counts=True)):
            hits, df = self.hits(term)
            if not df:
                continue
            idf = _idf(self.n, df)
            for (rows, tf), norm, scores in zip(hits, self.norms, out):
                scores[rows] += repeat * idf * tf / (norm[rows] + tf)
        return out
