"""How a report is named to users — one label everywhere: the chat, the filters, the library, the
comparison table, the context panel, the exports and the API's ``title``.

- Its title, when one was read from the report's first line — even when the file is named after it
  (every government report of ``../shared/bench`` is: "2025年北京市政府工作报告.docx").
- Otherwise a readable file name (one with Chinese in it: "王某述职.txt" → "王某述职").
- Otherwise (a file name that is an id such as "003_b29ff4d5ebd0983d") "无标题报告" with its year and
  opening words.
- A label several reports share ("政府工作报告" heads four 2026 provincial reports) gets the file's
  name beside it, so that no two reports of one corpus read alike.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .ingest.sections import read_title

UNTITLED_CHARS = 16  # of the opening text shown for a report with neither a title nor a readable file name
_READABLE = re.compile(r"[\u3400-\u9fff]{2}")  # two Chinese characters: a name a person gave the file


def has_title(source: str, title: str, text: str) -> bool:
    """Was ``title`` read from the report, rather than its file name standing in for a missing one?
    The parser falls back to the file's stem only, so any other title was read; a title equal to the
    stem was read when the report's first line is that title."""
    if not title:
        return False
    if title != Path(source).stem:
        return True
    first = (text or "").split("\n", 1)[0]
    return read_title(first) == title


def readable_name(source: str) -> str | None:
    """The file's name as a label ("广东省_2026.txt" → "广东省 2026"), when a person could read it."""
    stem = " ".join(Path(source).stem.replace("_", " ").split())
    return stem if _READABLE.search(stem) else None


def report_label(source: str, title: str, text: str, year: int | None = None) -> str:
    """A report's label (see the module docstring; ``report_labels`` also tells shared labels apart)."""
    if has_title(source, title, text):
        return title
    if name := readable_name(source):
        return name
    opening = " ".join((text or "").split())
    opening = opening if len(opening) <= UNTITLED_CHARS else opening[:UNTITLED_CHARS] + "…"
    return f"无标题报告（{str(year) + ' 年 · ' if year else ''}{opening or source}）"


def report_labels(docs: Iterable[dict]) -> dict[str, str]:
    """source → label for the reports of one corpus (each doc: source, title, text, year); a label
    several reports share gets each one's file name beside it."""
    labels = {d["source"]: report_label(d["source"], d["title"], d.get("text") or "", d.get("year")) for d in docs}
    shared = Counter(labels.values())
    return {source: f"{label}（{readable_name(source) or source}）" if shared[label] > 1 else label
            for source, label in labels.items()}
