"""The background index worker (one run at a time, requests coalesce) and the corpus folder watcher."""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import SUPPORTED_SUFFIXES
from ..errors import CorpusMissing, IndexBusy, YanduError
from ..progress import ProgressEvent, Stage
from ..store import IndexReport

log = logging.getLogger(__name__)

INDEX_LOCK_TIMEOUT = 300  # seconds to wait for another process (e.g. `app.py index`) to finish writing
PROGRESS_LOG_EVERY = 5.0  # seconds between progress lines in the log
WATCH_DEBOUNCE = 2.0  # seconds of quiet in the corpus folder before re-indexing


@dataclass
class IndexRun:
    """The outcome of one index run, covering every request up to ticket `covers`."""

    covers: int
    report: IndexReport | None = None
    error: str | None = None
    needs_confirmation: bool = False  # the corpus is missing or empty: emptying the index needs a yes
    finished: float = field(default_factory=time.time)


class IndexWorker:
    """One thread that runs index updates, one at a time; requests made while it runs coalesce.

    `request()` returns a ticket; `wait(ticket)` returns the run that covered it. Searches never
    touch this object's lock, so they keep answering from the live generation during a run.
    ``app`` is anything with the facade's ``index(rebuild, progress, lock_timeout, force)``.
    """

    def __init__(self, app, lock_timeout: float = INDEX_LOCK_TIMEOUT):
        self.app = app
        self.lock_timeout = lock_timeout
        self._cond = threading.Condition()
        self._requested = 0
        self._started = 0
        self._rebuild = False
        self._force: set[str] = set()
        self._allow_empty = False
        self._runs: list[IndexRun] = []
        self.running = False
        self.progress = ProgressEvent(Stage.READING)
        self._pace = (time.monotonic(), 0)  # when the current stage began and how much was done then
        self._logged = 0.0
        self._thread = threading.Thread(target=self._loop, name="yandu-indexer", daemon=True)
        self._thread.start()

    def request(self, rebuild: bool = False, force: frozenset[str] = frozenset(), allow_empty: bool = False) -> int:
        """Ask for a run (a full rebuild, or reports to read again; ``allow_empty``: the user confirmed
        that an empty corpus folder may empty the index); returns the ticket to wait on."""
        with self._cond:
            self._requested += 1
            self._rebuild |= rebuild
            self._allow_empty |= allow_empty
            self._force |= set(force)
            self._cond.notify_all()
            return self._requested

    def wait(self, ticket: int, timeout: float | None = None) -> IndexRun | None:
        """The run covering `ticket`, or None if it has not finished within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                run = next((r for r in self._runs if r.covers >= ticket), None)
                if run is not None:
                    return run
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)

    def started(self, ticket: int) -> bool:
        """Whether the run that covers ``ticket`` has begun (until then ``progress`` is another run's)."""
        with self._cond:
            return self._started >= ticket

    @property
    def last_run(self) -> IndexRun | None:
        with self._cond:
            return self._runs[-1] if self._runs else None

    @property
    def busy(self) -> bool:
        """A run is going on or asked for."""
        with self._cond:
            return self.running or self._requested > self._started

    def eta(self) -> float | None:
        """Seconds the current stage still needs at its pace so far (None before there is a pace: work
        found done at once — cached vectors, say — says nothing about the rest)."""
        event, (since, done) = self.progress, self._pace
        if not self.running or not event.total or event.done <= done:
            return None
        return (time.monotonic() - since) * (event.total - event.done) / (event.done - done)

    def _on_progress(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if event.stage is not self.progress.stage:
            self._pace = (now, event.done)
        self.progress = event
        if now - self._logged >= PROGRESS_LOG_EVERY:  # the log shows a long run moving, not each step
            self._logged = now
            log.info("indexing: %s", event.describe())

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._requested <= self._started:
                    self._cond.wait()
                covers, rebuild, force, allow_empty = (self._requested, self._rebuild, frozenset(self._force),
                                                       self._allow_empty)
                self._started, self._rebuild, self._force, self._allow_empty = covers, False, set(), False
                self.running, self.progress = True, ProgressEvent(Stage.READING)
                self._pace = (time.monotonic(), 0)
            run = IndexRun(covers)
            try:
                run.report = self.app.index(rebuild=rebuild, progress=self._on_progress,
                                            lock_timeout=self.lock_timeout, force=force, allow_empty=allow_empty)
            except IndexBusy as e:
                run.error = f"索引正被其他进程更新，请稍后再试（{e}）"
            except CorpusMissing as e:  # the page asks the user to confirm before the index is emptied
                run.error, run.needs_confirmation = f"报告文件夹缺失或为空，索引未清空（{e}）", True
            except YanduError as e:  # disk full, read-only index folder …: one line, the live index is kept
                run.error = f"索引未更新（{e}）"
            except Exception as e:  # reported to the user; the worker keeps running
                log.exception("index run failed")
                run.error = f"索引失败：{type(e).__name__}: {e}"
            if run.report is not None:
                for line in run.report.lines():
                    log.info("index: %s", line)
            if run.error:
                log.error("index: %s", run.error)
            with self._cond:
                run.finished = time.time()
                self._runs = [*self._runs[-19:], run]
                self.running = False
                self._cond.notify_all()


INDEX_CHECK_EVERY = 5.0  # seconds between two looks at the index folder while serving
LOST_RETRY = 60.0  # seconds before a rebuild of a lost index that failed is asked for again


def keep_index(app, worker: IndexWorker, every: float = INDEX_CHECK_EVERY) -> threading.Event:
    """Look at the index folder every ``every`` seconds; when it was deleted under the server (the
    snapshot in memory keeps answering: ``Yandu.index_lost``) ask the worker to build it again.
    Returns the event that stops it."""
    stop = threading.Event()

    def loop() -> None:
        asked = None
        while not stop.wait(every):
            try:
                app.searcher.snapshot()  # notices a deleted folder
                lost = app.index_lost
            except Exception as e:  # the status shows it; keep looking
                log.debug("index check: %s", e)
                continue
            if lost and not worker.busy and (asked is None or time.monotonic() - asked > LOST_RETRY):
                log.warning("the index folder %s was deleted: answering from the index in memory; rebuilding it "
                            "from the corpus", lost)
                asked = time.monotonic()
                worker.request()
            elif not lost:
                asked = None

    threading.Thread(target=loop, name="yandu-index-keeper", daemon=True).start()
    return stop


class CorpusWatcher:
    """watchdog observer on the corpus folder: files appearing, changing or leaving → one re-index."""

    RELEVANT = {"created", "deleted", "moved", "modified", "closed"}  # not opened / closed_no_write

    def __init__(self, corpus_dir: Path, worker: IndexWorker, debounce: float = WATCH_DEBOUNCE):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.worker, self.debounce = worker, debounce
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in CorpusWatcher.RELEVANT and watcher.relevant(event):
                    watcher.poke()

        self.observer = Observer()
        self.observer.schedule(Handler(), str(corpus_dir), recursive=True)

    @staticmethod
    def relevant(event) -> bool:
        """A report file (not hidden, a supported suffix), or a folder deleted or moved."""
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if event.is_directory:
            return event.event_type in ("deleted", "moved")
        for p in paths:
            name = os.path.basename(os.fsdecode(p))
            if name and not name.startswith(".") and os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                return True
        return False

    def poke(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.worker.request)
            self._timer.daemon = True
            self._timer.start()

    def start(self) -> None:
        self.observer.daemon = True
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
