"""Question vectors (retrieval/encode/queries.py): cached by model and text, batched when asked together,
never different from encoding each question alone."""
import threading
import time

import numpy as np
import pytest

from retrieval.encode import QueryVectors


class CountingEncoder:
    """Deterministic vectors (character codes folded into 8 dimensions), every call recorded; a call
    can be held open with ``gate`` to let other questions queue behind it."""

    def __init__(self, model_id="m1"):
        self.model_id = model_id
        self.calls: list[list[str]] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.fail = False

    def encode_queries(self, texts):
        self.calls.append(list(texts))
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("encoder broke")
        return np.stack([vector_of(t) for t in texts]).astype(np.float32)


def vector_of(text: str) -> np.ndarray:
    v = np.zeros(8)
    for i, ch in enumerate(text):
        v[i % 8] += ord(ch) % 97
    return v / max(np.linalg.norm(v), 1e-9)


def test_a_question_is_encoded_once_per_model_and_its_vector_cannot_be_changed():
    enc = CountingEncoder()
    qv = QueryVectors(enc)
    first = qv.vector("存在哪些问题")
    assert np.allclose(first, vector_of("存在哪些问题"))
    assert qv.vector("存在哪些问题") is first
    assert enc.calls == [["存在哪些问题"]]
    with pytest.raises(ValueError):
        first[0] = 1.0
    enc.model_id = "m2"  # another model: its own vector
    qv.vector("存在哪些问题")
    assert len(enc.calls) == 2


def test_the_cache_keeps_the_last_questions_only():
    enc = CountingEncoder()
    qv = QueryVectors(enc, cache_size=2)
    for t in ("甲", "乙", "丙", "丙", "甲"):
        qv.vector(t)
    assert enc.calls == [["甲"], ["乙"], ["丙"], ["甲"]]  # 甲 was the oldest when 丙 came
    qv.clear()
    qv.vector("丙")
    assert enc.calls[-1] == ["丙"]


def _ask_in_threads(qv, texts):
    out, errors = {}, {}

    def ask(t):
        try:
            out[t] = qv.vector(t)
        except Exception as e:
            errors[t] = e

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    return threads, out, errors


def _wait_queued(qv, n):
    deadline = time.monotonic() + 10
    while len(qv._queue) < n:
        assert time.monotonic() < deadline, "questions did not queue"
        time.sleep(0.01)


def test_questions_asked_while_one_is_encoded_go_together_as_the_next_batch():
    enc = CountingEncoder()
    enc.gate = threading.Event()
    qv = QueryVectors(enc, max_batch=3)
    first, out1, _ = _ask_in_threads(qv, ["第一问"])
    assert enc.entered.wait(10)
    later = ["问二", "问三", "问四", "问五", "问三"]  # a question asked twice is encoded once
    threads, out, errors = _ask_in_threads(qv, later)
    _wait_queued(qv, len(later))
    enc.gate.set()
    for th in first + threads:
        th.join(10)
    assert not errors
    assert enc.calls[0] == ["第一问"]
    assert sum(len(c) for c in enc.calls[1:]) == 4 and max(len(c) for c in enc.calls[1:]) <= 3
    assert len(enc.calls) == 3  # the four waiting questions in two batches of at most 3
    for t in ["第一问", *later]:
        got = (out1 | out)[t]
        assert np.allclose(got, vector_of(t)), t


def test_an_encoder_failure_reaches_every_caller_of_the_batch_and_the_next_question_is_answered():
    enc = CountingEncoder()
    enc.gate = threading.Event()
    qv = QueryVectors(enc)
    first, _, errors1 = _ask_in_threads(qv, ["第一问"])
    assert enc.entered.wait(10)
    enc.fail = True
    threads, out, errors = _ask_in_threads(qv, ["问二", "问三"])
    _wait_queued(qv, 2)
    enc.gate.set()
    for th in first + threads:
        th.join(10)
    assert not out and set(errors) == {"问二", "问三"} and set(errors1) == {"第一问"}
    assert all("encoder broke" in str(e) for e in (errors | errors1).values())
    enc.fail, enc.gate = False, None
    assert np.allclose(qv.vector("问二"), vector_of("问二"))  # not stuck: the lead was handed back


@pytest.mark.slow  # needs the model
def test_batched_question_vectors_are_the_vectors_of_each_question_alone(seed_app):
    from bench.common import questions

    encoder = seed_app.encoder
    qs = questions()[:16]
    alone = np.vstack([encoder.encode_queries([q]) for q in qs])
    together = encoder.encode_queries(qs)
    assert np.abs(alone - together).max() <= 1e-6
