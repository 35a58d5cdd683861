"""Zip packages (.docx, .ofd) opened within limits: parts, uncompressed bytes, XML bytes.

A zip member never yields more than its declared size (``zipfile`` stops there and checks the
CRC), so checking the directory before anything is inflated bounds the work a package can cause.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ...errors import ReadError
from .options import ReadOptions


PACKAGE_NAMES = {".docx": "a Word .docx", ".ofd": "an OFD"}


def open_package(path: Path, data: bytes, options: ReadOptions, kind: str) -> zipfile.ZipFile:
    """The zip of a package whose parts fit the limits; ``ReadError`` otherwise."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReadError(path, f"corrupt {kind} (not {PACKAGE_NAMES[kind]} package)") from exc
    if len(members) > options.max_parts:
        raise ReadError(path, f"too many parts in the {kind} package ({len(members)}; limit {options.max_parts})")
    unpacked = sum(m.file_size for m in members)
    if unpacked > options.max_unpacked_mb * 2**20:
        raise ReadError(path, f"{kind} unpacks to {unpacked / 2**20:.0f} MB "
                              f"(limit {options.max_unpacked_mb:g} MB; a decompression bomb?)")
    xml = sum(m.file_size for m in members if m.filename.lower().endswith((".xml", ".rels")))
    if xml > options.max_xml_mb * 2**20:
        raise ReadError(path, f"{kind} holds {xml / 2**20:.0f} MB of XML "
                              f"(limit {options.max_xml_mb:g} MB; a decompression bomb?)")
    return package


class TextBudget:
    """Counts characters as a reader produces them; over ``max_chars`` it stops the read."""

    def __init__(self, path: Path, options: ReadOptions):
        self.path, self.limit, self.used = path, options.max_chars, 0

    def take(self, text: str) -> str:
        self.used += len(text)
        if self.used > self.limit:
            raise ReadError(self.path, f"more than {self.limit:,} characters of text (limit max_chars)")
        return text
