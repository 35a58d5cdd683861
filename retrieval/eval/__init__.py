"""Measuring retrieval: metrics (the project's scorer), question sets, questions derived from the reports'
structure, the generic baseline, the eval run."""
from .baseline import baseline_results
from .derive import derive_questions
from .metrics import METRICS, score
from .questions import genre_of, load_jsonl
from .run import SET_METRICS, question_genre, run_eval

__all__ = ["METRICS", "SET_METRICS", "baseline_results", "derive_questions", "genre_of", "load_jsonl",
           "question_genre", "run_eval", "score"]
