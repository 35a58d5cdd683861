"""What the page's events do: ask, show a passage in context, export, add reports, rebuild, refresh.

Talks to the library only through the :class:`~retrieval.engine.Yandu` facade; index runs go through
the background :class:`~.worker.IndexWorker` so questions keep being answered meanwhile.
"""
from __future__ import annotations

import html
import logging
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from ..config import SECTION_TYPE_NAMES
from ..encode import model_prepared
from ..engine import UnknownReport, Yandu
from ..progress import Stage
from ..search import Result
from ..errors import YanduError, os_reason
from .answers import follow_up
from .render import (CONTEXT_HINT, _code, _md_escape, export_docx, export_markdown, filters_note, outline_html, render_answer,
                     render_compare, render_context, index_summary, status_markdown, upload_markdown, waiting_markdown)
from .temp import process_folder
from .worker import IndexRun, IndexWorker

log = logging.getLogger(__name__)

# Model preparation, measured: loading the converted model 12 s (busy 2-core EPYC); the first start's
# conversion and ONNX export about a minute (README: 62 s idle with the first index of the seeds).
MODEL_LOAD_S, MODEL_PREPARE_S = 12.0, 60.0
FIRST_START_WAIT = 900  # seconds a question (page or API) waits for the first index before saying why not
WAITING = ("preparing_model", "indexing")
MAX_QUESTION = 200  # characters a question may have on the page (the longest question of ../shared/eval: 43)
EMPTY_INDEX = "索引为空：请先添加报告并建立索引。"


class WebApp:
    """The web app's state (the facade, the index worker, the export folder) and its event handlers."""

    def __init__(self, app: Yandu, watch: bool = False):
        self.app = app
        self.settings = app.settings
        self.worker = IndexWorker(app)
        self.watch = watch
        self.model_wait: tuple[float, float] | None = None  # (since, seconds expected) while the model loads
        self.model_error: str | None = None
        self.export_dir = process_folder() / "export"  # swept by the next start if this process is killed

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

    # ---- the first start: what a question meets until the index is ready ----------------------

    def prepare_model(self) -> None:
        """Load the embedding model (the first start converts it), recording what the page shows meanwhile."""
        self.model_error = None
        self.model_wait = (time.monotonic(), MODEL_LOAD_S if model_prepared(self.settings) else MODEL_PREPARE_S)
        try:
            self.app.encoder
        except Exception as e:
            self.model_error = f"{type(e).__name__}: {e}" if not isinstance(e, YanduError) else str(e)
            raise

    def readiness(self) -> dict:
        """What a question meets now: ``state`` ready | preparing_model | indexing | empty | failed, the
        ``message`` shown for it, and for indexing the run's ``progress`` with an estimate (``eta``, s)."""
        try:
            snap = self.app.searcher.snapshot()
            indexed = snap is not None and len(snap.ids) > 0
        except YanduError as e:
            return {"state": "failed", "message": f"无法读取索引：{e}"}
        if self.model_error:
            return {"state": "failed", "message": f"无法加载嵌入模型：{self.model_error}"}
        if self.model_wait is not None and not self.app.model_loaded:
            since, needs = self.model_wait
            then = "" if indexed else "，随后建立索引"
            return {"state": "preparing_model",
                    "message": f"正在准备模型（{about(max(10.0, needs - (time.monotonic() - since)))}）{then}"}
        if indexed:
            return {"state": "ready", "message": ""}
        if self.worker.busy:
            event = self.worker.progress
            eta = self.worker.eta() if event.stage in (Stage.EMBEDDING, Stage.OCR) else None  # the long stages;
            # reading a file is quick and says nothing of the embedding that follows
            stage = (f" {event.done}/{event.total} 份" if event.total else "") if event.stage is Stage.READING \
                else "：" + event.describe()
            return {"state": "indexing", "message": f"正在建立索引{stage}" + (f"（{about(eta)}）" if eta else ""),
                    "progress": {"stage": event.stage.value, "done": event.done, "total": event.total,
                                 "eta": None if eta is None else round(eta, 1)}}
        run = self.worker.last_run
        if run is not None and run.error:
            return {"state": "failed", "message": f"索引未能建立：{run.error}"}
        return {"state": "empty", "message": EMPTY_INDEX}

    def wait_until_ready(self, timeout: float = FIRST_START_WAIT, every: float = 1.0):
        """Wait (up to ``timeout`` s) while the model is prepared or the first index built; yields each
        new readiness on the way and returns the last one (``ready = yield from …``)."""
        ready = self.readiness()
        deadline = time.monotonic() + timeout
        shown = None
        while ready["state"] in WAITING and time.monotonic() < deadline:
            if ready["message"] != shown:
                shown = ready["message"]
                yield ready
            time.sleep(every)
            ready = self.readiness()
        return ready

    def _waiting_frames(self, question: str, turns: list[dict], prefix: str = ""):
        """The chat while a question waits for the first index: the question and the stage shown as
        the answer-to-be; returns the readiness it ended with."""
        shown = self._messages(turns) + [{"role": "user", "content": prefix + _md_escape(question)}]
        waiting = self.wait_until_ready()
        while True:
            try:
                ready = next(waiting)
            except StopIteration as done:
                return done.value
            yield shown + [{"role": "assistant", "content": waiting_markdown(ready["message"])}], gr.skip(), "", \
                gr.skip(), gr.skip()

    def _api_ready(self) -> None:
        """API calls wait like the page does; a call that cannot be answered from an index raises an
        error whose title is the state (clients tell it apart from "no passage matched", which is [])."""
        ready = _drain(self.wait_until_ready())
        if ready["state"] != "ready":
            raise gr.Error(ready["message"], title=ready["state"])

    def report_choices(self, status: dict) -> list[tuple[str, str]]:
        out = []
        for d in status.get("documents", []):
            label = d["label"]
            if d.get("year") and str(d["year"]) not in label:
                label += f"（{d['year']}）"
            out.append((label, d["source"]))
        return out

    def year_choices(self, status: dict) -> list[tuple[str, int]]:
        return [(f"{y} 年", int(y)) for y in status.get("years", [])]

    def status_markdown(self, status: dict | None = None) -> str:
        indexing = self.worker.progress.describe() if self.worker.running else None
        ready = self.readiness()
        return status_markdown(status or self.status(), self.watch, indexing,
                               None if ready["state"] in ("ready", "empty") else ready["message"])

    def side_updates(self, reports=None, years=None):
        """Status text and filter choices (selected values kept where still offered)."""
        s = self.status()
        rc, yc = self.report_choices(s), self.year_choices(s)
        rv = [r for r in (reports or []) if r in {v for _, v in rc}]
        yv = [int(y) for y in (years or []) if is_year(y) and int(y) in {v for _, v in yc}]
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
            A list of passages: rank, score, source, title, section, section_type, text, year, page, item, start, end, why;
            [] when the index is ready and nothing matched. While the model or the first index is being prepared
            the call waits; when no index can answer it raises an error titled with the state (empty, failed).
        """
        unknown = [t for t in section_types or [] if t not in SECTION_TYPE_NAMES]
        if unknown:
            raise gr.Error(f"未知的段落类型 section_types：{'、'.join(f'`{t}`' for t in unknown)}；"
                           f"可用：{'、'.join(f'`{t}`（{n}）' for t, n in SECTION_TYPE_NAMES.items())}", title="参数错误")
        try:
            years = [int(y) for y in years or []]
            top_k = int(top_k or self.settings.top_k)
        except (TypeError, ValueError):
            raise gr.Error("`top_k` 和 `years` 须为整数", title="参数错误") from None
        self._api_ready()
        result = self.app.search(question or "", top_k, reports or [], years, section_types or [])
        return [p.to_json() for p in result.passages]

    def api_status(self) -> dict:
        """Index status: reports, chunks, model, last update (Unix time), files that failed with reasons, documents;
        state (ready, preparing_model, indexing, empty, failed), message, progress, index_lost."""
        s = self.status()
        s["indexing"] = self.worker.running
        s.update(self.readiness())  # state, message (and progress while the first index is built)
        return s

    # ---- chat ---------------------------------------------------------------------------------

    def _session_folder(self, request: gr.Request | None) -> Path:
        session = re.sub(r"[^A-Za-z0-9_-]", "", getattr(request, "session_hash", None) or "anon")[:40] or "anon"
        folder = self.export_dir / session
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _fresh_export(self, request: gr.Request | None, suffix: str) -> Path:
        """The path for this session's new export of one kind; its previous one of that kind removed."""
        folder = self._session_folder(request)
        for old in folder.glob(f"*{suffix}"):
            old.unlink(missing_ok=True)
        return folder / f"研读问答_{datetime.now():%Y%m%d-%H%M%S}{suffix}"

    def _export_md(self, turns: list[dict], request: gr.Request | None):
        """The conversation as Markdown, for its download button (written with every answer: ~ms)."""
        if not turns:
            return gr.update(value=None, interactive=False)
        try:
            md = self._fresh_export(request, ".md")
            md.write_text(export_markdown(turns), encoding="utf-8")
        except OSError as e:  # a full disk must not cost the answer: only the export is missing
            log.warning("export not written: %s", os_reason(e))
            return gr.update(value=None, interactive=False)
        return gr.update(value=str(md), interactive=True)

    @staticmethod
    def word_enabled(turns: list[dict] | None):
        return gr.update(interactive=bool(turns))

    def export_word(self, turns: list[dict] | None, request: gr.Request = None):
        """The conversation as a Word file, built when asked for: python-docx takes ~0.1 s a turn
        (measured 4.3 s for 20 turns on the busy 2-core box); rebuilt after every answer it slowed the
        next question (Enter → first passage grew from 0.4 to 2 s over 20 questions)."""
        turns = list(turns or [])
        if not turns:
            return gr.update(value=None)
        try:
            docx = self._fresh_export(request, ".docx")
            export_docx(turns, docx)
        except OSError as e:
            raise gr.Error(f"无法导出 Word：{os_reason(e)}", title="出错了") from None
        return gr.update(value=str(docx))

    @staticmethod
    def _messages(turns: list[dict]) -> list[dict]:
        """The chat's messages; a question is shown as typed (plain text: never read as HTML or Markdown)."""
        out = []
        for t in turns:
            out.append({"role": "user", "content": ("对比各报告：" if t.get("kind") == "compare" else "")
                        + _md_escape(t["question"])})
            out.append({"role": "assistant", "content": t["answer"]})
        return out

    def _titles(self) -> dict[str, str]:
        return {d["source"]: d["label"] for d in self.status().get("documents", [])}

    def chat(self, question: str, turns: list[dict] | None, top_k: int, reports: list[str] | None,
             years: list[int] | None, section_types: list[str] | None, request: gr.Request = None):
        """Answer a question; a follow-up keeps the previous question's topic and report scope."""
        turns = list(turns or [])
        question = (question or "").strip()
        if refused := question_refused(question):
            gr.Warning(refused, duration=4, title="提示")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        ready = yield from self._waiting_frames(question, turns)  # the first start: the stage and an estimate
        reports, years, section_types = list(reports or []), _years(years), list(section_types or [])
        previous = next((t for t in reversed(turns) if t.get("kind") != "compare"), None)
        understood = follow_up(question, previous)
        if understood.topic and not reports and not years:
            reports, years = list(understood.reports), list(understood.years)
        if ready["state"] != "ready":  # said plainly: no index to answer from (empty, failed, or still not ready)
            result = Result([], ready["message"])
        elif understood.role and not section_types:
            result = self.app.search_role_first(understood.query, understood.role, int(top_k or self.settings.top_k),
                                                reports, years)
        else:
            result = self.app.search(understood.query, int(top_k or self.settings.top_k), reports, years, section_types)
        passages = [p.to_json() for p in result.passages]
        note = filters_note(reports, years, section_types, self._titles() if reports else None)
        turn = {"question": question, "passages": passages, "message": result.message, "note": note,
                "topic": understood.topic, "scope": {"reports": reports, "years": years}}
        turn["answer"] = render_answer(understood.query if understood.topic else question, passages, result.message,
                                       note, len(turns), understood.topic)
        turns.append(turn)
        yield self._messages(turns), turns, "", self._export_md(turns, request), gr.update(interactive=True)

    def compare_turn(self, question: str, turns: list[dict] | None, reports: list[str] | None, years: list[int] | None,
                section_types: list[str] | None, request: gr.Request = None):
        """One question across the reports in scope: a table, one row per report, kept in the conversation."""
        turns = list(turns or [])
        question = (question or "").strip()
        if refused := question_refused(question, "请输入要对比的问题，例如：各单位的存在问题有什么共性？"):
            gr.Warning(refused, duration=4, title="提示")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        ready = yield from self._waiting_frames(question, turns, "对比各报告：")
        if ready["state"] != "ready":
            yield from self.chat(question, turns, self.settings.top_k, reports, years, section_types, request)
            return  # the chat turn says plainly why nothing can be compared
        reports, years, section_types = list(reports or []), _years(years), list(section_types or [])
        rows = [r.to_json() for r in self.app.compare(question, reports, years, section_types)]
        note = filters_note(reports, years, section_types, self._titles() if reports else None) or "全部报告"
        turns.append({"kind": "compare", "question": question, "rows": rows, "note": note,
                      "answer": render_compare(question, rows, note)})
        yield self._messages(turns), turns, "", self._export_md(turns, request), gr.update(interactive=True)

    def api_compare(self, question: str, reports: list[str] = [], years: list[int] = [],  # noqa: B006
                    section_types: list[str] = []) -> list[dict]:  # noqa: B006
        """One question across reports: one row per report in scope (chosen reports, else the years', else all).

        Returns:
            A list of {source, title, year, passage}; passage is the report's best passage (as /search) or null.
            Waits for the first index, and raises an error titled with the state when none can answer (as /search).
        """
        self._api_ready()
        return [r.to_json() for r in self.app.compare(question or "", reports or [], _years(years),
                                                      section_types or [])]

    def example_chat(self, turns, top_k, reports, years, section_types, evt: gr.SelectData, request: gr.Request = None):
        value = evt.value
        question = value.get("text", "") if isinstance(value, dict) else str(value or "")
        yield from self.chat(question, turns, top_k, reports, years, section_types, request)

    def restore(self, saved: dict | None, request: gr.Request = None):
        """Page load: the conversation kept in the browser becomes this session's again, with its exports."""
        kept = (saved or {}).get("turns") if isinstance(saved, dict) else None
        turns = [t for t in (kept if isinstance(kept, list) else []) if isinstance(t, dict) and "answer" in t]
        return self._messages(turns), turns, self._export_md(turns, request)

    @staticmethod
    def keep(turns: list[dict] | None) -> dict:
        """The session's conversation, to be kept in the browser (``gr.BrowserState``; a dict, so that an
        emptied conversation is stored too)."""
        return {"turns": list(turns or []), "saved": time.time()}

    def cited(self, key: str | None, turns: list[dict] | None, request: gr.Request = None):
        """A citation was clicked ("turn-rank"): the passage in its section, and its report to download."""
        none = gr.update(value=None, interactive=False)
        try:
            n, rank = (int(x) for x in str(key or "").split("-"))
            passage = next(p for p in (turns or [])[n]["passages"] if p["rank"] == rank)
        except (ValueError, IndexError, KeyError, StopIteration):
            return CONTEXT_HINT, none
        # `context` reads the indexed text only; the download is a copy of a corpus file, found by
        # name in the corpus listing (the facade refuses anything else).
        ctx = self.app.context(passage["source"], passage["start"], passage["end"])
        try:
            original = self.app.report_path(passage["source"])
        except UnknownReport:
            return render_context(ctx, passage), none
        folder = self._session_folder(request) / "original"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        copy = folder / original.name
        shutil.copyfile(original, copy)
        return render_context(ctx, passage), gr.update(value=str(copy), interactive=True,
                                                       label=f"下载原文：{original.name}")

    @staticmethod
    def check_years(years):
        """The 年份 box after the user typed in it: a chip that is not a year is removed, and the user told."""
        refused = [str(y) for y in years or [] if not is_year(y)]
        if not refused:
            return gr.skip()
        gr.Warning(f"年份应为四位数字（如 2023），已移除：{'、'.join(refused)}", duration=5, title="提示")
        return gr.update(value=[int(y) for y in years if is_year(y)])

    def clear(self):
        off = gr.update(value=None, interactive=False)
        return [], [], CONTEXT_HINT, off, off, gr.update(interactive=False)

    # ---- corpus -------------------------------------------------------------------------------

    def _wait_with_progress(self, ticket: int, progress: gr.Progress | None) -> IndexRun:
        if progress is None:
            return self.worker.wait(ticket)
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

    def api_add_reports(self, files, progress=gr.Progress()) -> dict:
        """Add report files to the corpus and index them; says what happened to each.

        Returns:
            {"files": [{original, name, outcome, reason, passages, duplicate_of}], "reports": N, "chunks": N};
            outcome is one of added, duplicate, duplicate_indexed, rejected, unreadable, not_indexed.
        """
        paths = self._upload_paths(files)
        results = []
        try:
            if paths:
                progress(0, desc="保存文件")
                results = self.add_files(paths, progress)
        finally:
            discard_uploads(paths)  # saved ones were copied into the corpus; refused ones must not linger
        s = self.status()
        return {"files": results, "reports": s["reports"], "chunks": s["chunks"]}

    def after_upload(self, result: dict | None, reports=None, years=None):
        """The upload's structured result shown on the page; the side panel refreshed."""
        files = (result or {}).get("files") or []
        message = upload_markdown(files) if files else "请选择要添加的报告文件。"
        return (message, *self.side_updates(reports, years), None)

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
            message = "**索引已重建**：" + html.escape(index_summary(run.report))
        return (message, *self.side_updates(reports, years))

    def refresh(self, shown: str, reports=None, years=None, known: list | None = None):
        """Timer tick: update the side panel only when something changed."""
        s = self.status()
        text = self.status_markdown(s)
        docs = [(d["source"], d["label"]) for d in s.get("documents", [])]
        if text == shown and docs == [tuple(x) for x in (known or [])]:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        _, rep, yrs = self.side_updates(reports, years)
        return text, rep, yrs, docs

    # ---- the report library -----------------------------------------------------------------------

    LIBRARY_COLUMNS = ["报告", "单位", "年份", "类型", "章节（按类型）", "段落", "添加时间", "状态", "文件"]

    def library_rows(self, query: str = "", kind: str = "全部") -> list[list]:
        """The library as table rows, filtered by a text (title, unit or file name) and a kind."""
        query = (query or "").strip().lower()
        rows = []
        for r in self.app.library():
            if kind and kind != "全部" and r.kind != kind:
                continue
            if query and not any(query in (x or "").lower() for x in (r.title, r.unit, r.source)):
                continue
            sections = "、".join(f"{SECTION_TYPE_NAMES[t]} {n}" for t, n in r.sections.items())
            state = f"未能索引：{r.error}" if r.error else f"与 {r.duplicate_of} 相同" if r.duplicate_of else "已索引"
            added = datetime.fromtimestamp(r.added).strftime("%Y-%m-%d %H:%M") if r.added else "—"
            rows.append([r.title, r.unit or "—", r.year or "—", r.kind, sections or "—", r.passages, added, state,
                         r.source])
        return rows

    def library_table(self, query: str = "", kind: str = "全部"):
        return gr.update(value=self.library_rows(query, kind))

    def library_select(self, rows, evt: gr.SelectData):
        """A library row was clicked: its section tree, and it becomes the report the buttons act on."""
        try:
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else int(evt.index)
            source = (evt.row_value or [])[-1] if getattr(evt, "row_value", None) else rows.iloc[row, -1]
        except (TypeError, ValueError, IndexError, AttributeError):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return (self.outline(source), source, gr.update(interactive=True), gr.update(interactive=True))

    def outline(self, source: str) -> str:
        info = next((r.to_json() for r in self.app.library() if r.source == source), None)
        try:
            return outline_html(self.app.outline(source), info)
        except UnknownReport as e:
            return f'<div class="yd-note">{html.escape(str(e))}</div>'
        except YanduError as e:  # unreadable file: say why
            return f'<div class="yd-note">无法读取：{html.escape(str(e))}</div>'

    def api_library(self) -> list[dict]:
        """Every report of the corpus: source, title, unit, year, kind, passages, sections (role → count),
        added (Unix time), size, error, duplicate_of."""
        return [r.to_json() for r in self.app.library()]

    def api_outline(self, source: str) -> dict:
        """A report's section tree (as `app.py parse --json`: level, number, heading, section_type, children),
        its passage count and removed noise."""
        try:
            return self.app.outline(source)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None

    def remove_report(self, source: str) -> dict:
        """Move a report to the corpus's trash (recoverable) and drop it from the index.

        Returns: {"source", "trashed" (path inside the corpus), "reports", "chunks"}.
        """
        try:
            target = self.app.remove_report(source)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None
        run = self.worker.wait(self.worker.request())
        s = self.status()
        return {"source": source, "trashed": target.relative_to(self.settings.corpus_dir).as_posix(),
                "error": run.error, "reports": s["reports"], "chunks": s["chunks"]}

    def restore_report(self, trashed: str) -> dict:
        """Put a file from the trash back into the corpus and index it. Returns {"source", "reports", "chunks"}."""
        try:
            name = self.app.restore_report(trashed)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None
        run = self.worker.wait(self.worker.request())
        s = self.status()
        return {"source": name, "error": run.error, "reports": s["reports"], "chunks": s["chunks"]}

    def reindex_report(self, source: str) -> dict:
        """Read one report again and re-index it. Returns {"source", "passages", "error"}."""
        try:
            self.app.report_path(source)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None
        run = self.worker.wait(self.worker.request(force=frozenset({source})))
        info = next((r for r in self.app.library() if r.source == source), None)
        return {"source": source, "passages": info.passages if info else 0,
                "error": run.error or (info.error if info else None)}

    def library_remove(self, source: str | None, query: str, kind: str, progress=gr.Progress()):
        if not source:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        progress(0, desc="删除报告并更新索引")
        result = self.remove_report(source)
        message = (f"**已删除** {_code(source)}：文件已移到报告文件夹的回收站 {_code(result['trashed'])}，"
                   "可从那里恢复。")
        off = gr.update(interactive=False)
        return message, self.library_table(query, kind), "", off, off

    def library_reindex(self, source: str | None, query: str, kind: str, progress=gr.Progress()):
        if not source:
            return gr.skip(), gr.skip(), gr.skip()
        progress(0, desc="重新索引")
        result = self.reindex_report(source)
        message = (f"**重新索引失败** {_code(source)}：{html.escape(result['error'])}" if result["error"] else
                   f"**已重新索引** {_code(source)}：{result['passages']} 个段落")
        return message, self.library_table(query, kind), self.outline(source)


def about(seconds: float | None) -> str:
    """An estimate as the page says it: "约 1 分钟", "约 40 秒", "即将完成"."""
    if seconds is None:
        return "正在估计时间"
    if seconds < 5:
        return "即将完成"
    if seconds < 50:
        return f"约 {max(10, round(seconds / 10) * 10)} 秒"
    return f"约 {max(1, round(seconds / 60))} 分钟"


def _drain(generator):
    """Run a generator to its end; its return value."""
    while True:
        try:
            next(generator)
        except StopIteration as done:
            return done.value


def question_refused(question: str, empty: str = "请输入问题。") -> str | None:
    """Why a question typed on the page is not asked (empty, or longer than ``MAX_QUESTION``), or None."""
    if not question:
        return empty
    if len(question) > MAX_QUESTION:
        return f"问题过长：最多 {MAX_QUESTION} 字（现有 {len(question)} 字），请缩短后再问。"
    return None


def is_year(value) -> bool:
    """A year as the 年份 box takes it: four digits, 1900–2100 (chips typed by hand are checked)."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and len(text) == 4 and 1900 <= int(text) <= 2100


def _years(years) -> list[int]:
    """Years chosen on the page (a typed value that is not a year is refused by ``WebApp.check_years``)."""
    return [int(y) for y in years or [] if is_year(y)]


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
