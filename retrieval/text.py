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


def data_rows(name: str) -> list[list[str]]:
    """Whitespace-separated fields of each non-comment line of a vocabulary file in ``retrieval/data/``."""
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        fields = line.split("#")[0].split()
        if fields:
            rows.append(fields)
    return rows


@lru_cache(maxsize=1)
def unit_aliases() -> dict[str, str]:
    """Every name of a unit (official, short, capital city) → its official name (data/units.txt)."""
    return {alias: row[0] for row in data_rows("units.txt") for alias in row}


def units_named(text: str) -> list[str]:
    """Official names of the units a text names, in order of first mention; a longer name wins over
    the shorter one inside it ("广西壮族自治区" is one mention, not also "广西")."""
    text = normalize(text)
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for alias in sorted(unit_aliases(), key=len, reverse=True):
        for m in re.finditer(re.escape(alias), text):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                taken.append((m.start(), m.end()))
                found.append((m.start(), unit_aliases()[alias]))
    return list(dict.fromkeys(u for _, u in sorted(found)))


@lru_cache(maxsize=1)
def paraphrases() -> list[tuple[str, list[str]]]:
    """(everyday wording, official terms) pairs (data/paraphrases.txt), longest wording first."""
    return sorted(((row[0], row[1:]) for row in data_rows("paraphrases.txt")), key=lambda p: -len(p[0]))


def official_terms(question: str) -> list[str]:
    """The official terms for the everyday wording a question uses (each once, none it already has)."""
    q = normalize(question)
    terms = [t for everyday, official in paraphrases() if everyday in q for t in official]
    return [t for t in dict.fromkeys(terms) if t not in q]


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
