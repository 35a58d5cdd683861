"""Direct answers, extractive only, and follow-up questions.

- How-many questions: the first sentence (of the top passages) that states a number with the unit
  asked, next to what was asked about — quoted verbatim with its [n].
- List questions ("有哪些问题", read by ``search.question.understand``): the items the top passages enumerate, each quoted verbatim (its
  first sentence) with its [n].
- Follow-ups ("那原因呢？"): a question with no topic of its own keeps the previous question's topic
  and report scope.

Nothing is ever written that is not in a passage: every line is a verbatim slice of one passage's
text; when no sentence qualifies, there is no direct answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..search.question import INTENT, says_quantity, stating, understand
from ..text import data_rows, normalize, normalize_question

TOP = 3  # passages a direct answer may quote from
MAX_ITEMS = 8
ITEM_CHARS = 80  # an item longer than this is cut at a clause end (shown with "…")
SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]?")
ITEM_START = re.compile(
    r"(?:^|(?<=[。；\n]))\s*(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]+、"
    r"|\d{1,2}[.、．](?!\d)|第[一二三四五六七八九十]+[，,、])"
)


@dataclass(frozen=True)
class Quote:
    """One verbatim slice of a passage, with the passage's rank."""

    text: str
    rank: int


def figure_sentence(question: str, passages: list[dict]) -> Quote | None:
    """For a how-many question, the sentence that states the figure (number + the unit asked, next to
    what was asked about: a term of 3+ characters or two terms of the question)."""
    asked = understand(normalize_question(question))
    if asked.quantity is None:
        return None
    number = stating(asked.quantity)
    for p in passages[:TOP]:
        for m in SENTENCE.finditer(p["text"]):
            sentence = m.group().strip()
            if says_quantity(normalize(sentence), asked.tokens, number):
                return Quote(sentence, p["rank"])
    return None


def _item_text(text: str) -> str:
    """An item's first sentence, cut at a clause end when long (the cut shown as "…")."""
    text = text.strip()
    first = SENTENCE.match(text)
    sentence = (first.group() if first else text).strip()
    if len(sentence) <= ITEM_CHARS:
        return sentence
    cut = max(sentence.rfind(c, 0, ITEM_CHARS) for c in "，,：:、")
    return sentence[: cut if cut > 10 else ITEM_CHARS] + "…"


def _items_of(p: dict) -> list[str]:
    """The items one passage enumerates (its own heading left out), each as its first sentence."""
    text = p["text"]
    starts = [m.start() for m in ITEM_START.finditer(text)]
    heading = (p.get("section") or "").split(" › ")[-1].strip()
    items = []
    for s, e in zip(starts, [*starts[1:], len(text)]):
        item = _item_text(text[s:e])
        if len(item) >= 4 and not (heading and heading.startswith(item.rstrip("…")[:12])):
            items.append(item)
    return items


def list_items(question: str, passages: list[dict]) -> list[Quote]:
    """For a list question, the enumerated items: those of the first top passage that enumerates two
    or more; else top passages that are each one item (a section of a list, an 一是 item). At least two,
    or none."""
    if not understand(normalize_question(question)).is_list:
        return []
    singles: list[Quote] = []
    for p in passages[:TOP]:
        items = _items_of(p)
        if len(items) >= 2:
            return [Quote(t, p["rank"]) for t in items[:MAX_ITEMS]]
        heading = (p.get("section") or "").split(" › ")[-1].strip()
        single = items[0] if items else _item_text(heading) if ITEM_START.match(heading) else None
        if single and single not in {q.text for q in singles}:
            singles.append(Quote(single, p["rank"]))
    return singles if len(singles) >= 2 else []


# ---- follow-ups --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _function_words() -> re.Pattern:
    words = [w for row in data_rows("question_words.txt") for w in row]
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def topic_of(question: str) -> str:
    """What a question is about: its text without role words, function words and punctuation."""
    text = question
    for _, pattern in INTENT:
        text = pattern.sub(" ", text)
    text = _function_words().sub(" ", text)
    text = re.sub(r"[\s\W_]+", " ", text).strip()
    return text.replace(" ", "")


@dataclass(frozen=True)
class FollowUp:
    """How a question was understood in the conversation."""

    query: str  # what is searched
    topic: str  # the topic carried over ("" when the question stands on its own)
    reports: tuple[str, ...] = ()  # the report scope carried over
    years: tuple[int, ...] = ()


def follow_up(question: str, previous: dict | None) -> FollowUp:
    """A question with no topic of its own ("那原因呢？") keeps the previous turn's topic and scope."""
    if previous is None or topic_of(question):
        return FollowUp(question, "")
    topic = previous.get("topic") or topic_of(previous.get("question", ""))
    if not topic:
        return FollowUp(question, "")
    scope = previous.get("scope") or {}
    return FollowUp(f"{topic} {question}", topic, tuple(scope.get("reports") or ()), tuple(scope.get("years") or ()))
