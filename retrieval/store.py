"""The index on disk: FAISS vectors, chunk metadata (SQLite), BM25 and a manifest.

``index_dir/CURRENT`` names the live generation folder ``gen-NNNNNN/`` holding
``vectors.faiss``, ``chunks.sqlite``, ``keyword/`` and ``manifest.json`` — and, from
``Settings.ann_threshold`` vectors on, ``vectors.ivf.faiss``: an approximate (IVF) copy of the
vectors that readers search instead of the exact flat index. A writer builds the
next generation beside it and flips CURRENT with an atomic rename: readers never see a
half-written index, and a killed writer leaves the live one as it was. One writer at a time.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock, Timeout

from .config import Settings
from .document import Chunk, Document
from .keyword import KeywordIndex
from .roles import cues

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, title TEXT, year INTEGER, unit TEXT, text TEXT,
    sha256 TEXT, removed TEXT, page_starts TEXT, aliases TEXT DEFAULT '[]');
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, source TEXT, ord INTEGER, title TEXT, heading_path TEXT,
    section_type TEXT, text TEXT, start INTEGER, "end" INTEGER, item TEXT, year INTEGER,
    page INTEGER, section_start INTEGER, section_end INTEGER, tokens TEXT);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
"""
CHUNK_COLUMNS = ("id", "source", "ord", "title", "heading_path", "section_type", "text", "start", "end",
                 "item", "year", "page", "section_start", "section_end")


ANN_FILE = "vectors.ivf.faiss"
# Chunk tokens are stored joined by this separator (jieba never puts a control character in a token):
# splitting is ~15× faster than JSON-decoding, and every commit re-reads every chunk's tokens for BM25.
TOKEN_SEP = "\x1f"


def split_tokens(stored: str | None) -> list[str]:
    if not stored:
        return []
    if stored.startswith('["') or stored == "[]":  # written by an older version (JSON)
        return json.loads(stored)
    return stored.split(TOKEN_SEP)


def ideal_nlist(n: int) -> int:
    """IVF lists for n vectors: the power of two nearest sqrt(n), at least 16."""
    return max(16, 1 << max(0, round(np.log2(max(n, 1)) / 2)))


def build_ivf(flat: faiss.IndexIDMap2, nprobe: int, seed: int = 0) -> faiss.Index:
    """An IVF (inner product, flat lists) over the vectors and ids of an IndexIDMap2(IndexFlatIP)."""
    n, dim = flat.ntotal, flat.d
    vectors = faiss.vector_to_array(faiss.downcast_index(flat.index).codes).view(np.float32).reshape(n, dim)
    ids = faiss.vector_to_array(flat.id_map)
    nlist = ideal_nlist(n)
    ivf = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(n, min(n, 64 * nlist), replace=False)
    ivf.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    ivf.add_with_ids(vectors, ids)
    ivf.nprobe = nprobe
    return ivf


class ApproximateIndex:
    """An IVF index searched like the flat one: ``search(x, k, params=faiss.SearchParameters(sel=…))``.

    Unfiltered questions probe ``nprobe`` lists; filtered ones probe every list, so a filter never
    loses hits (only the selected vectors are scored, which is cheap).
    """

    def __init__(self, index: faiss.Index, nprobe: int):
        self._owner = index  # the downcast view below does not own the index's memory
        self.index, self.nprobe = faiss.downcast_index(index), nprobe

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    @property
    def d(self) -> int:
        return self.index.d

    def search(self, x, k, params=None):
        sel = getattr(params, "sel", None) if params is not None else None
        ivf_params = faiss.SearchParametersIVF(nprobe=self.index.nlist if sel is not None else self.nprobe)
        if sel is not None:
            ivf_params.sel = sel
        return self.index.search(x, k, params=ivf_params)


class IndexBusy(Exception):
    """Another process is writing the index."""


@dataclass
class Manifest:
    model_id: str
    dim: int
    parser_version: str
    files: dict[str, dict] = field(default_factory=dict)  # name -> sha256, size, chunk_ids, duplicate_of
    errors: dict[str, str] = field(default_factory=dict)  # name -> reason, from the last run
    next_id: int = 0
    updated: float = 0.0

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _fsync_write(path: Path, data: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_generation(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    folder = index_dir / name
    return folder if (folder / "manifest.json").exists() else None


def chunk_row(row: sqlite3.Row) -> dict:
    out = dict(zip(CHUNK_COLUMNS, row))
    out["heading_path"] = json.loads(out["heading_path"])
    out["section"] = " › ".join(out["heading_path"])
    return out


class Snapshot:
    """A read-only view of one generation: vectors, keyword index, metadata for filters."""

    def __init__(self, folder: Path, nprobe: int | None = None):
        # Questions come one at a time: FAISS's OpenMP threads only add wake-up latency (measured on a
        # busy 2-core box: 3 000 vectors 0.2 → 24 ms, 100 000 vectors 54 → 140 ms with 2 threads).
        faiss.omp_set_num_threads(1)
        self.folder = folder
        self.manifest = Manifest.read(folder / "manifest.json")
        if (folder / ANN_FILE).exists():  # large index: search the approximate copy, never load the flat one
            self.vectors = ApproximateIndex(faiss.read_index(str(folder / ANN_FILE)),
                                            nprobe or Settings().ann_nprobe)
        else:
            self.vectors = faiss.read_index(str(folder / "vectors.faiss"))
        self.keyword = KeywordIndex.load(folder / "keyword")
        self.db = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        rows = self.db.execute("SELECT id, source, year, section_type, heading_path FROM chunks ORDER BY id").fetchall()
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.sources = np.array([r[1] for r in rows], dtype=object)
        self.years = np.array([r[2] or 0 for r in rows], dtype=np.int64)
        self.types = np.array([r[3] for r in rows], dtype=object)
        # Every role a chunk plays: its own type and any role its headings name ("问题及原因").
        roles = [{r[3], *cues(" ".join(json.loads(r[4])))} for r in rows]
        self.role_masks = {role: np.array([role in rs for rs in roles], dtype=bool) for role in set().union(*roles)}
        self.aliases = {
            src: json.loads(a) for src, a in self.db.execute("SELECT source, aliases FROM documents")
        }
        self._by_source: dict[str, list[dict]] = {}
        self._keyword_rows: np.ndarray | None = None

    @property
    def keyword_rows(self) -> np.ndarray:
        """Row of each keyword-index entry (``self.keyword.ids``) in ``self.ids``."""
        if self._keyword_rows is None:
            self._keyword_rows = np.searchsorted(self.ids, self.keyword.ids)
        return self._keyword_rows

    def chunks(self, ids: list[int]) -> list[dict]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        cols = ", ".join(f'"{c}"' for c in CHUNK_COLUMNS)
        rows = {r[0]: chunk_row(r) for r in self.db.execute(f"SELECT {cols} FROM chunks WHERE id IN ({marks})", ids)}
        return [rows[i] for i in ids if i in rows]

    def section_chunks(self, source: str, section_start: int) -> list[dict]:
        return [dict(c) for c in self._source_chunks(source) if c["section_start"] == section_start]

    def source_chunks(self, source: str) -> list[dict]:
        return [dict(c) for c in self._source_chunks(source)]

    def _source_chunks(self, source: str) -> list[dict]:
        """A source's chunks, decoded once per snapshot (which never changes); callers get copies."""
        cached = self._by_source.get(source)
        if cached is None:
            cols = ", ".join(f'"{c}"' for c in CHUNK_COLUMNS)
            rows = self.db.execute(f"SELECT {cols} FROM chunks WHERE source = ? ORDER BY ord", (source,))
            cached = [chunk_row(r) for r in rows]
            if len(self._by_source) >= 256:
                self._by_source.pop(next(iter(self._by_source)))
            self._by_source[source] = cached
        return cached

    def document(self, source: str) -> dict | None:
        row = self.db.execute(
            "SELECT source, title, year, unit, text, removed, page_starts, aliases FROM documents WHERE source = ?",
            (source,),
        ).fetchone()
        if not row:
            return None
        keys = ("source", "title", "year", "unit", "text", "removed", "page_starts", "aliases")
        doc = dict(zip(keys, row))
        for key in ("removed", "page_starts", "aliases"):
            doc[key] = json.loads(doc[key]) if doc[key] else None
        return doc

    def documents(self) -> list[dict]:
        rows = self.db.execute("SELECT source, title, year, aliases FROM documents ORDER BY source")
        return [{"source": s, "title": t, "year": y, "aliases": json.loads(a)} for s, t, y, a in rows]

    def close(self) -> None:
        self.db.close()


class Writer:
    """Builds the next generation from the live one; `commit` makes it live atomically."""

    KEEP_GENERATIONS = 2  # the live one and the one before, for readers still on it

    def __init__(self, index_dir: Path, manifest: Manifest, fresh: bool, lock_timeout: float = 0,
                 settings: Settings | None = None):
        self.index_dir = index_dir
        settings = settings or Settings()
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
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]')",
            (doc.source, doc.title, doc.year, doc.unit, doc.text, sha256,
             json.dumps([asdict(r) for r in doc.removed], ensure_ascii=False), json.dumps(doc.page_starts)),
        )
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i, c.source, c.order, c.title, json.dumps(c.heading_path, ensure_ascii=False), c.section_type,
                 c.text, c.start, c.end, c.item, c.year, c.page, c.section_start, c.section_end,
                 TOKEN_SEP.join(t))
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
