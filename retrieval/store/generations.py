"""The index on disk: immutable segments, and generations that list them.

Layout of ``index_dir``::

    CURRENT                 names the live generation folder
    gen-NNNNNN/manifest.json  the Manifest: files, errors, next id
    gen-NNNNNN/segments.json  the segments that make the index, each with the reports deleted from it
                            since it was written, and aliases (apart: a writer reads only this)
    segments/seg-NNNNNN/    one immutable segment (``segment.py``): chunk and document rows
                            (SQLite), vectors, per-row columns, BM25 postings, and from
                            ``Settings.ann_threshold`` rows an IVF copy of its vectors

A writer writes new segments beside the live ones, then a new generation folder, and flips CURRENT
with an atomic rename: readers never see a half-written index, and a killed writer leaves the live
one as it was (its orphan segments are swept by the next writer). One writer at a time.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import IndexBusy
from ..ingest.roles import cues

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
DOCUMENT_COLUMNS = ("source", "title", "year", "unit", "text", "sha256", "removed", "page_starts", "aliases", "kind")


def heading_roles(row: dict) -> str:
    """Every role a chunk plays by its headings, '|'-joined: its own type (inherited from, or split off,
    the headings above it: ingest.roles) and any role its own heading names ("问题及原因"). A heading
    above it adds nothing more: the plan items under "存在的问题及下一步打算" are no problems. Of a
    heading that names several roles, a chunk whose own paragraphs state some of them plays only
    those: the lead under that heading that says "仍然存在一定的差距：…" is no plan."""
    own = row["heading_path"][-1] if row["heading_path"] else ""
    named = set(cues(own))
    stated = named & set((row.get("roles") or "").split())
    return "|".join(sorted({row["section_type"], *(stated if len(named) > 1 and stated else named)}))


# Per-row columns every snapshot holds in memory (filters, ranking boosts), computed from a chunk row
# (CHUNK_COLUMNS, heading_path decoded) once, when its segment is written. A new filter or boost adds
# a line here; stores read and write whatever is listed. Values are str or int (0 for none).
ROW_COLUMNS = {
    "source": lambda r: r["source"],
    "year": lambda r: int(r["year"] or 0),  # the report's year
    "section_type": lambda r: r["section_type"],
    "heading_roles": heading_roles,
    "paragraph_roles": lambda r: "|".join((r["roles"] or "").split()),  # roles its own paragraphs state
    "unit": lambda r: r["unit"] or "",  # the report's unit
    "year_from": lambda r: int(r["year_from"] or 0),  # the years the chunk's section is about (0: unknown)
    "year_to": lambda r: int(r["year_to"] or 0),
}

# Chunk tokens are stored joined by this separator (jieba never puts a control character in a token):
# splitting is ~15× faster than JSON-decoding; merges re-read the tokens of the segments they join.
TOKEN_SEP = "\x1f"

# Bumped when the on-disk layout changes: part of the index's parser version, so an index written
# by an older layout is rebuilt (from the embedding cache) instead of misread.
LAYOUT = "segments-1"


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
    # local store: the live segments, oldest first (ids ascending): name, rows, deleted (reports removed
    # since written); Milvus store: one entry for the chunks collection (milvus.py: doc_gens, pending)
    segments: list[dict] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # source -> other names of the same content

    def take_ids(self, n: int) -> list[int]:
        """The next n chunk ids; ids are never reused, so a vector id always names one passage."""
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        return ids

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        """``…/manifest.json``, with ``segments.json`` beside it when there is one."""
        data = json.loads(path.read_text(encoding="utf-8"))
        data.update(read_segments(path.parent))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> "Manifest":
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["files"] = {name: _expand_ids(e) for name, e in data.get("files", {}).items()}
        return cls(**data)

    def to_dict(self) -> dict:
        """The fields as stored: each file's chunk ids as runs of consecutive ids (a report's ids are one
        run), so a million-chunk manifest is kilobytes, not megabytes, to write at every commit."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["files"] = {name: _compress_ids(e) for name, e in self.files.items()}
        return out


def _compress_ids(entry: dict) -> dict:
    ids = entry.get("chunk_ids")
    if not ids:
        return entry
    if ids[-1] - ids[0] + 1 == len(ids):  # unique ascending ids (as add_document gives them): one run
        return {**{k: v for k, v in entry.items() if k != "chunk_ids"}, "chunk_runs": [[ids[0], ids[-1] + 1]]}
    runs, start = [], ids[0]
    for prev, cur in zip(ids, ids[1:]):
        if cur != prev + 1:
            runs.append([start, prev + 1])
            start = cur
    runs.append([start, ids[-1] + 1])
    out = {k: v for k, v in entry.items() if k != "chunk_ids"}
    out["chunk_runs"] = runs
    return out


def _expand_ids(entry: dict) -> dict:
    if "chunk_runs" not in entry:
        return entry
    out = {k: v for k, v in entry.items() if k != "chunk_runs"}
    ids: list[int] = []
    for a, b in entry["chunk_runs"]:
        ids.extend(range(a, b))
    out["chunk_ids"] = ids
    return out


SPLIT_FIELDS = ("segments", "aliases")  # stored in segments.json


def read_segments(generation: Path) -> dict:
    """The segments and aliases of a generation folder ({} when it has none)."""
    try:
        return json.loads((generation / "segments.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


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


__all__ = ["CHUNK_COLUMNS", "DOCUMENT_COLUMNS", "IndexBusy", "LAYOUT", "Manifest", "ROW_COLUMNS", "SCHEMA",
           "TOKEN_SEP", "current_generation", "split_tokens"]
