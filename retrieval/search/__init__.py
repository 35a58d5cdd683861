"""Answering a question: understand it, retrieve (dense + keyword), fuse, complete lists.

question (what is asked) · filters (user's scope) · fusion (plain functions) · lists (list
answers) · searcher (the pipeline over one index snapshot).
"""
from .filters import Filters
from .question import Question, intent, quantity_unit, understand
from .searcher import WEAK, Result, Searcher

__all__ = ["WEAK", "Filters", "Question", "Result", "Searcher", "intent", "quantity_unit", "understand"]
