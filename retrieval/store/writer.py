"""The one writer: builds the next generation beside the live one and flips CURRENT atomically."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock, Timeout

from ..config import Settings
from ..errors import IndexBusy
from ..ingest.document import Chunk, Document
from .ann import ANN_FILE, build_ivf, ideal_nlist
from .generations import SCHEMA, TOKEN_SEP, Manifest, _fsync_dir, _fsync_write, current_generation, split_tokens
from .keyword import KeywordIndex


class Writer:
    """Builds the next generation from the live one; `commit` makes it live atomically."""

    KEEP_GENERATIONS = 2  # the live one and the one before, for readers still on it

    def __init__(self, index_dir: Path, manifest: Manifest, fresh: bool, settings: Settings, lock_timeout: float = 0):
        self.index_dir = index_dir
        self.ann_threshold, self.nprobe = settings.ann_threshold, settings.ann_nprobe
        index_dir.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(index_dir / ".write.lock"))
        try:
            self.lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise IndexBusy(f"the index in {index_dir} is being updated by another process; try again when it finishes") from None
        self._sweep()
        live = None if fresh else current_generation(index_dir)
        number = int(live.name.split("-")[1]) + 1 if live else self._next_number()
        self.folder = index_dir / f"gen-{number:06d}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()
        if live:
            shutil.copy2(live / "chunks.sqlite", self.folder / "chunks.sqlite")
            self.vectors = faiss.read_index(str(live / "vectors.faiss"))
            # kept in step with the flat index, so a commit need not rebuild it
            self.ann = faiss.read_index(str(live / ANN_FILE)) if (live / ANN_FILE).exists() else None
        else:
            self.vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(manifest.dim))
            self.ann = None
        self.db = sqlite3.connect(self.folder / "chunks.sqlite")
        self.db.executescript(SCHEMA)
        self.manifest = manifest

    def _next_number(self) -> int:
        numbers = [int(p.name.split("-")[1]) for p in self.index_dir.glob("gen-*") if p.name[4:].isdigit()]
        return max(numbers, default=0) + 1

    def _sweep(self) -> None:
        """Remove generations left by killed writers and all but the newest live ones."""
        live = current_generation(self.index_dir)
        gens = sorted(p for p in self.index_dir.glob("gen-*") if p.is_dir())
        keep = {live} if live else set()
        if live:
            older = [g for g in gens if g.name < live.name]
            keep.update(older[-(self.KEEP_GENERATIONS - 1):] if self.KEEP_GENERATIONS > 1 else [])
        for g in gens:
            if g not in keep:
                shutil.rmtree(g, ignore_errors=True)

    def remove_source(self, source: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE source = ?", (source,))]
        if ids:
            self.vectors.remove_ids(np.asarray(ids, dtype=np.int64))
            if self.ann is not None:
                self.ann.remove_ids(np.asarray(ids, dtype=np.int64))
        self.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
        self.db.execute("DELETE FROM documents WHERE source = ?", (source,))

    def set_aliases(self, source: str, aliases: list[str]) -> None:
        self.db.execute("UPDATE documents SET aliases = ? WHERE source = ?", (json.dumps(aliases, ensure_ascii=False), source))

    def add_document(self, doc: Document, sha256: str, chunks: list[Chunk], vectors: np.ndarray,
                     tokens: list[list[str]]) -> list[int]:
        ids = list(range(self.manifest.next_id, self.manifest.next_id + len(chunks)))
        self.manifest.next_id += len(chunks)
        self.db.execute(
            "INSERT OR REPLACE INTO documents (source, title, year, unit, text, sha256, removed, page_starts, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.source, doc.title, doc.year, doc.unit, doc.text, sha256,
             json.dumps([asdict(r) for r in doc.removed], ensure_ascii=False), json.dumps(doc.page_starts), doc.kind),
        )
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i, c.source, c.order, c.title, json.dumps(c.heading_path, ensure_ascii=False), c.section_type,
                 c.text, c.start, c.end, c.item, c.year, c.page, c.section_start, c.section_end,
                 TOKEN_SEP.join(t), c.unit, c.kind, c.year_from, c.year_to, " ".join(c.roles))
                for i, c, t in zip(ids, chunks, tokens)
            ],
        )
        if ids:
            self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
            if self.ann is not None:
                self.ann.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        return ids

    def _update_ann(self) -> None:
        """From `ann_threshold` vectors on, an IVF copy of the flat index: trained once, then updated with
        every add and removal; retrained when the index has grown or shrunk 4× since (lists sized for it)."""
        n = self.vectors.ntotal
        if n < max(1, self.ann_threshold):
            self.ann = None
            return
        if self.ann is not None:
            nlist = faiss.extract_index_ivf(self.ann).nlist
            if self.ann.ntotal == n and ideal_nlist(n) // 2 <= nlist <= ideal_nlist(n) * 2:
                return
        self.ann = build_ivf(self.vectors, self.nprobe)

    def commit(self) -> Path:
        """Write everything, fsync, and flip CURRENT to the new generation."""
        self.db.commit()
        rows = self.db.execute("SELECT id, tokens FROM chunks ORDER BY id").fetchall()
        self.db.close()
        KeywordIndex.build([r[0] for r in rows], [split_tokens(r[1]) for r in rows]).save(self.folder / "keyword")
        faiss.write_index(self.vectors, str(self.folder / "vectors.faiss"))
        self._update_ann()
        if self.ann is not None:
            faiss.write_index(self.ann, str(self.folder / ANN_FILE))
        self.manifest.updated = time.time()
        _fsync_write(self.folder / "manifest.json", json.dumps(asdict(self.manifest), ensure_ascii=False, indent=1))
        for path in self.folder.rglob("*"):
            if path.is_file():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
        _fsync_dir(self.folder)
        tmp = self.index_dir / "CURRENT.tmp"
        _fsync_write(tmp, self.folder.name)
        os.replace(tmp, self.index_dir / "CURRENT")
        _fsync_dir(self.index_dir)
        return self.folder

    def abort(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        self.release()
