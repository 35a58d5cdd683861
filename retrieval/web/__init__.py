"""The web chat (Gradio): layout, handlers, rendering, the background index worker, serving.

layout (Blocks: 问答 and 报告库 tabs, sidebar) · handlers (events → facade) · render (Markdown/HTML, marks,
Markdown and Word export) · worker (index thread,
corpus watcher) · server (binding, launch) · signin (sign-in page, sessions, file guard) · gate (who asks, what they reach) · admin (管理 tab) · locale (Chinese for every
browser) · tokenapi (the token HTTP API /api/v1 and MCP /mcp, for personal tokens) · style.css, page.js (citations, phone drawer)

The Gradio-dependent names load on first use, so rendering and the worker import without Gradio.
"""
from importlib import import_module

from .render import export_markdown, mark_spans, marked, render_answer, render_context, status_markdown
from .worker import CorpusWatcher, IndexRun, IndexWorker

_LAZY = {"WebApp": "handlers", "EXAMPLES": "layout", "build": "layout", "theme": "layout",
         "LOOPBACK": "server", "build_app": "server", "parse_auth": "server", "serve": "server"}

__all__ = ["EXAMPLES", "LOOPBACK", "CorpusWatcher", "IndexRun", "IndexWorker", "WebApp", "build", "build_app",
           "export_markdown", "mark_spans", "marked", "parse_auth", "render_answer", "render_context", "serve",
           "status_markdown", "theme"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
