"""Keyword retrieval: BM25 (bm25s) over the jieba tokens of each chunk (``retrieval.text``)."""
from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np


class KeywordIndex:
    """BM25 over chunk token lists; row i of the index is the i-th chunk id given to `build`."""

    def __init__(self, bm25: bm25s.BM25 | None, ids: np.ndarray):
        self.bm25, self.ids = bm25, ids

    @classmethod
    def build(cls, ids: list[int], tokens: list[list[str]]) -> "KeywordIndex":
        if not ids:
            return cls(None, np.zeros(0, dtype=np.int64))
        bm25 = bm25s.BM25()
        bm25.index([t or [""] for t in tokens], show_progress=False)
        return cls(bm25, np.asarray(ids, dtype=np.int64))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self.ids)
        if self.bm25 is not None:
            self.bm25.save(str(folder / "bm25"), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        ids = np.load(folder / "ids.npy")
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if len(ids) else None
        return cls(bm25, ids)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 inverse document frequency of each token the index knows (unknown tokens left out)."""
        if self.bm25 is None:
            return {}
        vocab, indptr = self.bm25.vocab_dict, self.bm25.scores["indptr"]
        n = self.bm25.scores["num_docs"]
        out = {}
        for t in tokens:
            if t in vocab:
                df = int(indptr[vocab[t] + 1] - indptr[vocab[t]])
                out[t] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk, aligned with `self.ids`."""
        if self.bm25 is None or not query_tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.bm25.get_scores(query_tokens)
