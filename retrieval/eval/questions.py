"""Question sets: JSONL files of {"id", "question", "gold": [{"doc", "span"}], "items"?}."""
from __future__ import annotations

import json
from pathlib import Path


def load_jsonl(path: Path) -> list[dict]:
    """Every non-empty line of a JSONL file, parsed."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
