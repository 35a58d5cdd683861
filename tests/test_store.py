"""The store interface, one contract for every backend (local segments + FAISS; Milvus on embedded
milvus-lite), and the local store's own guarantees: exact corpus-wide BM25 across segments and
deletions, merges, IVF in large segments, commits that write only what changed.

The contract drives the stores through the Writer API the indexer uses, with real parsed seed
reports, jieba tokens and synthetic unit vectors (no model needed); the Milvus side is slow (it
starts milvus-lite) and needs `pip install -r requirements-milvus.txt`.
"""
from __future__ import annotations

import hashlib
import logging
import signal
import subprocess
import sys
import time

import bm25s
import numpy as np
import pytest

from retrieval.config import Settings
from retrieval.errors import SettingsError
from retrieval.ingest import chunk_document, parse_file
from retrieval.search import Filters
from retrieval.search.lists import complete_lists
from retrieval.store import CorpusStats, IndexBusy, Manifest, Postings, open_store
from retrieval.text import tokenize

from conftest import CORPUS, ROOT

DIM = 16


def unit_vectors(texts: list[str]) -> np.ndarray:
    """A fixed unit vector per text (seeded by its hash): a chunk's vector finds the chunk."""
    out = np.stack([np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).standard_normal(DIM)
                    for t in texts]).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def seed_docs():
    docs = {}
    for path in sorted(CORPUS.glob("*.txt")):
        doc = parse_file(path, path.name)
        chunks = chunk_document(doc)
        docs[path.name] = (doc, chunks, [tokenize(c.match_text) for c in chunks])
    return docs


def renamed(entry, name: str):
    from dataclasses import replace

    doc, chunks, tokens = entry
    return replace(doc, source=name), [replace(c, source=name) for c in chunks], tokens


def write(store, docs=(), remove=(), aliases=None, fresh=False, kill_before_commit=False):
    """One writer session through the Writer API the indexer uses; returns the new snapshot."""
    manifest = (None if fresh else store.manifest()) or Manifest("test-model", DIM, "v")
    with store.writer(manifest, fresh=fresh) as writer:
        for source in remove:
            writer.remove_source(source)
            manifest.files.pop(source, None)
        for doc, chunks, tokens in docs:
            writer.remove_source(doc.source)
            ids = writer.add_document(doc, doc.source, chunks, unit_vectors([c.match_text for c in chunks]), tokens)
            manifest.files[doc.source] = {"sha256": doc.source, "size": 0, "chunk_ids": ids}
        for source, names in (aliases or {}).items():
            writer.set_aliases(source, names)
        writer.commit()
    return store.snapshot()


def milvus_settings(tmp_path) -> Settings:
    pytest.importorskip("pymilvus", reason="pip install -r requirements-milvus.txt")
    return Settings().with_overrides(index_dir=tmp_path / "index", store=str(tmp_path / "milvus.db"))


@pytest.fixture(params=["local", pytest.param("milvus", marks=pytest.mark.slow)])
def store(request, tmp_path):
    if request.param == "local":
        settings = Settings().with_overrides(index_dir=tmp_path / "index", ann_threshold=50)
    else:
        settings = milvus_settings(tmp_path)
    s = open_store(settings)
    yield s
    close = getattr(s, "close", None)
    if close:
        close()


def test_documents_say_their_kind_and_the_share_of_government_rows_is_read_from_them(store, seed_docs, tmp_path):
    from retrieval.search.genre import government_share

    names = sorted(seed_docs)[:2]
    path = tmp_path / "2024年某市政府工作报告.txt"
    path.write_text("2024年某市政府工作报告\n一、2023年工作回顾\n全市地区生产总值增长5%。\n二、2024年主要任务\n稳住经济增长。\n",
                    encoding="utf-8")
    doc = parse_file(path, path.name)
    chunks = chunk_document(doc)
    snap = write(store, [seed_docs[n] for n in names])
    assert government_share(snap) == 0.0  # one genre: no row is lifted
    snap = write(store, [(doc, chunks, [tokenize(c.match_text) for c in chunks])])
    kinds = {d["source"]: d["kind"] for d in snap.documents()}
    assert kinds[path.name] == "政府工作报告" and all(kinds[n] == seed_docs[n][0].kind for n in names)
    assert all(d["unit"] == snap.document(d["source"])["unit"] for d in snap.documents())  # the library reads both
    assert government_share(snap) == pytest.approx(len(chunks) / len(snap.ids)) and 0 < len(chunks) < len(snap.ids)


def ids_of(snap, source: str) -> set[int]:
    return {int(i) for i, s in zip(snap.ids, snap.sources) if s == source}


# --- the contract ------------------------------------------------------------------------------

def test_add_change_delete(store, seed_docs):
    names = sorted(seed_docs)
    snap = write(store, [seed_docs[n] for n in names[:3]])
    assert {d["source"] for d in snap.documents()} == set(names[:3])
    assert len(snap.ids) == sum(len(seed_docs[n][1]) for n in names[:3])
    doc, chunks, _ = seed_docs[names[0]]
    stored = snap.source_chunks(names[0])
    assert [c["text"] for c in stored] == [c.text for c in chunks] and [c["ord"] for c in stored] == list(range(len(chunks)))
    assert snap.document(names[0])["text"] == doc.text
    first = ids_of(snap, names[0])

    # changed: the report's old chunks go, the new ones come with new ids
    changed = parse_file(CORPUS / names[0], names[0])
    from dataclasses import replace
    changed = replace(changed, text=changed.text + "\n补充：新增的网格化管理经验。")
    new_chunks = chunk_document(changed)
    snap = write(store, [(changed, new_chunks, [tokenize(c.match_text) for c in new_chunks]), seed_docs[names[3]]])
    assert not first & ids_of(snap, names[0]) and len(ids_of(snap, names[0])) == len(new_chunks)
    assert snap.document(names[0])["text"].endswith("网格化管理经验。")
    assert {d["source"] for d in snap.documents()} == set(names[:4])

    # deleted: nothing of it is found any more, by rows, keywords or vectors
    gone = seed_docs[names[1]]
    snap = write(store, remove=[names[1]])
    assert names[1] not in {d["source"] for d in snap.documents()} and snap.document(names[1]) is None
    assert not ids_of(snap, names[1]) and not snap.source_chunks(names[1])
    query = unit_vectors([gone[1][0].match_text])[0]
    dense = snap.dense_scores(query, 10)
    assert all(snap.sources[i] != names[1] for i in np.flatnonzero(dense))
    keyword = snap.keyword_scores(gone[2][0], 10)
    assert all(snap.sources[i] != names[1] for i in np.flatnonzero(keyword))


def test_every_column_is_stored_and_read_back(store, seed_docs):
    """Each chunk comes back with every CHUNK_COLUMNS value it was written with, and the snapshot's
    per-row columns are ROW_COLUMNS of those rows (a column added in generations.py reaches every store)."""
    from retrieval.store.generations import CHUNK_COLUMNS, ROW_COLUMNS
    from retrieval.store.writer import chunk_values

    snap = write(store, list(seed_docs.values()))
    rows = snap.chunks(snap.ids.tolist())
    for row in rows:
        chunk = seed_docs[row["source"]][1][row["ord"]]
        expected = chunk_values(row["id"], chunk)
        assert {c: row[c] for c in CHUNK_COLUMNS} == {c: expected[c] for c in CHUNK_COLUMNS}
    for name, value in ROW_COLUMNS.items():
        assert snap.columns[name].tolist() == [value(r) for r in rows], name
    assert any(r["unit"] for r in rows) and any(r["year_from"] for r in rows) and any(r["roles"] for r in rows)


def test_search_finds_each_chunk_by_its_vector_and_its_words(store, seed_docs):
    snap = write(store, list(seed_docs.values()))
    rng = np.random.default_rng(3)
    for row in rng.choice(len(snap.ids), 8, replace=False):
        chunk = snap.chunks([int(snap.ids[row])])[0]
        doc, chunks, tokens = seed_docs[chunk["source"]]
        c = chunks[chunk["ord"]]
        dense = snap.dense_scores(unit_vectors([c.match_text])[0], 5)
        assert int(np.argmax(dense)) == row and dense[row] == pytest.approx(1.0, abs=1e-4)
        keyword = snap.keyword_scores(tokens[chunk["ord"]], 20)
        assert keyword[row] > 0 and keyword[row] >= np.sort(keyword)[-3]  # its own words rank it near the top


def test_duplicates_are_aliases_and_filters_see_them(store, seed_docs):
    names = sorted(seed_docs)
    snap = write(store, [seed_docs[n] for n in names[:2]], aliases={names[0]: ["副本.txt"]})
    doc = next(d for d in snap.documents() if d["source"] == names[0])
    assert doc["aliases"] == ["副本.txt"]
    mask = Filters(reports=["副本.txt"]).mask(snap)
    assert mask.sum() == len(seed_docs[names[0]][1]) and set(snap.sources[mask]) == {names[0]}
    snap = write(store, aliases={names[0]: []})
    assert next(d for d in snap.documents() if d["source"] == names[0])["aliases"] == []


def test_filters_hold_in_dense_and_keyword_search(store, seed_docs):
    snap = write(store, list(seed_docs.values()))
    names = sorted(seed_docs)
    for filters in (Filters(reports=[names[2]]), Filters(section_types=["problem"]), Filters(years=[2023])):
        valid = filters.mask(snap)
        assert valid.any() and not valid.all()
        c = seed_docs[names[0]][1][0]
        dense = snap.dense_scores(unit_vectors([c.match_text])[0], 10, valid)
        assert np.flatnonzero(dense).size and valid[np.flatnonzero(dense)].all()
        keyword = snap.keyword_scores(tokenize("意识形态 问题 整改"), 10, valid)
        # a store may score rows outside the filter (the searcher masks them); inside it must find some
        assert (keyword[valid] > 0).any()
    assert set(snap.role_masks) >= {"problem", "plan"}
    problem = snap.role_masks["problem"]
    assert (snap.types[problem] == "problem").mean() > 0.5 and problem.sum() < len(snap.ids)


def test_list_answers_and_context_read_from_the_store(store, seed_docs):
    from retrieval.engine import Yandu
    from retrieval.search import Searcher

    snap = write(store, list(seed_docs.values()))
    # a section split into several chunks: list completion puts it back together from the store
    by_section = {}
    rows = snap.chunks([int(i) for i in snap.ids])
    for r in rows:
        by_section.setdefault((r["source"], r["section_start"]), []).append(r)
    (source, start), parts = next((k, v) for k, v in by_section.items() if len(v) > 1 and v[-1]["end"] - v[0]["start"] <= 800)
    hit = dict(parts[0], score=1.0, why=None)
    completed = complete_lists(snap, [hit], 800, 5)
    assert completed[0]["start"] == parts[0]["start"] and completed[0]["end"] == parts[-1]["end"]
    assert completed[0]["text"] == snap.document(source)["text"][parts[0]["start"]:parts[-1]["end"]]

    app = Yandu(store.settings)
    app._searcher = Searcher(store.settings, encoder=None)  # the context view needs no encoder
    ctx = app.context(source, parts[0]["start"], parts[0]["end"])
    assert ctx["passage"] == parts[0]["text"] and ctx["section"] == parts[0]["heading_path"][0]


OUTERMOST = ("某街道党工委2023年党建工作情况报告\n今年以来，街道党工委坚持以党建引领基层治理，现将有关情况报告如下。\n"
             "（一）强化组织领导，压实工作责任。街道党工委每季度专题研究党建工作，全年签订党建责任书12份。\n"
             "（二）强化理论学习，筑牢思想根基。组织中心组集中学习10次，开展专题党课6场。\n"
             "（三）强化阵地建设，扩大服务覆盖。新建党群服务站3个，全年服务辖区群众2000余人次。\n"
             "（四）存在的问题。一是个别支部组织生活不够规范。二是党员教育形式较为单一。\n")


def test_outermost_sections_of_one_role_ranked_together_are_shown_as_one_list(store, tmp_path):
    """A short report's "（一）…（二）…（三）…" under no heading: when two of them rank, the run of its
    outermost sections playing their role is shown whole at the first one's rank, with its headings as
    ``parts``, read from the store (both backends); a section of another role is not part of it."""
    from retrieval.search.lists import merge_siblings
    from retrieval.search.searcher import to_passage

    path = tmp_path / "街道党建情况报告.txt"
    path.write_text(OUTERMOST, encoding="utf-8")
    doc = parse_file(path, path.name)
    chunks = chunk_document(doc)
    snap = write(store, [(doc, chunks, [tokenize(c.match_text) for c in chunks])])
    rows = {r["heading_path"][0][1] if r["heading_path"] else "": dict(r, score=1.0, why=None)
            for r in snap.chunks([int(i) for i in snap.ids])}
    ranked = [rows["二"], rows["四"], rows["一"], rows["三"]]
    shown = merge_siblings(snap, ranked, 800, 5)
    work = [rows[n] for n in "一二三"]
    assert [(p["start"], p["end"]) for p in shown] == [(work[0]["start"], work[-1]["end"]), (rows["四"]["start"], rows["四"]["end"])]
    assert shown[0]["text"] == snap.document(path.name)["text"][work[0]["start"]:work[-1]["end"]]
    assert shown[0]["section_type"] == "work"  # its parts: those that ranked, in their order
    assert shown[0]["parts"] == [rows[n]["heading_path"][0] for n in "二一三"]
    assert to_passage(1, shown[0]).to_json()["parts"] == shown[0]["parts"]
    assert merge_siblings(snap, ranked, 100, 5) == ranked  # the run does not fit: each stays itself
    assert merge_siblings(snap, [rows["二"], rows["四"]], 800, 5) == [rows["二"], rows["四"]]  # one of a kind ranked


def test_keyword_idf_counts_the_live_chunks_holding_each_token(store, seed_docs):
    """Sentence evidence weighs words by IDF over the live rows: the same numbers on both backends,
    and a replaced or removed report no longer counts."""
    names = sorted(seed_docs)
    snap = write(store, [seed_docs[n] for n in names])
    write(store, remove=[names[0]])
    snap = write(store, [renamed(seed_docs[names[1]], names[1])])  # re-added: counted once
    live = [t for n in names[1:] for t in seed_docs[n][2]]
    n = len(live)
    for token in ["党员", "意识形态", "发展党员", "不存在的词"]:
        df = sum(token in set(chunk) for chunk in live)
        idf = snap.keyword_idf([token])
        if df:
            assert idf[token] == pytest.approx(np.log(1 + (n - df + 0.5) / (df + 0.5)), rel=1e-5)
        else:
            assert token not in idf
    # counted over one report's rows only (each genre's IDF, search/genre.py): a token the index knows
    # that the report never writes weighs most; one the index does not know is left out as before
    own = seed_docs[names[1]][2]
    m = len(own)
    for token in ["党员", "意识形态", "发展党员", "不存在的词"]:
        df = sum(token in set(chunk) for chunk in own)
        idf = snap.keyword_idf([token], frozenset({names[1]}))
        if any(token in set(chunk) for chunk in live):
            assert idf[token] == pytest.approx(np.log(1 + (m - df + 0.5) / (df + 0.5)), rel=1e-5)
        else:
            assert token not in idf
    assert snap.keyword_idf(["党员"], frozenset()) == {"党员": pytest.approx(np.log(1 + 0.5 / 0.5))}


def test_one_writer_at_a_time(store, seed_docs):
    write(store, [next(iter(seed_docs.values()))])
    with store.writer(store.manifest(), fresh=False):
        with pytest.raises(IndexBusy, match="another process"):
            store.writer(store.manifest(), fresh=False)


def test_an_aborted_write_changes_nothing(store, seed_docs):
    names = sorted(seed_docs)
    before = write(store, [seed_docs[n] for n in names[:2]])
    ids = before.ids.tolist()
    with pytest.raises(RuntimeError):
        with store.writer(store.manifest(), fresh=False) as writer:
            writer.remove_source(names[0])
            doc, chunks, tokens = seed_docs[names[2]]
            writer.add_document(doc, doc.source, chunks, unit_vectors([c.match_text for c in chunks]), tokens)
            raise RuntimeError("the indexer failed")
    snap = store.snapshot()
    assert snap.ids.tolist() == ids and {d["source"] for d in snap.documents()} == set(names[:2])


def _writer_script(settings, round_no: int) -> str:
    return f"""
import sys
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'tests')!r})
from pathlib import Path
from retrieval.config import Settings
from retrieval.ingest import chunk_document, parse_file
from retrieval.store import open_store
from retrieval.text import tokenize
import test_store as t
settings = Settings().with_overrides(index_dir=Path({str(settings.index_dir)!r}), store={settings.store!r}, ann_threshold=50)
store = open_store(settings)
docs = []
for n, path in enumerate(sorted(Path({str(CORPUS)!r}).glob("*.txt"))):
    doc = parse_file(path, path.name)
    chunks = chunk_document(doc)
    docs.append(t.renamed((doc, chunks, [tokenize(c.match_text) for c in chunks]), f"r{round_no}-{{n}}.txt"))
print("writing", flush=True)
t.write(store, docs, remove=[f"r{round_no - 1}-0.txt"])
print("done", flush=True)
"""


@pytest.mark.slow  # starts a writer process per round (seconds of imports each)
def test_a_writer_killed_at_any_point_leaves_the_last_commit_answering(store, seed_docs):
    """SIGKILL a writer process at random moments of its write; after each kill the last commit is
    whole (every report's rows, each once) and a new writer goes on."""
    settings = store.settings
    snap = write(store, [renamed(seed_docs[n], f"r0-{i}.txt") for i, n in enumerate(sorted(seed_docs))])
    committed = {d["source"] for d in snap.documents()}
    rng = np.random.default_rng(11)
    for round_no in range(1, 5):
        getattr(store, "close", lambda: None)()  # milvus-lite serves a .db to one process at a time
        proc = subprocess.Popen([sys.executable, "-c", _writer_script(settings, round_no)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT)
        assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = open_store(settings)
        snap = store.snapshot()
        sources = {d["source"] for d in snap.documents()}
        if sources != committed:  # the kill came after the commit: the whole new state, nothing less
            assert sources == committed - {f"r{round_no - 1}-0.txt"} | {f"r{round_no}-{i}.txt" for i in range(len(seed_docs))}
            committed = sources
        assert set(snap.sources) <= sources
        for source in sources:
            chunks = snap.source_chunks(source)
            assert [c["ord"] for c in chunks] == list(range(len(chunks))) and chunks
        assert len(set(snap.ids.tolist())) == len(snap.ids)
        assert len(snap.chunks(snap.ids.tolist())) == len(snap.ids)
        first = snap.chunks([int(snap.ids[0])])[0]
        query = unit_vectors([seed_docs[sorted(seed_docs)[int(first["source"].split("-")[1][:-4])]][1][first["ord"]].match_text])[0]
        assert int(np.argmax(snap.dense_scores(query, 5))) == 0
    snap = write(store, [renamed(seed_docs[sorted(seed_docs)[0]], "after.txt")])
    assert "after.txt" in {d["source"] for d in snap.documents()}
    getattr(store, "close", lambda: None)()


# Code run in a writer process before _writer_script: milvus-lite killed at one of its own writes that
# follow a flush's commit and are not crash-safe (retrieval/store/milvus.py, _finish_killed_writes).
KILLED_INSIDE_MILVUS_LITE = {
    # the flush that flipped `current` committed its manifest; killed before it deletes that WAL
    "wal": """
import os, signal
from milvus_lite.storage.wal import WAL
close_and_delete = WAL.close_and_delete
def killed(self):
    if self.data_path and "_meta" in self.data_path and b"current#" in open(self.data_path, "rb").read():
        os.kill(os.getpid(), signal.SIGKILL)
    close_and_delete(self)
WAL.close_and_delete = killed
""",
    # killed half way through the first index file written after a flush (a segment's vectors, .npy)
    "index": """
import io, os, signal
import numpy as np
from milvus_lite.index.brute_force import BruteForceIndex
def killed(self, path):
    data = io.BytesIO()
    np.save(data, self._vectors, allow_pickle=False)
    with open(path, "wb") as f:
        f.write(data.getvalue()[:len(data.getvalue()) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
BruteForceIndex.save = killed
""",
}


@pytest.mark.slow  # milvus-lite, and a writer process
@pytest.mark.parametrize("point", sorted(KILLED_INSIDE_MILVUS_LITE))
def test_a_writer_killed_inside_milvus_lite_leaves_the_last_commit_answering(tmp_path, seed_docs, caplog, point):
    """The kill test's rare bad moments, every time: a writer killed where milvus-lite leaves a WAL to
    be replayed twice or an index file short; the .db opens with a warning line per repair, answering
    the last commit whole (each row once), and a new writer goes on."""
    settings = milvus_settings(tmp_path)
    store = open_store(settings)
    snap = write(store, [renamed(seed_docs[n], f"r0-{i}.txt") for i, n in enumerate(sorted(seed_docs))])
    before = {d["source"] for d in snap.documents()}
    after = before - {"r0-0.txt"} | {f"r1-{i}.txt" for i in range(len(seed_docs))}
    store.close()
    proc = subprocess.run([sys.executable, "-c", KILLED_INSIDE_MILVUS_LITE[point] + _writer_script(settings, 1)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    with caplog.at_level(logging.WARNING, logger="retrieval.store.milvus"):
        store = open_store(settings)
        snap = store.snapshot()
    repairs = [r.getMessage() for r in caplog.records if r.name == "retrieval.store.milvus"]
    assert any(("deleted WAL" if point == "wal" else ".flat.idx: deleted") in m for m in repairs), repairs
    assert all("by a killed process" in m or "by a process killed" in m for m in repairs), repairs
    sources = {d["source"] for d in snap.documents()}
    assert sources == after if point == "wal" else sources in (before, after)  # "wal": killed after the flip
    assert len(snap.documents()) == len(sources) and set(snap.sources) <= sources
    rows = store.client.query(snap.chunks_name, filter=f"id in {snap.ids.tolist()}", output_fields=["id"])
    assert sorted(r["id"] for r in rows) == snap.ids.tolist()  # each row once
    for source in sources:
        chunks = snap.source_chunks(source)
        assert [c["ord"] for c in chunks] == list(range(len(chunks))) and chunks
    first = snap.chunks([int(snap.ids[0])])[0]
    query = unit_vectors([seed_docs[sorted(seed_docs)[int(first["source"].split("-")[1][:-4])]][1][first["ord"]].match_text])[0]
    assert int(np.argmax(snap.dense_scores(query, 5))) == 0
    snap = write(store, [renamed(seed_docs[sorted(seed_docs)[0]], "after.txt")])
    assert {d["source"] for d in snap.documents()} == sources | {"after.txt"}
    store.close()


# --- the local store ---------------------------------------------------------------------------

def reference_bm25(snap, tokens_of: dict[str, list[list[str]]]) -> bm25s.BM25:
    """One bm25s index over exactly the snapshot's live chunks, in row order."""
    reference = bm25s.BM25()
    reference.index([tokens_of[c["source"]][c["ord"]] for c in snap.chunks(snap.ids.tolist())], show_progress=False)
    return reference


def assert_exact_bm25(snap, tokens_of, question: str) -> None:
    tokens = tokenize(question)
    reference = reference_bm25(snap, tokens_of)
    known = [t for t in tokens if t in reference.vocab_dict]
    expected = reference.get_scores(known) if known else np.zeros(len(snap.ids))
    assert np.allclose(snap.keyword_scores(tokens), expected, rtol=1e-4, atol=1e-5), question


def test_bm25_is_exact_over_segments_and_deletions(tmp_path, seed_docs):
    """Scores equal one bm25s index built over exactly the live chunks, whatever the segments."""
    store = open_store(Settings().with_overrides(index_dir=tmp_path / "index"))
    names = sorted(seed_docs)
    write(store, [seed_docs[n] for n in names[:3]])
    for n in names[3:]:  # one segment per report
        write(store, [seed_docs[n]])
    snap = write(store, remove=[names[1]])  # a deletion inside the first segment, which stays
    assert len(snap.segments) == 3 and snap.deleted[0] == [names[1]]
    tokens_of = {n: seed_docs[n][2] for n in names}
    for question in ("意识形态工作存在哪些问题", "党建 党建 引领 基层治理", "下一步 工作 打算 整改", "没有这个词"):
        assert_exact_bm25(snap, tokens_of, question)


def test_postings_round_trip_and_scores_of_an_unknown_word(tmp_path):
    tokens = [["党建", "引领", "党建"], ["基层", "治理"], []]
    p = Postings.build(tokens)
    p.save(tmp_path)
    q = Postings.load(tmp_path)
    rows, tf = q.hits("党建")
    assert rows.tolist() == [0] and tf.tolist() == [2.0] and q.lengths.tolist() == [3, 2, 0]
    live = np.ones(3, dtype=bool)
    assert CorpusStats([(q, live)]).scores(["没有的词"])[0].tolist() == [0, 0, 0]
    assert CorpusStats([(q, np.array([False, True, True]))]).scores(["党建"])[0].tolist() == [0, 0, 0]


def test_a_commit_writes_only_what_changed_and_merges_keep_segments_few(tmp_path, seed_docs, monkeypatch):
    from retrieval.store import Writer

    monkeypatch.setattr(Writer, "MERGE_FACTOR", 3)
    store = open_store(Settings().with_overrides(index_dir=tmp_path / "index"))
    names = sorted(seed_docs)
    base_docs = [renamed(seed_docs[n], f"base{c}-{n}") for c in range(2) for n in names]
    tokens_of = {d.source: t for d, _, t in base_docs}
    snap = write(store, base_docs)
    base = snap.segments[0].name
    folder = tmp_path / "index" / "segments" / base
    files_before = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    for k in range(6):
        doc = renamed(seed_docs[names[k % len(names)]], f"add-{k}.txt")
        tokens_of[doc[0].source] = doc[2]
        snap = write(store, [doc])
        assert snap.segments[0].name == base  # the big segment is not rewritten by small additions
        assert len(snap.segments) <= 1 + 2 * (Writer.MERGE_FACTOR - 1)
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == files_before
    assert len(snap.documents()) == len(base_docs) + 6
    assert_exact_bm25(snap, tokens_of, "意识形态工作存在哪些问题")
    # deleting most of a segment rewrites it; BM25 stays exact
    snap = write(store, remove=[d.source for d, _, _ in base_docs[1:]])
    assert base not in {s.name for s in snap.segments}
    assert {d["source"] for d in snap.documents()} == {base_docs[0][0].source, *(f"add-{k}.txt" for k in range(6))}
    assert_exact_bm25(snap, tokens_of, "意识形态工作存在哪些问题")
    # old segments stay for readers of the generation before; the next writer sweeps the rest
    write(store, [renamed(seed_docs[names[0]], "last.txt")])
    listed = set()
    for gen in (tmp_path / "index").glob("gen-*"):
        listed |= {s["name"] for s in Manifest.read(gen / "manifest.json").segments}
    assert {p.name for p in (tmp_path / "index" / "segments").iterdir()} == listed


def test_large_segments_search_an_ivf_copy_exactly_when_filtered(tmp_path, seed_docs):
    settings = Settings().with_overrides(index_dir=tmp_path / "index", ann_threshold=40, ann_nprobe=4)
    store = open_store(settings)
    names = sorted(seed_docs)
    snap = write(store, [seed_docs[n] for n in names])
    seg = snap.segments[0]
    assert seg.ann is not None and seg.ann.ntotal == len(seg)
    small = write(store, [renamed(seed_docs[names[0]], "small.txt")])
    assert small.segments[-1].ann is None  # below the threshold: scanned exactly
    valid = Filters(reports=[names[2]]).mask(small)
    for row in np.flatnonzero(valid)[:5]:
        c = small.chunks([int(small.ids[row])])[0]
        q = unit_vectors([seed_docs[c["source"]][1][c["ord"]].match_text])[0]
        assert int(np.argmax(small.dense_scores(q, 5, valid))) == row


def test_store_setting_is_validated():
    assert Settings().with_overrides(store="milvus://10.0.0.5:19530").store_kind == "milvus"
    assert Settings().with_overrides(store="/data/yandu.db").store_kind == "milvus"
    assert Settings().store_kind == "local"
    with pytest.raises(SettingsError, match="unknown store 'faiss'"):
        Settings().with_overrides(store="faiss")


def test_milvus_missing_names_the_install_command(tmp_path, monkeypatch):
    import builtins

    from retrieval.errors import YanduError

    real_import = builtins.__import__

    def no_pymilvus(name, *args, **kwargs):
        if name == "pymilvus" or name.startswith("pymilvus."):
            raise ImportError("No module named 'pymilvus'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pymilvus)
    with pytest.raises(YanduError, match=r"pip install -r requirements-milvus\.txt"):
        open_store(Settings().with_overrides(index_dir=tmp_path, store=str(tmp_path / "m.db")))


def test_best_rows_equals_a_stable_sort_of_all_rows():
    from retrieval.search.fusion import best_rows

    rng = np.random.default_rng(5)
    for n in (1, 7, 100):
        scores = rng.integers(0, 20, 1000).astype(np.float32)  # many ties
        rows = np.flatnonzero(scores > 3)
        expected = rows[np.argsort(-scores[rows], kind="stable")][:n]
        assert best_rows(scores, rows, n).tolist() == expected.tolist()


def test_manifest_stores_chunk_ids_as_runs_and_reads_them_back(tmp_path):
    m = Manifest("m", 4, "v", files={"a.txt": {"sha256": "x", "chunk_ids": [3, 4, 5, 9, 10]},
                                     "dup.txt": {"sha256": "x", "chunk_ids": [], "duplicate_of": "a.txt"}})
    stored = m.to_dict()
    assert stored["files"]["a.txt"]["chunk_runs"] == [[3, 6], [9, 11]] and "chunk_ids" not in stored["files"]["a.txt"]
    assert Manifest.from_dict(stored).files == m.files


def random_parts(rng, sizes=(400, 300, 50), vocab=60):
    """Postings of random documents (Zipf-like words: a few in most rows, many rare), some rows deleted."""
    parts = []
    for size in sizes:
        tokens = [[f"w{int(w)}" for w in rng.zipf(1.3, rng.integers(0, 30)) if w < vocab] for _ in range(size)]
        live = rng.random(size) > 0.1
        parts.append((Postings.build(tokens), live))
    return parts


def test_maxscore_top_k_is_exact_bm25(monkeypatch):
    """CorpusStats.best (MaxScore: common terms looked up only where a row can still make the top k)
    gives bit-equal scores to scoring every row, at every row that can rank and every row asked for,
    and the same top k (ties kept), with filters and deletions."""
    from retrieval.store import keyword
    from retrieval.store.snapshot import top_with_ties

    monkeypatch.setattr(keyword, "PRUNE_FROM", 1)  # check the bound at every term: the pruned path runs
    rng = np.random.default_rng(11)
    pruned = 0
    for trial in range(30):
        stats = CorpusStats(random_parts(rng))
        query = [f"w{int(w)}" for w in rng.zipf(1.2, 6) if w < 70] + ["没有的词"]
        valid = [rng.random(n) > 0.3 for n in stats.sizes] if trial % 2 else None
        also = [np.sort(rng.choice(n, 5, replace=False)) for n in stats.sizes]
        k = int(rng.integers(1, 20))
        full = stats.scores(query)
        looked_up = []
        monkeypatch.setattr(keyword, "_look_up", lambda *a, f=keyword._look_up: (looked_up.append(1), f(*a))[1])
        scores, eligible = stats.best(query, k, valid, also)
        pruned += bool(looked_up)
        everywhere = np.concatenate(full)
        offsets = np.cumsum([0, *stats.sizes])
        allowed = np.concatenate(valid) if valid is not None else np.ones(len(everywhere), dtype=bool)
        expected = top_with_ties(everywhere, np.flatnonzero(allowed), k)
        got = np.concatenate([offsets[i] + top_with_ties(s, rows, k) for i, (s, rows) in enumerate(zip(scores, eligible))])
        got = got[top_with_ties(np.concatenate(scores)[got], np.arange(len(got)), k)]
        assert got.tolist() == expected.tolist()
        for i, (s, f) in enumerate(zip(scores, full)):
            rows = np.union1d(eligible[i], also[i])
            assert s[rows].tobytes() == f[rows].tobytes()  # the same floats, not merely close
    assert pruned >= 10  # the lookups ran, not only the full path


def test_keyword_and_dense_top_are_the_full_scores_at_the_candidates(tmp_path, seed_docs, monkeypatch):
    """The searcher's candidate-only reads (Snapshot.keyword_top / dense_top) give what the per-row
    score arrays give: the same top rows (ties kept) and the same scores at every row asked for."""
    from retrieval.store import keyword
    from retrieval.store.snapshot import RowView

    store = open_store(Settings().with_overrides(index_dir=tmp_path / "index", ann_threshold=40))
    names = sorted(seed_docs)
    write(store, [seed_docs[n] for n in names[:3]])
    write(store, [seed_docs[n] for n in names[3:]])
    snap = write(store, remove=[names[1]])
    monkeypatch.setattr(keyword, "PRUNE_FROM", 1)
    for question, mask in (("意识形态工作存在哪些问题", None), ("党建 引领 基层 治理 工作", Filters(years=[2023]).mask(snap)),
                           ("下一步 工作 打算 整改 落实", Filters(section_types=["plan"]).mask(snap))):
        tokens = tokenize(question)
        also = np.flatnonzero(np.arange(len(snap.ids)) % 17 == 0)
        for k in (3, 10, 50):
            rows, scores = snap.keyword_top(tokens, k, mask, also)
            ref_rows, ref_scores = RowView.keyword_top(snap, tokens, k, mask, also)
            assert rows.tolist() == ref_rows.tolist() and scores.tobytes() == ref_scores.tobytes()
        view = snap.subset(rows)  # what evidence reads: the candidates' rows, facts of the whole index
        assert view.ids.tolist() == snap.ids[rows].tolist() and view.units.tolist() == snap.units[rows].tolist()
        assert all(view.plays(r).tolist() == snap.plays(r)[rows].tolist() for r in snap.role_masks)
        units = sorted({u for u in snap.units if u})
        assert view.newest_years(units) == snap.newest_years(units) == RowView.newest_years(snap, units)
        q = unit_vectors([seed_docs[names[0]][1][2].match_text])[0]
        rows, scores = snap.dense_top(q, 10, mask)
        full = snap.dense_scores(q, 10, mask)
        assert rows.tolist() == np.flatnonzero(full).tolist() and np.array_equal(scores, full[rows])
