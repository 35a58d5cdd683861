"""The matching form of Chinese text, one place for every consumer (indexing, search, highlighting).

NFKC (full/half width), lower case, 繁→简 for questions; jieba tokens with the domain dictionary,
stopwords dropped; synonym groups widen a question. Vocabulary lives in ``retrieval/data/``.
Users always see the original characters: these forms are only ever compared, never shown.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

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


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_question(question: str) -> str:
    """Matching form of a question: NFKC, traditional → simplified, trimmed."""
    question = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from a browser or API
    return _t2s().convert(normalize(question)).strip()
