"""Question sets: JSONL files of {"id", "question", "gold": [{"doc", "span"}], "items"?}.

A set over third-party reports (``party_web``) keeps no quote of them: each of its gold and item
entries points into its report by position instead — {"doc", "at", "chars", "sha1"} (character
offset and length in the file's text, the first 8 hex digits of the span's SHA-1) — and
``load_jsonl`` reads the span from ../shared (``point_spans`` writes that form).
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from ..config import ROOT, SHARED_DIR

SHARED = SHARED_DIR  # seeds, benchmark reports, question sets (config.SHARED_DIR)
BENCH = SHARED / "bench"
SEEDS = SHARED / "seeds"
PARTY_WEB = SHARED / "party_web"
PARTY_DEV_QUESTIONS = SHARED / "eval" / "party_dev_questions.jsonl"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
GOV_DEV_QUESTIONS = SHARED / "eval" / "gov_dev_questions.jsonl"
# Written blind (by a session that never saw the ranking code or its results) over the seeds and bench;
# never tuned on: it measures what the dev sets cannot (docs/eval/README.md).
BLIND_QUESTIONS = ROOT / "docs" / "eval" / "blind_questions.jsonl"
SEED_QUESTIONS = ROOT / "docs" / "eval" / "seed_questions.jsonl"  # scored, not trained on: docs/eval/README.md
PARTY_BLIND_QUESTIONS = ROOT / "docs" / "eval" / "party_blind_questions.jsonl"  # never tuned on: docs/eval/README.md
PARTY_TUNE_QUESTIONS = ROOT / "docs" / "eval" / "party_tune_questions.jsonl"  # odd half tuned on: docs/eval/README.md
SEED_TUNE_QUESTIONS = ROOT / "docs" / "eval" / "seed_tune_questions.jsonl"  # odd half tuned on: docs/eval/README.md
PARTY_TUNE2_QUESTIONS = ROOT / "docs" / "eval" / "party_tune2_questions.jsonl"  # odd half tuned on: docs/eval/README.md


def load_jsonl(path: Path) -> list[dict]:
    """Every non-empty line of a JSONL file, parsed; spans kept by position read from their reports."""
    with open(path, encoding="utf-8") as f:
        return [_read_spans(json.loads(line)) for line in f if line.strip()]


def _digest(span: str) -> str:
    return hashlib.sha1(span.encode("utf-8")).hexdigest()[:8]


def _report_text(doc: str) -> str:
    """The text of a shared report (seeds or party_web) by file name, as stored (newlines kept)."""
    path = _shared_files().get(Path(doc).name)
    if path is None:
        raise FileNotFoundError(f"{doc}: not in {SEEDS} or {PARTY_WEB}")
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _read_spans(question: dict) -> dict:
    """``question`` with each entry kept by position given its span; a span whose digest differs (the
    report changed) raises ValueError naming the report and the question."""
    def read(entry: dict) -> dict:
        if "span" in entry or "at" not in entry:
            return entry
        span = _report_text(entry["doc"])[entry["at"]:entry["at"] + entry["chars"]]
        if _digest(span) != entry["sha1"]:
            raise ValueError(f"{entry['doc']}: the span of {question.get('id')} at {entry['at']} is not the one written")
        return {"doc": entry["doc"], "span": span}
    out = dict(question)
    for key in ("gold", "items"):
        if key in out:
            out[key] = [read(e) for e in out[key]]
    return out


def point_spans(question: dict, folders: tuple[Path, ...] = (PARTY_WEB,)) -> dict:
    """``question`` with each span of a report in ``folders`` kept by position (its first occurrence)
    instead of quoted: what ``load_jsonl`` reads back."""
    def point(entry: dict) -> dict:
        path = _shared_files().get(Path(entry["doc"]).name)
        if path is None or path.parent not in folders:
            return entry
        at = _report_text(entry["doc"]).find(entry["span"])
        if at < 0:
            raise ValueError(f"{entry['doc']}: {entry['span']!r} is not in it")
        return {"doc": entry["doc"], "at": at, "chars": len(entry["span"]), "sha1": _digest(entry["span"])}
    out = dict(question)
    for key in ("gold", "items"):
        if key in out:
            out[key] = [point(e) for e in out[key]]
    return out


@lru_cache(maxsize=1)
def _shared_files() -> dict[str, Path]:
    """File name → path of the seeds and party_web reports (both flat folders)."""
    return {p.name: p for folder in (SEEDS, PARTY_WEB) if folder.is_dir() for p in folder.glob("*.txt")}


@lru_cache(maxsize=1)
def _genres() -> dict[str, str]:
    """File name → genre for the shared reports: bench is government, seeds and party_web party-building."""
    out: dict[str, str] = {}
    for folder, genre in ((SEEDS, "party"), (PARTY_WEB, "party"), (BENCH, "gov")):
        if folder.is_dir():
            out.update((p.name, genre) for p in folder.rglob("*") if p.is_file())
    return out


def genre_of(doc: str) -> str | None:
    """"party" or "gov" for a report of ../shared (by file name, its folder ignored), else None."""
    return _genres().get(Path(doc).name)
