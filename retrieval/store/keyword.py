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


def bm25_idf(n: int, df: int) -> np.float32:
    return np.float32(np.log(1 + (n - df + 0.5) / (df + 0.5)))


def _weight(repeat, idf, tf: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """One query term's BM25 at rows with term frequencies `tf` and length norms `norm` (< repeat × idf)."""
    return repeat * idf * tf / (norm + tf)


MARGIN = 1e-4  # relative slack on every pruning bound: float32 rounding never drops a row that belongs
PRUNE_FROM = 20_000  # postings of a term before the bound is checked (cheaper terms are simply added)
# The check (a pass over every row) is made only where it is likely to prune: the terms left can add
# less than LIKELY × what the earlier ones could (measured at 1 M chunks: checking wherever it could
# prune cost more on government-report questions, whose terms are all common, than it saved).
LIKELY = 0.5
LOOK_UP_RATIO = 8  # a term's postings are looked up at rows only when more than this many times as long


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
                out[t] = float(bm25_idf(self.n, df))
        return out

    def _terms(self, query_tokens: list[str]) -> list[tuple]:
        """(term, repeat, idf, per-part (rows, tf)) of each distinct query term found in a live row, in
        scoring order: highest bound first (a term adds less than repeat × idf to any row), then by
        term. Every path adds the terms in this order, so a row's score is the same float on each."""
        out = []
        for term, repeat in zip(*np.unique(np.asarray(query_tokens, dtype=object), return_counts=True)):
            hits, df = self.hits(term)
            if df:
                out.append((term, repeat, bm25_idf(self.n, df), hits))
        return sorted(out, key=lambda t: (-float(t[1] * t[2]), t[0]))

    def scores(self, query_tokens: list[str]) -> list[np.ndarray]:
        """Exact BM25 of every row of every part for the query; deleted rows score 0 and count nowhere.
        A token repeated in the query counts each time (as in bm25s)."""
        out = [np.zeros(size, np.float32) for size in self.sizes]
        for term in self._terms(query_tokens) if self.n else []:
            _add(out, self.norms, term)
        return out

    def best(self, query_tokens: list[str], k: int, valid: list[np.ndarray | None] | None = None,
             also: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per part: scores for the query, and the `valid` rows (per part: a mask, or None for all)
        that can be among the best `k` of the whole index. Scores are exact there and at the rows
        `also` asked for (per part, ascending); elsewhere they may be a partial sum below the k-th best.

        MaxScore (Turtle & Flood 1995): rare terms are added in full first; once the bounds of the
        terms left cannot lift a row the rare ones missed up to the k-th best so far, the terms left
        (common ones, with long postings) are looked up only at the rows that can still make it.
        """
        out = [np.zeros(size, np.float32) for size in self.sizes]
        terms = self._terms(query_tokens) if self.n else []
        bounds = [float(repeat * idf) for _, repeat, idf, _ in terms]
        for j, term in enumerate(terms):
            rest, done = sum(bounds[j:]), sum(bounds[:j])  # what this and later terms can add; what earlier ones could
            if rest < done * LIKELY and sum(len(r) for r, _ in term[3]) >= PRUNE_FROM:
                seen = [_valid(np.flatnonzero(scores), valid, i) for i, scores in enumerate(out)]  # every weight > 0
                floor = _kth(np.concatenate([scores[rows] for scores, rows in zip(out, seen)]), k) * (1 - MARGIN)
                if rest < floor:
                    rows = [r[scores[r] >= floor - rest] for scores, r in zip(out, seen)]
                    for i, (scores, norm) in enumerate(zip(out, self.norms)):
                        wanted = np.union1d(rows[i], also[i]) if also is not None and len(also[i]) else rows[i]
                        for later in terms[j:]:
                            _look_up(scores, norm, wanted, later, i)
                    return out, rows
            _add(out, self.norms, term)
        return out, [_valid(np.flatnonzero(scores), valid, i) for i, scores in enumerate(out)]


def _add(out: list[np.ndarray], norms: list[np.ndarray], term: tuple) -> None:
    """A term's BM25 added at every row of every part holding it."""
    _, repeat, idf, hits = term
    for (rows, tf), norm, scores in zip(hits, norms, out):
        scores[rows] += _weight(repeat, idf, tf, norm[rows])


def _look_up(scores: np.ndarray, norm: np.ndarray, rows: np.ndarray, term: tuple, part: int) -> None:
    """A term's BM25 added at `rows` (ascending) of one part, by binary search in its postings."""
    _, repeat, idf, hits = term
    posted, tf = hits[part]
    if not len(posted) or not len(rows):
        return
    if len(posted) <= LOOK_UP_RATIO * len(rows):  # short postings: adding them all is cheaper (same sums at `rows`)
        scores[posted] += _weight(repeat, idf, tf, norm[posted])
        return
    at = np.searchsorted(posted, rows).clip(0, len(posted) - 1)
    found = posted[at] == rows
    scores[rows[found]] += _weight(repeat, idf, tf[at[found]], norm[rows[found]])


def _valid(rows: np.ndarray, valid: list[np.ndarray | None] | None, part: int) -> np.ndarray:
    mask = valid[part] if valid is not None else None
    return rows if mask is None else rows[mask[rows]]


def _kth(values: np.ndarray, k: int) -> float:
    """The k-th largest value (0 when there are fewer)."""
    return float(np.partition(values, len(values) - k)[len(values) - k]) if len(values) >= k else 0.0
