"""The web app end to end: a real `python app.py serve` subprocess driven through gradio_client.

One server per module over a temporary copy of the seed corpus (with --watch); nothing is mocked.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # needs the model, an index, a server or a browser

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "corpus").glob("*.txt"))
STARTUP_TIMEOUT = 300  # model load + first index on a 2-core machine
KEYS = {"rank", "score", "source", "title", "section", "section_type", "text", "year", "page", "item", "start",
        "end", "why"}
FACT = "全年共开展“红色走读”活动17次"
NEW_REPORT = f"""某区机关党支部2024年度党建工作总结
一、主要工作
（一）创新教育载体
{FACT}，组织党员干部到革命旧址现场学习，参与党员420人次。
（二）加强阵地建设
建成党员活动室2处，配备学习资料300余册。
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "YANDU_AUTH"}
    env.update(PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False", NO_PROXY="127.0.0.1,localhost")
    return env


def seed_corpus(folder: Path) -> Path:
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for seed in SEEDS:
        shutil.copy2(seed, corpus / seed.name)
    return corpus


class Server:
    """`python app.py serve …` on a free port; `url` once it answers."""

    def __init__(self, folder: Path, *extra: str):
        self.folder = folder
        self.corpus = folder / "corpus"
        self.index = folder / "index"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = folder / f"server-{self.port}.log"
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "serve", "--port", str(self.port), "--corpus", str(self.corpus),
             "--index-dir", str(self.index), *extra],
            cwd=ROOT, env=server_env(), stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = STARTUP_TIMEOUT, indexed: bool = True) -> "Server":
        """Until it answers — and, with ``indexed``, until its startup index run (in the background,
        the server listens before it) has finished."""
        deadline = time.monotonic() + timeout
        while indexed and "index:" not in self.output() and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            time.sleep(0.5)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return self
            except urllib.error.HTTPError as e:  # e.g. 401 behind --auth: it is up
                if e.code in (401, 403):
                    return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.log.close()


def client(url: str, **kwargs):
    """A gradio_client Client of its own session.

    A job submitted in the background and calls made while it runs go on two clients: on one,
    gradio_client 2.7 can lose a call posted just as the server closes the session's stream after
    the job's last message (CancelledError; seen in CI while polling /status beside /chat).
    """
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, **kwargs)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    seed_corpus(folder)
    srv = Server(folder, "--watch").wait()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api(server):
    return client(server.url)


def answer_text(chat: list[dict]) -> str:
    """The text of the last assistant message in a Chatbot value as the client receives it."""
    last = [m for m in chat if m["role"] == "assistant"][-1]
    content = last["content"]
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- startup ---------------------------------------------------------------------------------


def test_startup_indexed_and_said_so(server):
    """The server listens at once and indexes in the background (issue 15), then says so."""
    out = server.output()
    assert "index:" in out and "5 reports" in out
    assert (server.index / "CURRENT").exists()
    assert "preparing the embedding model" in out and "done in" in out  # model preparation is reported
    assert "share=True" not in out and "Traceback" not in out


def test_page_is_chinese_and_titled(server):
    with urllib.request.urlopen(server.url, timeout=10) as r:
        page = r.read().decode("utf-8")
    assert "研读" in page


# --- /search ---------------------------------------------------------------------------------


def test_search_two_argument_call(api):
    passages = api.predict("意识形态工作存在哪些问题？", 5, api_name="/search")
    assert isinstance(passages, list) and 1 <= len(passages) <= 5
    for p in passages:
        assert KEYS <= set(p), set(KEYS) - set(p)
        assert p["text"].strip() and p["title"]
    assert [p["rank"] for p in passages] == list(range(1, len(passages) + 1))
    assert "001_56e93352d959f4eb.txt" in [p["source"] for p in passages[:2]]
    top = next(p for p in passages if p["source"] == "001_56e93352d959f4eb.txt")
    assert "意识形态" in top["text"]
    assert {"dense", "keyword", "role"} <= set(top["why"])


def test_search_keyword_arguments_and_top_k(api):
    passages = api.predict(question="全年发展了多少名党员？", top_k=2, api_name="/search")
    assert len(passages) == 2


def test_search_filter_section_type(api):
    from retrieval.ingest.roles import cues, paragraph_roles

    passages = api.predict("下一步如何加强执纪监督？", 5, [], [], ["plan"], api_name="/search")
    assert passages  # every passage plays the role: by its section, its headings or its own words (as test_search)
    assert all("plan" in {p["section_type"], *cues(p["section"]), *paragraph_roles(p["text"])} for p in passages)


def test_search_filter_year_and_report(api):
    by_year = api.predict("党建工作", 5, years=[2022], api_name="/search")
    assert by_year and {p["year"] for p in by_year} == {2022}
    one = "004_89ff1545f78e1bcc.txt"
    by_report = api.predict("党建工作", 5, reports=[one], api_name="/search")
    assert by_report and {p["source"] for p in by_report} == {one}


def test_search_bad_section_type_is_a_clear_error(api):
    with pytest.raises(Exception, match="section_types"):
        api.predict("党建工作", 5, section_types=["nonsense"], api_name="/search")


def test_search_nothing_relevant_returns_empty_list(api):
    assert api.predict("", 5, api_name="/search") == []


# --- /chat -----------------------------------------------------------------------------------


def test_chat_answers_with_citations(api):
    question = "下一步如何加强执纪监督？"
    expected = api.predict(question, 5, api_name="/search")
    chat, cleared, export = api.predict(question, api_name="/chat")
    assert cleared == ""
    assert chat[-2]["role"] == "user" and chat[-1]["role"] == "assistant"
    text = answer_text(chat)
    assert "[1]" in text and expected[0]["title"] in text and expected[0]["source"] in text
    assert expected[0]["section"].split(" › ")[-1] in text  # heading path
    assert 'class="yd-badge' in text
    assert "<mark>" in text  # the question's terms are highlighted
    # every citation is a link that opens its passage in context
    assert all(f'href="#cite-0-{p["rank"]}"' in text for p in expected)
    # internal ranking figures are not shown to users (the API keeps them in `why`)
    assert "语义第" not in text and "关键词第" not in text and "得分" not in text
    # …and the answer can be exported as Markdown with its citations (Word is built when asked for:
    # tests/test_browser.py downloads it)
    path = export["value"] if isinstance(export, dict) else export
    path = path.get("path") if isinstance(path, dict) else path
    assert str(path).endswith(".md")


def test_chat_shows_passages_in_rank_order(api):
    chat, *_ = api.predict("意识形态工作存在哪些问题？", 5, api_name="/chat")
    text = answer_text(chat)
    passages = api.predict("意识形态工作存在哪些问题？", 5, api_name="/search")
    # each passage's line opens with its [n] (the direct answer's quotes carry theirs at their end)
    ranks = [int(r) for r in re.findall(r'<p><a class="yd-cite" href="#cite-\d+-(\d+)"[^>]*>\[\d+\]</a> ', text)]
    assert ranks == [p["rank"] for p in passages]  # never [1][4][2][3]
    # a report's name is shown wherever the report changes from one passage to the next
    changes = 1 + sum(a["source"] != b["source"] for a, b in zip(passages, passages[1:]))
    assert text.count('class="yd-report"') == changes


def test_chat_direct_answer_quotes_the_figure(api):
    chat, *_ = api.predict("全年发展了多少名党员？", 5, api_name="/chat")
    text = answer_text(chat)
    passages = api.predict("全年发展了多少名党员？", 5, api_name="/search")
    direct = re.search(r'<div class="yd-direct">(.*?)</div>', text, re.S)
    assert direct, text[:500]
    sentence = re.sub(r"<[^>]+>|\\", "", direct.group(1)).rsplit("[", 1)[0].strip()
    rank = int(re.search(r"#cite-\d+-(\d+)", direct.group(1)).group(1))
    cited = next(p for p in passages if p["rank"] == rank)
    assert sentence in cited["text"] and re.search(r"\d+名", sentence)  # verbatim, states the figure


def test_chat_direct_answer_lists_items(api):
    chat, *_ = api.predict("意识形态工作存在哪些问题？", 5, api_name="/chat")
    text = answer_text(chat)
    passages = {p["rank"]: p for p in api.predict("意识形态工作存在哪些问题？", 5, api_name="/search")}
    items = re.findall(r"<li>(.*?) <a class=\"yd-cite\" href=\"#cite-\d+-(\d+)\"", text)
    assert len(items) >= 2
    for item, rank in items:
        assert html.unescape(item).rstrip("…") in passages[int(rank)]["text"]  # nothing not in a passage


def test_chat_no_direct_answer_when_no_sentence_states_it(api):
    chat, *_ = api.predict("全年举办了多少场音乐会？", 5, api_name="/chat")
    assert "yd-direct" not in answer_text(chat)


def test_follow_up_keeps_topic_and_scope(server):
    c = client(server.url)
    one = "001_56e93352d959f4eb.txt"
    c.predict("意识形态工作存在哪些问题？", 5, [one], [], [], api_name="/chat")
    chat, *_ = c.predict("那原因呢？", 5, api_name="/chat")
    text = answer_text(chat)
    assert "按上一问的主题：意识形态工作" in text
    sources = set(re.findall(r'<span class="yd-src">(?:\d+ 年 · )?([^<]+)</span>', text))
    assert sources == {one}  # the report scope of the previous question is kept


def test_compare_one_row_per_report(api):
    rows = api.predict("各单位的存在问题有什么共性？", api_name="/compare")
    status = api.predict(api_name="/status")
    assert len(rows) == status["reports"]
    assert {r["source"] for r in rows} == {d["source"] for d in status["documents"]}
    found = [r for r in rows if r["passage"]]
    assert found and all(KEYS <= set(r["passage"]) for r in found)
    by_year = api.predict("各单位的存在问题有什么共性？", [], [2022], api_name="/compare")
    assert by_year and {r["year"] for r in by_year} == {2022}


def test_chat_says_when_nothing_is_found(api):
    candidates = ["火星上的天气怎么样？", "如何烘焙法式面包？", "足球世界杯的冠军是谁？"]
    question = next((q for q in candidates if not api.predict(q, 5, api_name="/search")), None)
    if question is None:
        pytest.skip("the engine found passages for every off-topic question")
    chat, *_ = api.predict(question, api_name="/chat")
    text = answer_text(chat)
    assert "没有找到" in text and "[1]" not in text


def test_chat_keeps_history_per_session(server):
    c = client(server.url)
    c.predict("全年发展了多少名党员？", api_name="/chat")
    chat, *_ = c.predict("意识形态工作存在哪些问题？", api_name="/chat")
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2


def test_empty_question_is_not_an_error(server):
    logged = len(server.output())
    chat, *_ = client(server.url).predict("   ", api_name="/chat")
    assert not isinstance(chat, list) or not chat  # nothing asked, nothing added (the chat is left as it was)
    time.sleep(0.5)
    assert "Traceback" not in server.output()[logged:]


# --- uploads ---------------------------------------------------------------------------------


def test_upload_indexes_and_finds_new_report(api, server, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "红色走读 工作总结.txt"
    path.write_text(NEW_REPORT, encoding="utf-8")
    result = api.predict([handle_file(str(path))], api_name="/add_reports")
    [added] = result["files"]
    assert added["outcome"] == "added" and added["name"] == added["original"] == "红色走读 工作总结.txt", result
    assert added["passages"] >= 1
    assert (server.corpus / "红色走读 工作总结.txt").read_text(encoding="utf-8") == NEW_REPORT
    assert result["reports"] == 6
    passages = api.predict("全年开展了多少次红色走读活动？", 3, api_name="/search")
    assert passages[0]["source"] == "红色走读 工作总结.txt"
    assert "17次" in passages[0]["text"]


def test_upload_same_content_is_reported_not_duplicated(api, server, tmp_path):
    from gradio_client import handle_file

    before = sorted(p.name for p in server.corpus.iterdir())
    again = tmp_path / "另一个名字.txt"
    again.write_text(NEW_REPORT, encoding="utf-8")
    seed = tmp_path / SEEDS[0].name
    shutil.copy2(SEEDS[0], seed)
    result = api.predict([handle_file(str(again)), handle_file(str(seed))], api_name="/add_reports")
    assert [f["outcome"] for f in result["files"]] == ["duplicate", "duplicate"], result
    assert [f["duplicate_of"] for f in result["files"]] == ["红色走读 工作总结.txt", SEEDS[0].name]
    assert sorted(p.name for p in server.corpus.iterdir()) == before


def test_upload_names_are_made_safe(api, server, tmp_path):
    from gradio_client import handle_file

    evil = tmp_path / "..\\..\\逃逸\x07 报告.md"  # backslashes are legal in Linux file names
    evil.write_text("某单位2024年工作总结\n一、主要工作\n开展“清风廉洁”讲座9场。\n", encoding="utf-8")
    result = api.predict([handle_file(str(evil))], api_name="/add_reports")
    assert result["files"][0]["outcome"] == "added", result
    names = [p.name for p in server.corpus.iterdir()]
    saved = [n for n in names if "逃逸" in n]
    assert len(saved) == 1, names
    name = saved[0]
    assert name.endswith(".md") and not name.startswith(".") and "\\" not in name and "/" not in name
    assert "\x07" not in name and ".." not in name
    assert not any("逃逸" in p.name for p in server.folder.iterdir())  # nothing outside the corpus
    assert api.predict("清风廉洁讲座开展了几场？", 1, api_name="/search")[0]["source"] == name


def test_upload_rejects_unsupported_types(api, server, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "脚本.sh"
    bad.write_text("echo hi\n", encoding="utf-8")
    before = sorted(p.name for p in server.corpus.iterdir())
    try:
        result = api.predict([handle_file(str(bad))], api_name="/add_reports")
        message = str(result["files"][0]["outcome"]) + result["files"][0]["reason"]
    except Exception as e:  # gradio itself may refuse the file type
        message = str(e)
    assert "rejected" in message or "file type" in message.lower() or "invalid" in message.lower(), message
    assert sorted(p.name for p in server.corpus.iterdir()) == before


def test_status_endpoint(api):
    status = api.predict(api_name="/status")
    assert status["reports"] >= 6 and status["chunks"] > 0 and status["model"]
    assert status["updated"] and isinstance(status["errors"], dict)


def test_questions_are_answered_while_rebuilding(api, server):
    job = client(server.url).submit(api_name="/rebuild_index")  # its own session: see client()
    answered = during = 0
    while not job.done():
        passages = api.predict("意识形态工作存在哪些问题？", 3, api_name="/search")
        assert passages and passages[0]["text"]
        answered += 1
        during += not job.done()
    message, status, *_ = job.result()
    assert "索引已重建" in message, message
    assert "份报告" in status
    assert api.predict("意识形态工作存在哪些问题？", 3, api_name="/search")


# --- the report library ------------------------------------------------------------------------


def test_library_lists_every_report(api):
    rows = api.predict(api_name="/library")
    status = api.predict(api_name="/status")
    by_name = {r["source"]: r for r in rows}
    assert {d["source"] for d in status["documents"]} <= set(by_name)
    seed = by_name["001_56e93352d959f4eb.txt"]
    assert seed["title"] == "2023党组党建工作总结及下一步工作计划" and seed["year"] == 2023
    assert seed["kind"] == "工作总结" and seed["passages"] > 0 and seed["sections"]["problem"] >= 1
    assert by_name["003_b29ff4d5ebd0983d.txt"]["title"].startswith("无标题报告")  # never a bare file-name hash
    outline = api.predict("001_56e93352d959f4eb.txt", api_name="/outline")
    assert any(s["section_type"] == "problem" for s in outline["sections"])
    with pytest.raises(Exception, match="不是报告库中的文件"):
        api.predict("../app.py", api_name="/outline")


def test_remove_restore_and_reindex_one_report(api, server, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "待删除的报告.txt"
    path.write_text("某社区2024年工作总结\n一、主要工作\n全年组织“楼道夜话”31次。\n", encoding="utf-8")
    assert api.predict([handle_file(str(path))], api_name="/add_reports")["files"][0]["outcome"] == "added"
    before = api.predict(api_name="/status")["reports"]
    reindexed = api.predict("待删除的报告.txt", api_name="/reindex_report")
    assert reindexed["passages"] >= 1 and not reindexed["error"]
    removed = api.predict("待删除的报告.txt", api_name="/remove_report")
    assert removed["reports"] == before - 1 and removed["trashed"].startswith(".trash/")
    assert not (server.corpus / "待删除的报告.txt").exists()
    assert (server.corpus / removed["trashed"]).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    assert all(p["source"] != "待删除的报告.txt" for p in api.predict("楼道夜话组织了多少次？", 5, api_name="/search"))
    restored = api.predict(removed["trashed"], api_name="/restore_report")
    assert restored["source"] == "待删除的报告.txt" and restored["reports"] == before
    assert api.predict("楼道夜话组织了多少次？", 1, api_name="/search")[0]["source"] == "待删除的报告.txt"
    with pytest.raises(Exception, match="不是报告库中的文件"):
        api.predict("../index/CURRENT", api_name="/remove_report")


# --- --watch ---------------------------------------------------------------------------------


def test_watch_reindexes_when_files_appear_and_leave(api, server):
    before = api.predict(api_name="/status")["reports"]
    dropped = server.corpus / "直接放入的报告.txt"
    dropped.write_text("某局2024年纪检工作总结\n一、主要工作\n全年开展廉政谈话136人次。\n", encoding="utf-8")
    wait_for(lambda: api.predict(api_name="/status")["reports"] == before + 1, 90, "the new file to be indexed")
    assert api.predict("廉政谈话开展了多少人次？", 1, api_name="/search")[0]["source"] == dropped.name
    dropped.unlink()
    wait_for(lambda: api.predict(api_name="/status")["reports"] == before, 90, "the file to leave the index")


# --- security --------------------------------------------------------------------------------


def test_corpus_and_index_files_are_not_served(server):
    for target in (server.corpus / SEEDS[0].name, server.index / "CURRENT", ROOT / "app.py"):
        url = f"{server.url}gradio_api/file={target}"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=10)
        assert err.value.code in (403, 404)


def _refused(tmp_path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "app.py", "serve", "--port", str(free_port()), "--corpus", str(tmp_path / "c"),
         "--index-dir", str(tmp_path / "i"), *args],
        cwd=ROOT, env=env or server_env(), capture_output=True, text=True, timeout=120,
    )


def test_other_host_without_auth_refuses_to_start(tmp_path):
    proc = _refused(tmp_path, "--host", "0.0.0.0")
    assert proc.returncode != 0
    assert "--auth" in proc.stderr and "0.0.0.0" in proc.stderr
    assert not (tmp_path / "i").exists()  # refused before touching anything


def test_malformed_auth_refuses_to_start(tmp_path):
    proc = _refused(tmp_path, "--host", "0.0.0.0", "--auth", "nopassword")
    assert proc.returncode != 0 and "user:password" in proc.stderr
    env = {**server_env(), "YANDU_AUTH": ":"}
    proc = _refused(tmp_path, "--host", "0.0.0.0", env=env)
    assert proc.returncode != 0 and "user:password" in proc.stderr


def test_auth_is_enforced(server):
    """--auth on the default host: the API needs the credentials (same index, second process)."""
    from gradio_client import Client

    port_server = Server(server.folder, "--auth", "alice:s3cret")
    try:
        port_server.wait()
        with pytest.raises(Exception):
            Client(port_server.url, verbose=False)
        c = Client(port_server.url, auth=("alice", "s3cret"), verbose=False)
        assert c.predict("意识形态工作存在哪些问题？", 1, api_name="/search")
    finally:
        port_server.stop()
