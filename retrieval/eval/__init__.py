"""Measuring retrieval: metrics (the project's scorer), question sets, the generic baseline, the eval run."""
from .baseline import baseline_results
from .metrics import METRICS, score
from .questions import load_jsonl
from .run import run_eval

__all__ = ["METRICS", "baseline_results", "load_jsonl", "run_eval", "score"]
