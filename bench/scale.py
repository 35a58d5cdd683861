"""The "scale" run: an index of ≥ 100 000 chunks built from copies of the real corpus.

Embedding 100 000 passages would take about an hour here, so the vectors are synthesised: the
passages of the seeds + bench corpus are parsed, chunked and tokenised for real, and copy k of a
passage gets that passage's real embedding (from the bench run's cache when there is one) plus
Gaussian noise (cosine ≈ 0.97 to the original), re-normalised. Files, chunk rows, BM25 and the
manifest are real, so `Yandu.index()` (adding a report) and `app.py query` (cold start) run on it
exactly as on any index. Queries are embedded by the real encoder.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .common import (BENCH, NEW_REPORT_NAME, SEEDS, Clock, bench_files, cold_start, index_mb, loadavg,
                     new_report_text, percentile, questions, rss_mb)
from .runs import timed_queries

NOISE = 0.25  # per-vector Gaussian noise of norm ≈ 0.25: cosine ≈ 0.97 to the real embedding
NPROBES = (4, 8, 16, 32, 64)


def base_documents(settings):
    """(relative name, Document, chunks) of every seed and bench report, parsed once."""
    from retrieval.ingest import chunk_document
    from retrieval.ingest import ReadError
    from retrieval.ingest import parse_file

    out = []
    sources = [(p.name, p) for p in sorted(SEEDS.glob("*.txt"))]
    sources += [(p.relative_to(BENCH).as_posix(), p) for p in bench_files()]
    for rel, path in sources:
        try:
            doc = parse_file(path, rel)
        except ReadError:
            continue
        out.append((rel, doc, chunk_document(doc, settings.chunk_target, settings.chunk_max)))
    return out


def base_vectors(encoder, texts: list[str], cache_path: Path | None, rng, notes: dict) -> np.ndarray:
    """Real embeddings of the base passages: from the bench run's cache; any missing passage borrows the
    embedding of a sampled passage (embedded now) — said in the notes."""
    from retrieval.store import EmbeddingCache

    known = {}
    if cache_path and cache_path.exists():
        cache = EmbeddingCache(cache_path, encoder.model_id)
        try:
            known = cache.get(texts)
        finally:
            cache.close()
    missing = [i for i, t in enumerate(texts) if EmbeddingCache.key(t) not in known]
    vectors = np.zeros((len(texts), encoder.dim), np.float32)
    for i, t in enumerate(texts):
        if EmbeddingCache.key(t) in known:
            vectors[i] = known[EmbeddingCache.key(t)]
    if missing:
        sample = sorted(rng.choice(missing, min(len(missing), 256), replace=False).tolist())
        embedded = encoder.encode_passages([texts[i] for i in sample])
        for j, i in enumerate(missing):
            vectors[i] = embedded[j % len(sample)]
        notes["base_vectors"] = (f"{len(texts) - len(missing)} real from the bench cache, {len(missing)} borrowed "
                                 f"from {len(sample)} embedded now")
    else:
        notes["base_vectors"] = f"all {len(texts)} from the bench run's embedding cache"
    return vectors


def build(settings, encoder, target_chunks: int, cache_path: Path | None, notes: dict) -> dict:
    """Write the corpus copies and their index (one generation); returns build facts."""
    from retrieval.store import Manifest, Writer, parser_version
    from retrieval.text import fingerprint, tokenize

    rng = np.random.default_rng(20260101)
    base = base_documents(settings)
    texts = [c.match_text for _, _, chunks in base for c in chunks]
    n_base = len(texts)
    with Clock() as c:
        tokens = [tokenize(t) for t in texts]
    tokenize_s = c.wall
    vectors = base_vectors(encoder, texts, cache_path, rng, notes)
    copies = math.ceil(target_chunks / n_base)

    manifest = Manifest(encoder.model_id, encoder.dim, parser_version(settings))
    settings.corpus_dir.mkdir(parents=True, exist_ok=True)
    with Clock() as c, Writer(settings.index_dir, manifest, fresh=True, settings=settings) as writer:
        for k in range(copies):
            offset = 0
            for rel, doc, chunks in base:
                name = f"copy{k:02d}/{Path(rel).with_suffix('.txt').as_posix()}"
                path = settings.corpus_dir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                data = (doc.text + f"\n\n（副本 {k}）\n").encode("utf-8")  # unique content: no duplicate detection
                path.write_bytes(data)
                v = vectors[offset:offset + len(chunks)]
                if k:
                    v = v + NOISE / math.sqrt(v.shape[1]) * rng.standard_normal(v.shape, dtype=np.float32)
                    v /= np.linalg.norm(v, axis=1, keepdims=True)
                ids = writer.add_document(replace(doc, source=name), hashlib.sha256(data).hexdigest(),
                                          [replace(ch, source=name) for ch in chunks], v,
                                          tokens[offset:offset + len(chunks)])
                # with its fingerprint, as the indexer writes it: an entry without one gets it on the next
                # run, from its stored text (23 ms a report: 57 s of the first "add one report" at 100k)
                manifest.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                        "mtime_ns": path.stat().st_mtime_ns, "chunk_ids": ids,
                                        "fingerprint": fingerprint(data.decode("utf-8"))}
                offset += len(chunks)
        commit_start = time.perf_counter()
        writer.commit()
        commit_s = time.perf_counter() - commit_start
    return {"docs": len(manifest.files), "chunks": manifest.next_id, "copies": copies, "base_chunks": n_base,
            "build_s": round(c.wall, 2), "build_commit_s": round(commit_s, 2), "base_tokenize_s": round(tokenize_s, 2),
            "build_peak_rss_mb": rss_mb()}


def ann_recall(snap, query_vectors: np.ndarray, nprobes=NPROBES) -> dict:
    """recall@10 / @100 of the snapshot's dense search (IVF in large segments) against exact search
    over every live vector, and search time, per nprobe."""
    k = 100
    out = {"segments": len(snap.segments), "ivf_segments": sum(seg.ann is not None for seg in snap.segments)}
    start = time.perf_counter()
    exact = [np.concatenate([np.asarray(seg.vectors[rows]) @ q for seg, rows in zip(snap.segments, snap.live_rows)])
             for q in query_vectors]
    out["flat_ms"] = round((time.perf_counter() - start) * 1000 / len(query_vectors), 2)

    def recall(scores: np.ndarray, found: np.ndarray, n: int) -> float:
        """Share of the exact top n found; a row tied with the n-th exact score counts (synthesised
        vectors can repeat)."""
        floor = np.partition(scores, -n)[-n]
        return min(1.0, float((scores[found[:n]] >= floor - 1e-6).sum()) / n)

    if not out["ivf_segments"]:
        return out
    out["nlist"] = max(seg.ann.index.nlist for seg in snap.segments if seg.ann is not None)
    saved = [seg.ann.nprobe for seg in snap.segments if seg.ann is not None]
    for nprobe in nprobes:
        for seg in snap.segments:
            if seg.ann is not None:
                seg.ann.nprobe = nprobe
        start = time.perf_counter()
        found = [np.argsort(-snap.dense_scores(q, k))[:k] for q in query_vectors]
        ms = (time.perf_counter() - start) * 1000 / len(query_vectors)
        r10 = np.mean([recall(e, f, 10) for e, f in zip(exact, found)])
        r100 = np.mean([recall(e, f, k) for e, f in zip(exact, found)])
        out[f"nprobe_{nprobe}"] = {"recall@10": round(float(r10), 4), "recall@100": round(float(r100), 4),
                                   "ms": round(ms, 2)}
    for seg, nprobe in zip([s for s in snap.segments if s.ann is not None], saved):
        seg.ann.nprobe = nprobe
    return out


def store_add_delete(settings, encoder, rng) -> dict:
    """The store's own cost of adding one seed-sized report (parse, chunk, tokenise, write, commit — its
    vectors synthesised, so no embedding) and of deleting it again; and the disk a commit needs."""
    from retrieval.ingest import chunk_document, parse_file
    from retrieval.store import open_store
    from retrieval.text import tokenize

    store = open_store(settings)
    tokenize("预热")  # jieba loads its dictionary once per process (seconds): not part of an add
    path = settings.corpus_dir / "store-add-bench.txt"
    path.write_text(new_report_text() + "\n（存储基准）\n", encoding="utf-8")
    before_mb = index_mb(settings.index_dir)
    with Clock() as add:
        doc = parse_file(path, path.name)
        chunks = chunk_document(doc, settings.chunk_target, settings.chunk_max)
        tokens = [tokenize(c.match_text) for c in chunks]
        vectors = rng.standard_normal((len(chunks), encoder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        manifest = store.manifest()
        with store.writer(manifest, fresh=False) as writer:
            ids = writer.add_document(doc, "bench", chunks, vectors, tokens)
            manifest.files[path.name] = {"sha256": "bench", "size": path.stat().st_size, "chunk_ids": ids}
            writer.commit()
    during_mb = index_mb(settings.index_dir)  # nothing is swept until the next writer: the commit's peak
    with Clock() as delete:
        manifest = store.manifest()
        with store.writer(manifest, fresh=False) as writer:
            writer.remove_source(path.name)
            manifest.files.pop(path.name)
            writer.commit()
    path.unlink()
    return {"store_add_s": round(add.wall, 3), "store_delete_s": round(delete.wall, 3),
            "disk_commit_ratio": round(during_mb / before_mb, 3) if before_mb else None}


def reuse(app, workdir: Path, notes: dict) -> dict | None:
    """The build facts of an index a previous run left in `workdir` (`--scale-dir`), with that run's
    added report taken out again; None when there is none to reuse."""
    saved = workdir / "build.json"
    if not saved.exists():
        return None
    from retrieval.store import open_store, parser_version

    kept = json.loads(saved.read_text(encoding="utf-8"))
    store = open_store(app.settings)
    manifest = store.manifest()
    with store.writer(manifest, fresh=False) as writer:
        added = app.settings.corpus_dir / NEW_REPORT_NAME
        if added.exists():
            writer.remove_source(NEW_REPORT_NAME)
            manifest.files.pop(NEW_REPORT_NAME, None)
            added.unlink()
        # the synthetic copies stand for any parse: a parser change must not turn this run into a rebuild
        manifest.parser_version = parser_version(app.settings)
        writer.commit()
    notes.update(kept["notes"])
    notes["reused"] = f"index built by an earlier run, reused from {workdir}"
    return kept["facts"]


def run(workdir: Path, quick: bool, target_chunks: int, cache_path: Path | None) -> dict:
    from retrieval.config import Settings
    from retrieval.engine import Yandu

    out: dict = {"corpus": f"scale {target_chunks // 1000}k", "notes": {}}
    corpus, index_dir = workdir / "corpus", workdir / "index"
    settings = Settings().with_overrides(corpus_dir=corpus, index_dir=index_dir)
    app = Yandu(settings)
    out["loadavg_start"] = loadavg()
    encoder = app.encoder
    out["encoder"] = encoder.model_id + f" ({type(encoder).__name__})"
    facts = reuse(app, workdir, out["notes"])
    if facts is None:
        facts = build(settings, encoder, target_chunks, cache_path, out["notes"])
        (workdir / "build.json").write_text(json.dumps({"facts": facts, "notes": out["notes"]}), encoding="utf-8")
    out.update(docs=facts["docs"], chunks=facts["chunks"], build=facts)
    why = f"vectors synthesised (corpus ×{facts['copies']}: real chunks, BM25 and files; embeddings = real + noise)"
    for key in ("index_s", "index_chunks_per_s", "encoder_chunks_per_s"):
        out[key] = None
        out["notes"][key] = why
    out["notes"]["index_warm_cache_s"] = why
    out["index_warm_cache_s"] = None
    out["index_mb"] = index_mb(index_dir)

    from retrieval.store import Snapshot, current_generation

    with Clock() as opened:  # what a new process pays to open the index (the encoder loads apart)
        Snapshot(current_generation(index_dir), settings.ann_nprobe).close()
    out["snapshot_open_s"] = round(opened.wall, 2)
    snap = app.searcher.snapshot()
    out["ann"] = f"IVF in {sum(s.ann is not None for s in snap.segments)} of {len(snap.segments)} segments"
    qs = questions()
    qv = encoder.encode_queries(qs)
    out["ann_recall"] = ann_recall(snap, qv)
    default = out["ann_recall"].get(f"nprobe_{settings.ann_nprobe}")
    if default:
        out["recall_at_10"] = default["recall@10"]

    times = timed_queries(app, qs, 20 if quick else 40)
    out.update(query_p50_ms=round(percentile(times, 50), 1), query_p95_ms=round(percentile(times, 95), 1),
               queries=len(times))
    ivf = [seg for seg in snap.segments if seg.ann is not None]
    if ivf:  # the same queries on exact search: what the approximate index saves
        saved = [seg.ann for seg in ivf]
        for seg in ivf:
            seg.ann = None
        flat_times = timed_queries(app, qs, 10 if quick else 20)
        for seg, ann in zip(ivf, saved):
            seg.ann = ann
        out["query_p50_ms_flat"] = round(percentile(flat_times, 50), 1)
        out["query_p95_ms_flat"] = round(percentile(flat_times, 95), 1)

    out.update(store_add_delete(settings, encoder, np.random.default_rng(7)))
    (corpus / NEW_REPORT_NAME).write_text(new_report_text(), encoding="utf-8")
    with Clock() as c:
        added = app.index()
    assert added.added == [NEW_REPORT_NAME], added.lines()
    out["new_report_s"] = round(c.wall, 2)
    out["new_report_chunks"] = added.chunks - facts["chunks"]
    app.search(qs[0], 5)
    out["peak_rss_mb"] = rss_mb()
    out["index_mb"] = index_mb(index_dir)
    out.update(cold_start(corpus, index_dir, qs[0], 1 if quick else 3))
    out["loadavg_end"] = loadavg()
    return out
