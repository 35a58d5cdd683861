"""Personal tokens, the token HTTP API (/api/v1) and MCP (/mcp): tokens stored hashed, revoked at once,
rate-limited; every route refuses a missing, wrong or revoked token with 401 and nothing else; a
token reaches what its account may read, no more, through the same handlers and audit log as the page.

In process (unit tier): the real TokenApi middleware around a real WebApp over two indexed knowledge
bases (the hashed-bigram encoder of test_web_units stands in for the model), called through Starlette's
TestClient and the ``mcp`` SDK's own client over an ASGI transport, with the network refused; README's
MCP client configurations, each connected as written. On a real server (slow): tokens issued by the
CLI, the HTTP API with curl-like calls, the ``mcp`` client over streamable HTTP, and README's Python client.
"""
from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
import urllib.parse
from contextlib import asynccontextmanager

import httpx
import pytest
from argon2 import PasswordHasher, profiles

import app
from retrieval.access import AccessError, AccessStore, AuditLog, RateLimit, TokenStore
from retrieval.access.tokens import USED_EVERY, digest
from accounts import PASSWORD
from test_departments import two_bases  # noqa: F401 (a fixture)
from retrieval.config import ROOT

CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    s = AccessStore(tmp_path / "access.sqlite", audit=AuditLog(tmp_path / "audit.sqlite"), hasher=CHEAP)
    s.add_user("bob", PASSWORD)
    s.add_user("amy", PASSWORD)
    yield s
    s.close()
    s.audit.close()


def test_a_token_is_shown_once_and_stored_only_as_its_sha256(tmp_path, store):
    tokens = TokenStore(store)
    secret = tokens.issue("bob", "助手", by="boss")
    assert secret.startswith("ydk_") and len(secret) == 47
    assert tokens.issue("bob") != secret  # random, never derived from the user
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("*.sqlite*"))
    assert secret.encode() not in raw and secret[4:].encode() not in raw
    rows = sqlite3.connect(tmp_path / "access.sqlite").execute("SELECT user, label, digest FROM tokens").fetchall()
    assert rows[0] == ("bob", "助手", digest(secret))
    assert (tmp_path / "access.sqlite").stat().st_mode & 0o077 == 0


def test_resolve_revoke_and_a_removed_account(store):
    clock = Clock()
    tokens = TokenStore(store, clock=clock)
    bob, amy = tokens.issue("BOB", by="boss"), tokens.issue("amy", "cursor", by="boss")
    assert tokens.resolve(bob).user == "bob" and tokens.resolve(amy).label == "cursor"
    for wrong in (None, "", bob[:-1], bob + "x", bob.upper(), "ydk_" + "A" * 43, bob[4:], "x" * 100_000, 42, f" {bob}"):
        assert tokens.resolve(wrong) is None, wrong
    listed = tokens.list()
    assert [(t.user, t.label) for t in listed] == [("bob", ""), ("amy", "cursor")]
    assert all(bob not in json.dumps(t.to_json()) for t in listed)
    assert [t.user for t in tokens.list("AMY")] == ["amy"]
    with pytest.raises(AccessError, match="no such token"):  # bob cannot revoke amy's token
        tokens.revoke(listed[1].id, user="bob", by="bob")
    tokens.revoke(listed[0].id, user="bob", by="bob")
    assert tokens.resolve(bob) is None and tokens.resolve(amy) is not None
    with pytest.raises(AccessError, match="no such token"):
        tokens.revoke(listed[0].id, by="boss")
    with pytest.raises(AccessError, match="no such user"):
        tokens.issue("nobody", by="boss")
    store.remove_user("amy", by="boss")  # the account goes, and its tokens with it
    assert tokens.resolve(amy) is None and tokens.list() == []
    log = [(e.action, e.user, e.target, json.loads(e.detail)) for e in store.audit.entries()
           if e.action.startswith("token_")]
    assert log == [("token_revoke", "bob", "bob", {"id": listed[0].id, "label": ""}),
                   ("token_issue", "boss", "amy", {"id": listed[1].id, "label": "cursor"}),
                   ("token_issue", "boss", "bob", {"id": listed[0].id, "label": ""})]


def test_last_used_is_written_at_most_once_a_minute(store):
    clock = Clock()
    tokens = TokenStore(store, clock=clock)
    secret = tokens.issue("bob")
    assert tokens.list()[0].last_used is None
    tokens.resolve(secret)
    first = clock.now
    clock.now += USED_EVERY / 2
    tokens.resolve(secret)
    assert tokens.list()[0].last_used == first
    clock.now += USED_EVERY
    tokens.resolve(secret)
    assert tokens.list()[0].last_used == clock.now


def test_the_rate_limit_is_a_bucket_per_token():
    clock = Clock()
    limit = RateLimit(rate=60, per=60.0, clock=clock)
    assert [limit.take("a") for _ in range(60)] == [0.0] * 60
    assert limit.take("a") == pytest.approx(1.0) and limit.take("b") == 0.0  # another token is not slowed
    clock.now += 0.5
    assert limit.take("a") == pytest.approx(0.5)  # a refused request costs nothing
    clock.now += 0.5
    assert limit.take("a") == 0.0 and limit.take("a") > 0
    clock.now += 3600  # an idle token gets its burst back, never more
    assert sum(limit.take("a") == 0.0 for _ in range(100)) == 60
    assert RateLimit.retry_after(0.01) == "1" and RateLimit.retry_after(1.2) == "2"


def test_the_token_cli_issues_lists_and_revokes(tmp_path, store, capsys):
    bases = str(tmp_path)
    assert app.main(["token", "issue", "bob", "--label", "助手", "--bases", bases]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("ydk_") and "只显示这一次" in err
    assert app.main(["token", "list", "--json", "--bases", bases]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["user"], t["label"], t["last_used"]) for t in listed] == [(1, "bob", "助手", None)]
    assert secret not in json.dumps(listed)
    assert app.main(["token", "issue", "nobody", "--bases", bases]) == 1
    assert "no such user" in capsys.readouterr().err
    assert app.main(["token", "revoke", "1", "--bases", bases]) == 0
    assert TokenStore(store).resolve(secret) is None
    assert app.main(["audit", "--action", "token_revoke", "--json", "--bases", bases]) == 0
    assert [(e["user"], e["target"]) for e in json.loads(capsys.readouterr().out)] == [("cli", "bob")]


# ---- the middleware, in process ------------------------------------------------------------------

A_MARK, B_MARK = "甲测试局", "乙测试局"


def gradio_stand_in():
    """What lies behind the middleware in process (on a real server: Gradio)."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    return Starlette(routes=[Route("/", lambda r: PlainTextResponse("gradio"))])


@pytest.fixture
def api(two_bases, tmp_path):  # noqa: F811
    """TokenApi around a real WebApp over bases a and b; tokens of amy (reader of a), bob (reader of b),
    boss (admin) and a revoked one."""
    from retrieval.access.sessions import Sessions
    from retrieval.web.gate import Gate
    from retrieval.web.handlers import WebApp
    from retrieval.web.tokenapi import TokenApi

    root = tmp_path / "bases"
    audit = AuditLog(root / "audit.sqlite")
    store = AccessStore(root / "access.sqlite", audit=audit, hasher=CHEAP)
    for name in ("boss", "amy", "bob"):
        store.add_user(name, PASSWORD, admin=name == "boss")
    store.grant("a", "reader", user="amy")
    store.grant("b", "reader", user="bob")
    tokens = TokenStore(store)
    secrets = {name: tokens.issue(name) for name in ("boss", "amy", "bob")}
    secrets["revoked"] = tokens.issue("bob", "old")
    tokens.revoke(tokens.list("bob")[-1].id)
    web = WebApp(two_bases.get("default"), gate=Gate(Sessions(3600, 3600), store, audit), bases=two_bases)
    middleware = TokenApi(gradio_stand_in(), web=web, tokens=tokens, limit=RateLimit(rate=20))
    return middleware, secrets, store, audit


@pytest.fixture
def offline(monkeypatch):
    """No socket may connect and no name be looked up: in process (the ASGI transport needs no socket),
    the HTTP API and MCP must reach nothing outside — neither may any library they use."""
    import socket

    tried = []

    def refuse(what):
        def refused(*args, **kwargs):
            tried.append((what, args[1:] if what == "connect" else args))
            raise ConnectionRefusedError(f"network refused in this test: {what} {args}")
        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield
    assert not tried, tried


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


MCP_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "MCP-Protocol-Version": "2025-06-18"}


def test_no_token_a_wrong_one_or_a_revoked_one_gets_401_and_nothing_else(api):
    from starlette.testclient import TestClient

    middleware, secrets, _, _ = api
    with TestClient(middleware) as c:
        assert c.get("/").text == "gradio"  # everything else goes on untouched
        for headers in ({}, bearer("ydk_" + "x" * 43), bearer(secrets["revoked"]), {"Authorization": secrets["bob"]},
                        {"Authorization": f"Basic {secrets['bob']}"}, bearer(""), bearer(f"{secrets['bob']}x")):
            calls = [c.post("/api/v1/search", json={"question": "发展党员"}, headers=headers),
                     c.post("/api/v1/compare", json={"question": "存在问题"}, headers=headers),
                     c.get("/api/v1/reports", headers=headers),
                     c.get("/api/v1/outline", params={"source": "a/甲测试局.txt"}, headers=headers),
                     c.get("/api/v1/anything", headers=headers),
                     c.post("/mcp", json=MCP_LIST, headers={**MCP_HEADERS, **headers}),
                     c.get("/mcp", headers=headers)]
            for r in calls:
                assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (headers, r.request.url)
                assert set(r.json()) == {"detail"} and "测试局" not in r.text and "search" not in r.text
        spec = c.get("/api/v1/openapi.json").json()  # the description needs no token and names no report
        assert {"/api/v1/search", "/api/v1/compare", "/api/v1/reports", "/api/v1/outline"} <= set(spec["paths"])
        for path, methods in spec["paths"].items():  # the refusals are described too
            assert all({"200", "401", "404", "429", "503"} <= set(op["responses"]) for op in methods.values()), path
        assert "测试局" not in json.dumps(spec, ensure_ascii=False)


def test_without_accounts_no_token_exists_and_the_api_refuses_everyone(two_bases):  # noqa: F811
    """Sign-in off (the single-user desktop): the page is open, the token API is not."""
    from starlette.testclient import TestClient

    from retrieval.web.gate import Gate
    from retrieval.web.handlers import WebApp
    from retrieval.web.tokenapi import TokenApi

    web = WebApp(two_bases.get("default"), gate=Gate(), bases=two_bases)
    with TestClient(TokenApi(gradio_stand_in(), web=web, tokens=None)) as c:
        for r in (c.get("/api/v1/reports", headers=bearer("ydk_" + "x" * 43)), c.get("/api/v1/reports"),
                  c.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS)):
            assert r.status_code == 401 and "测试局" not in r.text


def test_a_token_reaches_its_accounts_bases_only_and_the_audit_log_names_it(api, offline):
    from starlette.testclient import TestClient

    middleware, secrets, store, audit = api
    with TestClient(middleware) as c:
        found = c.post("/api/v1/search", json={"question": "发展党员多少名", "top_k": 10}, headers=bearer(secrets["bob"]))
        assert found.status_code == 200, found.text
        passages = found.json()
        assert passages and {p["source"] for p in passages} == {"乙测试局.txt"}
        assert A_MARK not in found.text and all({"section", "page", "start", "end", "text"} <= set(p) for p in passages)
        # bob names a: nothing of a, and a's report is refused exactly as one that exists nowhere
        asked_a = c.post("/api/v1/search", json={"question": "发展党员", "bases": ["a"], "reports": ["a/甲测试局.txt"]},
                         headers=bearer(secrets["bob"]))
        assert A_MARK not in asked_a.text
        for source in ("a/甲测试局.txt", "甲测试局.txt", "a/../a/甲测试局.txt", "a/不存在.txt"):
            r = c.get("/api/v1/outline", params={"source": source}, headers=bearer(secrets["bob"]))
            assert r.status_code == 404 and r.json()["detail"].endswith("不是报告库中的文件"), (source, r.text)
        assert [r["source"] for r in c.get("/api/v1/reports", headers=bearer(secrets["bob"])).json()] == ["乙测试局.txt"]
        rows = c.post("/api/v1/compare", json={"question": "存在问题"}, headers=bearer(secrets["bob"])).json()
        assert [r["source"] for r in rows] == ["乙测试局.txt"] and B_MARK in rows[0]["passage"]["text"]
        amy = c.post("/api/v1/search", json={"question": "发展党员多少名"}, headers=bearer(secrets["amy"])).json()
        assert amy and {p["source"] for p in amy} == {"甲测试局.txt"}
        boss = c.get("/api/v1/reports", headers=bearer(secrets["boss"])).json()
        assert {(r["base"], r["source"]) for r in boss} >= {("a", "甲测试局.txt"), ("b", "乙测试局.txt")}
        # bad parameters: refused before any handler runs, or by it
        for body in ({"question": "x" * 201}, {"question": "q", "top_k": 0}, {"question": "q", "section_types": ["x"]},
                     {"question": "q", "reports": ["r"] * 1001}, {}, {"question": ""}, {"question": "q", "years": ["x"]}):
            assert c.post("/api/v1/search", json=body, headers=bearer(secrets["bob"])).status_code == 422, body
        bomb = c.post("/api/v1/search", content=b'{"question": "' + b"x" * (3 << 20) + b'"}',
                      headers={**bearer(secrets["bob"]), "Content-Type": "application/json"})
        assert bomb.status_code == 413
        # a revoked grant counts at the next request
        store.revoke("b", user="bob")
        gone = c.post("/api/v1/search", json={"question": "发展党员"}, headers=bearer(secrets["bob"]))
        assert gone.status_code == 503 and gone.json()["state"] == "empty" and B_MARK not in gone.text
    asks = [(e.user, e.base, e.target, e.client) for e in audit.entries(action="ask")]
    assert ("bob", "b", "发展党员多少名", "testclient") in asks and ("amy", "a", "发展党员多少名", "testclient") in asks
    assert [e.user for e in audit.entries(action="compare")] == ["bob"]


def test_each_token_has_its_own_rate_limit(api):
    from starlette.testclient import TestClient

    middleware, secrets, _, _ = api
    with TestClient(middleware) as c:
        codes = [c.get("/api/v1/reports", headers=bearer(secrets["bob"])).status_code for _ in range(21)]
        assert codes == [200] * 20 + [429]
        r = c.get("/api/v1/reports", headers=bearer(secrets["bob"]))
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "乙" not in r.text
        assert c.get("/api/v1/reports", headers=bearer(secrets["amy"])).status_code == 200


def asgi_client(middleware, headers: dict):
    """An httpx2 client (the ``mcp`` SDK's HTTP client) that reaches ``middleware`` in process, whatever the URL."""
    import httpx2

    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=middleware), headers=headers,
                              base_url="http://testserver")


@asynccontextmanager
async def mcp_session(http, url: str):
    """The ``mcp`` SDK's own client session over streamable HTTP, through ``http`` (an httpx2 client)."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def test_mcp_tools_answer_as_the_tokens_account(api, offline):
    middleware, secrets, _, _ = api

    async def run():
        async with middleware.mcp.session_manager.run():
            out = {}
            for name in ("amy", "bob"):
                async with asgi_client(middleware, bearer(secrets[name])) as http:
                    async with mcp_session(http, "http://testserver/mcp") as s:
                        tools = await s.list_tools()
                        searched = await s.call_tool("search", {"question": "发展党员多少名", "top_k": 10})
                        listed = await s.call_tool("list_reports", {})
                        refused = await s.call_tool("outline", {"source": "a/甲测试局.txt" if name == "bob"
                                                                else "b/乙测试局.txt"})
                        out[name] = (tools, searched, listed, refused)
            return out

    out = asyncio.run(run())
    for name, mine, theirs in (("amy", "甲测试局.txt", B_MARK), ("bob", "乙测试局.txt", A_MARK)):
        tools, searched, listed, refused = out[name]
        assert {t.name for t in tools.tools} == {"search", "compare", "outline", "list_reports"}
        assert "测试局" not in json.dumps([t.model_dump() for t in tools.tools], ensure_ascii=False)
        passages = json.loads(searched.content[0].text)
        assert not searched.is_error and passages and {p["source"] for p in passages} == {mine}
        assert all(p["section"] and "page" in p and p["end"] > p["start"] >= 0 for p in passages)  # citations
        assert theirs not in searched.content[0].text
        assert [r["source"] for r in json.loads(listed.content[0].text)] == [mine]
        assert refused.is_error and refused.content[0].text.endswith("不是报告库中的文件")


# ---- README's client configurations ----------------------------------------------------------------

PLACEHOLDER = "ydk_…"  # the token as README writes it
STREAMABLE_HTTP = {"type": {"http", "streamableHttp", "streamable-http"},
                   "transport": {"http", "streamable_http", "streamable-http"}}  # how clients spell the transport


def readme_snippets(language: str) -> list[str]:
    """The ``language`` code blocks of README's section on the token API and MCP."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Token API and MCP"):]
    section = section[:section.index("\n## ")]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def readme_mcp_servers() -> list[dict]:
    """Every MCP server entry of README's client configurations: each JSON object with a "url"."""
    found = []

    def walk(node):
        if isinstance(node, dict) and "url" in node:
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    for block in readme_snippets("json"):
        walk(json.loads(block))
    return found


def test_readme_mcp_configurations_connect_as_written(api, offline):
    """Each configuration README shows, with its URL as written and its header with a real token in
    place of ydk_…, connects with the ``mcp`` SDK's client and answers as that token's account."""
    middleware, secrets, _, _ = api
    servers = readme_mcp_servers()
    assert len(servers) >= 3 and {"url", "headers"} in [set(entry) for entry in servers]  # the generic form first
    for entry in servers:
        assert set(entry) <= {"url", "headers", "type", "transport"}, entry
        assert all(entry[k] in STREAMABLE_HTTP[k] for k in ("type", "transport") if k in entry), entry
        assert urllib.parse.urlsplit(entry["url"]).path == "/mcp" and list(entry["headers"]) == ["Authorization"]
        assert entry["headers"]["Authorization"] == f"Bearer {PLACEHOLDER}"

    async def run():
        out = []
        async with middleware.mcp.session_manager.run():
            for entry in servers:
                headers = {k: v.replace(PLACEHOLDER, secrets["bob"]) for k, v in entry["headers"].items()}
                async with asgi_client(middleware, headers) as http, mcp_session(http, entry["url"]) as session:
                    found = await session.call_tool("search", {"question": "发展党员多少名"})
                    out.append(((await session.list_tools()).tools, json.loads(found.content[0].text)))
        return out

    for tools, passages in asyncio.run(run()):
        assert {t.name for t in tools} == {"search", "compare", "outline", "list_reports"}
        assert passages and {p["source"] for p in passages} == {"乙测试局.txt"}  # bob's base, no other


# ---- on a real server ----------------------------------------------------------------------------

@pytest.mark.slow
def test_a_real_server_answers_tokens_over_http_and_mcp_and_refuses_a_revoked_one(tmp_path_factory):
    from test_isolation import as_user, prepare
    from test_web import Server, server_env

    folder = tmp_path_factory.mktemp("tokens")
    setup = prepare(folder, None)
    bases = folder / "bases"
    store = AccessStore(bases / "access.sqlite")
    store.add_user("amy", PASSWORD)
    store.grant("a", "reader", user="amy")
    store.close()

    def cli(*args) -> subprocess.CompletedProcess:
        got = subprocess.run([sys.executable, "app.py", "token", *args, "--bases", str(bases)], cwd=ROOT,
                             env=server_env(), capture_output=True, text=True, timeout=120)
        assert got.returncode == 0, got.stderr
        return got

    secrets = {name: cli("issue", name, "--label", f"{name} 的助手").stdout.strip() for name in ("amy", "bob")}
    secrets["revoked"] = cli("issue", "bob", "--label", "旧的").stdout.strip()
    old = [t for t in json.loads(cli("list", "--json").stdout) if t["label"] == "旧的"][0]
    cli("revoke", str(old["id"]))
    server = Server(folder, *setup["extra"]).wait()
    try:
        url = server.url.rstrip("/")
        for name, mine, theirs in (("amy", "a", "b"), ("bob", "b", "a")):
            r = httpx.post(f"{url}/api/v1/search", json={"question": "发展党员多少名", "top_k": 10},
                           headers=bearer(secrets[name]), timeout=300)
            assert r.status_code == 200, r.text
            assert r.json() and {p["source"] for p in r.json()} == set(setup["files"][mine])
            reports = httpx.get(f"{url}/api/v1/reports", headers=bearer(secrets[name]), timeout=60).json()
            assert {x["source"] for x in reports} == set(setup["files"][mine])
            marks = {"a": A_MARK, "b": B_MARK}
            assert marks[theirs] not in r.text + json.dumps(reports, ensure_ascii=False)
        r = httpx.post(f"{url}/api/v1/search", json={"question": "发展党员"}, headers=bearer(secrets["revoked"]))
        assert r.status_code == 401 and "测试局" not in r.text
        assert httpx.get(f"{url}/api/v1/openapi.json").json()["info"]["title"].startswith("研读")
        out = asyncio.run(mcp_calls(f"{url}/mcp", secrets))
        for name, mine, theirs in (("amy", A_MARK, B_MARK), ("bob", B_MARK, A_MARK)):
            tools, passages, statuses = out[name]
            assert {"search", "compare", "outline", "list_reports"} <= set(tools) and set(statuses) <= {200, 202}
            assert passages and all(mine in p["text"] and theirs not in p["text"] for p in passages)
            assert all(p["source"] and p["section"] and "page" in p and p["end"] > p["start"] for p in passages)
        tools, errors, statuses = out["revoked"]
        assert tools is None and errors and statuses == [401], (errors, statuses)  # not even initialize answered
        # README's Python client, run as it is written, with this server's URL and amy's token put in
        [snippet] = readme_snippets("python")
        written = readme_mcp_servers()[0]["url"]
        assert snippet.count(written) == 1 and snippet.count(PLACEHOLDER) == 1
        ran = subprocess.run([sys.executable, "-c", snippet.replace(written, f"{url}/mcp").replace(PLACEHOLDER, secrets["amy"])],
                             cwd=folder, env=server_env(), capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stderr
        passages = json.loads(ran.stdout)
        assert passages and {p["source"] for p in passages} <= set(setup["files"]["a"]) and B_MARK not in ran.stdout
        # signed-in users' gradio_client is untouched by the middleware
        _, gradio = as_user(server, "bob")
        assert {p["source"] for p in gradio.predict("发展党员多少名", 10, api_name="/search")} == set(setup["files"]["b"])
    finally:
        server.stop()
    asks = subprocess.run([sys.executable, "app.py", "audit", "--action", "ask", "--json", "--bases", str(bases)],
                          cwd=ROOT, env=server_env(), capture_output=True, text=True, timeout=120)
    users = {(e["user"], e["base"]) for e in json.loads(asks.stdout)}
    assert {("amy", "a"), ("bob", "b")} <= users


async def mcp_calls(url: str, secrets: dict) -> dict:
    """Per token: the tool names and the passages of ``search``, or the error the SDK's client raised;
    and the HTTP statuses its requests met."""
    import httpx2

    out = {}
    for name, secret in secrets.items():
        statuses = []

        async def seen(response, statuses=statuses):
            statuses.append(response.status_code)

        async with httpx2.AsyncClient(headers=bearer(secret), timeout=300, event_hooks={"response": [seen]}) as http:
            try:
                async with mcp_session(http, url) as s:
                    tools = [t.name for t in (await s.list_tools()).tools]
                    result = await s.call_tool("search", {"question": "发展党员多少名", "top_k": 10})
                    out[name] = (tools, json.loads(result.content[0].text), statuses)
            except Exception as e:  # noqa: BLE001 — the revoked token: the connection fails
                out[name] = (None, list(_leaves(e)), statuses)
    return out


def _leaves(e: BaseException):
    if isinstance(e, BaseExceptionGroup):
        for sub in e.exceptions:
            yield from _leaves(sub)
    else:
        yield e
