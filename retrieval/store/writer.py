"""The one writer: new segments beside the live ones, then a new generation, flipped in atomically.

Why segments (Lucene) and not one SQLite file changed in place: a commit must make the chunk rows,
the vectors and the BM25 statistics change together, while readers keep answering from the last
commit and a kill -9 at any point leaves that commit whole. SQLite's in-place atomic commit gives
this for rows only; FAISS and the BM25 matrix live outside it, so the old design copied all three
into each new generation — measured on this machine (python -m bench): 0.85 s per added report at
65 chunks, 21 s at 104 000 (13 s of it rebuilding BM25) and 2× the index's disk per commit. With
immutable segments a commit writes only the new rows (one small segment), the list of reports
deleted from older segments and a manifest, so it costs what changed — measured: adding a
seed-sized report 0.43 s at 104 000 chunks and 0.8–0.9 s at 1 000 000, deleting one 0.2 / 0.7–0.85 s,
disk during a commit 1.001 × the index (docs/BENCHMARKS.md). BM25 stays exact because a question's
statistics are summed over the live rows of all segments (keyword.py). Merges keep the
segment count low (`MERGE_FACTOR` consecutive segments of one size tier become one, capped at
`MAX_SEGMENT_ROWS` so a merge never needs more than that much extra disk), and a segment with more
deleted than live rows is rewritten.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ..config import Settings
from ..ingest.document import Chunk, Document
from .generations import (SPLIT_FIELDS, IndexBusy, Manifest, _fsync_dir, _fsync_write, current_generation,
                          read_segments)
from .segment import Segment, SegmentBuilder


def chunk_values(chunk_id: int, c: Chunk) -> dict:
    """The stored row of a chunk (generations.CHUNK_COLUMNS)."""
    return {"id": chunk_id, "source": c.source, "ord": c.order, "title": c.title, "heading_path": list(c.heading_path),
            "section_type": c.section_type, "text": c.text, "start": c.start, "end": c.end, "item": c.item,
            "year": c.year, "page": c.page, "section_start": c.section_start, "section_end": c.section_end,
            "unit": c.unit, "kind": c.kind, "year_from": c.year_from, "year_to": c.year_to, "roles": " ".join(c.roles)}


def document_values(doc: Document, sha256: str) -> tuple:
    """The stored row of a document (generations.DOCUMENT_COLUMNS)."""
    return (doc.source, doc.title, doc.year, doc.unit, doc.text, sha256,
            json.dumps([asdict(r) for r in doc.removed], ensure_ascii=False), json.dumps(doc.page_starts), "[]", doc.kind)


class Writer:
    """Adds and removes reports; `commit` makes the result live atomically, `abort` drops it."""

    KEEP_GENERATIONS = 2  # the live one and the one before, for readers still on it
    MAX_SEGMENT_ROWS = 200_000  # a writer starts a new segment here; merges never grow one past it
    MERGE_FACTOR = 10  # this many consecutive segments of one size tier (powers of 10 rows) merge

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
        before = read_segments(live) if live else {}
        self.segments_dir = index_dir / "segments"
        self.segments_dir.mkdir(exist_ok=True)
        self.segments = [dict(s, deleted=list(s["deleted"])) for s in before.get("segments", [])]
        self.aliases = dict(before.get("aliases", {}))
        self._sources: dict[str, dict[str, int]] = {}  # segment name -> rows per report
        self.builder: SegmentBuilder | None = None
        self.created: list[Path] = []
        self.number = (int(live.name.split("-")[1]) + 1) if live else self._next_number("gen-", index_dir)
        self.manifest = manifest

    @staticmethod
    def _next_number(prefix: str, folder: Path) -> int:
        numbers = [int(p.name[len(prefix):]) for p in folder.glob(f"{prefix}*") if p.name[len(prefix):].isdigit()]
        return max(numbers, default=0) + 1

    def _sweep(self) -> None:
        """Remove generations left by killed writers and all but the newest live ones, and every
        segment no kept generation lists."""
        live = current_generation(self.index_dir)
        gens = sorted(p for p in self.index_dir.glob("gen-*") if p.is_dir())
        keep = [live] if live else []
        if live:
            keep += [g for g in gens if g.name < live.name][-(self.KEEP_GENERATIONS - 1):]
        for g in gens:
            if g not in keep:
                shutil.rmtree(g, ignore_errors=True)
        used = set()
        for g in keep:
            try:
                used.update(s["name"] for s in read_segments(g).get("segments", []))
            except (OSError, ValueError):
                continue
        for seg in (self.index_dir / "segments").glob("seg-*"):
            if seg.name not in used:
                shutil.rmtree(seg, ignore_errors=True)

    def _segment_sources(self, name: str) -> dict[str, int]:
        if name not in self._sources:
            self._sources[name] = json.loads((self.segments_dir / name / "sources.json").read_text(encoding="utf-8"))
        return self._sources[name]

    def remove_source(self, source: str) -> None:
        for seg in self.segments:
            if source in self._segment_sources(seg["name"]) and source not in seg["deleted"]:
                seg["deleted"].append(source)
        if self.builder is not None:
            self.builder.remove_source(source)
        self.aliases.pop(source, None)

    def set_aliases(self, source: str, aliases: list[str]) -> None:
        if aliases:
            self.aliases[source] = list(aliases)
        else:
            self.aliases.pop(source, None)

    def add_document(self, doc: Document, sha256: str, chunks: list[Chunk], vectors: np.ndarray,
                     tokens: list[list[str]]) -> list[int]:
        ids = self.manifest.take_ids(len(chunks))
        if self.builder is None:
            self.builder = self._new_builder()
        self.builder.add(document_values(doc, sha256), [chunk_values(i, c) for i, c in zip(ids, chunks)], tokens,
                         vectors)
        if len(self.builder) >= self.MAX_SEGMENT_ROWS:
            self._flush()
        return ids

    def _new_builder(self) -> SegmentBuilder:
        folder = self.segments_dir / f"seg-{self._next_number('seg-', self.segments_dir):06d}"
        self.created.append(folder)
        return SegmentBuilder(folder, self.manifest.dim)

    def _flush(self) -> None:
        if self.builder is not None and self.builder.sources:
            entry = self.builder.finish(self.ann_threshold, self.nprobe)
            self._sources[entry["name"]] = self.builder.sources
            self.segments.append(entry)
        elif self.builder is not None:
            self.builder.abort()
            shutil.rmtree(self.builder.folder, ignore_errors=True)
        self.builder = None

    def _live_rows(self, seg: dict) -> int:
        sources = self._segment_sources(seg["name"])
        return seg["rows"] - sum(sources.get(s, 0) for s in seg["deleted"])

    def _merge_run(self) -> tuple[int, int] | None:
        """The first run [i, j) of segments to merge, or None: a segment with more deleted than live
        rows alone, or MERGE_FACTOR consecutive segments of one tier whose live rows fit one segment."""
        live = [self._live_rows(s) for s in self.segments]
        for i, (seg, n) in enumerate(zip(self.segments, live)):
            if seg["deleted"] and n * 2 < seg["rows"]:
                return i, i + 1
        tiers = [int(math.log10(max(n, 1))) for n in live]
        for i in range(len(tiers) - self.MERGE_FACTOR + 1):
            run = range(i, i + self.MERGE_FACTOR)
            if len({tiers[j] for j in run}) == 1 and sum(live[j] for j in run) <= self.MAX_SEGMENT_ROWS:
                return i, i + self.MERGE_FACTOR
        return None

    def _merge(self) -> None:
        while (run := self._merge_run()) is not None:
            i, j = run
            olds = self.segments[i:j]
            merged: list[dict] = []
            if any(set(self._segment_sources(s["name"])) - set(s["deleted"]) for s in olds):  # a live report left
                builder = self._new_builder()
                for old in olds:
                    segment = Segment(self.segments_dir / old["name"])
                    try:
                        segment.copy_live(builder, old["deleted"])
                    finally:
                        segment.close()
                self._sources[builder.folder.name] = builder.sources
                merged = [builder.finish(self.ann_threshold, self.nprobe)]
            self.segments[i:j] = merged

    def commit(self) -> Path:
        """Write the new segment, merge where due, write the generation, fsync, and flip CURRENT."""
        self._flush()
        self._merge()
        self.manifest.segments = self.segments
        self.manifest.aliases = self.aliases
        self.manifest.updated = time.time()
        folder = self.index_dir / f"gen-{self.number:06d}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        data = self.manifest.to_dict()
        _fsync_write(folder / "segments.json", json.dumps({k: data.pop(k) for k in SPLIT_FIELDS}, ensure_ascii=False))
        _fsync_write(folder / "manifest.json", json.dumps(data, ensure_ascii=False))
        _fsync_dir(folder)
        tmp = self.index_dir / "CURRENT.tmp"
        _fsync_write(tmp, folder.name)
        os.replace(tmp, self.index_dir / "CURRENT")
        _fsync_dir(self.index_dir)
        self.created.clear()
        return folder

    def abort(self) -> None:
        if self.builder is not None:
            self.builder.abort()
        for folder in self.created:  # segments no generation lists
            shutil.rmtree(folder, ignore_errors=True)
        self.builder, self.created = None, []

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        self.release()
