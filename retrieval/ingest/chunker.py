"""Cut a parsed Document into Chunks: one per section body, long ones split at items, then sentences;
a paragraph that turns to another role (a closing "…还有一定不足。2024年，我将…") starts a chunk of its own.

The chunks partition the cleaned text: every character (newlines between chunks aside) is in
exactly one chunk. A heading with no body of its own joins the block after it.
"""
from __future__ import annotations

import math
import re

from .document import Chunk, Document, Section
from .roles import paragraph_roles
from .years import role_years

SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+[”’」』）)]*|\n|$)")
ITEM = re.compile(
    r"\s*(?:[一二三四五六七八九十]+是|首先|其次|再次|最后|第[一二三四五六七八九十]+[，,、]|[（(]\d{1,2}[)）]|\d{1,2}[.、．](?!\d))"
)
CLAUSE = re.compile(r"[，,、：:]")
SHOWN_HEADING = 40


def shorten(heading: str) -> str:
    """A heading as shown in a citation path: its first sentence, at most 40 characters."""
    return heading if len(heading) <= SHOWN_HEADING else heading[: SHOWN_HEADING - 1] + "…"


def blocks(doc: Document) -> list[tuple[int, int, list[Section]]]:
    """(start, end, section path) for the preamble and each section's own text, in order."""
    starts: list[tuple[int, list[Section]]] = [(0, [])]

    def visit(sections: list[Section], path: list[Section]) -> None:
        for s in sections:
            starts.append((s.start, path + [s]))
            visit(s.children, path + [s])

    visit(doc.sections, [])
    out = []
    for i, (start, path) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(doc.text)
        out.append([start, end, path])
    # A heading-only block (or an empty preamble / lone title) joins the block after it.
    merged: list = []
    carry = None
    for start, end, path in out:
        if carry is not None:
            start = carry
            carry = None
        body_start = path[-1].body_start if path else doc.preamble[0]
        if not doc.text[body_start:end].strip() and end < len(doc.text):
            carry = start
            continue
        merged.append((start, end, path))
    return [(s, e, p) for s, e, p in merged if doc.text[s:e].strip()]


def sentences(text: str, offset: int) -> list[tuple[int, int]]:
    spans = []
    for m in SENTENCE.finditer(text):
        if m.end() > m.start():
            spans.append((offset + m.start(), offset + m.end()))
    return spans


def _split_long(start: int, end: int, text: str, limit: int) -> list[tuple[int, int]]:
    """A single sentence over the limit: cut at clause marks, else hard."""
    pieces, cur = [], start
    while end - cur > limit:
        window = text[cur:cur + limit]
        cuts = [m.end() for m in CLAUSE.finditer(window)]
        cut = cur + (cuts[-1] if cuts and cuts[-1] > limit // 2 else limit)
        pieces.append((cur, cut))
        cur = cut
    pieces.append((cur, end))
    return pieces


def pack(spans: list[tuple[int, int]], goal: int, limit: int) -> list[tuple[int, int]]:
    """Greedily join consecutive spans into pieces near `goal` characters, never over `limit`."""
    out: list[list[int]] = []
    for s, e in spans:
        if out and (e - out[-1][0]) <= min(goal, limit):
            out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def split_block(text: str, start: int, end: int, target: int, limit: int) -> list[tuple[int, int]]:
    """Spans of one block: whole if short, else items packed together, sentences inside long items."""
    length = end - start
    if length <= target:
        return [(start, end)]
    goal = math.ceil(length / math.ceil(length / target) * 1.15)
    groups: list[list[tuple[int, int]]] = []
    for s, e in sentences(text[start:end], start):
        if not groups or ITEM.match(text, s):
            groups.append([])
        if e - s > limit:
            groups[-1].extend(_split_long(s, e, text, limit))
        else:
            groups[-1].append((s, e))
    units: list[tuple[int, int]] = []
    for group in groups:
        if group[-1][1] - group[0][0] <= limit:
            units.append((group[0][0], group[-1][1]))
        else:
            units.extend(pack(group, goal, limit))
    return pack(units, goal, limit)


def turns(text: str, start: int, end: int, body: int, section_type: str) -> list[tuple[int, int]]:
    """A block cut before each later unnumbered paragraph that turns to a role its section does not
    play, by its own wording (``paragraph_roles``): a review section's "我们也清醒看到…" or a report's
    closing "过去一年，虽然有成绩，但…还有一定不足。2024年，我将…" is a passage of its own, not the
    tail of the last item above it. An item (一是…, 2.…) stays in its list: "及时解决…存在的困难和问题"
    in a work item is work done. ``body``: where the section's own text starts (no cut leaves a piece
    of headings only)."""
    cuts = [start]
    at = text.find("\n", start, end)
    while at != -1 and at + 1 < end:
        line_end = text.find("\n", at + 1, end)
        line = text[at + 1:line_end if line_end != -1 else end]
        roles = paragraph_roles(line) if line.strip() else []
        if roles and section_type not in roles and not ITEM.match(line) and text[max(cuts[-1], body):at].strip():
            cuts.append(at + 1)
        at = line_end
    return list(zip(cuts, cuts[1:] + [end]))


def stated_roles(text: str) -> list[str]:
    """The roles a chunk's unnumbered paragraphs state (``paragraph_roles``); an item (一是…, 2.…) is
    work of its own section, as in ``turns``: "及时解决…存在的困难和问题" is no problem."""
    found: list[str] = []
    for paragraph in text.split("\n"):
        if not ITEM.match(paragraph):
            found += [r for r in paragraph_roles(paragraph) if r not in found]
    return found


def chunk_document(doc: Document, target: int = 500, limit: int = 800) -> list[Chunk]:
    chunks: list[Chunk] = []
    for block_start, block_end, path in blocks(doc):
        section_type = path[-1].section_type if path else "overview"
        body = path[-1].body_start if path else block_start
        # A turn is a span of its own: list completion (search/lists.py) never shows it inside the section
        # above it, nor that section's items inside it.
        spans = [(span, part) for part in turns(doc.text, block_start, block_end, body, section_type)
                 for span in split_block(doc.text, *part, target, limit)]
        for (start, end), (part_start, part_end) in spans:
            raw = doc.text[start:end]
            lead = len(raw) - len(raw.lstrip())
            start, end = start + lead, start + len(raw.rstrip())
            if end <= start:
                continue
            item = ITEM.match(doc.text, start)
            years = path[-1].years if path else doc.preamble_years
            if part_start != block_start:  # a turn is about the years of the roles it turns to
                years = role_years(doc, stated_roles(doc.text[part_start:part_end])) or years
            chunks.append(
                Chunk(
                    id=f"{doc.source}#{len(chunks)}",
                    source=doc.source,
                    title=doc.title,
                    heading_path=[shorten(s.heading) for s in path],
                    section_type=section_type,
                    text=doc.text[start:end],
                    start=start,
                    end=end,
                    item=item.group(0).strip() if item and path else None,
                    year=doc.year,
                    page=doc.page_at(start),
                    section_start=part_start,
                    section_end=part_end,
                    order=len(chunks),
                    unit=doc.unit,
                    kind=doc.kind,
                    year_from=years[0] if years else None,
                    year_to=years[1] if years else None,
                    roles=stated_roles(doc.text[start:end]),
                )
            )
    return chunks
