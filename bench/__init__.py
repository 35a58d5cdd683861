"""Yandu benchmarks: indexing throughput, query latency, cold start, incremental add, memory, size.

    python -m bench                     # seeds, bench (../shared/bench + seeds), scale (≥ 100 000 chunks), ocr
    python -m bench --quick             # smaller samples, scale at 20 000 chunks: a few minutes
    python -m bench --only seeds        # one run (repeatable / comma-separated)
    python -m bench --speedups          # also the before/after measurements of each speed-up
    python -m bench --load              # 16 clients × 60 s of /search on loopback during uploads and a rebuild:
                                        # failures, p50/p95, memory, the server's CPU ms per search
    python -m bench --load --load-vs DIR --load-rounds 2   # …alternately against DIR's checkout (another worktree)
    python -m bench --profile           # CPU per search by stage, in-process on the seed index

Prints one table and, as its last line, ``{"runs": [...]}`` (see docs/BENCHMARKS.md). Every run
works in fresh temporary folders (corpus copy, index, embedding cache), in its own process so
that peak memory is per run; the encoder variant is whatever Settings say (YANDU_ENCODER,
YANDU_QUANTIZE, YANDU_THREADS …), exactly as the application would use it.
"""
