"""Paragraphs that a page's line ends broke, joined again.

A PDF's text layer, OCR, and a .txt copied from either end a line wherever the printed line ended:
"…各基层党组织开\\n展…" cuts a word in two for the keyword index and a sentence in two for every
sentence-level reading (a figure and what it counts, a direct answer). Such a text is recognised by its
shape: most of its lines fill the page's width and stop mid-sentence. A line that fills the width and
stops mid-sentence is joined to the next, unless the next opens a heading (一、 / （一） / 1. …).
In such a text a title is set wider and centred, so its width says nothing: its first two lines are one
title when the kind of report it names runs across the break ("…民主生活会对照检" / "查材料(含案例)").
Nothing is removed: the characters and their order stay as written; only those line breaks go.
"""
from __future__ import annotations

import unicodedata

from .clean import PAGE_MARK
from .sections import HALF_WIDTH, match_heading, read_title
from .years import report_kinds

# The text's width: the 90th percentile of its line widths (a few wider lines — a table row, a URL
# — do not set it; the body lines all reach it).
WIDTH_QUANTILE = 0.9
# A line within 85 % of that width reaches the margin. Measured on the wrapped texts: body lines
# fill 0.91–1.0 of it; a paragraph's first line, indented two characters, 0.91–0.93; headings and
# the lines ending a paragraph 0.1–0.8 (party_web/16: 51–56 of 56, its headings 18–40).
FULL = 0.85
# A text is wrapped when this share of its lines fill the width and stop mid-sentence: 0.70–0.84 in
# the wrapped ones (party_web/16 and 28, copied from PDFs; seed 001 typeset as an A4 PDF), at most
# 0.25 in every other file of the three eval corpora (paragraphs one line each, ending "。").
WRAPPED = 0.5
MIN_LINES = 8  # fewer lines say nothing of a shape
SENTENCE_END = frozenset("。！？；：!?;:…")
CLOSING = frozenset("”’」』）)】》\"'")


def width(line: str) -> int:
    """Columns a line takes: two for a wide (CJK, full-width) character, one for any other."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def stops_mid_sentence(line: str) -> bool:
    """Does a line end without ending its sentence ("，", a character; not "。" nor "。”")?"""
    end = line.rstrip("".join(CLOSING)) if line[-1] in CLOSING else line
    return bool(end) and end[-1] not in SENTENCE_END


def unwrap(text: str) -> str:
    """The text with each line that fills its width and stops mid-sentence joined to the next line
    (see the module docstring), each line stripped of its blanks; a text of another shape comes back
    unchanged. A page mark between the two stays where it was, inside the joined line (pages still start
    at the right character)."""
    lines = [line.strip() for line in text.split("\n")]
    top = next((i for i, line in enumerate(lines) if line and line != PAGE_MARK), 0)  # the title, if any
    lines = title_lines(lines, top)
    body = [i for i, line in enumerate(lines) if line and line != PAGE_MARK]
    open_ended = [i for i in body if stops_mid_sentence(lines[i]) and not (i == top and read_title(lines[i]))]
    if len(body) < MIN_LINES or len(open_ended) < WRAPPED * len(body):
        return text  # a paragraph a line (most end "。"): no width is measured
    widths = sorted(width(lines[i]) for i in body)
    margin = widths[int(WIDTH_QUANTILE * (len(widths) - 1))]
    broken = {i for i in open_ended if width(lines[i]) >= FULL * margin}
    if len(broken) < WRAPPED * len(body):
        return text
    out: list[str] = []
    joining = False  # is the line before broken
    for i, line in enumerate(lines):
        if i:
            opens = not line or (line != PAGE_MARK and match_heading(line.translate(HALF_WIDTH)) is not None)
            if not joining or opens:
                out.append("\n")
            joining = joining and not opens
        out.append(line)
        if line != PAGE_MARK:  # the mark sits where the page starts; the line before says whether to join
            joining = i in broken
    return "".join(out)


def title_lines(lines: list[str], top: int) -> list[str]:
    """The lines with the title line (``top``) and the next joined when a kind of report
    (data/report_kinds.txt) runs across the break between them — a title the page's width broke."""
    if top + 1 >= len(lines):
        return lines
    first, second = lines[top], lines[top + 1]
    joined = first + second
    for word in (w for kind in report_kinds() for w in kind.words):
        at = joined.find(word)
        if 0 <= at < len(first) < at + len(word):
            return [*lines[:top], joined, *lines[top + 2:]]
    return lines
