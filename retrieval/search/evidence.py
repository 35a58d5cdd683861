"""What a question says about each candidate: the role, unit and year it asks for, row by row.

Evidence is soft: each mask is a feature the ranker weighs (``features.py``); none ever removes a
passage. A passage from the unit and the year the question names can then outrank a look-alike
passage of another province or another year's report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..store.snapshot import RowView
from ..text import Concept, normalize
from .question import SENTENCE_END, Question

RESULT_ROLES = ["work", "highlight"]  # a year's result is stated where the report reviews that year


@dataclass
class Evidence:
    roles: list[str]  # roles asked, or implied (a target asks for the plan, a year's result for the review)
    implied: bool  # the roles are implied, not named
    role_heading: np.ndarray  # bool per row: plays a role of ``roles`` by its headings
    role_paragraph: np.ndarray  # bool per row: …by its own paragraphs
    unit: np.ndarray  # bool per row: from a unit the question names
    year: np.ndarray  # per row, 0–1: about the years (in the reports) the question names
    recent: np.ndarray  # bool per row: the newest report of a unit named without a year

    @property
    def role(self) -> np.ndarray:
        return self.role_heading | self.role_paragraph

    @classmethod
    def of(cls, view: RowView, q: Question) -> "Evidence":
        n = len(view.ids)
        roles, implied = list(q.roles), False
        # No role word: a target for a year asks for the plan, a year's figure for the review. Not when
        # the question names a report: what a report "提出" may sit in either part of it.
        if not roles and not q.report_years:
            if q.target:
                roles, implied = ["plan"], True
            elif q.years or q.relative:
                roles, implied = list(RESULT_ROLES), True
        heading, paragraph = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for r in roles:
            heading |= view.plays(r, paragraphs=False)
            paragraph |= view.plays(r)
        unit = np.isin(view.units, q.units) if q.units else np.zeros(n, dtype=bool)
        year = year_agreement(q, view.years_from, view.years_to, view.years)
        recent = newest_of_units(q, view.units, view.years, view.newest_years(q.units))
        return cls(roles, implied, heading, paragraph & ~heading, unit, year, recent)


def newest_of_units(q: Question, units: np.ndarray, report_years: np.ndarray,
                    newest: dict[str, int] | None = None) -> np.ndarray:
    """Per row: from the newest report of a unit the question names, when it names no year. "青海在生育
    上许下了什么承诺？" asks about Qinghai now, so its latest report speaks first; a question giving a
    year is left to year agreement. ``newest``: each unit's newest report year over the whole index
    (given when the rows are only some of it), else taken from these rows."""
    recent = np.zeros(len(units), dtype=bool)
    if q.years or q.report_years or q.relative:
        return recent
    for u in q.units:
        own = units == u
        if newest is not None and u in newest:
            recent |= own & (report_years == newest[u])
        elif newest is None and own.any():
            recent |= own & (report_years == report_years[own].max())
    return recent


PART_OF_SPAN = 0.5  # credit for a year inside a longer span ("十四五" 2021–2025 asked about 2023)


def year_agreement(q: Question, years_from: np.ndarray, years_to: np.ndarray, report_years: np.ndarray) -> np.ndarray:
    """Per row, how well its section is about a year the question asks about (``years_from``–``years_to``):
    1 for that very year or a span ending in it (a review of "2025年和十四五" is about 2025 first),
    PART_OF_SPAN for a year inside a longer span; and it must be in a report of a year the question
    names (``report_years``). Either condition alone when the question gives only one. A relative year
    no report anchors (``Question.relative``) counts from each row's report year."""
    n = len(years_from)
    if not (q.years or q.report_years or q.relative):
        return np.zeros(n)
    credit = np.ones(n)
    if q.years or q.relative:
        about = np.zeros(n)
        for y in [*sorted(q.years), *(report_years + offset for offset in sorted(q.relative))]:
            inside = (years_from <= y) & (y <= years_to)
            about = np.maximum(about, np.where(inside & (years_to == y), 1.0, np.where(inside, PART_OF_SPAN, 0.0)))
        credit *= about
    if q.report_years:
        credit *= np.isin(report_years, list(q.report_years))
    return credit


def sentence_coverage(text: str, concepts: list[Concept], idf: dict[str, float],
                      stating: re.Pattern | None = None, normalized: bool = False) -> float:
    """Share of the question's concept weight (IDF) that the passage's best single sentence says:
    a passage whose one sentence says what was asked beats one that spreads the words out. Each
    concept counts once, by whichever of its words the sentence uses. For a how-many question only a
    sentence ``stating`` a number with the unit asked can be that sentence: one that names the
    subject without the figure does not answer. ``normalized``: ``text`` is in matching form already."""
    total = sum(c.weight(idf) for c in concepts)
    sentences = [x for x in SENTENCE_END.split(text if normalized else normalize(text))
                 if stating is None or stating.search(x)]
    if not total or not sentences:
        return 0.0
    return max(sum(c.credit(sentence, idf) for c in concepts) for sentence in sentences) / total
