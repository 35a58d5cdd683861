"""Pure parts of the encoder and its hardware bench: the int8 model id, the FLOP count, the profile breakdown."""
from __future__ import annotations

from bench.hardware import SIMD_FLAGS, flops_per_token, op_shares, simd
from retrieval.encode import onnx_encoder
from retrieval.encode.onnx_encoder import quantized_model_id

E5_SMALL = {"hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 12}


def test_int8_model_id_names_the_recipe(monkeypatch):
    first = quantized_model_id("multilingual-e5-small")
    assert first.startswith("multilingual-e5-small+int8-") and first == quantized_model_id("multilingual-e5-small")
    monkeypatch.setitem(onnx_encoder.INT8_RECIPE, "per_channel", not onnx_encoder.INT8_RECIPE["per_channel"])
    second = quantized_model_id("multilingual-e5-small")
    assert second != first  # another recipe gives other vectors: indexes re-embed instead of mixing them
    assert quantized_model_id("other-model") != second


def test_flops_per_token_of_e5_small():
    # 12 · (2 · (4·384² + 2·384·1536) + 4·300·384) = 48.0 M at 300-token passages (issue 13's figure).
    assert flops_per_token(E5_SMALL, 300) == 12 * (2 * (4 * 384 ** 2 + 2 * 384 * 1536) + 4 * 300 * 384)
    assert round(flops_per_token(E5_SMALL, 300) / 1e6) == 48
    assert flops_per_token(E5_SMALL, 500) > flops_per_token(E5_SMALL, 100)  # attention grows with length


def test_op_shares_sum_kernel_time_per_operator():
    def node(op, dur, name="x_kernel_time"):
        return {"cat": "Node", "name": name, "dur": dur, "args": {"op_name": op}}

    events = [node("QAttention", 30), node("DynamicQuantizeMatMul", 50), node("QAttention", 10),
              node("DynamicQuantizeMatMul", 999, name="x_fence_before"),  # not a kernel timing
              {"cat": "Session", "name": "model_run", "dur": 5000}, node("Cast", 0)]
    shares = op_shares(events)
    assert list(shares) == ["DynamicQuantizeMatMul", "QAttention", "Cast"]
    assert shares == {"DynamicQuantizeMatMul": 0.556, "QAttention": 0.444, "Cast": 0.0}
    assert op_shares([]) == {}


def test_simd_names_only_known_extensions():
    found = simd()
    assert found == "unknown" or set(found.split()) <= set(SIMD_FLAGS)
