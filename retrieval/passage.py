"""What a question returns: ranked, cited passages — the one contract of the CLI, the API and exports."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Why:
    """How a passage ranked: its place in each ranking and which soft evidence applied."""

    dense_rank: int | None  # 1-based; None when outside the dense candidates
    dense_score: float
    keyword_rank: int | None
    keyword_score: float
    role: bool  # its section role fits the role the question asks about
    quantity: bool  # a how-many question, and one sentence states a number with the unit asked
    roles_asked: list[str] = field(default_factory=list)
    unit: bool = False  # from a unit the question names
    year: bool = False  # about the year (in a report of the year) the question names
    other_unit_type: bool = False  # the question names a kind of unit (乡, 镇, 学校 …); its report is about others
    unit_type: bool = False  # …its report is about every kind the question names

    def to_json(self) -> dict:
        return {"dense": {"rank": self.dense_rank, "score": self.dense_score},
                "keyword": {"rank": self.keyword_rank, "score": self.keyword_score},
                "role": self.role, "quantity": self.quantity, "roles_asked": list(self.roles_asked),
                "unit": self.unit, "year": self.year, "other_unit_type": self.other_unit_type,
                "unit_type": self.unit_type}


@dataclass(frozen=True)
class Passage:
    """One ranked passage with its citation: report › heading path, page, character span.

    ``text`` is the source text exactly as the cleaned report has it (never altered);
    ``start``/``end`` locate it in that text.
    """

    rank: int
    score: float
    source: str  # file name inside the corpus
    title: str
    heading_path: tuple[str, ...]
    section_type: str
    text: str
    start: int
    end: int
    year: int | None = None  # the report's year
    page: int | None = None
    item: str | None = None  # "一是" … when the passage is one enumerated item
    why: Why | None = None
    base: str = ""  # the knowledge base it came from (retrieval/bases.py); "" inside one base's facade
    data_years: tuple[int, int] | None = None  # the years it is about (its section's span, ingest/years.py)
    parts: tuple[str, ...] = ()  # the headings of the sections it joins, as they ranked (search/lists.merge_siblings)

    @property
    def section(self) -> str:
        return " › ".join(self.heading_path)

    def to_json(self) -> dict:
        """The public form (``app.py query --json``, ``/search``, exports): fixed keys, in this order."""
        out = {"rank": self.rank, "score": self.score, "source": self.source, "title": self.title,
               "section": self.section, "section_type": self.section_type, "text": self.text,
               "year": self.year, "data_years": list(self.data_years) if self.data_years else None, "page": self.page, "item": self.item, "start": self.start, "end": self.end,
               "parts": list(self.parts), "base": self.base, "why": self.why.to_json() if self.why else None}
        return out


PASSAGE_KEYS = tuple(Passage(0, 0.0, "", "", (), "", "", 0, 0).to_json())

