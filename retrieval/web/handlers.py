"""What the page's events do: ask, show a passage in context, export, add reports, rebuild, refresh.

Talks to the library only through the :class:`~retrieval.engine.Yandu` facade; index runs go through
the background :class:`~.worker.IndexWorker` so questions keep being answered meanwhile.
"""
from __future__ import annotations

import html
import json
import logging
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from ..access import Principal
from ..bases import DEFAULT, Bases, report_key, split_key
from ..config import SECTION_TYPE_NAMES
from ..encode import model_prepared, prepare_model
from ..engine import UnknownReport, Yandu
from ..ingest import one_line
from ..progress import ProgressEvent, Stage
from ..search import Result
from ..errors import YanduError, os_reason
from ..eval.feedback import WITHDRAWN, feedback_detail
from ..answer import Answer, direct_answer, follow_up
from .gate import Gate, Served
from .batch import UploadBatch, too_large
from .library import DEFAULT_SORT, LIBRARY_HINT, library_html, next_sort, sort_rows, trash_html
from .render import (ANSWER, CONTEXT_HINT, _code, _md_escape, export_docx, export_markdown, filters_note, outline_html,
                     question_html, render_answer, render_compare, render_context, index_summary, status_markdown,
                     waiting_markdown)
from .temp import process_folder
from .worker import IndexWorker

log = logging.getLogger(__name__)

# Model preparation, measured: loading the converted model 12 s (busy 2-core EPYC); the first start's
# conversion and ONNX export about a minute (README: 62 s idle with the first index of the seeds).
MODEL_LOAD_S, MODEL_PREPARE_S = 12.0, 60.0
FIRST_START_WAIT = 900  # seconds a question (page or API) waits for the first index before saying why not
WAITING = ("preparing_model", "indexing")
MAX_QUESTION = 200  # characters a question may have on the page (the longest question of ../shared/eval: 43)
EMPTY_INDEX = "索引为空：请先添加报告并建立索引。"
FEEDBACK_THANKS = {"up": "已记录您的反馈，谢谢。", "down": "已记录您的反馈，我们会据此改进检索。", WITHDRAWN: "已撤回您的反馈。"}


class WebApp:
    """The web app's state (the knowledge bases, their index workers, the export folder) and its event handlers.

    Every handler that shows or changes data asks the gate who the request is (``who``) and acts only
    within the knowledge bases that principal may read (``visible``) or edit; the default base's facade
    is ``app``."""

    def __init__(self, app: Yandu, watch: bool = False, gate: Gate | None = None, bases: Bases | None = None):
        self.app = app
        self.settings = app.settings
        self.bases = bases or Bases(app.settings)
        self.bases.adopt(DEFAULT, app)
        self.gate = gate or Gate()
        self.workers: dict[str, IndexWorker] = {DEFAULT: IndexWorker(app)}
        self.served = Served()  # files handed out, with the bases they came from (web/gate.py)
        self.watch = watch
        self.model_wait: tuple[float, float] | None = None  # (since, seconds expected) while the model loads
        self.model_error: str | None = None
        self.export_dir = process_folder() / "export"  # swept by the next start if this process is killed

    # ---- who asks, and which knowledge bases they reach -------------------------------------------

    @property
    def worker(self) -> IndexWorker:
        """The default knowledge base's index worker (the server starts and watches it)."""
        return self.workers[DEFAULT]

    def worker_of(self, base: str) -> IndexWorker:
        """A base's index worker, made (and asked to bring the base's index up to date) on first use."""
        worker = self.workers.get(base)
        if worker is None:
            worker = self.workers[base] = IndexWorker(self.bases.get(base))
            worker.request()
        return worker

    def who(self, request) -> Principal:
        return self.gate.principal(request)

    def visible(self, request) -> list[str]:
        """The knowledge bases this request's user may read."""
        return self.who(request).readable(self.bases.names())

    def editable(self, request) -> list[str]:
        who = self.who(request)
        return [b for b in self.bases.names() if who.may("edit", b)]

    def scope(self, request, chosen=None) -> list[str]:
        """The bases a question goes to: those chosen in the sidebar that the user may read (none
        chosen: all they may read). A base they may not read is never named back to them."""
        visible = self.visible(request)
        wanted = [b for b in (chosen or []) if b in visible]
        return wanted or visible

    def _key(self, request, base: str, source: str) -> str:
        """A report's value in filters and API results: its file name while the user sees one base,
        ``base/file`` once they see several."""
        return source if len(self.visible(request)) <= 1 else report_key(base, source)

    def _locate(self, request, key: str, action: str = "read") -> tuple[str, str]:
        """(base, file) of a report named by a user; refused alike whether the base or the report is
        missing or not theirs (existence is not revealed)."""
        base, source = split_key(key)
        who = self.who(request)
        if base is None:
            visible = self.visible(request)
            base = next((b for b in visible if source in {d["source"] for d in self._docs(b)}),
                        visible[0] if visible else DEFAULT)
        if not self.bases.exists(base) or not who.may("read", base):
            raise UnknownReport(f"{source}: 不是报告库中的文件")
        if not who.may(action, base):  # a reader of the base: told why, the report being theirs to see
            raise UnknownReport(f"{source}: 无权修改这份报告")
        return base, source

    def _docs(self, base: str) -> list[dict]:
        try:
            snap = self.bases.get(base).searcher.snapshot()
            return snap.documents() if snap is not None else []
        except YanduError:
            return []

    def _with_base_titles(self, request, passages: list[dict]) -> list[dict]:
        """Passages as dicts; with the knowledge base's title on each once the user sees several bases."""
        if len(self.visible(request)) <= 1:
            return passages
        titles = self.bases.titles()
        return [{**p, "base_title": titles.get(p.get("base") or DEFAULT, p.get("base"))} for p in passages]

    # ---- data -------------------------------------------------------------------------------

    def status(self, request=None) -> dict:
        """The status of the bases this request's user may read, with the last background update's
        failure beside it (the last good index keeps answering). No request with sign-in on: nothing."""
        bases = self.visible(request)
        try:
            s = self.bases.status(bases)
        except Exception as e:  # a half-deleted index folder, say: show it, keep serving
            log.warning("status: %s", e)
            s = {"reports": 0, "chunks": 0, "model": self.settings.model, "updated": None,
                 "errors": {}, "documents": [], "years": [], "problem": str(e)}
        if len(bases) <= 1:  # one base: reports are named by their file names, as before bases existed
            for d in s.get("documents", []):
                d["key"] = d["source"]
            s["errors"] = {split_key(k)[1]: v for k, v in (s.get("errors") or {}).items()}
        errors = [w.last_run.error for b, w in self.workers.items() if b in bases and w.last_run is not None]
        if errors:
            s["update_error"] = next((e for e in errors if e), None)
        return s

    # ---- the first start: what a question meets until the index is ready ----------------------

    def prepare_model(self) -> None:
        """Load the embedding model (the first start converts it), recording what the page shows meanwhile."""
        self.model_error = None
        self.model_wait = (time.monotonic(), MODEL_LOAD_S if model_prepared(self.settings) else MODEL_PREPARE_S)
        try:
            if self.app.model_from_settings:
                prepare_model(self.settings)  # in a child process: the page keeps answering meanwhile
            self.app.encoder
        except Exception as e:
            self.model_error = f"{type(e).__name__}: {e}" if not isinstance(e, YanduError) else str(e)
            raise

    def readiness(self, bases: list[str] | None = None) -> dict:
        """What a question to ``bases`` (default: the default base) meets now: ``state`` ready |
        preparing_model | indexing | empty | failed, the ``message`` shown for it, and for indexing the
        run's ``progress`` with an estimate (``eta``, s)."""
        bases = [DEFAULT] if bases is None else bases
        try:
            indexed = any((snap := self.bases.get(b).searcher.snapshot()) is not None and len(snap.ids) > 0
                          for b in bases)
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
        worker = next((self.workers[b] for b in bases if b in self.workers and self.workers[b].busy), None)
        if worker is not None:
            event = worker.progress
            eta = worker.eta() if event.stage in (Stage.EMBEDDING, Stage.OCR) else None  # the long stages;
            # reading a file is quick and says nothing of the embedding that follows
            stage = (f" {event.done}/{event.total} 份" if event.total else "") if event.stage is Stage.READING \
                else "：" + event.describe()
            return {"state": "indexing", "message": f"正在建立索引{stage}" + (f"（{about(eta)}）" if eta else ""),
                    "progress": {"stage": event.stage.value, "done": event.done, "total": event.total,
                                 "eta": None if eta is None else round(eta, 1)}}
        run = next((self.workers[b].last_run for b in bases if b in self.workers and self.workers[b].last_run), None)
        if run is not None and run.error:
            return {"state": "failed", "message": f"索引未能建立：{run.error}"}
        return {"state": "empty", "message": EMPTY_INDEX}

    def wait_until_ready(self, timeout: float = FIRST_START_WAIT, every: float = 1.0, bases: list[str] | None = None):
        """Wait (up to ``timeout`` s) while the model is prepared or the first index built; yields each
        new readiness on the way and returns the last one (``ready = yield from …``)."""
        ready = self.readiness(bases)
        deadline = time.monotonic() + timeout
        shown = None
        while ready["state"] in WAITING and time.monotonic() < deadline:
            if ready["message"] != shown:
                shown = ready["message"]
                yield ready
            time.sleep(every)
            ready = self.readiness(bases)
        return ready

    def _waiting_frames(self, question: str, turns: list[dict], bases: list[str], prefix: str = ""):
        """The chat while a question waits for the first index: the question and the stage shown as
        the answer-to-be; returns the readiness it ended with."""
        shown = self._messages(turns) + [{"role": "user", "content": question_html(prefix + question)}]
        waiting = self.wait_until_ready(bases=bases)
        while True:
            try:
                ready = next(waiting)
            except StopIteration as done:
                return done.value
            yield shown + [{"role": "assistant", "content": waiting_markdown(ready["message"])}], gr.skip(), "", \
                gr.skip(), gr.skip()

    def _api_ready(self, bases: list[str]) -> None:
        """API calls wait like the page does; a call that cannot be answered from an index raises an
        error whose title is the state (clients tell it apart from "no passage matched", which is [])."""
        if not bases:
            raise gr.Error(EMPTY_INDEX, title="empty")
        ready = _drain(self.wait_until_ready(bases=bases))
        if ready["state"] != "ready":
            raise gr.Error(ready["message"], title=ready["state"])

    def report_choices(self, status: dict) -> list[tuple[str, str]]:
        out = []
        titles = self.bases.titles() if len(status.get("bases") or {}) > 1 else {}
        for d in status.get("documents", []):
            label = d["label"]
            if d.get("year") and str(d["year"]) not in label:
                label += f"（{d['year']}）"
            if titles:
                label = f"{titles.get(d['base'], d['base'])} · {label}"
            out.append((label, d.get("key", d["source"])))
        return out

    def base_choices(self, bases: list[str]) -> list[tuple[str, str]]:
        titles = self.bases.titles()
        return [(titles.get(b, b), b) for b in bases]

    @staticmethod
    def year_choices(status: dict, key: str = "years") -> list[tuple[str, int]]:
        """The choices of the 报告年份 box (``years``) or the 数据年份 box (``data_years``)."""
        return [(f"{y} 年", int(y)) for y in status.get(key, [])]

    def status_markdown(self, status: dict | None = None, request=None) -> str:
        bases = self.visible(request)
        running = [self.workers[b] for b in bases if b in self.workers and self.workers[b].running]
        indexing = running[0].progress.describe() if running else None
        ready = self.readiness(bases)
        return status_markdown(status or self.status(request), self.watch, indexing,
                               None if ready["state"] in ("ready", "empty") else ready["message"])

    def side_updates(self, reports=None, years=None, request=None):
        """Status text and filter choices (selected values kept where still offered)."""
        s = self.status(request)
        return (self.status_markdown(s, request), _offered(self.report_choices(s), reports),
                _offered(self.year_choices(s), _years(years)))

    def side(self, request=None) -> dict:
        """What the side panel shows: the status line and the choices of the report and year boxes
        (layout.SHOW_SIDE draws it)."""
        s = self.status(request)
        return _listed({"status": self.status_markdown(s, request), "reports": self.report_choices(s),
                        "years": self.year_choices(s), "data_years": self.year_choices(s, "data_years")})

    # ---- API ----------------------------------------------------------------------------------

    def api_search(self, question: str, top_k: int = 5, reports: list[str] = [],  # noqa: B006 (never mutated)
                   years: list[int] = [], section_types: list[str] = [], bases: list[str] = [],  # noqa: B006
                   data_years: list[int] = [], request: gr.Request = None) -> list[dict]:  # noqa: B006
        """Ranked, cited passages for a question — the same objects as `python app.py query --json`.

        Args:
            question: the question, in Chinese (or any language).
            top_k: how many passages (1–50).
            reports: only these reports (file names, or base/file across knowledge bases); empty = all.
            years: only reports of these years; empty = all.
            section_types: only these section roles: overview, work, highlight, problem, cause, plan, other.
            bases: only these knowledge bases (of those the caller may read); empty = all of them.
            data_years: only passages about these years (the 2024 figures of a 2025 report); empty = all.
        Returns:
            A list of passages: rank, score, source, title, section, section_type, text, year, data_years, page, item,
            start, end, parts (the headings of the sections it joins, as they ranked), why;
            [] when the index is ready and nothing matched. While the model or the first index is being prepared
            the call waits; when no index can answer it raises an error titled with the state (empty, failed).
        """
        unknown = [t for t in section_types or [] if t not in SECTION_TYPE_NAMES]
        if unknown:
            raise gr.Error(f"未知的段落类型 section_types：{'、'.join(f'`{t}`' for t in unknown)}；"
                           f"可用：{'、'.join(f'`{t}`（{n}）' for t, n in SECTION_TYPE_NAMES.items())}", title="参数错误")
        try:
            years, data_years = [int(y) for y in years or []], [int(y) for y in data_years or []]
            top_k = int(top_k or self.settings.top_k)
        except (TypeError, ValueError):
            raise gr.Error("`top_k`、`years` 和 `data_years` 须为整数", title="参数错误") from None
        scope = self.scope(request, bases)
        self._api_ready(scope)
        result = self.bases.search(question or "", scope, top_k, reports or [], years, section_types or [],
                                   data_years=data_years)
        self.gate.record(self.who(request), "ask", base=",".join(scope), target=(question or "")[:MAX_QUESTION],
                         detail={"api": True, "shown": [_shown(p) for p in result.passages]}, request=request)
        return [p.to_json() for p in result.passages]

    def api_status(self, request: gr.Request = None) -> dict:
        """Index status of the knowledge bases the caller may read: reports, chunks, model, last update (Unix
        time), files that failed with reasons, documents; state (ready, preparing_model, indexing, empty,
        failed), message, progress, index_lost; bases (name → title)."""
        bases = self.visible(request)
        s = self.status(request)
        s["indexing"] = any(self.workers[b].running for b in bases if b in self.workers)
        s.update(self.readiness(bases))  # state, message (and progress while the first index is built)
        s["bases"] = {b: t for b, t in self.base_choices(bases)} if not self.gate.open or len(bases) > 1 else {}
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
            self.served.grant(md, _turn_bases(turns))
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
            self.served.grant(docx, _turn_bases(turns))
        except OSError as e:
            raise gr.Error(f"无法导出 Word：{os_reason(e)}", title="出错了") from None
        self.gate.record(self.who(request), "export", base=",".join(sorted(_turn_bases(turns))), target=docx.name,
                         detail={"turns": len(turns)}, request=request)
        return gr.update(value=str(docx))

    @staticmethod
    def _messages(turns: list[dict]) -> list[dict]:
        """The chat's messages (HTML: the chat renders no Markdown); a question is shown as typed (plain
        text: never read as HTML or Markdown)."""
        out = []
        for t in turns:
            out.append({"role": "user", "content": question_html(("对比各报告：" if t.get("kind") == "compare" else "")
                                                                 + t["question"])})
            out.append({"role": "assistant", "content": t["answer"]})
        return out

    def _titles(self, request=None) -> dict[str, str]:
        return {d.get("key", d["source"]): d["label"] for d in self.status(request).get("documents", [])}

    def chat(self, question: str, turns: list[dict] | None, top_k: int, reports: list[str] | None,
             years: list[int] | None, section_types: list[str] | None, bases: list[str] | None = None,
             data_years: list[int] | None = None, request: gr.Request = None):
        """Answer a question; a follow-up keeps the previous turn's topic and scope (a comparison's too)."""
        turns = list(turns or [])
        question = (question or "").strip()
        if refused := question_refused(question):
            gr.Warning(refused, duration=4, title="提示")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        scope = self.scope(request, bases)
        ready = yield from self._waiting_frames(question, turns, scope)  # the first start: the stage and an estimate
        reports, years, section_types = list(reports or []), _years(years), list(section_types or [])
        data_years = _years(data_years)
        understood = follow_up(question, turns[-1] if turns else None)
        if understood.topic and not (reports or years or data_years):
            reports, years, data_years = list(understood.reports), list(understood.years), list(understood.data_years)
        top_k = int(top_k or self.settings.top_k)
        if ready["state"] != "ready":  # said plainly: no index to answer from (empty, failed, or still not ready)
            result = Result([], ready["message"])
        elif understood.role and not section_types:
            result = self.bases.search(understood.query, scope, top_k, reports, years, role=understood.role,
                                       data_years=data_years)
        else:
            result = self.bases.search(understood.query, scope, top_k, reports, years, section_types,
                                       data_years=data_years)
        passages = self._with_base_titles(request, [p.to_json() for p in result.passages])
        self.gate.record(self.who(request), "ask", base=",".join(scope), target=question,
                         detail={"shown": [_shown(p) for p in result.passages], "found": len(result.passages),
                                 "top": result.passages[0].score if result.passages else None,
                                 "message": result.message}, request=request)
        note = filters_note(reports, years, section_types, self._titles(request) if reports else None, data_years)
        turn = {"question": question, "query": understood.query, "passages": passages, "message": result.message,
                "note": note,
                "topic": understood.topic, "scope": {"reports": reports, "years": years, "data_years": data_years},
                "bases": scope, "filters": {"reports": reports, "years": years, "section_types": section_types,
                                            "data_years": data_years, "top_k": top_k}}
        asked = understood.query if understood.topic else question
        direct = direct_answer(asked, passages)
        turn["direct"] = direct.to_json() if direct else None  # the exports quote it from here
        turn["answer"] = render_answer(asked, passages, result.message, note, len(turns), understood.topic,
                                       rate=self.gate.audit_log is not None, direct=direct)
        turns.append(turn)
        yield self._messages(turns), turns, "", self._export_md(turns, request), gr.update(interactive=True)

    def compare_turn(self, question: str, turns: list[dict] | None, reports: list[str] | None, years: list[int] | None,
                     section_types: list[str] | None, bases: list[str] | None = None,
                     data_years: list[int] | None = None, request: gr.Request = None):
        """One question across the reports in scope: a table, one row per report, kept in the conversation
        with its topic and scope (a follow-up asks on about them)."""
        turns = list(turns or [])
        question = (question or "").strip()
        if refused := question_refused(question, "请输入要对比的问题，例如：各单位的存在问题有什么共性？"):
            gr.Warning(refused, duration=4, title="提示")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        scope = self.scope(request, bases)
        ready = yield from self._waiting_frames(question, turns, scope, "对比各报告：")
        if ready["state"] != "ready":
            yield from self.chat(question, turns, self.settings.top_k, reports, years, section_types, bases,
                                 data_years, request)
            return  # the chat turn says plainly why nothing can be compared
        reports, years, section_types = list(reports or []), _years(years), list(section_types or [])
        data_years = _years(data_years)
        rows = self._compare_rows(request, question, scope, reports, years, section_types, data_years)
        note = filters_note(reports, years, section_types, self._titles(request) if reports else None,
                            data_years) or "全部报告"
        turns.append({"kind": "compare", "question": question, "rows": rows, "note": note, "bases": scope,
                      "scope": {"reports": reports, "years": years, "data_years": data_years},
                      "filters": {"reports": reports, "years": years, "section_types": section_types,
                                  "data_years": data_years},
                      "answer": render_compare(question, rows, note)})
        yield self._messages(turns), turns, "", self._export_md(turns, request), gr.update(interactive=True)

    def _compare_rows(self, request, question, scope, reports, years, section_types, data_years=()) -> list[dict]:
        rows = []
        several = len(self.visible(request)) > 1
        titles = self.bases.titles() if several else {}
        for base, r in self.bases.compare(question, scope, reports, years, section_types, data_years):
            row = r.to_json()
            if several:
                row.update(base=base, title=f"{titles.get(base, base)} · {row['title']}")
                if row["passage"]:
                    row["passage"]["base"] = base
            rows.append(row)
        self.gate.record(self.who(request), "compare", base=",".join(scope), target=question,
                         detail={"rows": len(rows)}, request=request)
        return rows

    def api_compare(self, question: str, reports: list[str] = [], years: list[int] = [],  # noqa: B006
                    section_types: list[str] = [], bases: list[str] = [], data_years: list[int] = [],  # noqa: B006
                    request: gr.Request = None) -> list[dict]:
        """One question across reports: one row per report in scope (chosen reports, else the years', else all);
        with data_years, each report's best passage about those years.

        Returns:
            A list of {source, title, year, passage} (and base, across knowledge bases); passage is the report's
            best passage (as /search) or null. Waits for the first index, and raises an error titled with the
            state when none can answer (as /search).
        """
        scope = self.scope(request, bases)
        self._api_ready(scope)
        return self._compare_rows(request, question or "", scope, reports or [], _years(years), section_types or [],
                                  _years(data_years))

    def example_chat(self, turns, top_k, reports, years, section_types, bases, data_years, evt: gr.SelectData,
                     request: gr.Request = None):
        value = evt.value
        question = value.get("text", "") if isinstance(value, dict) else str(value or "")
        yield from self.chat(question, turns, top_k, reports, years, section_types, bases, data_years, request)

    def restore(self, saved: dict | None, request: gr.Request = None):
        """Page load: the conversation kept in the browser becomes this session's again, with its exports —
        only for the user who had it (on a shared computer the next user signs in on the same browser),
        and only its turns from knowledge bases that user may still read."""
        saved = saved if isinstance(saved, dict) else {}
        kept = saved.get("turns")
        who = self.who(request)
        if not self.gate.open and saved.get("user") != who.name:
            kept = None
        readable = set(self.visible(request))
        kept = kept if isinstance(kept, list) else []
        turns = []
        for t in kept:
            try:
                if isinstance(t, dict) and isinstance(t.get("question"), str) and _turn_bases([t]) <= readable:
                    turns.append(self._redrawn(t, len(turns)))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # a turn the page never wrote
        # turns left out (another user's, a base no longer readable) or drawn anew: the browser's copy follows
        changed = [t["answer"] for t in turns] != [t.get("answer") for t in kept]
        store = {"user": who.name, "turns": turns} if changed else gr.skip()
        return self._messages(turns), turns, self._export_md(turns, request), store

    def _redrawn(self, turn: dict, n: int) -> dict:
        """A kept turn as turn ``n`` of the conversation: its citations renumbered, or — kept by an older
        version (an answer in Markdown, no direct answer kept) — drawn again from its passages (the chat
        renders HTML only)."""
        answer = turn.get("answer")
        html_kept = isinstance(answer, str) and answer.startswith(ANSWER)
        if turn.get("kind") == "compare":
            return {**turn, "answer": renumbered(answer, n) if html_kept else
                    render_compare(turn["question"], list(turn["rows"]), str(turn.get("note") or ""))}
        if html_kept and "direct" in turn:
            Answer.from_json(turn["direct"])  # a malformed one is a turn the page never wrote
            return {**turn, "answer": renumbered(answer, n)}
        asked = str(turn.get("query") if turn.get("topic") else turn["question"])
        direct = direct_answer(asked, list(turn["passages"]))
        return {**turn, "direct": direct.to_json() if direct else None,
                "answer": render_answer(asked, list(turn["passages"]), str(turn.get("message") or ""),
                                        str(turn.get("note") or ""), n, str(turn.get("topic") or ""),
                                        rate=self.gate.audit_log is not None, direct=direct)}

    def keep(self, turns: list[dict] | None, request: gr.Request = None) -> dict:
        """What the browser's copy of the conversation (store.js) is told after an answer: the new turn
        alone ({user, count, turn}: saving does not grow with the conversation), or, once it was cleared,
        the empty conversation ({user, turns})."""
        turns = list(turns or [])
        user = self.who(request).name
        return {"user": user, "count": len(turns), "turn": turns[-1]} if turns else {"user": user, "turns": []}

    def trim(self, count, turns: list[dict] | None, request: gr.Request = None):
        """The browser's storage is full: the oldest ``count`` turns leave the conversation everywhere —
        the chat, the session, the exports and the browser's copy (rewritten whole) — and the others
        keep their citations (renumbered)."""
        turns = list(turns or [])
        try:
            count = int(count)
        except (TypeError, ValueError):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        count = max(0, min(count, len(turns) - 1))
        turns = [{**t, "answer": renumbered(t["answer"], n)} for n, t in enumerate(turns[count:])]
        gr.Info(f"已删除最早的 {count} 轮问答。", duration=3, title="提示")
        none = gr.update(value=None, interactive=False)
        return (self._messages(turns), turns, CONTEXT_HINT, none, self._export_md(turns, request),
                gr.update(interactive=bool(turns)), {"user": self.who(request).name, "turns": turns})

    def cited(self, key: str | None, turns: list[dict] | None, request: gr.Request = None):
        """A citation was clicked ("turn-rank"): the passage in its section, and its report to download."""
        none = gr.update(value=None, interactive=False)
        try:
            n, rank = (int(x) for x in str(key or "").split("-"))
            passage = next(p for p in (turns or [])[n]["passages"] if p["rank"] == rank)
        except (ValueError, IndexError, KeyError, StopIteration, TypeError):
            return CONTEXT_HINT, none
        # The turns come back from the browser on a reload: a passage's base is checked like any name a
        # user gives. `context` reads the indexed text only; the download is a copy of a corpus file, found
        # by name in the corpus listing (the facade refuses anything else).
        base = passage.get("base") or DEFAULT
        who = self.who(request)
        if not who.may("read", base) or not self.bases.exists(base):
            return CONTEXT_HINT, none
        app = self.bases.get(base)
        ctx = app.context(passage["source"], passage["start"], passage["end"])
        self.gate.record(who, "open", base=base, target=passage["source"],
                         detail={"start": passage["start"], "end": passage["end"]}, request=request)
        try:
            original = app.report_path(passage["source"])
        except UnknownReport:
            return render_context(ctx, passage), none
        folder = self._session_folder(request) / "original"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        copy = folder / original.name
        shutil.copyfile(original, copy)
        self.served.grant(copy, base)
        return render_context(ctx, passage), gr.update(value=str(copy), interactive=True,
                                                       label=f"下载原文：{original.name}")

    def feedback(self, turns: list[dict] | None, comment: str | None, evt: gr.LikeData, request: gr.Request = None):
        """👍/👎 on an answer: kept in the audit log (``feedback``) with the question, its filters, the
        knowledge bases and the passages shown (``eval.feedback``); the comment box emptied. The chosen
        👍/👎 clicked again (Gradio sends ``liked=""``) is kept as a withdrawal. The turns come back from the
        browser: each passage is read again from its base's index (its span comes from there), and a turn
        with a passage the user may not read, or that the index does not hold, is not kept."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        verdict = {True: "up", "Like": "up", False: "down", "Dislike": "down", "": WITHDRAWN}.get(evt.liked)
        try:
            turn = (turns or [])[int(index) // 2]
            shown = list(turn.get("passages") or []) + [r["passage"] for r in turn.get("rows") or [] if r.get("passage")]
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return gr.skip()
        return self._feedback(turn, shown, verdict, comment, request)

    def passage_feedback(self, key: str | None, turns: list[dict] | None, comment: str | None,
                         request: gr.Request = None):
        """有用/无用 on one passage ("<turn>-<rank>-up|down", from its links): kept as ``feedback`` on that passage."""
        try:
            n, rank, verdict = str(key or "").split("-")
            turn = (turns or [])[int(n)]
            shown = [next(p for p in turn["passages"] if p["rank"] == int(rank))]
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, StopIteration):
            return gr.skip()
        return self._feedback(turn, shown, verdict if verdict in ("up", "down") else None, comment, request, "passage")

    def _feedback(self, turn: dict, shown: list[dict], verdict: str | None, comment: str | None, request,
                  level: str = "answer"):
        who = self.who(request)
        try:
            checked = [p for p in (self._indexed(who, p) for p in shown) if p]
        except (TypeError, ValueError, KeyError, AttributeError):
            return gr.skip()
        if verdict is None or not shown or len(checked) < len(shown) or question_refused(str(turn.get("question", "")).strip()):
            return gr.skip()  # a question the page would not have asked (empty, too long) is no one's question
        bases = sorted(_turn_bases([{"passages": checked}]) | {b for b in turn.get("bases") or [] if who.may("read", b)})
        withdrawn = verdict == WITHDRAWN  # the comment box is left for the next verdict
        detail = feedback_detail({**turn, "passages": checked, "rows": []}, verdict, bases,
                                 "" if withdrawn else comment or "")
        if level != "answer":
            detail["level"] = level
        self.gate.record(who, "feedback", base=",".join(bases), target=detail["question"], detail=detail,
                         request=request)
        gr.Info(FEEDBACK_THANKS[verdict], duration=3, title="反馈")
        return gr.skip() if withdrawn else ""

    def _indexed(self, who: Principal, passage: dict) -> dict | None:
        """A passage named by the browser, its text read from its base's index; None when the user may
        not read that base or the index does not hold the passage."""
        base = passage.get("base") or DEFAULT
        if not who.may("read", base) or not self.bases.exists(base):
            return None
        start, end = int(passage["start"]), int(passage["end"])
        ctx = self.bases.get(base).context(str(passage["source"]), start, end)
        if not ctx or not ctx["passage"].strip() or len(ctx["passage"]) != end - start:
            return None
        return {**passage, "base": base, "text": ctx["passage"]}

    @staticmethod
    def check_years(years, label: str = "报告年份"):
        """A year box after the user typed in it: a chip that is not a year is removed, and the user told."""
        refused = [str(y) for y in years or [] if not is_year(y)]
        if not refused:
            return gr.skip()
        gr.Warning(f"{label}应为四位数字（如 2023），已移除：{'、'.join(refused)}", duration=5, title="提示")
        return gr.update(value=[int(y) for y in years if is_year(y)])

    @classmethod
    def check_data_years(cls, years):
        return cls.check_years(years, "数据年份")

    def clear(self):
        off = gr.update(value=None, interactive=False)
        return [], [], CONTEXT_HINT, off, off, gr.update(interactive=False)

    # ---- corpus -------------------------------------------------------------------------------

    @staticmethod
    def _watch(worker: IndexWorker, ticket: int):
        """Wait for the run covering ``ticket``, yielding its latest progress event every 0.25 s (None while
        an earlier run is still going); returns the run (``run = yield from …``)."""
        while True:
            run = worker.wait(ticket, timeout=0.25)
            if run is not None:
                return run
            yield worker.progress if worker.started(ticket) else None

    def adding(self, paths: list[str], base: str = DEFAULT):
        """Save files into a base's corpus and index them, yielding as it goes — the saved uploads
        (``list[Upload]``) once, then the index run's progress (``ProgressEvent``, None while queued) —
        and return what happened to each file (as ``add_files``). The caller has checked the right to edit."""
        app, worker = self.bases.get(base), self.worker_of(base)
        uploads = app.add_files(paths)
        yield uploads
        run = None
        if any(u.outcome == "saved" for u in uploads):
            run = yield from self._watch(worker, worker.request())
        passages = {r.source: r.passages for r in app.library()} if run and run.report else {}
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

    def add_files(self, paths: list[str], progress=None, base: str = DEFAULT) -> list[dict]:
        """Save files into a base's corpus, index them, and say what happened to each (structured).

        Each result: original, name, outcome (added / duplicate / duplicate_indexed / rejected / unreadable /
        not_indexed), reason, passages, duplicate_of. The caller has checked the right to edit ``base``.
        """
        return _drain(self.adding(paths, base), progress)

    @staticmethod
    def _upload_paths(files) -> list[str]:
        items = files if isinstance(files, list) else [files] if files else []
        paths = [f if isinstance(f, str) else getattr(f, "path", None) or getattr(f, "name", "") for f in items]
        return [p for p in paths if p]

    def _edit_base(self, request, base: str | None) -> str:
        """The base a change goes to: the one named (default: the user's first editable base), if the
        user may edit it; else an error that names nothing the user may not read."""
        editable = self.editable(request)
        base = base or (DEFAULT if DEFAULT in editable else editable[0] if editable else DEFAULT)
        if base not in editable:
            raise gr.Error("无权修改这个知识库" if base in self.visible(request) else "没有这个知识库或无权修改",
                           title="无权操作")
        return base

    def api_add_reports(self, files, base: str = "", request: gr.Request = None, progress=gr.Progress()) -> dict:
        """Add report files to a knowledge base and index them; says what happened to each.

        Args:
            files: the report files.
            base: the knowledge base to add them to (one the caller may edit); empty = the default one.
        Returns:
            {"files": [{original, name, outcome, reason, passages, duplicate_of}], "reports": N, "chunks": N};
            outcome is one of added, duplicate, duplicate_indexed, rejected, unreadable, not_indexed.
        """
        paths = self._upload_paths(files)
        results = []
        try:
            base = self._edit_base(request, base)
            if paths:
                progress(0, desc="保存文件")
                results = self.add_files(paths, progress, base)
                self.gate.record(self.who(request), "add", base=base, target="、".join(r["name"] or r["original"]
                                                                                      for r in results),
                                 detail={"outcomes": {r["original"]: r["outcome"] for r in results}}, request=request)
        finally:
            discard_uploads(paths)  # saved ones were copied into the corpus; refused ones must not linger
        s = self.status(request)
        return {"files": results, "reports": s["reports"], "chunks": s["chunks"]}

    def upload_batch(self, files, base: str = "", reports=None, years=None, request: gr.Request = None):
        """The page's upload: each file of the batch under its full name with its stage while the batch runs
        (saving, reading, OCR page n/m, embedding), then what happened to it — replacing the last batch's
        result at once (a refusal too). At the end the side panel is refreshed and the file box emptied."""
        paths = self._upload_paths(files)
        batch = UploadBatch.of([Path(p).name for p in paths])
        idle = (gr.skip(),) * 4
        try:
            if not paths:
                batch.refused("请选择要添加的报告文件。")
                yield batch.html(), *idle
                return
            try:
                base = self._edit_base(request, base)
            except gr.Error as e:
                batch.refused(e.message)
                yield batch.html(), *idle
                return
            yield batch.html(), *idle
            steps, shown = self.adding(paths, base), None
            while True:
                try:
                    step = next(steps)
                except StopIteration as done:
                    results = done.value
                    break
                except (YanduError, OSError) as e:  # the corpus folder unwritable, say: said where the batch is
                    results = None
                    batch.refused(f"未能添加：{os_reason(e) if isinstance(e, OSError) else e}")
                    break
                if isinstance(step, list):
                    batch.saved(step)
                else:
                    batch.event(step)
                if (view := batch.html()) != shown:
                    shown = view
                    yield view, *idle
            if results is not None:
                batch.done(results)
                self.gate.record(self.who(request), "add", base=base,
                                 target="、".join(r["name"] or r["original"] for r in results),
                                 detail={"outcomes": {r["original"]: r["outcome"] for r in results}}, request=request)
        finally:
            discard_uploads(paths)  # saved ones were copied into the corpus; refused ones must not linger
        yield batch.html(), *self.side_updates(reports, years, request), None

    def upload_refused(self, offered: str):
        """The browser refused a batch before sending it (a file over the upload limit): the panel says which
        file, and that none of the batch was added, in place of the last batch's result."""
        try:
            files = json.loads(offered or "[]")
        except ValueError:
            return gr.skip()
        shown = too_large(files if isinstance(files, list) else [], self.settings.max_file_mb)
        return shown if shown is not None else gr.skip()

    def rebuild(self, reports=None, years=None, confirm_empty: bool = False, bases=None, request: gr.Request = None,
                progress=gr.Progress()):
        """Re-index every report of the chosen bases the user may edit; ``confirm_empty``: the user agrees
        that a missing or empty corpus folder empties the index (refused, with a question, otherwise)."""
        editable = self.editable(request)
        chosen = [b for b in self.scope(request, bases) if b in editable]
        if not chosen:
            raise gr.Error("无权重建索引：只有知识库的编辑者可以重建", title="无权操作")
        messages = []
        for base in chosen:
            progress(0, desc="重建索引")
            worker = self.worker_of(base)
            run = _drain(self._watch(worker, worker.request(rebuild=True, allow_empty=bool(confirm_empty))), progress)
            self.gate.record(self.who(request), "rebuild", base=base, detail={"error": run.error}, request=request)
            where = f"{self.bases.titles().get(base, base)}：" if len(chosen) > 1 else ""
            if run.needs_confirmation:
                messages.append(f"**{where}索引未清空**：{html.escape(run.error)}。如确需清空索引，请勾选“确认清空索引”后再点“重建索引”。")
            elif run.error:
                messages.append(f"**{where}重建失败**：{html.escape(run.error)}")
            else:
                messages.append(f"**{where}索引已重建**：" + html.escape(index_summary(run.report)))
        return ("  \n".join(messages), *self.side_updates(reports, years, request))

    def refresh(self, shown: dict | None, request: gr.Request = None):
        """Timer tick: the side panel's content (``side``) when it differs from what the page shows, else
        nothing — no component of the page is touched (Gradio would redraw its progress text every tick)."""
        now = self.side(request)
        return gr.skip() if now == _listed(shown) else now

    def session_start(self, request: gr.Request = None):
        """Page load: what this user may reach — the knowledge base choices, the upload target, the
        admin tab, the header line with their name and 退出."""
        who = self.who(request)
        visible, editable = self.visible(request), self.editable(request)
        several = len(visible) > 1
        user = "" if self.gate.open else (
            f'<div class="yd-user">{html.escape(who.name)}{"（管理员）" if who.admin else ""} · '
            '<a href="/logout">退出</a></div>')
        return (gr.update(choices=self.base_choices(visible), value=[], visible=several),
                gr.update(choices=self.base_choices(editable), value=editable[0] if editable else None,
                          visible=len(editable) > 1),
                gr.update(visible=bool(editable)),  # the upload box and rebuild: editors only
                gr.update(visible=bool(editable)),
                gr.update(visible=who.admin and not self.gate.open),  # the admin tab
                user)

    # ---- the report library -----------------------------------------------------------------------

    def library_rows(self, query: str = "", kind: str = "全部", request=None, sort: str = DEFAULT_SORT) -> list[dict]:
        """The library of the bases the user may read, filtered by a text (title, unit or file name) and a
        kind, in the chosen order (``library.sort_rows``); each row's ``key`` names its report (its file
        name, or base/file across bases)."""
        query = (query or "").strip().lower()
        bases = self.visible(request)
        titles = self.bases.titles() if len(bases) > 1 else {}
        rows = []
        for base, r in self.bases.library(bases):
            if kind and kind != "全部" and r.kind != kind:
                continue
            if query and not any(query in (x or "").lower() for x in (r.title, r.unit, r.source)):
                continue
            state = f"未能索引：{r.error}" if r.error else f"与 {r.duplicate_of} 相同" if r.duplicate_of else "已索引"
            rows.append({"key": self._key(request, base, r.source), "source": r.source, "title": r.title,
                         "base_title": titles.get(base), "unit": r.unit, "year": r.year, "kind": r.kind,
                         "sections": "、".join(f"{SECTION_TYPE_NAMES[t]} {n}" for t, n in r.sections.items()),
                         "passages": r.passages, "added": r.added, "state": state,
                         "problem": 2 if r.error else 1 if r.duplicate_of else 0})
        return sort_rows(rows, sort)

    def trash_rows(self, query: str = "", request=None) -> list[dict]:
        """Removed reports of the bases the user may edit (no one else sees a trash), newest first; each
        row's ``key`` is base/path-in-the-corpus."""
        query = (query or "").strip().lower()
        bases = self.editable(request)
        titles = self.bases.titles() if len(self.visible(request)) > 1 else {}
        rows = [{**t, "key": report_key(base, t["path"]), "base": base, "base_title": titles.get(base)}
                for base in bases for t in self.bases.get(base).trash()
                if query in t["name"].lower() or query in t["title"].lower()]
        return sorted(rows, key=lambda t: -t["removed"])

    def library_tab(self, query: str = "", kind: str = "全部", sort: str = DEFAULT_SORT, view: str = "library",
                    selected: str = "", request: gr.Request = None):
        """The tab as it should look now: the list (the library, or the trash for editors), the view switch
        with the trash's count, the sort box and the selection's panel (hidden in the trash), the outline and
        the selection — kept while its report is listed, else cleared with its outline (the panel follows
        what the list shows)."""
        editors = bool(self.editable(request))
        trash = self.trash_rows("", request) if editors else []
        in_trash = editors and view == "trash"
        switch = gr.update(visible=editors, value="trash" if in_trash else "library",
                           choices=[("在库报告", "library"), (f"回收站（{len(trash)}）" if trash else "回收站", "trash")])
        if in_trash:
            shown = trash_html(self.trash_rows(query, request), len(self.visible(request)) > 1, bool((query or "").strip()))
            keep = False
        else:
            rows = self.library_rows(query, kind, request, sort)
            keep = bool(selected) and any(r["key"] == selected for r in rows)
            shown = library_html(rows, sort, selected if keep else "", bool((query or "").strip()) or kind != "全部")
        off = gr.update(interactive=False)
        panel = gr.update(visible=not in_trash)
        sorting = gr.update(visible=not in_trash)
        if keep:  # the selected report still listed: its outline and buttons stay as they are
            return shown, switch, sorting, panel, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return shown, switch, sorting, panel, LIBRARY_HINT, "", off, off

    def library_pick(self, key: str, request: gr.Request = None):
        """A report of the list was clicked: its section tree, and it becomes the report the buttons act on."""
        try:
            base, _ = self._locate(request, key)
        except UnknownReport:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        may = self.who(request).may("edit", base)
        return self.outline(key, request), key, gr.update(interactive=may), gr.update(interactive=may)

    def library_sort(self, column: str, query: str, kind: str, sort: str, view: str, selected: str,
                     request: gr.Request = None):
        """A column's header was clicked: sorted by it (again: the other way), the 排序 box showing the order."""
        sort = next_sort(sort, column)
        return library_html(self.library_rows(query, kind, request, sort), sort, selected,
                            bool((query or "").strip()) or kind != "全部"), sort

    def outline(self, key: str, request=None) -> str:
        try:
            base, source = self._locate(request, key)
            app = self.bases.get(base)
            info = next((r.to_json() for r in app.library() if r.source == source), None)
            return outline_html(app.outline(source), info)
        except UnknownReport as e:
            return f'<div class="yd-note">{html.escape(str(e))}</div>'
        except YanduError as e:  # unreadable file: say why
            return f'<div class="yd-note">无法读取：{html.escape(str(e))}</div>'

    def api_library(self, request: gr.Request = None) -> list[dict]:
        """Every report of the knowledge bases the caller may read: source, title, unit, year, kind, passages,
        sections (role → count), added (Unix time), size, error, duplicate_of (and base, across bases)."""
        several = len(self.visible(request)) > 1
        return [{**r.to_json(), **({"base": b} if several else {})} for b, r in self.bases.library(self.visible(request))]

    def api_outline(self, source: str, request: gr.Request = None) -> dict:
        """A report's section tree (as `app.py parse --json`: level, number, heading, section_type, children),
        its passage count and removed noise."""
        try:
            base, name = self._locate(request, source)
            return self.bases.get(base).outline(name)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None

    def api_trash(self, request: gr.Request = None) -> list[dict]:
        """Removed reports of the knowledge bases the caller may edit, newest first: name, title, path (what
        /restore_report and /purge_report take), removed (Unix time), size, base."""
        return [{k: t[k] for k in ("name", "title", "path", "removed", "size", "base")} for t in self.trash_rows("", request)]

    def _change(self, request, key: str) -> tuple[str, str]:
        try:
            return self._locate(request, key, "edit")
        except UnknownReport as e:
            raise gr.Error(str(e), title="出错了") from None

    def remove_report(self, source: str, request: gr.Request = None) -> dict:
        """Move a report to its knowledge base's trash (recoverable) and drop it from the index.

        Returns: {"source", "trashed" (path inside the corpus), "reports", "chunks"}.
        """
        base, name = self._change(request, source)
        app = self.bases.get(base)
        try:
            target = app.remove_report(name)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None
        self.gate.record(self.who(request), "delete", base=base, target=name, request=request)
        worker = self.worker_of(base)
        # the user removed it: an index left without reports is what they asked for (the guard against an
        # emptied corpus folder is for runs nobody asked to remove anything)
        run = worker.wait(worker.request(allow_empty=True))
        s = self.status(request)
        return {"source": source, "trashed": target.relative_to(app.settings.corpus_dir).as_posix(),
                "error": run.error, "reports": s["reports"], "chunks": s["chunks"]}

    def _from_trash(self, request, base: str | None, action: str, trashed: str) -> tuple[str, str]:
        """(base, name) once ``action`` (restore or purge) was done on a file of the trash of a base the
        user may edit; recorded in the audit log."""
        base = self._edit_base(request, base)
        app = self.bases.get(base)
        try:
            name = (app.restore_report if action == "restore" else app.purge_report)(trashed)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None
        self.gate.record(self.who(request), action, base=base, target=name, request=request)
        return base, name

    def restore_report(self, trashed: str, base: str = "", request: gr.Request = None) -> dict:
        """Put a file from a knowledge base's trash back and index it. Returns {"source", "reports", "chunks"}."""
        base, name = self._from_trash(request, base, "restore", trashed)
        worker = self.worker_of(base)
        run = worker.wait(worker.request())
        s = self.status(request)
        return {"source": self._key(request, base, name), "error": run.error, "reports": s["reports"],
                "chunks": s["chunks"]}

    def purge_report(self, trashed: str, base: str = "", request: gr.Request = None) -> dict:
        """Delete a file of a knowledge base's trash for good (editors of the base only). Returns {"source"}."""
        return {"source": self._from_trash(request, base, "purge", trashed)[1]}

    def reindex_report(self, source: str, request: gr.Request = None) -> dict:
        """Read one report again and re-index it. Returns {"source", "passages", "error"}."""
        base, name = self._change(request, source)
        app = self.bases.get(base)
        try:
            app.report_path(name)
        except YanduError as e:
            raise gr.Error(str(e), title="出错了") from None
        self.gate.record(self.who(request), "reindex", base=base, target=name, request=request)
        worker = self.worker_of(base)
        run = worker.wait(worker.request(force=frozenset({name})))
        info = next((r for r in app.library() if r.source == name), None)
        return {"source": source, "passages": info.passages if info else 0,
                "error": run.error or (info.error if info else None)}

    def library_remove(self, source: str | None, query: str, kind: str, sort: str, view: str,
                       request: gr.Request = None, progress=gr.Progress()):
        """删除报告 (after the page asked): the report to the trash, the list without it, its outline gone."""
        if not source:
            return (gr.skip(),) * 9
        progress(None, desc="删除报告并更新索引")
        title = next((r["title"] for r in self.library_rows(request=request) if r["key"] == source), source)
        self.remove_report(source, request)
        message = (f"**已删除** {_md_escape(one_line(title))}（{_code(source)}）：已移到回收站，"
                   "可在“回收站”中恢复或永久删除。")
        return (message, *self.library_tab(query, kind, sort, view, "", request))

    def library_reindex(self, source: str | None, query: str, kind: str, sort: str, request: gr.Request = None,
                        progress=gr.Progress()):
        if not source:
            return gr.skip(), gr.skip(), gr.skip()
        progress(None, desc="重新索引")
        result = self.reindex_report(source, request)
        message = (f"**重新索引失败** {_code(source)}：{html.escape(result['error'])}" if result["error"] else
                   f"**已重新索引** {_code(source)}：{result['passages']} 个段落")
        rows = self.library_rows(query, kind, request, sort)
        return message, library_html(rows, sort, source, bool((query or "").strip()) or kind != "全部"), \
            self.outline(source, request)

    def _trash_title(self, request, base: str | None, trashed: str) -> str:
        """How the trash lists a file of a base the user may edit (its report's title), else its name."""
        rows = self.trash_rows("", request) if base in self.editable(request) else []
        return next((t["title"] for t in rows if t["base"] == base and t["path"] == trashed), trashed.rsplit("/", 1)[-1])

    def library_restore(self, key: str | None, query: str, kind: str, sort: str, selected: str,
                        request: gr.Request = None, progress=gr.Progress()):
        """恢复 on a file of the trash (named base/path): back in the library and the index."""
        return self._library_trash("restore", key, query, kind, sort, selected, request, progress)

    def library_purge(self, key: str | None, query: str, kind: str, sort: str, selected: str,
                      request: gr.Request = None, progress=gr.Progress()):
        """永久删除 (after the page asked: panels.js) on a file of the trash (named base/path)."""
        return self._library_trash("purge", key, query, kind, sort, selected, request, progress)

    def _library_trash(self, action: str, key: str | None, query: str, kind: str, sort: str, selected: str,
                       request, progress):
        if not key:
            return (gr.skip(),) * 9
        base, trashed = split_key(key)
        title = one_line(self._trash_title(request, base, trashed))
        if action == "restore":
            progress(None, desc="恢复报告并更新索引")
            name = split_key(self.restore_report(trashed, base or "", request)["source"])[1]
            message = f"**已恢复** {_md_escape(title)}（{_code(name)}）：已放回报告库并重新加入索引。"
        else:
            progress(None, desc="永久删除")
            name = self.purge_report(trashed, base or "", request)["source"]
            message = f"**已永久删除** {_md_escape(title)}（{_code(name)}）：文件已从回收站删除，无法找回。"
        return (message, *self.library_tab(query, kind, sort, "trash", selected, request))


def _turn_bases(turns: list[dict]) -> set[str]:
    """The knowledge bases a conversation's passages came from."""
    out = set()
    for t in turns:
        for p in t.get("passages") or []:
            out.add(p.get("base") or DEFAULT)
        for r in t.get("rows") or []:
            out.add(r.get("base") or DEFAULT)
    return out


def _shown(p) -> dict:
    """A passage as the audit log keeps it: where it is, not its text."""
    return {"base": p.base or DEFAULT, "source": p.source, "start": p.start, "end": p.end}


def about(seconds: float | None) -> str:
    """An estimate as the page says it: "约 1 分钟", "约 40 秒", "即将完成"."""
    if seconds is None:
        return "正在估计时间"
    if seconds < 5:
        return "即将完成"
    if seconds < 50:
        return f"约 {max(10, round(seconds / 10) * 10)} 秒"
    return f"约 {max(1, round(seconds / 60))} 分钟"


def _drain(generator, progress=None):
    """Run a generator to its end; its return value. The index run's progress events it yields are shown
    on ``progress`` (a ``gr.Progress``), when given."""
    while True:
        try:
            step = next(generator)
        except StopIteration as done:
            return done.value
        if progress is not None and isinstance(step, ProgressEvent):
            if step.total:
                progress((min(step.done, step.total), step.total), desc=step.describe(), unit=step.stage.unit)
            else:
                progress(0, desc=step.describe())


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


CITE_TURN = re.compile(r'href="#(cite|rate)-\d+-')


def renumbered(answer: str, turn: int) -> str:
    """An answer whose turn moved: its citations and rating links name its new position."""
    return CITE_TURN.sub(lambda m: f'href="#{m.group(1)}-{turn}-', answer)


def _listed(value):
    """``value`` as it comes back from the page (JSON: tuples are lists), to compare with what it shows."""
    if isinstance(value, (list, tuple)):
        return [_listed(v) for v in value]
    return {k: _listed(v) for k, v in value.items()} if isinstance(value, dict) else value


def _offered(choices: list[tuple], chosen) -> dict:
    """A filter box's new choices, with the values chosen in it kept where still offered."""
    values = {v for _, v in choices}
    return gr.update(choices=choices, value=[v for v in chosen or [] if v in values])


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
