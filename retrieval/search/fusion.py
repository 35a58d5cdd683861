"""Plain numpy functions over the candidates' per-row scores and ranks (the ranker fuses them)."""
from __future__ import annotations

import numpy as np


RANKED_FLOOR = 0.1  # the last ranked candidate keeps this much: ranked means found, never discarded


def rescale(scores: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Scores of the ranked candidates mapped to [RANKED_FLOOR, 1]: the best is 1, the last one ranked
    RANKED_FLOOR (so a narrow filter with few candidates keeps them all); unranked rows 0."""
    ranked = ranks >= 0
    if not ranked.any():
        return np.zeros(len(scores))
    top, floor = scores[ranked].max(), scores[ranked].min()
    spread = (scores - floor) / ((top - floor) or 1.0)
    return np.where(ranked, RANKED_FLOOR + (1.0 - RANKED_FLOOR) * spread, 0.0)


def falling_scores(passages: list[dict]) -> list[dict]:
    """Shown scores never rise with rank: a passage moved up (a list shown whole) shows at most the
    score of the one before it."""
    out, ceiling = [], float("inf")
    for p in passages:
        ceiling = min(ceiling, p["score"])
        out.append({**p, "score": ceiling})
    return out


def best_rows(scores: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The n best of `rows` by score, best first, ties in row order: the same as a stable sort of them
    all, but only the rows at or above the n-th score are sorted (a million rows: ~1 ms, not ~100)."""
    if len(rows) > n:
        kth = np.partition(scores[rows], len(rows) - n)[len(rows) - n]
        rows = rows[scores[rows] >= kth]
    return rows[np.argsort(-scores[rows], kind="stable")][:n]


def rank_of(scores: np.ndarray, valid: np.ndarray, depth: int) -> np.ndarray:
    """Rank (0 = best) of each row among valid rows with a positive score, -1 below `depth`."""
    ranks = np.full(len(scores), -1, dtype=np.int64)
    candidates = np.flatnonzero(valid & (scores > 0))
    order = best_rows(scores, candidates, depth)
    ranks[order] = np.arange(len(order))
    return ranks


