"""What the ranker reads about each candidate: one named column per signal, no weights.

Two tiers, so that text is read only where it can matter:
- ``ROW_FEATURES`` come from the candidates' scores and index columns (every candidate, numpy only);
- ``TEXT_FEATURES`` read the passage text and headings (only the rows the first stage keeps).

Every feature is a plain number; how much each counts is learned (``retrieval/eval/train.py``) and
stored in the ranker file, never set here. Adding a feature: a name in one tuple, a column in the
function that fills it, then retrain.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from ..text import Concept, normalize
from .evidence import Evidence, sentence_coverage
from .fusion import rescale
from .genre import genre_lift, is_government
from .question import Question, states_quantity, stating

ROW_FEATURES = (
    "fused",  # dense and keyword scores each rescaled over the candidates to [0.1, 1] (fusion.rescale), summed
    "dense",  # cosine similarity of question and passage (0 outside the dense candidates)
    "dense_gap",  # the best candidate's cosine minus this one's
    "dense_rr",  # 1 / (1 + dense rank); 0 unranked
    "keyword",  # BM25 score / the best candidate's
    "keyword_log",  # log(1 + BM25)
    "keyword_rr",  # 1 / (1 + keyword rank); 0 unranked
    "report_rows",  # share of the candidates that come from the same report
    "report_dense",  # the best cosine among the same report's candidates
    "report_keyword",  # the best BM25 (/ the best of all) among the same report's candidates
    "asks_role",  # the question names a role (问题 / 原因 / 下一步 / 做法)
    "only_role",  # …and asks for nothing but that role
    "role_heading",  # the passage plays a role asked by its headings
    "role_paragraph",  # …only by its own paragraphs
    "role_other",  # a role was asked, and the passage's section plays another
    "implied_role",  # no role named; a target asks for the plan, a year's result for the review
    "asks_unit", "unit",  # the question names a unit; the passage is from it
    "asks_year", "year",  # the question names a year; how well the passage is about it (0–1)
    "recent",  # from the newest report of a unit named without a year
    "asks_list", "asks_quantity", "asks_target",
)
TEXT_FEATURES = (
    "coverage",  # share of the question's concept weight the best single sentence says
    "states_quantity",  # a how-many question, and one sentence gives a number with the unit asked
    "heading_coverage",  # share of the concept weight its heading path says
    "title_coverage",  # share of the concept weight its report's title says
    "asks_unit_type",  # the question names a kind of unit (乡, 镇, 学校 …)
    "unit_type",  # …the share of those kinds the passage's report is about (unit_types.report_types): "县局" 县 and 局
    "unit_type_other",  # …and its report is about other kinds only
    "year_in_text",  # its headings or text name a year the question names ("2024年")
    "text_coverage",  # share the whole passage says
    "genre_lift",  # log of how much likelier its genre is in the shortlist than in the corpus (genre.py)
    "length",  # log(characters)
    "depth",  # headings above it
    "item",  # one enumerated item (一是 …) of a longer section
)
FEATURES = ROW_FEATURES + TEXT_FEATURES
# The direction each signal can move a passage (1 up, -1 down, 0 either way): more agreement with the
# question never ranks a passage lower. Tree models are held to it (LightGBM's monotone constraints).
RISING = {"fused", "dense", "dense_rr", "keyword", "keyword_log", "keyword_rr", "report_rows", "report_dense",
          "report_keyword", "role_heading", "role_paragraph", "implied_role", "unit", "year", "recent", "coverage",
          "states_quantity", "heading_coverage", "title_coverage", "unit_type", "year_in_text", "text_coverage"}
FALLING = {"dense_gap", "role_other", "unit_type_other"}
DIRECTIONS = tuple(1 if n in RISING else -1 if n in FALLING else 0 for n in FEATURES)
ROLES = ("problem", "cause", "plan", "work", "highlight")  # section roles a question can ask for


@dataclass
class Scores:
    """The candidates' first-stage scores: per row, 0 where a ranking did not find it."""

    dense: np.ndarray
    keyword: np.ndarray
    dense_rank: np.ndarray  # 0-based, -1 unranked
    keyword_rank: np.ndarray


def row_features(scores: Scores, evidence: Evidence, q: Question, types: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """[candidates × ROW_FEATURES] from scores, evidence and the rows' section types and reports."""
    n = len(scores.dense)
    dense, keyword = scores.dense.astype(np.float64), scores.keyword.astype(np.float64)
    _, report, count = np.unique(sources.astype(str), return_inverse=True, return_counts=True)
    report_dense, report_keyword = np.zeros(len(count)), np.zeros(len(count))
    np.maximum.at(report_dense, report, dense)
    np.maximum.at(report_keyword, report, keyword)
    asked = set(evidence.roles) if not evidence.implied else set()
    other = np.isin(types, [r for r in ROLES if r not in asked]) & ~evidence.role_heading if asked else np.zeros(n, bool)
    columns = {
        "fused": rescale(dense, scores.dense_rank) + rescale(keyword, scores.keyword_rank),
        "dense": dense,
        "dense_gap": (dense.max(initial=0.0) - dense) * (dense > 0),
        "dense_rr": np.where(scores.dense_rank >= 0, 1.0 / (1.0 + np.maximum(scores.dense_rank, 0)), 0.0),
        "keyword": keyword / (keyword.max(initial=0.0) or 1.0),
        "keyword_log": np.log1p(np.maximum(keyword, 0.0)),
        "keyword_rr": np.where(scores.keyword_rank >= 0, 1.0 / (1.0 + np.maximum(scores.keyword_rank, 0)), 0.0),
        "report_rows": count[report] / max(n, 1),
        "report_dense": report_dense[report],
        "report_keyword": report_keyword[report] / (keyword.max(initial=0.0) or 1.0),
        "asks_role": np.full(n, float(bool(asked))),
        "only_role": np.full(n, float(q.only_role)),
        "role_heading": evidence.role_heading & bool(asked),
        "role_paragraph": evidence.role_paragraph & bool(asked),
        "role_other": other,
        "implied_role": evidence.role & evidence.implied,
        "asks_unit": np.full(n, float(bool(q.units))),
        "unit": evidence.unit,
        "asks_year": np.full(n, float(bool(q.years or q.report_years or q.relative))),
        "year": evidence.year,
        "recent": evidence.recent,
        "asks_list": np.full(n, float(q.is_list)),
        "asks_quantity": np.full(n, float(q.quantity is not None)),
        "asks_target": np.full(n, float(q.target)),
    }
    return np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in ROW_FEATURES])


def text_features(rows: list[dict], q: Question, idf: dict[str, float],
                  types_of: Callable[[str], frozenset[str]], named: np.ndarray | None = None,
                  corpus_government: float = 0.0, government_idf: dict[str, float] | None = None) -> np.ndarray:
    """[rows × TEXT_FEATURES] for the shortlist's chunk rows (text, heading_path, item, source, kind);
    ``types_of(source)``: the kinds of unit a report is about; ``named``: per row, is it from a unit the
    question names? Such a report is never about another kind: the kind words of
    "上海2024年新增专精特新企业多少家？" say its topic, the name says its unit. ``corpus_government``: the
    corpus's share of government rows (``genre.government_share``). ``government_idf``: what weighs a
    word in government rows when ``idf`` is the other genre's (None: ``idf`` weighs every row). A
    mixed corpus holds far more government rows, so one IDF over both says "机制" is common where
    party-building reports seldom write it (held-out balanced MRR 0.9255 → 0.9292, AMD EPYC)."""
    figure = stating(q.quantity) if q.quantity else None
    idfs = (idf, idf if government_idf is None else government_idf)  # by is_government(kind)
    totals = [sum(c.weight(d) for c in q.concepts) or 1.0 for d in idfs]
    years = [f"{y}年" for y in sorted(q.years | q.report_years)]
    out = np.zeros((len(rows), len(TEXT_FEATURES)))
    lift = genre_lift(np.array([is_government(row.get("kind")) for row in rows], dtype=bool), corpus_government)
    for i, row in enumerate(rows):
        text, plain = row["text"], matching(row["text"])
        headings = matching(" ".join(row["heading_path"]))
        types = types_of(row["source"]) if q.unit_types else frozenset()
        genre = int(is_government(row.get("kind")))
        idf, total = idfs[genre], totals[genre]
        out[i] = (
            sentence_coverage(plain, q.concepts, idf, figure, normalized=True),
            float(bool(q.quantity) and states_quantity(plain, q.tokens, q.quantity, normalized=True)),
            said(headings, q.concepts, idf) / total,
            said(matching(row.get("title") or ""), q.concepts, idf) / total,
            float(bool(q.unit_types)),
            len(types & q.unit_types) / max(len(q.unit_types), 1),
            float(bool(types) and not types & q.unit_types and not (named is not None and named[i])),
            float(any(y in plain or y in headings for y in years + own_years(row, q))),
            said(plain, q.concepts, idf) / total,
            lift[i],
            math.log(1 + len(text)),
            len(row["heading_path"]),
            float(bool(row.get("item"))),
        )
    return out


def own_years(row: dict, q: Question) -> list[str]:
    """The years a relative year no report anchors names for this row's report ("明年" in a 2022 report:
    "2023年")."""
    return [f"{row['year'] + offset}年" for offset in sorted(q.relative)] if row.get("year") else []


@lru_cache(maxsize=4096)  # at most 800 characters each (chunk_max): a few MB
def matching(text: str) -> str:
    """``normalize``, remembered: a passage, its headings and title are read again for every question
    it is a candidate of (NFKC was a third of the text features' CPU)."""
    return normalize(text)


def said(text: str, concepts: list[Concept], idf: dict[str, float]) -> float:
    """The concept weight a (normalised) text says, each concept once."""
    return sum(c.credit(text, idf) for c in concepts)
