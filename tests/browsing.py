"""What the browser tests share: headless Debian chromium driven by Playwright, and pages that reach
the server under test only (the app must work offline: anything else is refused, never fetched).

``browser`` is a module-scoped fixture (import it into the test module); ``offline_page`` opens a page
in a new browser context, its script errors collected in ``page.errors``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT = 60_000  # ms
NO_CHROMIUM = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env=dict(os.environ))
        yield b
        b.close()


def offline_page(browser, server, **context):
    """A page in a new context (``context``: Playwright's ``new_context`` options) that reaches ``server`` only."""
    pg = browser.new_context(**context).new_page()
    pg.set_default_timeout(TIMEOUT)
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else route.abort())
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    return pg
