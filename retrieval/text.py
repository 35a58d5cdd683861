"""The matching form of Chinese text, one place for every consumer (indexing, search, highlighting).

NFKC (full/half width), lower case, 繁→简 for questions; jieba tokens with the domain dictionary,
stopwords dropped; synonym groups widen a question. Vocabulary lives in ``retrieval/data/``.
Users always see the original characters: these forms are only ever compared, never shown.
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
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


# Parts of speech (jieba's tag set) that put a question, not name its topic: verbs, pronouns, adverbs,
# prepositions, conjunctions, particles, localisers ("准备从哪几方面入手", "这块", "里"); nouns, verbal
# nouns ("监督", "建设"), adjectives and idioms name topics.
PHRASING_TAGS = ("v", "vd", "vg", "vi", "r", "rr", "rz", "d", "p", "c", "u", "ud", "uj", "ul", "uv", "uz", "y", "f")


@lru_cache(maxsize=1)
def _tagger():
    from jieba import posseg

    return posseg.POSTokenizer(_tokenizer())


@lru_cache(maxsize=4096)
def _tags(word: str) -> tuple[str, ...]:
    """The parts of speech of a word's parts, as jieba tags them."""
    return tuple(pair.flag for pair in _tagger().lcut(word))


def load_dictionaries() -> None:
    """Load jieba's word list and its part-of-speech table now rather than at the first question that
    reads them: a new server's first list question took 2.3 s with the table, 0.35 s without (AMD EPYC,
    `/chat` through gradio_client)."""
    tokenize("预热")
    _tags("预热")


def is_phrasing(word: str) -> bool:
    """Is every part of a word, as jieba tags it, of a part of speech that puts a question rather than
    names what it is about (``PHRASING_TAGS``: "归结为", "入手", "这块"; not "荣誉", "监督")?"""
    tags = _tags(word)
    return bool(tags) and all(tag in PHRASING_TAGS for tag in tags)


def lead_in_dropped(phrase: str) -> str:
    """A phrase without the words that lead into it up to a preposition among its first three, as jieba
    tags them ("着重从发挥政治引领作用" → "发挥政治引领作用"; "主要从加强学习" → "加强学习")."""
    pairs = _tagger().lcut(phrase)
    at = next((i for i, pair in enumerate(pairs[:3]) if pair.flag == "p"), None)
    if at is None or at == len(pairs) - 1:
        return phrase
    return phrase[sum(len(pair.word) for pair in pairs[:at + 1]):]


def is_naming(word: str) -> bool:
    """Does a word name a thing — every part a noun, a verbal or adjectival noun as jieba tags it
    ("考核", "民生", "困难"), not a degree or a manner ("充分", "深入")?"""
    tags = _tags(word)
    return bool(tags) and all(tag.startswith("n") or tag in ("vn", "an") for tag in tags)


@lru_cache(maxsize=1)
def tokenizer_version() -> str:
    """Changes whenever the words tokens are cut into change (data/userdict.txt, data/stopwords.txt): an
    index's keyword tokens hold only for the version that cut them (``store.parser_version``). The rule that
    ends words at a written year (``YEAR_DIGITS``) is part of the version."""
    digest = hashlib.sha256(YEAR_DIGITS.pattern.encode())
    for name in ("userdict.txt", "stopwords.txt"):
        digest.update((DATA / name).read_bytes())
    return digest.hexdigest()[:12]


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


def tab_rows(name: str) -> list[list[str]]:
    """Tab-separated fields of each non-comment line of a vocabulary file in ``retrieval/data/``: for
    rows that hold regular expressions (which may hold spaces and "#")."""
    return [line.split("\t") for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


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


SPREAD = 2  # characters a qualifier inside a word may take: "思想政治建设", "组织体系建设"; at 3, "思想和组织建设" would say 思想建设


@dataclass(frozen=True)
class Concept:
    """One word of a question with what means the same: a sentence holding any of ``words`` (the
    word, a synonym, the official term for everyday wording) says the whole concept; one holding only
    ``parts`` (search-mode pieces of those words) says a part of it. "新入党" and "发展党员" name one
    thing, so a sentence with either earns it once — never once per synonym."""

    words: tuple[str, ...]
    parts: tuple[str, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return self.words + self.parts

    def weight(self, idf: dict[str, float]) -> float:
        """What the concept weighs: its rarest member's IDF."""
        return max((idf.get(t, 0.0) for t in self.members), default=0.0)

    @cached_property
    def spread(self) -> re.Pattern | None:
        """A word said with a qualifier inside it: "思想建设" as "思想政治建设", "组织建设" as "组织体系建设" —
        its two halves (as jieba's search mode cuts it, two characters or more each) with at most
        ``SPREAD`` characters between them."""
        halves = [(a, w[len(a):]) for w in self.words for a in self.parts
                  if len(a) >= 2 and len(w) - len(a) >= 2 and w.startswith(a) and w[len(a):] in self.parts]
        if not halves:
            return None
        return re.compile("|".join(f"{re.escape(a)}[^\\s，。；、,;]{{1,{SPREAD}}}{re.escape(b)}" for a, b in halves))

    def credit(self, sentence: str, idf: dict[str, float]) -> float:
        """How much of the concept a (normalised) sentence says."""
        if any(w in sentence for w in self.words) or (self.spread and self.spread.search(sentence)):
            return self.weight(idf)
        return max((idf.get(t, 0.0) for t in self.parts if t in sentence), default=0.0)


def concepts(question: str) -> list[Concept]:
    """The concepts of a (normalised) question: one per word of jieba's precise cut (stopwords
    dropped), with its synonyms (data/synonyms.txt); the words of an everyday phrase
    (data/paraphrases.txt) make one concept whose words are the phrase and its official terms (the
    single words inside it are only parts: "办" alone does not say "办丧事")."""
    q = normalize(question)
    stop = stopwords()
    spans = [(w, a, b) for w, a, b in _spans(q) if KEEP.search(w) and w not in stop]
    owner = list(range(len(spans)))  # the concept each word belongs to
    words: list[list[str]] = [[w] for w, _, _ in spans]
    parts: list[list[str]] = [[] for _ in spans]
    said: list[tuple[int, int]] = []  # spans of the everyday phrases taken
    for everyday, official in paraphrases():  # longest first: "办丧事" is taken, "丧事" inside it is not
        at = q.find(everyday)
        end = at + len(everyday)
        if at < 0 or any(a <= at and end <= b for a, b in said):
            continue
        said.append((at, end))
        inside = sorted({owner[i] for i, (_, a, b) in enumerate(spans) if a < end and at < b})
        if not inside:
            continue
        first = inside[0]
        for g in inside:
            parts[first] += [w for w in words[g] if w not in (everyday, *official)] + parts[g]
            words[g], parts[g] = [], []
            owner = [first if o == g else o for o in owner]
        words[first] = [everyday, *official]
    out = []
    for whole, pieces in zip(words, parts):
        if not whole:
            continue
        whole = list(dict.fromkeys(whole + [syn for w in whole for syn in synonyms().get(w, [])]))
        pieces = [t for w in whole + pieces for t in [w, *tokenize(w)] if t not in whole]
        out.append(Concept(tuple(whole), tuple(dict.fromkeys(pieces))))
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
    return [t for t, _, _ in _spans(normalize(text), "search") if KEEP.search(t) and t not in stop]


# A written year ends a word on both sides of its 年 ("2019年", "二〇二四年"). Left alone, jieba's HMM
# glues the 年 to an unknown next character ("2019年县社区" → "年县", "2023年述责报告" → "年述责") or the
# year's last digit to the 年 ("二〇二四年" → "四年"): 24 such tokens in the .txt reports of the three eval
# corpora, and 3 of ~370 eval questions, whose junk token then counted as a concept. A dictionary word
# that begins at the 年 ("年底", "年度") stays whole.
YEAR_DIGITS = re.compile(r"(?:\d{4}|[〇○零一二三四五六七八九]{4})(?=年)")


def _spans(text: str, mode: str = "default") -> list[tuple[str, int, int]]:
    """jieba's (word, start, end) of a (normalised) text, ``mode`` "default" (precise) or "search"; no
    word spans the edge of a written year's 年 (``YEAR_DIGITS``). The text is cut once, and again in
    pieces only where a word crossed such an edge (in search mode a part crosses only where its word does)."""
    tok = _tokenizer()
    spans = list(tok.tokenize(text, mode=mode))
    edges = sorted({e for m in YEAR_DIGITS.finditer(text) for e in (m.end(), m.end() + 1)})
    if not edges:
        return spans
    starts = set(edges)
    crossed = set()
    for w, a, b in spans:
        if a in starts and text[a] == "年" and tok.FREQ.get(w):  # "年底", "年度" stay whole
            continue
        i = bisect_right(edges, a)
        while i < len(edges) and edges[i] < b:
            crossed.add(edges[i])
            i += 1
    if not crossed:
        return spans
    cuts = [0, *sorted(crossed), len(text)]
    return [(w, x + a, x + b) for x, y in zip(cuts, cuts[1:]) for w, a, b in tok.tokenize(text[x:y], mode=mode)]


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional characters as simplified (OpenCC t2s)."""
    return _t2s().convert(text)


def fingerprint(text: str) -> str | None:
    """What two reports with the same words share (a scan of a report and its .docx, a copy with other
    spacing or full-width punctuation): the SHA-256 of the text's matching form (NFKC, lower case,
    繁→简) with only letters, digits and CJK characters kept. None for a text without any."""
    kept = "".join(KEEP.findall(simplified(normalize(text))))
    return hashlib.sha256(kept.encode("utf-8")).hexdigest() if kept else None


def normalize_question(question: str) -> str:
    """Matching form of a question: NFKC, traditional → simplified, trimmed."""
    question = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from a browser or API
    return simplified(normalize(question)).strip()
