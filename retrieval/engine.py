"""The library facade the CLI and the web app share: index, search, context, status, the report library.

Nothing outside the corpus folder is ever read or served through it: report names are checked
against the corpus listing before any file is touched.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, astuple, dataclass, field, replace
from pathlib import Path

from .config import SECTION_TYPE_NAMES, Settings
from .encode import load_in_background
from .errors import ModelMismatch, YanduError
from .ingest import Upload, corpus_files, corpus_hashes, place_file, save_uploads
from .search import Filters, Result, Searcher, intent
from .passage import Passage
from .progress import Progress
from .store import IndexReport, Manifest, built_with, corpus_changed, rebuild_command, update_index
from .text import load_dictionaries, normalize_question
from .ingest.years import report_kind
from .labels import report_label, report_labels

TRASH = ".trash"  # inside the corpus; hidden, so never indexed; files there can be restored
TITLES = ".titles.json"  # in a trash folder: file name → the report's label when it was removed


class UnknownReport(YanduError):
    """A report name that is not a file of the corpus."""


@dataclass
class CompareRow:
    """One report in a comparison: its best passage for the question, or None (未找到)."""

    source: str
    title: str
    year: int | None
    passage: Passage | None

    def to_json(self) -> dict:
        return {"source": self.source, "title": self.title, "year": self.year,
                "passage": self.passage.to_json() if self.passage else None}


@dataclass
class ReportInfo:
    """One row of the report library: an indexed report, or a file that failed with its reason."""

    source: str
    title: str
    unit: str | None = None
    year: int | None = None
    kind: str = "其他"
    passages: int = 0
    sections: dict[str, int] = field(default_factory=dict)  # section role → sections of that role
    added: float | None = None  # when the file came into the corpus (its modification time)
    size: int = 0
    error: str | None = None
    duplicate_of: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

log = logging.getLogger(__name__)

ANSWERS_KEPT = 256  # searches' results kept per index generation (≤ 50 passages each: a few MB at most)


class _Answers:
    """The last searches' results of one snapshot (LRU): a question asked again with the same
    options is answered without ranking it again — 4.9 CPU-ms in-process, most of our share of a
    search (docs/BENCHMARKS.md, issue #24). A new snapshot (any index change) empties it. Thread-safe."""

    def __init__(self, size: int = ANSWERS_KEPT):
        self.size, self._snap, self._kept = size, None, OrderedDict()
        self._lock = threading.Lock()

    def get(self, snap, key) -> Result | None:
        with self._lock:
            hit = self._kept.get(key) if snap is self._snap else None
            if hit is not None:
                self._kept.move_to_end(key)
            return hit

    def put(self, snap, key, result: Result) -> None:
        with self._lock:
            if snap is not self._snap:
                self._snap, self._kept = snap, OrderedDict()
            self._kept[key] = result
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._snap, self._kept = None, OrderedDict()


class _OnFirstUse:
    """Stands for the encoder until something of it is needed; then loads it (once, under the facade's lock)."""

    def __init__(self, load):
        self._load = load

    def __getattr__(self, name: str):
        return getattr(self._load(), name)


class Yandu:
    """The library facade the CLI and the web app share: index, search, context, status."""

    def __init__(self, settings: Settings | None = None, encoder_from=None):
        """``encoder_from``: a callable giving the encoder to share (several knowledge bases, one model
        in memory: ``bases.Bases``); None loads this facade's own."""
        self.settings = settings or Settings()
        self._encoder = None
        self._encoder_from = encoder_from
        self._searcher: Searcher | None = None
        self._load = threading.Lock()
        self._make = threading.Lock()
        self.answers = _Answers()
        self.update_error: str | None = None  # why the last ensure_index could not update (index still served)

    @property
    def encoder(self):
        with self._load:
            if self._encoder is None and self._encoder_from is not None:
                self._encoder = self._encoder_from()
            if self._encoder is None:
                from .encode import load_encoder

                self._encoder = load_encoder(self.settings)
            return self._encoder

    @property
    def searcher(self) -> Searcher:
        """Safe for concurrent readers. The model loads on the first question, not here: the status
        and the page need only the index (so ``serve`` listens at once)."""
        with self._make:
            if self._searcher is None:
                self._searcher = Searcher(self.settings, _OnFirstUse(lambda: self.encoder))
            return self._searcher

    def warm_up(self) -> None:
        """What a new process's first question needs, side by side: the encoder loads in a thread
        (ONNX Runtime releases the GIL) while this one opens the index and jieba's dictionaries,
        so the first answer waits for the slower of them, not their sum. A failure here is left to
        surface where the part is used."""
        def load() -> None:
            try:
                self.encoder
            except Exception:  # raised again, with its message, by the first use
                log.debug("encoder warm-up failed", exc_info=True)

        load_in_background(load, "encoder-load")
        load_dictionaries()
        try:
            self.searcher.snapshot()
        except Exception:
            log.debug("index warm-up failed", exc_info=True)

    def index(self, rebuild: bool = False, progress: Progress | None = None, lock_timeout: float = 0,
              force: frozenset[str] = frozenset(), allow_empty: bool = False) -> IndexReport:
        """Bring the index in line with the corpus (see ``store.indexer``); ``force``: reports read again
        even if unchanged; ``allow_empty``: a missing or empty corpus may empty the index (refused
        otherwise). Raises ``YanduError``s: ``CorpusMissing``, ``IndexBusy``, ``IndexWriteError``."""
        return update_index(self.settings, self.encoder, rebuild=rebuild, progress=progress, lock_timeout=lock_timeout,
                            force=frozenset(force), allow_empty=allow_empty)

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Update a missing or stale index. When the update fails (another writer, a missing corpus,
        a full disk) but an index exists, answer from it: the failure is kept in ``update_error``
        (one line, also in ``status()``) and logged. Without any index the failure is raised."""
        self.update_error = None
        try:
            # the corpus first: a new process checks it while the encoder loads (warm_up)
            snap = self.searcher.snapshot()
            manifest = snap.manifest if snap is not None else None
            if manifest is not None and not corpus_changed(self.settings, manifest) \
                    and built_with(self.settings, manifest, self.encoder.model_id):
                return None
            return self.index(progress=progress)
        except ModelMismatch:  # its vectors cannot answer this model's questions
            raise
        except YanduError as e:
            if self._manifest() is None:
                raise
            self.update_error = str(e)
            log.warning("index not updated: %s; answering from the current index (of %s)", e, self._updated())
            return None

    def _updated(self) -> str:
        m = self._manifest()
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(m.updated)) if m and m.updated else "?"

    def rebuild(self, progress: Progress | None = None, lock_timeout: float = 0) -> IndexReport:
        return self.index(rebuild=True, progress=progress, lock_timeout=lock_timeout)

    # ---- the corpus: adding, removing, re-indexing one report --------------------------------

    def _manifest(self) -> Manifest | None:
        """The live commit's manifest, from whichever store ``Settings.store`` names."""
        return self.searcher.store.manifest()

    def report_path(self, source: str) -> Path:
        """The corpus file of a report; only names the corpus listing has (never a path given by a user)."""
        files, _ = corpus_files(self.settings.corpus_dir)
        path = files.get(str(source))
        if path is None:
            raise UnknownReport(f"{source}: 不是报告库中的文件")
        return path

    def add_files(self, paths: list[str | Path]) -> list[Upload]:
        """Save files into the corpus under safe names (content already there is not copied twice).

        Indexing is separate (:meth:`index`), so a caller can batch several additions into one run.
        """
        m = self._manifest()
        known = corpus_hashes(self.settings.corpus_dir, m.files if m else None, m.updated if m else 0.0)
        return save_uploads(self.settings.corpus_dir, list(paths), self.settings.max_file_mb, known)

    def remove_report(self, source: str) -> Path:
        """Move a report's file to the corpus's trash folder (recoverable); returns where it went.

        The index drops it on the next :meth:`index`.
        """
        path = self.report_path(source)
        snap = self.searcher.snapshot()
        title = self._labels_of(snap).get(source) if snap is not None else None
        folder = self.settings.corpus_dir / TRASH / time.strftime("%Y%m%d-%H%M%S")
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{os.getpid()}-{threading.get_ident()}.part"
        os.link(path, part)  # the file stays a report until it has its place in the trash
        target = place_file(part, folder, path.name)
        path.unlink()
        if title:
            _remember_title(folder, target.name, title)
        log.info("moved %s to %s", source, target)
        return target

    def trash(self) -> list[dict]:
        """Files in the corpus's trash: {"name", "path" (relative to the corpus), "removed" (time), "size",
        "title" (the report's label when it was removed, else its file name's stem)}."""
        root = self.settings.corpus_dir / TRASH
        out = []
        for p in sorted(root.glob("*/*")) if root.exists() else []:
            if p.is_file() and not p.name.startswith("."):
                title = _titles(p.parent).get(p.name) or p.stem
                out.append({"name": p.name, "path": p.relative_to(self.settings.corpus_dir).as_posix(),
                            "removed": _removed_at(p.parent), "size": p.stat().st_size, "title": str(title)})
        return out

    def _trashed(self, trashed: str) -> Path:
        """A file of the trash, named by its path (relative to the corpus) or its name; only names the
        trash listing has (never a path given by a user)."""
        root = (self.settings.corpus_dir / TRASH).resolve()
        entry = next((t for t in self.trash() if t["path"] == trashed or t["name"] == trashed), None)
        path = (self.settings.corpus_dir / entry["path"]).resolve() if entry else None
        if path is None or not path.is_relative_to(root):
            raise UnknownReport(f"{trashed}: 回收站中没有这个文件")
        return path

    def restore_report(self, trashed: str) -> str:
        """Put a file from the trash back into the corpus (under a free name); returns its name."""
        path = self._trashed(trashed)
        part = self.settings.corpus_dir / f".restore-{os.getpid()}-{threading.get_ident()}.part"
        shutil.copyfile(path, part)
        target = place_file(part, self.settings.corpus_dir, path.name)
        _drop(path)
        return target.name

    def purge_report(self, trashed: str) -> str:
        """Delete a file of the trash for good (it is not in the index: removing it dropped it there);
        returns its name."""
        path = self._trashed(trashed)
        _drop(path)
        log.info("deleted %s from the trash for good", trashed)
        return path.name

    def reindex_report(self, source: str, progress: Progress | None = None, lock_timeout: float = 0) -> IndexReport:
        """Read one report again and re-index it (with whatever else changed in the corpus)."""
        self.report_path(source)
        return self.index(progress=progress, lock_timeout=lock_timeout, force=frozenset({str(source)}))

    def library(self) -> list[ReportInfo]:
        """Every file of the corpus: indexed reports with their figures, failed files with their reason."""
        files, skipped = corpus_files(self.settings.corpus_dir)
        snap = self.searcher.snapshot()
        m = snap.manifest if snap else None
        docs = {d["source"]: d for d in snap.documents()} if snap else {}
        labels = self._labels_of(snap) if snap else {}
        out = []
        for name in sorted(set(files) | set(skipped) | set(m.errors if m else {})):
            path = files.get(name)
            st = path.stat() if path is not None else None
            raw_title = Path(name).stem
            info = ReportInfo(source=name, title=raw_title, added=st.st_mtime if st else None,
                              size=st.st_size if st else 0)
            entry = (m.files.get(name) if m else None) or {}
            info.duplicate_of = entry.get("duplicate_of")
            info.error = skipped.get(name) or (m.errors.get(name) if m else None)
            if path is None and info.error is None:
                continue
            doc = docs.get(name)
            kind = None  # as parsed: its opening may say it ("……述职如下"); else its title or file name
            if doc is not None:  # the listing's own fields: no report's text is read
                info.year, info.unit, raw_title, kind = doc["year"], doc["unit"], doc["title"], doc["kind"]
                info.title = labels.get(name, doc["title"])
                chunks = snap.source_chunks(name)
                info.passages = len(chunks)
                seen: dict[str, set] = {}
                for c in chunks:
                    seen.setdefault(c["section_type"], set()).add(tuple(c["heading_path"]))
                info.sections = {t: len(seen[t]) for t in SECTION_TYPE_NAMES if t in seen}
            info.kind = kind or report_kind(raw_title, name) or "其他"
            out.append(info)
        return out

    def outline(self, source: str) -> dict:
        """A report's section tree, passages and removed noise, parsed from its corpus file (``parse`` view)."""
        from .ingest import ReadOptions, read_fenced, read_report

        path = self.report_path(source)
        got = read_report(self.settings.corpus_dir, path, int(self.settings.max_file_mb * 2**20))
        doc, chunks = read_fenced(path, source, got.data, ReadOptions.from_settings(self.settings),
                                  self.settings.chunk_target, self.settings.chunk_max)

        def node(s) -> dict:
            return {"level": s.level, "number": s.number, "heading": s.heading, "section_type": s.section_type,
                    "start": s.start, "end": s.end, "children": [node(c) for c in s.children]}

        snap = self.searcher.snapshot()
        label = self._labels_of(snap).get(source) if snap else None
        return {"source": source, "title": label or report_label(source, doc.title, doc.text, doc.year),
                "year": doc.year, "unit": doc.unit,
                "sections": [node(s) for s in doc.sections], "passages": len(chunks),
                "removed": [asdict(r) for r in doc.removed]}

    # ---- questions ---------------------------------------------------------------------------

    def search(self, question: str, top_k: int | None = None, reports=(), years=(), section_types=(),
               data_years=()) -> Result:
        """``years``: the reports' own years; ``data_years``: the years the passages are about."""
        filters = Filters(list(reports or []), [int(y) for y in years or []], list(section_types or []),
                          [int(y) for y in data_years or []])
        snap = self.searcher.snapshot()
        if snap is not None and snap.manifest.model_id != self.encoder.model_id:  # an index of another model
            return Result([], f"索引由模型 {snap.manifest.model_id} 建立，与当前模型 {self.encoder.model_id} 不符，"
                              f"无法检索。重建：{rebuild_command(self.settings)}")
        key = (question, top_k, *(tuple(v) for v in astuple(filters)))
        result = self.answers.get(snap, key)
        if result is None:
            result = self.searcher.search(question, top_k, filters, snap)
            labels = self._labels_of(snap) if snap is not None and result.passages else {}
            result = replace(result, passages=[replace(filters.badge(p) if filters.section_types else p,
                                                       title=labels.get(p.source, p.title)) for p in result.passages])
            if snap is not None:
                self.answers.put(snap, key, result)
        return replace(result, passages=list(result.passages))  # the kept list stays as it is

    def search_role_first(self, question: str, role: str, top_k: int | None = None, reports=(), years=(),
                          data_years=()) -> Result:
        """A question asking for one role ("那原因呢？" about a topic): the passages playing that role
        first (a role filter), then the others, ranked as ``search`` ranks them; shown scores never rise."""
        top_k = top_k or self.settings.top_k
        first = self.search(question, top_k, reports, years, [role], data_years)
        rest = self.search(question, top_k, reports, years, (), data_years)
        seen = {(p.source, p.start, p.end) for p in first.passages}
        merged = [*first.passages, *(p for p in rest.passages if (p.source, p.start, p.end) not in seen)][:top_k]
        out, ceiling = [], float("inf")
        for rank, p in enumerate(merged, 1):
            ceiling = min(ceiling, p.score)
            out.append(replace(p, rank=rank, score=ceiling))
        return replace(rest, passages=out, message=rest.message if not first.passages else first.message)

    @property
    def model_loaded(self) -> bool:
        return self._encoder is not None

    @property
    def model_from_settings(self) -> bool:
        """Whether the encoder is still to be loaded from ``settings.model`` (none was given or loaded)."""
        return self._encoder is None and self._encoder_from is None

    @property
    def index_lost(self) -> str | None:
        """The index folder, when it was deleted while served (answers come from memory meanwhile)."""
        return getattr(self.searcher.store, "lost", None)

    def status(self) -> dict:
        snap = self.searcher.snapshot()
        if snap is None:
            return {"reports": 0, "chunks": 0, "model": self.settings.model, "updated": None, "errors": {},
                    "update_error": self.update_error, "index_lost": None}
        m = snap.manifest
        return {
            "update_error": self.update_error,
            "index_lost": self.index_lost,
            "reports": len(snap.documents()),
            "chunks": len(snap.ids),
            "model": m.model_id,
            "updated": m.updated,
            "errors": m.errors,
            "documents": self._labelled(snap),
            "years": sorted({int(y) for y in snap.years if y}),
            "data_years": snap.data_years(),
        }

    def _labels_of(self, snap) -> dict[str, str]:
        """source → the report's label (``labels.report_labels``: the one name users see), cached per generation."""
        cached = getattr(self, "_labels", None)
        if cached is not None and cached[0] is snap.folder:
            return cached[1]
        docs = [{**d, "text": snap.document(d["source"])["text"] if d["title"] == Path(d["source"]).stem else ""}
                for d in snap.documents()]  # only a title equal to the file name needs the text to tell
        labels = report_labels(docs)
        self._labels = (snap.folder, labels)
        return labels

    def _labelled(self, snap) -> list[dict]:
        """The snapshot's documents, each with its ``label``."""
        labels = self._labels_of(snap)
        return [{**d, "label": labels.get(d["source"], d["title"])} for d in snap.documents()]

    def compare(self, question: str, reports=(), years=(), section_types=(), data_years=()) -> list[CompareRow]:
        """One question across reports: every report in scope (the chosen reports, else those of the
        chosen years, else all) with its best passage (about ``data_years`` when given), or None when
        nothing relevant is in it."""
        snap = self.searcher.snapshot()
        if snap is None:
            return []
        docs = self._labelled(snap)
        wanted = set(reports or ())
        years = {int(y) for y in years or ()}
        scope = [d for d in docs if (d["source"] in wanted if wanted else not years or d["year"] in years)]
        # A question asking for a role ("各单位的存在问题有什么共性？") is answered in each report by a
        # passage playing it where the report has one; by its best passage otherwise.
        asked = [] if section_types else [r for r in intent(normalize_question(question)) if r in SECTION_TYPE_NAMES]
        rows = []
        for d in sorted(scope, key=lambda d: (-(d["year"] or 0), d["label"])):
            found = self.search(question, 1, [d["source"]], (), asked, data_years).passages if asked else []
            found = found or self.search(question, 1, [d["source"]], (), section_types, data_years).passages
            rows.append(CompareRow(d["source"], d["label"], d["year"], found[0] if found else None))
        return rows

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
        return {"source": source, "title": self._labels_of(snap).get(source, doc["title"]),
                "section": " › ".join(top or []),
                "before": text[lo:start], "passage": text[start:end], "after": text[end:hi]}


def _drop(path: Path) -> None:
    """A file of the trash gone, and its folder once no other file is in it (files removed in the same
    second share it)."""
    path.unlink()
    folder = path.parent
    try:
        if all(p.name == TITLES for p in folder.iterdir()):
            (folder / TITLES).unlink(missing_ok=True)
            folder.rmdir()
    except OSError:
        pass


def _removed_at(folder: Path) -> float:
    """When the files of a trash folder were removed: its name (``remove_report`` names it by the time;
    a file keeps its own modification time, being linked, not copied), else the folder's time."""
    try:
        return time.mktime(time.strptime(folder.name, "%Y%m%d-%H%M%S"))
    except ValueError:
        return folder.stat().st_mtime



def _titles(folder: Path) -> dict:
    try:
        titles = json.loads((folder / TITLES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return titles if isinstance(titles, dict) else {}


def _remember_title(folder: Path, name: str, title: str) -> None:
    """Keep a removed report's label beside it (the trash is not indexed; users know reports by title)."""
    part = folder / f".titles-{os.getpid()}-{threading.get_ident()}.part"
    try:
        part.write_text(json.dumps({**_titles(folder), name: title}, ensure_ascii=False), encoding="utf-8")
        os.replace(part, folder / TITLES)
    except OSError as e:  # the file is in the trash all the same; it is listed by its name
        part.unlink(missing_ok=True)
        log.warning("title of %s not kept in the trash: %s", name, e)
