"""Departments, attacked: users × routes × knowledge bases on a real server (local store and milvus-lite).

Two knowledge bases, A (its reports name 甲测试局) and B (乙测试局); an admin, an editor of A, a reader
of B, and a visitor who never signs in. Every route a client can reach is called as each of them, and
every byte that comes back is searched for what that user may not see: A's file names and marker
for the reader of B, everything for the visitor. Path tricks and guessed names are tried on the file
route and the report routes.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
import pytest

from test_web import ROOT, Server, server_env

pytestmark = pytest.mark.slow

A_MARK, B_MARK = "甲测试局", "乙测试局"
PASSWORD = "correct horse 9"
USERS = {"boss": "admin", "ann": "editor of a", "bob": "reader of b"}


def report(unit: str, year: int, topic: str) -> str:
    return (f"{unit}{year}年党建工作总结\n一、主要工作\n（一）{topic}\n{unit}全年发展党员{year % 100}名，"
            f"开展{topic}活动12次。\n二、存在问题\n{unit}理论学习不够深入，{topic}创新不足。\n"
            f"三、下一步打算\n{unit}将继续加强{topic}。\n")


def prepare(folder: Path, store: str | None) -> dict:
    """Two bases with two reports each, three accounts with their grants (through the CLI and the library)."""
    bases = folder / "bases"
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "默认报告.txt").write_text(report("丙测试局", 2022, "主题教育"), encoding="utf-8")
    extra = ["--bases-dir", str(bases), *(["--store", store] if store else [])]
    run = lambda *args: subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=server_env(),  # noqa: E731
                                       capture_output=True, text=True, timeout=900)
    files = {}
    for name, unit in (("a", A_MARK), ("b", B_MARK)):
        assert run("kb", "create", name, "--title", f"{unit}知识库", "--bases-dir", str(bases)).returncode == 0
        src = folder / f"in-{name}"
        src.mkdir()
        paths = []
        for year, topic in ((2023, "红色教育"), (2024, "廉政建设")):
            p = src / f"{unit}{year}年总结.txt"
            p.write_text(report(unit, year, topic), encoding="utf-8")
            paths.append(str(p))
        got = run("add", *paths, "--base", name, "--corpus", str(corpus), "--index-dir", str(folder / "index"), *extra)
        assert got.returncode == 0, got.stderr
        files[name] = [Path(p).name for p in paths]
    from retrieval.access import AccessStore

    store_ = AccessStore(bases / "access.sqlite")
    store_.add_user("boss", PASSWORD, admin=True)
    store_.add_user("ann", PASSWORD)
    store_.add_user("bob", PASSWORD)
    store_.add_group("a_staff")
    store_.add_member("a_staff", "ann")
    store_.grant("a", "editor", group="a_staff")
    store_.grant("b", "reader", user="bob")
    store_.close()
    return {"extra": extra, "files": files, "corpus": corpus}


def sign_in(url: str, name: str, password: str = PASSWORD) -> dict:
    """The cookies of a signed-in session (the sign-in page's form, as a browser posts it)."""
    r = httpx.post(url + "login", data={"username": name, "password": password}, follow_redirects=False)
    assert r.status_code in (200, 303), (name, r.status_code, r.text[:300])
    return dict(r.cookies)


def everything(c: httpx.Client, gradio, files: dict) -> list[tuple[str, str]]:
    """(route, what came back) for every route a signed-in client can call."""
    out = []
    for route in ("config", "gradio_api/info", "gradio_api/openapi.json", "", "gradio_api/runs"):
        r = c.get(route)
        out.append((route, f"{r.status_code} {r.text}"))
    if gradio is None:
        return out
    calls = {
        "/search": (("发展党员多少名", 10), {}),
        "/search bases=a": (("发展党员多少名", 10, [], [], [], ["a"]), {}),
        "/status": ((), {}),
        "/library": ((), {}),
        "/compare": (("存在哪些问题", [], [], [], []), {}),
        "/compare bases=a": (("存在哪些问题", [], [], [], ["a"]), {}),
    }
    for name, (args, kwargs) in calls.items():
        try:
            got = gradio.predict(*args, api_name=name.split()[0], **kwargs)
            out.append((name, json.dumps(got, ensure_ascii=False)))
        except Exception as e:  # an error is an answer too: it must not name what it protects
            out.append((name, f"error {e}"))
    for f in files["a"]:
        for key in (f, f"a/{f}", f"a/../a/{f}", f"../a/corpus/{f}", f".trash/{f}"):
            for api in ("/outline", "/reindex_report", "/remove_report"):
                try:
                    got = gradio.predict(key, api_name=api)
                    out.append((f"{api} {key}", json.dumps(got, ensure_ascii=False)))
                except Exception as e:
                    out.append((f"{api} {key}", f"error {e}"))
    return out


def file_tricks(c: httpx.Client, corpus_a: Path, files: list[str]) -> list[tuple[str, httpx.Response]]:
    out = []
    for f in files:
        target = corpus_a / f
        for path in (str(target), urllib.parse.quote(str(target)), f"../../{target}", f"..%2F..%2F{target}",
                     str(corpus_a.parent / ".trash" / f)):
            r = c.get(f"gradio_api/file={path}")
            out.append((path, r))
    return out


@pytest.fixture(scope="module", params=["local", "milvus-lite"])
def departments(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"departments-{request.param}")
    if request.param == "milvus-lite":
        pytest.importorskip("pymilvus")
        pytest.importorskip("milvus_lite")
    store = str(folder / "milvus.db") if request.param == "milvus-lite" else None
    setup = prepare(folder, store)
    server = Server(folder, *setup["extra"]).wait()
    yield server, setup, folder
    server.stop()


def as_user(server, name):
    from gradio_client import Client

    cookies = sign_in(server.url, name)
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    http = httpx.Client(base_url=server.url, headers={"Cookie": header}, timeout=60)
    return http, Client(server.url, headers={"Cookie": header}, verbose=False)


def test_reader_of_b_never_sees_a(departments):
    server, setup, folder = departments
    http, gradio = as_user(server, "bob")
    seen = everything(http, gradio, setup["files"])
    for path, r in file_tricks(http, folder / "bases" / "a" / "corpus", setup["files"]["a"]):
        assert r.status_code in (403, 404) and "全年发展党员" not in r.text, (path, r.status_code)  # never the file
    # a refusal may repeat the name the caller typed (they know it already); anything else of A is a leak
    typed = lambda route: route.split(" ", 1)[1].rsplit("/", 1)[-1] if " " in route else "\0"  # noqa: E731
    leaks = [(route, text[:200]) for route, text in seen
             if A_MARK in (stripped := text.replace(typed(route), "")) or "甲测试局知识库" in stripped]
    assert not leaks, leaks
    searched = json.loads(dict(seen)["/search"])
    assert searched and all(B_MARK in p["text"] or "丙" not in p["text"] for p in searched)
    assert {p["base"] for p in searched} == {"b"}
    # A's reports, by any path, are refused exactly as a name that exists nowhere is (existence not revealed)
    refusals = [text for route, text in seen if route.startswith("/outline ")]
    nowhere = gradio_error(gradio, "a/不存在的报告.txt", "/outline")
    assert nowhere.endswith("不是报告库中的文件")
    assert refusals and all(text.endswith("不是报告库中的文件") for text in refusals), refusals


def gradio_error(gradio, key: str, api: str) -> str:
    try:
        gradio.predict(key, api_name=api)
    except Exception as e:
        return f"error {e}"
    return "no error"


def test_editor_of_a_cannot_touch_b(departments, tmp_path):
    server, setup, _ = departments
    http, gradio = as_user(server, "ann")
    found = gradio.predict("发展党员多少名", 10, api_name="/search")
    assert found and {p["base"] for p in found} == {"a"}
    for f in setup["files"]["b"]:
        with pytest.raises(Exception):
            gradio.predict(f"b/{f}", api_name="/remove_report")
    new = tmp_path / f"{A_MARK}2025年总结.txt"
    new.write_text(report(A_MARK, 2025, "作风建设"), encoding="utf-8")
    from gradio_client import handle_file

    with pytest.raises(Exception):
        gradio.predict([handle_file(str(new))], "b", api_name="/add_reports")
    added = gradio.predict([handle_file(str(new))], "a", api_name="/add_reports")
    assert [f["outcome"] for f in added["files"]] == ["added"]
    # the reader of B still sees nothing of A, the new report included
    _, bob = as_user(server, "bob")
    assert A_MARK not in json.dumps(bob.predict("作风建设", 10, api_name="/search"), ensure_ascii=False)


def test_visitor_gets_nothing(departments):
    server, setup, folder = departments
    http = httpx.Client(base_url=server.url, timeout=30)
    for route in ("config", "gradio_api/info", "gradio_api/openapi.json", "gradio_api/queue/join",
                  f"gradio_api/file={folder / 'bases' / 'a' / 'corpus' / setup['files']['a'][0]}"):
        r = http.get(route)
        assert r.status_code in (302, 401, 403, 404, 405), (route, r.status_code)
        assert A_MARK not in r.text and B_MARK not in r.text
    page = http.get("", follow_redirects=True)
    assert A_MARK not in page.text and B_MARK not in page.text and "登录" in page.text
    r = http.post("gradio_api/upload", files={"files": ("x.txt", b"abc")})
    assert r.status_code in (401, 403), r.status_code


def test_admin_sees_every_base_and_the_audit_log_holds_it(departments):
    server, setup, folder = departments
    _, gradio = as_user(server, "boss")
    found = gradio.predict("发展党员多少名", 20, api_name="/search")
    assert {p["base"] for p in found} >= {"a", "b"}
    from retrieval.access import AuditLog

    log = AuditLog(folder / "bases" / "audit.sqlite")
    entries = log.entries()
    users_seen = {(e.user, e.action) for e in entries}
    assert ("boss", "ask") in users_seen and ("bob", "ask") in users_seen and ("ann", "add") in users_seen
    assert any(e.action == "sign_in" and e.user == "bob" for e in entries)


def test_a_colleague_cannot_use_anothers_gradio_session(departments):
    """Gradio keys queues and state by a session hash the client picks: the first user owns it."""
    server, _, _ = departments
    _, ann = as_user(server, "ann")
    ann.predict("发展党员多少名", 3, api_name="/search")
    bob_http, _ = as_user(server, "bob")
    for route in (f"gradio_api/queue/data?session_hash={ann.session_hash}", f"gradio_api/heartbeat/{ann.session_hash}"):
        assert bob_http.get(route).status_code == 403, route
    r = bob_http.post("gradio_api/queue/join", json={"session_hash": ann.session_hash, "fn_index": 0, "data": [],
                                                     "event_data": None, "trigger_id": None})
    assert r.status_code == 403
    r = bob_http.post("gradio_api/cancel", json={"session_hash": ann.session_hash, "event_id": "x"})
    assert r.status_code == 403
    http = httpx.Client(base_url=server.url, timeout=30)  # no session at all: Gradio's unchecked routes closed too
    for route in (f"gradio_api/heartbeat/{ann.session_hash}", "gradio_api/monitoring/x"):
        assert http.get(route).status_code == 401, route
    assert http.post("gradio_api/cancel", json={"session_hash": "x", "event_id": "y"}).status_code == 401
