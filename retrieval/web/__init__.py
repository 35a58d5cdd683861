"""The web chat (Gradio): layout, handlers, rendering, the background index worker, serving."""
from .ui import build_app, serve

__all__ = ["build_app", "serve"]
