"""Yandu (研读): retrieval over Chinese work reports.

Data flow, one module per step:
    readers → clean → sections (+ roles) → chunker → embed → store/indexer
    → keyword + search (fuse) → web / app.py (present)
"""
