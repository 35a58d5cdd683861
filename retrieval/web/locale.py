"""The page in Chinese for every browser: Gradio's own words follow the browser's language.

Gradio's words come in three kinds: those its translation files have in Chinese (the browser is told
its language is Chinese, :data:`CHINESE_UI`); those it looks up but has only in English, or not at all
(given here, :data:`GRADIO_ZH`, through ``gr.I18n``); and those written into its components in English
(tooltips such as "Scroll down", the upload-size notice), put into Chinese on the page by ``page.js``.
"""
from __future__ import annotations

# Gradio picks its own words (upload box, API link, toasts) by the browser's language; the page is
# Chinese for every user, so the browser is told its language is Chinese before Gradio starts.
CHINESE_UI = (b'<script>(() => { try { const p = Navigator.prototype;'
              b' Object.defineProperty(p, "language", {get: () => "zh-CN", configurable: true});'
              b' Object.defineProperty(p, "languages", {get: () => ["zh-CN", "zh"], configurable: true});'
              b' } catch (e) {} })();</script>')


# Keys Gradio 6.31 looks up whose zh-CN text it lacks (its English shows) or which it lacks altogether
# ("common.complete" showed as itself under the library table). Found by tests/test_browser.py's scan.
GRADIO_ZH = {
    "common": {"complete": "完成"},
    "chatbot": {"complete": "完成"},
    "dataframe": {"filter": "筛选", "clear_filter": "清除筛选", "import_empty_file": "拖入的文件是空的。",
                  "import_no_column_names": "拖入的文件没有列名。"},
}


class ChineseUI:
    """ASGI middleware: the page's HTML gets ``lang="zh-CN"`` and :data:`CHINESE_UI` first in its head."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        start, chunks = None, []

        async def send_html(message):
            nonlocal start
            if message["type"] == "http.response.start":
                if b"text/html" in dict(message.get("headers") or []).get(b"content-type", b""):
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks).replace(b"<head>", b"<head>" + CHINESE_UI, 1)
                body = body.replace(b'<html lang="en"', b'<html lang="zh-CN"', 1)
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_html)
