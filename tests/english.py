"""English left in what a Chinese page shows: the words a scan finds once names are set aside.

Set aside, as not to be translated: file names and suffixes (``.docx``), code and identifiers
(`multilingual-e5-small`, ``section_types``), HTML markup, the product's name and a few words every
Chinese office uses as they are (Markdown, Word, API, MB, OCR).
"""
from __future__ import annotations

import re

KEPT = {"yandu", "markdown", "word", "api", "mb", "kb", "ocr", "docx", "pdf", "wps", "ofd", "gradio"}
_MARKUP = re.compile(r"<[^>]*>|&[a-z]+;|&#\d+;")
_CODE = re.compile(r"`[^`]*`")
_FILE = re.compile(r"[^\s`\"'“”（）()：:，,、；;|]+\.[A-Za-z0-9]{1,5}\b|\.[A-Za-z0-9]{2,5}\b")
_IDENT = re.compile(r"\b[A-Za-z]+(?:[_-][A-Za-z0-9]+)+\b")
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_left(text: str) -> list[str]:
    """The English words of ``text`` a user would read (see the module docstring)."""
    text = _CODE.sub(" ", _MARKUP.sub(" ", str(text)))
    text = _IDENT.sub(" ", _FILE.sub(" ", text))
    return [w for w in _WORD.findall(text) if w.lower() not in KEPT]


# Values that are codes for programs, not words for people (API fields, chat roles, file names).
CODES = {"__type__", "role", "kind", "outcome", "section_type", "state", "stage", "source", "base", "key", "name", "original",
         "duplicate_of", "why", "model", "trashed", "bases", "section_types"}


def strings_in(value) -> list[str]:
    """Every string a person reads inside a handler's outputs (tuples, lists, dicts, Gradio updates)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in CODES for s in strings_in(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_in(v)]
    return []
