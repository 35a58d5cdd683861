"""The kind of unit a question and a report are about (乡, 镇, 县, 社区, 学校 …; data/unit_types.txt).

Party-building questions name a kind of unit far more often than a unit ("乡党委书记抓党建述职自查出什么
不足", "镇里党员学习强国日均积分多少"), and the reports rarely carry their unit's name in a title:
web copies have none, and the unit is the one the text speaks of as itself ("我镇", "全镇"). So:

- a question's types: the kinds its wording names;
- a report's types: the kinds its title names and those it speaks of as itself anywhere in its first
  ``SELF_CHARS`` characters. A report that does neither has no type (unknown, not a mismatch).

Both are soft evidence for the learned ranker (``features.unit_type``), never a filter.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable
from weakref import WeakKeyDictionary

from ..text import normalize, tab_rows

SELF_CHARS = 20_000  # the seeds' and party_web's longest reports speak of themselves well within this
# Levels named in a row ("全国全省全市宣传部长会议", "全市全县"): meetings or work at every level, not a
# report speaking of itself; read before a report's own words. The administrative ladder, a closed set.
LEVEL_RUN = re.compile(r"(?:全[国省市县区乡镇村]){2,}")


@lru_cache(maxsize=1)
def _rows() -> list[tuple[str, re.Pattern, re.Pattern]]:
    """(type, naming pattern, self pattern) of data/unit_types.txt."""
    return [(kind, re.compile(naming), re.compile(own)) for kind, naming, own, *_examples in tab_rows("unit_types.txt")]


def asked_types(question: str) -> frozenset[str]:
    """The kinds of unit a (normalised) question names."""
    return frozenset(kind for kind, naming, _ in _rows() if naming.search(question))


def kinds_only(word: str) -> frozenset[str]:
    """The kinds of unit a (normalised) question word names when it names nothing else: what their
    names leave of it is one character at most ("县局" → 县, 局; "镇里" → 镇; "乡党委" names 党委 too: none)."""
    kinds, rest = set(), word
    for kind, naming, _ in _rows():
        if naming.search(rest):
            kinds.add(kind)
            rest = naming.sub("", rest)
    return frozenset(kinds) if kinds and len(rest) <= 1 else frozenset()


def report_types(title: str, text: str) -> frozenset[str]:
    """The kinds of unit a report is about: named in its (normalised) title, or spoken of as itself
    in its (normalised) text — not in a run of levels (``LEVEL_RUN``)."""
    head = LEVEL_RUN.sub("", text[:SELF_CHARS])
    return frozenset(kind for kind, naming, own in _rows() if naming.search(title) or own.search(head))


_BY_SNAPSHOT: WeakKeyDictionary = WeakKeyDictionary()


def types_in(snap) -> Callable[[str], frozenset[str]]:
    """``report_types`` of an index snapshot's reports by source, each report read once per snapshot."""
    cache = _BY_SNAPSHOT.setdefault(snap, {})

    def of(source: str) -> frozenset[str]:
        types = cache.get(source)
        if types is None:
            doc = snap.document(source) or {}
            types = cache[source] = report_types(normalize(doc.get("title") or ""),
                                                 normalize((doc.get("text") or "")[:SELF_CHARS]))
        return types
    return of


_YEARS: WeakKeyDictionary = WeakKeyDictionary()


def newest_about(snap, kinds: frozenset[str]) -> int | None:
    """The year of the newest report of an index snapshot that is about every kind of unit in ``kinds``
    (``report_types``); the reports' years are listed once per snapshot."""
    years = _YEARS.get(snap)
    if years is None:
        years = _YEARS[snap] = [(d["source"], int(d["year"])) for d in snap.documents() if d.get("year")]
    types = types_in(snap)
    found = [year for source, year in years if kinds <= types(source)]
    return max(found) if found else None
