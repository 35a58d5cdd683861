"""`python -m bench --profile`: where the CPU of one search goes, stage by stage, in-process.

The seed reports are indexed in a fresh folder, then every bench question is asked ``rounds`` times
through ``Yandu.search`` and turned into the `/search` API's JSON, one at a time: once as new questions
(the question caches emptied before each search) and once as questions asked again. Each stage is a
function of the pipeline wrapped with a CPU clock (``time.process_time``: every thread of the
process, so ONNX Runtime's own threads are counted); a stage's time excludes the stages it calls.
Nothing runs beside the searches, so the process's CPU is theirs. Gradio's share is not here: it is
the load run's CPU per search (``--load``) less this total.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .common import forget, make_corpus, questions

# (stage, "module:attribute path") — wrapped in this order; a stage's CPU excludes wrapped stages it calls.
STAGES = (
    ("question: normalise, understand (jieba, units, years)", "retrieval.search.searcher:normalize_question"),
    ("question: normalise, understand (jieba, units, years)", "retrieval.search.searcher:understand"),
    ("question: normalise, understand (jieba, units, years)", "retrieval.search.searcher:tokenize"),
    ("encoder (ONNX Runtime, tokenizer)", "ENCODER:encode_queries"),
    ("dense top-k (FAISS)", "retrieval.store.snapshot:Snapshot.dense_top"),
    ("keyword top-k (BM25)", "retrieval.store.snapshot:Snapshot.keyword_top"),
    ("evidence + row features (numpy)", "retrieval.search.searcher:Evidence.of"),
    ("evidence + row features (numpy)", "retrieval.search.searcher:row_features"),
    ("confidence (keyword coverage)", "retrieval.search.searcher:Searcher._confidence"),
    ("chunk rows read", "retrieval.store.snapshot:Snapshot.chunks"),
    ("text features (per shortlisted row)", "retrieval.search.searcher:text_features"),
    ("ranker (both stages)", "retrieval.search.ranker:Ranker.shortlist"),
    ("ranker (both stages)", "retrieval.search.ranker:Ranker.score"),
    ("list completion", "retrieval.search.searcher:complete_lists"),
    ("report labels, passages (engine)", "retrieval.engine:Yandu._labels_of"),
    ("API JSON (Passage.to_json)", "retrieval.passage:Passage.to_json"),
)
OTHER = "the rest (pipeline glue, snapshot check, Why, dataclasses)"


class StageClock:
    """CPU seconds per stage, exclusive of nested stages (a stack of running stages)."""

    def __init__(self):
        self.cpu: dict[str, float] = {}
        self.stack: list[str] = []
        self.mark = time.process_time()

    def _switch(self) -> None:
        now = time.process_time()
        if self.stack:
            self.cpu[self.stack[-1]] = self.cpu.get(self.stack[-1], 0.0) + now - self.mark
        self.mark = now

    @contextmanager
    def stage(self, name: str):
        self._switch()
        self.stack.append(name)
        try:
            yield
        finally:
            self._switch()
            self.stack.pop()

    def wrap(self, owner, attribute: str, name: str) -> None:
        inner = getattr(owner, attribute)
        clock = self

        def timed(*args, **kwargs):
            with clock.stage(name):
                return inner(*args, **kwargs)

        setattr(owner, attribute, timed)


def _owner(path: str, encoder):
    import importlib

    module, _, attrs = path.partition(":")
    *parents, attribute = attrs.split(".")
    owner = encoder if module == "ENCODER" else importlib.import_module(module)
    for p in parents:
        owner = getattr(owner, p)
    return owner, attribute


def run(workdir: Path | None = None, rounds: int = 5) -> dict:
    from retrieval.config import Settings
    from retrieval.engine import Yandu

    root = Path(workdir or tempfile.mkdtemp(prefix="yandu-profile-"))
    try:
        corpus, index_dir = root / "corpus", root / "index"
        make_corpus(corpus, with_bench=False)
        app = Yandu(Settings().with_overrides(corpus_dir=corpus, index_dir=index_dir))
        app.index()
        qs = questions()
        for q in qs:  # warm: the model, the index, jieba, the labels
            app.search(q, 5)
        clock = StageClock()
        for name, path in STAGES:
            clock.wrap(*_owner(path, app.encoder), name)
        out = {}
        for mode, new in (("new", True), ("again", False)):
            if not new:  # every question asked once before
                for q in qs:
                    app.search(q, 5)
            clock.cpu.clear()
            searches = 0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            with clock.stage(OTHER):
                for _ in range(rounds):
                    for q in qs:
                        if new:  # as if never asked: no cached vector or understanding
                            forget(app)
                        json.dumps([p.to_json() for p in app.search(q, 5).passages], ensure_ascii=False)
                        searches += 1
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            out[mode] = {"searches": searches, "cpu_ms_per_search": round(1000 * cpu / searches, 2),
                         "wall_ms_per_search": round(1000 * wall / searches, 2),
                         "stages_cpu_ms": {name: round(1000 * c / searches, 2) for name, c in
                                           sorted(clock.cpu.items(), key=lambda kv: -kv[1])}}
        return out
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def render(result: dict) -> str:
    new, again = result["new"], result["again"]
    lines = [f"profile: {new['searches']} searches in-process on the seed index, each question new / asked again: "
             f"CPU {new['cpu_ms_per_search']} / {again['cpu_ms_per_search']} ms per search "
             f"(wall {new['wall_ms_per_search']} / {again['wall_ms_per_search']} ms)",
             "| stage | CPU ms per search, new | share | asked again |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {ms} | {100 * ms / new['cpu_ms_per_search']:.0f}% | {again['stages_cpu_ms'].get(name, 0.0)} |"
              for name, ms in new["stages_cpu_ms"].items()]
    return "\n".join(lines)


def main(rounds: int) -> dict:
    from .common import machine

    result = {**run(rounds=rounds), "machine": machine()}
    print(render(result))
    return result
