"""A read-only view of one index generation: what every question is answered from."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import faiss
import numpy as np

from ..ingest.roles import cues
from .ann import ANN_FILE, ApproximateIndex
from .generations import CHUNK_COLUMNS, Manifest
from .keyword import KeywordIndex


def chunk_row(row: sqlite3.Row) -> dict:
    out = dict(zip(CHUNK_COLUMNS, row))
    out["heading_path"] = json.loads(out["heading_path"])
    out["section"] = " › ".join(out["heading_path"])
    return out


class Snapshot:
    """A read-only view of one generation: vectors, keyword index, metadata for filters."""

    def __init__(self, folder: Path, nprobe: int | None = None):
        """``nprobe``: IVF lists searched per question on a large index (``Settings.ann_nprobe``);
        None searches every list (exact; for tools and checks)."""
        # Questions come one at a time: FAISS's OpenMP threads only add wake-up latency (measured on a
        # busy 2-core box: 3 000 vectors 0.2 → 24 ms, 100 000 vectors 54 → 140 ms with 2 threads).
        faiss.omp_set_num_threads(1)
        self.folder = folder
        self.manifest = Manifest.read(folder / "manifest.json")
        if (folder / ANN_FILE).exists():  # large index: search the approximate copy, never load the flat one
            self.vectors = ApproximateIndex(faiss.read_index(str(folder / ANN_FILE)),
                                            nprobe)
        else:
            self.vectors = faiss.read_index(str(folder / "vectors.faiss"))
        self.keyword = KeywordIndex.load(folder / "keyword")
        self.db = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        rows = self.db.execute("SELECT id, source, year, section_type, heading_path, unit, year_from, year_to, roles"
                               " FROM chunks ORDER BY id").fetchall()
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.sources = np.array([r[1] for r in rows], dtype=object)
        self.years = np.array([r[2] or 0 for r in rows], dtype=np.int64)  # the report's year
        self.types = np.array([r[3] for r in rows], dtype=object)
        self.units = np.array([r[5] or "" for r in rows], dtype=object)  # the report's unit
        # The years each chunk's section is about (0 when unknown).
        self.years_from = np.array([r[6] or 0 for r in rows], dtype=np.int64)
        self.years_to = np.array([r[7] or 0 for r in rows], dtype=np.int64)
        # Every role a chunk plays by its headings: its own type and any role they name ("问题及原因")…
        roles = [{r[3], *cues(" ".join(json.loads(r[4])))} for r in rows]
        self.role_masks = {role: np.array([role in rs for rs in roles], dtype=bool) for role in set().union(*roles)}
        # …and the roles its own paragraphs state without a heading ("同时也要清醒看到…").
        stated = [set((r[8] or "").split()) for r in rows]
        self.paragraph_masks = {role: np.array([role in rs for rs in stated], dtype=bool)
                                for role in set().union(set(), *stated)}
        self.aliases = {
            src: json.loads(a) for src, a in self.db.execute("SELECT source, aliases FROM documents")
        }
        known = sorted({int(y) for y in self.years if y})
        self.newest_year = known[-1] if known else None  # anchors 今年 / 去年 in questions
        self.unit_names = tuple(sorted({u for u in self.units if u}))
        self._by_source: dict[str, list[dict]] = {}
        self._keyword_rows: np.ndarray | None = None

    def plays(self, role: str, paragraphs: bool = True) -> np.ndarray:
        """Rows that play a role: by their headings, and (``paragraphs``) by their own paragraphs."""
        mask = self.role_masks.get(role, np.zeros(len(self.ids), dtype=bool))
        return mask | self.paragraph_masks[role] if paragraphs and role in self.paragraph_masks else mask

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
                self._by_source.pop(next(iter(list(self._by_source))), None)  # safe beside other readers
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


