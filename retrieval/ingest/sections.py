"""Parse cleaned report text into a Document: title, preamble and the heading ladder.

Heading markers are recognised by kind (一、 / （一） / 1. / （1） / 第一部分 / 第一，); levels come
from the order kinds appear in, like a Markdown outline, so skipped or repeated numbers and
unusual ladders (（一） above 一、 in some old reports) do not break the tree.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

from .clean import page_rows
from .document import Document, Section
from ..text import units_named
from .roles import assign_roles, cues
from .years import assign_years, report_kind

CN_NUM = "一二三四五六七八九十百零〇两"

# One character in, one character out: parsing sees half-width forms, offsets stay valid.
_HALF = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
_HALF.update({ord("〔"): "(", ord("〕"): ")", ord("　"): " ", ord("．"): "."})
# …but Chinese punctuation keeps its identity for sentence ends.
for _c in "，。；：！？、（）":
    _HALF.pop(ord(_c), None)
_HALF.update({ord("（"): "(", ord("）"): ")"})
HALF_WIDTH = str.maketrans(_HALF)

MARKERS: list[tuple[str, re.Pattern]] = [
    ("part", re.compile(rf"第[{CN_NUM}\d]+(?:部分|章|篇)[、，,.:：\s]*")),
    ("ordinal", re.compile(rf"第[{CN_NUM}]+[，,、](?=\S)")),
    ("cn", re.compile(rf"[{CN_NUM}]+[、.,，]\s*")),
    ("cn_paren", re.compile(rf"\(\s*[{CN_NUM}]+\s*\)\s*")),
    ("num_paren", re.compile(r"\(\s*\d{1,2}\s*\)\s*")),
    ("num", re.compile(r"\d{1,2}(?:[.、](?!\d)|\s(?=[\u4e00-\u9fff]))\s*")),
]
SENTENCE_END = re.compile(r"[。！？!?]|[；;](?=\S)")
TITLE_WORDS = re.compile(r"报告|总结|述职|汇报|计划|情况|讲话|要点|方案|发言|材料|工作")
YEAR = re.compile(r"(?<![\d第])(19[5-9]\d|20[0-4]\d)(?![\d页])")  # never a page number ("第1950页")
YEAR_IN_TEXT = re.compile(r"(?<![\d第])(19[5-9]\d|20[0-4]\d)(?=年)")  # in running text only "2023年" counts
# a year given with its month ("2024年1月18日"): the date of an event a report's opening recounts
DATED_YEAR = re.compile(r"(?<![\d第])(19[5-9]\d|20[0-4]\d)年(?:[01]?\d|[一二三四五六七八九十]{1,2})月")
OPENING = 300  # characters of the opening lines that name a report's year and unit
UNIT = re.compile(
    r"^(?:\d{4}年?度?)?(.{2,20}?(?:自治区|省|市|县|区|局|厅|委员会|委|部|办公室|办|中心|公司|院|校|所|党委|党组|党支部|支部))"
)
# What a title says before its unit: "关于", a year, a half or a quarter ("2022年上半年某工业园区…").
TITLE_LEAD = re.compile(r"^(?:关于|\d{4}年?度?|[上下]半年|第?[一二三四1-4]季度)+")
PLACEHOLDER = re.compile(r"[某Xx×*＊_]")  # an anonymised or garbled name is no unit ("某镇", "X区")
MAX_HEADING = 80
# A line standing alone that names a part of the report is a heading without a number, where the
# report numbers none of its top parts (web copies drop "一、": "2024年工作回顾", "名词解释").
BARE_MAX = 20
BARE_PUNCT = re.compile(r"[。，,；;：:！？!?、]")
NOTES = re.compile(r"^(?:名词解释|注释|附注|附件)$")


def match_heading(line: str) -> tuple[str, str, int] | None:
    """(kind, number, marker length) when a line starts with a heading marker."""
    for kind, pattern in MARKERS:
        m = pattern.match(line)
        if m and m.end() < len(line):
            number = re.sub(r"[^\d" + CN_NUM + "]", "", m.group(0))
            return kind, number, m.end()
    return None


def heading_length(line: str, marker_end: int) -> int:
    """Where the heading of a heading line ends: the whole line, or its first sentence."""
    m = SENTENCE_END.search(line, marker_end)
    if m and m.end() < len(line):
        return m.end()
    return len(line)


def bare_heading(line: str) -> bool:
    """A short line with no punctuation that names a report part (a role, or the notes)."""
    line = line.strip()
    return (0 < len(line) <= BARE_MAX and not BARE_PUNCT.search(line)
            and bool(cues(line) or NOTES.match(line)))


def read_title(first_line: str) -> str | None:
    """The title a line states, without the noise a web copy adds to it (data/page_chrome.txt
    ``title``: "VIP …", "【栏目】…", "…_栏目"); None when the line does not read as a title."""
    line = first_line.strip().translate(HALF_WIDTH)
    if not line or len(line) > 60 or match_heading(line):
        return None
    if line[-1] in "。，,；;：:" or line.count("，") > 1:
        return None
    if not (TITLE_WORDS.search(line) or len(line) <= 30):
        return None
    title = first_line.strip()
    for pattern in page_rows("title"):
        title = pattern.sub(r"\1" if pattern.groups else "", title).strip()
    return title or first_line.strip()


LABEL_MAX = 8  # characters of a site's category label standing above a title ("工作计划", "意见建议")


def opening_title(lines: list[str]) -> tuple[str | None, int]:
    """(the title, the index of the first body line). The first line is the title when it reads as
    one; a web copy's category label above a title line ("意见建议" over "2022年上半年…情况报告"),
    and a page's heading naming another year over the article's title, are passed over — neither the
    title nor a heading."""
    first = lines[0].strip() if lines else ""
    if len(lines) > 1 and 0 < len(first) <= LABEL_MAX and not BARE_PUNCT.search(first) and not re.search(r"\d", first):
        second = read_title(lines[1])
        if second and TITLE_WORDS.search(second) and len(second) > len(first):
            return second, 2
    title = read_title(lines[0]) if lines else None
    if title and len(lines) > 1:
        # a page's heading over the article's own title, the same title for another year ("2020年县社区
        # 党建工作情况汇报" over "2019年…"): the line right above the body is the report's own
        second = read_title(lines[1])
        if second and second != title and YEAR.search(second) and YEAR.sub("", second) == YEAR.sub("", title):
            return second, 2
    return title, 1 if title else 0


def parse_text(text: str, source: str, page_starts: list[int] | None = None, written: int | None = None) -> Document:
    """Build the section tree of an already cleaned text (``written``: the year its page says it was written)."""
    lines = text.split("\n")
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1

    title, first_body_line = opening_title(lines)
    doc = Document(source=source, title=title or Path(source).stem, text=text, page_starts=page_starts)

    found_kinds = {h[0] for h in map(match_heading, (x.translate(HALF_WIDTH) for x in lines[first_body_line:])) if h}
    bare_tops = not found_kinds & {"part", "ordinal", "cn"}
    stack: list[tuple[str, Section]] = []
    for i in range(first_body_line, len(lines)):
        line, start = lines[i], offsets[i]
        found = match_heading(line.translate(HALF_WIDTH))
        if not found and bare_tops and bare_heading(line.translate(HALF_WIDTH)):
            found = ("bare", "", 0)
        if not found:
            if stack:
                stack[-1][1].paragraphs.append((start, start + len(line)))
            continue
        kind, number, marker_end = found
        kinds = [k for k, _ in stack]
        if kind in kinds:
            del stack[kinds.index(kind):]
        head_len = heading_length(line.translate(HALF_WIDTH), marker_end)
        section = Section(
            level=len(stack) + 1,
            number=number,
            heading=line[:head_len].strip(),
            start=start,
            body_start=start + head_len,
        )
        if head_len < len(line):
            section.paragraphs.append((start + head_len, start + len(line)))
        (stack[-1][1].children if stack else doc.sections).append(section)
        stack.append((kind, section))

    first_heading = doc.sections[0].start if doc.sections else len(text)
    doc.preamble = (offsets[first_body_line] if first_body_line < len(lines) else len(text), first_heading)
    _close(doc.sections, len(text))
    assign_roles(doc)
    doc.year = _year(doc.title, text, source, written, first_heading)
    doc.unit = _unit(doc.title if title else "", text[:OPENING], source)
    doc.kind = report_kind(doc.title, source, text[:OPENING])
    assign_years(doc)
    return doc


def _unit(title: str, opening: str, source: str) -> str | None:
    """The unit a report is from: a unit of data/units.txt named by the title, the opening lines or
    the file name (in that order), else the organ a title starts with ("市委组织部机关党委…")."""
    for part in (title, opening, source):
        named = units_named(part)
        if named:
            return named[0]
    m = UNIT.match(TITLE_LEAD.sub("", unicodedata.normalize("NFKC", title)))
    return m.group(1) if m and not PLACEHOLDER.search(m.group(1)) else None


def _close(sections: list[Section], end: int) -> None:
    """Set each section's end to the start of its next sibling (or the parent's end)."""
    for i, section in enumerate(sections):
        section.end = sections[i + 1].start - 1 if i + 1 < len(sections) else end
        _close(section.children, section.end)


def _year(title: str, text: str, source: str, written: int | None = None,
          first_heading: int | None = None) -> int | None:
    """The report's year: from the title, the year it was written (its page's table says), the opening
    lines (their first year, or the latest the paragraphs before ``first_heading`` date to a month: an
    event the report recounts), the file name, else the most cited."""
    title, text = unicodedata.normalize("NFKC", title), unicodedata.normalize("NFKC", text)
    if written and not YEAR.search(title):
        return written
    for part, pattern in ((title, YEAR), (text[:OPENING], YEAR_IN_TEXT), (source, YEAR)):
        m = pattern.search(part)
        if m and pattern is YEAR_IN_TEXT:
            # written after every event its opening dates: "2023年10月…巡察, 2024年1月18日…反馈了巡察意见" opens a
            # 2024 report on the rectification; a section's dates ("一、…2024年3月前完成") are not the opening's
            dated = DATED_YEAR.findall(text[:min(OPENING, len(text) if first_heading is None else first_heading)])
            return max([int(m.group(1)), *map(int, dated)])
        if m:
            return int(m.group(1))
    years = Counter(YEAR_IN_TEXT.findall(text))
    return int(years.most_common(1)[0][0]) if years else None
