"""The "encoder" run: the machine's matrix-multiply rates and the encoder's tokens/s against them.

ONNX Runtime runs a one-node MatMul (fp32) and MatMulInteger (uint8 × int8) graph of the model's
own feed-forward shape right before and after each encoder variant runs, so the bounds are what this
machine's kernels reach under the same load as the encoder (the machine is shared: the mean of the
two measurements is used). The encoder's cost per token, for a BERT-style model of hidden size h,
feed-forward size f, L layers and passages of s tokens: L · (2 · (4h² + 2hf) + 4sh) FLOP (≈ 48 M for
multilingual-e5-small at 300 tokens). Bound = rate / that; the ratio says how much of the hardware
the encoder uses. Both are best-of measurements (matmul: best run in a second; encoder: best of
repeats per batch), per wall second and per CPU-second of the process; the CPU-second ratio is the
steadier one on a shared machine. One profiled pass per variant says where the time goes (share of
kernel time per operator type).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from .common import Clock, loadavg, machine

SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")  # what MLAS's kernels use


def simd() -> str:
    """The vector extensions of this CPU that decide ONNX Runtime's matmul kernels (the int8 ones above all)."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), [])
    except OSError:
        flags = []
    return " ".join(f for f in SIMD_FLAGS if f in flags) or "unknown"


def _session(graph, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])


def matmul_rate(kind: str, m: int, k: int, n: int, threads: int, seconds: float = 1.0) -> tuple[float, float]:
    """Best-of rates of ONNX Runtime's MatMul (fp32, GFLOP/s) or MatMulInteger (int8, GOP/s) on (m×k)·(k×n):
    (per wall second, per CPU-second of this process)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if kind == "fp32":
        b = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "B")
        node = helper.make_node("MatMul", ["A", "B"], ["C"])
        a_type, c_type, a = TensorProto.FLOAT, TensorProto.FLOAT, rng.standard_normal((m, k)).astype(np.float32)
    else:
        b = numpy_helper.from_array(rng.integers(-127, 127, (k, n), dtype=np.int8), "B")
        node = helper.make_node("MatMulInteger", ["A", "B"], ["C"])
        a_type, c_type, a = TensorProto.UINT8, TensorProto.INT32, rng.integers(0, 255, (m, k), dtype=np.uint8)
    graph = helper.make_model(helper.make_graph([node], kind, [helper.make_tensor_value_info("A", a_type, [m, k])],
                                                [helper.make_tensor_value_info("C", c_type, [m, n])], [b]),
                              opset_imports=[helper.make_opsetid("", 17)])
    graph.ir_version = 8
    session = _session(graph, threads)
    session.run(None, {"A": a})
    wall, cpu, deadline = float("inf"), float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        with Clock() as c:
            session.run(None, {"A": a})
        wall, cpu = min(wall, c.wall), min(cpu, c.cpu)
    ops = 2 * m * k * n / 1e9
    return ops / wall, ops / max(cpu, 1e-9)


def timed_batches(encoder, texts: list[str], batch: int, repeats: int) -> tuple[float, float]:
    """(wall, CPU) seconds to encode ``texts``: length-sorted batches as the encoder forms them, each batch
    timed ``repeats`` times and its best kept. Best-of per batch (about a second each) is measured like
    the matmul rates, so a neighbour's load on a shared machine hits bound and encoder alike."""
    counts = encoder.token_counts(texts)
    ordered = [texts[i] for i in np.argsort(counts, kind="stable")]
    wall = cpu = 0.0
    for start in range(0, len(ordered), batch):
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(repeats):
            with Clock() as c:
                encoder.encode_passages(ordered[start:start + batch], batch_size=batch)
            best_wall, best_cpu = min(best_wall, c.wall), min(best_cpu, c.cpu)
        wall, cpu = wall + best_wall, cpu + best_cpu
    return wall, cpu


def op_shares(events: list[dict]) -> dict[str, float]:
    """Share of kernel time per operator type in an ONNX Runtime profile (its JSON event list), largest first."""
    totals: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            totals[op] = totals.get(op, 0.0) + e.get("dur", 0)
    whole = sum(totals.values()) or 1.0
    return {op: round(t / whole, 3) for op, t in sorted(totals.items(), key=lambda kv: -kv[1])}


def profile_ops(encoder, texts: list[str], batch: int, threads: int, workdir: Path) -> dict[str, float]:
    """Where the encoder's time goes: op_shares of one profiled pass over ``texts``."""
    from retrieval.encode.onnx_encoder import _Runtime

    runtime = _Runtime(encoder.source, encoder.onnx_path, threads, profile_prefix=str(workdir / "ort-profile"))
    runtime.encode([encoder.passage_prompt + t for t in texts], batch)
    path = Path(runtime.session.end_profiling())
    try:
        return op_shares(json.loads(path.read_text(encoding="utf-8")))
    finally:
        path.unlink(missing_ok=True)


def flops_per_token(config: dict, tokens: float) -> float:
    h, f, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    return layers * (2 * (4 * h * h + 2 * h * f) + 4 * tokens * h)


def run(workdir: Path, quick: bool) -> dict:
    from retrieval.config import Settings
    from retrieval.encode import load_encoder

    from .speedups import sample_texts

    settings = Settings()
    threads = settings.encoder_threads or os.cpu_count() or 1
    batch = settings.embed_batch_size
    out: dict = {"corpus": "encoder", "loadavg_start": loadavg(), "threads": threads, "batch": batch,
                 "cpu": machine()["cpu"], "simd": simd()}
    texts = sample_texts(settings, 24 if quick else 96)
    config = json.loads((settings.models_dir / settings.model / "config.json").read_text(encoding="utf-8"))
    shape = (512, config["hidden_size"], config["intermediate_size"])
    for quantize, kind in (("none", "fp32"), ("int8", "int8")):
        encoder = load_encoder(settings.with_overrides(quantize=quantize))
        counts = encoder.token_counts(texts)
        tokens = sum(min(c, 512) for c in counts)
        per_token = flops_per_token(config, tokens / len(texts))
        encoder.encode_passages(texts[:batch], batch_size=batch)  # warm-up
        before = matmul_rate(kind, *shape, threads)
        wall, cpu = timed_batches(encoder, texts, batch, 2 if quick else 3)
        after = matmul_rate(kind, *shape, threads)
        rate, rate_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2  # the machine is shared
        bound, bound_cpu = rate * 1e9 / per_token, rate_cpu * 1e9 / per_token
        out.update({f"matmul_rate_{kind}": round(rate, 1), f"model_{kind}": encoder.model_id,
                    f"tokens_per_s_{kind}": round(tokens / wall, 1), f"bound_tokens_per_s_{kind}": round(bound, 1),
                    f"ratio_to_bound_{kind}": round(tokens / wall / bound, 3),
                    f"tokens_per_cpu_s_{kind}": round(tokens / cpu, 1),
                    f"ratio_to_bound_cpu_{kind}": round(tokens / cpu / bound_cpu, 3),
                    f"op_share_{kind}": profile_ops(encoder, texts[:8 if quick else 24], batch, threads, workdir)})
        out.update(mflop_per_token=round(per_token / 1e6, 1), passages=len(texts),
                   mean_tokens=round(tokens / len(texts), 1))
    out["loadavg_end"] = loadavg()
    return out
