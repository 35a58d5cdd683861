"""The "encoder" run: the machine's matrix-multiply rates and the encoder's tokens/s against them.

ONNX Runtime runs a one-node MatMul (fp32) and MatMulInteger (uint8 × int8) graph of the model's
own feed-forward shape right before and after each encoder variant runs, so the bounds are what this
machine's kernels reach under the same load as the encoder (the machine is shared: the mean of the
two measurements is used). The encoder's cost per token, for a BERT-style model of hidden size h,
feed-forward size f, L layers and passages of s tokens: L · (2 · (4h² + 2hf) + 4sh) FLOP (≈ 48 M for
multilingual-e5-small at 300 tokens). Bound = rate / that; the ratio says how much of the hardware
the encoder uses.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from .common import Clock, loadavg


def _session(graph, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])


def matmul_rate(kind: str, m: int, k: int, n: int, threads: int, seconds: float = 1.0) -> float:
    """Best-of fp32 GFLOP/s or int8 GOP/s of ONNX Runtime's MatMul / MatMulInteger on (m×k)·(k×n)."""
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
    best, deadline = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        session.run(None, {"A": a})
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e9


def flops_per_token(config: dict, tokens: float) -> float:
    h, f, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    return layers * (2 * (4 * h * h + 2 * h * f) + 4 * tokens * h)


def run(workdir: Path, quick: bool) -> dict:
    from retrieval.config import Settings
    from retrieval.encode import load_encoder

    from .speedups import sample_texts

    settings = Settings()
    threads = settings.encoder_threads or os.cpu_count() or 1
    out: dict = {"corpus": "encoder", "loadavg_start": loadavg(), "threads": threads}
    texts = sample_texts(settings, 24 if quick else 96)
    config = json.loads((settings.models_dir / settings.model / "config.json").read_text(encoding="utf-8"))
    variants, rates = {}, {}
    shape = (512, config["hidden_size"], config["intermediate_size"])
    for quantize, kind in (("none", "fp32"), ("int8", "int8")):
        encoder = load_encoder(settings.with_overrides(quantize=quantize))
        before = matmul_rate(kind, *shape, threads)
        counts = encoder.token_counts(texts)
        tokens = sum(min(c, 512) for c in counts)
        encoder.encode_passages(texts[:4], batch_size=settings.embed_batch_size)  # warm-up
        best = float("inf")
        for _ in range(1 if quick else 2):
            with Clock() as c:
                encoder.encode_passages(texts, batch_size=settings.embed_batch_size)
            best = min(best, c.wall)
        rates[kind] = round((before + matmul_rate(kind, *shape, threads)) / 2, 1)
        variants[quantize] = {"model": encoder.model_id, "tokens_per_s": round(tokens / best, 1),
                              "mean_tokens": round(tokens / len(texts), 1)}
    mean_tokens = variants["none"]["mean_tokens"]
    per_token = flops_per_token(config, mean_tokens)
    out.update(matmul_gflops_fp32=rates["fp32"], matmul_gops_int8=rates["int8"],
               mflop_per_token=round(per_token / 1e6, 1), passages=len(texts), mean_tokens=mean_tokens)
    for quantize, bound_key in (("none", "fp32"), ("int8", "int8")):
        v = variants[quantize]
        bound = rates[bound_key] * 1e9 / per_token
        out[f"tokens_per_s_{bound_key}"] = v["tokens_per_s"]
        out[f"bound_tokens_per_s_{bound_key}"] = round(bound, 1)
        out[f"ratio_to_bound_{bound_key}"] = round(v["tokens_per_s"] / bound, 3)
    out["loadavg_end"] = loadavg()
    return out
