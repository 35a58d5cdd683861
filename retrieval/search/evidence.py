"""Soft evidence a question gives about each passage: role, unit and year agreement.

Each kind of evidence multiplies a passage's fused score by (1 + its weight) where it holds; none
ever removes a passage. Weights live in ``Settings`` and were chosen on the odd-numbered dev
questions (see docs in ``retrieval/eval``): a passage from the unit and the year the question names
must outrank a look-alike passage of another province or another year's report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..config import Settings
from ..store import Snapshot
from ..text import Concept, normalize
from .question import SENTENCE_END, Question

RESULT_ROLES = ["work", "highlight"]  # a year's result is stated where the report reviews that year


@dataclass
class Evidence:
    roles: list[str]  # roles asked, or implied (a target asks for the plan, a year's result for the review)
    role: np.ndarray  # bool per row: plays a role asked
    unit: np.ndarray  # bool per row: from a unit the question names
    year: np.ndarray  # per row, 0–1: about the years (in the reports) the question names
    factor: np.ndarray  # multiplier of the fused score

    @classmethod
    def of(cls, snap: Snapshot, q: Question, s: Settings) -> "Evidence":
        n = len(snap.ids)
        roles, boost = list(q.roles), s.role_only_boost if q.only_role else s.role_boost
        # No role word: a target for a year asks for the plan, a year's figure for the review. Not when
        # the question names a report: what a report "提出" may sit in either part of it.
        if not roles and s.implied_role_boost and not q.report_years:
            if q.target:
                roles, boost = ["plan"], s.implied_role_boost
            elif q.years:
                roles, boost = list(RESULT_ROLES), s.implied_role_boost
        role = np.zeros(n, dtype=bool)
        for r in roles:
            role |= snap.plays(r, s.paragraph_roles)
        unit = np.isin(snap.units, q.units) if q.units else np.zeros(n, dtype=bool)
        year = year_agreement(q, snap.years_from, snap.years_to, snap.years)
        recent = newest_of_units(q, snap.units, snap.years) if s.recency_boost else np.zeros(n, dtype=bool)
        factor = (np.where(role, 1.0 + boost, 1.0) * np.where(unit, 1.0 + s.unit_boost, 1.0)
                  * (1.0 + s.year_boost * year) * np.where(recent, 1.0 + s.recency_boost, 1.0))
        return cls(roles, role, unit, year, factor)


def newest_of_units(q: Question, units: np.ndarray, report_years: np.ndarray) -> np.ndarray:
    """Per row: from the newest report of a unit the question names, when it names no year. "青海在生育
    上许下了什么承诺？" asks about Qinghai now, so its latest report speaks first; a question giving a
    year is left to year agreement."""
    recent = np.zeros(len(units), dtype=bool)
    if q.years or q.report_years:
        return recent
    for u in q.units:
        own = units == u
        if own.any():
            recent |= own & (report_years == report_years[own].max())
    return recent


PART_OF_SPAN = 0.5  # credit for a year inside a longer span ("十四五" 2021–2025 asked about 2023)


def year_agreement(q: Question, years_from: np.ndarray, years_to: np.ndarray, report_years: np.ndarray) -> np.ndarray:
    """Per row, how well its section is about a year the question asks about (``years_from``–``years_to``):
    1 for that very year or a span ending in it (a review of "2025年和十四五" is about 2025 first),
    PART_OF_SPAN for a year inside a longer span; and it must be in a report of a year the question
    names (``report_years``). Either condition alone when the question gives only one."""
    n = len(years_from)
    if not (q.years or q.report_years):
        return np.zeros(n)
    credit = np.ones(n)
    if q.years:
        about = np.zeros(n)
        for y in q.years:
            inside = (years_from <= y) & (y <= years_to)
            about = np.maximum(about, np.where(inside & (years_to == y), 1.0, np.where(inside, PART_OF_SPAN, 0.0)))
        credit *= about
    if q.report_years:
        credit *= np.isin(report_years, list(q.report_years))
    return credit


def sentence_coverage(text: str, concepts: list[Concept], idf: dict[str, float],
                      stating: re.Pattern | None = None) -> float:
    """Share of the question's concept weight (IDF) that the passage's best single sentence says:
    a passage whose one sentence says what was asked beats one that spreads the words out. Each
    concept counts once, by whichever of its words the sentence uses. For a how-many question only a
    sentence ``stating`` a number with the unit asked can be that sentence: one that names the
    subject without the figure does not answer."""
    total = sum(c.weight(idf) for c in concepts)
    sentences = [x for x in SENTENCE_END.split(normalize(text)) if stating is None or stating.search(x)]
    if not total or not sentences:
        return 0.0
    return max(sum(c.credit(sentence, idf) for c in concepts) for sentence in sentences) / total
