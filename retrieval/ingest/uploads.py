"""Adding files to the corpus: safe names, content hashes, and saving uploads without losing anything.

Invariants: a saved file never replaces an existing one (two uploads racing for one name both
survive); a file whose content is already in the corpus is not copied again; a half-copied upload
is never visible as a report (it is written hidden, then linked into place).
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import SUPPORTED_SUFFIXES
from ..errors import os_reason
from .corpus import corpus_files, sha256_file

MAX_NAME_BYTES = 200
_UNSAFE = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def safe_filename(name: str) -> str:
    """A plain file name for the corpus: no folders, no `..`, no control characters; Chinese kept.

    Returns "" when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", str(name))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip()
    name = name.lstrip(". ")  # no hidden files, no "..": the corpus ignores and forbids them
    stem, suffix = os.path.splitext(name)
    stem = re.sub(r"\s+", " ", stem).rstrip(". ")
    suffix = suffix.lower()
    if not suffix and stem.lower() in {s[1:] for s in SUPPORTED_SUFFIXES}:
        return ""
    while stem and len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    if not stem:
        stem = "报告"
    return stem + suffix


def place_file(part: Path, folder: Path, name: str) -> Path:
    """Give the finished file `part` its name in `folder`, never replacing an existing file.

    `os.link` fails if the name is taken, so two files racing for one name both survive.
    """
    stem, suffix = os.path.splitext(name)
    for n in range(1, 10_000):
        target = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        try:
            os.link(part, target)
        except FileExistsError:
            continue
        part.unlink()
        return target
    raise OSError(f"too many files named {name}")


def corpus_hashes(corpus_dir: Path, known: dict[str, dict] | None = None, known_at: float = 0.0) -> dict[str, str]:
    """sha256 → file name for every report in the corpus.

    ``known`` (name → {"size", "sha256"}, e.g. the index manifest's files, valid as of ``known_at``)
    saves hashing files that have not changed since.
    """
    files, _ = corpus_files(corpus_dir)
    out: dict[str, str] = {}
    for name, path in files.items():
        entry = (known or {}).get(name)
        st = path.stat()
        if entry and entry.get("size") == st.st_size and st.st_mtime <= known_at:
            sha = entry["sha256"]
        else:
            sha = sha256_file(path)
        out.setdefault(sha, name)
    return out


@dataclass
class Upload:
    """What happened to one offered file."""

    original: str  # the name it was offered under
    name: str = ""  # its name in the corpus when saved (or the file it duplicates)
    outcome: str = ""  # "saved", "duplicate", "rejected"
    reason: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def save_uploads(corpus_dir: Path, paths: list[str | Path], max_file_mb: float,
                 known: dict[str, str] | None = None) -> list[Upload]:
    """Copy files into the corpus under safe names; content already there (``known``: sha → name,
    from :func:`corpus_hashes`) is not copied twice."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    known = dict(known if known is not None else corpus_hashes(corpus_dir))
    results = []
    for tmp in paths:
        tmp_path = Path(tmp)
        up = Upload(original=tmp_path.name)
        results.append(up)
        name = safe_filename(tmp_path.name)
        suffix = os.path.splitext(name)[1]
        if not name or suffix not in SUPPORTED_SUFFIXES:
            up.outcome, up.reason = "rejected", f"不支持的文件类型（支持 {' '.join(SUPPORTED_SUFFIXES)}）"
            continue
        try:
            size = tmp_path.stat().st_size
        except OSError:
            up.outcome, up.reason = "rejected", "上传的文件已不存在，请重新上传"
            continue
        if size > max_file_mb * 1024 * 1024:
            up.outcome, up.reason = "rejected", f"文件超过 {max_file_mb:g} MB"
            continue
        if size == 0:
            up.outcome, up.reason = "rejected", "空文件"
            continue
        sha = sha256_file(tmp_path)
        if sha in known:
            up.outcome, up.name = "duplicate", known[sha]
            continue
        part = corpus_dir / f".upload-{os.getpid()}-{threading.get_ident()}.part"  # hidden: not a report yet
        try:
            shutil.copyfile(tmp_path, part)
            target = place_file(part, corpus_dir, name)
        except OSError as e:
            part.unlink(missing_ok=True)
            up.outcome, up.reason = "rejected", f"无法保存（{os_reason(e)}）"
            continue
        known[sha] = target.name
        up.outcome, up.name = "saved", target.name
    return results
