"""Serving: check the binding and credentials, launch the page, bring the index up to date behind it.

Auth, binding and launch options live here and only here. The server listens at once: the index is
updated by the background worker while the last good index answers, and an update that fails
(a missing corpus, a full disk, another writer) is shown in the status panel, never fatal.
Sign-in (``signin``) is on once an account exists in ``bases_dir/access.sqlite`` (``app.py user add``)
or ``--auth user:password`` is given (that user is an admin); then every route needs a session, each
user reaches only the knowledge bases granted to them (``gate``), and the audit log
(``bases_dir/audit.sqlite``) records who did what. Without either, ``python app.py`` on 127.0.0.1 asks
nothing, as before departments existed.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager
from functools import partial

import hmac

import gradio as gr
from starlette.middleware import Middleware

from ..access import AccessStore, AuditLog, LdapDirectory, Principal, TokenStore
from ..access.sessions import Sessions

from ..config import Settings
from ..encode import load_in_background
from ..engine import Yandu
from ..store.backend import read_failure
from ..text import load_dictionaries
from .eventqueue import lighten
from .gate import Gate
from .locale import GRADIO_ZH, ChineseUI
from .handlers import WebApp
from .signin import SignIn, SignInPages
from .tokenapi import TokenApi
from .layout import CSS, JS, build, theme
from .temp import start_upload_expiry, take_over_temp
from .worker import CorpusWatcher, keep_index

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def build_app(app: Yandu, watch: bool = False, gate: Gate | None = None) -> tuple[gr.Blocks, WebApp]:
    web = WebApp(app, watch=watch, gate=gate)
    return build(web), web


def departments(settings: Settings, credentials: tuple[str, str] | None,
                port: int | None = None) -> tuple[Gate, SignIn | None]:
    """The gate and sign-in of a server: open (no account, no --auth) or signed (see the module docstring)."""
    path = settings.bases_dir / "access.sqlite"
    store = AccessStore(path) if path.exists() else None
    if store is not None and not store.has_accounts() and not settings.ldap_url:
        store.close()
        store = None
    if store is None and credentials is None and not settings.ldap_url:
        return Gate(), None
    settings.bases_dir.mkdir(parents=True, exist_ok=True)
    audit = AuditLog(settings.bases_dir / "audit.sqlite")
    if store is not None or settings.ldap_url:  # LDAP alone: its users' groups are granted in the store
        store = AccessStore(path, audit=audit)
    directory = LdapDirectory.from_settings(settings)
    sessions = Sessions(settings.session_ttl, settings.idle_ttl)

    def authenticate(name: str, password: str) -> Principal | None:
        if credentials is not None and name == credentials[0]:  # --auth: an admin, kept in memory only
            ok = hmac.compare_digest(password.encode(), credentials[1].encode())
            return Principal(name, admin=True, source="auth") if ok else None
        return store.authenticate(name, password, directory) if store is not None else None

    def on_event(user: str, action: str, client: str, target: str | None = None, base: str | None = None) -> None:
        try:
            audit.record(user, action, base=base, target=target, client=client)
        except Exception:
            log.exception("audit entry not written: %s %s", user, action)

    gate = Gate(sessions, store, audit)
    return gate, SignIn(authenticate, sessions, on_event=on_event, port=port)


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
    load_dictionaries()  # …and the word lists a question reads, before the first question, not during it


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
    gate, signin = departments(settings, credentials, port)
    if host not in LOOPBACK and signin is None:
        log.error("error: refusing to serve on %s: anyone who can reach this machine could read and add reports. "
                  "Create an account (python app.py user add NAME --admin), give --auth user:password (or set "
                  "YANDU_AUTH), or use the default --host 127.0.0.1.", host)
        return 2
    # Uvicorn rewrites the client's address from X-Forwarded-For only for the proxies named here (its
    # default trusts 127.0.0.1, so any local client could pick its address and escape the sign-in throttle).
    os.environ["FORWARDED_ALLOW_IPS"] = settings.trusted_proxies

    if why := _unusable_index(settings):
        log.error("error: %s", why)
        return 1
    take_over_temp()  # before the page is built: Gradio's uploads go to this process's own folder
    app = Yandu(settings)
    log.info("Yandu: corpus %s, index %s; model %s", settings.corpus_dir, settings.store_dir, settings.model)
    demo, web = build_app(app, watch=watch, gate=gate)
    if signin is not None:
        signin.served = web.served
        log.info("sign-in required: %s", "accounts in " + str(settings.bases_dir / "access.sqlite")
                 if gate.store is not None else "--auth")
    for base in web.bases.names()[1:]:  # every other knowledge base's index brought up to date too
        web.worker_of(base)
    # The model first (converted on the first start: 1–2 minutes, logged as it goes), then the index run
    # (which waits for it); the page answers from the last good index meanwhile, and a question asked
    # before the first index is ready waits for it, showing the stage (WebApp.readiness).
    web.model_wait = (time.monotonic(), 0.0)  # "preparing" from the first request on, before the thread runs
    load_in_background(partial(_prepare_model, web), "yandu-model")
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
        # status_update_rate: where calls wait, their place in the queue is sent every second, not to every waiting
        # call after each call ends (with 16 callers ~14 messages per search: CPU per search 14.2 → 9.4 ms, 18.2 →
        # 16.6 ms in two side-by-side runs, docs/BENCHMARKS.md issue #24)
        demo.queue(default_concurrency_limit=2, status_update_rate=1)
        lighten(demo)  # no monitoring summary per event, less polling between events (eventqueue)
        # quiet: Gradio's own banner would suggest share=True, meaningless offline; the line above says where.
        demo.launch(server_name=host, server_port=port,
                    auth_dependency=signin.user if signin is not None else None,
                    max_file_size=f"{settings.max_file_mb:g}mb", theme=theme(), css=CSS, js=JS, footer_links=["api"],
                    ssr_mode=False, show_error=True, inbrowser=False, share=False, quiet=True,
                    enable_monitoring=False,  # its per-event summary is switched off (eventqueue)
                    mcp_server=False,  # never Gradio's own (GRADIO_MCP_SERVER): its tools list and calls skip the login
                    # Gradio's run history kept every run's inputs and outputs — the whole chat, again after each
                    # answer — in the browser's storage: it filled it (the conversation's copy stopped saving),
                    # slowed each answer as the chat grew, and outlived 清空对话.
                    run_history=False,
                    i18n=gr.I18n(**{"zh-CN": GRADIO_ZH}),
                    app_kwargs={"middleware": [Middleware(TokenApi, web=web,  # /api/v1 and /mcp: token holders
                                                          tokens=TokenStore(gate.store) if gate.store else None),
                                               Middleware(ChineseUI),
                                               *([Middleware(SignInPages, signin=signin)] if signin else [])]})
    except OSError as e:
        log.error("error: cannot serve on %s:%s: %s", host, port, e)
        return 1
    finally:
        if watcher is not None:
            watcher.stop()
    return 0
