"""A read-only view of one index generation: what every question is answered from.

Rows are the live chunks of the generation's segments in id order; ``ids``, ``columns`` (every
generations.ROW_COLUMNS entry) and ``role_masks`` are aligned with them, and so are the score arrays
`dense_scores` and `keyword_scores` return. Segments are immutable, so a snapshot of the next
generation reuses the loaded segments of the one before and reads only what is new.
"""
from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np

from .generations import DOCUMENT_COLUMNS, Manifest
from .keyword import CorpusStats, bm25_idf
from .segment import Segment, identity


def top_with_ties(scores: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Those of `rows` (ascending) whose positive score is among the best `k`, every row tied with the
    k-th kept: a superset of what fusion.best_rows picks from them, in row order."""
    rows = rows[scores[rows] > 0]
    if len(rows) > k:
        kth = np.partition(scores[rows], len(rows) - k)[len(rows) - k]
        rows = rows[scores[rows] >= kth]
    return rows


class RowView:
    """What every store's snapshot derives from its per-row ``columns`` (generations.ROW_COLUMNS):
    the arrays filters and ranking read, role masks, the newest year and the units named."""

    ids: np.ndarray
    columns: dict[str, np.ndarray]

    def _derive(self) -> None:
        # Every role a chunk plays by its headings (its own type, roles they name: "问题及原因")…
        self.role_masks = self._role_masks("heading_roles")
        # …and the roles its own paragraphs state without a heading ("同时也要清醒看到…").
        self.paragraph_masks = self._role_masks("paragraph_roles")
        known = sorted({int(y) for y in self._distinct("year") if y})
        self.newest_year = known[-1] if known else None  # anchors 今年 / 去年 in questions
        self.unit_names = tuple(sorted({u for u in self._distinct("unit") if u}))

    def _distinct(self, column: str) -> set:
        values = self.columns.get(column)
        return set(np.unique(values).tolist()) if values is not None and len(values) else set()

    def _where(self, column: str, keep) -> np.ndarray:
        """Rows whose `column` value passes `keep(value)`."""
        values = self.columns[column]
        return np.isin(values, [v for v in self._distinct(column) if keep(v)])

    def rows_of(self, reports: frozenset[str]) -> np.ndarray:
        """The rows of those reports (a mask), once per view and set of reports. A set lookup per row:
        np.isin on these object arrays compares every pair (1.6 s at 100k rows)."""
        cache = self.__dict__.setdefault("_rows_of", {})
        if reports not in cache:
            sources = self.columns.get("source", np.zeros(0, dtype=object))
            cache[reports] = np.fromiter((s in reports for s in sources), dtype=bool, count=len(sources))
        return cache[reports]

    def _role_masks(self, column: str) -> dict[str, np.ndarray]:
        """Role -> rows whose '|'-joined `column` names it."""
        roles = {r for v in self._distinct(column) for r in v.split("|") if r}
        return {role: self._where(column, lambda v, r=role: r in v.split("|")) for role in roles}

    def plays(self, role: str, paragraphs: bool = True) -> np.ndarray:
        """Rows that play a role: by their headings, and (``paragraphs``) by their own paragraphs."""
        mask = self.role_masks.get(role, np.zeros(len(self.ids), dtype=bool))
        return mask | self.paragraph_masks[role] if paragraphs and role in self.paragraph_masks else mask

    def newest_years(self, units: list[str]) -> dict[str, int]:
        """Each of `units` that has rows → the year of its newest report, over every row of the view."""
        out = {}
        for u in units:
            own = self.units == u
            if own.any():
                out[u] = int(self.years[own].max())
        return out

    def data_years(self) -> list[int]:
        """Every year some passage is about (its section's span: ``year_from``–``year_to``), once per view."""
        if getattr(self, "_data_years", None) is None:
            spans = np.unique(np.stack([self.years_from, self.years_to], axis=1), axis=0) if len(self.ids) else []
            self._data_years = sorted({y for a, b in spans if 0 < a <= b for y in range(int(a), int(b) + 1)})
        return self._data_years

    def subset(self, rows: np.ndarray) -> "Rows":
        """The same view over `rows` only (the searcher's candidates): arrays of len(rows)."""
        return Rows(self, rows)

    def dense_top(self, vector: np.ndarray, k: int, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows ascending, scores) where `dense_scores` is not 0: its best `k` among `valid` rows."""
        scores = self.dense_scores(vector, k, valid)
        rows = np.flatnonzero(scores)
        return rows, scores[rows]

    def keyword_top(self, tokens: list[str], k: int, valid: np.ndarray | None = None,
                    also: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows ascending, keyword scores): the best `k` among `valid` rows (ties with the k-th kept)
        and the rows `also` asked for. A store may compute no other row's score."""
        scores = self.keyword_scores(tokens, k, valid)
        rows = np.arange(len(scores)) if valid is None else np.flatnonzero(valid)
        rows = top_with_ties(scores, rows, k)
        if also is not None:
            rows = np.union1d(rows, also)
        return rows, scores[rows]

    # the columns filters and ranking read, by their familiar names
    @property
    def sources(self) -> np.ndarray:
        return self.columns.get("source", np.zeros(0, dtype=object))

    @property
    def years(self) -> np.ndarray:
        return self.columns.get("year", np.zeros(0, dtype=np.int64))

    @property
    def types(self) -> np.ndarray:
        return self.columns.get("section_type", np.zeros(0, dtype=object))

    @property
    def units(self) -> np.ndarray:
        return self.columns.get("unit", np.zeros(0, dtype=object))

    @property
    def years_from(self) -> np.ndarray:
        return self.columns.get("year_from", np.zeros(0, dtype=np.int64))

    @property
    def years_to(self) -> np.ndarray:
        return self.columns.get("year_to", np.zeros(0, dtype=np.int64))


class Rows(RowView):
    """A view's rows `rows` only: ids, columns and role masks cut to them (nothing else is read)."""

    def __init__(self, view: RowView, rows: np.ndarray):
        self.rows = rows
        self.ids = view.ids[rows]
        self.columns = {name: values[rows] for name, values in view.columns.items()}
        self.role_masks = {role: mask[rows] for role, mask in view.role_masks.items()}
        self.paragraph_masks = {role: mask[rows] for role, mask in view.paragraph_masks.items()}
        self.newest_year, self.unit_names = view.newest_year, view.unit_names
        self.aliases = getattr(view, "aliases", {})
        self._whole = view

    def newest_years(self, units: list[str]) -> dict[str, int]:
        return self._whole.newest_years(units)  # of the whole index, not of these rows


def _reused(segment: "Segment | None", folder: Path) -> "Segment | None":
    """A loaded segment, if it is still the one at ``folder`` (an index deleted and rebuilt numbers
    its segments afresh: the same name is then another segment)."""
    try:
        return segment if segment is not None and identity(folder) == segment.identity else None
    except OSError:
        return None


class Snapshot(RowView):
    """A read-only view of one generation: vectors, keyword statistics, metadata for filters."""

    def __init__(self, folder: Path, nprobe: int | None = None, previous: "Snapshot | None" = None):
        """``nprobe``: IVF lists searched per question on a large segment (``Settings.ann_nprobe``);
        None searches every list (exact; for tools and checks). ``previous``: a snapshot whose
        loaded segments may be reused."""
        # Questions come one at a time: FAISS's OpenMP threads only add wake-up latency (measured on a
        # busy 2-core box: 3 000 vectors 0.2 → 24 ms, 100 000 vectors 54 → 140 ms with 2 threads).
        faiss.omp_set_num_threads(1)
        self.folder = folder
        self.manifest = Manifest.read(folder / "manifest.json")
        reuse = {s.name: s for s in previous.segments} if previous is not None and previous.nprobe == nprobe else {}
        self.nprobe = nprobe
        segments_dir = folder.parent / "segments"
        self.segments = [_reused(reuse.get(e["name"]), segments_dir / e["name"]) or Segment(segments_dir / e["name"], nprobe)
                         for e in self.manifest.segments]
        self.deleted = [list(e["deleted"]) for e in self.manifest.segments]
        self.live = [seg.live_mask(d) for seg, d in zip(self.segments, self.deleted)]
        self.live_rows = [np.flatnonzero(live) for live in self.live]
        self.offsets = np.cumsum([0] + [len(r) for r in self.live_rows])
        self.ids = self._concat(lambda seg, rows: seg.ids[rows], np.int64)
        self.columns = {name: self._concat(lambda seg, rows, n=name: seg.column(n, rows))
                        for name in (self.segments[0].columns if self.segments else ())}
        self._derive()
        self.keyword = CorpusStats(list(zip((seg.postings for seg in self.segments), self.live)))
        self.aliases = dict(self.manifest.aliases)
        self._home: dict[str, int] = {}  # report -> the segment holding its live rows
        for i, (seg, deleted) in enumerate(zip(self.segments, self.deleted)):
            self._home.update({s: i for s in seg.sources if s not in deleted})
        self._by_source: dict[str, list[dict]] = {}
        self._newest: dict[str, int] = {}  # unit -> its newest report year (-1: no rows)

    # per segment, by the codes of its text columns: no sorting of a million strings at start
    def _distinct(self, column: str) -> set:
        out = set()
        for seg, rows in zip(self.segments, self.live_rows):
            values, codes = seg.columns[column]
            used = np.unique(codes[rows]).tolist()
            out.update(used if values is None else (values[i] for i in used))
        return out

    def _where(self, column: str, keep) -> np.ndarray:
        return self._concat(lambda seg, rows: seg.column_mask(column, rows, keep), bool)

    def newest_years(self, units: list[str]) -> dict[str, int]:
        """RowView.newest_years by each segment's unit codes, once per unit per snapshot."""
        for u in units:
            if u not in self._newest:
                years = [int(seg.column("year", rows[seg.column_mask("unit", rows, lambda v: v == u)]).max(initial=-1))
                         for seg, rows in zip(self.segments, self.live_rows)]
                self._newest[u] = max(years, default=-1)
        return {u: self._newest[u] for u in units if self._newest[u] >= 0}

    def _concat(self, part, dtype=object) -> np.ndarray:
        parts = [part(seg, rows) for seg, rows in zip(self.segments, self.live_rows)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def keyword_scores(self, query_tokens: list[str], k: int | None = None, valid: np.ndarray | None = None) -> np.ndarray:
        """Exact BM25 of every row (corpus-wide statistics; keyword.CorpusStats). `k`, `valid`: unused
        here (every row is scored), part of the store interface."""
        return np.concatenate([s[rows] for s, rows in zip(self.keyword.scores(query_tokens), self.live_rows)]) \
            if self.segments else np.zeros(0, np.float32)

    def keyword_top(self, tokens: list[str], k: int, valid: np.ndarray | None = None,
                    also: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """RowView.keyword_top from each segment's scores (keyword.CorpusStats.scores with `k`: exact
        BM25 wherever it can matter), and no array of a score per row of the whole index. The best
        `k` of the index are among the best `k` (with ties) of their segments."""
        valid_parts = None
        if valid is not None:
            valid_parts = []
            for i, (seg, rows) in enumerate(zip(self.segments, self.live_rows)):
                mask = np.zeros(len(seg), dtype=bool)
                mask[rows] = valid[self.offsets[i]:self.offsets[i + 1]]
                valid_parts.append(mask)
        also = np.zeros(0, np.int64) if also is None else np.asarray(also, dtype=np.int64)
        bounds = np.searchsorted(also, self.offsets)
        also_parts = [rows[also[bounds[i]:bounds[i + 1]] - self.offsets[i]] for i, rows in enumerate(self.live_rows)]
        per_segment, eligible = self.keyword.best(tokens, k, valid_parts, also_parts)
        best = []
        for i, (scores, local) in enumerate(zip(per_segment, eligible)):
            local = top_with_ties(scores, local, k)
            best.append((self._global(i, local), scores[local]))
        rows = np.concatenate([r for r, _ in best]) if best else np.zeros(0, np.int64)
        scores = np.concatenate([s for _, s in best]) if best else np.zeros(0, np.float32)
        rows = np.union1d(rows[top_with_ties(scores, np.arange(len(rows)), k)], also)
        return rows, self._gather(per_segment, rows)

    def _global(self, i: int, local: np.ndarray) -> np.ndarray:
        """Rows of the snapshot for live rows `local` (ascending) of segment i."""
        live = self.live_rows[i]
        return self.offsets[i] + (local if len(live) == len(self.segments[i]) else np.searchsorted(live, local))

    def _gather(self, per_segment: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
        """Values at snapshot `rows` (ascending) of arrays held per segment (by segment row)."""
        out = np.zeros(len(rows), np.float32)
        bounds = np.searchsorted(rows, self.offsets)
        for i, values in enumerate(per_segment):
            lo, hi = bounds[i], bounds[i + 1]
            if hi > lo:
                out[lo:hi] = values[self.live_rows[i][rows[lo:hi] - self.offsets[i]]]
        return out

    def keyword_idf(self, tokens: list[str], among: frozenset[str] | None = None) -> dict[str, float]:
        """BM25 inverse document frequency (live rows) of each token the index knows: corpus-wide, or
        counted over the rows of the reports ``among`` only (a token none of them holds weighs most)."""
        if among is None:
            return self.keyword.idf(tokens)
        rows = self.rows_of(among)
        n, out = int(rows.sum()), {}
        for t in dict.fromkeys(tokens):
            hits, df = self.keyword.hits(t)
            if df:
                out[t] = float(bm25_idf(n, sum(int(rows[self._global(i, r)].sum()) for i, (r, _) in enumerate(hits))))
        return out

    def dense_top(self, vector: np.ndarray, k: int, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows ascending, inner products) of the best `k` rows among `valid` ones (all rows when None).
        Large segments search their IVF copy (``nprobe`` lists; every list when filtered); small ones
        are scanned exactly."""
        vector = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
        found_scores, found_rows = [], []
        for i, (seg, live, rows) in enumerate(zip(self.segments, self.live, self.live_rows)):
            allowed = live.copy()
            if valid is not None:
                allowed[rows] = valid[self.offsets[i]:self.offsets[i + 1]]
            scores, local = seg.search(vector, k, allowed, hidden=len(seg) - len(rows))
            found_scores.append(scores)
            found_rows.append(self.offsets[i] + np.searchsorted(rows, local))
        if not found_scores:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, rows = np.concatenate(found_scores), np.concatenate(found_rows)
        best = np.argsort(-scores, kind="stable")[:k]
        rows, scores = rows[best], scores[best].astype(np.float32)
        order = np.argsort(rows)
        keep = scores[order] != 0  # a score of 0 is no hit (as in dense_scores)
        return rows[order][keep], scores[order][keep]

    def dense_scores(self, vector: np.ndarray, k: int, valid: np.ndarray | None = None) -> np.ndarray:
        """Inner product of the question vector with the best `k` rows among `valid` ones, 0 elsewhere."""
        out = np.zeros(len(self.ids), dtype=np.float32)
        rows, scores = self.dense_top(vector, k, valid)
        out[rows] = scores
        return out

    def vector(self, chunk_id: int) -> np.ndarray:
        """The stored vector of a live chunk (checks and tools)."""
        i = self._segment_of(chunk_id)
        seg = self.segments[i]
        return np.asarray(seg.vectors[np.searchsorted(seg.ids, chunk_id)])

    def _segment_of(self, chunk_id: int) -> int:
        row = int(np.searchsorted(self.ids, chunk_id))
        if row >= len(self.ids) or self.ids[row] != chunk_id:
            raise KeyError(chunk_id)
        return int(np.searchsorted(self.offsets, row, side="right")) - 1

    def chunks(self, ids: list[int]) -> list[dict]:
        if not ids:
            return []
        wanted = np.asarray(ids, dtype=np.int64)
        rows = np.searchsorted(self.ids, wanted).clip(0, max(len(self.ids) - 1, 0))
        present = self.ids[rows] == wanted if len(self.ids) else np.zeros(len(wanted), dtype=bool)
        homes = np.searchsorted(self.offsets, rows, side="right") - 1
        found: dict[int, dict] = {}
        for i in set(homes[present].tolist()):
            found.update(self.segments[i].rows([int(x) for x in wanted[present & (homes == i)]]))
        return [found[i] for i in ids if i in found]

    def section_chunks(self, source: str, section_start: int) -> list[dict]:
        return [dict(c) for c in self._source_chunks(source) if c["section_start"] == section_start]

    def source_chunks(self, source: str) -> list[dict]:
        return [dict(c) for c in self._source_chunks(source)]

    def _source_chunks(self, source: str) -> list[dict]:
        """A report's chunks, decoded once per snapshot (which never changes); callers get copies."""
        cached = self._by_source.get(source)
        if cached is None:
            home = self._home.get(source)
            cached = self.segments[home].source_rows(source) if home is not None else []
            if len(self._by_source) >= 256:
                self._by_source.pop(next(iter(list(self._by_source))), None)  # safe beside other readers
            self._by_source[source] = cached
        return cached

    def document(self, source: str) -> dict | None:
        home = self._home.get(source)
        row = self.segments[home].document(source) if home is not None else None
        if not row:
            return None
        doc = dict(zip(DOCUMENT_COLUMNS, row))
        del doc["sha256"]
        for key in ("removed", "page_starts"):
            doc[key] = json.loads(doc[key]) if doc[key] else None
        doc["aliases"] = self.aliases.get(source, [])
        return doc

    def documents(self) -> list[dict]:
        out = []
        for source in sorted(self._home):
            values = dict(zip(DOCUMENT_COLUMNS, self.segments[self._home[source]].document(source)))
            out.append({**{k: values[k] for k in ("source", "title", "year", "unit", "kind")},
                        "aliases": self.aliases.get(source, [])})
        return out

    def close(self) -> None:
        """Close the segments this snapshot opened (not ones a later snapshot may share: callers close
        the last snapshot only)."""
        for seg in self.segments:
            seg.close()
