"""The benchmark command's output contract, and the approximate (IVF) vector index above its threshold.

No wall-clock figure is asserted anywhere: the machine is shared.
"""
import json
import subprocess
import sys

import faiss
import numpy as np
import pytest

from retrieval.ingest import chunk_document
from retrieval.config import Settings
from retrieval.ingest import parse_file
from retrieval.store import ANN_FILE, ApproximateIndex, Manifest, Snapshot, Writer, current_generation

from conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow  # needs the model, an index, a server or a browser

RUN_KEYS = {"corpus", "docs", "chunks", "index_s", "index_chunks_per_s", "encoder_chunks_per_s", "query_p50_ms",
            "query_p95_ms", "cold_start_s", "new_report_s", "peak_rss_mb", "index_mb"}


def test_quick_seeds_run_prints_a_table_and_ends_with_the_json_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench", "--only", "seeds", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith("| metric |") for line in lines)
    payload = json.loads(lines[-1])
    assert [r["corpus"] for r in payload["runs"]] == ["seeds"]
    run = payload["runs"][0]
    assert RUN_KEYS <= set(run), RUN_KEYS - set(run)
    assert run["docs"] == 5 and run["chunks"] > 0 and run["new_report_chunks"] > 0
    for key in RUN_KEYS - {"corpus"}:
        assert isinstance(run[key], (int, float)) and run[key] > 0, key


def _ivf_ids(index) -> set[int]:
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    return {int(i) for n in range(ivf.nlist) for i in faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n))}


def _write(index_dir, settings, fresh, docs=(), remove=()):
    manifest = Manifest("test-model", 16, "v") if fresh else Manifest.read(current_generation(index_dir) / "manifest.json")
    with Writer(index_dir, manifest, fresh=fresh, settings=settings) as writer:
        for source in remove:
            writer.remove_source(source)
        rng = np.random.default_rng(len(manifest.files))
        for doc, chunks in docs:
            vectors = rng.standard_normal((len(chunks), 16)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            ids = writer.add_document(doc, doc.source, chunks, vectors, [["词"]] * len(chunks))
            manifest.files[doc.source] = {"sha256": doc.source, "size": 0, "chunk_ids": ids}
        for source in remove:
            manifest.files.pop(source)
        writer.commit()
    return Snapshot(current_generation(index_dir))


@pytest.fixture(scope="module")
def seed_docs():
    docs = []
    for path in sorted(CORPUS.glob("*.txt")):
        doc = parse_file(path, path.name)
        docs.append((doc, chunk_document(doc)))
    return docs


def test_ivf_above_the_threshold_stays_in_step_with_the_flat_index(tmp_path, seed_docs):
    index_dir = tmp_path / "index"
    n_chunks = sum(len(c) for _, c in seed_docs)
    small = Settings().with_overrides(index_dir=index_dir, ann_threshold=n_chunks + 1000)
    snap = _write(index_dir, small, True, seed_docs)
    assert not (snap.folder / ANN_FILE).exists() and not isinstance(snap.vectors, ApproximateIndex)

    low = small.with_overrides(ann_threshold=10, ann_nprobe=4)
    snap = _write(index_dir, low, False, remove=[seed_docs[0][0].source])  # crosses the threshold: IVF built
    assert isinstance(snap.vectors, ApproximateIndex)
    flat = faiss.read_index(str(snap.folder / "vectors.faiss"))
    ivf = faiss.read_index(str(snap.folder / ANN_FILE))
    expected = set(faiss.vector_to_array(flat.id_map).tolist())
    assert _ivf_ids(ivf) == expected == set(snap.ids.tolist())

    # removal by id and additions reach the IVF too, without retraining it
    snap = _write(index_dir, low, False, docs=seed_docs[:1], remove=[seed_docs[1][0].source])
    ivf2 = faiss.read_index(str(snap.folder / ANN_FILE))
    flat = faiss.read_index(str(snap.folder / "vectors.faiss"))
    assert _ivf_ids(ivf2) == set(faiss.vector_to_array(flat.id_map).tolist()) == set(snap.ids.tolist())
    assert faiss.extract_index_ivf(ivf2).nlist == faiss.extract_index_ivf(ivf).nlist

    # every stored vector finds itself; a filtered search scores every selected vector (exact)
    vectors = np.stack([flat.reconstruct(int(i)) for i in snap.ids[:20]])
    full = ApproximateIndex(ivf2, faiss.extract_index_ivf(ivf2).nlist)
    _, found = full.search(vectors, 1)
    assert found[:, 0].tolist() == snap.ids[:20].tolist()
    chosen = snap.ids[snap.sources == seed_docs[2][0].source]
    params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(chosen))
    _, exact = flat.search(vectors[:3], 5, params=params)
    _, approx = snap.vectors.search(vectors[:3], 5, params=params)
    assert set(approx.ravel()) <= set(chosen.tolist()) and (exact == approx).all()

    # back below the threshold: exact search again, no IVF file
    snap = _write(index_dir, small, False, remove=[seed_docs[2][0].source])
    assert not (snap.folder / ANN_FILE).exists() and not isinstance(snap.vectors, ApproximateIndex)
