"""👍/👎 and the usage page in a real browser: headless Debian chromium (Playwright) against a real
`python app.py serve` with sign-in on. A reader asks two questions and marks one answer 👍 (with a
comment), one 👎, and one passage 无用; the feedback is exported (`app.py feedback export`) and scored by the shared scorer;
the admin opens 管理 → 使用情况 (chart, tables) and issues a token there. Screenshots:
tests/artifacts/departments-feedback-*.png.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from retrieval.config import SHARED_DIR
from test_departments_browser import browser, new_page, report, snap  # noqa: F401  (fixture)
from test_browser import CHROMIUM
from test_web import ROOT, Server, server_env

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]
PASSWORDS = {"boss": "boss-pass-2024", "ann": "ann-pass-2024"}


def app_py(*args, stdin: str = "") -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "app.py", *args], input=stdin, cwd=ROOT, env=server_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feedback-browser")
    corpus, bases = folder / "corpus", folder / "bases"
    corpus.mkdir()
    (corpus / "甲测试局2024年党建工作总结.txt").write_text(report("甲测试局", 2024, "红色教育", 17), encoding="utf-8")
    (corpus / "乙测试局2023年党建工作总结.txt").write_text(report("乙测试局", 2023, "廉政建设", 11), encoding="utf-8")
    for name in PASSWORDS:
        app_py("user", "add", name, *(["--admin"] if name == "boss" else []), "--password-stdin", "--bases", str(bases),
               stdin=PASSWORDS[name] + "\n")
    app_py("grant", "default", "--user", "ann", "--role", "reader", "--bases", str(bases))
    server = Server(folder, "--bases-dir", str(bases)).wait()
    yield {"server": server, "bases": bases, "folder": folder}
    server.stop()


def sign_in(pg, server, name: str) -> None:
    pg.goto(server.url)
    pg.wait_for_url("**/login")
    pg.locator("#username").fill(name)
    pg.locator("#password").fill(PASSWORDS[name])
    pg.get_by_role("button", name="登录").click()
    pg.locator("#yd-question textarea").wait_for()
    pg.wait_for_timeout(800)


def ask(pg, question: str) -> None:
    box = pg.locator("#yd-question textarea")
    n = pg.locator("#yd-chat .yd-cite").count()
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(f"document.querySelectorAll('#yd-chat .yd-cite').length > {n}")
    pg.wait_for_timeout(500)


def verdict(pg, answer: int, like: bool) -> None:
    """Click 👍 or 👎 under the ``answer``-th answer (0-based)."""
    bot = pg.locator("#yd-chat .message-row.bot-row, #yd-chat .bot-row").nth(answer)
    bot.hover()
    label = "赞" if like else "踩"  # Gradio's zh-CN labels of its 👍/👎 buttons
    bot.locator(f"button[aria-label='{label}'], button[title='{label}']").first.click()
    pg.wait_for_timeout(800)


def test_readers_mark_answers_the_set_is_scored_and_the_admin_sees_usage(site, browser):  # noqa: F811
    server = site["server"]
    pg = new_page(browser, server)
    sign_in(pg, server, "ann")
    ask(pg, "甲测试局发展党员多少名")
    pg.locator("#yd-feedback-comment textarea").fill("找到了")
    verdict(pg, 0, like=True)
    ask(pg, "存在哪些问题")
    verdict(pg, 1, like=False)
    pg.locator("#yd-chat a.yd-rate[href='#rate-1-1-down']").click()  # one passage of the second answer
    pg.locator(".toast-body, [data-testid='toast-body']", has_text="已记录").last.wait_for()
    pg.wait_for_timeout(500)
    snap(pg, "feedback-chat")
    # Gradio labels a chosen 👍/👎 in English ("Liked"/"Disliked"): the page translates it (page.js)
    assert pg.locator("#yd-chat [aria-label='已踩'], #yd-chat [title='已踩']").count() >= 1
    assert pg.locator("#yd-chat [aria-label$='iked'], #yd-chat [title$='iked']").count() == 0
    assert not pg.errors, pg.errors
    assert pg.locator("#yd-feedback-comment textarea").input_value() == ""  # the comment went with the 👍

    out = site["folder"] / "office.jsonl"
    app_py("feedback", "export", "--bases", str(site["bases"]), "--out", str(out))
    questions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q["question"] for q in questions] == ["甲测试局发展党员多少名"]
    assert all(g["doc"] == "甲测试局2024年党建工作总结.txt" for g in questions[0]["gold"][:1])
    spec = importlib.util.spec_from_file_location("shared_score", SHARED_DIR / "eval" / "score.py")
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    found = json.loads(app_py("query", questions[0]["question"], "--json", "--corpus", str(site["folder"] / "corpus"),
                              "--index-dir", str(site["folder"] / "index"), "--bases-dir", str(site["bases"])).stdout)
    passages = found["passages"] if isinstance(found, dict) else found
    assert scorer.score(questions, [{"id": "f001", "passages": passages}])[0]["hit@1"] == 1.0

    pg = new_page(browser, server)
    sign_in(pg, server, "boss")
    pg.locator("#yd-tab-admin-button, button[role='tab']:has-text('管理')").first.click()
    pg.get_by_text("使用情况", exact=True).click()
    pg.locator("#yd-usage-summary", has_text="提问 2 次").wait_for()
    summary = pg.locator("#yd-usage-summary").inner_text()
    assert "有用 1 次" in summary and "无用 2 次" in summary, summary  # two answers, one passage
    assert "乙测试局" in pg.locator("#yd-usage-disliked").inner_text() or "甲测试局" in pg.locator("#yd-usage-disliked").inner_text()
    pg.locator("#yd-usage-days").scroll_into_view_if_needed()
    snap(pg, "feedback-usage")
    pg.get_by_text("访问令牌", exact=True).click()
    pg.locator("#yd-token-user input, #yd-token-user textarea").first.fill("ann")
    pg.locator("#yd-token-issue").click()
    pg.locator("#yd-token-result", has_text="ydk_").wait_for()
    snap(pg, "feedback-token")
    assert not pg.errors, pg.errors
