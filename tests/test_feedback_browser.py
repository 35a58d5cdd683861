"""👍/👎 and the usage page in a real browser: headless Debian chromium (Playwright) against a real
`python app.py serve` with sign-in on. A reader asks two questions and marks one answer 👍 (with a
comment); on the other she clicks 👍, takes it back by clicking it again (a withdrawal), then 👎, and
marks one passage 无用. The feedback is exported (`app.py feedback export`) and scored by the product's
own command (`app.py eval office.jsonl`) and by the shared scorer; the admin opens 管理 → 使用情况
(chart, tables) and issues a token there. Screenshots: tests/artifacts/departments-feedback-*.png.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import shared_scorer
from browsing import NO_CHROMIUM, browser  # noqa: F401  (a fixture)
from test_departments_browser import new_page, report, snap
from test_web import ROOT, Server, server_env

pytestmark = [pytest.mark.slow, NO_CHROMIUM]
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


NOTICES = "[data-testid='toast-text']"  # one message of Gradio's notices (gr.Info)


def answer_row(pg, answer: int):
    return pg.locator("#yd-chat .message-row.bot-row, #yd-chat .bot-row").nth(answer)


def click_until(pg, target, said: str) -> None:
    """Click ``target`` and wait for a new notice that says ``said`` (one shown before does not count;
    Gradio groups notices of one kind in one toast, a message each)."""
    pg.evaluate(f"document.querySelectorAll({json.dumps(NOTICES)}).forEach(e => e.dataset.seen = 1)")
    target.click()
    try:
        pg.locator(f"{NOTICES}:not([data-seen])", has_text=said).first.wait_for(state="attached")
    except Exception:
        snap(pg, "feedback-failed")
        raise
    pg.wait_for_timeout(300)


def verdict(pg, answer: int, label: str, said: str) -> None:
    """Click the button ``label`` under the ``answer``-th answer (0-based): Gradio's 赞/踩 (zh-CN), or
    已赞/已踩 once chosen (page.js translates Gradio's Liked/Disliked) — clicking that takes it back."""
    bot = answer_row(pg, answer)
    bot.hover()
    click_until(pg, bot.locator(f"button[aria-label='{label}'], button[title='{label}']").first, said)


def test_readers_mark_answers_the_set_is_scored_and_the_admin_sees_usage(site, browser):  # noqa: F811
    server = site["server"]
    pg = new_page(browser, server)
    sign_in(pg, server, "ann")
    ask(pg, "甲测试局发展党员多少名")
    pg.locator("#yd-feedback-comment textarea").fill("找到了")
    verdict(pg, 0, "赞", said="谢谢")
    ask(pg, "存在哪些问题")
    verdict(pg, 1, "赞", said="谢谢")
    verdict(pg, 1, "已赞", said="已撤回")  # the chosen 👍 clicked again: taken back
    assert answer_row(pg, 1).locator("[aria-label='已赞'], [title='已赞']").count() == 0
    verdict(pg, 1, "踩", said="改进检索")
    click_until(pg, pg.locator("#yd-chat a.yd-rate[href='#rate-1-1-down']"), said="改进检索")  # one passage
    snap(pg, "feedback-chat")
    # Gradio labels a chosen 👍/👎 in English ("Liked"/"Disliked"): the page translates it (page.js)
    assert pg.locator("#yd-chat [aria-label='已踩'], #yd-chat [title='已踩']").count() >= 1
    assert pg.locator("#yd-chat [aria-label$='iked'], #yd-chat [title$='iked']").count() == 0
    assert not pg.errors, pg.errors
    assert pg.locator("#yd-feedback-comment textarea").input_value() == ""  # the comment went with the 👍

    bases, corpus = ["--bases", str(site["bases"])], site["folder"] / "corpus"
    verdicts = [json.loads(e["detail"])["verdict"]
                for e in json.loads(app_py("audit", "--action", "feedback", "--json", *bases).stdout)[::-1]]
    assert verdicts == ["up", "up", "withdrawn", "down", "down"], verdicts  # every click kept, in order
    out = site["folder"] / "office.jsonl"
    exported = app_py("feedback", "export", *bases, "--out", str(out))
    questions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q["question"] for q in questions] == ["甲测试局发展党员多少名"]  # the withdrawn 👍 exported nowhere
    assert "1 questions exported, 1 with 👎 only left out" in exported.stderr
    assert all(g["doc"] == "甲测试局2024年党建工作总结.txt" for g in questions[0]["gold"][:1])
    # scored by the product's own command, on this server's corpus and index
    evaluated = app_py("eval", str(out), "--no-baseline", "--corpus", str(corpus), "--index-dir",
                       str(site["folder"] / "index"), "--bases-dir", str(site["bases"])).stdout
    assert "| office |" in evaluated, evaluated
    table = json.loads(evaluated.splitlines()[-1].removeprefix("json: "))
    rows = [by_half["all"] for genre in table["office"].values() for system, by_half in genre.items() if system == "yandu"]
    assert sum(r["n"] for r in rows) == 1 and all(r["hit@1"] == 1.0 for r in rows), evaluated
    # and by the shared scorer, on what the same question finds
    scorer = shared_scorer()
    found = json.loads(app_py("query", questions[0]["question"], "--json", "--corpus", str(corpus),
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
