"""Reading behind a fence: each file is read, cleaned, parsed and cut in a worker process with a
wall-clock budget (``read_timeout``) and a memory cap (``read_memory_mb``, RLIMIT_AS).

Whatever a file does to its reader — any exception, a crash, a hang, a bomb — comes back as one
``ReadError`` naming the file and what is wrong, so the caller records it and goes on. The caller's
threads only wait on a pipe, so a web server keeps answering while a file is read. A worker past
its budget is killed with everything it started (OCR workers, LibreOffice: its session) and the
next file gets a fresh one; healthy workers are kept for the next file (spawning one costs ~1 s).
"""
from __future__ import annotations

import atexit
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

from ..config import ROOT
from ..errors import ReadError
from .document import Chunk, Document
from .readers import ReadOptions

log = logging.getLogger(__name__)
KEEP_IDLE = 2  # workers kept between files (one per caller thread that reads at the same time)
OUT_OF_MEMORY = 75  # a worker's exit status when a job did not fit under its memory cap


def _read(path: Path, source: str, data: bytes | None, options: ReadOptions, target: int, limit: int):
    from .pipeline import chunk_file, parse_file

    doc = parse_file(path, source, data=data, options=options)
    return doc, chunk_file(doc, path, target, limit, options)


def reason_for(exc: BaseException, options: ReadOptions) -> str:
    """One line saying what went wrong, for an error a reader did not name itself."""
    if isinstance(exc, MemoryError):
        return f"读取时内存超过上限（{options.read_memory_mb} MB，read_memory_mb）"
    if isinstance(exc, RecursionError):
        return "结构嵌套过深，无法读取（RecursionError）"
    text = " ".join(str(exc).split())
    return f"无法读取（{type(exc).__name__}{': ' + text[:200] if text else ''}）"


def _serve(conn, memory_mb: int) -> None:
    """The worker's loop: a job in, its document and chunks (or one line of error) out."""
    cap = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        while True:
            try:
                path, source, data, options, target, limit = conn.recv()
            except (EOFError, OSError):
                return
            except MemoryError:  # the file alone does not fit under the cap (and the stream is cut mid-message)
                os._exit(OUT_OF_MEMORY)
            if options.progress:  # a flag here: the events go back over the pipe
                options = replace(options, progress=lambda event: conn.send(("progress", event)))
            try:
                message = ("done", *_read(path, source, data, options, target, limit))
            except ReadError as exc:
                message = ("error", exc.reason, "")
            except BaseException as exc:  # noqa: BLE001 — any failure is the file's, named in one line
                message = ("error", reason_for(exc, options), traceback.format_exc())
            del data
            try:
                conn.send(message)
            except MemoryError:
                conn.send(("error", reason_for(MemoryError(), options), ""))
    finally:
        from .readers.ocr import _drop_pool

        _drop_pool()


class Worker:
    """One reader process, in a session of its own, and the socket to it.

    A plain ``python -c`` child, not multiprocessing's spawn, so the caller's main module is never
    imported again in it (a script without a ``__main__`` guard works)."""

    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "import sys; from retrieval.ingest.fence import main; main(sys.argv[1:])",
                 str(theirs.fileno()), str(memory_mb)], pass_fds=[theirs.fileno()], env=env, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # it speaks by the socket
        self.conn = Connection(ours.detach())

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the worker and every process of its session (OCR workers, LibreOffice)."""
        sid = self.process.pid
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getsid(int(entry)) == sid:
                        os.kill(int(entry), signal.SIGKILL)
                except OSError:  # gone meanwhile, or not ours to see
                    pass
        self.process.kill()
        self.process.wait()
        self.conn.close()


def main(argv: list[str]) -> None:
    """Entry point of a worker process: ``fd memory_mb``."""
    _serve(Connection(int(argv[0])), int(argv[1]))


_IDLE: list[Worker] = []
_ALL: set[Worker] = set()
_LOCK = threading.Lock()


def _take(memory_mb: int) -> Worker:
    with _LOCK:
        for worker in _IDLE:
            if worker.memory_mb == memory_mb and worker.alive():
                _IDLE.remove(worker)
                return worker
        worker = Worker(memory_mb)
        _ALL.add(worker)
        return worker


def _give_back(worker: Worker) -> None:
    with _LOCK:
        if len(_IDLE) < KEEP_IDLE:
            _IDLE.append(worker)
            return
        _ALL.discard(worker)
    worker.kill()


def _drop(worker: Worker) -> None:
    with _LOCK:
        _ALL.discard(worker)
    worker.kill()


@atexit.register
def stop_workers() -> None:
    """Kill every reader worker (at exit)."""
    with _LOCK:
        workers = list(_ALL)
        _ALL.clear()
        _IDLE.clear()
    for worker in workers:
        worker.kill()


def read_fenced(path: Path, source: str, data: bytes | None, options: ReadOptions,
                target: int, limit: int) -> tuple[Document, list[Chunk]]:
    """The parsed document and chunks of one file (``parse_file`` + ``chunk_file``), read in a
    worker process; ``ReadError`` for anything that goes wrong, the budget and cap named."""
    worker = _take(options.read_memory_mb)
    progress = options.progress
    job = (Path(path), source, data, replace(options, progress=True if progress else None), target, limit)
    deadline = time.monotonic() + options.read_timeout
    try:
        worker.conn.send(job)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _drop(worker)
                raise ReadError(path, f"读取超时（超过 {options.read_timeout:g} 秒，read_timeout），已中止")
            if not worker.conn.poll(min(left, 1.0)):
                continue
            message = worker.conn.recv()
            if message[0] == "progress":
                if progress:
                    progress(message[1])
                continue
            break
    except (EOFError, OSError):  # the worker died: killed by the system, or crashed in C code
        try:
            code = worker.process.wait(1)
        except subprocess.TimeoutExpired:
            code = None
        _drop(worker)
        if code == OUT_OF_MEMORY:
            raise ReadError(path, reason_for(MemoryError(), options)) from None
        how = f"信号 {signal.Signals(-code).name}" if code and code < 0 else f"退出码 {code}"
        raise ReadError(path, f"读取进程异常退出（{how}；可能超过内存上限 {options.read_memory_mb} MB，"
                              "read_memory_mb）") from None
    except BaseException:
        _drop(worker)  # interrupted mid-read: the worker's state is unknown
        raise
    if message[0] == "done":
        _give_back(worker)
        return message[1], message[2]
    if message[2]:
        log.debug("reading %s failed:\n%s", source, message[2])
    if "read_memory_mb" in message[1]:
        _drop(worker)  # after a MemoryError the worker may hold half-built state
    else:
        _give_back(worker)
    raise ReadError(path, message[1])
