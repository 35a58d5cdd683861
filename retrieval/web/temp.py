"""Temporary files of a serving process: its own folders, named by its process id, so the next start
can sweep what a killed one left; raw uploads that no request claimed expire within minutes.

    <temp>/yandu-<pid>/gradio/   Gradio's uploads and output copies (GRADIO_TEMP_DIR for this process)
    <temp>/yandu-<pid>/export/   conversation exports (Markdown, Word) and originals offered for download

``<temp>`` is the system's temporary folder, or the GRADIO_TEMP_DIR the operator set.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

SWEEP_EVERY = 60  # seconds between two sweeps of unclaimed uploads (at most; half the TTL when that is shorter)
LEGACY_AGE = 3600  # seconds untouched after which an export folder of an older version (no pid) is swept
_OURS = re.compile(r"yandu-(\d+)$")
_LEGACY = re.compile(r"yandu-export-[^/]+$")  # mkdtemp names of earlier versions: no process id


def temp_root() -> Path:
    return Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_left_behind(root: Path, now: float | None = None) -> list[Path]:
    """Remove from ``root`` the folders of serving processes that are gone (and export folders of older
    versions untouched for an hour); returns what was removed. A running process's folders stay."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        ours = _OURS.match(entry.name)
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if ours:
                stale = int(ours.group(1)) != os.getpid() and not alive(int(ours.group(1)))
            else:
                stale = bool(_LEGACY.match(entry.name)) and now - entry.stat(follow_symlinks=False).st_mtime > LEGACY_AGE
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    if removed:
        log.info("removed %d temporary folder(s) left by stopped servers in %s", len(removed), root)
    return removed


_folder: Path | None = None


def process_folder() -> Path:
    """This process's temporary folder (made on first use, in the temp root of that moment)."""
    global _folder
    if _folder is None:
        _folder = temp_root() / f"yandu-{os.getpid()}"
    (_folder / "gradio").mkdir(parents=True, exist_ok=True)
    (_folder / "export").mkdir(exist_ok=True)
    return _folder


def take_over_temp() -> Path:
    """At a server's start: sweep what stopped servers left (in the temp root and the system's temp
    folder), then send Gradio's uploads to this process's folder (removed at exit)."""
    for root in dict.fromkeys((temp_root(), Path(tempfile.gettempdir()))):
        sweep_left_behind(root)
    folder = process_folder()
    os.environ["GRADIO_TEMP_DIR"] = str(folder / "gradio")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def expire_uploads(uploaded: set, age: float, now: float | None = None) -> int:
    """Delete uploads (Gradio's ``Blocks.upload_file_set``) older than ``age`` seconds, and their emptied
    folders; returns how many. Uploads a request handled are gone already (``discard_uploads``)."""
    now = time.time() if now is None else now
    gone = 0
    for name in list(uploaded):
        path = Path(name)
        try:
            if now - path.lstat().st_ctime <= age:
                continue
            path.unlink()
            gone += 1
        except FileNotFoundError:
            pass
        except OSError:
            continue
        uploaded.discard(name)
        try:
            path.parent.rmdir()  # Gradio keeps each upload in a folder of its own
        except OSError:
            pass
    return gone


def start_upload_expiry(uploaded: set, age: float) -> threading.Event:
    """Expire unclaimed uploads (``Settings.upload_ttl``) in a daemon thread; set the returned event to stop."""
    stop, every = threading.Event(), min(SWEEP_EVERY, age / 2)

    def loop() -> None:
        while not stop.wait(every):
            if n := expire_uploads(uploaded, age):
                log.info("removed %d upload(s) no request claimed within %.0f s", n, age)

    threading.Thread(target=loop, name="yandu-upload-expiry", daemon=True).start()
    return stop
