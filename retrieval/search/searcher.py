"""Hybrid retrieval that knows report structure.

question → normalise (NFKC, 繁→简) → dense (FAISS) + keyword (BM25) → fuse with a soft boost for
the section role the question asks about → complete list answers → passages.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Settings
from ..passage import Passage, Why
from ..store import Snapshot, open_store
from ..text import Concept, expand, normalize_question, tokenize
from .filters import Filters
from .evidence import Evidence, sentence_coverage
from .fusion import best_rows, falling_scores, rank_of, rescale, rrf
from .lists import complete_lists
from .question import MAX_QUESTION, states_quantity, stating, understand


def to_passage(rank: int, row: dict) -> Passage:
    """The public passage for a ranked candidate row (a chunk, or a list section completed from chunks)."""
    return Passage(rank=rank, score=row["score"], source=row["source"], title=row["title"],
                   heading_path=tuple(row["heading_path"]), section_type=row["section_type"], text=row["text"],
                   start=row["start"], end=row["end"], year=row["year"], page=row["page"], item=row["item"],
                   why=row["why"])


@dataclass
class Result:
    passages: list[Passage]
    message: str = ""  # what the user should know: empty question, nothing relevant, question cut


class Searcher:
    """Answers questions from the live index generation; picks up a new one when it appears."""

    def __init__(self, settings: Settings, encoder):
        self.settings, self.encoder = settings, encoder
        self.store = open_store(settings)

    def snapshot(self) -> Snapshot | None:
        """The store's last commit (local or Milvus: the same interface)."""
        return self.store.snapshot()

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
        q = understand(text, snap.newest_year, snap.unit_names)

        dense = self._dense_scores(snap, q.dense_text if s.use_paraphrases else q.text, valid)
        tokens = q.tokens if s.use_paraphrases else expand(tokenize(text))
        depth = s.fusion_depth
        keyword = snap.keyword_scores(tokens, depth, mask)
        d_rank, k_rank = rank_of(dense, valid, depth), rank_of(keyword, valid, depth)
        if s.fusion == "rrf":
            fused = s.dense_weight * rrf(d_rank, s.rrf_k) + s.keyword_weight * rrf(k_rank, s.rrf_k)
        else:
            fused = s.dense_weight * rescale(dense, d_rank) + s.keyword_weight * rescale(keyword, k_rank)
        evidence = Evidence.of(snap, q, s)
        fused = fused * evidence.factor
        fused[~valid] = 0

        order = [int(i) for i in best_rows(fused, np.flatnonzero(fused > 0), top_k * 4)]
        if not order:
            return Result([], "没有找到相关内容。")
        confidence = self._confidence(snap, q.concepts, dense, keyword, valid, q.only_role and bool((evidence.role & valid).any()))
        if confidence == "none":
            return Result([], "没有找到与问题相关的内容，请换个说法或检查筛选条件。")
        if confidence == "weak":
            note = " ".join(filter(None, [note, "相关度较低：以下段落可能不能直接回答这个问题。"]))
        rows = {r["id"]: r for r in snap.chunks([int(snap.ids[i]) for i in order])}
        texts = {i: rows[int(snap.ids[i])]["text"] for i in order}
        quantity = {i: bool(q.quantity) and states_quantity(texts[i], tokens, q.quantity) for i in order}
        idf = snap.keyword_idf([t for c in q.concepts for t in c.members]) if s.sentence_weight else {}
        figure = stating(q.quantity) if q.quantity else None
        covered = {i: sentence_coverage(texts[i], q.concepts, idf, figure) for i in order}
        for i in order:
            fused[i] *= (1.0 + s.quantity_boost * quantity[i]) * (1.0 + s.sentence_weight * covered[i])
        order.sort(key=lambda i: -fused[i])
        passages = []
        for i in order:
            row = rows[int(snap.ids[i])]
            row["why"] = Why(
                dense_rank=int(d_rank[i]) + 1 if d_rank[i] >= 0 else None, dense_score=round(float(dense[i]), 4),
                keyword_rank=int(k_rank[i]) + 1 if k_rank[i] >= 0 else None, keyword_score=round(float(keyword[i]), 3),
                role=bool(evidence.role[i]), quantity=quantity[i], roles_asked=evidence.roles,
                unit=bool(evidence.unit[i]), year=bool(evidence.year[i] > 0))
            row["score"] = round(float(fused[i]), 5)
            passages.append(row)
        if q.is_list and s.list_completion:
            passages = complete_lists(snap, passages, s.chunk_max, top_k)
        passages = falling_scores(passages[:top_k])
        return Result([to_passage(rank, p) for rank, p in enumerate(passages, 1)], note)

    def _dense_scores(self, snap: Snapshot, text: str, valid: np.ndarray) -> np.ndarray:
        vector = self.encoder.encode_queries([text]).astype(np.float32)[0]
        return snap.dense_scores(vector, self.settings.fusion_depth, None if valid.all() else valid)

    def _confidence(self, snap: Snapshot, concepts: list[Concept], dense: np.ndarray, keyword: np.ndarray,
                    valid: np.ndarray, role_found: bool) -> str:
        """"sure", "weak" or "none": is there a passage that is about what was asked?

        Sure when the best passage is as close to the question as answers are (``min_dense_score``), or
        when one sentence of a top keyword passage holds most of the question's keyword weight
        (``min_coverage``; words the index has never seen weigh as much as its rarest word, so an
        off-topic question is not "covered" by its one common word), or when a question asking for a
        role itself ("下步打算") finds passages playing it. Weak when only some keywords match; none when
        nothing matches at all.
        """
        s = self.settings
        best_keyword = float(keyword[valid].max())
        if float(dense[valid].max()) >= s.min_dense_score or role_found:
            return "sure"
        if best_keyword >= s.min_keyword_score:
            members = [t for c in concepts for t in c.members]
            idf = snap.keyword_idf(members)
            rarest = max(idf.values(), default=1.0)
            idf = {t: idf.get(t, rarest) for t in members if len(t) > 1 or t in idf}
            top = [int(snap.ids[i]) for i in np.argsort(-np.where(valid, keyword, 0))[:5]]
            if max((sentence_coverage(r["text"], concepts, idf) for r in snap.chunks(top)), default=0.0) >= s.min_coverage:
                return "sure"
        return "weak" if best_keyword > 0 else "none"
