"""The "seeds" and "bench" runs: real indexing of a real corpus in fresh folders, then queries,
re-indexing from the embedding cache, adding one report, and cold starts."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from .common import (NEW_REPORT_NAME, Clock, cold_start, forget, index_mb, loadavg, make_corpus, new_report_text,
                     percentile, questions, rss_mb)


def corpus_texts(settings) -> list[str]:
    """The passage texts the indexer embeds for this corpus (parsed and chunked the same way)."""
    from retrieval.ingest import chunk_document
    from retrieval.ingest import corpus_files
    from retrieval.ingest import ReadError
    from retrieval.ingest import parse_file

    texts = []
    for name, path in sorted(corpus_files(settings.corpus_dir)[0].items()):
        try:
            doc = parse_file(path, name)
        except ReadError:
            continue
        texts += [c.match_text for c in chunk_document(doc, settings.chunk_target, settings.chunk_max)]
    return list(dict.fromkeys(texts))  # the indexer embeds each distinct text once


def timed_queries(app, qs: list[str], n: int, warmup: int = 3) -> list[float]:
    """ms per search of ``n`` questions (``qs`` round), each ranked afresh: a question asked before
    would be answered from the per-question caches (its result, vector and understanding), and
    the repeats and the warm-up's questions would then time a dictionary lookup (0.0 ms)."""
    for q in qs[:warmup]:
        app.search(q, 5)
    times = []
    for i in range(n):
        q = qs[i % len(qs)]
        forget(app)
        start = time.perf_counter()
        app.search(q, 5)
        times.append((time.perf_counter() - start) * 1000)
    return times


def run(name: str, workdir: Path, quick: bool) -> dict:
    from retrieval.config import Settings
    from retrieval.engine import Yandu

    out: dict = {"corpus": name, "notes": {}}
    corpus, index_dir = workdir / "corpus", workdir / "index"
    make_corpus(corpus, with_bench=(name == "bench"))
    settings = Settings().with_overrides(corpus_dir=corpus, index_dir=index_dir)
    app = Yandu(settings)
    out["loadavg_start"] = loadavg()
    with Clock() as c:
        encoder = app.encoder
    out["encoder"] = encoder.model_id + f" ({type(encoder).__name__})"
    out["encoder_load_s"] = round(c.wall, 2)

    # 1. The encoder alone on the passages this corpus gives (same batch size; no parsing, tokenising,
    #    writing), half of the sample before indexing and half after, so that a change in the machine's
    #    load during the run weighs on both figures alike.
    texts = corpus_texts(settings)
    step = 2 if len(texts) <= 400 else len(texts) // 200 if quick else 4  # small corpus: every passage once
    before, after = texts[::step], texts[step // 2::step]
    out["notes"]["encoder_chunks_per_s"] = (f"{len(before) + len(after)} of the {len(texts)} passages, half encoded "
                                            "before indexing and half after")
    with Clock() as c1:
        encoder.encode_passages(before, batch_size=settings.embed_batch_size)

    # 2. Index from nothing: fresh index folder, empty embedding cache.
    with Clock() as c:
        report = app.index()
    if report.errors:
        out["notes"]["errors"] = report.errors
    out.update(docs=report.files, chunks=report.chunks, index_s=round(c.wall, 2), index_cpu_s=round(c.cpu, 2),
               index_chunks_per_s=round(report.chunks / c.wall, 2))

    with Clock() as c2:
        encoder.encode_passages(after, batch_size=settings.embed_batch_size)
    n = len(before) + len(after)
    out["encoder_chunks_per_s"] = round(n / (c1.wall + c2.wall), 2)
    out["encoder_cpu_s_per_chunk"] = round((c1.cpu + c2.cpu) / n, 4)
    # what indexing adds to embedding: parse, tokenise (jieba), SQLite, BM25, FAISS, fsync
    out["index_vs_encoder"] = round(out["index_chunks_per_s"] / out["encoder_chunks_per_s"], 3)
    # the same ratio in CPU seconds, which a busy neighbour on a shared machine disturbs much less
    out["index_vs_encoder_cpu"] = round(out["encoder_cpu_s_per_chunk"] * report.chunks / c.cpu, 3)

    # 3. Re-index with the embedding cache kept (index folders deleted): nothing is embedded again.
    out["index_mb"] = index_mb(index_dir)
    out["cache_mb"] = round((index_dir / "embeddings.sqlite").stat().st_size / 2**20, 1)
    for path in index_dir.iterdir():
        if not path.name.startswith("embeddings.sqlite"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    app = Yandu(settings)
    app._encoder = encoder
    with Clock() as c:
        again = app.index()
    assert again.chunks == report.chunks, (again.chunks, report.chunks)
    out["index_warm_cache_s"] = round(c.wall, 2)

    # 4. Warm queries, end to end (question embedding, dense + BM25, fusion, list completion).
    qs = questions()
    times = timed_queries(app, qs, 20 if quick else 60)
    out.update(query_p50_ms=round(percentile(times, 50), 1), query_p95_ms=round(percentile(times, 95), 1),
               queries=len(times))

    # 5. One seed-sized report added to the existing index.
    (corpus / NEW_REPORT_NAME).write_text(new_report_text(), encoding="utf-8")
    with Clock() as c:
        added = app.index()
    assert added.added == [NEW_REPORT_NAME], added.lines()
    out["new_report_s"] = round(c.wall, 2)
    out["new_report_chunks"] = added.chunks - again.chunks
    app.search(qs[0], 5)  # the searcher picks up the new generation

    out["peak_rss_mb"] = rss_mb()
    out["index_mb"] = index_mb(index_dir)

    # 6. Cold start: a new process answers one question from the existing index.
    out.update(cold_start(corpus, index_dir, qs[0], 1 if quick else 3))
    out["loadavg_end"] = loadavg()
    return out
