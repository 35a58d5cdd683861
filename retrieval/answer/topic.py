"""What a question is about: its words without the ones that ask (role words, question words).

``topic_of`` is what a direct answer's items must say and what a follow-up carries over;
``compare_topic`` is what a comparison across reports is about.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..search.question import INTENT
from ..text import data_rows


@lru_cache(maxsize=None)
def _words(name: str) -> re.Pattern:
    """Any word of a vocabulary file (``retrieval/data/NAME``), the longest first."""
    words = [w for row in data_rows(name) for w in row]
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def topic_parts(question: str) -> list[str]:
    """What a question is about, in the runs of text its role words, function words and punctuation
    leave: "…总结里，下步打算列了哪几条" → ["…总结里", "列", "哪几条"]; words are read within a run, never across
    the gap a removed word leaves ("里列" is no word)."""
    text = question
    for _, pattern in INTENT:
        text = pattern.sub(" ", text)
    text = _words("question_words.txt").sub(" ", text)
    return re.sub(r"[\s\W_]+", " ", text).split()


def topic_of(question: str) -> str:
    """What a question is about, as one phrase: ``topic_parts`` run together."""
    return "".join(topic_parts(question))


def compare_topic(question: str) -> str:
    """What a comparison is about: its topic without the words that ask across reports ("各单位的存在问题
    有什么共性？" → "" , "各地粮食产量有何不同？" → "粮食产量"; data/compare_words.txt)."""
    return topic_of(_words("compare_words.txt").sub(" ", question))
