"""One immutable segment of the index: chunk and document rows, vectors, row columns, BM25 postings.

A segment is written once (by `SegmentBuilder`, fsynced before any generation names it) and never
changed: deleting a report marks it deleted in the generation's manifest, and merges write a new
segment from the live rows of old ones. Files in ``segments/seg-NNNNNN/``:

``chunks.sqlite``  documents and chunks (generations.SCHEMA), tokens kept for merges
``ids.npy``, ``vectors.npy``  chunk ids (ascending) and their vectors, row-aligned
``col-NAME.npy`` (+ ``col-NAME.json`` for text)  each of generations.ROW_COLUMNS, per row
``kw-*``  BM25 postings (keyword.Postings)
``sources.json``  rows per report in the segment
``vectors.ivf.faiss``  an IVF copy of the vectors (8-bit lists, ann.py), from ``Settings.ann_threshold`` rows
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import faiss
import numpy as np

from .ann import ANN_FILE, RERANK, ApproximateIndex, build_ivf
from .generations import CHUNK_COLUMNS, DOCUMENT_COLUMNS, ROW_COLUMNS, SCHEMA, TOKEN_SEP, _fsync_dir, split_tokens
from .keyword import Postings


STORED_COLUMNS = ", ".join(f'"{c}"' for c in (*CHUNK_COLUMNS, "tokens"))  # "end" is an SQL keyword


def chunk_row(row) -> dict:
    """A stored chunk row (CHUNK_COLUMNS order) as a dict, heading path decoded."""
    out = dict(zip(CHUNK_COLUMNS, row))
    out["heading_path"] = json.loads(out["heading_path"])
    out["section"] = " › ".join(out["heading_path"])
    return out


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


class SegmentBuilder:
    """The rows of a new segment: chunk rows go to its SQLite as they come, the rest is written by
    `finish`. Nothing names the folder until a generation lists it, so a killed writer leaves an
    orphan the next writer sweeps."""

    def __init__(self, folder: Path, dim: int):
        self.folder, self.dim = folder, dim
        folder.mkdir(parents=True)
        self.db = sqlite3.connect(folder / "chunks.sqlite")
        self.db.execute("PRAGMA journal_mode=OFF")  # durability comes from the fsync in `finish`
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.ids: list[int] = []
        self.vectors: list[np.ndarray] = []
        self.tokens: list[list[str]] = []
        self.columns: dict[str, list] = {name: [] for name in ROW_COLUMNS}
        self.sources: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, document: tuple, rows: list[dict], tokens: list[list[str]], vectors: np.ndarray) -> None:
        """One report: its documents row (DOCUMENT_COLUMNS order), chunk rows (CHUNK_COLUMNS keys,
        heading_path a list) with their tokens and vectors."""
        self.db.execute(f"INSERT OR REPLACE INTO documents ({', '.join(DOCUMENT_COLUMNS)}) "
                        f"VALUES ({','.join('?' * len(DOCUMENT_COLUMNS))})", document)
        self.db.executemany(
            f"INSERT INTO chunks ({STORED_COLUMNS}) VALUES ({','.join('?' * (len(CHUNK_COLUMNS) + 1))})",
            [(*(json.dumps(r[c], ensure_ascii=False) if c == "heading_path" else r[c] for c in CHUNK_COLUMNS),
              TOKEN_SEP.join(t)) for r, t in zip(rows, tokens)])
        self.sources[document[0]] = len(rows)
        if not rows:
            return
        self.ids += [r["id"] for r in rows]
        self.tokens += tokens
        self.vectors.append(np.asarray(vectors, dtype=np.float32).reshape(len(rows), self.dim))
        for name, value in ROW_COLUMNS.items():
            self.columns[name] += [value(r) for r in rows]

    def remove_source(self, source: str) -> None:
        """Take back a report added to this (unfinished) segment."""
        if source not in self.sources:
            return
        del self.sources[source]
        self.db.execute("DELETE FROM chunks WHERE source = ?", (source,))
        self.db.execute("DELETE FROM documents WHERE source = ?", (source,))
        keep = [i for i, s in enumerate(self.columns["source"]) if s != source]
        vectors = np.concatenate(self.vectors) if self.vectors else np.zeros((0, self.dim), np.float32)
        self.ids, self.tokens = [self.ids[i] for i in keep], [self.tokens[i] for i in keep]
        self.vectors = [vectors[keep]]
        self.columns = {name: [values[i] for i in keep] for name, values in self.columns.items()}

    def finish(self, ann_threshold: int, nprobe: int) -> dict:
        """Write vectors, columns, postings (and IVF from `ann_threshold` rows), fsync; the manifest entry."""
        self.db.commit()
        self.db.close()
        folder = self.folder
        order = np.argsort(np.asarray(self.ids, dtype=np.int64), kind="stable")  # ids ascending, always
        ids = np.asarray(self.ids, dtype=np.int64)[order]
        vectors = (np.concatenate(self.vectors) if self.vectors else np.zeros((0, self.dim), np.float32))[order]
        self.tokens = [self.tokens[i] for i in order]
        self.columns = {name: [values[i] for i in order] for name, values in self.columns.items()}
        np.save(folder / "ids.npy", ids)
        np.save(folder / "vectors.npy", vectors)
        for name, values in self.columns.items():
            if values and isinstance(values[0], str):
                names, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
                (folder / f"col-{name}.json").write_text(json.dumps(names.tolist(), ensure_ascii=False), encoding="utf-8")
                np.save(folder / f"col-{name}.npy", codes.astype(np.int32))
            else:
                np.save(folder / f"col-{name}.npy", np.asarray(values, dtype=np.int64))
        Postings.build(self.tokens).save(folder)
        (folder / "sources.json").write_text(json.dumps(self.sources, ensure_ascii=False), encoding="utf-8")
        if len(ids) >= max(1, ann_threshold):
            faiss.write_index(build_ivf(vectors, ids, nprobe), str(folder / ANN_FILE))
        _fsync_tree(folder)
        _fsync_dir(folder.parent)
        return {"name": folder.name, "rows": len(ids), "deleted": []}

    def abort(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass


def identity(path: Path) -> tuple[int, int]:
    """What tells a file or folder from another made later under the same name (inode numbers alone
    are reused)."""
    st = path.stat()
    return st.st_ino, st.st_ctime_ns


class Segment:
    """A written segment, read-only; shared by every snapshot that lists it."""

    def __init__(self, folder: Path, nprobe: int | None = None):
        self.folder, self.name = folder, folder.name
        self.identity = identity(folder)  # which folder this is (snapshot reuse checks it)
        self.ids = np.load(folder / "ids.npy")
        self.vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        self.sources: dict[str, int] = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        self.columns: dict[str, tuple[list | None, np.ndarray]] = {}  # name -> (text values or None, codes/ints)
        for name in ROW_COLUMNS:
            values = folder / f"col-{name}.json"
            codes = np.load(folder / f"col-{name}.npy")
            self.columns[name] = (json.loads(values.read_text(encoding="utf-8")) if values.exists() else None, codes)
        self.postings = Postings.load(folder)
        # read, not mapped: 8-bit lists are ~80 MB per 200 000 rows (0.05 s to read), and a question
        # scans them in 2.4 ms against 3.8 ms mapped (200k rows, nprobe 64, measured at 1M chunks)
        self.ann = (ApproximateIndex(faiss.read_index(str(folder / ANN_FILE), faiss.IO_FLAG_READ_ONLY), nprobe)
                    if (folder / ANN_FILE).exists() else None)
        self.db = sqlite3.connect(f"file:{folder / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)

    def __len__(self) -> int:
        return len(self.ids)

    def live_mask(self, deleted: list[str]) -> np.ndarray:
        """Rows whose report has not been deleted since the segment was written."""
        values, codes = self.columns["source"]
        deleted = set(deleted)
        gone = [i for i, s in enumerate(values or []) if s in deleted]
        return ~np.isin(codes, gone) if gone else np.ones(len(self.ids), dtype=bool)

    def column(self, name: str, rows: np.ndarray) -> np.ndarray:
        values, codes = self.columns[name]
        if values is None:
            return codes[rows]
        return np.asarray(values, dtype=object)[codes[rows]] if values else np.zeros(len(rows), dtype=object)

    def column_mask(self, name: str, rows: np.ndarray, keep) -> np.ndarray:
        """Rows whose text column value passes `keep(value)` (e.g. a role among the '|'-joined roles)."""
        values, codes = self.columns[name]
        wanted = [i for i, v in enumerate(values or []) if keep(v)]
        return np.isin(codes[rows], wanted)

    def search(self, vector: np.ndarray, k: int, allowed: np.ndarray, hidden: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) among `allowed` rows; `hidden` = rows not allowed only because deleted."""
        n_allowed = int(allowed.sum())
        k = min(k, n_allowed)
        if not k:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if self.ann is None:
            scores = self.vectors @ vector
            scores[~allowed] = -np.inf
            rows = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            return scores[rows], rows
        fetch = RERANK * k
        if n_allowed + hidden == len(self.ids):  # only deleted rows to skip: over-fetch, drop them
            _, ids = self.ann.search(vector[None, :], min(len(self.ids), fetch + hidden))
        else:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(self.ids[allowed]))
            _, ids = self.ann.search(vector[None, :], fetch, params=params)
        rows = np.searchsorted(self.ids, ids[0][ids[0] >= 0])
        rows = np.sort(rows[allowed[rows]])  # ascending: the mapped vectors are read in file order
        scores = self.vectors[rows] @ vector  # exact scores of the candidates (ann.RERANK)
        best = np.argsort(-scores, kind="stable")[:k]
        return scores[best], rows[best]

    def rows(self, ids: list[int]) -> dict[int, dict]:
        marks = ",".join("?" * len(ids))
        cols = ", ".join(f'"{c}"' for c in CHUNK_COLUMNS)
        return {r[0]: chunk_row(r) for r in self.db.execute(f"SELECT {cols} FROM chunks WHERE id IN ({marks})", ids)}

    def source_rows(self, source: str) -> list[dict]:
        cols = ", ".join(f'"{c}"' for c in CHUNK_COLUMNS)
        return [chunk_row(r) for r in self.db.execute(f"SELECT {cols} FROM chunks WHERE source = ? ORDER BY ord", (source,))]

    def document(self, source: str) -> tuple | None:
        return self.db.execute(f"SELECT {', '.join(DOCUMENT_COLUMNS)} FROM documents WHERE source = ?", (source,)).fetchone()

    def copy_live(self, builder: SegmentBuilder, deleted: list[str]) -> None:
        """Add this segment's live reports to a merge."""
        cols = ", ".join(f'"{c}"' for c in CHUNK_COLUMNS)
        for source in self.sources:
            if source in deleted:
                continue
            got = self.db.execute(f"SELECT {cols}, tokens FROM chunks WHERE source = ? ORDER BY id", (source,)).fetchall()
            rows = [chunk_row(r[:-1]) for r in got]
            vectors = self.vectors[np.searchsorted(self.ids, [r["id"] for r in rows])] if rows else np.zeros((0, builder.dim))
            builder.add(self.document(source), rows, [split_tokens(r[-1]) for r in got], vectors)

    def close(self) -> None:
        self.db.close()
