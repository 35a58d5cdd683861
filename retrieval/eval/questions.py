"""Question sets: JSONL files of {"id", "question", "gold": [{"doc", "span"}], "items"?}."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import ROOT, SHARED_DIR

SHARED = SHARED_DIR  # seeds, benchmark reports, question sets (config.SHARED_DIR)
BENCH = SHARED / "bench"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
GOV_DEV_QUESTIONS = SHARED / "eval" / "gov_dev_questions.jsonl"
# Written blind (by a session that never saw the ranking code or its results) over the seeds and bench;
# never tuned on: it measures what the dev sets cannot (docs/eval/README.md).
BLIND_QUESTIONS = ROOT / "docs" / "eval" / "blind_questions.jsonl"


def load_jsonl(path: Path) -> list[dict]:
    """Every non-empty line of a JSONL file, parsed."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
