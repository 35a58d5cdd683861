"""Serving: check the binding and credentials, launch the page, bring the index up to date behind it.

Auth, binding and launch options live here and only here. The server listens at once: the index is
updated by the background worker while the last good index answers, and an update that fails
(a missing corpus, a full disk, another writer) is shown in the status panel, never fatal.
With ``--auth`` the login page shows nothing of the corpus and login attempts are throttled
(``guard``).
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager

import gradio as gr
from starlette.middleware import Middleware

from ..config import Settings
from ..engine import Yandu
from ..store.backend import read_failure
from .guard import AuthGuard
from .locale import GRADIO_ZH, ChineseUI
from .handlers import WebApp
from .layout import CSS, JS, build, theme
from .temp import start_upload_expiry, take_over_temp
from .worker import CorpusWatcher, keep_index

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def build_app(app: Yandu, watch: bool = False) -> tuple[gr.Blocks, WebApp]:
    web = WebApp(app, watch=watch)
    return build(web), web


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` → (user, password); raises ValueError for anything else."""
    if auth is None or auth == "":
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth / YANDU_AUTH must look like user:password (both non-empty)")
    return user, password


@contextmanager
def heartbeat(what: str, every: float = 10.0):
    """Log `what` with the seconds spent every `every` seconds while the block runs (first start:
    converting the model and indexing take a minute or more, and must not look like a hang)."""
    stop, start = threading.Event(), time.monotonic()

    def beat():
        while not stop.wait(every):
            log.info("%s … %.0f s", what, time.monotonic() - start)

    thread = threading.Thread(target=beat, name="yandu-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        log.info("%s: done in %.0f s", what, time.monotonic() - start)


def _prepare_model(web: WebApp) -> None:
    """Load (on the first start: convert) the embedding model, saying how long it has been at it (in the
    log, and on the page: ``WebApp.readiness``)."""
    try:
        with heartbeat(f"preparing the embedding model {web.settings.model} (the first start converts it: 1–2 minutes)"):
            web.prepare_model()
    except Exception as e:  # the index run meets it too and shows it in the status panel
        log.error("error: cannot load the embedding model: %s", e)


def _unusable_index(settings: Settings) -> str | None:
    """Why the local index folder can never work (a file stands where it should be), or None."""
    if settings.store_kind != "local":
        return None
    for folder in (settings.index_dir, settings.store_dir):
        if folder.exists() and not folder.is_dir():
            return read_failure(folder, NotADirectoryError(folder))
    return None


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          watch: bool = False) -> int:
    """Check the binding, bring the index up to date, and run the web app until interrupted."""
    try:
        credentials = parse_auth(auth if auth else os.environ.get("YANDU_AUTH"))
    except ValueError as e:
        log.error("error: %s", e)
        return 2
    if host not in LOOPBACK and credentials is None:
        log.error("error: refusing to serve on %s: anyone who can reach this machine could read and add reports. "
                  "Give --auth user:password (or set YANDU_AUTH), or use the default --host 127.0.0.1.", host)
        return 2

    if why := _unusable_index(settings):
        log.error("error: %s", why)
        return 1
    take_over_temp()  # before the page is built: Gradio's uploads go to this process's own folder
    app = Yandu(settings)
    log.info("Yandu: corpus %s, index %s; model %s", settings.corpus_dir, settings.store_dir, settings.model)
    demo, web = build_app(app, watch=watch)
    # The model first (converted on the first start: 1–2 minutes, logged as it goes), then the index run
    # (which waits for it); the page answers from the last good index meanwhile, and a question asked
    # before the first index is ready waits for it, showing the stage (WebApp.readiness).
    web.model_wait = (time.monotonic(), 0.0)  # "preparing" from the first request on, before the thread runs
    threading.Thread(target=_prepare_model, args=(web,), name="yandu-model", daemon=True).start()
    web.worker.request()  # in the background: the page answers from the last good index meanwhile
    keep_index(app, web.worker)  # an index folder deleted under the server is rebuilt
    start_upload_expiry(demo.upload_file_set, settings.upload_ttl)  # raw uploads no request claimed: gone within minutes
    watcher = None
    if watch:
        try:
            watcher = CorpusWatcher(settings.corpus_dir, web.worker)
            watcher.start()
            log.info("watching %s for reports appearing or leaving", settings.corpus_dir)
        except OSError as e:  # a missing corpus folder: serve anyway, say why nothing is watched
            watcher = None
            log.warning("cannot watch %s (%s); serving without --watch", settings.corpus_dir, e.strerror or e)
    shown = "localhost" if host in LOOPBACK else host
    log.info('Yandu (研读) on http://%s:%s/  (API: Client(url).predict("问题", 5, api_name="/search"))', shown, port)
    if threading.current_thread() is threading.main_thread():
        # `kill PID` shuts down like Ctrl-C: the server closes and temporary exports are removed.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.queue(default_concurrency_limit=2)
        # quiet: Gradio's own banner would suggest share=True, meaningless offline; the line above says where.
        demo.launch(server_name=host, server_port=port, auth=credentials, auth_message="研读 · 请登录",
                    max_file_size=f"{settings.max_file_mb:g}mb", theme=theme(), css=CSS, js=JS, footer_links=["api"],
                    ssr_mode=False, show_error=True, inbrowser=False, share=False, quiet=True,
                    i18n=gr.I18n(**{"zh-CN": GRADIO_ZH}),
                    app_kwargs={"middleware": [Middleware(ChineseUI), *([Middleware(AuthGuard)] if credentials else [])]})
    except OSError as e:
        log.error("error: cannot serve on %s:%s: %s", host, port, e)
        return 1
    finally:
        if watcher is not None:
            watcher.stop()
    return 0
