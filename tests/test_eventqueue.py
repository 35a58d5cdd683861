"""Gradio's queue, lightened (retrieval/web/eventqueue.py): every event still runs, once, within its
concurrency limit; no monitoring summary is built; a queue without the settings is left alone."""
from __future__ import annotations

import logging
import socket
import threading
import time
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio_client import Client

from retrieval.web.eventqueue import SETTINGS, lighten


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    running = {"now": 0, "most": 0, "calls": 0}
    lock = threading.Lock()

    def double(n: int) -> int:
        with lock:
            running["now"] += 1
            running["calls"] += 1
            running["most"] = max(running["most"], running["now"])
        time.sleep(0.02)  # long enough for callers to overlap
        with lock:
            running["now"] -= 1
        return 2 * n

    def echo(text: str) -> str:
        return text

    with gr.Blocks() as demo:
        gr.api(double, api_name="double", concurrency_limit=1)
        gr.api(echo, api_name="echo", concurrency_limit=None)
    demo.queue(default_concurrency_limit=2)
    assert lighten(demo)
    port = _port()
    demo.launch(server_name="127.0.0.1", server_port=port, quiet=True, ssr_mode=False, mcp_server=False,
                enable_monitoring=False, prevent_thread_lock=True)
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", running=running, queue=demo._queue)
    finally:
        demo.close()


@pytest.mark.slow  # a real Gradio server
def test_every_event_answered_once_within_its_limit(served):
    answers, errors = {}, []

    def caller(k: int) -> None:
        client = Client(served.url, verbose=False)
        for n in range(k * 10, k * 10 + 5):
            try:
                answers[n] = client.predict(n, api_name="/double")
                assert client.predict(f"问{n}", api_name="/echo") == f"问{n}"
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(repr(e))

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert answers == {n: 2 * n for k in range(4) for n in range(k * 10, k * 10 + 5)}
    assert served.running["calls"] == 20  # each event ran once
    assert served.running["most"] == 1  # concurrency_limit=1 held while four callers overlapped


@pytest.mark.slow  # a real Gradio server
def test_no_monitoring_summary_is_built(served):
    client = Client(served.url, verbose=False)
    before = served.queue.events_recorded
    for n in range(5):
        assert client.predict(n, api_name="/double") == 2 * n
    assert served.queue.events_recorded >= before + 5  # the events went through this queue
    assert served.queue.cached_event_analytics_summary == {"functions": {}}  # never summarised
    assert served.queue.event_count_at_last_cache == 0
    assert len(served.queue.event_analytics) <= 1


def test_the_settings_are_applied_to_gradios_queue():
    with gr.Blocks() as demo:
        gr.Textbox()
    demo.queue()
    queue = demo._queue
    assert queue.sleep_when_free < SETTINGS["sleep_when_free"]  # Gradio's own: this Gradio has the setting
    assert lighten(demo)
    assert {name: getattr(queue, name) for name in SETTINGS} == SETTINGS


def test_an_unknown_queue_is_left_alone(caplog):
    queue = SimpleNamespace(sleep_when_free=0.001, push=None)
    with caplog.at_level(logging.WARNING, logger="retrieval.web.eventqueue"):
        assert lighten(SimpleNamespace(_queue=queue)) is False
    assert vars(queue) == {"sleep_when_free": 0.001, "push": None}
    assert "ANAYLTICS_CACHE_FREQUENCY" in caplog.text
    assert lighten(SimpleNamespace()) is False  # no queue at all (demo.queue() not called)
