"""Shared fixtures: paths to the bundled corpus and the shared benchmark data."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
BENCH = SHARED / "bench"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"


def seed(prefix: str) -> Path:
    return next(CORPUS.glob(f"{prefix}_*.txt"))


@pytest.fixture(scope="session")
def bench_files():
    if not BENCH.exists():
        pytest.skip("../shared/bench is not present")
    return sorted(p for p in BENCH.rglob("*") if p.suffix in (".txt", ".docx"))
