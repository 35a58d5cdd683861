"""The page in Chinese for every browser: Gradio's own words follow the browser's language."""
from __future__ import annotations

# Gradio picks its own words (upload box, API link, toasts) by the browser's language; the page is
# Chinese for every user, so the browser is told its language is Chinese before Gradio starts.
CHINESE_UI = (b'<script>(() => { try { const p = Navigator.prototype;'
              b' Object.defineProperty(p, "language", {get: () => "zh-CN", configurable: true});'
              b' Object.defineProperty(p, "languages", {get: () => ["zh-CN", "zh"], configurable: true});'
              b' } catch (e) {} })();</script>')


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
