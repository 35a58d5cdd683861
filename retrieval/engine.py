"""The library facade the CLI and the web app share: index, search, context, status."""
from __future__ import annotations

import logging
import threading

from .config import Settings
from .errors import IndexBusy
from .search import Filters, Result, Searcher
from .progress import Progress
from .store import IndexReport, is_stale, update_index

log = logging.getLogger(__name__)


class Yandu:
    """The library facade the CLI and the web app share: index, search, context, status."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._encoder = None
        self._searcher: Searcher | None = None
        self._load = threading.Lock()

    @property
    def encoder(self):
        with self._load:
            if self._encoder is None:
                from .encode import load_encoder

                self._encoder = load_encoder(self.settings)
            return self._encoder

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self.settings, self.encoder)
        return self._searcher

    def index(self, rebuild: bool = False, progress: Progress | None = None, lock_timeout: float = 0) -> IndexReport:
        self.settings.corpus_dir.mkdir(parents=True, exist_ok=True)
        return update_index(self.settings, self.encoder, rebuild=rebuild, progress=progress, lock_timeout=lock_timeout)

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Update a missing or stale index; if another process is writing it, use what is live."""
        if not is_stale(self.settings, self.encoder.model_id):
            return None
        try:
            return self.index(progress=progress)
        except IndexBusy as e:
            if self.searcher.store.manifest() is None:
                raise
            log.warning("%s; answering from the current index", e)
            return None

    def search(self, question: str, top_k: int | None = None, reports=(), years=(), section_types=()) -> Result:
        filters = Filters(list(reports or []), [int(y) for y in years or []], list(section_types or []))
        return self.searcher.search(question, top_k, filters)

    def status(self) -> dict:
        snap = self.searcher.snapshot()
        if snap is None:
            return {"reports": 0, "chunks": 0, "model": self.settings.model, "updated": None, "errors": {}}
        m = snap.manifest
        return {
            "reports": len(snap.documents()),
            "chunks": len(snap.ids),
            "model": m.model_id,
            "updated": m.updated,
            "errors": m.errors,
            "documents": snap.documents(),
            "years": sorted({int(y) for y in snap.years if y}),
        }

    def context(self, source: str, start: int, end: int) -> dict | None:
        """The section around a passage, from the indexed document only (never the file system)."""
        snap = self.searcher.snapshot()
        doc = snap.document(source) if snap else None
        if doc is None:
            return None
        text = doc["text"]
        start, end = max(0, min(int(start), len(text))), max(0, min(int(end), len(text)))
        # The enclosing top-level section: every chunk that shares the passage's first heading.
        spans = [(c["start"], c["end"], c["heading_path"][:1]) for c in snap.source_chunks(source)]
        top = next((h for s, e, h in spans if s <= start < e), None)
        inside = [(s, e) for s, e, h in spans if h == top] or [(start, end)]
        lo, hi = min(min(s for s, _ in inside), start), max(max(e for _, e in inside), end)
        return {"source": source, "title": doc["title"], "section": " › ".join(top or []),
                "before": text[lo:start], "passage": text[start:end], "after": text[end:hi]}

