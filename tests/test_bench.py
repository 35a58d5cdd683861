"""The benchmark command's output contract (the IVF in large segments: tests/test_store.py).

No wall-clock figure is asserted anywhere: the machine is shared.
"""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # needs the model, an index, a server or a browser

RUN_KEYS = {"corpus", "docs", "chunks", "index_s", "index_chunks_per_s", "encoder_chunks_per_s", "query_p50_ms",
            "query_p95_ms", "cold_start_s", "new_report_s", "peak_rss_mb", "index_mb"}


def test_quick_seeds_run_prints_a_table_and_ends_with_the_json_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench", "--only", "seeds", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("| metric |") for line in lines)
    payload = json.loads(lines[-1])
    assert [r["corpus"] for r in payload["runs"]] == ["seeds"]
    run = payload["runs"][0]
    assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
    assert run["docs"] == 5 and run["chunks"] > 0 and run["new_report_chunks"] > 0
    for key in RUN_KEYS - {"corpus"}:
        assert isinstance(run[key], (int, float)) and run[key] > 0, key


def test_quick_encoder_run_reports_both_variants_against_their_bounds():
    proc = subprocess.run([sys.executable, "-m", "bench", "--only", "encoder", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("| variant | matmul rate |") for line in lines)
    encoder = json.loads(lines[-1])["encoder"]
    for kind in ("fp32", "int8"):
        for key in ("matmul_rate", "tokens_per_s", "bound_tokens_per_s", "ratio_to_bound", "tokens_per_cpu_s",
                    "ratio_to_bound_cpu"):
            assert encoder[f"{key}_{kind}"] > 0, (key, kind)
        assert encoder[f"op_share_{kind}"] and abs(sum(encoder[f"op_share_{kind}"].values()) - 1) < 0.02
    assert encoder["model_int8"] != encoder["model_fp32"] and "int8" in encoder["model_int8"]
    assert "MatMul" in encoder["op_share_fp32"] and any("Quantize" in op or "Integer" in op for op in encoder["op_share_int8"])


def test_each_timed_question_is_ranked_afresh_not_read_from_the_caches(seed_app, monkeypatch):
    """A question asked before is answered from the per-question caches: timing it times a lookup
    (the scale run's exact-search p50 read 0.000 ms when its questions repeated the ANN run's)."""
    from bench.runs import timed_queries

    ranked = []
    real = seed_app.searcher.search
    monkeypatch.setattr(seed_app.searcher, "search", lambda *a, **k: ranked.append(a[0]) or real(*a, **k))
    question = "意识形态工作存在哪些问题？"
    seed_app.search(question, 5)  # asked before: the answer cache holds it
    assert len(timed_queries(seed_app, [question], n=3, warmup=1)) == 3
    assert ranked == [question] * 4  # asked first, then each of the 3 timed (the warm-up was a cache hit)
