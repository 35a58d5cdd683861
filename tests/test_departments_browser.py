"""Departments in a real browser: the tour issue 23 asks for, one shared computer, one story.

Only the first admin is made by the CLI (and one report put in the default corpus); everything else is
done on the page, in headless Debian chromium driven by Playwright against a real `python app.py serve`:
the admin signs in, creates two knowledge bases (A: 甲测试局, B: 乙测试局), two groups and two more users,
grants the editor of A through a group and the reader of B directly, uploads B's report and signs out
(退出). The editor signs in on the same browser, uploads into A, asks and sees A cited, and cannot act on
B. The reader of B signs in on that browser too: A's marker, title and file names are nowhere in the
page's HTML in any view (chat, 报告库, the report filter, 对比各报告). The admin, last, finds every one
of those actions in 管理 → 审计日志 (and its CSV). Then the key views again on a phone.

Screenshots: tests/artifacts/departments-*.png.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from browsing import NO_CHROMIUM, browser, offline_page  # noqa: F401  (a fixture)
from test_browser import ARTIFACTS, DESKTOP, PHONE, ask, last_answer, shown
from test_web import ROOT, Server, client, server_env

pytestmark = [pytest.mark.slow, NO_CHROMIUM]

A_MARK, B_MARK, C_MARK = "甲测试局", "乙测试局", "丙测试局"
A_TITLE, B_TITLE = "甲测试局知识库", "乙测试局纪检室"
PASSWORDS = {"boss": "boss-pass-2024", "ann": "ann-pass-2024", "bob": "bob-pass-2024"}
A_FILE, B_FILE = f"{A_MARK}2024年党建工作总结.txt", f"{B_MARK}2024年党建工作总结.txt"


def report(unit: str, year: int, topic: str, count: int) -> str:
    return (f"{unit}{year}年党建工作总结\n一、主要工作\n（一）{topic}\n{unit}全年发展党员{count}名，"
            f"开展{topic}活动{count + 3}次。\n二、存在问题\n{unit}理论学习不够深入，{topic}创新不足。\n"
            f"三、下一步打算\n{unit}将继续加强{topic}。\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("departments-browser")
    corpus, bases = folder / "corpus", folder / "bases"
    corpus.mkdir()
    (corpus / "默认报告.txt").write_text(report(C_MARK, 2022, "主题教育", 9), encoding="utf-8")
    made = subprocess.run([sys.executable, "app.py", "user", "add", "boss", "--admin", "--password-stdin",
                           "--bases", str(bases)], input=PASSWORDS["boss"] + "\n", cwd=ROOT, env=server_env(),
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    inbox = folder / "inbox"
    inbox.mkdir()
    (inbox / A_FILE).write_text(report(A_MARK, 2024, "红色教育", 17), encoding="utf-8")
    (inbox / B_FILE).write_text(report(B_MARK, 2024, "廉政建设", 11), encoding="utf-8")
    server = Server(folder, "--bases-dir", str(bases)).wait()
    yield {"server": server, "bases": bases, "inbox": inbox}
    server.stop()


def new_page(browser, server, viewport=DESKTOP, phone=False):
    return offline_page(browser, server, viewport=viewport, locale="zh-CN", is_mobile=phone, has_touch=phone,
                        accept_downloads=True)


def snap(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"departments-{name}.png"
    pg.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


def sign_in(pg, server, name: str, shot: str | None = None) -> None:
    pg.goto(server.url)
    pg.wait_for_url("**/login")
    pg.locator("#username").fill(name)
    pg.locator("#password").fill(PASSWORDS[name])
    if shot:
        snap(pg, shot)
    pg.get_by_role("button", name="登录").click()
    pg.locator("#yd-question textarea").wait_for()
    pg.locator("#yd-user", has_text=name).wait_for()
    pg.wait_for_timeout(800)  # the session's choices arrive (session_start), the sidebar settles


def sign_out(pg) -> None:
    pg.locator("#yd-user a", has_text="退出").click()
    pg.wait_for_url("**/login")


def field(pg, elem: str):
    """A text box (Gradio renders a one-line Textbox as a textarea)."""
    return pg.locator(f"#{elem} input, #{elem} textarea").first


def admin_do(pg, button: str, expect: str, **fields) -> None:
    """Fill the 管理 tab's text fields (elem_id → value), press a button, wait for its message."""
    for elem, value in fields.items():
        field(pg, elem).fill(value)
    pg.locator(f"#{button}").click()
    pg.locator("#yd-admin-result", has_text=expect).wait_for()
    assert "未完成" not in pg.locator("#yd-admin-result").inner_text()


def choose(pg, dropdown: str, option: str) -> None:
    pg.locator(f"#{dropdown} input").click()
    pg.locator("ul[role=listbox] li", has_text=option).first.click()
    pg.keyboard.press("Escape")


def grant(pg, base_title: str, kind: str, name: str, role: str) -> None:
    choose(pg, "yd-grant-base", base_title)
    pg.locator("#yd-grant-kind label", has_text=kind).click()
    field(pg, "yd-grant-name").fill(name)
    pg.locator("#yd-grant-role label", has_text=role).click()
    pg.locator("#yd-grant-add").click()
    pg.locator("#yd-admin-result", has_text=f"已授予 {kind} {name}").wait_for()


def upload(pg, path: Path) -> str:
    pg.locator("#yd-upload input[type=file]").set_input_files(str(path))
    result = pg.locator("#yd-upload-result .yd-up-finished")  # the batch's outcome, not a stage on the way
    result.get_by_text(path.name).first.wait_for()
    return result.inner_text()


def session_cookie(pg) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in pg.context.cookies())


def no_trace_of_a(pg, view: str, typed: tuple[str, ...] = ()) -> None:
    """Nothing of A in the page's HTML: its marker, its title, its file's name, a topic only A has (what
    the user typed themselves aside)."""
    html = pg.content()
    for text in typed:
        html = html.replace(text, "")
    for secret in (A_MARK, A_TITLE, A_FILE, "红色教育"):
        assert secret not in html, (view, secret)


# --- the tour --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(browser, site):
    """One browser, as on a shared office computer: each user signs in and out in turn."""
    pg = new_page(browser, site["server"])
    yield pg
    assert not pg.errors, pg.errors
    pg.context.close()


def test_1_admin_builds_the_departments_on_the_page(desk, site):
    pg, server = desk, site["server"]
    sign_in(pg, server, "boss", shot="signin-desktop")
    assert "boss（管理员）" in pg.locator("#yd-user").inner_text()
    pg.get_by_role("tab", name="管理").click()
    admin_do(pg, "yd-base-create", "已创建知识库", **{"yd-base-name": "a", "yd-base-title": A_TITLE})
    admin_do(pg, "yd-base-create", "已创建知识库", **{"yd-base-name": "b", "yd-base-title": B_TITLE})
    admin_do(pg, "yd-group-add", "已添加组", **{"yd-group-name": "a_staff"})
    admin_do(pg, "yd-group-add", "已添加组", **{"yd-group-name": "b_staff"})
    admin_do(pg, "yd-user-add", "已添加用户 ann", **{"yd-user-name": "ann", "yd-user-password": PASSWORDS["ann"]})
    admin_do(pg, "yd-user-add", "已添加用户 bob", **{"yd-user-name": "bob", "yd-user-password": PASSWORDS["bob"]})
    admin_do(pg, "yd-member-add", "已将 ann 加入组 a_staff", **{"yd-group-name": "a_staff", "yd-member-name": "ann"})
    grant(pg, A_TITLE, "组", "a_staff", "编辑")
    grant(pg, B_TITLE, "用户", "bob", "读者")
    bases_shown = pg.locator("#yd-admin-bases").inner_text()
    assert A_TITLE in bases_shown and B_TITLE in bases_shown
    grants = pg.locator("#yd-admin-grants").inner_text()
    assert "a_staff" in grants and "bob" in grants
    pg.evaluate("window.scrollTo(0, 0)")
    snap(pg, "admin-desktop")
    # B's report, uploaded by the admin into B (the upload target offers every base to an admin)
    pg.get_by_role("tab", name="问答").click()
    choose(pg, "yd-upload-base", B_TITLE)
    assert "已添加" in upload(pg, site["inbox"] / B_FILE)
    assert (site["bases"] / "b" / "corpus" / B_FILE).exists()
    snap(pg, "admin-upload-desktop")
    sign_out(pg)


def test_2_editor_uploads_into_a_and_cannot_touch_b(desk, site):
    pg, server = desk, site["server"]
    sign_in(pg, server, "ann")
    # the upload target is A, and only A
    target = pg.locator("#yd-upload-base")
    if target.is_visible():
        target.locator("input").click()
        offered = pg.locator("ul[role=listbox] li").all_inner_texts()
        pg.keyboard.press("Escape")
        assert offered == [A_TITLE], offered
    text = upload(pg, site["inbox"] / A_FILE)
    assert "已添加" in text, text
    assert (site["bases"] / "a" / "corpus" / A_FILE).exists()
    ask(pg, f"{A_MARK}全年发展党员多少名？")
    answer = last_answer(pg)
    answer.locator(".yd-report", has_text=f"{A_MARK}2024年党建工作总结").first.wait_for()
    assert "全年发展党员17名" in answer.inner_text()
    assert B_MARK not in pg.content() and C_MARK not in pg.content()
    snap(pg, "editor-desktop")
    # B is not the editor's: the API refuses to remove B's report, or to add into B
    from gradio_client import handle_file

    api = client(server.url, headers={"Cookie": session_cookie(pg)})
    for key in (f"b/{B_FILE}", B_FILE):
        with pytest.raises(Exception) as refused:
            api.predict(key, api_name="/remove_report")
        assert "不是报告库中的文件" in str(refused.value), refused.value
    with pytest.raises(Exception):
        api.predict([handle_file(str(site["inbox"] / A_FILE))], "b", api_name="/add_reports")
    assert (site["bases"] / "b" / "corpus" / B_FILE).exists()
    assert not (site["bases"] / "b" / "corpus" / A_FILE).exists()
    sign_out(pg)


def test_3_reader_of_b_never_sees_a(desk, site):
    pg, server = desk, site["server"]
    sign_in(pg, server, "bob")
    no_trace_of_a(pg, "after sign-in (the editor used this browser before)")
    assert not pg.locator("#yd-upload-box").is_visible()  # a reader adds nothing
    assert not pg.get_by_role("tab", name="管理").is_visible()
    questions = ("全年发展党员多少名？", f"{A_MARK}开展红色教育活动多少次？")  # the second: words only A has
    for question in questions:
        ask(pg, question)
        last_answer(pg).locator(".yd-cite, strong").first.wait_for()
        no_trace_of_a(pg, f"chat: {question}", questions)
    assert "全年发展党员11名" in pg.locator("#yd-chat").inner_text()
    snap(pg, "reader-chat-desktop")
    # the report filter
    pg.locator("#yd-reports input").click()
    options = pg.locator("ul[role=listbox] li").all_inner_texts()
    assert any(B_MARK in o for o in options), options
    no_trace_of_a(pg, "report filter", questions)
    snap(pg, "reader-filter-desktop")
    pg.keyboard.press("Escape")
    # compare across reports: only B's
    pg.locator("#yd-question textarea").fill("各单位的存在问题有什么共性？")
    pg.locator("#yd-compare").click()
    table = last_answer(pg).locator("table")
    table.wait_for()
    assert B_MARK in table.inner_text()
    no_trace_of_a(pg, "compare", questions)
    # the report library
    pg.get_by_role("tab", name="报告库").click()
    shown(pg.locator("#yd-library"), B_FILE).wait_for()
    no_trace_of_a(pg, "library", questions)
    field(pg, "yd-lib-query").fill(A_MARK)
    pg.wait_for_timeout(1500)
    no_trace_of_a(pg, "library searched for A", questions)
    field(pg, "yd-lib-query").fill("")
    shown(pg.locator("#yd-library"), B_FILE).click()
    pg.locator("#yd-outline").get_by_text("一、主要工作").wait_for()
    assert pg.locator("#yd-lib-remove").is_disabled() and pg.locator("#yd-lib-reindex").is_disabled()
    no_trace_of_a(pg, "library outline", questions)
    snap(pg, "reader-library-desktop")
    sign_out(pg)


def test_4_the_audit_log_lists_every_action(desk, site, tmp_path):
    pg, server = desk, site["server"]
    sign_in(pg, server, "boss")
    pg.get_by_role("tab", name="管理").click()
    audit = pg.locator("#yd-admin-audit")
    audit.get_by_text("登录").first.wait_for()
    pg.locator("#yd-admin-audit").scroll_into_view_if_needed()
    snap(pg, "audit-desktop")
    with pg.expect_download() as download:
        pg.locator("#yd-audit-csv").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    with open(saved, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    seen = {(r["用户"], r["操作"], r["知识库"], r["对象"]) for r in rows}
    expected = [("boss", "登录", "", ""), ("ann", "登录", "", ""), ("bob", "登录", "", ""),
                ("boss", "新建知识库", "a", A_TITLE), ("boss", "新建知识库", "b", B_TITLE),
                ("boss", "添加用户组", "", "a_staff"), ("boss", "添加用户组", "", "b_staff"),
                ("boss", "添加用户", "", "ann"), ("boss", "添加用户", "", "bob"),
                ("boss", "加入用户组", "", "ann"), ("boss", "授权", "a", ""), ("boss", "授权", "b", ""),
                ("boss", "添加报告", "b", B_FILE), ("ann", "添加报告", "a", A_FILE),
                ("ann", "提问", "a", f"{A_MARK}全年发展党员多少名？"), ("bob", "提问", "b", "全年发展党员多少名？"),
                ("bob", "对比", "b", "各单位的存在问题有什么共性？"),
                ("ann", "退出登录", "", ""), ("bob", "退出登录", "", "")]
    missing = [e for e in expected
               if not any(all(want == "" or want == got for want, got in zip(e, s)) for s in seen)]
    assert not missing, (missing, sorted(seen))
    # the page shows them too, filtered by user
    field(pg, "yd-audit-user").fill("ann")
    pg.locator("#yd-audit-show").click()
    pg.wait_for_timeout(1000)
    text = audit.inner_text()
    assert "添加报告" in text and "提问" in text and "boss" not in text
    assert f"{A_FILE}：已添加" in text and "显示 " in text and '{"' not in text  # details in words, not JSON
    snap(pg, "audit-filtered-desktop")


def test_5_key_views_on_a_phone(browser, site):
    server = site["server"]
    pg = new_page(browser, server, viewport=PHONE, phone=True)
    try:
        sign_in(pg, server, "boss", shot="signin-phone")
        pg.evaluate("window.scrollTo(0, 0)")
        title, user = pg.locator(".yd-title").bounding_box(), pg.locator("#yd-user").bounding_box()
        assert title["width"] > 100 and user["y"] >= title["y"] + title["height"] - 1  # the user line below the title
        snap(pg, "admin-chat-phone")
        pg.get_by_role("tab", name="管理").click()
        shown(pg.locator("#yd-admin-bases"), A_TITLE).wait_for()
        pg.evaluate("window.scrollTo(0, 0)")
        snap(pg, "admin-phone")
        sign_out(pg)
        sign_in(pg, server, "bob")
        ask(pg, "全年发展党员多少名？")
        last_answer(pg).locator(".yd-cite").first.wait_for()
        no_trace_of_a(pg, "phone chat")
        pg.evaluate("window.scrollTo(0, 0)")
        snap(pg, "reader-chat-phone")
        assert not pg.errors, pg.errors
    finally:
        pg.context.close()
