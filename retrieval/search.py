"""Hybrid retrieval that knows report structure.

question → normalise (NFKC, 繁→简) → dense (FAISS) + keyword (BM25) → fuse (RRF) with a soft
boost for the section role the question asks about → complete list answers → passages.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import faiss
import numpy as np

from .config import Settings
from .keyword import expand, normalize, tokenize
from .store import Snapshot, current_generation

MAX_QUESTION = 2000  # characters used from a question; the rest is ignored (and said so)

INTENT: list[tuple[str, re.Pattern]] = [
    ("cause", re.compile(r"原因|根源|为什么|为何|症结")),
    ("problem", re.compile(r"问题|不足|差距|短板|薄弱|缺点|不够|欠缺")),
    ("plan", re.compile(r"下一步|下步|打算|计划|思路|明年|今后|将来|未来|目标|规划")),
    ("work", re.compile(r"做法|措施|开展|成效|成绩|如何|怎样|怎么|哪些活动|举措|经验")),
]


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_question(question: str) -> str:
    """Matching form of a question: NFKC, traditional → simplified, trimmed."""
    question = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from a browser or API
    return _t2s().convert(normalize(question)).strip()


def intent(question: str) -> list[str]:
    """Section roles a question asks about (first match wins; 原因 beats 问题 in "问题的原因")."""
    for role, pattern in INTENT:
        if pattern.search(question):
            return ["highlight", "work"] if role == "work" else [role]
    return []


QUANTITY = re.compile(r"(?:多少|几)([名个次人场篇项家期批户条件所位元]?)")
NUMBER = r"[0-9一二三四五六七八九十百千万两]+(?:\.\d+)?余?"
ANY_UNIT = "[名个次人场篇项家期批户条件所位元]"
SENTENCE_END = re.compile(r"[。；！？\n]")


def quantity_unit(question: str) -> str | None:
    """For a how-many question, the unit asked about as a regex ("次"); None otherwise."""
    m = QUANTITY.search(question)
    if not m:
        return None
    return ANY_UNIT if m.group(1) in ("", "个") else m.group(1)


def states_quantity(text: str, tokens: list[str], unit: str) -> bool:
    """Does one sentence of the passage give a number with that unit next to what was asked about
    (a term of 3+ characters, or two terms of the question)?"""
    terms = [t for t in tokens if len(t) >= 2]
    pattern = re.compile(NUMBER + unit)
    for sentence in SENTENCE_END.split(normalize(text)):
        if pattern.search(sentence):
            found = [t for t in terms if t in sentence]
            if len(found) >= 2 or any(len(t) >= 3 for t in found):
                return True
    return False


def asks_only_role(tokens: list[str]) -> bool:
    """A question whose every keyword is a role word asks for that kind of section itself."""
    return all(any(p.search(t) for _, p in INTENT) for t in tokens)


@dataclass
class Filters:
    reports: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    section_types: list[str] = field(default_factory=list)

    def mask(self, snap: Snapshot) -> np.ndarray | None:
        """Boolean mask over snapshot rows, or None when nothing is filtered."""
        if not (self.reports or self.years or self.section_types):
            return None
        keep = np.ones(len(snap.ids), dtype=bool)
        if self.reports:
            wanted = set(self.reports)
            for source, aliases in snap.aliases.items():
                if wanted & set(aliases):
                    wanted.add(source)
            keep &= np.isin(snap.sources, list(wanted))
        if self.years:
            keep &= np.isin(snap.years, [int(y) for y in self.years])
        if self.section_types:
            keep &= np.isin(snap.types, list(self.section_types))
        return keep


@dataclass
class Result:
    passages: list[dict]
    message: str = ""  # what the user should know: empty question, nothing relevant, question cut


def rrf(ranks: np.ndarray, k: int) -> np.ndarray:
    return np.where(ranks >= 0, 1.0 / (k + ranks + 1), 0.0)


def rescale(scores: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Scores of the ranked candidates mapped to [0, 1]: the best is 1, the last one ranked 0."""
    ranked = ranks >= 0
    if not ranked.any():
        return np.zeros(len(scores))
    top, floor = scores[ranked].max(), scores[ranked].min()
    return np.where(ranked, (scores - floor) / ((top - floor) or 1.0), 0.0)


def rank_of(scores: np.ndarray, valid: np.ndarray, depth: int) -> np.ndarray:
    """Rank (0 = best) of each row among valid rows with a positive score, -1 below `depth`."""
    ranks = np.full(len(scores), -1, dtype=np.int64)
    candidates = np.flatnonzero(valid & (scores > 0))
    order = candidates[np.argsort(-scores[candidates], kind="stable")][:depth]
    ranks[order] = np.arange(len(order))
    return ranks


class Searcher:
    """Answers questions from the live index generation; picks up a new one when it appears."""

    def __init__(self, settings: Settings, encoder):
        self.settings, self.encoder = settings, encoder
        self._snap: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot | None:
        live = current_generation(self.settings.index_dir)
        with self._lock:
            if live is None:
                return None
            if self._snap is None or self._snap.folder != live:
                self._snap = Snapshot(live)
            return self._snap

    def search(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> Result:
        s = self.settings
        top_k = max(1, min(int(top_k or s.top_k), 50))
        text = normalize_question(question or "")
        if not text:
            return Result([], "请输入问题。")
        snap = self.snapshot()
        if snap is None or not len(snap.ids):
            return Result([], "索引为空：请先添加报告并建立索引。")
        note = ""
        if len(text) > MAX_QUESTION:
            text, note = text[:MAX_QUESTION], f"问题过长，只用了前 {MAX_QUESTION} 个字。"
        mask = (filters or Filters()).mask(snap)
        valid = np.ones(len(snap.ids), dtype=bool) if mask is None else mask
        if not valid.any():
            return Result([], "没有符合筛选条件的报告段落。")

        dense = self._dense_scores(snap, text, valid)
        keyword = np.zeros(len(snap.ids), dtype=np.float32)
        tokens = tokenize(text)
        kw = snap.keyword.scores(expand(tokens))
        keyword[snap.keyword_rows] = kw
        depth = s.fusion_depth
        d_rank, k_rank = rank_of(dense, valid, depth), rank_of(keyword, valid, depth)
        if s.fusion == "rrf":
            fused = s.dense_weight * rrf(d_rank, s.rrf_k) + s.keyword_weight * rrf(k_rank, s.rrf_k)
        else:
            fused = s.dense_weight * rescale(dense, d_rank) + s.keyword_weight * rescale(keyword, k_rank)
        roles = intent(text)
        role_hit = np.zeros(len(snap.ids), dtype=bool)
        for role in roles:
            role_hit |= snap.role_masks.get(role, False)
        boost = s.role_only_boost if roles and asks_only_role(tokens) else s.role_boost
        fused = fused * np.where(role_hit, 1.0 + boost, 1.0)
        fused[~valid] = 0

        order = [i for i in np.argsort(-fused, kind="stable")[: top_k * 4] if fused[i] > 0]
        if not order:
            return Result([], "没有找到相关内容。")
        confidence = self._confidence(dense, keyword, valid)
        if confidence == "none":
            return Result([], "没有找到与问题相关的内容，请换个说法或检查筛选条件。")
        if confidence == "weak":
            note = " ".join(filter(None, [note, "相关度较低：以下段落可能不能直接回答这个问题。"]))
        rows = {r["id"]: r for r in snap.chunks([int(snap.ids[i]) for i in order])}
        texts = {i: rows[int(snap.ids[i])]["text"] for i in order}
        unit = quantity_unit(text)
        quantity = {i: bool(unit) and states_quantity(texts[i], expand(tokens), unit) for i in order}
        for i in order:
            fused[i] *= 1.0 + s.quantity_boost * quantity[i]
        order.sort(key=lambda i: -fused[i])
        passages = []
        for i in order:
            row = rows[int(snap.ids[i])]
            row["why"] = {
                "dense": {"rank": int(d_rank[i]) + 1 if d_rank[i] >= 0 else None, "score": round(float(dense[i]), 4)},
                "keyword": {"rank": int(k_rank[i]) + 1 if k_rank[i] >= 0 else None, "score": round(float(keyword[i]), 3)},
                "role": bool(role_hit[i]),
                "quantity": quantity[i],
                "roles_asked": roles,
            }
            row["score"] = round(float(fused[i]), 5)
            passages.append(row)
        passages = complete_lists(snap, passages, s.chunk_max, top_k)[:top_k]
        for rank, p in enumerate(passages, 1):
            p["rank"] = rank
        return Result(passages, note)

    def _dense_scores(self, snap: Snapshot, text: str, valid: np.ndarray) -> np.ndarray:
        vector = self.encoder.encode_queries([text]).astype(np.float32)
        n = len(snap.ids)
        k = min(n, self.settings.fusion_depth)
        params = None
        if not valid.all():
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(snap.ids[valid]))
            k = min(k, int(valid.sum()))
        scores, ids = snap.vectors.search(vector, k, params=params)
        out = np.zeros(n, dtype=np.float32)
        found = ids[0] >= 0
        out[np.searchsorted(snap.ids, ids[0][found])] = scores[0][found]
        return out

    def _confidence(self, dense: np.ndarray, keyword: np.ndarray, valid: np.ndarray) -> str:
        """"sure", "weak" or "none": does the best passage stand out from this question's own scores?

        e5 similarities bunch together, so no absolute threshold works: the best dense score is
        measured against the spread of all scores (z), and the keywords against what BM25 finds.
        """
        scores = dense[valid & (dense > 0)]
        z = (scores.max() - np.median(scores)) / (scores.std() or 1e-6) if len(scores) >= 5 else np.inf
        best_keyword = float(keyword[valid].max())
        if z >= self.settings.min_dense_z or best_keyword >= self.settings.min_keyword_score:
            return "sure"
        return "weak" if best_keyword > 0 else "none"


def complete_lists(snap: Snapshot, passages: list[dict], limit: int, window: int) -> list[dict]:
    """Answer list questions whole: parts of one split section are shown together.

    The whole section replaces its parts when it fits in `limit` characters; otherwise the parts
    that ranked stand together, in document order, at the rank of the best one. A passage and
    the section it belongs to never both appear.
    """
    groups: dict[tuple[str, int], list[dict]] = {}
    for p in passages:
        groups.setdefault((p["source"], p["section_start"]), []).append(p)
    out: list[dict] = []
    for p in passages:
        key = (p["source"], p["section_start"])
        if key not in groups:
            continue
        hits = groups.pop(key)
        parts = snap.section_chunks(*key)
        if len(parts) > 1 and parts[-1]["end"] - parts[0]["start"] <= limit:
            start, end = parts[0]["start"], parts[-1]["end"]
            text = snap.document(p["source"])["text"][start:end]
            out.append({**p, "text": text, "start": start, "end": end, "item": None,
                        "completed_from": [x["id"] for x in parts]})
        else:
            out.extend(sorted(hits, key=lambda h: h["start"]))
    return merge_siblings(snap, out, limit, window)


def merge_siblings(snap: Snapshot, passages: list[dict], limit: int, window: int) -> list[dict]:
    """Sibling sections that both rank in the first `window` ((一)(二)(三) of one heading) are items
    of one list: their parent section replaces them, at the first one's rank, when it fits in `limit`
    characters. Passages inside a passage already shown are dropped."""
    def parent_of(p: dict) -> tuple:
        return p["source"], tuple(p["heading_path"][:-1])

    members: dict[tuple, set] = {}
    for p in passages[:window]:
        if len(p["heading_path"]) > 1:
            members.setdefault(parent_of(p), set()).add(tuple(p["heading_path"]))
    parents: dict[tuple, dict] = {}
    for (source, parent), paths in members.items():
        if len(paths) < 2:
            continue
        inside = [c for c in snap.source_chunks(source) if tuple(c["heading_path"][:len(parent)]) == parent]
        start, end = min(c["start"] for c in inside), max(c["end"] for c in inside)
        if end - start <= limit:
            parents[(source, parent)] = {"text": snap.document(source)["text"][start:end], "start": start, "end": end,
                                         "heading_path": list(parent), "section": " › ".join(parent), "item": None,
                                         "section_type": inside[0]["section_type"],
                                         "completed_from": [c["id"] for c in inside]}
    out: list[dict] = []
    for p in passages:
        merged = parents.get(parent_of(p))
        p = {**p, **merged} if merged else p
        if not any(q["source"] == p["source"] and q["start"] < p["end"] and p["start"] < q["end"] for q in out):
            out.append(p)
    return out
