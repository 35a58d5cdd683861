"""Hybrid retrieval that knows report structure.

question → normalise (NFKC, 繁→简) → dense (FAISS) + keyword (BM25) candidates → features (scores,
role / unit / year evidence, then text) → the learned ranker (``ranker.py``, two stages) → complete
list answers → passages.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..config import Settings
from ..encode import QueryVectors
from ..passage import Passage, Why
from ..store import Snapshot, open_store
from ..store.snapshot import Rows
from ..text import expand, normalize_question, tokenize
from .evidence import Evidence, sentence_coverage
from .features import FEATURES, ROW_FEATURES, Scores, row_features, text_features
from .filters import Filters
from .fusion import best_rows, falling_scores, rank_of
from .genre import genre_reports, government_share
from .lists import complete_lists, shown_whole
from .question import MAX_QUESTION, RELATIVE, Question, understand
from .ranker import RANKER_FILE, Ranker, probability
from .unit_types import newest_about, types_in


def to_passage(rank: int, row: dict) -> Passage:
    """The public passage for a ranked candidate row (a chunk, or a list section completed from chunks)."""
    return Passage(rank=rank, score=row["score"], source=row["source"], title=row["title"],
                   heading_path=tuple(row["heading_path"]), section_type=row["section_type"], text=row["text"],
                   start=row["start"], end=row["end"], year=row["year"], page=row["page"], item=row["item"],
                   why=row["why"], data_years=(row["year_from"], row["year_to"]) if row.get("year_from") else None,
                   parts=tuple(row.get("parts") or ()))


WEAK = "相关度较低：以下段落可能不能直接回答这个问题。"  # the note of an answer only some keywords match


@lru_cache(maxsize=256)
def understood(text: str, newest_year: int | None, known_units: tuple[str, ...]) -> Question:
    """``understand``, once per question and index: the searches of one request (role first, a
    comparison's one per report) and a question asked again share it (never changed once made)."""
    return understand(text, newest_year, known_units)


def anchor_year(snap: Snapshot, text: str, q: Question) -> int | None:
    """The report year 今年/去年/明年 count from: the newest report's — of the unit the question names, else
    of the reports about every kind of unit it names ("县局支部书记明年…": the newest 县 局 report's next
    year); else None, and each report's own year does ("明年打算怎么通过支委会锻炼年轻干部？" names no one whose
    newest report it asks about: what any report plans for its next year may answer)."""
    if not any(word in text for word in RELATIVE):
        return snap.newest_year
    newest = snap.newest_years(list(q.units)) if q.units else {}
    if newest:
        return max(newest.values())
    return newest_about(snap, q.unit_types) if q.unit_types else None


@dataclass
class Result:
    passages: list[Passage]
    message: str = ""  # what the user should know: empty question, nothing relevant, question cut


@dataclass
class Candidates:
    """Everything ranking knows about one question's candidate rows (the dense and keyword top
    ``fusion_depth``; every array has one entry per candidate, never one per indexed chunk)."""

    question: Question
    view: Rows  # the candidates' index columns
    scores: Scores
    evidence: Evidence
    rows: np.ndarray  # [candidates × ROW_FEATURES]
    valid: np.ndarray  # inside the filters
    outside: bool  # valid rows exist that are no candidate (they score 0 on both rankings)

    @property
    def found(self) -> np.ndarray:
        """Candidates that a ranking found, inside the filters."""
        return np.flatnonzero(self.valid & ((self.scores.dense_rank >= 0) | (self.scores.keyword_rank >= 0)))


@dataclass
class Ranked:
    """A question's shortlisted candidates in ranked order."""

    order: list[int]  # candidate indices, best first
    scores: np.ndarray  # the ranker's scores
    rows: list[dict]  # their chunk rows
    table: np.ndarray  # their features [rows × FEATURES]


def features_of(snap: Snapshot, c: Candidates, order: list[int]) -> tuple[list[dict], np.ndarray]:
    """The chunk rows of candidates ``order`` and their full features [rows × FEATURES] (the text
    features read here: only for the rows asked)."""
    by_id = {r["id"]: r for r in snap.chunks([int(c.view.ids[i]) for i in order])}
    rows = [by_id[int(c.view.ids[i])] for i in order]
    members = [t for concept in c.question.concepts for t in concept.members]
    party, government = genre_reports(snap)
    if party and government:  # each genre's passages weighed by how rare a word is in that genre
        idf, government_idf = snap.keyword_idf(members, party), snap.keyword_idf(members, government)
    else:
        idf, government_idf = snap.keyword_idf(members), None
    named = c.rows[order][:, ROW_FEATURES.index("unit")] > 0
    return rows, np.hstack([c.rows[order], text_features(rows, c.question, idf, types_in(snap), named,
                                                        government_share(snap), government_idf)])


class Searcher:
    """Answers questions from the live index generation; picks up a new one when it appears."""

    def __init__(self, settings: Settings, encoder, ranker: Ranker | None = None):
        self.settings, self.encoder, self._ranker = settings, encoder, ranker
        self.vectors = QueryVectors(encoder)  # question vectors: cached, questions asked together batched
        self.store = open_store(settings)

    @property
    def ranker(self) -> Ranker:
        """The learned ranker (read on first use: collecting training features needs none)."""
        if self._ranker is None:
            self._ranker = Ranker.load(self.settings.ranker_file or RANKER_FILE)
        return self._ranker

    def snapshot(self) -> Snapshot | None:
        """The store's last commit (local or Milvus: the same interface)."""
        return self.store.snapshot()

    def candidates(self, snap: Snapshot, text: str, mask: np.ndarray | None) -> Candidates:
        """The candidate rows of a (normalised) question within ``mask``, with their row features."""
        s = self.settings
        q = understood(text, snap.newest_year, snap.unit_names)
        anchor = anchor_year(snap, text, q)
        if anchor != snap.newest_year:
            q = understood(text, anchor, snap.unit_names)
        depth = s.fusion_depth
        vector = self.vectors.vector(q.dense_text if s.use_paraphrases else q.text)
        d_rows, d_scores = snap.dense_top(vector, depth, None if mask is None or mask.all() else mask)
        tokens = q.tokens if s.use_paraphrases else expand(tokenize(text))
        cand, keyword = snap.keyword_top(tokens, depth, mask, also=d_rows)
        dense = np.zeros(len(cand), dtype=np.float32)
        dense[np.searchsorted(cand, d_rows)] = d_scores
        valid = np.ones(len(cand), dtype=bool) if mask is None else mask[cand]
        outside = (len(snap.ids) if mask is None else int(mask.sum())) > int(valid.sum())
        view = snap.subset(cand)
        scores = Scores(dense, keyword, rank_of(dense, valid, depth), rank_of(keyword, valid, depth))
        evidence = Evidence.of(view, q)
        return Candidates(q, view, scores, evidence, row_features(scores, evidence, q, view.types, view.sources), valid, outside)

    def rank(self, snap: Snapshot, c: Candidates, depth: int | None = None) -> Ranked:
        """The first stage keeps the best ``depth`` candidates (the ranker's own by default), the
        second orders them."""
        shortlist = self.ranker.shortlist(c.rows)
        order = [int(i) for i in best_rows(shortlist, c.found, depth or self.ranker.depth)]
        rows, table = features_of(snap, c, order)
        scores = self.ranker.score(table)
        best = np.argsort(-scores, kind="stable")
        return Ranked([order[i] for i in best], scores[best], [rows[i] for i in best], table[best])

    def search(self, question: str, top_k: int | None = None, filters: Filters | None = None,
               snap: Snapshot | None = None) -> Result:
        """``snap``: the snapshot the caller already holds (else the store's last commit)."""
        s = self.settings
        top_k = max(1, min(int(top_k or s.top_k), 50))
        text = normalize_question(question or "")
        if not text:
            return Result([], "请输入问题。")
        snap = snap if snap is not None else self.snapshot()
        if snap is None or not len(snap.ids):
            return Result([], "索引为空：请先添加报告并建立索引。")
        note = ""
        if len(text) > MAX_QUESTION:
            text, note = text[:MAX_QUESTION], f"问题过长，只用了前 {MAX_QUESTION} 个字。"
        mask = (filters or Filters()).mask(snap)
        if mask is not None and not mask.any():
            return Result([], "没有符合筛选条件的报告段落。")
        c = self.candidates(snap, text, mask)
        if not len(c.found):
            return Result([], "没有找到相关内容。")
        confidence = self._confidence(snap, c, c.question.only_role and bool((c.evidence.role & c.valid).any()))
        if confidence == "none":
            return Result([], "没有找到与问题相关的内容，请换个说法或检查筛选条件。")
        if confidence == "weak":
            note = " ".join(filter(None, [note, WEAK]))
        ranked = self.rank(snap, c, max(self.ranker.depth, top_k))
        quantity = ranked.table[:, FEATURES.index("states_quantity")] > 0
        other_type = ranked.table[:, FEATURES.index("unit_type_other")] > 0
        same_type = ranked.table[:, FEATURES.index("unit_type")] >= 1  # the share of the kinds asked: all
        ev, sc = c.evidence, c.scores
        passages = []
        for i, score, row, states, other, same in zip(ranked.order, probability(ranked.scores), ranked.rows, quantity,
                                                      other_type, same_type):
            row["why"] = Why(
                dense_rank=int(sc.dense_rank[i]) + 1 if sc.dense_rank[i] >= 0 else None,
                dense_score=round(float(sc.dense[i]), 4),
                keyword_rank=int(sc.keyword_rank[i]) + 1 if sc.keyword_rank[i] >= 0 else None,
                keyword_score=round(float(sc.keyword[i]), 3),
                role=bool(ev.role[i]), quantity=bool(states),
                roles_asked=ev.roles, unit=bool(ev.unit[i]), year=bool(ev.year[i] > 0), other_unit_type=bool(other),
                unit_type=bool(same))
            row["score"] = round(float(score), 5)
            passages.append(row)
        if shown_whole(c.question) and s.list_completion:
            passages = complete_lists(snap, passages, s.chunk_max, top_k)
        passages = falling_scores(passages[:top_k])
        return Result([to_passage(rank, p) for rank, p in enumerate(passages, 1)], note)

    def _confidence(self, snap: Snapshot, c: Candidates, role_found: bool) -> str:
        """"sure", "weak" or "none": is there a passage that is about what was asked?

        Sure when the best passage is as close to the question as answers are (``min_dense_score``), or
        when one sentence of a top keyword passage holds most of the question's keyword weight
        (``min_coverage``; words the index has never seen weigh as much as its rarest word, so an
        off-topic question is not "covered" by its one common word), or when a question asking for a
        role itself ("下步打算") finds passages playing it. Weak when only some keywords match; none when
        nothing matches at all. Valid rows that are no candidate (``c.outside``) score 0 on both.
        """
        s, valid, concepts = self.settings, c.valid, c.question.concepts
        dense, keyword = c.scores.dense, c.scores.keyword
        floor = [0.0] if c.outside else []
        best_keyword = max([float(keyword[valid].max(initial=-np.inf)), *floor])
        if max([float(dense[valid].max(initial=-np.inf)), *floor]) >= s.min_dense_score or role_found:
            return "sure"
        if best_keyword >= s.min_keyword_score:
            members = [t for concept in concepts for t in concept.members]
            idf = snap.keyword_idf(members)
            rarest = max(idf.values(), default=1.0)
            idf = {t: idf.get(t, rarest) for t in members if len(t) > 1 or t in idf}
            top = [int(c.view.ids[i]) for i in best_rows(keyword, np.flatnonzero(valid), 5)]
            if max((sentence_coverage(r["text"], concepts, idf) for r in snap.chunks(top)), default=0.0) >= s.min_coverage:
                return "sure"
        return "weak" if best_keyword > 0 else "none"
