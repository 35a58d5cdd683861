"""Departments, attacked: users × routes × knowledge bases on a real server (local store and milvus-lite).

Two knowledge bases, A (its reports name 甲测试局) and B (乙测试局); an admin, an editor of A, a reader
of B, and a visitor who never signs in. Every route a client can reach is called as each of them — the
page's and Gradio's routes with the user's session, the token API (``/api/v1/*``) and every MCP tool
(``/mcp``, through the ``mcp`` SDK's client) with the user's personal token — and every byte that comes
back is searched for what that user may not see: A's file names and marker for the reader of B,
everything for the visitor (who has no token, a revoked one, or only a session). Path tricks and
guessed names are tried on the file route and on every route that takes a report's name.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
import pytest

from accounts import PASSWORD, USERS, add_accounts
from test_api_tokens import MCP_HEADERS, MCP_LIST, bearer, mcp_session
from test_web import ROOT, Server, server_env

pytestmark = pytest.mark.slow

A_MARK, B_MARK = "甲测试局", "乙测试局"
GRADIO_MCP = ("gradio_api/mcp/", "gradio_api/mcp/sse", "gradio_api/mcp/schema")
REFUSED = "不是报告库中的文件"  # how a report the caller cannot reach is refused: as one that does not exist


def report(unit: str, year: int, topic: str) -> str:
    return (f"{unit}{year}年党建工作总结\n一、主要工作\n（一）{topic}\n{unit}全年发展党员{year % 100}名，"
            f"开展{topic}活动12次。\n二、存在问题\n{unit}理论学习不够深入，{topic}创新不足。\n"
            f"三、下一步打算\n{unit}将继续加强{topic}。\n")


def prepare(folder: Path, store: str | None) -> dict:
    """Two bases with two reports each, three accounts with their grants and a personal token each, and
    one revoked token of bob's (through the CLI and the library)."""
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
    from retrieval.access import AccessStore, TokenStore

    store_ = AccessStore(bases / "access.sqlite")
    add_accounts(store_)
    tokens = TokenStore(store_)
    secrets = {name: tokens.issue(name, "isolation") for name in USERS}
    secrets["revoked"] = tokens.issue("bob", "old")
    tokens.revoke(tokens.list("bob")[-1].id)
    store_.close()
    return {"extra": extra, "files": files, "corpus": corpus, "tokens": secrets}


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
    for key in report_keys(files["a"]):
        for api in ("/outline", "/reindex_report", "/remove_report"):
            try:
                got = gradio.predict(key, api_name=api)
                out.append((f"{api} {key}", json.dumps(got, ensure_ascii=False)))
            except Exception as e:
                out.append((f"{api} {key}", f"error {e}"))
    return out


def report_keys(files: list[str]) -> list[str]:
    """The names a caller may try for each of A's reports: as listed, with its base, and path tricks."""
    return [key for f in files for key in (f, f"a/{f}", f"a/../a/{f}", f"../a/corpus/{f}", f".trash/{f}")]


# route → the JSON body (POST) or query (GET) of each call of the token API, as everything() calls them
API_CALLS = {
    "/api/v1/search": ("POST", {"question": "发展党员多少名", "top_k": 10}),
    "/api/v1/search bases=a": ("POST", {"question": "发展党员多少名", "top_k": 10, "bases": ["a"]}),
    "/api/v1/compare": ("POST", {"question": "存在哪些问题"}),
    "/api/v1/compare bases=a": ("POST", {"question": "存在哪些问题", "bases": ["a"]}),
    "/api/v1/reports": ("GET", None),
    "/api/v1/openapi.json": ("GET", None),
}
# MCP tool → its arguments, likewise (each name a route: "mcp <tool>")
MCP_CALLS = {
    "search": {"question": "发展党员多少名", "top_k": 10},
    "search bases=a": {"question": "发展党员多少名", "top_k": 10, "bases": ["a"]},
    "compare": {"question": "存在哪些问题"},
    "compare bases=a": {"question": "存在哪些问题", "bases": ["a"]},
    "list_reports": {},
}


def token_routes(url: str, secret: str, files: dict) -> list[tuple[str, str]]:
    """(route, what came back) for every route of the token API and every MCP tool, called with the
    token ``secret``; each of A's report names (``report_keys``) tried on the routes that take one."""
    out = []
    with httpx.Client(base_url=url.rstrip("/"), headers=bearer(secret), timeout=300) as c:
        for name, (method, body) in API_CALLS.items():
            r = c.post(name.split()[0], json=body) if method == "POST" else c.get(name.split()[0])
            out.append((name, f"{r.status_code} {r.text}"))
        for key in report_keys(files["a"]):
            r = c.get("/api/v1/outline", params={"source": key})
            out.append((f"/api/v1/outline {key}", f"{r.status_code} {r.text}"))
            r = c.post("/api/v1/search", json={"question": "发展党员多少名", "reports": [key]})
            out.append((f"/api/v1/search {key}", f"{r.status_code} {r.text}"))
    return out + asyncio.run(mcp_routes(url.rstrip("/") + "/mcp", secret, files))


async def mcp_routes(url: str, secret: str, files: dict) -> list[tuple[str, str]]:
    """``token_routes``' MCP half: the tool list and every tool, through the ``mcp`` SDK's client."""
    import httpx2

    out = []
    async with httpx2.AsyncClient(headers=bearer(secret), timeout=300) as http, mcp_session(http, url) as session:
        tools = (await session.list_tools()).tools
        out.append(("mcp tools/list", json.dumps([t.model_dump(mode="json") for t in tools], ensure_ascii=False)))
        calls = [(f"mcp {name}", name.split()[0], args) for name, args in MCP_CALLS.items()]
        calls += [(f"mcp outline {key}", "outline", {"source": key}) for key in report_keys(files["a"])]
        for route, tool, args in calls:
            got = await session.call_tool(tool, args)
            out.append((route, f"{'error' if got.is_error else 'ok'} {got.content[0].text}"))
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
    seen = everything(http, gradio, setup["files"]) + token_routes(server.url, setup["tokens"]["bob"], setup["files"])
    for path, r in file_tricks(http, folder / "bases" / "a" / "corpus", setup["files"]["a"]):
        assert r.status_code in (403, 404) and "全年发展党员" not in r.text, (path, r.status_code)  # never the file
    for route in GRADIO_MCP:  # Gradio's own MCP server is never mounted (its tools would skip the login)
        assert http.get(route).status_code == 404, route
    # a refusal may repeat the name the caller typed (they know it already); anything else of A is a leak
    typed = lambda route: route.rsplit(" ", 1)[1].rsplit("/", 1)[-1] if " " in route else "\0"  # noqa: E731
    leaks = [(route, text[:200]) for route, text in seen
             if A_MARK in (stripped := text.replace(typed(route), "")) or "甲测试局知识库" in stripped]
    assert not leaks, leaks
    answers = dict(seen)
    searched = json.loads(answers["/search"])
    assert searched and all(B_MARK in p["text"] or "丙" not in p["text"] for p in searched)
    assert {p["base"] for p in searched} == {"b"}
    # the token API and MCP answer bob as the page does: B's passages, B's reports, nothing of A
    for route in ("/api/v1/search", "/api/v1/search bases=a", "mcp search", "mcp search bases=a"):
        passages = json.loads(answers[route].split(" ", 1)[1])
        assert passages and {p["source"] for p in passages} <= set(setup["files"]["b"]), route
    for route in ("/api/v1/reports", "mcp list_reports"):
        assert {r["source"] for r in json.loads(answers[route].split(" ", 1)[1])} == set(setup["files"]["b"]), route
    assert {t["name"] for t in json.loads(answers["mcp tools/list"])} == {"search", "compare", "outline", "list_reports"}
    # A's reports, by any path, are refused exactly as a name that exists nowhere is (existence not revealed)
    refusals = [text for route, text in seen if route.startswith(("/outline ", "/api/v1/outline ", "mcp outline "))]
    nowhere = gradio_error(gradio, "a/不存在的报告.txt", "/outline")
    assert nowhere.endswith(REFUSED)
    assert len(refusals) == 3 * len(report_keys(setup["files"]["a"])), len(refusals)
    assert all(text.startswith(("error", "404")) and text.rstrip('"}').endswith(REFUSED) for text in refusals), refusals
    # a report of A named as a filter: B's passages or none, never A's
    for route, text in seen:
        if route.startswith("/api/v1/search ") and text.startswith("200"):
            assert {p["source"] for p in json.loads(text[4:])} <= set(setup["files"]["b"]), route


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
    by_token = dict(token_routes(server.url, setup["tokens"]["ann"], setup["files"]))
    for route in ("/api/v1/search", "mcp search"):  # her token reads what she reads: A, never B
        passages = json.loads(by_token[route].split(" ", 1)[1])
        assert passages and {p["source"] for p in passages} <= set(setup["files"]["a"]), route
    assert not [route for route, text in by_token.items() if B_MARK in text]
    for f in setup["files"]["b"]:
        with pytest.raises(Exception):
            gradio.predict(f"b/{f}", api_name="/remove_report")
        with pytest.raises(Exception):  # B's trash is not hers to empty
            gradio.predict(f"b/{f}", api_name="/purge_report")
    assert B_MARK not in json.dumps(gradio.predict(api_name="/trash"), ensure_ascii=False)
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
                  f"gradio_api/file={folder / 'bases' / 'a' / 'corpus' / setup['files']['a'][0]}",
                  *GRADIO_MCP):
        r = http.get(route)
        assert r.status_code in (302, 401, 403, 404, 405), (route, r.status_code)
        assert A_MARK not in r.text and B_MARK not in r.text
    page = http.get("", follow_redirects=True)
    assert A_MARK not in page.text and B_MARK not in page.text and "登录" in page.text
    r = http.post("gradio_api/upload", files={"files": ("x.txt", b"abc")})
    assert r.status_code in (401, 403), r.status_code
    # the token API and MCP: no token, a revoked one, a made-up one, or a signed-in session without a token
    session, _ = as_user(server, "bob")
    for client, headers in ((http, {}), (http, bearer(setup["tokens"]["revoked"])), (http, bearer("ydk_" + "x" * 43)),
                            (session, {})):
        for name, (method, body) in API_CALLS.items():
            if name.endswith("openapi.json"):
                continue  # the description needs no token (it names no report: checked below)
            r = client.request(method, name.split()[0].lstrip("/"), json=body, headers=headers)
            assert r.status_code == 401 and set(r.json()) == {"detail"}, (name, headers, r.status_code)
        for r in (client.get("api/v1/outline", params={"source": f"a/{setup['files']['a'][0]}"}, headers=headers),
                  client.post("mcp", json=MCP_LIST, headers={**MCP_HEADERS, **headers}), client.get("mcp", headers=headers)):
            assert r.status_code == 401 and "测试局" not in r.text and "search" not in r.text, (r.request.url, headers)
    spec = json.dumps(http.get("api/v1/openapi.json").json(), ensure_ascii=False)
    assert "/api/v1/search" in spec and "测试局" not in spec


def test_admin_sees_every_base_and_the_audit_log_holds_it(departments):
    server, setup, folder = departments
    _, gradio = as_user(server, "boss")
    found = gradio.predict("发展党员多少名", 20, api_name="/search")
    assert {p["base"] for p in found} >= {"a", "b"}
    by_token = dict(token_routes(server.url, setup["tokens"]["boss"], setup["files"]))
    for route in ("/api/v1/reports", "mcp list_reports"):
        listed = {r["source"] for r in json.loads(by_token[route].split(" ", 1)[1])}
        assert listed >= set(setup["files"]["a"]) | set(setup["files"]["b"]), route
    from retrieval.access import AuditLog

    log = AuditLog(folder / "bases" / "audit.sqlite")
    entries = log.entries()
    users_seen = {(e.user, e.action) for e in entries}
    assert ("boss", "ask") in users_seen and ("bob", "ask") in users_seen and ("ann", "add") in users_seen
    assert any(e.action == "ask" and e.user == "boss" and e.client for e in entries)
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
