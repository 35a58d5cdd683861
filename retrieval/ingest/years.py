"""The kind of a report and the year each of its sections is about.

A report of year Y is not only about Y: a 政府工作报告 of Y reviews Y−1 and plans Y; a 述职报告 or
工作总结 of Y reviews Y and plans Y+1 (data/report_kinds.txt). A heading that names its years says
it outright ("一、2024年工作回顾", "二、“十五五”时期主要目标", "过去五年工作回顾"); otherwise the
section's role and the kind of report decide. Every section gets the span of years it is about.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..text import data_rows, tab_rows
from .document import Document, Section

HEADING_YEAR = re.compile(r"(?<![\d第])(19[5-9]\d|20[0-4]\d)(?![\d页])")
FIVE_YEAR_PLAN = re.compile(r"([一二三四五六七八九十]{1,3})五(?:规划|计划|时期|期间|”|\")")
# a number is tried where it starts (lookbehind) and never backtracked into (++): linear in a run of digits
PAST_YEARS = re.compile(r"(?:过去|近)([一二三四五六七八九十两\d]++)年|(?<![一二三四五六七八九十两\d])([一二三四五六七八九十两\d]++)年来")
PAST_YEAR = re.compile(r"过去一年|去年")
THIS_YEAR = re.compile(r"今年")
CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "○": 0, "两": 2}
PLANNING = ("plan",)  # roles about the plan year; every other role is about the reviewed year


def cn_number(text: str) -> int:
    """A small Chinese or Arabic number ("十四" → 14, "五" → 5, "3" → 3)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN_DIGIT.get(tens, 1) if tens else 1) * 10 + (CN_DIGIT.get(ones, 0) if ones else 0)
    return CN_DIGIT.get(text, 0)


def five_year_plan(n: int) -> tuple[int, int]:
    """Years of the n-th five-year plan: 1953–1957, 1958–1962, then from 1966 on without a gap."""
    start = 1953 + 5 * (n - 1) if n <= 2 else 1966 + 5 * (n - 3)
    return start, start + 4


@dataclass(frozen=True)
class ReportKind:
    name: str  # as data/report_kinds.txt names it (the first word of its row)
    review: int  # year its review part is about, relative to the report's own year
    plan: int  # year its plan part is about
    words: tuple[str, ...] = ()  # every wording of a title that names it (its row: "研判分析报告 分析研判报告")


@lru_cache(maxsize=1)
def report_kinds() -> list[ReportKind]:
    """Kinds of report, most specific first (data/report_kinds.txt), with the years their parts are
    about (data/report_years.txt)."""
    offsets = {name: (int(review), int(plan)) for name, review, plan in data_rows("report_years.txt")}
    return [ReportKind(row[0], *offsets[row[0]], tuple(row)) for row in data_rows("report_kinds.txt")]


def report_kind(title: str, source: str, opening: str = "") -> str | None:
    """The first kind of report (most specific first) that its title or file name names, else the one
    its opening lines say it is ("……述职如下", data/report_openings.txt)."""
    parts = [unicodedata.normalize("NFKC", part) for part in (title, source)]
    named = next((kind.name for kind in report_kinds() if any(w in p for w in kind.words for p in parts)), None)
    opening = unicodedata.normalize("NFKC", opening)
    return named or next((kind for kind, pattern in report_openings() if pattern.search(opening)), None)


@lru_cache(maxsize=1)
def report_openings() -> list[tuple[str, re.Pattern]]:
    """(kind, the wording of an opening that says it) of data/report_openings.txt."""
    return [(kind, re.compile(pattern)) for kind, pattern in tab_rows("report_openings.txt")]


def heading_years(heading: str, year: int | None, kind: ReportKind | None) -> tuple[int, int] | None:
    """The years a heading names: explicit years, a five-year plan, "过去五年", "过去一年", "今年"."""
    heading = unicodedata.normalize("NFKC", heading)
    years = [int(y) for y in HEADING_YEAR.findall(heading)]
    for m in FIVE_YEAR_PLAN.finditer(heading):
        years += five_year_plan(cn_number(m.group(1)))
    if years:
        return min(years), max(years)
    if year is None:
        return None
    review = year + (kind.review if kind else 0)
    m = PAST_YEARS.search(heading)
    if m:
        n = cn_number(m.group(1) or m.group(2))
        return (review - n + 1, review) if 1 <= n <= 10 else None
    if PAST_YEAR.search(heading):
        return review, review
    if THIS_YEAR.search(heading):
        planned = year + (kind.plan if kind else 0)
        return planned, planned
    return None


def kind_of(doc: Document) -> ReportKind | None:
    """The kind of report ``doc`` is (``doc.kind``), with the years its parts are about."""
    return next((k for k in report_kinds() if k.name == doc.kind), None)


def role_years(doc: Document, roles: list[str]) -> tuple[int, int] | None:
    """The years a part of ``doc`` playing ``roles`` is about by role and kind: a plan its plan year,
    any other role the year it reviews; a span for a part playing both ("虽然有成绩，但…还有一定
    不足。2024年，我将…" in a 2023 述职报告: 2023–2024). None for a report of unknown year."""
    if doc.year is None or not roles:
        return None
    kind = kind_of(doc)
    years = [doc.year + ((kind.plan if role in PLANNING else kind.review) if kind else 0) for role in roles]
    return min(years), max(years)


def assign_years(doc: Document) -> None:
    """Set `years` on every section: named by its heading or an ancestor's, else by role and kind;
    and on the opening before any heading (a report's 导语, or the whole of a copy without headings):
    the year it reviews."""
    kind = kind_of(doc)
    if doc.year is not None:
        review = doc.year + (kind.review if kind else 0)
        doc.preamble_years = (review, review)

    def visit(sections: list[Section], inherited: tuple[int, int] | None) -> None:
        for section in sections:
            named = heading_years(section.heading, doc.year, kind) or inherited
            if named:
                section.years = named
            elif doc.year is not None:
                section.years = role_years(doc, [section.section_type])
            visit(section.children, named)

    visit(doc.sections, None)
