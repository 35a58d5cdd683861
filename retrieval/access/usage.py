"""What the archive is asked and fails to answer, from the audit log: questions per day and per knowledge
base, questions that found nothing or only weak passages, passages marked 👎 most, reports never cited.

``usage(entries, library)`` reads ``ask``/``compare`` entries (their detail: ``shown``, ``found``,
``message``, written by the web app's chat handler) and the ``feedback`` that stands (each user's last
verdict on an answer or passage, withdrawals honoured: ``eval.feedback.standing``); ``library`` is every
report of the knowledge bases concerned as ``(base, file)``. ``write_usage_csv`` writes it all as one
CSV (UTF-8 with a BOM, for Excel), one section after the other. Nothing here imports Gradio.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable

from ..eval.feedback import standing
from ..search import WEAK
from .audit import AuditEntry, _cell

QUESTION_ACTIONS = ("ask", "compare")
TOP = 20  # rows of the "most disliked" and "failed questions" lists


@dataclass
class Usage:
    per_day: dict[str, int] = field(default_factory=dict)  # "2026-11-23" → questions (oldest first)
    per_base: dict[str, int] = field(default_factory=dict)  # base → questions (most first)
    failed: list[dict] = field(default_factory=list)  # {time, user, base, question, outcome: "nothing"|"weak", message}
    disliked: list[dict] = field(default_factory=list)  # {base, source, start, end, span, down, up}
    never_cited: list[tuple[str, str]] = field(default_factory=list)  # (base, file)
    questions: int = 0
    failed_total: int = 0  # questions that found nothing or only weak passages (``failed`` lists the newest)
    feedback: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})


def _detail(entry: AuditEntry) -> dict:
    try:
        d = json.loads(entry.detail or "")
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def outcome(detail: dict) -> str | None:
    """"nothing" (no passage), "weak" (passages the search itself called weak), or None (an answer)."""
    if detail.get("found") == 0 or ("found" not in detail and detail.get("shown") == []):
        return "nothing"
    if WEAK in str(detail.get("message") or ""):
        return "weak"
    return None


def usage(entries: Iterable[AuditEntry], library: Iterable[tuple[str, str]]) -> Usage:
    """The usage figures of these audit entries (any order) over this library."""
    u = Usage()
    days, per_base, cited = Counter(), Counter(), set()
    votes: dict[tuple, dict] = {}
    entries = list(entries)
    stands = {e.id for e, _ in standing(entries)}
    for e in sorted(entries, key=lambda e: e.id):
        d = _detail(e)
        if e.action in QUESTION_ACTIONS:
            u.questions += 1
            days[e.time.strftime("%Y-%m-%d")] += 1
            for base in (e.base or "").split(","):
                if base:
                    per_base[base] += 1
            for p in d.get("shown") or []:
                if isinstance(p, dict):
                    cited.add((p.get("base"), p.get("source")))
            if e.action == "ask" and (kind := outcome(d)):
                u.failed.append({"time": e.time.strftime("%Y-%m-%d %H:%M"), "user": e.user, "base": e.base,
                                 "question": e.target, "outcome": kind, "message": d.get("message") or ""})
        elif e.id in stands and d.get("verdict") in u.feedback:
            u.feedback[d["verdict"]] += 1
            for p in d.get("passages") or []:
                if not isinstance(p, dict):
                    continue
                cited.add((p.get("base"), p.get("source")))
                key = (p.get("base"), p.get("source"), p.get("start"), p.get("end"))
                vote = votes.setdefault(key, {"base": key[0], "source": key[1], "start": key[2], "end": key[3],
                                              "span": p.get("span", ""), "down": 0, "up": 0})
                vote[d["verdict"]] += 1
    u.per_day = dict(sorted(days.items()))
    u.per_base = dict(per_base.most_common())
    u.failed_total = len(u.failed)
    u.failed = u.failed[::-1][:TOP]  # newest first
    u.disliked = sorted((v for v in votes.values() if v["down"]), key=lambda v: (-v["down"], v["up"]))[:TOP]
    u.never_cited = sorted(r for r in library if tuple(r) not in cited)
    return u


OUTCOME_LABELS = {"nothing": "未找到", "weak": "相关度低"}


def usage_tables(u: Usage, titles: dict[str, str] | None = None) -> dict[str, tuple[list[str], list[list]]]:
    """Each table of the usage page and of the CSV: title → (headers, rows), in Chinese; ``titles``:
    knowledge base name → title (shown as "title（name）"). 👍/👎 are words here: the page's emoji may
    have no font on an intranet machine."""
    def base(name):
        names = [b for b in (name or "").split(",") if b]
        return "、".join(f"{titles[b]}（{b}）" if titles and b in titles else b for b in names)

    return {
        "每日提问": (["日期", "提问数"], [[d, n] for d, n in u.per_day.items()]),
        "各知识库提问": (["知识库", "提问数"], [[base(b), n] for b, n in u.per_base.items()]),
        "未找到或相关度低的问题": (["时间", "用户", "知识库", "问题", "结果"],
                           [[f["time"], f["user"] or "", base(f["base"]), f["question"] or "",
                             OUTCOME_LABELS[f["outcome"]]] for f in u.failed]),
        "被标记无用最多的段落": (["知识库", "报告", "位置", "摘录", "无用", "有用"],
                         [[base(v["base"]), v["source"], f"第 {v['start']}–{v['end']} 字", v["span"], v["down"], v["up"]]
                          for v in u.disliked]),
        "从未被引用的报告": (["知识库", "报告"], [[base(b), r] for b, r in u.never_cited]),
    }


def write_usage_csv(u: Usage, out: Path | str | IO[str], titles: dict[str, str] | None = None) -> None:
    """Every table of ``usage_tables`` in one CSV, each after a line with its title (UTF-8 with a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for title, (headers, rows) in usage_tables(u, titles).items():
        writer.writerow([title])
        writer.writerow(headers)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        writer.writerow([])
    if isinstance(out, (str, Path)):
        Path(out).write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    else:
        out.write("\ufeff" + buffer.getvalue())
