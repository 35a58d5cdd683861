"""Follow-up questions: "那原因呢？" keeps the previous turn's topic and report scope, and asks for the
role the new question names."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..search.question import intent
from ..text import data_rows, normalize_question
from .topic import compare_topic, topic_of


@dataclass(frozen=True)
class FollowUp:
    """How a question was understood in the conversation."""

    query: str  # what is searched
    topic: str  # the topic carried over ("" when the question stands on its own)
    reports: tuple[str, ...] = ()  # the report scope carried over
    years: tuple[int, ...] = ()
    role: str = ""  # the role a follow-up asks for ("那原因呢？" → cause): its passages come first
    data_years: tuple[int, ...] = ()


@lru_cache(maxsize=1)
def _role_questions() -> dict[str, str]:
    """Role → the question that asks for it about a topic (data/follow_ups.txt)."""
    return {role: template for role, template in data_rows("follow_ups.txt")}


def follow_up(question: str, previous: dict | None) -> FollowUp:
    """A question with no topic of its own ("那原因呢？") keeps the previous turn's topic and scope — a
    comparison's too (``compare_topic``); when it asks for a role, it is asked again as that role's
    question about the topic ("意识形态工作存在问题的原因是什么？", data/follow_ups.txt), so the ranker
    reads the new role, not the old one."""
    if previous is None or topic_of(question):
        return FollowUp(question, "")
    asked = str(previous.get("question", ""))
    topic = compare_topic(asked) if previous.get("kind") == "compare" else previous.get("topic") or topic_of(asked)
    if not topic:
        return FollowUp(question, "")
    scope = previous.get("scope") or {}
    roles = intent(normalize_question(question))
    template = _role_questions().get(roles[0]) if roles else None
    query = template.format(topic=topic) if template else f"{topic} {question}"
    return FollowUp(query, topic, tuple(scope.get("reports") or ()), tuple(scope.get("years") or ()),
                    roles[0] if template else "", tuple(scope.get("data_years") or ()))
