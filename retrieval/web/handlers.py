"""What the page's events do: ask, show a passage in context, export, add reports, rebuild, refresh.

Talks to the library only through the :class:`~retrieval.engine.Yandu` facade; index runs go through
the background :class:`~.worker.IndexWorker` so questions keep being answered meanwhile.
"""
from __future__ import annotations

import atexit
import html
import logging
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from ..config import SECTION_TYPE_NAMES
from ..engine import Yandu
from .render import (CONTEXT_HINT, CTX_LABEL, export_markdown, filters_note, render_answer, render_context,
                     status_markdown, upload_markdown)
from .worker import IndexRun, IndexWorker

log = logging.getLogger(__name__)


class WebApp:
    """The web app's state (the facade, the index worker, the export folder) and its event handlers."""

    def __init__(self, app: Yandu, watch: bool = False):
        self.app = app
        self.settings = app.settings
        self.worker = IndexWorker(app)
        self.watch = watch
        self.export_dir = Path(tempfile.mkdtemp(prefix="yandu-export-"))
        atexit.register(shutil.rmtree, self.export_dir, True)

    # ---- data -------------------------------------------------------------------------------

    def status(self) -> dict:
        """The facade's status, with the last background update's failure beside it (the last good
        index keeps answering)."""
        try:
            s = self.app.status()
        except Exception as e:  # a half-deleted index folder, say: show it, keep serving
            log.warning("status: %s", e)
            s = {"reports": 0, "chunks": 0, "model": self.settings.model, "updated": None,
                 "errors": {}, "documents": [], "years": [], "problem": str(e)}
        run = self.worker.last_run
        if run is not None:
            s["update_error"] = run.error
        return s

    def titles(self, status: dict | None = None) -> dict[str, str]:
        status = status or self.status()
        return {d["source"]: d["title"] for d in status.get("documents", [])}

    def report_choices(self, status: dict) -> list[tuple[str, str]]:
        out = []
        for d in status.get("documents", []):
            label = d["title"] if d["title"] != Path(d["source"]).stem else d["source"]
            if d.get("year"):
                label += f"（{d['year']}）"
            out.append((label, d["source"]))
        return out

    def year_choices(self, status: dict) -> list[tuple[str, int]]:
        return [(f"{y} 年", int(y)) for y in status.get("years", [])]

    def status_markdown(self, status: dict | None = None) -> str:
        indexing = self.worker.progress.describe() if self.worker.running else None
        return status_markdown(status or self.status(), self.watch, indexing)

    def side_updates(self, reports=None, years=None):
        """Status text and filter choices (selected values kept where still offered)."""
        s = self.status()
        rc, yc = self.report_choices(s), self.year_choices(s)
        rv = [r for r in (reports or []) if r in {v for _, v in rc}]
        yv = [y for y in (years or []) if int(y) in {v for _, v in yc}]
        return self.status_markdown(s), gr.update(choices=rc, value=rv), gr.update(choices=yc, value=yv)

    # ---- API ----------------------------------------------------------------------------------

    def api_search(self, question: str, top_k: int = 5, reports: list[str] = [],  # noqa: B006 (never mutated)
                   years: list[int] = [], section_types: list[str] = []) -> list[dict]:  # noqa: B006
        """Ranked, cited passages for a question — the same objects as `python app.py query --json`.

        Args:
            question: the question, in Chinese (or any language).
            top_k: how many passages (1–50).
            reports: only these reports (file names in the corpus); empty = all.
            years: only reports of these years; empty = all.
            section_types: only these section roles: overview, work, highlight, problem, cause, plan, other.
        Returns:
            A list of passages: rank, score, source, title, section, section_type, text, year, page, item, start, end, why.
        """
        unknown = [t for t in section_types or [] if t not in SECTION_TYPE_NAMES]
        if unknown:
            raise gr.Error(f"unknown section_types {unknown}; use {list(SECTION_TYPE_NAMES)}")
        try:
            years = [int(y) for y in years or []]
            top_k = int(top_k or self.settings.top_k)
        except (TypeError, ValueError):
            raise gr.Error("top_k and years must be integers") from None
        result = self.app.search(question or "", top_k, reports or [], years, section_types or [])
        return [p.to_json() for p in result.passages]

    def api_status(self) -> dict:
        """Index status: reports, chunks, model, last update (Unix time), files that failed with reasons, documents."""
        s = self.status()
        s["indexing"] = self.worker.running
        return s

    # ---- chat ---------------------------------------------------------------------------------

    def _ctx_choices(self, turns: list[dict], n: int) -> list[tuple[str, str]]:
        if not (0 <= n < len(turns)):
            return []
        out = []
        for p in turns[n]["passages"]:
            where = p["section"].split(" › ")[-1] if p.get("section") else "导语"
            label = f"[{p['rank']}] {p['title']} › {where}"
            out.append((label if len(label) <= 60 else label[:59] + "…", f"{n}:{p['rank']}"))
        return out

    def _ctx_update(self, turns: list[dict], n: int):
        choices = self._ctx_choices(turns, n)
        label = f"{CTX_LABEL}（问题 {n + 1}）" if choices else CTX_LABEL
        return gr.update(choices=choices, value=choices[0][1] if choices else None, label=label,
                         interactive=bool(choices))

    def _export(self, turns: list[dict], request: gr.Request | None):
        if not turns:
            return gr.update(value=None, interactive=False)
        session = re.sub(r"[^A-Za-z0-9_-]", "", getattr(request, "session_hash", None) or "anon")[:40] or "anon"
        folder = self.export_dir / session
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"研读问答_{datetime.now():%Y%m%d-%H%M%S}.md"
        for old in folder.glob("*.md"):
            old.unlink(missing_ok=True)
        path.write_text(export_markdown(turns), encoding="utf-8")
        return gr.update(value=str(path), interactive=True)

    @staticmethod
    def _messages(turns: list[dict]) -> list[dict]:
        out = []
        for t in turns:
            out.append({"role": "user", "content": t["question"]})
            out.append({"role": "assistant", "content": t["answer"]})
        return out

    def chat(self, question: str, turns: list[dict] | None, top_k: int, reports: list[str] | None,
             years: list[int] | None, section_types: list[str] | None, request: gr.Request = None):
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            raise gr.Error("请输入问题。")
        reports, years, section_types = list(reports or []), [int(y) for y in years or []], list(section_types or [])
        result = self.app.search(question, int(top_k or self.settings.top_k), reports, years, section_types)
        passages = [p.to_json() for p in result.passages]
        note = filters_note(reports, years, section_types, self.titles() if reports else None)
        turns.append({"question": question, "passages": passages, "message": result.message, "note": note,
                      "answer": render_answer(question, passages, result.message, note)})
        n = len(turns) - 1
        return self._messages(turns), turns, "", self._ctx_update(turns, n), self._export(turns, request)

    def example_chat(self, turns, top_k, reports, years, section_types, evt: gr.SelectData, request: gr.Request = None):
        value = evt.value
        question = value.get("text", "") if isinstance(value, dict) else str(value or "")
        return self.chat(question, turns, top_k, reports, years, section_types, request)

    def select_turn(self, turns: list[dict], evt: gr.SelectData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            n = int(index) // 2
        except (TypeError, ValueError):
            return gr.skip()
        return self._ctx_update(turns or [], n) if 0 <= n < len(turns or []) else gr.skip()

    def show_context(self, choice: str | None, turns: list[dict] | None) -> str:
        if not choice:
            return CONTEXT_HINT
        try:
            n, rank = (int(x) for x in str(choice).split(":"))
            passage = next(p for p in (turns or [])[n]["passages"] if p["rank"] == rank)
        except (ValueError, IndexError, StopIteration):
            return CONTEXT_HINT
        # Source and offsets come from this session's own results (server-side state), and
        # `context` reads the indexed text only: nothing here touches the file system.
        ctx = self.app.context(passage["source"], passage["start"], passage["end"])
        return render_context(ctx, passage)

    def clear(self):
        return [], [], gr.update(choices=[], value=None, label=CTX_LABEL, interactive=False), CONTEXT_HINT, \
            gr.update(value=None, interactive=False)

    # ---- corpus -------------------------------------------------------------------------------

    def _wait_with_progress(self, ticket: int, progress: gr.Progress) -> IndexRun:
        while True:
            run = self.worker.wait(ticket, timeout=0.25)
            if run is not None:
                return run
            event = self.worker.progress
            if event.total:
                progress((min(event.done, event.total), event.total), desc=event.describe(), unit=event.stage.unit)
            else:
                progress(0, desc=event.describe())

    def add_files(self, paths: list[str], progress=None) -> list[dict]:
        """Save files into the corpus, index them, and say what happened to each (structured).

        Each result: original, name, outcome (added / duplicate / rejected / unreadable / not_indexed),
        reason, passages, duplicate_of.
        """
        uploads = self.app.add_files(paths)
        run = None
        if any(u.outcome == "saved" for u in uploads):
            ticket = self.worker.request()
            run = self._wait_with_progress(ticket, progress) if progress else self.worker.wait(ticket)
        passages = {r.source: r.passages for r in self.app.library()} if run and run.report else {}
        out = []
        for u in uploads:
            r = {"original": u.original, "name": u.name, "outcome": u.outcome, "reason": u.reason, "passages": 0,
                 "duplicate_of": u.name if u.outcome == "duplicate" else None}
            if u.outcome == "saved":
                if run is None or run.report is None:
                    r.update(outcome="not_indexed", reason=run.error if run else "未知错误")
                elif u.name in run.report.errors:
                    r.update(outcome="unreadable", reason=run.report.errors[u.name])
                elif u.name in run.report.duplicates:
                    r.update(outcome="duplicate_indexed", duplicate_of=run.report.duplicates[u.name])
                else:
                    r.update(outcome="added", passages=passages.get(u.name, 0))
            out.append(r)
        return out

    @staticmethod
    def _upload_paths(files) -> list[str]:
        items = files if isinstance(files, list) else [files] if files else []
        paths = [f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", "") for f in items]
        return [p for p in paths if p]

    def add_reports(self, files, reports=None, years=None, progress=gr.Progress()):
        """Save uploaded reports into the corpus, index them, and say what happened to each."""
        paths = self._upload_paths(files)
        if not paths:
            return ("请选择要添加的报告文件。", *self.side_updates(reports, years), None)
        try:
            progress(0, desc="保存文件")
            results = self.add_files(paths, progress)
        finally:
            discard_uploads(paths)  # saved ones were copied into the corpus; refused ones must not linger
        return (upload_markdown(results), *self.side_updates(reports, years), None)

    def rebuild(self, reports=None, years=None, confirm_empty: bool = False, progress=gr.Progress()):
        """Re-index every report; ``confirm_empty``: the user agrees that a missing or empty corpus
        folder empties the index (refused, with a question, otherwise)."""
        progress(0, desc="重建索引")
        run = self._wait_with_progress(self.worker.request(rebuild=True, allow_empty=bool(confirm_empty)), progress)
        if run.needs_confirmation:
            message = (f"**索引未清空**：{html.escape(run.error)}。如确需清空索引，请勾选“确认清空索引”后再点“重建索引”。")
        elif run.error:
            message = f"**重建失败**：{html.escape(run.error)}"
        else:
            message = "**索引已重建**：" + html.escape(run.report.lines()[-1])
        return (message, *self.side_updates(reports, years))

    def refresh(self, shown: str, reports=None, years=None, known: list | None = None):
        """Timer tick: update the side panel only when something changed."""
        s = self.status()
        text = self.status_markdown(s)
        docs = [(d["source"], d["title"]) for d in s.get("documents", [])]
        if text == shown and docs == [tuple(x) for x in (known or [])]:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        _, rep, yrs = self.side_updates(reports, years)
        return text, rep, yrs, docs


def discard_uploads(paths: list[str]) -> None:
    """Delete Gradio's temporary copies of uploaded files (and their emptied folders) once handled;
    only files inside Gradio's upload folder are touched."""
    root = Path(get_upload_folder()).resolve()
    for p in paths:
        path = Path(p).resolve()
        if not path.is_relative_to(root) or path == root:
            continue
        path.unlink(missing_ok=True)
        try:
            if path.parent != root:
                path.parent.rmdir()  # Gradio keeps each upload in a folder of its own
        except OSError:
            pass
