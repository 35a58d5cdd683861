"""The printed table: one column per run, a reason under the table for every figure that is null."""
from __future__ import annotations

ROWS = [  # key, label, unit
    ("docs", "reports", ""),
    ("chunks", "chunks", ""),
    ("index_s", "index from nothing (cold cache)", "s"),
    ("index_chunks_per_s", "indexing throughput", "chunks/s"),
    ("encoder_chunks_per_s", "encoder alone, same chunks", "chunks/s"),
    ("index_vs_encoder", "indexing / encoder throughput", "×"),
    ("index_vs_encoder_cpu", "same, in CPU seconds", "×"),
    ("index_warm_cache_s", "re-index, embedding cache kept", "s"),
    ("query_p50_ms", "query p50 (warm, end to end)", "ms"),
    ("query_p95_ms", "query p95", "ms"),
    ("query_p50_ms_flat", "query p50 with exact search", "ms"),
    ("recall_at_10", "ANN recall@10 vs exact", ""),
    ("cold_start_s", "cold start: app.py query → exit", "s"),
    ("snapshot_open_s", "cold start: open the index (no encoder)", "s"),
    ("cold_first_line_s", "cold start: → first answer line", "s"),
    ("new_report_s", "add one seed-sized report", "s"),
    ("new_report_chunks", "its chunks", ""),
    ("store_add_s", "store: add one report, no embedding", "s"),
    ("store_delete_s", "store: delete one report", "s"),
    ("disk_commit_ratio", "disk during a commit / index", "×"),
    ("peak_rss_mb", "peak RSS (benchmark process)", "MB"),
    ("query_process_rss_mb", "peak RSS (app.py query)", "MB"),
    ("index_mb", "index on disk", "MB"),
    ("cache_mb", "embedding cache", "MB"),
    ("encoder_load_s", "encoder load", "s"),
    ("ocr_pages", "scanned pages (OCR fixture)", ""),
    ("ocr_wall_s_per_page", "OCR per page, one thread (wall)", "s"),
    ("ocr_cpu_s_per_page", "OCR per page, one thread (CPU)", "s"),
    ("ocr_file_wall_s_per_page", "OCR per page, worker pool (wall)", "s"),
    ("ocr_cached_file_s", "re-read of the scanned file from the page cache", "s"),
    ("ocr_character_error", "OCR character error vs the text", ""),
]

TARGETS = {  # (run, key): (comparison, value) from the issues; "scale" means every scale run
    ("scale", "query_p50_ms"): ("≤", 50),
    ("scale", "query_p95_ms"): ("≤", 150),
    ("scale", "recall_at_10"): ("≥", 0.95),
    ("scale", "store_add_s"): ("≤", 1),
    ("scale", "store_delete_s"): ("≤", 1),
    ("scale", "cold_start_s"): ("≤", 5),
    ("scale", "snapshot_open_s"): ("≤", 5),
    ("scale", "disk_commit_ratio"): ("≤", 1.2),
    ("bench", "new_report_s"): ("≤", 3),
    ("bench", "cold_start_s"): ("≤", 8),
    ("bench", "index_vs_encoder"): ("≥", 0.9),
}


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mark(run: str, key: str, value) -> str:
    target = TARGETS.get((run.split()[0], key))
    if target is None or value is None:
        return ""
    op, limit = target
    ok = value <= limit if op == "≤" else value >= limit
    return f" ({'✓' if ok else '✗'} {op} {limit})"


def render_encoder(e: dict) -> list[str]:
    """The encoder at the hardware's pace: tokens/s against the matmul bounds measured in the same run."""
    if "error" in e:
        return ["", f"encoder: FAILED — {e['error'].strip().splitlines()[-1]}"]
    lines = ["", f"encoder vs hardware ({e['cpu']}, {e['simd']}; {e['passages']} passages, {e['mean_tokens']} "
             f"tokens on average, {e['mflop_per_token']} MFLOP/token; {e['threads']} threads, batch {e['batch']}; "
             f"load average {e['loadavg_start']} → {e['loadavg_end']}):",
             "| variant | matmul rate | bound | tokens/s | share of bound | tokens/CPU-s | share of bound per CPU-s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, unit in (("fp32", "GFLOP/s"), ("int8", "GOP/s")):
        marks = [(" (✓ ≥ 0.6)" if e[key] >= 0.6 else " (✗ ≥ 0.6)") if kind == "int8" else ""
                 for key in (f"ratio_to_bound_{kind}", f"ratio_to_bound_cpu_{kind}")]
        lines.append(f"| {kind} | {_fmt(e[f'matmul_rate_{kind}'])} {unit} | {_fmt(e[f'bound_tokens_per_s_{kind}'])} | "
                     f"{_fmt(e[f'tokens_per_s_{kind}'])} | {e[f'ratio_to_bound_{kind}']:.2f}{marks[0]} | "
                     f"{_fmt(e[f'tokens_per_cpu_s_{kind}'])} | {e[f'ratio_to_bound_cpu_{kind}']:.2f}{marks[1]} |")
    for kind in ("fp32", "int8"):
        top = ", ".join(f"{op} {share:.0%}" for op, share in list(e[f"op_share_{kind}"].items())[:6])
        lines.append(f"{kind} time by operator: {top}")
    return lines


def render(results: list[dict], speedups: dict | None, info: dict, quick: bool = False,
           encoder: dict | None = None) -> str:
    runs = [r for r in results if "error" not in r]
    lines = [
        f"Yandu benchmark{' (--quick)' if quick else ''} — {info.get('cpu')}, {info.get('cores')} cores, "
        f"{info.get('memory_gb')} GB; Python {info.get('python')}, onnxruntime {info.get('onnxruntime')}, "
        f"torch {info.get('torch')}, faiss {info.get('faiss')}; load average {info.get('loadavg_start')} → "
        f"{info.get('loadavg_end')}",
    ]
    if runs:
        if any("encoder" in r for r in runs):
            lines.append("encoder: " + "; ".join(sorted({r["encoder"] for r in runs if "encoder" in r})))
        lines.append("")
        lines.append("| metric | unit | " + " | ".join(r["corpus"] for r in runs) + " |")
        lines.append("|---|---|" + "---:|" * len(runs))
        for key, label, unit in ROWS:
            if not any(key in r for r in runs):
                continue
            cells = [(_fmt(r.get(key)) + _mark(r["corpus"], key, r.get(key))) if key in r else "" for r in runs]
            lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
        notes = []
        for r in runs:
            reasons: dict[str, list[str]] = {}
            for key, why in r.get("notes", {}).items():
                reasons.setdefault(str(why), []).append(key)
            for why, keys in reasons.items():
                notes.append(f"- {r['corpus']}: {', '.join(keys)}: {why}")
            if str(r.get("corpus")).startswith("scale") and "build" in r:
                b = r["build"]
                notes.append(f"- {r['corpus']}: {b['copies']} copies of the {b['base_chunks']}-chunk seeds+bench corpus; "
                             f"writing the index took {b['build_s']} s (last commit {b['build_commit_s']} s; peak RSS "
                             f"{b.get('build_peak_rss_mb')} MB); search uses {r.get('ann')}; load average "
                             f"{r.get('loadavg_start')} → {r.get('loadavg_end')}")
            if "ann_recall" in r and any(k.startswith("nprobe_") for k in r["ann_recall"]):
                a = r["ann_recall"]
                parts = [f"nprobe {k[7:]}: recall@10 {v['recall@10']}, @100 {v['recall@100']}, {v['ms']} ms"
                         for k, v in a.items() if k.startswith("nprobe_")]
                notes.append(f"- {r['corpus']}: IVF{a.get('nlist')} vs exact ({a.get('flat_ms')} ms/question): "
                             + "; ".join(parts))
        if notes:
            lines += ["", "notes:", *notes]
    for r in results:
        if "error" in r:
            lines.append(f"- {r.get('corpus')}: FAILED — {r['error'].strip().splitlines()[-1]}")
    if encoder is not None:
        lines += render_encoder(encoder)
    if speedups is not None:
        lines += ["", "speed-ups (each against the state before it; best of "
                  f"{speedups.get('repeats')} runs on {speedups.get('sample_passages')} bench passages):"]
        if "error" in speedups:
            lines.append(f"FAILED — {speedups['error'].strip().splitlines()[-1]}")
        else:
            lines.append("| step | setting | value | unit | note |")
            lines.append("|---|---|---:|---|---|")
            for row in speedups["rows"]:
                lines.append(f"| {row['step']} | {row['setting']} | {_fmt(row['value'])} | {row['unit']} | {row['note']} |")
    return "\n".join(lines)
