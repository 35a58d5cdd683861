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
from ..errors import IndexUnreadable
from .generations import Manifest, current_generation
from .segment import identity
from .snapshot import Snapshot
from .writer import Writer


class Store(Protocol):
    location: str

    def manifest(self) -> Manifest | None: ...

    def writer(self, manifest: Manifest, fresh: bool, lock_timeout: float = 0): ...

    def snapshot(self): ...


class LocalStore:
    """Segments + FAISS + exact BM25 in ``Settings.store_dir`` (the model's folder; generations.py).

    An index folder deleted while it is served (an operator's mistake) is noticed: the snapshot in
    memory keeps answering (its files stay open), ``lost`` names the folder, and the next index run
    builds it again from the corpus."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = str(settings.store_dir)
        self._snap: Snapshot | None = None
        self._made: tuple | None = None  # identity of the served snapshot's manifest
        self._lock = threading.Lock()
        self.lost: str | None = None  # the folder of the snapshot being served, when it has vanished

    def _live(self):
        try:
            return current_generation(self.settings.store_dir)
        except OSError as e:  # a file where the folder should be, no permission
            raise IndexUnreadable(read_failure(self.settings.store_dir, e)) from None

    def manifest(self) -> Manifest | None:
        live = self._live()
        return Manifest.read(live / "manifest.json") if live else None

    def writer(self, manifest: Manifest, fresh: bool, lock_timeout: float = 0) -> Writer:
        return Writer(self.settings.store_dir, manifest, fresh=fresh, settings=self.settings, lock_timeout=lock_timeout)

    def snapshot(self) -> Snapshot | None:
        """The last commit; the same object until the next one (which reuses its loaded segments)."""
        live = self._live()
        with self._lock:
            if live is None:
                if self._snap is not None and not (self._snap.folder / "manifest.json").exists():
                    self.lost = str(self.settings.store_dir)  # deleted under us: serve what is in memory
                return self._snap if self.lost else None
            try:
                made = identity(live / "manifest.json")  # a folder rebuilt under the same name is another
            except OSError:
                made = None
            if self._snap is None or self._snap.folder != live or self._made != made or self.lost:
                self._snap = Snapshot(live, self.settings.ann_nprobe, previous=self._snap)
                self._made, self.lost = made, None
            return self._snap


def read_failure(folder, e: OSError) -> str:
    """One line: why the index folder cannot be read."""
    if isinstance(e, NotADirectoryError) or folder.exists() and not folder.is_dir():
        why = "that path is a file, not a folder (give --index-dir a folder, or move the file away)"
    elif isinstance(e, PermissionError):
        why = "no permission to read it"
    else:
        why = e.strerror or str(e)
    return f"cannot read the index in {folder}: {why}"


def open_store(settings: Settings) -> Store:
    """The store `settings` name (``Settings.store``)."""
    if settings.store_kind == "local":
        return LocalStore(settings)
    from .milvus import MilvusStore

    return MilvusStore(settings)
