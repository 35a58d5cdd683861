"""The index on disk: incremental updates, rebuilds, crash safety, offline operation."""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from retrieval.config import Settings
from retrieval.encode import load_encoder
from retrieval.engine import Yandu
from retrieval.store import update_index
from retrieval.store import IndexBusy, Manifest, Snapshot, Writer, current_generation

from conftest import CORPUS, ROOT, consistent

pytestmark = pytest.mark.slow  # needs the model, an index, a server or a browser


@pytest.fixture(scope="session")
def encoder():
    return load_encoder(Settings())


@pytest.fixture
def settings(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    return Settings().with_overrides(corpus_dir=corpus, index_dir=tmp_path / "index")


def sources(snap):
    return {d["source"] for d in snap.documents()}


def test_a_run_reads_only_the_files_that_changed(settings, encoder, monkeypatch):
    from retrieval.store import indexer

    update_index(settings, encoder)
    read = []
    real = indexer.read_report
    monkeypatch.setattr(indexer, "read_report", lambda corpus, path, limit: read.append(path.name) or real(corpus, path, limit))
    (settings.corpus_dir / "new.txt").write_text("新增报告\n一、基本情况\n全年共开展“红色走读”活动17次。", encoding="utf-8")
    seed_001 = next(settings.corpus_dir.glob("001_*.txt"))
    seed_001.write_text(seed_001.read_text(encoding="utf-8") + "\n补充。", encoding="utf-8")
    seed_002 = next(settings.corpus_dir.glob("002_*.txt"))
    os.utime(seed_002)  # touched, same bytes: read again, found unchanged
    report = update_index(settings, encoder)
    assert sorted(read) == sorted(["new.txt", seed_001.name, seed_002.name])
    assert report.added == ["new.txt"] and report.updated == [seed_001.name] and report.unchanged == 4
    read.clear()
    assert not update_index(settings, encoder).changed and read == []  # the touched file's new time was kept


def test_incremental_add_change_delete(settings, encoder):
    report = update_index(settings, encoder)
    assert len(report.added) == 5 and not report.errors
    first = consistent(settings)
    n_chunks = len(first.ids)

    assert not update_index(settings, encoder).changed  # nothing to do: no new generation
    assert current_generation(settings.index_dir) == first.folder

    (settings.corpus_dir / "new.txt").write_text("新增报告\n一、基本情况\n全年共开展“红色走读”活动17次。", encoding="utf-8")
    seed_001 = next(settings.corpus_dir.glob("001_*.txt"))
    seed_001.write_text(seed_001.read_text(encoding="utf-8").replace("意识形态", "宣传思想"), encoding="utf-8")
    seed_004 = next(settings.corpus_dir.glob("004_*.txt"))
    seed_004.unlink()
    report = update_index(settings, encoder)
    assert report.added == ["new.txt"] and report.updated == [seed_001.name] and report.removed == [seed_004.name]
    assert report.unchanged == 3
    snap = consistent(settings)
    assert seed_004.name not in sources(snap) and "new.txt" in sources(snap)
    assert not any(c["source"] == seed_004.name for c in snap.chunks(snap.ids.tolist()))
    assert len(snap.ids) != n_chunks

    app = Yandu(settings)
    app._encoder = encoder
    hits = app.search("红色走读活动开展了几次？", 3).passages
    assert hits[0].source == "new.txt"
    # a deleted file's chunks never come back
    for question in ("2023年工作思路", "“双谈心”制度是什么？"):
        assert all(p.source != seed_004.name for p in app.search(question, 10).passages)


def test_duplicate_content_is_indexed_once_with_both_names(settings, encoder):
    seed = next(settings.corpus_dir.glob("002_*.txt"))
    shutil.copy(seed, settings.corpus_dir / "副本.txt")
    report = update_index(settings, encoder)
    assert report.duplicates == {seed.name: "副本.txt"} or report.duplicates == {"副本.txt": seed.name}
    snap = consistent(settings)
    assert len(snap.documents()) == 5
    doc = next(d for d in snap.documents() if d["aliases"])
    assert {doc["source"], *doc["aliases"]} == {seed.name, "副本.txt"}


def same_text_copies(corpus):
    """A .docx of seed 002 named to sort before it, seed 003 respaced with half-width punctuation,
    and seed 004 with one character changed."""
    import docx

    s2, s3, s4 = (next(corpus.glob(f"{n}_*.txt")) for n in ("002", "003", "004"))
    document = docx.Document()
    for line in s2.read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    document.save(corpus / "000副本.docx")
    text = s3.read_text(encoding="utf-8")
    (corpus / "改写.txt").write_text(text.replace("，", ",").replace("\n", "\n\n  "), encoding="utf-8")
    text = s4.read_text(encoding="utf-8")
    at = text.index("党员")
    (corpus / "一字之差.txt").write_text(text[:at] + "团" + text[at + 1:], encoding="utf-8")
    return s2, s3, s4


def test_the_same_text_in_another_file_is_a_duplicate_and_the_copy_takes_over_when_the_original_goes(
        settings, encoder, monkeypatch):
    from retrieval.store import indexer

    update_index(settings, encoder)
    before = consistent(settings).ids.tolist()
    s2, s3, s4 = same_text_copies(settings.corpus_dir)
    report = update_index(settings, encoder)
    assert report.duplicates == {"000副本.docx": s2.name, "改写.txt": s3.name}
    assert report.added == ["一字之差.txt"] and not report.updated and not report.removed
    snap = consistent(settings)
    assert set(before) < set(snap.ids.tolist())  # nothing indexed lost, the copies added no passage
    assert len(snap.documents()) == 6
    assert {d["source"]: d["aliases"] for d in snap.documents() if d["aliases"]} == {
        s2.name: ["000副本.docx"], s3.name: ["改写.txt"]}
    files = snap.manifest.files
    assert files["000副本.docx"]["duplicate_of"] == s2.name and not files["000副本.docx"]["chunk_ids"]

    read = []
    real = indexer.read_fenced
    monkeypatch.setattr(indexer, "read_fenced", lambda path, name, *a: read.append(name) or real(path, name, *a))
    again = update_index(settings, encoder)  # the copies are hashed, not read again
    assert not again.changed and again.duplicates == report.duplicates and read == []

    s2.unlink()  # as for a byte copy: the copy is indexed on its own
    report = update_index(settings, encoder)
    assert report.removed == [s2.name] and report.updated == ["000副本.docx"] and read == ["000副本.docx"]
    assert report.duplicates == {"改写.txt": s3.name}
    snap = consistent(settings)
    assert "000副本.docx" in sources(snap) and s2.name not in sources(snap)
    assert not snap.manifest.files["000副本.docx"].get("duplicate_of")
    assert len(snap.manifest.files["000副本.docx"]["chunk_ids"]) == len(files[s2.name]["chunk_ids"])


def test_an_index_from_before_fingerprints_finds_the_same_text_without_reading_its_reports(
        settings, encoder, monkeypatch):
    import json

    from retrieval.store import indexer

    update_index(settings, encoder)
    path = current_generation(settings.store_dir) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry in data["files"].values():
        entry.pop("fingerprint")
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # as an older version wrote it
    assert not update_index(settings, encoder).changed  # nothing new: no fingerprint needed

    read = []
    real = indexer.read_fenced
    monkeypatch.setattr(indexer, "read_fenced", lambda path, name, *a: read.append(name) or real(path, name, *a))
    s2, s3, _ = same_text_copies(settings.corpus_dir)
    report = update_index(settings, encoder)
    assert sorted(read) == sorted(["000副本.docx", "改写.txt", "一字之差.txt"])  # the indexed reports were not read
    assert report.duplicates == {"000副本.docx": s2.name, "改写.txt": s3.name} and report.added == ["一字之差.txt"]
    assert all(e.get("fingerprint") for e in consistent(settings).manifest.files.values())


def test_another_model_is_indexed_beside_the_default(settings, encoder, tmp_path):
    update_index(settings, encoder)
    other = tmp_path / "other-e5"
    shutil.copytree(Settings().models_dir / "multilingual-e5-small", other)
    changed = settings.with_overrides(model=str(other))
    report = update_index(changed, load_encoder(changed))
    assert not report.rebuilt and len(report.added) == 5  # its own folder: index/models/<variant>
    assert consistent(changed).manifest.model_id == str(other)
    assert consistent(settings).manifest.model_id == "multilingual-e5-small"  # the default one untouched


def test_parser_change_rebuilds(settings, encoder):
    update_index(settings, encoder)
    smaller = settings.with_overrides(chunk_target=300)
    report = update_index(smaller, encoder)
    assert report.rebuilt
    snap = consistent(smaller)
    assert max(len(c["text"]) for c in snap.chunks(snap.ids.tolist())) <= 800


def test_second_writer_is_refused_with_a_clear_message(settings, encoder):
    update_index(settings, encoder)
    snap = Snapshot(current_generation(settings.index_dir))
    with Writer(settings.index_dir, snap.manifest, fresh=False, settings=settings):
        with pytest.raises(IndexBusy, match="being updated by another process"):
            update_index(settings, encoder)
    assert update_index(settings, encoder).changed is False


def test_index_and_query_work_with_the_network_refused(settings, monkeypatch):
    """Air-gapped: every connection to a non-loopback address fails, and nothing needs one."""
    attempts = []
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost") or sock.family == socket.AF_UNIX):
            attempts.append(address)
            raise ConnectionRefusedError(f"network disabled in this test: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda sock, address: guarded(sock, address) or 0)
    app = Yandu(settings)  # loads the model inside the guard
    app.index()
    result = app.search("意识形态工作存在哪些问题？", 5)
    assert result.passages and result.passages[0].source.startswith("001_")
    assert attempts == []


def _run_index(settings, **kw):
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "index", "--corpus", str(settings.corpus_dir),
         "--index-dir", str(settings.index_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_sigkill_during_indexing_leaves_a_usable_index(settings, encoder):
    """SIGKILL `app.py index` ten times: before it takes the lock, while it embeds, right after
    embedding (writing chunks), and inside the commit. After every kill the live index is consistent
    and answers; the last run completes and holds every report's chunks exactly once.

    Every run gets a new report to embed (some also an edited or a deleted one), so each phase has
    work. Kill moments come from the run itself — its lock in /proc/locks, the embedding progress on
    its stderr, the BM25 postings its commit writes into a new segment — so they land where meant on
    a fast or a loaded machine.
    """
    from retrieval.ingest import chunk_document
    from retrieval.ingest import parse_file

    update_index(settings, encoder)
    corpus, index_dir, logs = settings.corpus_dir, settings.index_dir, settings.corpus_dir.parent
    seeds = sorted(corpus.glob("*.txt"))
    rng = random.Random(20261121)
    app = Yandu(settings)
    app._encoder = encoder

    def holds_lock(proc):
        inode = str((index_dir / ".write.lock").stat().st_ino)
        with open("/proc/locks") as f:  # "1: FLOCK  ADVISORY  WRITE <pid> <dev>:<inode> 0 EOF"
            return any(f[1:5] == ["FLOCK", "ADVISORY", "WRITE", str(proc.pid)] and f[5].split(":")[-1] == inode
                       for f in map(str.split, f))

    def wait_until(ready, proc, poll=0.01):
        deadline = time.monotonic() + 600
        while not ready():
            assert proc.poll() is None and time.monotonic() < deadline, f"run ended early: {err_log.read_text()}"
            time.sleep(poll)

    phases = ["startup", "embedding", "written", "commit", "embedding", "written", "commit", "embedding", "commit",
              "written"]
    flipped = {}  # phase -> whether each kill came after the run made its generation live
    for n, phase in enumerate(phases):
        seed = seeds[n % len(seeds)]
        extra = 3 if phase == "embedding" else 1  # embedding kills: more to embed, a wider window
        for k in range(extra):
            (corpus / f"追加{n}-{k}.txt").write_text(f"第{n}-{k}号追加工作总结\n" + seed.read_text(encoding="utf-8"),
                                                   encoding="utf-8")
        if n % 3 == 2:  # an edited report: its old chunks go, new ones come
            edited = corpus / f"追加{n - 2}-0.txt"
            edited.write_text(edited.read_text(encoding="utf-8") + f"\n第{n}次修改补充的内容。", encoding="utf-8")
        if n % 4 == 3:  # a deleted report
            (corpus / f"追加{n - 3}-0.txt").unlink()
        live = current_generation(index_dir)
        err_log = logs / f"run{n}.err"
        with open(err_log, "wb") as err:
            proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "index", "--corpus", str(corpus),
                                     "--index-dir", str(index_dir)], stdout=subprocess.DEVNULL, stderr=err,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if phase == "startup":  # within its imports (app.py --help alone takes 0.6 s): a whole run of one new
            time.sleep(rng.uniform(0.1, 0.5))  # report took under 3.8 s on a fast machine, so a later kill found it done
        else:
            wait_until(lambda: holds_lock(proc), proc)
        if phase == "embedding":
            time.sleep(rng.uniform(0.2, 1.5))
        if phase in ("written", "commit"):
            wait_until(lambda: "embedding: 100%" in err_log.read_text(errors="replace"), proc)
        if phase == "written":
            time.sleep(rng.uniform(0.0, 0.3))
        if phase == "commit":
            listed = {s["name"] for s in Manifest.read(live / "manifest.json").segments}
            wait_until(lambda: any((s / "kw-terms.json").exists() for s in (index_dir / "segments").glob("seg-*")
                                   if s.name not in listed), proc, poll=0.002)
        assert proc.poll() is None, f"run {n} ended before its {phase} kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        flipped.setdefault(phase, []).append(current_generation(index_dir) != live)
        consistent(settings)
        assert app.search("意识形态工作存在哪些问题？", 3).passages
    # kills before the lock, while embedding and while writing never make a generation live;
    # at least one commit kill landed before the flip (the others may land just after it)
    assert not any(flipped["startup"] + flipped["embedding"] + flipped["written"])
    assert not all(flipped["commit"]), flipped

    proc = _run_index(settings)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    snap = consistent(settings)
    names = {p.name for p in corpus.iterdir()}
    assert sources(snap) == names
    for name in names:  # every chunk of every report, once, as the parser makes it now
        stored = snap.source_chunks(name)
        assert [c["text"] for c in stored] == [c.text for c in chunk_document(parse_file(corpus / name))]
        assert [c["ord"] for c in stored] == list(range(len(stored)))
    sample = random.Random(7).sample(snap.chunks(snap.ids.tolist()), 8)
    fresh = encoder.encode_passages([" › ".join([c["title"], *c["heading_path"], c["text"]]) for c in sample])
    stored = np.stack([snap.vector(int(c["id"])) for c in sample])
    assert np.allclose((fresh * stored).sum(axis=1), 1.0, atol=1e-3)  # each id kept its own vector
    assert len(list(index_dir.glob("gen-*"))) <= 3  # generations left by killed runs were swept
