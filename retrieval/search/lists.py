"""List answers: the parts of one list shown together, never a passage and its own section twice."""
from __future__ import annotations

from ..ingest.chunker import ITEM
from ..store import Snapshot
from .question import Question


def shown_whole(q: Question) -> bool:
    """Are a question's lists shown whole (``complete_lists``)? A list question's ("有哪些问题"), and a
    work question's ("…是怎么抓的？", "采取了哪些措施": how it was done is the list of what was done);
    not a how-many question's (one figure answers it).  Party-building hit@1 over seeds + bench +
    party_web, work questions added (AMD EPYC): party_dev 0.925 → 0.95, second tuning set 0.733 → 0.817,
    derived 0.889 → 0.921; no hit@1 fell on any set or corpus."""
    return q.is_list or ("work" in q.roles and q.quantity is None)


def complete_lists(snap: Snapshot, passages: list[dict], limit: int, window: int) -> list[dict]:
    """Show a question's lists whole (list and work questions: ``shown_whole``): parts of one split section
    are shown together.

    The whole section replaces its parts when it fits in `limit` characters; otherwise the parts
    that ranked stand together at the rank of the best one: the best first (never demoted), the
    others after it in document order. A passage and the section it belongs to never both appear.
    """
    groups: dict[tuple[str, int], list[dict]] = {}
    for p in passages:
        groups.setdefault((p["source"], p["section_start"]), []).append(p)
    out: list[dict] = []
    for p in passages:
        key = (p["source"], p["section_start"])
        if key not in groups:
            continue
        hits = groups.pop(key)
        parts = snap.section_chunks(*key)
        whole = with_items(snap, p, parts, limit)
        if whole is not None:
            out.append(whole)
        elif len(parts) > 1 and parts[-1]["end"] - parts[0]["start"] <= limit:
            start, end = parts[0]["start"], parts[-1]["end"]
            text = snap.document(p["source"])["text"][start:end]
            out.append({**p, "text": text, "start": start, "end": end, "item": None,
                        "completed_from": [x["id"] for x in parts]})
        else:
            out.extend(stand_together(hits))
    return merge_siblings(snap, out, limit, window)


def with_items(snap: Snapshot, p: dict, parts: list[dict], limit: int) -> dict | None:
    """A section whose items are its sub-sections ("五、…原因分析：" over "1、…" "2、…"), shown whole
    in place of its lead when the lead enumerates nothing itself and the whole fits in ``limit``
    characters; None otherwise."""
    path = tuple(p["heading_path"])
    if not path or any(ITEM.match(line) for line in p["text"].split("\n")[1:]):
        return None
    inside = [c for c in snap.source_chunks(p["source"]) if tuple(c["heading_path"][:len(path)]) == path]
    if not any(len(c["heading_path"]) > len(path) for c in inside):
        return None
    start, end = min(c["start"] for c in [*inside, *parts]), max(c["end"] for c in inside)
    if end - start > limit:
        return None
    return {**p, "text": snap.document(p["source"])["text"][start:end], "start": start, "end": end, "item": None,
            "completed_from": [c["id"] for c in inside]}


def stand_together(hits: list[dict]) -> list[dict]:
    """Ranked parts of one list: the best (first) keeps its place; the others follow in reading order
    from it — the parts after it first (the list goes on there), then those before it."""
    best = hits[0]["start"]
    return [hits[0], *sorted(hits[1:], key=lambda h: (h["start"] < best, h["start"]))]


def merge_siblings(snap: Snapshot, passages: list[dict], limit: int, window: int) -> list[dict]:
    """Sibling sections that both rank in the first `window` ((一)(二)(三) of one heading) are items
    of one list: their parent section replaces them, at the first one's rank, when it fits in `limit`
    characters. Top-level siblings have no parent: their list is the run of the report's top-level
    sections around them that play their role (a short report's "（一）…（二）…（三）…" under no
    heading). The sections it joins are its ``parts``: those that ranked, in their order, then the
    others in reading order. Passages inside a passage already shown are dropped; a passage holding
    ones already shown takes the place of the first of them."""
    def parent_of(p: dict) -> tuple:  # (report, parent heading path, the role of an outermost section's list)
        path = tuple(p["heading_path"])
        return (p["source"], path[:-1], None) if len(path) > 1 else (p["source"], (), p.get("section_type"))

    members: dict[tuple, dict] = {}  # the paths of each list's sections that ranked, in rank order
    for p in passages[:window]:
        if p["heading_path"]:
            members.setdefault(parent_of(p), {})[tuple(p["heading_path"])] = None
    parents: dict[tuple, dict] = {}
    for key, paths in members.items():
        if len(paths) < 2:
            continue
        source, parent, role = key
        chunks = sorted(snap.source_chunks(source), key=lambda c: c["start"])
        inside = (run_of(chunks, {path[0] for path in paths}, role) if not parent else
                  [c for c in chunks if tuple(c["heading_path"][:len(parent)]) == parent])
        if not inside:
            continue
        start, end = min(c["start"] for c in inside), max(c["end"] for c in inside)
        if end - start <= limit:
            parents[key] = {"text": snap.document(source)["text"][start:end], "start": start, "end": end,
                            "heading_path": list(parent), "section": " › ".join(parent), "item": None,
                            "section_type": inside[0]["section_type"],
                            "completed_from": [c["id"] for c in inside],
                            "parts": list(dict.fromkeys([*(path[len(parent)] for path in paths), *(
                                c["heading_path"][len(parent)] for c in inside if len(c["heading_path"]) > len(parent))]))}
    out: list[dict] = []
    for p in passages:
        merged = parents.get(parent_of(p)) if p["heading_path"] else None
        p = {**p, **merged} if merged else p
        shown = [i for i, q in enumerate(out) if q["source"] == p["source"] and q["start"] < p["end"] and p["start"] < q["end"]]
        if not shown:
            out.append(p)
        elif all(p["start"] <= out[i]["start"] and out[i]["end"] <= p["end"] for i in shown):
            # a whole section whose part ranked above it: the whole takes the part's place, never lost
            out[shown[0]] = {**p, "score": out[shown[0]].get("score", p.get("score"))}
            out = [q for i, q in enumerate(out) if i not in shown[1:]]
    return out


def run_of(chunks: list[dict], tops: set[str], role: str) -> list[dict]:
    """The chunks (in reading order) of the run of consecutive top-level sections that holds every
    heading of ``tops`` and whose chunks all play ``role``; [] when another role comes between them."""
    sections: list[list[dict]] = []
    for c in chunks:
        if c["heading_path"]:
            if not sections or sections[-1][0]["heading_path"][0] != c["heading_path"][0]:
                sections.append([])
            sections[-1].append(c)
    plays = [all(c["section_type"] == role for c in section) for section in sections]
    at = [i for i, section in enumerate(sections) if section[0]["heading_path"][0] in tops]
    if len(at) < 2 or not all(plays[at[0]:at[-1] + 1]):
        return []
    first, last = at[0], at[-1]
    while first > 0 and plays[first - 1]:
        first -= 1
    while last + 1 < len(sections) and plays[last + 1]:
        last += 1
    return [c for section in sections[first:last + 1] for c in section]
