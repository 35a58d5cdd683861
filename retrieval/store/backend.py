"""The store interface the indexer, the searcher and the engine use, and how a store is chosen.

A store keeps the manifest (which files are indexed, as what), takes one writer at a time
(`writer`: remove_source, add_document, set_aliases, commit, abort; a context manager raising
IndexBusy when another writer holds it), and serves the last commit as a snapshot (`snapshot`):
rows (``ids``, ``columns``, ``role_masks``, ``aliases``) and `dense_scores` / `keyword_scores`
aligned with them, `chunks`, `section_chunks`, `source_chunks`, `document`, `documents`.

``Settings.store`` picks it: "local" (default; segments + FAISS under ``Settings.index_dir``) or
Milvus by URI — ``milvus://HOST:PORT``, ``http(s)://…`` or a ``….db`` file for embedded milvus-lite
(``milvus.py``; ``pip install -r requirements-milvus.txt``).
"""
from __future__ import annotations

import threading
from typing import Protocol

from ..config import Settings
from .generations import Manifest, current_generation
from .snapshot import Snapshot
from .writer import Writer


class Store(Protocol):
    location: str

    def manifest(self) -> Manifest | None: ...

    def writer(self, manifest: Manifest, fresh: bool, lock_timeout: float = 0): ...

    def snapshot(self): ...


class LocalStore:
    """Segments + FAISS + exact BM25 in ``Settings.index_dir`` (generations.py)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = str(settings.index_dir)
        self._snap: Snapshot | None = None
        self._lock = threading.Lock()

    def manifest(self) -> Manifest | None:
        live = current_generation(self.settings.index_dir)
        return Manifest.read(live / "manifest.json") if live else None

    def writer(self, manifest: Manifest, fresh: bool, lock_timeout: float = 0) -> Writer:
        return Writer(self.settings.index_dir, manifest, fresh=fresh, settings=self.settings, lock_timeout=lock_timeout)

    def snapshot(self) -> Snapshot | None:
        """The last commit; the same object until the next one (which reuses its loaded segments)."""
        live = current_generation(self.settings.index_dir)
        with self._lock:
            if live is None:
                return None
            if self._snap is None or self._snap.folder != live:
                self._snap = Snapshot(live, self.settings.ann_nprobe, previous=self._snap)
            return self._snap


def open_store(settings: Settings) -> Store:
    """The store `settings` name (``Settings.store``)."""
    if settings.store_kind == "local":
        return LocalStore(settings)
    from .milvus import MilvusStore

    return MilvusStore(settings)
