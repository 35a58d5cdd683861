"""What every encoder promises, and the prompts each model family expects."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

BGE_ZH_QUERY_PROMPT = "为这个句子生成表示以用于检索相关文章："


@runtime_checkable
class Encoder(Protocol):
    """Texts in, float32 L2-normalised rows out; queries and passages get their own prompts.

    ``model_id`` names the vectors: an index built with another id is rebuilt. ``runtime`` says
    what computes them ("onnx" or "torch").
    """

    model_id: str
    dim: int
    runtime: str
    query_prompt: str
    passage_prompt: str

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def token_counts(self, texts: list[str]) -> list[int]: ...


def prompts_for(family: str, configured: dict[str, str]) -> tuple[str, str]:
    """(query, passage) prompts: fixed for known families, otherwise the model's own configuration."""
    if "bge" in family and "m3" in family:
        return "", ""
    if "bge" in family and "zh" in family:
        return BGE_ZH_QUERY_PROMPT, ""
    if "e5" in family and "instruct" not in family:
        return "query: ", "passage: "
    passage = next((configured[k] for k in ("document", "passage", "corpus") if configured.get(k)), "")
    return configured.get("query", ""), passage
