"""Yandu (研读): ranked, cited passages from Chinese work reports.

The folders are the pipeline:
    ingest/ (read → clean → sections + roles → chunks) → encode/ (embed) → store/ (index on disk)
    → search/ (understand the question, retrieve, fuse, complete lists) → answer/ (the direct answer
    above the passages, follow-ups) → web/ and app.py (present);
    eval/ measures it. ``Yandu`` (engine.py) is the facade the CLI and the web share.
"""
from .config import Settings
from .engine import Yandu
from .passage import Passage, Why

__all__ = ["Passage", "Settings", "Why", "Yandu"]
