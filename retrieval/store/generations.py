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
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, title TEXT, year INTEGER, unit TEXT, text TEXT,
    sha256 TEXT, removed TEXT, page_starts TEXT, aliases TEXT DEFAULT '[]', kind TEXT);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, source TEXT, ord INTEGER, title TEXT, heading_path TEXT,
    section_type TEXT, text TEXT, start INTEGER, "end" INTEGER, item TEXT, year INTEGER,
    page INTEGER, section_start INTEGER, section_end INTEGER, tokens TEXT,
    unit TEXT, kind TEXT, year_from INTEGER, year_to INTEGER, roles TEXT DEFAULT '');
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
"""
CHUNK_COLUMNS = ("id", "source", "ord", "title", "heading_path", "section_type", "text", "start", "end",
                 "item", "year", "page", "section_start", "section_end", "unit", "kind", "year_from", "year_to", "roles")

# Chunk tokens are stored joined by this separator (jieba never puts a control character in a token):
# splitting is ~15× faster than JSON-decoding, and every commit re-reads every chunk's tokens for BM25.
TOKEN_SEP = "\x1f"


def split_tokens(stored: str | None) -> list[str]:
    if not stored:
        return []
    if stored.startswith('["') or stored == "[]":  # written by an older version (JSON)
        return json.loads(stored)
    return stored.split(TOKEN_SEP)


@dataclass
class Manifest:
    model_id: str
    dim: int
    parser_version: str
    files: dict[str, dict] = field(default_factory=dict)  # name -> sha256, size, mtime_ns, chunk_ids, duplicate_of
    errors: dict[str, str] = field(default_factory=dict)  # name -> reason, from the last run
    failed: dict[str, str] = field(default_factory=dict)  # sha256 -> reason: content not tried again
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


