"""Incremental indexing: bring the index on disk in line with the corpus folder.

New files are added, changed files re-chunked and re-embedded, deleted files removed with their
vectors; a parser change rebuilds. Each model (and quantisation) has its own index
(``Settings.store_dir``); an index found built with another model is left alone (``ModelMismatch``,
naming the command that rebuilds it) unless the run is a rebuild. Unreadable files are reported and skipped; every
other file is indexed. Embeddings are cached by passage text, so unchanged text is never
embedded twice — and a run killed mid-way resumes where it stopped.

Nothing is lost: a missing or empty corpus folder never empties an index that holds reports
(``CorpusMissing``, unless ``allow_empty``); each file is read once (``read_report``: no symlink
followed) and the bytes hashed are the bytes parsed; a file that vanishes or changes while the
run uses it is skipped with a note and keeps its previous version, so the next run picks it up.
Bounded work: a file over ``max_file_mb`` is refused unread; each file is read in a worker process
within ``read_timeout`` seconds and ``read_memory_mb`` (``ingest/fence.py``: any failure of a reader
is one line); one cut into more than ``max_chunks`` passages is refused before embedding; and
content that failed, however it failed, is remembered by its hash, so a bad file costs once.
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from shlex import quote

from ..config import DEFAULT_MODEL, Settings
from ..errors import DISK_FULL, CorpusMissing, IndexWriteError, ModelMismatch, disk_full
from ..ingest import (PARSER_VERSION, FileMoved, ReadError, ReadOptions, ReportBytes, corpus_files, read_fenced,
                      read_report)
from ..ingest.readers.word import NO_SOFFICE
from ..text import fingerprint, tokenize, tokenizer_version
from ..progress import Progress, ProgressEvent, Stage
from .cache import EmbeddingCache, embed_passages
from .backend import open_store
from .generations import LAYOUT, Manifest

# Failures that say nothing about the content (the reader may appear later): tried again every run.
NOT_REMEMBERED = (NO_SOFFICE,)


def parser_version(settings: Settings) -> str:
    """Changes whenever parsing, the settings that shape chunks or the words tokens are cut into change,
    so the index rebuilds."""
    return f"{PARSER_VERSION}/{settings.chunk_target}/{settings.chunk_max}/{LAYOUT}/{tokenizer_version()}"


@dataclass
class IndexReport:
    """What a run did; names are as ``corpus_files`` gives them (escaped: one line each)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: dict[str, str] = field(default_factory=dict)  # name -> the name it duplicates
    errors: dict[str, str] = field(default_factory=dict)  # name -> reason
    notes: dict[str, str] = field(default_factory=dict)  # name -> why it was skipped this run only
    chunks: int = 0
    files: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        """Reports added, updated or removed, or a rebuild; duplicates found again change nothing."""
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    def lines(self) -> list[str]:
        out = [f"{name}: {reason}" for name, reason in sorted(self.errors.items())]
        out += [f"{name}: same content as {orig} (indexed once, both names known)" for name, orig in sorted(self.duplicates.items())]
        out += [f"{name}: {note}" for name, note in sorted(self.notes.items())]
        out.append(
            f"{self.files} reports, {self.chunks} chunks — added {len(self.added)}, updated {len(self.updated)}, "
            f"removed {len(self.removed)}, unchanged {self.unchanged}"
            + (", rebuilt" if self.rebuilt else "") + (f", {len(self.errors)} not indexed" if self.errors else "")
            + (f", {len(self.notes)} skipped this run" if self.notes else "")
        )
        return out


def max_bytes(settings: Settings) -> int:
    return int(settings.max_file_mb * 2**20)


def is_stale(settings: Settings, model_id: str) -> bool:
    """Whether the index is missing or out of date with the corpus or the model (cheap: sizes, times,
    hashes)."""
    manifest = open_store(settings).manifest()
    return manifest is None or corpus_changed(settings, manifest) or not built_with(settings, manifest, model_id)


def built_with(settings: Settings, manifest: Manifest, model_id: str) -> bool:
    """Whether the index was built by this model and this parser."""
    return manifest.model_id == model_id and manifest.parser_version == parser_version(settings)


def corpus_changed(settings: Settings, manifest: Manifest) -> bool:
    """Whether the corpus folder differs from what `manifest` indexed (needs no model: a new process
    checks it while the encoder loads)."""
    files, skipped = corpus_files(settings.corpus_dir)
    if set(files) | set(skipped) != set(manifest.files) | set(manifest.errors):
        return True
    for name, path in files.items():
        try:
            st = path.stat()
        except OSError:
            return True
        entry = manifest.files.get(name)
        if entry is None:  # a file that failed last time: stale only if it changed since
            if manifest.errors.get(name) and st.st_mtime <= manifest.updated:
                continue
            return True
        if entry["size"] != st.st_size:
            return True
        if entry.get("mtime_ns") == st.st_mtime_ns or ("mtime_ns" not in entry and st.st_mtime <= manifest.updated):
            continue
        try:
            if read_report(settings.corpus_dir, path, max_bytes(settings)).sha256 != entry["sha256"]:
                return True
        except ReadError:
            return True
    return False


def rebuild_command(settings: Settings) -> str:
    """The command line that rebuilds the index ``settings`` name, for messages."""
    env = "YANDU_QUANTIZE=int8 " if settings.quantize == "int8" else ""
    args = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    args += ["--model", settings.model] if settings.model != DEFAULT_MODEL else []
    args += ["--store", settings.store] if settings.store_kind != "local" else []
    return f"{env}python app.py index --rebuild " + " ".join(quote(a) for a in args)


def check_corpus(settings: Settings, files: dict, old: Manifest | None, allow_empty: bool) -> None:
    """Refuse a run that would empty an index holding reports because the corpus is missing or empty."""
    corpus = settings.corpus_dir
    held = sum(1 for e in old.files.values() if not e.get("duplicate_of")) if old else 0
    if allow_empty or files:
        return
    if not corpus.is_dir():
        raise CorpusMissing(f"corpus folder {corpus} does not exist (a typo, or a share not mounted?); "
                            f"the index was not changed{f' and still holds {held} reports' if held else ''}. "
                            "To index it as empty: app.py index --allow-empty")
    if held:
        raise CorpusMissing(f"corpus folder {corpus} holds no reports but the index holds {held}; the index was not "
                            "emptied. To remove them all: app.py index --allow-empty")


@dataclass
class Pending:
    """A file read and chunked, waiting for its vectors."""

    name: str
    path: Path
    got: ReportBytes
    doc: object
    chunks: list
    previous: dict | None
    fingerprint: str | None  # of its cleaned text (``text.fingerprint``)


def update_index(settings: Settings, encoder, rebuild: bool = False, progress: Progress | None = None,
                 lock_timeout: float = 0, force: frozenset[str] = frozenset(), allow_empty: bool = False) -> IndexReport:
    """Bring the index in line with the corpus; see the module docstring. Files named in ``force``
    are read and indexed again even when unchanged (re-index one report).

    Raises ``CorpusMissing`` (nothing changed), ``IndexBusy``, or ``IndexWriteError`` when the index
    folder cannot be written (disk full, read-only, not a folder) — the live index stays as it was.
    """
    try:
        return _update(settings, encoder, rebuild, progress, lock_timeout, force, allow_empty)
    except (OSError, sqlite3.Error) as e:
        raise IndexWriteError(write_failure(settings.store_dir, e)) from e
    except RuntimeError as e:  # FAISS reports its I/O failures as RuntimeError("Error in faiss::FileIOWriter …")
        if "faiss::" not in str(e):
            raise
        raise IndexWriteError(write_failure(settings.store_dir, e)) from e


def write_failure(index_dir: Path, e: Exception) -> str:
    """One line: why the index folder cannot be written."""
    code = getattr(e, "errno", None)
    text = str(e).lower()
    if disk_full(e) or ("disk i/o error" in text and _nearly_full(index_dir)):  # SQLite reports ENOSPC as an I/O error
        why = f"{DISK_FULL} (the disk is full)"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM) or "read-only" in text or "readonly" in text:
        why = "the folder is read-only (no permission to write)"
    elif code in (errno.EEXIST, errno.ENOTDIR) or index_dir.exists() and not index_dir.is_dir():
        why = "that path is a file, not a folder"
    else:
        why = getattr(e, "strerror", None) or str(e).splitlines()[0]
    return f"cannot write the index in {index_dir}: {why}; the index in use was not changed"


def _nearly_full(folder: Path) -> bool:
    """Less than 1 MB left on the file system of ``folder`` (or of its nearest existing parent)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < 2**20
    except OSError:
        return False


def _update(settings: Settings, encoder, rebuild: bool, progress: Progress | None, lock_timeout: float,
            force: frozenset[str], allow_empty: bool) -> IndexReport:
    report = IndexReport()
    files, skipped = corpus_files(settings.corpus_dir)
    report.errors.update(skipped)
    store = open_store(settings)
    old = store.manifest()
    check_corpus(settings, files, old, allow_empty)
    if old is not None and not rebuild and (old.model_id, old.dim) != (encoder.model_id, encoder.dim):
        raise ModelMismatch(f"the index in {store.location} was built with {old.model_id}, not {encoder.model_id}; "
                            f"it was left as it is (another process may be using it). To rebuild it for "
                            f"{encoder.model_id}: {rebuild_command(settings)}")
    version = parser_version(settings)
    fresh = rebuild or old is None or old.model_id != encoder.model_id or old.dim != encoder.dim or old.parser_version != version
    report.rebuilt = fresh and old is not None
    manifest = Manifest(encoder.model_id, encoder.dim, version, next_id=0 if fresh else old.next_id)
    previous = {} if fresh else old.files
    failed_before = {} if fresh else old.failed
    limit = max_bytes(settings)

    by_hash: dict[str, str] = {}
    with store.writer(manifest, fresh=fresh, lock_timeout=lock_timeout) as writer:
        def drop(name: str) -> None:
            """Take a file's previous version out of the index (not a duplicate: it had chunks)."""
            entry = previous.get(name)
            if entry and not entry.get("duplicate_of"):
                writer.remove_source(name)

        def keep(name: str) -> None:
            """Leave a file as the last run indexed it (it is skipped this run)."""
            entry = previous.get(name)
            if entry:
                manifest.files[name] = entry
                if not entry.get("duplicate_of"):
                    by_hash.setdefault(entry["sha256"], name)

        def duplicate(name: str, got: ReportBytes, orig: str, text: str | None = None) -> None:
            """Name a file a duplicate of ``orig``: not indexed, both names known (``text``: the
            fingerprint of a file whose bytes differ from the original's but whose text is the same)."""
            report.duplicates[name] = orig
            manifest.files[name] = {"sha256": got.sha256, "size": got.size, "mtime_ns": got.mtime_ns, "chunk_ids": [],
                                    "duplicate_of": orig, **({"fingerprint": text} if text else {})}

        def parse(n: int, name: str, path: Path, got: ReportBytes, entry: dict | None) -> Pending | None:
            """Read and chunk a file (in a worker process: any failure, hang or bomb is one line, and
            costs once); it waits in ``pending`` for its vectors."""
            if progress:
                progress(ProgressEvent(Stage.READING, n, len(names), name))
            try:
                doc, chunks = read_fenced(path, name, got.data, ReadOptions.from_settings(settings, progress),
                                          settings.chunk_target, settings.chunk_max)
            except ReadError as e:
                fail(report, manifest, name, got.sha256, e.reason)
                drop(name)
                return None
            by_hash[got.sha256] = name
            pending.append(Pending(name, path, got, doc, chunks, entry, fingerprint(doc.text)))
            return pending[-1]

        for name, entry in previous.items():
            if name not in files:
                report.removed.append(name)
                drop(name)
        pending: list[Pending] = []
        same_text: list[tuple[int, str, Path, ReportBytes, dict]] = []  # unchanged duplicates by text
        names = sorted(files)
        for n, name in enumerate(names):
            entry = previous.get(name)
            path = files[name]
            if entry and not entry.get("duplicate_of") and name not in force and entry["sha256"] not in by_hash \
                    and as_indexed(entry, path):
                manifest.files[name] = entry  # what the read below would conclude, without reading it
                by_hash[entry["sha256"]] = name
                report.unchanged += 1
                continue
            try:
                got = read_report(settings.corpus_dir, path, limit)
            except FileMoved as e:
                report.notes[name] = e.reason
                keep(name)
                continue
            except ReadError as e:
                report.errors[name] = e.reason
                drop(name)
                continue
            sha = got.sha256
            if sha in by_hash:
                drop(name)  # was indexed on its own, or changed into a copy of another report
                duplicate(name, got, by_hash[sha])
                continue
            if entry and entry["sha256"] == sha and name not in force:
                if entry.get("duplicate_of") and entry.get("fingerprint"):
                    same_text.append((n, name, path, got, entry))  # still a duplicate if its original still says it
                    continue
                if not entry.get("duplicate_of"):
                    manifest.files[name] = {**entry, "size": got.size, "mtime_ns": got.mtime_ns}
                    by_hash[sha] = name
                    report.unchanged += 1
                    continue
            if sha in failed_before and name not in force:
                fail(report, manifest, name, sha, failed_before[sha])
                drop(name)
                continue
            parse(n, name, path, got, entry)

        if pending or same_text:  # a report saying what an indexed one says is a duplicate of it, as a copy is
            by_text = indexed_texts(store, manifest)
            for p in sorted(pending, key=lambda p: not indexed(p.previous)):  # a report indexed before stays the original
                orig = by_text.setdefault(p.fingerprint, p.name) if p.fingerprint else p.name
                if orig != p.name:
                    pending.remove(p)
                    drop(p.name)
                    duplicate(p.name, p.got, orig, p.fingerprint)
                    by_hash[p.got.sha256] = orig
                    for copy, of in list(report.duplicates.items()):  # its byte copies follow it
                        if of == p.name:
                            report.duplicates[copy] = orig
                            manifest.files[copy] = {**manifest.files[copy], "duplicate_of": orig}
            for n, name, path, got, entry in same_text:
                orig = by_text.get(entry["fingerprint"])
                if orig:
                    duplicate(name, got, orig, entry["fingerprint"])
                elif (p := parse(n, name, path, got, entry)) and p.fingerprint:  # its original is gone or changed
                    by_text.setdefault(p.fingerprint, name)

        texts = [c.match_text for p in pending for c in p.chunks]
        cache = EmbeddingCache(settings.store_dir / "embeddings.sqlite", encoder.model_id)
        try:
            vectors = embed_passages(encoder, cache, texts, settings.embed_batch_size, progress)
        finally:
            cache.close()
        offset = 0
        for p in pending:
            vecs = vectors[offset:offset + len(p.chunks)]
            offset += len(p.chunks)
            if not p.got.same_file(p.path):  # changed or gone since it was read: what we have is stale
                report.notes[p.name] = ("changed during the run (skipped; indexed on the next run)"
                                        if p.path.exists() else "removed during the run (skipped)")
                by_hash.pop(p.got.sha256, None)
                keep(p.name)
                continue
            drop(p.name)
            tokens = [tokenize(c.match_text) for c in p.chunks]
            ids = writer.add_document(p.doc, p.got.sha256, p.chunks, vecs, tokens)
            manifest.files[p.name] = {"sha256": p.got.sha256, "size": p.got.size, "mtime_ns": p.got.mtime_ns,
                                      "chunk_ids": ids, "fingerprint": p.fingerprint}
            (report.updated if p.previous else report.added).append(p.name)
        aliases: dict[str, list[str]] = {}
        for dup, orig in report.duplicates.items():
            aliases.setdefault(orig, []).append(dup)
        for orig in by_hash.values():
            writer.set_aliases(orig, aliases.get(orig, []))
        manifest.errors = dict(report.errors)
        report.files = sum(1 for e in manifest.files.values() if not e.get("duplicate_of"))
        report.chunks = sum(len(e["chunk_ids"]) for e in manifest.files.values())
        before = (old.files, old.errors) if old else ({}, {})
        if report.changed or (manifest.files, report.errors) != before or old is None:
            if progress:
                progress(ProgressEvent(Stage.COMMITTING))
            writer.commit()
        else:
            writer.abort()
    return report


def indexed(entry: dict | None) -> bool:
    """Whether a manifest entry is a report indexed as itself (not a duplicate, not absent)."""
    return bool(entry) and not entry.get("duplicate_of")


def indexed_texts(store, manifest: Manifest) -> dict[str, str]:
    """Fingerprint → name of each report ``manifest`` holds indexed as itself (the first by name when two
    say the same). An entry written before fingerprints gets one from the text the index holds — no
    file read again, nothing embedded — and keeps it in the manifest."""
    out: dict[str, str] = {}
    snap = None
    try:
        for name in sorted(manifest.files):
            entry = manifest.files[name]
            if not indexed(entry):
                continue
            if "fingerprint" not in entry:
                if snap is None:
                    snap = store.snapshot()
                doc = snap.document(name) if snap is not None else None
                entry = manifest.files[name] = {**entry, "fingerprint": fingerprint(doc["text"]) if doc else None}
            if entry["fingerprint"]:
                out.setdefault(entry["fingerprint"], name)
    finally:
        if snap is not None:
            snap.close()
    return out


def as_indexed(entry: dict, path: Path) -> bool:
    """Whether the file at ``path`` is the version ``entry`` indexed: a regular file (not a link) of
    the same size and modification time (as ``is_stale`` judges; a run reads only what changed)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns) == (entry["size"], entry.get("mtime_ns"))


def fail(report: IndexReport, manifest: Manifest, name: str, sha: str, reason: str) -> None:
    """A file not indexed; its content is remembered unless the failure may go away by itself."""
    report.errors[name] = reason
    if reason not in NOT_REMEMBERED:
        manifest.failed[sha] = reason
