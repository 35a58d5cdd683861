"""Question sets: JSONL files of {"id", "question", "gold": [{"doc", "span"}], "items"?}."""
from __future__ import annotations

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


def load_jsonl(path: Path) -> list[dict]:
    """Every non-empty line of a JSONL file, parsed."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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
