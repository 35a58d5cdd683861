"""Incremental indexing: bring the index on disk in line with the corpus folder.

New files are added, changed files re-chunked and re-embedded, deleted files removed with their
vectors; a model or parser change rebuilds. Unreadable files are reported and skipped; every
other file is indexed. Embeddings are cached by passage text, so unchanged text is never
embedded twice — and a run killed mid-way resumes where it stopped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..config import Settings
from ..ingest import PARSER_VERSION, ReadError, chunk_document, corpus_files, parse_file, sha256_file
from ..text import tokenize
from ..progress import Progress, ProgressEvent, Stage
from .cache import EmbeddingCache, embed_passages
from .backend import open_store
from .generations import LAYOUT, Manifest


def parser_version(settings: Settings) -> str:
    """Changes whenever parsing or the settings that shape chunks change, so the index rebuilds."""
    return f"{PARSER_VERSION}/{settings.chunk_target}/{settings.chunk_max}/{LAYOUT}"


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: dict[str, str] = field(default_factory=dict)  # name -> the name it duplicates
    errors: dict[str, str] = field(default_factory=dict)  # name -> reason
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
        out.append(
            f"{self.files} reports, {self.chunks} chunks — added {len(self.added)}, updated {len(self.updated)}, "
            f"removed {len(self.removed)}, unchanged {self.unchanged}"
            + (", rebuilt" if self.rebuilt else "") + (f", {len(self.errors)} not indexed" if self.errors else "")
        )
        return out


def is_stale(settings: Settings, model_id: str) -> bool:
    """Whether the index is missing or out of date with the corpus (cheap: sizes and hashes)."""
    manifest = open_store(settings).manifest()
    if manifest is None:
        return True
    if manifest.model_id != model_id or manifest.parser_version != parser_version(settings):
        return True
    files, skipped = corpus_files(settings.corpus_dir)
    if set(files) | set(skipped) != set(manifest.files) | set(manifest.errors):
        return True
    for name, path in files.items():
        entry = manifest.files.get(name)
        if entry is None:  # a file that failed last time: stale only if it changed since
            if manifest.errors.get(name) and path.stat().st_mtime <= manifest.updated:
                continue
            return True
        if entry["size"] != path.stat().st_size or (
            path.stat().st_mtime > manifest.updated and entry["sha256"] != sha256_file(path)
        ):
            return True
    return False


def update_index(settings: Settings, encoder, rebuild: bool = False, progress: Progress | None = None,
                 lock_timeout: float = 0) -> IndexReport:
    """Bring the index in line with the corpus; see the module docstring."""
    report = IndexReport()
    files, skipped = corpus_files(settings.corpus_dir)
    report.errors.update(skipped)
    store = open_store(settings)
    old = store.manifest()
    version = parser_version(settings)
    fresh = rebuild or old is None or old.model_id != encoder.model_id or old.dim != encoder.dim or old.parser_version != version
    report.rebuilt = fresh and old is not None
    manifest = Manifest(encoder.model_id, encoder.dim, version, next_id=0 if fresh else old.next_id)
    previous = {} if fresh else old.files

    hashes = {name: sha256_file(path) for name, path in files.items()}
    by_hash: dict[str, str] = {}
    with store.writer(manifest, fresh=fresh, lock_timeout=lock_timeout) as writer:
        for name, entry in previous.items():
            if name not in files:
                report.removed.append(name)
            if not entry.get("duplicate_of") and (name not in files or entry["sha256"] != hashes[name]):
                writer.remove_source(name)
        parsed = []  # (name, sha, doc, chunks, was indexed before)
        names = sorted(files)
        for n, name in enumerate(names):
            sha = hashes[name]
            entry = previous.get(name)
            if sha in by_hash:
                if entry and not entry.get("duplicate_of") and entry["sha256"] == sha:
                    writer.remove_source(name)  # was indexed on its own; now a second name
                report.duplicates[name] = by_hash[sha]
                manifest.files[name] = {"sha256": sha, "size": files[name].stat().st_size, "chunk_ids": [],
                                        "duplicate_of": by_hash[sha]}
                continue
            if entry and entry["sha256"] == sha and not entry.get("duplicate_of"):
                manifest.files[name] = entry
                by_hash[sha] = name
                report.unchanged += 1
                continue
            size = files[name].stat().st_size
            if size > settings.max_file_mb * 2**20:
                report.errors[name] = f"file too large ({size / 2**20:.1f} MB; limit {settings.max_file_mb:g} MB)"
                continue
            if progress:
                progress(ProgressEvent(Stage.READING, n, len(names), name))
            try:
                doc = parse_file(files[name], name)
            except ReadError as e:
                report.errors[name] = e.reason
                continue
            by_hash[sha] = name
            parsed.append((name, sha, doc, chunk_document(doc, settings.chunk_target, settings.chunk_max), bool(entry)))

        texts = [c.match_text for *_, chunks, _ in parsed for c in chunks]
        cache = EmbeddingCache(settings.index_dir / "embeddings.sqlite", encoder.model_id)
        try:
            vectors = embed_passages(encoder, cache, texts, settings.embed_batch_size, progress)
        finally:
            cache.close()
        offset = 0
        for name, sha, doc, chunks, existed in parsed:
            tokens = [tokenize(c.match_text) for c in chunks]
            ids = writer.add_document(doc, sha, chunks, vectors[offset:offset + len(chunks)], tokens)
            offset += len(chunks)
            manifest.files[name] = {"sha256": sha, "size": files[name].stat().st_size, "chunk_ids": ids}
            (report.updated if existed else report.added).append(name)
        aliases: dict[str, list[str]] = {}
        for dup, orig in report.duplicates.items():
            aliases.setdefault(orig, []).append(dup)
        for orig in by_hash.values():
            writer.set_aliases(orig, aliases.get(orig, []))
        manifest.errors = dict(report.errors)
        report.files = len(by_hash)
        report.chunks = sum(len(e["chunk_ids"]) for e in manifest.files.values())
        before = (old.files, old.errors) if old else ({}, {})
        if report.changed or (manifest.files, report.errors) != before or old is None:
            if progress:
                progress(ProgressEvent(Stage.COMMITTING))
            writer.commit()
        else:
            writer.abort()
    return report
