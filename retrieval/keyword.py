"""Keyword retrieval: jieba with a domain dictionary, Chinese stopwords, BM25 (bm25s)."""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np

DATA = Path(__file__).parent / "data"
KEEP = re.compile(r"[\w\u4e00-\u9fff]")

jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.load_userdict(str(DATA / "userdict.txt"))
    return tok


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset((DATA / "stopwords.txt").read_text(encoding="utf-8").split())


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    """Each term → the other terms of its group (data/synonyms.txt)."""
    out: dict[str, list[str]] = {}
    for line in (DATA / "synonyms.txt").read_text(encoding="utf-8").splitlines():
        group = line.split("#")[0].split()
        for term in group:
            out.setdefault(term, []).extend(t for t in group if t != term)
    return out


def expand(tokens: list[str]) -> list[str]:
    """Query tokens plus the tokens of their synonyms (each once)."""
    extra = [t for tok in tokens for syn in synonyms().get(tok, []) for t in tokenize(syn)]
    return list(dict.fromkeys(tokens + extra))


def normalize(text: str) -> str:
    """Matching form of a text: NFKC (full/half width), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str) -> list[str]:
    """Search-engine mode jieba tokens (long words also give their parts), stopwords dropped."""
    stop = stopwords()
    return [t for t in _tokenizer().lcut_for_search(normalize(text)) if KEEP.search(t) and t not in stop]


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

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk, aligned with `self.ids`."""
        if self.bm25 is None or not query_tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.bm25.get_scores(query_tokens)
