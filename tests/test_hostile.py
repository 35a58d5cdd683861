"""Issue 22: one bad file never stops the archive. Every hostile kind is built here (tests/hostile.py).

Unit tier: each hostile file read in-process gives one named line (or is read), the fence kills a
read past its budget or cap and names it, a symlink loop is named, and every cleaning pattern does
linear work (10× the input costs about 10× the time). Slow tier: a corpus of all of them beside good
reports through ``app.py index``/``query``/``library``/``compare`` (figures per file printed), a
local HTTP listener that no converter reaches, and a server that keeps answering while it indexes them.
"""
from __future__ import annotations

import http.server
import importlib
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.errors import ReadError
from retrieval.ingest import ReadOptions, corpus_files, read_fenced
from retrieval.ingest.pipeline import chunk_file, parse_file

from conftest import ROOT
from hostile import HOSTILE, SLOW_TO_MAKE, good, ofd_package, page, write_corpus

clean = importlib.import_module("retrieval.ingest.clean")
slow = pytest.mark.slow


def read_in_process(name: str, data: bytes) -> str:
    """What a reader says of a file, in this process: its error line, or ``"read: N passages"``."""
    path = Path(name)
    try:
        doc = parse_file(path, name, data=data)
        return f"read: {len(chunk_file(doc, path, 500, 800))} passages"
    except ReadError as e:
        return str(e)


# --- unit tier: every hostile kind is one named line, or read -------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_file_is_one_named_line_or_read(name):
    make, expected = HOSTILE[name]
    said = read_in_process(name, make())
    assert "\n" not in said
    if expected is None:
        assert said.startswith("read: ") and said != "read: 0 passages", said
    else:
        assert said.startswith(f"{name}: ") and expected in said, said


def good_files() -> dict[str, bytes]:
    """One readable report per format (no scans: OCR is the slow tier's)."""
    import docx

    from hostile import docx_bytes, mht, ofd_with

    text = good("截断")
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    return {"report.txt": text.encode("utf-8"), "report.md": text.encode("gb18030"), "report.docx": docx_bytes(document),
            "report.html": page(text).encode("utf-8"), "report.mht": mht(page(text)), "report.ofd": ofd_with()}


DAMAGE = {"half": lambda b: b[: len(b) // 2], "64 bytes": lambda b: b[:64], "empty": lambda b: b"",
          "one byte flipped": lambda b: b[: len(b) // 3] + bytes([b[len(b) // 3] ^ 0xFF]) + b[len(b) // 3 + 1:]}
LABELS = (".txt", ".md", ".docx", ".pdf", ".ofd", ".html", ".htm", ".mht", ".png", ".jpg", ".tif", ".bmp")


@pytest.mark.parametrize("source", sorted(good_files()))
def test_every_reader_given_truncated_damaged_or_mislabelled_bytes_says_one_line(source):
    """Each format's report cut short, emptied, one byte flipped, and each sent under every other
    extension: read, or one line naming the file — never another exception."""
    data = good_files()[source]
    cases = {f"{source}.{name}{Path(source).suffix}": damage(data) for name, damage in DAMAGE.items()}
    cases |= {f"as{label}{label}": data for label in LABELS if label != Path(source).suffix}
    for name, raw in cases.items():
        said = read_in_process(name, raw)
        assert "\n" not in said and (said.startswith("read: ") or said.startswith(f"{name}: ")), (name, said)


def test_misnamed_files_are_read_as_what_they_are():
    from retrieval.ingest.readers import read_file

    mht_doc = read_file(Path("网页.doc"), HOSTILE["mht_saved_as.doc"][0]())
    assert mht_doc.text.startswith("2023年度工作总结") and "MIME-Version" not in mht_doc.text
    assert "红色走读" in read_file(Path("a.txt"), good("红色走读").replace("红色", "红\x00色").encode()).text.replace("\x00", "")


def unsupported_compression_ofd() -> bytes:
    """An OFD whose page member claims compression method 99, which zipfile cannot inflate: an error
    no reader foresees (NotImplementedError), which the fence names."""
    raw = bytearray(ofd_package([[(25.0, "全年共开展红色走读活动")]]))
    member = b"Doc_0/Pages/Page_0/Content.xml"
    for m in re.finditer(re.escape(b"PK\x03\x04") + b"|" + re.escape(b"PK\x01\x02"), raw):
        local = raw[m.start():m.start() + 4] == b"PK\x03\x04"
        name_at, method_at = (30, 8) if local else (46, 10)
        size = int.from_bytes(raw[m.start() + (26 if local else 28):][:2], "little")
        if raw[m.start() + name_at:m.start() + name_at + size] == member:
            raw[m.start() + method_at:m.start() + method_at + 2] = (99).to_bytes(2, "little")
    return bytes(raw)


def test_the_fence_names_any_failure_and_kills_a_read_past_its_budget_or_cap():
    options = ReadOptions()
    # an error no reader foresaw: one line naming it, not a traceback
    with pytest.raises(ReadError) as caught:
        read_fenced(Path("odd.ofd"), "odd.ofd", unsupported_compression_ofd(), options, 500, 800)
    assert str(caught.value).startswith("odd.ofd: 无法读取（NotImplementedError") and "\n" not in str(caught.value)
    # past the wall-clock budget: killed and named with the setting
    long_text = (good("超时") * 20_000).encode()  # 1.6 MB of report, seconds of parsing
    started = time.monotonic()
    with pytest.raises(ReadError, match=r"读取超时（超过 0\.3 秒，read_timeout）"):
        read_fenced(Path("long.txt"), "long.txt", long_text, replace(options, read_timeout=0.3, max_chars=10**8), 500, 800)
    print(f"\nkilled after {time.monotonic() - started:.2f} s (budget 0.3 s)")
    # over the memory cap: named with the setting
    with pytest.raises(ReadError, match=r"内存超过上限（300 MB，read_memory_mb）"):
        read_fenced(Path("big.txt"), "big.txt", long_text * 6, replace(options, read_memory_mb=300, max_chars=10**9), 500, 800)
    # the next file gets a fresh worker and is read
    doc, chunks = read_fenced(Path("a.txt"), "a.txt", good("红色走读").encode(), options, 500, 800)
    assert doc.title == "2023年度工作总结" and chunks


def test_read_budget_and_cap_are_validated_settings(monkeypatch):
    from retrieval.errors import SettingsError

    assert (Settings().read_timeout, Settings().read_memory_mb) == (600.0, 4096)
    monkeypatch.setenv("YANDU_READ_TIMEOUT", "30")
    assert ReadOptions.from_settings(Settings()).read_timeout == 30
    for bad in ({"read_timeout": 0}, {"read_memory_mb": 100}, {"max_table_cells": 0}):
        with pytest.raises(SettingsError):
            Settings(**bad)


def test_a_symlink_loop_is_named_and_skipped(tmp_path):
    (tmp_path / "a.txt").write_text(good("正常"), encoding="utf-8")
    os.symlink("loop_b.txt", tmp_path / "loop_a.txt")
    os.symlink("loop_a.txt", tmp_path / "loop_b.txt")
    os.symlink("itself", tmp_path / "itself")
    files, skipped = corpus_files(tmp_path)
    assert list(files) == ["a.txt"]
    assert set(skipped) == {"loop_a.txt", "loop_b.txt", "itself"} and all("ELOOP" in r for r in skipped.values())


# --- unit tier: linear work per byte --------------------------------------------------------------


def _page_chrome_head(n: int) -> str:
    return "来源：" + "字" * n + "\n" + "记者" * (n // 2)


GROWTH = {  # pattern (and where it runs) → adversarial text of about n characters
    "paid_marker": (clean.paid_markers, lambda n: "##paid" * (n // 6)),
    "watermark (bracket, URL)": (clean.watermarks, lambda n: "（来源" + "字" * n),
    "watermark (www run)": (clean.watermarks, lambda n: "（www." + "a" * n),
    "watermark line": (clean.watermarks, lambda n: ("来源" + "字" * 50 + "\n") * (n // 53)),
    "password": (clean.password_lines, lambda n: ("\u3000" * 40 + "本文档\n") * (n // 44)),
    "paywall (run of 。)": (clean.paywall_notes, lambda n: "。" * n),
    "paywall (run of …)": (clean.paywall_notes, lambda n: "……省略" * (n // 4)),
    "page_number": (clean.page_numbers, lambda n: "-" + " " * n),
    "page_number lines": (clean.page_numbers, lambda n: "- 12\n" * (n // 5)),
    "page_furniture": (clean.page_furniture, lambda n: (clean.PAGE_MARK + "\n" + "页眉\n正文\n- 3 -\n") * (n // 14)),
    "page_chrome head": (clean.page_chrome, _page_chrome_head),
    "page_chrome tail marker": (clean.page_chrome, lambda n: ("相关报道" + "字" * 50 + "\n") * (n // 55)),
    "tail chrome (\\n收藏 not at the end)": (clean.page_chrome, lambda n: "正文" + "\n收藏" * (n // 3) + "\n正文"),
    "tail chrome (one line of 收藏)": (clean.page_chrome, lambda n: "正文\n" + "收藏" * (n // 2) + "正文"),
    "truncated_tail": (clean.truncated_tail, lambda n: "（" * n),
    "whitespace": (clean.whitespace, lambda n: "a" + " " * n + "b"),
    "inline headings (spaces after a sentence end)": (clean.inline_headings, lambda n: ("。" + " " * 20) * (n // 21)),
    "inline headings (top headings of spaces)": (clean.inline_headings, lambda n: ("一、标题" + " " * 20 + "\n") * (n // 25)),
}


def _other(module: str, name: str):
    return getattr(importlib.import_module(module), name)


GROWTH_ELSEWHERE = {  # the patterns of sections, chunker, years and the readers
    "sections (heading markers)": ("retrieval.ingest.sections", "parse_text", lambda n: ("第" + "一" * 50 + "\n") * (n // 51)),
    "chunker (items)": ("retrieval.ingest.chunker", "split_block", lambda n: "一是" * (n // 2)),
    "years (past years)": ("retrieval.ingest.years", "PAST_YEARS", lambda n: "1" * n),
    "html sniffing (<p runs)": ("retrieval.ingest.readers.plain", "looks_html", lambda n: "<!doctype html>" + "<p " * (n // 3)),
    "pdf table rows": ("retrieval.ingest.readers.tables", "text_table_lines", lambda n: "a b\n" * (n // 4)),
    "dom depth": ("retrieval.ingest.readers.html", "dom_depth", lambda n: "<div>" * (n // 5)),
    "line wraps (every line broken)": ("retrieval.ingest.wraps", "unwrap", lambda n: ("字" * 27 + "，\n") * (n // 29)),
    "line wraps (one long line)": ("retrieval.ingest.wraps", "unwrap", lambda n: "字" * n),
}


def _call(fn, text: str):
    name = getattr(fn, "__name__", "")
    if name == "parse_text":
        return fn(text, "r.txt")
    if name == "split_block":
        return fn(text, 0, len(text), 500, 800)
    if hasattr(fn, "findall"):
        return fn.findall(text)
    return fn(text)


def cost(fn, text: str) -> float:
    best = float("inf")
    for _ in range(5):  # best of five: a busy machine slows some runs, never speeds one up
        started = time.perf_counter()
        _call(fn, text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("case", list(GROWTH) + list(GROWTH_ELSEWHERE))
def test_cleaning_patterns_do_linear_work(case):
    """10× the input costs at most ~10× the time (slack for a shared, busy machine: < 50×, where 2.7–23×
    was measured idle and 35–54× under a load of 9 on 2 cores; quadratic work costs 100×, and the patterns
    this replaced cost 75–175× — a run of 。 against the paywall rule, \\n收藏 against the tail-chrome
    rule, blanks, <p runs, PDF table rows, digit runs)."""
    if case in GROWTH:
        fn, make = GROWTH[case]
    else:
        module, name, make = GROWTH_ELSEWHERE[case]
        fn = _other(module, name)
    n = 20_000
    small, large = cost(fn, make(n)), cost(fn, make(10 * n))
    ratio = large / max(small, 1e-5)
    print(f"\n{case}: {n} chars {small * 1e3:.2f} ms, {10 * n} chars {large * 1e3:.2f} ms, ratio {ratio:.1f}")
    assert ratio < 50, f"{case}: 10× the input cost {ratio:.0f}× the time"


# --- slow tier: a hostile corpus beside good reports ----------------------------------------------


def cli(*args, env=None, timeout=900) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), *map(str, args)], capture_output=True,
                         timeout=timeout, env={**os.environ, **(env or {})})
    run.out, run.err = run.stdout.decode("utf-8"), run.stderr.decode("utf-8")
    return run


def vm_peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


@slow
def test_a_hostile_corpus_is_indexed_beside_good_reports(tmp_path):
    from retrieval.ingest import fence

    kinds = {**HOSTILE, **SLOW_TO_MAKE}
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, kinds)
    # per-file figures: each file in a fresh worker, its wall time and the worker's peak resident memory
    print(f"\n{'file':22s} {'bytes':>9s} {'seconds':>8s} {'peak MB':>8s}  outcome")
    options = ReadOptions.from_settings(Settings().with_overrides(index_dir=index))
    for name in sorted(kinds):
        fence.stop_workers()
        read_fenced(corpus / "good_a.txt", "good_a.txt", None, options, 500, 800)  # start the worker
        worker = fence._IDLE[0]
        data = (corpus / name).read_bytes()
        started = time.monotonic()
        try:
            outcome = f"{len(read_fenced(corpus / name, name, data, options, 500, 800)[1])} passages"
        except ReadError as e:
            outcome = e.reason
        took = time.monotonic() - started
        peak = vm_peak_mb(worker.process.pid) if worker.alive() else float("nan")
        print(f"{name:22s} {len(data):>9,d} {took:8.2f} {peak:8.0f}  {outcome[:70]}")
    fence.stop_workers()

    run = cli("index", "--corpus", corpus, "--index-dir", index)
    print(run.out, run.err)
    assert run.returncode == 2 and "Traceback" not in run.out + run.err
    lines = (run.out + run.err).splitlines()
    bad = {name: expected for name, (_, expected) in kinds.items() if expected}
    bad.update({"loop_a.txt": "ELOOP", "loop_b.txt": "ELOOP"})
    for name, expected in bad.items():
        said = [line for line in lines if line.startswith(f"{name}: ")]
        assert len(said) == 1 and expected in said[0], (name, said)
    summary = run.out.splitlines()[-1]
    assert f"{len(bad)} not indexed" in summary, summary
    good_names = sorted(set(kinds) - set(bad)) + ["good_a.txt", "good_b.txt"]
    assert summary.startswith(f"{len(good_names)} reports"), summary

    library = cli("library", "--json", "--corpus", corpus, "--index-dir", index)
    assert library.returncode == 2 and "Traceback" not in library.err  # 2: some files could not be read
    import json

    rows = {r["source"]: r for r in json.loads(library.out)}
    assert all(rows[name]["passages"] > 0 and not rows[name]["error"] for name in good_names)
    assert all(rows[name]["error"] for name in bad)
    assert rows["mht_saved_as.doc"]["title"] != "MIME-Version: 1.0"
    query = cli("query", "红色走读活动开展了几次？", "--json", "--corpus", corpus, "--index-dir", index)
    assert query.returncode == 0 and json.loads(query.out)["passages"][0]["source"] == "good_a.txt", query.err
    compare = cli("compare", "存在哪些问题？", "--corpus", corpus, "--index-dir", index)
    assert compare.returncode == 0 and "Traceback" not in compare.err

    # the rerun reads none of the failures again (remembered by content), and names them again
    started = time.monotonic()
    again = cli("index", "--corpus", corpus, "--index-dir", index)
    print(f"rerun: {time.monotonic() - started:.1f} s\n{again.out}")
    assert again.returncode == 2 and "Traceback" not in again.err
    assert again.out.splitlines()[:-1] == run.out.splitlines()[:-1]
    assert "OCR blank.tif" in run.err and "OCR blank.tif" not in again.err  # its 100 frames are not read again
    assert f"unchanged {len(good_names)}" in again.out.splitlines()[-1]
    from retrieval.store.generations import current_generation
    from retrieval.store.snapshot import Snapshot

    manifest = Snapshot(current_generation(index)).manifest
    assert len(manifest.failed) == len(bad) - 2  # every failure by content (the loops have none)


class Listener(http.server.ThreadingHTTPServer):
    """A local HTTP server recording every request made to it."""

    def __init__(self):
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"body{}")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@slow
@pytest.mark.skipif(not Path("/usr/bin/soffice").exists(), reason="LibreOffice is not installed")
def test_no_converter_reaches_the_network(tmp_path):
    from retrieval.ingest.readers.word import no_network, read_doc, run_soffice

    listener = Listener()
    try:
        from hostile import mht

        html = page(good("外链"), listener.url)
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        for n, name in enumerate(("link.doc", "link.wps", "link.html", "link.htm")):
            (corpus / name).write_text(page(good(f"外链{n}"), listener.url), encoding="utf-8")
        (corpus / "link.mht").write_bytes(mht(page(good("外链归档"), listener.url)))
        run = cli("index", "--corpus", corpus, "--index-dir", tmp_path / "index")
        print(run.out, run.err)
        assert run.returncode == 0 and "5 reports" in run.out
        # LibreOffice itself, handed the web page (as an OLE-less .doc would reach it): in its namespace
        assert no_network(), "this machine allows no network namespace: the refusal path is the one taken"
        try:  # Writer/Web opens it but has no .docx export: converted or not, it must not have fetched
            read_doc(Path("link.doc"), html.encode(), ReadOptions())
        except ReadError as e:
            print(e)
        assert listener.requests == [], listener.requests
        # the listener does hear: a plain request, and LibreOffice run without the namespace (it fetches
        # the stylesheet and the image: measured ['/style.css', '/style.css', '/seal.png'])
        urllib.request.urlopen(listener.url + "probe", timeout=5).read()
        source = tmp_path / "direct.doc"
        source.write_text(html, encoding="utf-8")
        run_soffice(source, ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                             "--convert-to", "docx", "--outdir", str(tmp_path / "out"), str(source)])
        print("requests heard:", listener.requests)
        assert "/probe" in listener.requests and len(listener.requests) > 1
    finally:
        listener.shutdown()


@slow
def test_serve_keeps_answering_while_hostile_files_are_indexed(tmp_path):
    """Issue 22 asks for this bound: GET / and a search answer within 3 s while the regex and deep-DOM
    files are indexed (before: 40 000 。 blocked GET / for 55.9 s, 25 000 nested divs 18 s)."""
    from test_web import Server, client

    from hostile import chrome_tail_txt, deep_html, dots_txt

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good_a.txt").write_text(good("红色走读"), encoding="utf-8")
    srv = Server(tmp_path, "--watch").wait()
    try:
        api = client(srv.url)
        assert api.predict("红色走读活动开展了几次？", 1, api_name="/search")[0]["source"] == "good_a.txt"
        for n in range(3):  # several of each, so the run lasts while we ask
            (corpus / f"dots{n}.txt").write_bytes(dots_txt(40_000 * (n + 1)))
            (corpus / f"tail{n}.txt").write_bytes(chrome_tail_txt(20_000 * (n + 1)))
            (corpus / f"deep{n}.html").write_bytes(deep_html(25_000 * (n + 1)))
        page_times, search_times, saw_indexing = [], [], False
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            started = time.monotonic()
            with urllib.request.urlopen(srv.url, timeout=30) as r:
                assert r.status == 200
            page_times.append(time.monotonic() - started)
            started = time.monotonic()
            found = api.predict("红色走读活动开展了几次？", 1, api_name="/search")
            search_times.append(time.monotonic() - started)
            assert found[0]["source"] == "good_a.txt"
            status = api.predict(api_name="/status")
            saw_indexing |= bool(status.get("indexing"))
            if saw_indexing and not status.get("indexing") and len(status.get("errors", {})) == 3:
                break
            time.sleep(0.2)
        print(f"\nGET /: {len(page_times)} requests, max {max(page_times):.2f} s; "
              f"search: max {max(search_times):.2f} s; errors: {status.get('errors')}")
        assert saw_indexing and set(status["errors"]) == {"deep0.html", "deep1.html", "deep2.html"}, status
        assert max(page_times) < 3 and max(search_times) < 3
    finally:
        srv.stop()
