"""The corpus folder: which files are reports, what users call them, and reading them safely.

Names: a report's name is its path inside the corpus as users see it — bytes that are not UTF-8
(common after unzipping a Chinese archive on Linux) as ``\\xNN``, control characters and line
separators as escapes (``\\n``, ``\\x1b``, ``\\u2028``), a backslash as ``\\\\``. The escaping is
one-to-one, so names stay distinct, and a name printed anywhere is one line that forges nothing.

Reading: :func:`read_report` opens a file once, from the corpus folder down, refusing a symlink
at every step (``O_NOFOLLOW``), checks the opened file (a regular file, within the size limit),
and returns its bytes with their hash: what is hashed is what is parsed. Swapping a file for a
link to one outside the corpus between the listing and the read is refused, not followed.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..config import SUPPORTED_SUFFIXES
from ..errors import ReadError


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


OUTSIDE = "symlink leading out of the corpus (not followed)"
LOOP = "符号链接成环（ELOOP：链接最终指回自己），已跳过"


def _loops(path: str) -> bool:
    """Whether following the symlink at ``path`` never ends (ELOOP)."""
    try:
        os.stat(path)
    except OSError as e:
        return e.errno == errno.ELOOP
    return False
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # can reorder what a line shows
# every character one_line escapes: categories Cc, Cs (surrogates, undecodable bytes too), Zl, Zp; bidi
_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def escape_name(name: str) -> str:
    """A file name (as ``os`` gives it: undecodable bytes as surrogates) safe to show on one line;
    one-to-one (a backslash is doubled), so it serves as the report's name."""
    return one_line(name.replace("\\", "\\\\"))


def one_line(text: str) -> str:
    """Any text shown where a line break or terminal control would forge output: control characters,
    line separators, bidi overrides and undecodable bytes escaped; everything else, backslashes too,
    kept (so an already escaped name is unchanged)."""
    if not _ESCAPED.search(text):  # the usual name: nothing to escape (22 000 names: 1.2 s → 0.03 s)
        return text
    out = []
    for ch in text:
        if "\udc80" <= ch <= "\udcff":  # a byte that is not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xdc00:02x}")
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def corpus_files(corpus_dir: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Report files by name (escaped path inside the corpus), and files skipped with a reason.

    Each path is where the report lives inside the corpus (a symlink inside it resolved to its
    target). Symlinks that lead out of the corpus, and links in a loop, are not followed and are
    reported, files and folders alike; symlinked folders inside it are not walked twice; hidden files are ignored.
    A missing folder has no files (the indexer decides what that means). Order: each folder's files,
    then its sub-folders, by name. One ``scandir`` per folder and no ``stat`` for plain files (22 000
    files: 0.3 s; pathlib per file took 1.1 s idle, 3.9 s at load).
    """
    root = corpus_dir.resolve()
    found: dict[str, Path] = {}
    skipped: dict[str, str] = {}

    def walk(folder: str, rel: str) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            return
        folders = []
        for e in entries:
            name = rel + e.name
            if e.is_symlink() and _loops(e.path):  # "a -> b -> a": no target at all
                skipped[escape_name(name)] = LOOP
            elif e.is_symlink() and e.is_dir():
                if not Path(e.path).resolve().is_relative_to(root):
                    skipped[escape_name(name)] = OUTSIDE
            elif e.is_dir(follow_symlinks=False):
                folders.append(e)
            elif os.path.splitext(e.name)[1].lower() not in SUPPORTED_SUFFIXES:
                continue
            elif e.is_symlink():
                target = Path(e.path).resolve()
                if not target.is_relative_to(root):
                    skipped[escape_name(name)] = OUTSIDE
                elif not target.exists():
                    skipped[escape_name(name)] = "broken symlink (its target does not exist)"
                elif target.is_file():
                    found[escape_name(name)] = target
            elif e.is_file(follow_symlinks=False):
                found[escape_name(name)] = root / name
        for e in folders:
            walk(e.path, rel + e.name + "/")

    walk(os.fspath(corpus_dir), "")
    return found, skipped


class FileMoved(ReadError):
    """A file that vanished or changed while the run used it: skipped now, picked up next run."""


@dataclass(frozen=True)
class ReportBytes:
    """A report's bytes as read once, with what identifies that version of the file."""

    data: bytes
    sha256: str
    size: int
    mtime_ns: int
    inode: int

    def same_file(self, path: Path) -> bool:
        """Whether ``path`` is still this version (same inode, size and modification time)."""
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            return False
        return (st.st_ino, st.st_size, st.st_mtime_ns) == (self.inode, self.size, self.mtime_ns)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO never hangs us


def read_report(corpus_dir: Path, path: Path, max_bytes: int) -> ReportBytes:
    """The bytes of the report at ``path`` (inside ``corpus_dir``), opened without following links.

    Raises ``FileMoved`` if the file is gone or was replaced by a link or a non-file since it was
    listed, ``ReadError`` if it is over ``max_bytes`` (refused before reading) or cannot be read.
    """
    root = corpus_dir.resolve()
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        raise ReadError(path, OUTSIDE) from None
    fd = os.open(root, _DIR_FLAGS & ~os.O_NOFOLLOW)  # the corpus folder itself may be a link
    try:
        for part in parts[:-1]:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                raise _moved_or_error(path, e) from e
            os.close(fd)
            fd = nxt
        try:
            ffd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except OSError as e:
            raise _moved_or_error(path, e) from e
    finally:
        os.close(fd)
    try:
        st = os.fstat(ffd)
        if not stat.S_ISREG(st.st_mode):
            raise FileMoved(path, "no longer a regular file (replaced during the run; skipped, checked again next run)")
        if st.st_size > max_bytes:
            raise ReadError(path, f"file too large ({st.st_size / 2**20:.1f} MB; limit {max_bytes / 2**20:g} MB)")
        chunks, total = [], 0
        while total <= max_bytes:  # the size may grow after fstat: never read past the limit
            block = os.read(ffd, min(1 << 20, max_bytes + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        if total > max_bytes:
            raise ReadError(path, f"file too large (over {max_bytes / 2**20:g} MB while being read)")
    except OSError as e:
        raise ReadError(path, f"cannot read file ({e.strerror or e})") from e
    finally:
        os.close(ffd)
    data = b"".join(chunks)
    return ReportBytes(data, hashlib.sha256(data).hexdigest(), len(data), st.st_mtime_ns, st.st_ino)


def _moved_or_error(path: Path, e: OSError) -> ReadError:
    if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
        what = "removed" if e.errno == errno.ENOENT else "replaced by a symlink"
        return FileMoved(path, f"{what} during the run (skipped; checked again next run)")
    return ReadError(path, f"cannot read file ({e.strerror or e})")
