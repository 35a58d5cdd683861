"""Before/after measurements of each speed-up, in one process on one passage sample.

Each encoder step is measured `repeats` times, the variants interleaved (ABAB…) so that a
neighbour's load hits them alike; the best time counts. Then question latency, cold start and
retrieval quality (the project's eval on the seeds) per encoder variant.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .common import DEV_QUESTIONS, ROOT, Clock, cold_start, make_corpus, percentile, questions
from .runs import corpus_texts

VARIANTS = {"torch fp32": ("torch", "none"), "onnx fp32": ("onnx", "none"), "onnx int8": ("onnx", "int8")}


def sample_texts(settings, n: int) -> list[str]:
    """n passages of the seeds + bench corpus, chosen by hash: the corpus's own length mix."""
    texts = corpus_texts(settings)
    return sorted(texts, key=lambda t: hashlib.sha1(t.encode()).hexdigest())[:n]


def padding(encoder, texts: list[str], batch: int, sort: bool) -> float:
    """Padded tokens / real tokens when encoding in batches of `batch` (sorted by length or not)."""
    lengths = [min(512, n) for n in encoder.token_counts(texts)]
    if sort:
        lengths = sorted(lengths)
    padded = sum(max(lengths[i:i + batch]) * len(lengths[i:i + batch]) for i in range(0, len(lengths), batch))
    return round(padded / sum(lengths), 3)


def throughput(cases: dict, texts: list[str], repeats: int) -> dict[str, float]:
    """chunks/s per case (best of `repeats`, cases interleaved)."""
    best = {name: float("inf") for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            with Clock() as c:
                fn(texts)
            best[name] = min(best[name], c.wall)
    return {name: round(len(texts) / t, 2) for name, t in best.items()}


def unsorted(encoder, batch: int):
    """One call per batch in the given order: the order the passages come in, no length sorting."""
    return lambda texts: np.concatenate([encoder.encode_passages(texts[i:i + batch], batch_size=batch)
                                         for i in range(0, len(texts), batch)])


def eval_metrics(corpus: Path, index_dir: Path, env: dict) -> dict:
    if not DEV_QUESTIONS.exists():
        return {}
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "eval", str(DEV_QUESTIONS), "--no-baseline",
                           "--corpus", str(corpus), "--index-dir", str(index_dir)],
                          capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("json: ")), None)
    if proc.returncode or line is None:
        return {"error": (proc.stderr or proc.stdout)[-500:]}
    return json.loads(line[len("json: "):])["yandu"]


def run(workdir: Path, quick: bool) -> dict:
    import torch

    from retrieval.config import Settings
    from retrieval.encode import load_encoder
    from retrieval.engine import Yandu

    repeats = 1 if quick else 2
    corpus = workdir / "corpus"
    make_corpus(corpus, with_bench=True)
    base = Settings().with_overrides(corpus_dir=corpus, index_dir=workdir / "index")
    texts = sample_texts(base, 64 if quick else 192)
    encoders = {name: load_encoder(base.with_overrides(encoder_backend=b, quantize=q)) for name, (b, q) in VARIANTS.items()}
    st = encoders["torch fp32"]
    cores = os.cpu_count() or 1
    rows: list[dict] = []
    out = {"sample_passages": len(texts), "repeats": repeats, "rows": rows}

    def add(step: str, setting: str, value, unit: str, note: str = "", **extra):
        rows.append({"step": step, "setting": setting, "value": value, "unit": unit, "note": note, **extra})

    # 1. Length sorting (sentence-transformers sorts within each call; the indexer hands it long sorted runs).
    pad_unsorted, pad_sorted = padding(st, texts, 32, False), padding(st, texts, 32, True)
    r = throughput({"unsorted": unsorted(st, 32), "sorted": lambda t: st.encode_passages(t, batch_size=32)}, texts, repeats)
    add("batching", "torch fp32, batch 32, passages in corpus order", r["unsorted"], "chunks/s",
        f"padding {pad_unsorted:.2f}× real tokens")
    add("batching", "torch fp32, batch 32, sorted by length", r["sorted"], "chunks/s",
        f"padding {pad_sorted:.2f}× real tokens")
    # 2. Batch size (sorted).
    sizes = (2, 4, 8, 16, 32)
    r = throughput({bs: (lambda t, bs=bs: st.encode_passages(t, batch_size=bs)) for bs in sizes}, texts, repeats)
    for bs in sizes:
        add("batch size", f"torch fp32, sorted, batch {bs}", r[bs], "chunks/s")
    # 3. Threads.
    counts = sorted({1, cores})
    results = {}
    for _ in range(repeats):
        for n in counts:
            torch.set_num_threads(n)
            with Clock() as c:
                st.encode_passages(texts, batch_size=32)
            results[n] = min(results.get(n, float("inf")), c.wall)
    torch.set_num_threads(base.encoder_threads or cores)
    for n in counts:
        add("threads", f"torch fp32, sorted, batch 32, {n} thread{'s' * (n > 1)}", round(len(texts) / results[n], 2),
            "chunks/s")
    # 4. Encoder backend and quantisation, with their agreement to torch fp32.
    reference = st.encode_passages(texts, batch_size=32)
    r = throughput({name: (lambda t, e=e: e.encode_passages(t, batch_size=base.embed_batch_size))
                    for name, e in encoders.items()}, texts, repeats)
    for name, e in encoders.items():
        cos = np.sum(e.encode_passages(texts, batch_size=base.embed_batch_size) * reference, axis=1)
        add("encoder", f"{name}, batch {base.embed_batch_size}", r[name], "chunks/s",
            f"cosine to torch fp32: min {cos.min():.4f}, mean {cos.mean():.4f}",
            cos_min=round(float(cos.min()), 5), cos_mean=round(float(cos.mean()), 5))
    default = next(n for n, (b, q) in VARIANTS.items() if (b, q) == (base.encoder_backend, base.quantize)) \
        if (base.encoder_backend, base.quantize) in VARIANTS.values() else "onnx int8"
    e = encoders[default]
    r = throughput({bs: (lambda t, bs=bs: e.encode_passages(t, batch_size=bs)) for bs in sizes}, texts, repeats)
    for bs in sizes:
        add("batch size", f"{default}, batch {bs}", r[bs], "chunks/s")
    # 5. One question's embedding.
    qs = questions()
    for name, e in encoders.items():
        e.encode_queries(qs[:3])
        ms = []
        for q in qs[:30]:
            start = time.perf_counter()
            e.encode_queries([q])
            ms.append((time.perf_counter() - start) * 1000)
        add("question embedding", name, round(percentile(ms, 50), 1), "ms (p50)")
    # 6. Cold start and quality per variant, on the seeds.
    seeds = workdir / "seeds"
    make_corpus(seeds, with_bench=False)
    for name, (backend, quantize) in VARIANTS.items():
        settings = base.with_overrides(corpus_dir=seeds, index_dir=workdir / f"index-{quantize}",
                                       encoder_backend=backend, quantize=quantize)
        app = Yandu(settings)
        app._encoder = encoders[name]
        app.index()
        env = {"YANDU_ENCODER": backend, "YANDU_QUANTIZE": quantize}
        cold = cold_start(seeds, settings.index_dir, qs[0], 1 if quick else 3, env)
        add("cold start", f"app.py query, {name}", cold["cold_start_s"], "s",
            f"peak RSS {cold['query_process_rss_mb']:.0f} MB")
        metrics = eval_metrics(seeds, settings.index_dir, env)
        if metrics and "error" not in metrics:
            add("quality", f"app.py eval (dev questions, seeds), {name}",
                metrics.get("hit@1"), "hit@1",
                ", ".join(f"{k} {metrics[k]}" for k in ("hit@3", "hit@5", "mrr@10", "recall@5", "items@3") if k in metrics),
                metrics=metrics)
        elif metrics:
            add("quality", name, None, "hit@1", metrics["error"])
    # 7. FAISS threads for one question at a time (exact search; random unit vectors).
    import faiss

    rng = np.random.default_rng(0)
    for n in (5_000, 100_000):
        x = rng.standard_normal((n, 384), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(384))
        index.add_with_ids(x, np.arange(n, dtype=np.int64))
        for threads in sorted({cores, 1}, reverse=True):
            faiss.omp_set_num_threads(threads)
            ms = []
            for i in range(40):
                start = time.perf_counter()
                index.search(x[i:i + 1], 100)
                ms.append((time.perf_counter() - start) * 1000)
            add("FAISS threads", f"exact search, {n:,} vectors, {threads} thread{'s' * (threads > 1)}",
                round(percentile(ms, 50), 2), "ms (p50)")
    return out
