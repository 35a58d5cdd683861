"""Embeddings cached by (model, passage text): unchanged text is never embedded twice, and a run
killed mid-way resumes where it stopped."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from ..progress import Progress, ProgressEvent, Stage


class EmbeddingCache:
    """Vectors by (model, passage text) in ``index_dir/embeddings.sqlite``; committed per batch."""

    def __init__(self, path: Path, model_id: str):
        path.parent.mkdir(parents=True, exist_ok=True)  # a Milvus store writes nothing else there
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vector BLOB, PRIMARY KEY (model, hash))")
        self.model_id = model_id

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        keys = list({self.key(t) for t in texts})
        out = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            rows = self.db.execute(
                f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({','.join('?' * len(part))})",
                [self.model_id, *part],
            )
            out.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        return out

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
            [(self.model_id, self.key(t), v.astype(np.float32).tobytes()) for t, v in zip(texts, vectors)],
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def embed_passages(encoder, cache: EmbeddingCache, texts: list[str], batch_size: int,
                   progress: Progress | None) -> np.ndarray:
    """Vectors for texts, from the cache where possible; new ones embedded in batches and cached."""
    known = cache.get(texts)
    todo = list(dict.fromkeys(t for t in texts if cache.key(t) not in known))
    todo.sort(key=len)  # similar lengths per batch: less padding
    step = batch_size * 4
    if progress and todo:  # the stage begins now (the first batch takes seconds)
        progress(ProgressEvent(Stage.EMBEDDING, 0, len(todo)))
    for start in range(0, len(todo), step):
        batch = todo[start:start + step]
        vectors = encoder.encode_passages(batch, batch_size=batch_size)
        cache.put(batch, vectors)
        known.update({cache.key(t): v for t, v in zip(batch, vectors)})
        if progress:
            progress(ProgressEvent(Stage.EMBEDDING, min(start + step, len(todo)), len(todo)))
    if not texts:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.stack([known[cache.key(t)] for t in texts])


