"""The corpus folder: which files are reports, and their content hashes."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..config import SUPPORTED_SUFFIXES


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


OUTSIDE = "symlink leading out of the corpus (not followed)"


def corpus_files(corpus_dir: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Report files by name (relative to the corpus), and files skipped with a reason.

    Symlinks that lead out of the corpus are not followed and are reported, files and folders
    alike; symlinked folders inside it are not walked twice; hidden files are ignored.
    """
    root = corpus_dir.resolve()
    found: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(corpus_dir):
        for d in dirnames:
            path = Path(dirpath, d)
            if path.is_symlink() and not d.startswith(".") and not path.resolve().is_relative_to(root):
                skipped[path.relative_to(corpus_dir).as_posix()] = OUTSIDE
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not Path(dirpath, d).is_symlink())
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(corpus_dir).as_posix()
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                skipped[rel] = OUTSIDE
            elif path.is_symlink() and not path.exists():
                skipped[rel] = "broken symlink (its target does not exist)"
            elif path.is_file():
                found[rel] = path
    return found, skipped


