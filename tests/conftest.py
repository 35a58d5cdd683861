"""Shared fixtures: paths to the bundled corpus and the shared benchmark data."""
from pathlib import Path

import pytest

from retrieval.config import ROOT
from retrieval.eval.questions import BENCH, BLIND_QUESTIONS, DEV_QUESTIONS, GOV_DEV_QUESTIONS, SHARED, load_jsonl  # noqa: F401

CORPUS = ROOT / "corpus"


def seed(prefix: str) -> Path:
    return next(CORPUS.glob(f"{prefix}_*.txt"))


def shared_scorer():
    """The scorer the project is judged with (../shared/eval/score.py), as a module; the test is
    skipped where ../shared is not beside the checkout."""
    import importlib.util

    path = SHARED / "eval" / "score.py"
    if not path.exists():
        pytest.skip("../shared/eval/score.py is not present")
    spec = importlib.util.spec_from_file_location("shared_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bench_files():
    if not BENCH.exists():
        pytest.skip("../shared/bench is not present")
    return sorted(p for p in BENCH.rglob("*") if p.suffix in (".txt", ".docx"))


@pytest.fixture(scope="session")
def seed_app(tmp_path_factory):
    """A Yandu over a copy of the seed corpus, indexed once per test session."""
    import shutil

    from retrieval.config import Settings
    from retrieval.engine import Yandu

    root = tmp_path_factory.mktemp("seeds")
    shutil.copytree(CORPUS, root / "corpus")
    app = Yandu(Settings().with_overrides(corpus_dir=root / "corpus", index_dir=root / "index"))
    app.index()
    return app


def consistent(settings):
    """Manifest, live segment rows, vectors, keyword postings and metadata agree (no chunk lost or
    doubled); the snapshot."""
    from retrieval.store import Snapshot, current_generation

    snap = Snapshot(current_generation(settings.store_dir))
    manifest_ids = sorted(i for e in snap.manifest.files.values() for i in e["chunk_ids"])
    live_ids = sorted(int(i) for seg, rows in zip(snap.segments, snap.live_rows) for i in seg.ids[rows])
    assert manifest_ids == live_ids == snap.ids.tolist()
    for seg in snap.segments:
        rows = seg.rows(seg.ids.tolist())
        assert len(seg.vectors) == len(seg.postings.lengths) == len(rows) == len(seg.ids)
        assert seg.ann is None or seg.ann.ntotal == len(seg.ids)
    assert len(set(manifest_ids)) == len(manifest_ids)
    return snap
