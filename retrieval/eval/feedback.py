"""Readers' 👍/👎 on answers, as the audit log keeps them, and the office's own question set made of them.

An audit entry ``feedback`` holds ``{question, bases, filters, passages: [{base, source, start, end,
rank, span}], verdict: "up"|"down"|"withdrawn", comment?}`` (``feedback_detail``). Each user's last
verdict on an answer (or on one passage) is the one that stands (``standing``): 👎 after 👍 replaces
it, and clicking the chosen 👍 again withdraws it (an entry ``"withdrawn"``; the log itself keeps every
click). ``export_questions`` turns the standing feedback into the scorer's format (``../shared/eval/score.py``: ``{"id", "question", "gold":
[{"doc", "span"}]}``): gold = the spans of the passages of the answers marked 👍; the 👎 answers' passages
are kept as ``negatives`` (the scorer ignores them). ``app.py eval FILE`` scores the set and
``app.py train-ranker --questions FILE`` learns from it.

The span is a sentence of the passage's own text (``span_of``), not its offsets: the scorer finds
gold by text, so a set stays scorable after the reports are re-indexed with other passage bounds.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from ..bases import DEFAULT

MAX_SPAN = 80  # characters of a gold span: about one sentence (the shared sets' spans: 6–40)
MAX_COMMENT = 300  # characters of a comment kept
MAX_FILTER = 50  # values of one filter kept (a turn comes back from the browser)
VERDICTS = ("up", "down")
WITHDRAWN = "withdrawn"  # the chosen 👍/👎 clicked again: the user takes the verdict back
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")


def span_of(text: str) -> str:
    """The gold span of a passage: its longest sentence (cut to ``MAX_SPAN`` characters), whitespace
    around it removed — a passage's heading line is short and rarely the longest."""
    sentences = [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]
    return max(sentences, key=len, default="")[:MAX_SPAN].strip()


def feedback_detail(turn: dict, verdict: str, bases: list[str], comment: str = "") -> dict:
    """The audit detail of a verdict on one conversation turn (an answer or a comparison): the
    question, its filters, the knowledge bases asked and the passages shown (each with its span)."""
    if verdict not in (*VERDICTS, WITHDRAWN):
        raise ValueError(f"unknown verdict {verdict!r}")
    shown = list(turn.get("passages") or []) + [r["passage"] for r in turn.get("rows") or [] if r.get("passage")]
    passages = [{"base": p.get("base") or DEFAULT, "source": p["source"], "start": int(p["start"]),
                 "end": int(p["end"]), "rank": int(p.get("rank") or i), "span": span_of(p.get("text", ""))}
                for i, p in enumerate(shown, 1)]
    detail = {"question": str(turn.get("question", "")), "bases": list(bases), "filters": _filters(turn.get("filters")),
              "passages": passages, "verdict": verdict}
    if turn.get("kind") == "compare":
        detail["kind"] = "compare"
    comment = (comment or "").strip()[:MAX_COMMENT]
    if comment:
        detail["comment"] = comment
    return detail


def _filters(given) -> dict:
    """The filters a turn names, bounded (the turn comes back from the browser): known keys only, at
    most ``MAX_FILTER`` values each, each value short."""
    given = given if isinstance(given, dict) else {}
    out = {k: [v if isinstance(v, int) else str(v)[:MAX_SPAN] for v in list(given[k])[:MAX_FILTER]]
           for k in ("reports", "years", "section_types") if isinstance(given.get(k), list)}
    if isinstance(given.get("top_k"), int):
        out["top_k"] = given["top_k"]
    return out


@dataclass(frozen=True)
class Exported:
    questions: list[dict]  # the scorer's format, each with at least one gold span
    left_out: int  # questions with 👎 only (no gold: the scorer cannot score them)


def _key(span: dict) -> tuple:
    return span["doc"], span["span"]


def standing(entries) -> list[tuple[object, dict]]:
    """The verdicts that stand among these audit entries (any order), oldest first, each with its
    detail: per user, the last ``feedback`` on one answer (question, level and passages shown) — a later
    verdict replaces an earlier one, and a withdrawal leaves none. Entries this version cannot read are
    left out, never guessed at."""
    latest: dict[str, tuple] = {}
    for e in sorted(entries, key=lambda e: e.id):
        if e.action != "feedback":
            continue
        try:
            d = json.loads(e.detail or "")
            shown = [[p["base"], p["source"], p["start"], p["end"]] for p in d["passages"]]
            key = json.dumps([e.user, d.get("level", "answer"), d.get("kind"), str(d["question"]).strip(), shown],
                             ensure_ascii=False)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if d.get("verdict") in (*VERDICTS, WITHDRAWN):
            latest.pop(key, None)  # put back last: the order is that of the verdicts that stand
            latest[key] = (e, d)
    return [(e, d) for e, d in latest.values() if d["verdict"] in VERDICTS]


def export_questions(entries, base: str | None = None, since: date | None = None) -> Exported:
    """The question set made of the audit log's standing feedback (``standing``), one question per
    question text; ``base``: only feedback on answers from that knowledge base; ``since``: only feedback
    given on or after that day."""
    by_question: dict[str, dict] = {}
    for e, d in standing(entries):
        if since and e.time.date() < since:
            continue
        try:
            question, verdict = str(d["question"]).strip(), d["verdict"]
            passages = [p for p in d["passages"] if p.get("span") and (base is None or p.get("base") == base)]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # an entry this version does not know how to read: left out, never guessed at
        if not question or not passages:
            continue
        q = by_question.setdefault(question, {"question": question, "bases": set(), "gold": {}, "negatives": {}})
        q["bases"].update(p["base"] for p in passages)
        into = q["gold"] if verdict == "up" else q["negatives"]
        for p in passages:
            span = {"doc": p["source"], "span": p["span"], "base": p["base"], "start": p["start"], "end": p["end"]}
            into.setdefault(_key(span), span)
    out, left_out = [], 0
    for q in by_question.values():
        gold = list(q["gold"].values())
        if not gold:
            left_out += 1
            continue
        negatives = [s for k, s in q["negatives"].items() if k not in q["gold"]]
        out.append({"id": f"f{len(out) + 1:03d}", "question": q["question"], "source": "feedback",
                    "bases": sorted(q["bases"]), "gold": gold, **({"negatives": negatives} if negatives else {})})
    return Exported(out, left_out)


def write_jsonl(questions: list[dict], out) -> None:
    """One JSON object a line, Chinese as written (``out``: an open text stream)."""
    for q in questions:
        out.write(json.dumps(q, ensure_ascii=False) + "\n")
