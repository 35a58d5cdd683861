"""The web page in a real browser: ask, see citations, open a passage in context, export, screenshot.

Headless Debian chromium driven by Playwright against a real `python app.py serve` subprocess.
Saves tests/artifacts/browser.png and copies it to docs/screenshot.png.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from test_web import ROOT, Server, client, seed_corpus

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOT = ARTIFACTS / "browser.png"
DOCS_SCREENSHOT = ROOT / "docs" / "screenshot.png"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION = "意识形态工作存在哪些问题？"
TIMEOUT = 60_000  # ms

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]


def cjk_font_env(folder: Path) -> dict:
    """This machine has no Chinese font; give chromium one (PyMuPDF ships Droid Sans Fallback).

    Only affects the screenshot's legibility: real users' browsers have their own fonts.
    """
    try:
        import pymupdf
    except ImportError:
        return {}
    fonts = folder / "fonts"
    fonts.mkdir(exist_ok=True)
    (fonts / "DroidSansFallback.ttf").write_bytes(pymupdf.Font("cjk").buffer)
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{fonts}</dir><cachedir>{folder / 'fontcache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(conf)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    seed_corpus(folder)
    srv = Server(folder).wait()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("chromium")
    env = {**os.environ, **cjk_font_env(folder)}  # LANG must stay: chromium reads Chinese file names
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env=env)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                      accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(TIMEOUT)
        # The app must work offline: anything not served by it is refused, never fetched.
        pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                 else route.abort())
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server.url)
        pg.locator("#yd-question textarea").wait_for()
        pg.errors = errors
        yield pg
        context.close()
        browser.close()


def test_ask_cite_context_export_screenshot(page, server, tmp_path):
    expected = client(server.url).predict(QUESTION, 5, api_name="/search")
    assert expected, "the engine found nothing for the example question"
    first = expected[0]

    # ask
    page.locator("#yd-question textarea").fill(QUESTION)
    page.locator("#yd-ask").click()
    chat = page.locator("#yd-chat")
    chat.locator(".yd-report", has_text=first["title"]).first.wait_for()
    heading = first["section"].split(" › ")[-1]
    assert chat.get_by_text(heading).first.is_visible() or chat.get_by_text(heading).count() > 0
    assert chat.locator(".yd-badge").count() >= len(expected)
    assert chat.locator("mark").count() > 0  # question terms highlighted
    assert "得分" in chat.inner_text()

    # show passage 1 in context
    page.locator("#yd-ctx-btn").click()
    focus = page.locator("#yd-context mark.yd-focus")
    focus.wait_for()
    tail = first["text"].strip()[-12:]
    assert tail in focus.inner_text()
    assert "[1]" in page.locator("#yd-context .yd-ctx-head").inner_text()
    body = page.locator("#yd-context .yd-ctx-body").inner_text()
    assert len(body) > len(focus.inner_text())  # the surrounding section is shown too

    # pick another passage from the list and show it
    if len(expected) > 1:
        page.locator("#yd-ctx-choice input").click()
        page.locator("#yd-ctx-choice li[role=option]", has_text="[2]").first.click()  # shows it at once
        page.locator("#yd-context .yd-ctx-head", has_text="[2]").wait_for()
        assert expected[1]["text"].strip()[-12:] in page.locator("#yd-context mark.yd-focus").inner_text()
        page.locator("#yd-ctx-choice input").click()
        page.locator("#yd-ctx-choice li[role=option]", has_text="[1]").first.click()
        page.locator("#yd-ctx-btn").click()
        page.locator("#yd-context .yd-ctx-head", has_text="[1]").wait_for()

    # export as Markdown
    with page.expect_download() as download:
        page.locator("#yd-export").click()
    saved = tmp_path / "export.md"
    download.value.save_as(saved)
    md = saved.read_text(encoding="utf-8")
    assert QUESTION in md and first["title"] in md and f"来源：{first['source']}" in md

    # screenshot: the answer from its question down, the context panel, the side panel
    page.evaluate("""() => {
        const users = document.querySelectorAll('#yd-chat .user');
        if (users.length) users[users.length - 1].scrollIntoView({block: 'start'});
        window.scrollTo(0, 0);
    }""")
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000
    assert not page.errors, page.errors


def test_clicking_an_example_asks_it(page):
    page.locator("#yd-clear").click()
    example = page.locator("#yd-chat").get_by_text("全年发展了多少名党员？").first
    example.wait_for()
    example.click()
    page.locator("#yd-chat .yd-report, #yd-chat .yd-note, #yd-chat strong").first.wait_for()
    assert "全年发展了多少名党员？" in page.locator("#yd-chat").inner_text()


def test_upload_in_the_browser(page, server, tmp_path):
    report = tmp_path / "浏览器上传的报告.txt"
    report.write_text("某街道党工委2024年工作总结\n一、主要工作\n全年举办“邻里议事会”23场。\n", encoding="utf-8")
    page.locator("#yd-upload input[type=file]").set_input_files(str(report))
    result = page.locator("#yd-upload-result")
    result.get_by_text("已添加").wait_for()
    assert "浏览器上传的报告.txt" in result.inner_text()
    assert (server.corpus / report.name).exists()
    page.locator("#yd-status").get_by_text("6").first.wait_for()
    page.locator("#yd-question textarea").fill("邻里议事会举办了多少场？")
    page.locator("#yd-question textarea").press("Enter")
    page.locator("#yd-chat .yd-report", has_text="某街道党工委2024年工作总结").first.wait_for()
