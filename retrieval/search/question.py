"""Question understanding: what a question asks for, read from its wording alone.

The section role it asks about (问题 → problem, 原因 → cause, 下一步 → plan, 做法 → work), whether it
asks for nothing but that role, and for how-many questions the unit counted.
"""
from __future__ import annotations

import re

from ..text import normalize

MAX_QUESTION = 2000  # characters used from a question; the rest is ignored (and said so)

INTENT: list[tuple[str, re.Pattern]] = [
    ("cause", re.compile(r"原因|根源|为什么|为何|症结")),
    ("problem", re.compile(r"问题|不足|差距|短板|薄弱|缺点|不够|欠缺")),
    ("plan", re.compile(r"下一步|下步|打算|计划|思路|明年|今后|将来|未来|目标|规划")),
    ("work", re.compile(r"做法|措施|开展|成效|成绩|如何|怎样|怎么|哪些活动|举措|经验")),
]


def intent(question: str) -> list[str]:
    """Section roles a question asks about (first match wins; 原因 beats 问题 in "问题的原因")."""
    for role, pattern in INTENT:
        if pattern.search(question):
            return ["highlight", "work"] if role == "work" else [role]
    return []


QUANTITY = re.compile(r"(?:多少|几)([名个次人场篇项家期批户条件所位元]?)")
NUMBER = r"[0-9一二三四五六七八九十百千万两]+(?:\.\d+)?余?"
ANY_UNIT = "[名个次人场篇项家期批户条件所位元]"
SENTENCE_END = re.compile(r"[。；！？\n]")


def quantity_unit(question: str) -> str | None:
    """For a how-many question, the unit asked about as a regex ("次"); None otherwise."""
    m = QUANTITY.search(question)
    if not m:
        return None
    return ANY_UNIT if m.group(1) in ("", "个") else m.group(1)


def states_quantity(text: str, tokens: list[str], unit: str) -> bool:
    """Does one sentence of the passage give a number with that unit next to what was asked about
    (a term of 3+ characters, or two terms of the question)?"""
    terms = [t for t in tokens if len(t) >= 2]
    pattern = re.compile(NUMBER + unit)
    for sentence in SENTENCE_END.split(normalize(text)):
        if pattern.search(sentence):
            found = [t for t in terms if t in sentence]
            if len(found) >= 2 or any(len(t) >= 3 for t in found):
                return True
    return False


def asks_only_role(tokens: list[str]) -> bool:
    """A question whose every keyword is a role word asks for that kind of section itself."""
    return all(any(p.search(t) for _, p in INTENT) for t in tokens)


