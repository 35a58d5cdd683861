"""The encoder on ONNX Runtime: the same sentence-transformers model, exported once, run without torch.

Importing torch + sentence-transformers costs seconds at every start of the CLI; ONNX Runtime
and the Rust tokenizer load in a fraction of that, and ORT's fused BERT kernels (attention,
skip-layer-norm, bias-GELU) are faster on CPU. The export — torch → ONNX, BERT fusions, and for
``int8`` dynamic quantisation with per-channel weight scales — runs once per model and variant
into ``models_dir/onnx/<fingerprint of the model folder>/`` and is checked against the torch
model before it is used: cosine ≥ 0.9999 (fp32) or ≥ 0.99 (int8) on a fixed set of texts.

Only BERT-family models (BERT, RoBERTa, XLM-R) with mean or CLS pooling are exported; anything
else raises :class:`OnnxUnsupported` and the caller falls back to sentence-transformers.
"""
from __future__ import annotations

import hashlib
import json
import os
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .torch_encoder import load_sentence_transformer

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "int8")
MIN_COSINE = {"fp32": 0.9999, "int8": 0.99}
EXPORT_VERSION = "1"  # bump when the export recipe changes: the fingerprint changes, the model is re-exported
# int8 dynamic quantisation (quantize_dynamic's arguments). Its vectors differ a little from fp32's, so the
# recipe is part of the int8 model id (see quantized_model_id): changing it re-embeds, never mixes vectors.
# Measured on a 2-core AVX2 EPYC (docs/BENCHMARKS.md, per CPU-second, interleaved): per-tensor weights,
# reduce_range, uint8 weights, MatMul-only and a MultiHeadAttention graph were no faster than this one.
INT8_RECIPE = {"weight_type": "QInt8", "per_channel": True}
CHECK_TEXTS = [
    "passage: 党支部全年共开展“红色走读”活动17次，发展党员3名。",
    "query: 意识形态工作存在哪些问题？",
    "passage: " + "坚持以习近平新时代中国特色社会主义思想为指导，深入贯彻落实党的二十大精神，" * 12,
    "passage: Total revenue reached 1.25 billion yuan in 2023, up 12.5% year on year.",
    "query: 下一步工作打算",
]


class OnnxUnsupported(Exception):
    """This model (or this machine) cannot run the encoder on ONNX Runtime; use sentence-transformers."""


def _config(source: Path) -> tuple[dict, str, Path]:
    """(transformer config, pooling mode, folder of the transformer module) of a sentence-transformers folder."""
    try:
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise OnnxUnsupported(f"{source} is not a sentence-transformers folder") from None
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if not kinds or kinds[0] != "Transformer" or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise OnnxUnsupported(f"modules {kinds} are not Transformer → Pooling → Normalize")
    folder = source / modules[0].get("path", "")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") not in ("bert", "roberta", "xlm-roberta"):
        raise OnnxUnsupported(f"model type {config.get('model_type')!r} is not a BERT-family encoder")
    if not (folder / "tokenizer.json").is_file():
        raise OnnxUnsupported("no fast tokenizer (tokenizer.json)")
    pooling = "mean"
    pool = next((m for m in modules if m.get("type", "").endswith("Pooling")), None)
    if pool is not None:
        p = json.loads((source / pool["path"] / "config.json").read_text(encoding="utf-8"))
        if isinstance(p.get("pooling_mode"), str):
            mode = p["pooling_mode"]
        else:  # older layout: one boolean per mode
            named = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
            on = [k for k, v in p.items() if k.startswith("pooling_mode_") and v is True]
            mode = named.get(on[0], on[0]) if len(on) == 1 else "+".join(on) or "mean"
        if mode not in ("mean", "cls") or p.get("include_prompt", True) is False:
            raise OnnxUnsupported(f"pooling {mode!r} is not supported")
        pooling = mode
    return config, pooling, folder


def fingerprint(source: Path) -> str:
    """Cheap identity of a model folder's weights and configuration (the same model copied elsewhere matches)."""
    _, _, folder = _config(source)
    h = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        for base in (folder, source):
            if (base / name).is_file():
                h.update(name.encode() + (base / name).read_bytes())
                break
    weights = next((folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).is_file()), None)
    if weights is None:
        raise OnnxUnsupported("no model.safetensors / pytorch_model.bin")
    size = weights.stat().st_size
    h.update(str(size).encode())
    with open(weights, "rb") as f:  # head and tail of the weights: enough to tell models apart, cheap to read
        h.update(f.read(1 << 20))
        f.seek(max(0, size - (1 << 20)))
        h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def onnx_path(source: Path, models_dir: Path, variant: str) -> Path:
    """Where the exported ONNX model of ``source`` lives (or will)."""
    return Path(models_dir) / "onnx" / fingerprint(source) / f"model-{_int8_tag() if variant == 'int8' else variant}.onnx"


def ensure_onnx(source: Path, models_dir: Path, variant: str) -> Path:
    """Path of the exported (and checked) ONNX model for ``source``; exports on first use (safe across processes)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; one of {VARIANTS}")
    target = onnx_path(source, models_dir, variant)
    folder = target.parent
    if target.is_file():  # only ever appears complete (os.replace below)
        return target
    try:
        from filelock import FileLock
        import onnx  # noqa: F401  (needed by the export and the quantiser)
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise OnnxUnsupported(f"{e.name} is not installed") from None
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".export.lock")):
        if target.is_file():
            return target
        log.warning("preparing the %s ONNX encoder for %s (once, about a minute) …", variant, source.name)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp", dir=folder))
        try:
            fp32 = folder / "model-fp32.onnx"
            if not fp32.is_file():
                _export(source, tmp / "model-fp32.onnx")
                _check(source, tmp / "model-fp32.onnx", "fp32")
                os.replace(tmp / "model-fp32.onnx", fp32)
            if variant == "int8":
                _quantize(fp32, tmp / target.name)
                _check(source, tmp / target.name, "int8")
                os.replace(tmp / target.name, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _export(source: Path, out: Path) -> None:
    """torch → ONNX (TorchScript exporter, dynamic batch and length), then ORT's offline BERT fusions."""
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    config, _, folder = _config(source)
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager", dtype=torch.float32).eval()

    class Hidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=torch.zeros_like(input_ids)).last_hidden_state

    raw = out.with_suffix(".raw.onnx")
    ids = torch.full((2, 16), 5, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "last_hidden_state": {0: "batch", 1: "tokens"}}
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(), (ids, torch.ones_like(ids)), str(raw), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes=axes)
    fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config["num_attention_heads"],
                                     hidden_size=config["hidden_size"], opt_level=1)
    fused.save_model_to_file(str(out))
    raw.unlink()


def _int8_tag() -> str:
    """"int8-" + a digest of INT8_RECIPE: names both the int8 model file and its vectors."""
    return "int8-" + hashlib.sha256(json.dumps(INT8_RECIPE, sort_keys=True).encode()).hexdigest()[:8]


def quantized_model_id(name: str) -> str:
    """Model id of the int8 vectors of ``name`` (the embedding cache and the manifest key on it)."""
    return f"{name}+{_int8_tag()}"


def _quantize(fp32: Path, out: Path) -> None:
    """int8 dynamic quantisation (weights per output channel, activations per batch) of MatMul,
    attention and the embedding tables."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs a generic "consider pre-processing" warning
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType[INT8_RECIPE["weight_type"]],
                         per_channel=INT8_RECIPE["per_channel"],
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)


def _check(source: Path, path: Path, variant: str) -> None:
    """The exported model must agree with sentence-transformers on CHECK_TEXTS."""
    reference = load_sentence_transformer(str(source))
    expected = reference.encode(CHECK_TEXTS, convert_to_numpy=True, normalize_embeddings=True)
    ours = _Runtime(source, path, threads=0).encode(CHECK_TEXTS, batch_size=2)
    cosine = np.sum(expected * ours, axis=1)
    if cosine.min() < MIN_COSINE[variant]:
        raise OnnxUnsupported(f"the {variant} ONNX export disagrees with the model (cosine {cosine.min():.4f})")


class _Runtime:
    """Tokenizer + ONNX Runtime session + pooling: texts in, L2-normalised float32 rows out."""

    def __init__(self, source: Path, path: Path, threads: int, profile_prefix: str = ""):
        """``profile_prefix``: write ONNX Runtime's per-node timings there (the bench's breakdown)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config, self.pooling, folder = _config(source)
        self.dim = int(config["hidden_size"])
        self.pad_id = int(config.get("pad_token_id") or 0)
        limit = int(config.get("max_position_embeddings", 512))
        if config.get("model_type") in ("roberta", "xlm-roberta"):
            limit -= 2  # positions start after the padding index
        try:
            st = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            st = {}
        tok_config = {}
        if (folder / "tokenizer_config.json").is_file():
            tok_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        self.max_len = min(limit, int(st.get("max_seq_length") or tok_config.get("model_max_length") or limit))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle workers sleep instead of spinning: on a shared or busy machine spinning threads steal the
        # cores the work needs (measured: a question 24 → 12 ms on a loaded 2-core box, batches no slower).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if profile_prefix:
            options.enable_profiling, options.profile_file_prefix = True, profile_prefix
        # The session is built in a thread while the tokenizer loads here: ONNX Runtime releases the
        # GIL, the tokenizer holds it (measured, busy 2-core box: session 0.7–2.0 s, tokenizer 1.4–1.9 s).
        with ThreadPoolExecutor(1) as pool:
            session = pool.submit(ort.InferenceSession, str(path), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self.tokenizer.no_padding()
            self.tokenizer.enable_truncation(self.max_len)
            self.session = session.result()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        encodings = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = np.argsort([len(ids) for ids in encodings], kind="stable")  # similar lengths per batch: less padding
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start:start + batch_size]
            width = max(len(encodings[i]) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, np.int64)
            mask = np.zeros((len(rows), width), np.int64)
            for j, i in enumerate(rows):
                ids[j, :len(encodings[i])] = encodings[i]
                mask[j, :len(encodings[i])] = 1
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                pooled = np.einsum("btd,bt->bd", hidden, mask.astype(np.float32)) / mask.sum(1, keepdims=True)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


class OnnxEncoder:
    """The Encoder protocol on ONNX Runtime: vectors equal to sentence-transformers' (fp32: to 1e-6;
    int8: cosine ≥ 0.99), without torch."""

    runtime = "onnx"

    def __init__(self, source: Path, path: Path, model_id: str, query_prompt: str, passage_prompt: str,
                 threads: int = 0):
        self.session = _Runtime(source, path, threads)
        self.source, self.onnx_path, self.model_id = source, path, model_id
        self.query_prompt, self.passage_prompt = query_prompt, passage_prompt
        self.dim = self.session.dim
        self._model = None

    @property
    def model(self):
        """The sentence-transformers model with the same weights, loaded on first access (tools and tests;
        encoding never uses it)."""
        if self._model is None:
            self._model = load_sentence_transformer(str(self.source))
        return self._model

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.session.encode([self.query_prompt + t.strip() for t in texts], 32)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.session.encode([self.passage_prompt + t.strip() for t in texts], batch_size)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.session.tokenizer.encode_batch([self.passage_prompt + t for t in texts])]


def prompts_of(source: Path) -> dict[str, str]:
    try:
        return json.loads((source / "config_sentence_transformers.json").read_text(encoding="utf-8")).get("prompts") or {}
    except (OSError, ValueError):
        return {}
