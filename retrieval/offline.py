"""The air gap, in one explicit place: no model hub, no telemetry, no analytics — ever.

Called before any model or web library is imported (``app.py``, ``encode.load``, ``web``); the
variables are read by those libraries at import time. Idempotent; a user's own values win.
"""
from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no "Loading weights" bar on every start
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def enforce_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
