"""Scoring direct answers: are the quoted figure sentences and list items right, and how often is there one?

Per question set, from the gold format of ``../shared/eval/score.py`` (``gold`` and ``items`` spans,
each with its ``doc``):

- **figure questions** ask how many / how much / how long (``search.question.quantity_unit`` reads
  the wording); **list questions** have gold ``items`` or are of kind ``problem`` / ``cause`` (the
  items of a 存在问题 / 原因 section answer them).
- A **figure answer is right** when its passage comes from a gold span's report and the quoted
  sentence holds that span, or lies inside it, or shares with it a stretch of at least
  ``FIGURE_OVERLAP`` characters that holds one of the span's figures (a number with its unit).
- A **list answer is right** when every item lies, in a gold report, inside the gold section: the
  one paragraph holding all the gold and item spans of that report when they are two or more and one
  paragraph holds them all (a list a paragraph states: a review section's "我们也清醒看到，……；……"
  answers, not the rest of that section), else the deepest section (heading path) holding them all —
  or, when they share no heading, the stretch from the first chunk holding one to the last. A list
  question without gold ``items`` is judged the same way on its ``gold`` spans.
- **precision**: right answers / answers given (every question that got one); **coverage**: figure and
  list questions that got an answer / figure and list questions.

Matching is on the scorer's form (NFKC, whitespace removed).
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from pathlib import PurePosixPath

from ..search.question import ANY_UNIT, NUMBER, quantity_unit
from ..text import normalize_question
from .metrics import norm

FIGURE_OVERLAP = 6  # characters a sentence must share with a gold span around one of its figures
LIST_KINDS = ("problem", "cause")
FIGURE = re.compile(NUMBER + ANY_UNIT)


def asks_figure(q: dict) -> bool:
    return quantity_unit(normalize_question(q["question"])) is not None


def asks_list(q: dict) -> bool:
    return bool(q.get("items")) or q.get("kind") in LIST_KINDS


def _doc(source: str) -> str:
    return PurePosixPath(source).name


def figure_right(sentence: str, source: str, q: dict) -> bool:
    """Does a quoted sentence (from ``source``) state a gold span's figure (module docstring)?"""
    s = norm(sentence)
    for g in q["gold"]:
        if _doc(g["doc"]) != _doc(source):
            continue
        span = norm(g["span"])
        if span in s or s in span:
            return True
        m = SequenceMatcher(None, s, span, autojunk=False).find_longest_match(0, len(s), 0, len(span))
        shared = span[m.b:m.b + m.size]
        if m.size >= FIGURE_OVERLAP and any(f.group() in shared for f in FIGURE.finditer(span)):
            return True
    return False


def _locate(text: str, piece: str, near: int) -> int | None:
    """Offset in ``text`` of the occurrence of ``piece`` nearest to ``near``."""
    hits = [m.start() for m in re.finditer(re.escape(piece), text)]
    return min(hits, key=lambda h: abs(h - near)) if hits else None


def _paragraph(text: str, spans: list[str]) -> tuple[int, int] | None:
    """(start, end) of the one paragraph of ``text`` that holds two or more distinct ``spans`` and all
    of them, if there is one (a list stated in a paragraph: "我们也清醒看到，……；……；……")."""
    if len(set(spans)) < 2:
        return None
    start = 0
    for paragraph in text.split("\n"):
        flat = norm(paragraph)
        if all(s in flat for s in spans):
            return start, start + len(paragraph)
        start += len(paragraph) + 1
    return None


def gold_section(q: dict, doc: str, chunks: list[dict], text: str = "") -> tuple[int, int] | None:
    """(start, end) in the report's text of the section the gold and item spans of ``doc`` lie in:
    the one paragraph of ``text`` holding them all when there is one (``_paragraph``), else the
    deepest section holding them."""
    spans = [norm(g["span"]) for g in [*q["gold"], *q.get("items", [])] if _doc(g["doc"]) == doc]
    paragraph = _paragraph(text, spans) if text else None
    if paragraph is not None:
        return paragraph
    holding = [c for c in chunks if any(s in norm(c["text"]) for s in spans)]
    if not holding:
        return None
    paths = [tuple(c["heading_path"]) for c in holding]
    prefix: tuple = ()
    for level in zip(*paths):
        if len(set(level)) > 1:
            break
        prefix += (level[0],)
    inside = [c for c in chunks if tuple(c["heading_path"][:len(prefix)]) == prefix] if prefix else holding
    return min(c["start"] for c in inside), max(c["end"] for c in inside)


def list_right(quotes: list, passages: list[dict], q: dict, report) -> bool:
    """Does every quoted item lie (whole) inside the gold section of a gold report (module docstring)?
    ``report(source)``: (the report's text, its chunks as dicts with text, start, end, heading_path)."""
    gold_docs = {_doc(g["doc"]) for g in [*q["gold"], *q.get("items", [])]}
    for quote in quotes:
        p = passages[quote.rank - 1]
        doc = _doc(p["source"])
        if doc not in gold_docs:
            return False
        text, chunks = report(p["source"])
        section = gold_section(q, doc, chunks, text)
        piece = quote.text.rstrip("…")
        at = _locate(text, piece, p["start"])
        if section is None or at is None or not (section[0] <= at and at + len(piece) <= section[1]):
            return False
    return True


def answer_scores(questions: list[dict], results: list[dict], report, answer=None) -> dict:
    """Precision and coverage of the direct answers to one set's ranked ``results`` ({"id", "passages"}
    as ``app.py eval`` collects them). ``report(source)``: (text, chunks) of a report (``snapshot_reports``);
    ``answer``: the direct-answer function (``answer.direct_answer`` unless given)."""
    if answer is None:
        from ..answer import direct_answer as answer
    by_id = {r["id"]: r["passages"] for r in results}
    asked = {q["id"] for q in questions if asks_figure(q) or asks_list(q)}
    given = right = covered = 0
    for q in questions:
        passages = by_id.get(q["id"], [])
        a = answer(q["question"], passages)
        if a is None:
            continue
        given += 1
        covered += q["id"] in asked
        if a.kind == "figure":
            quote = a.quotes[0]
            right += figure_right(quote.text, passages[quote.rank - 1]["source"], q)
        else:
            right += list_right(a.quotes, passages, q, report)
    return {"answers": given, "right": right, "precision": round(right / given, 3) if given else None,
            "asked": len(asked), "coverage": round(covered / len(asked), 3) if asked else None}


def snapshot_reports(snap):
    """``report(source)`` for ``answer_scores``: a report's text and chunks from an index snapshot."""
    def report(source: str) -> tuple[str, list[dict]]:
        doc = snap.document(source)
        return (doc["text"] if doc else "", snap.source_chunks(source))
    return report
