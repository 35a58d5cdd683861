"""Domain errors, one place: each carries a message a user can act on, shown at the edge (CLI, web)."""
from __future__ import annotations

import errno
import re
from pathlib import Path

DISK_FULL = "磁盘已满"  # what every failure for want of space says, wherever it happens
# numpy's tofile/save report a short write without an errno: "120192 requested and 15328 written"
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def disk_full(e: BaseException) -> bool:
    """Whether ``e`` says the disk (or the quota) is full."""
    text = str(e).lower()
    return getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "no space" in text \
        or "disk is full" in text or "disk full" in text or bool(_SHORT_WRITE.search(text))


def os_reason(e: OSError) -> str:
    """An OSError as the few words a user reads: 磁盘已满, or the system's reason."""
    return DISK_FULL if disk_full(e) else (e.strerror or str(e).splitlines()[0])


class YanduError(Exception):
    """Base of the errors a user can cause or fix; ``str(e)`` is one line meant for them."""


class SettingsError(YanduError, ValueError):
    """A setting with a value Yandu does not know (e.g. an unknown fusion method)."""


class ReadError(YanduError):
    """A file that cannot be read; ``str(e)`` is ``"<file name>: <reason>"`` on one line."""

    def __init__(self, path: Path, reason: str):
        self.path = Path(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.path.name}: {self.reason}")


class IndexBusy(YanduError):
    """Another process is writing the index."""


class ModelUnavailable(YanduError):
    """The requested embedding model cannot be loaded on this machine."""


class CorpusMissing(YanduError):
    """The corpus folder is missing or holds no reports while the index holds some: nothing is removed
    (a typo in --corpus, or a share that is not mounted, must not empty the index)."""


class IndexWriteError(YanduError):
    """The index folder cannot be written (disk full, read-only, a file where the folder should be);
    the live index is untouched."""


class StoreUnavailable(YanduError):
    """The configured store cannot be used (its client library is missing, or it cannot be reached)."""


class ModelMismatch(YanduError):
    """The index was built with another embedding model (or quantisation) than the one asked for; it is
    left alone — another process may be serving it — and the message gives the command that rebuilds it."""


class IndexUnreadable(YanduError):
    """The index folder cannot be read (a file where the folder should be, no permission)."""
