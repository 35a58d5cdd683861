"""Approximate vector search (IVF) for large segments; small ones are searched exactly.

The IVF's lists hold 8-bit scalar-quantised vectors (a quarter of the bytes to scan per list); the
segment re-scores the candidates it returns with the exact stored vectors (`RERANK` × k of them),
so every score a question sees is the exact inner product.
"""
from __future__ import annotations

import faiss
import numpy as np

ANN_FILE = "vectors.ivf.faiss"
# Candidates fetched from the IVF per row wanted, then re-scored exactly: the 8-bit scores move a
# row by ~1e-3, so only near-ties change order, and twice k leaves room for every one of them.
RERANK = 2


def ideal_nlist(n: int) -> int:
    """IVF lists for n vectors: the power of two nearest sqrt(n), at least 16."""
    return max(16, 1 << max(0, round(np.log2(max(n, 1)) / 2)))


def build_ivf(vectors: np.ndarray, ids: np.ndarray, nprobe: int, seed: int = 0) -> faiss.Index:
    """An IVF (inner product, lists of 8-bit scalar-quantised vectors) over the vectors with their ids."""
    n, dim = vectors.shape
    nlist = ideal_nlist(n)
    ivf = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(n, min(n, 64 * nlist), replace=False)
    ivf.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    ivf.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    ivf.nprobe = nprobe
    return ivf


class ApproximateIndex:
    """An IVF index searched like a flat one: ``search(x, k, params=faiss.SearchParameters(sel=…))``.

    Unfiltered questions probe ``nprobe`` lists; filtered ones probe every list, so a filter never
    loses hits (only the selected vectors are scored, which is cheap).
    """

    def __init__(self, index: faiss.Index, nprobe: int | None):
        self._owner = index  # the downcast view below does not own the index's memory
        self.index = faiss.downcast_index(index)
        self.nprobe = nprobe or self.index.nlist

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    @property
    def d(self) -> int:
        return self.index.d

    def search(self, x, k, params=None):
        sel = getattr(params, "sel", None) if params is not None else None
        ivf_params = faiss.SearchParametersIVF(nprobe=self.index.nlist if sel is not None else self.nprobe)
        if sel is not None:
            ivf_params.sel = sel
        return self.index.search(x, k, params=ivf_params)
