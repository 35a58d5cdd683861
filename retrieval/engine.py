"""The library facade the CLI and the web app share: index, search, context, status."""
from __future__ import annotations

import logging
import threading
import time

from .config import Settings
from .errors import YanduError
from .search import Filters, Result, Searcher
from .progress import Progress
from .store import IndexReport, Manifest, current_generation, is_stale, update_index

log = logging.getLogger(__name__)


class Yandu:
    """The library facade the CLI and the web app share: index, search, context, status."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._encoder = None
        self._searcher: Searcher | None = None
        self._load = threading.Lock()
        self.update_error: str | None = None  # why the last ensure_index could not update (index still served)

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

    def index(self, rebuild: bool = False, progress: Progress | None = None, lock_timeout: float = 0,
              allow_empty: bool = False) -> IndexReport:
        """Bring the index in line with the corpus (see ``store.indexer``); raises ``YanduError``s."""
        return update_index(self.settings, self.encoder, rebuild=rebuild, progress=progress,
                            lock_timeout=lock_timeout, allow_empty=allow_empty)

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Update a missing or stale index. When the update fails (another writer, a missing corpus,
        a full disk) but an index exists, answer from it: the failure is kept in ``update_error``
        (one line, also in ``status()``) and logged. Without any index the failure is raised."""
        self.update_error = None
        try:
            if not is_stale(self.settings, self.encoder.model_id):
                return None
            return self.index(progress=progress)
        except YanduError as e:
            if current_generation(self.settings.index_dir) is None:
                raise
            self.update_error = str(e)
            log.warning("index not updated: %s; answering from the current index (of %s)", e, self._updated())
            return None

    def _updated(self) -> str:
        live = current_generation(self.settings.index_dir)
        stamp = Manifest.read(live / "manifest.json").updated if live else 0
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "?"

    def search(self, question: str, top_k: int | None = None, reports=(), years=(), section_types=()) -> Result:
        filters = Filters(list(reports or []), [int(y) for y in years or []], list(section_types or []))
        return self.searcher.search(question, top_k, filters)

    def status(self) -> dict:
        snap = self.searcher.snapshot() if current_generation(self.settings.index_dir) else None
        if snap is None:
            return {"reports": 0, "chunks": 0, "model": self.settings.model, "updated": None, "errors": {},
                    "update_error": self.update_error}
        m = snap.manifest
        return {
            "update_error": self.update_error,
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

