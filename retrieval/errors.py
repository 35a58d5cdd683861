"""Domain errors, one place: each carries a message a user can act on, shown at the edge (CLI, web)."""
from __future__ import annotations

from pathlib import Path


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
