"""Which genre a question asks about, as its shortlist shows it: party-building or government reports.

Both genres share most words ("监督", "学习", "落实"), and a mixed corpus holds many more government
passages than party-building ones, so a party-building question ("同级监督怎么落实的？") can find a
government report's look-alike first. The shortlist the first stage keeps says which genre the question
is about: how much likelier a row of each genre is there than in the whole corpus. A corpus of one
genre, or a shortlist that mirrors the corpus, gives every row 0; the ranker weighs it (``genre_lift``).
"""
from __future__ import annotations

from functools import lru_cache
from weakref import WeakKeyDictionary

import numpy as np

from ..text import data_rows


@lru_cache(maxsize=1)
def government_kinds() -> frozenset[str]:
    """Kinds of report that are government reports (data/government_kinds.txt)."""
    return frozenset(row[0] for row in data_rows("government_kinds.txt"))


def is_government(kind: str | None) -> bool:
    return kind in government_kinds()


def genre_lift(government: np.ndarray, corpus_government: float) -> np.ndarray:
    """Per shortlisted row (``government``: is it of a government report), the log of how much likelier
    its genre is in the shortlist than in the corpus (``corpus_government``: the corpus's share of
    government rows). The shortlist's share counts one row more, of the corpus's mix, so a genre it
    lacks is not infinitely unlikely and a shortlist mixed like the corpus lifts nothing. 0 for every
    row of a corpus of one genre."""
    n = len(government)
    if not n or not 0 < corpus_government < 1:
        return np.zeros(n)
    share = (government.sum() + corpus_government) / (n + 1)
    return np.where(government, np.log(share / corpus_government), np.log((1 - share) / (1 - corpus_government)))


_REPORTS: WeakKeyDictionary = WeakKeyDictionary()
_SHARE: WeakKeyDictionary = WeakKeyDictionary()


def genre_reports(snap) -> tuple[frozenset[str], frozenset[str]]:
    """An index snapshot's reports of each genre, (party-building and others, government), once per
    snapshot."""
    reports = _REPORTS.get(snap)
    if reports is None:
        kinds = {d["source"]: d.get("kind") for d in snap.documents()}
        reports = (frozenset(s for s, k in kinds.items() if not is_government(k)),
                   frozenset(s for s, k in kinds.items() if is_government(k)))
        _REPORTS[snap] = reports
    return reports


def government_share(snap) -> float:
    """The share of an index snapshot's rows that are of government reports, once per snapshot."""
    share = _SHARE.get(snap)
    if share is None:
        government = genre_reports(snap)[1]
        share = float(snap.rows_of(government).mean()) if len(snap.ids) and government else 0.0
        _SHARE[snap] = share
    return share
