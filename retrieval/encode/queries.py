"""Question vectors for searching: each question encoded once, questions asked together encoded together.

The encoder is most of a search's CPU (docs/BENCHMARKS.md, "CPU per search under load"). Two things
cut it without changing a vector:
- a small LRU of the last questions' vectors, keyed by model id and the exact text encoded: the
  searches of one request (``Yandu.search_role_first``, ``Yandu.compare``: one per report) and a
  question asked again (the page's examples) encode it once;
- questions arriving while another batch is encoded wait for it and go together as the next batch
  (no waiting when the encoder is idle): a batch of 16 short questions costs 10.5 ms of CPU each
  instead of 14.6 ms one by one (measured on a busy 2-core EPYC), and its vectors are those of
  each question alone (measured: the same bits; tests/test_query_vectors.py checks them to 1e-6).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

CACHE_SIZE = 256  # questions kept (384 floats each: 0.4 MB)
MAX_BATCH = 16  # questions encoded in one run (more gains nothing: 10.5 ms each at 16, 10.5 at 40)


class _Ask:
    __slots__ = ("text", "done", "vector", "error", "lead")

    def __init__(self, text: str):
        self.text, self.done = text, threading.Event()
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.lead = False


class QueryVectors:
    """``vector(text)``: the encoder's query vector of a text (read-only float32), cached and batched.

    Thread-safe. One caller at a time encodes (the leader); callers arriving meanwhile queue, and when
    the leader's batch is done the first of them leads the next batch, with everyone queued by then.
    """

    def __init__(self, encoder, cache_size: int = CACHE_SIZE, max_batch: int = MAX_BATCH):
        self.encoder = encoder  # loaded on first use by the facade: read only when a vector is asked
        self.cache_size, self.max_batch = cache_size, max_batch
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._queue: list[_Ask] = []
        self._busy = False
        self._lock = threading.Lock()

    def vector(self, text: str) -> np.ndarray:
        key = (self.encoder.model_id, text)
        ask = _Ask(text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            self._queue.append(ask)
            if not self._busy:
                self._busy = ask.lead = True
        if not ask.lead:
            ask.done.wait()
            if not ask.lead:  # encoded in another caller's batch
                if ask.error is not None:
                    raise ask.error
                return ask.vector
        self._encode_next(key[0])
        if ask.error is not None:
            raise ask.error
        return ask.vector

    def clear(self) -> None:
        """Forget every cached vector (the benchmark's new-question figures)."""
        with self._lock:
            self._cache.clear()

    def _encode_next(self, model_id: str) -> None:
        """Encode the queue's first ``max_batch`` questions (this caller's is the first), with every later
        ask of them; asks cached meanwhile are answered from the cache. Then hand the lead on."""
        with self._lock:
            batch, cached, rest, texts = [], [], [], {}
            for a in self._queue:
                hit = self._cache.get((model_id, a.text))
                if hit is not None:
                    a.vector = hit
                    cached.append(a)
                elif a.text in texts or len(texts) < self.max_batch:
                    texts.setdefault(a.text, None)
                    batch.append(a)
                else:
                    rest.append(a)
            self._queue = rest
        texts = list(texts)
        try:
            if texts:  # none when all were cached meanwhile (by the batch before)
                rows = np.asarray(self.encoder.encode_queries(texts), dtype=np.float32)
                rows.flags.writeable = False
                vectors = dict(zip(texts, rows))
                for a in batch:
                    a.vector = vectors[a.text]
        except BaseException as e:  # every caller of the batch gets the error, none waits forever
            for a in batch:
                a.error = e
        finally:
            with self._lock:
                for a in batch:
                    if a.vector is not None:
                        self._cache[(model_id, a.text)] = a.vector
                        self._cache.move_to_end((model_id, a.text))
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
                nxt = self._queue[0] if self._queue else None
                if nxt is not None:
                    nxt.lead = True
                else:
                    self._busy = False
            for a in batch + cached:
                a.lead = False
                a.done.set()
            if nxt is not None:
                nxt.done.set()
