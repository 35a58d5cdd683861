"""Measuring retrieval: metrics (the project's scorer), question sets, the generic baseline, the eval run.

Questions derived from the reports' structure: ``retrieval.eval.derive.derive_questions`` (not imported
here, so ``python -m retrieval.eval.derive`` runs it as a script cleanly)."""
from .baseline import baseline_results
from .metrics import METRICS, score
from .questions import genre_of, load_jsonl
from .run import question_genre, run_eval

__all__ = ["METRICS", "baseline_results", "genre_of", "load_jsonl",
           "question_genre", "run_eval", "score"]
