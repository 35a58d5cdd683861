"""The domain objects that flow through the pipeline: Document → Section → Chunk."""
from __future__ import annotations

from dataclasses import dataclass, field



@dataclass
class RawText:
    """What a reader returns: the file's text, and for paged formats where each page starts."""

    text: str
    page_starts: list[int] | None = None  # offsets into `text`; page n (1-based) starts at [n-1]


@dataclass
class Removed:
    """One piece of noise the cleaner took out, for the debug view."""

    rule: str
    text: str


@dataclass
class Section:
    """A heading and everything under it, with offsets into the cleaned text."""

    level: int  # 1 = 一、 / 第一部分, 2 = （一）, 3 = 1. / 1、, 4 = （1）
    number: str  # as written: "一", "三", "1"
    heading: str  # heading text as the user reads it, number included
    section_type: str = "other"
    start: int = 0  # heading start
    body_start: int = 0  # first character after the heading
    end: int = 0  # end of the section (children included)
    children: list["Section"] = field(default_factory=list)
    paragraphs: list[tuple[int, int]] = field(default_factory=list)  # own body spans, children excluded
    years: tuple[int, int] | None = None  # the years the section is about (ingest/years.py)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Document:
    """A cleaned, parsed report."""

    source: str  # file name inside the corpus
    title: str
    text: str  # cleaned text; every offset refers to it
    sections: list[Section] = field(default_factory=list)
    preamble: tuple[int, int] = (0, 0)
    preamble_years: tuple[int, int] | None = None  # the years its opening (before any heading) is about
    year: int | None = None
    unit: str | None = None  # official name of the unit it is from (data/units.txt), else the organ in its title
    kind: str | None = None  # 政府工作报告, 述职报告, 工作总结, … (data/report_kinds.txt)
    removed: list[Removed] = field(default_factory=list)
    page_starts: list[int] | None = None

    def walk(self):
        for section in self.sections:
            yield from section.walk()

    def page_at(self, offset: int) -> int | None:
        """1-based page number of a character offset, for paged sources."""
        if not self.page_starts:
            return None
        page = 1
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i + 1
        return page


@dataclass
class Chunk:
    """One retrievable passage: a leaf section, or a part of one split at item/sentence ends."""

    id: str
    source: str
    title: str
    heading_path: list[str]
    section_type: str
    text: str  # the passage as a user reads it
    start: int  # span in the cleaned document text
    end: int
    item: str | None = None  # "一是" … when the chunk is one enumerated item
    year: int | None = None
    page: int | None = None
    section_start: int = 0  # span of the section text this chunk was cut from, or of its turn (list completion)
    section_end: int = 0
    order: int = 0  # position inside the document
    unit: str | None = None  # the report's unit and kind (Document)
    kind: str | None = None
    year_from: int | None = None  # the years its section is about (Section.years)
    year_to: int | None = None
    roles: list[str] = field(default_factory=list)  # roles its own paragraphs state (roles.paragraph_roles)

    @property
    def section(self) -> str:
        return " › ".join(self.heading_path)

    @property
    def match_text(self) -> str:
        """Text used for matching: title › heading path › passage."""
        return " › ".join([self.title, *self.heading_path, self.text])
