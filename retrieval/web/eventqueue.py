"""Gradio's event queue with less work between and after events (issue #24: CPU per search).

Only the queue's own settings are changed, after ``demo.queue(…)`` and before ``launch``; what each
event does is Gradio's code. Gradio 6.31's queue (``gradio.queueing.Queue``) otherwise spends CPU on:

- **the monitoring summary**: after every event a pandas DataFrame of the last 10 000 events,
  grouped, with percentiles, for Gradio's monitoring dashboard — 7–9 CPU-ms per event with a few
  hundred events kept, 22 ms with 10 000 (measured in-process at load ≈ 10). The dashboard is not
  offered here (``launch(enable_monitoring=False)``): the summary is never rebuilt, one event is kept;
- **polling**: its dispatch loop looks for a waiting event every ``sleep_when_free`` (1 ms) and its
  progress loop every ``progress_update_sleep_when_free`` (10 ms), busy or idle. Looking less often
  adds at most one interval to an event's start (progress: to a progress message, of which only
  the latest is sent anyway). The intervals below are measured (docs/BENCHMARKS.md, issue #24).
"""
from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)

SETTINGS = {
    "ANAYLTICS_CACHE_FREQUENCY": sys.maxsize,  # (sic: Gradio's spelling) events between summaries: never
    "ANALYTICS_MAX_EVENTS": 1,  # events kept for the summary
    # s between looks for a waiting event (Gradio: 0.001). Idle server, CPU-ms per s (with the progress
    # interval below; two rounds, load 6–11): 1 ms 65–75, 5 ms 37–42, 10 ms 23–31, 20 ms 11–16; CPU per
    # search (16 clients, searches only) 19–20 ms at 10 ms, within the runs' spread of the others.
    "sleep_when_free": 0.01,
    "progress_update_sleep_when_free": 0.1,  # s between progress messages of a running event (Gradio: 0.01)
}


def lighten(demo) -> bool:
    """Apply ``SETTINGS`` to ``demo``'s queue; False, with a warning and the queue left as Gradio
    made it, if this Gradio's queue lacks any of them (another version)."""
    queue = getattr(demo, "_queue", None)
    missing = [name for name in SETTINGS if not hasattr(queue, name)]
    if missing:
        log.warning("Gradio's queue has no %s: left as it is (monitoring summary and 1 ms polling on)",
                    ", ".join(missing))
        return False
    for name, value in SETTINGS.items():
        setattr(queue, name, value)
    return True
