"""Knowledge bases: several corpora, each with its own index, asked together or one by one.

The default base is today's single corpus (``Settings.corpus_dir`` + ``index_dir``: the bundled seeds),
so ``python app.py``, ``--corpus`` and ``--index-dir`` work as before. Every other base lives in
``Settings.bases_dir/<name>/`` (``corpus/``, ``index/``, ``base.json``) or, with a Milvus store, in
collections of its own (prefix ``<milvus_collection>_<name>``). A deleted base goes to
``bases_dir/.trash/`` whole and can be restored.

Invariants: a base's name is its identity (folders, collections, grants); its title is what users
see and may change. Questions over several bases are each base's own ranking merged by score (the
same scores a base gives alone), ranks renumbered. Reports are named ``base/file`` across bases;
a bare file name means that file in any base asked.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from .engine import CompareRow, ReportInfo, Yandu
from .errors import YanduError
from .search import Result

log = logging.getLogger(__name__)

DEFAULT = "default"
DEFAULT_TITLE = "默认知识库"
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")  # folder- and Milvus-collection-safe
TRASH = ".trash"
MAX_TITLE = 40


class BaseError(YanduError):
    """A knowledge base that does not exist, or a name or title that cannot be used."""


@dataclass(frozen=True)
class BaseInfo:
    """One knowledge base as users and admins see it."""

    name: str
    title: str
    created: float | None
    corpus_dir: Path

    @property
    def default(self) -> bool:
        return self.name == DEFAULT

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "created": self.created, "default": self.default,
                "corpus": str(self.corpus_dir)}


def report_key(base: str, source: str) -> str:
    """How a report is named across knowledge bases."""
    return f"{base}/{source}"


def split_key(key: str) -> tuple[str | None, str]:
    """``base/file`` → (base, file); a bare file name → (None, file)."""
    base, sep, source = str(key).partition("/")
    return (base, source) if sep else (None, str(key))


class Bases:
    """The knowledge bases of one installation: create, rename, delete, restore, and ask across them.

    One facade (``Yandu``) per base, made on first use; all of them share one encoder."""

    def __init__(self, settings):
        self.settings = settings
        self.root = Path(settings.bases_dir)
        self._apps: dict[str, Yandu] = {}
        self._lock = threading.RLock()

    # ---- the registry ------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The default base first, then the others by name."""
        found = []
        if self.root.is_dir():
            found = sorted(d.name for d in self.root.iterdir()
                           if d.name != DEFAULT and NAME.fullmatch(d.name) and (d / "base.json").is_file())
        return [DEFAULT, *found]

    def exists(self, name: str) -> bool:
        return name in self.names()

    def info(self, name: str) -> BaseInfo:
        if not self.exists(name):
            raise BaseError(f"知识库 {name} 不存在")
        meta = self._meta(name)
        return BaseInfo(name, meta.get("title") or (DEFAULT_TITLE if name == DEFAULT else name), meta.get("created"),
                        self.settings_of(name).corpus_dir)

    def infos(self, names=None) -> list[BaseInfo]:
        return [self.info(n) for n in (self.names() if names is None else names)]

    def titles(self) -> dict[str, str]:
        return {i.name: i.title for i in self.infos()}

    def settings_of(self, name: str):
        """A base's settings: the installation's, with its own corpus, index folder and collections."""
        if name == DEFAULT:
            return self.settings
        folder = self.root / name
        return self.settings.with_overrides(corpus_dir=folder / "corpus", index_dir=folder / "index",
                                            milvus_collection=f"{self.settings.milvus_collection}_{name}")

    def get(self, name: str) -> Yandu:
        """The facade of one base (made once; every base after the first borrows the first one's encoder)."""
        with self._lock:
            app = self._apps.get(name)
            if app is None:
                if not self.exists(name):
                    raise BaseError(f"知识库 {name} 不存在")
                first = next(iter(self._apps.values()), None)
                app = Yandu(self.settings_of(name), encoder_from=(lambda: first.encoder) if first else None)
                self._apps[name] = app
            return app

    def adopt(self, name: str, app: Yandu) -> None:
        """Use ``app`` as the facade of base ``name`` (the web app's default base is made by the server)."""
        with self._lock:
            self._apps[name] = app

    def loaded(self) -> dict[str, Yandu]:
        """The facades made so far (the web app's index workers follow these)."""
        with self._lock:
            return dict(self._apps)

    def create(self, name: str, title: str = "") -> BaseInfo:
        """A new, empty knowledge base. Names: a lowercase letter, then lowercase letters, digits, _ (≤ 32)."""
        name = str(name).strip()
        if not NAME.fullmatch(name) or name == DEFAULT:
            raise BaseError(f"知识库名称 {name!r} 不可用：须以小写字母开头，只含小写字母、数字和 _，最多 32 个字符"
                            f"（{DEFAULT} 为默认知识库保留）")
        title = _title(title or name)
        with self._lock:
            folder = self.root / name
            if folder.exists():
                raise BaseError(f"知识库 {name} 已存在")
            (folder / "corpus").mkdir(parents=True)
            (folder / "index").mkdir()
            self._write_meta(name, {"title": title, "created": time.time()})
        log.info("knowledge base %s (%s) created", name, title)
        return self.info(name)

    def rename(self, name: str, title: str) -> BaseInfo:
        """Change a base's title (its name, and so its grants and folders, stay)."""
        self.info(name)
        with self._lock:
            self._write_meta(name, {**self._meta(name), "title": _title(title)})
        return self.info(name)

    def delete(self, name: str) -> Path:
        """Move a base (its corpus and index) to ``bases_dir/.trash``; returns where it went.
        The default base cannot be deleted."""
        if name == DEFAULT:
            raise BaseError("默认知识库不能删除")
        self.info(name)
        with self._lock:
            self._apps.pop(name, None)
            trash = self.root / TRASH
            trash.mkdir(exist_ok=True)
            target = trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
            n = 1
            while target.exists():
                n += 1
                target = trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}-{n}"
            os.rename(self.root / name, target)
        log.info("knowledge base %s moved to %s", name, target)
        return target

    def trash(self) -> list[dict]:
        """Deleted bases: {"entry" (folder name in the trash), "name", "title", "deleted" (time)}."""
        root = self.root / TRASH
        out = []
        for d in sorted(root.iterdir()) if root.is_dir() else []:
            meta = _read_json(d / "base.json")
            if meta is not None:
                out.append({"entry": d.name, "name": d.name.split("-", 2)[-1].split("-")[0],
                            "title": meta.get("title", ""), "deleted": d.stat().st_mtime})
        return out

    def restore(self, entry: str) -> BaseInfo:
        """Bring a deleted base back under its name (refused while another base has that name)."""
        found = next((t for t in self.trash() if t["entry"] == entry), None)
        if found is None:
            raise BaseError(f"回收站中没有知识库 {entry}")
        with self._lock:
            if (self.root / found["name"]).exists():
                raise BaseError(f"已有名为 {found['name']} 的知识库，无法恢复")
            os.rename(self.root / TRASH / entry, self.root / found["name"])
        return self.info(found["name"])

    def _meta(self, name: str) -> dict:
        return _read_json(self.root / name / "base.json") or {}

    def _write_meta(self, name: str, meta: dict) -> None:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".base.json.{os.getpid()}.part"
        part.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(part, folder / "base.json")

    # ---- questions across bases --------------------------------------------------------------

    def scope(self, bases, reports=()) -> dict[str, list[str]]:
        """base → the reports asked in it (empty: all of its reports). Reports named ``base/file`` pick
        their base; bare names are looked for in every base; a base none of whose named reports is in
        it drops out when reports were named."""
        bases = [b for b in bases if self.exists(b)]
        if not reports:
            return {b: [] for b in bases}
        out: dict[str, list[str]] = {}
        for key in reports:
            base, source = split_key(key)
            for b in ([base] if base is not None else bases):
                if b in bases:
                    out.setdefault(b, []).append(source)
        return out

    def search(self, question: str, bases, top_k: int | None = None, reports=(), years=(), section_types=(),
               role: str | None = None, data_years=()) -> Result:
        """Each base's ranked passages (``Yandu.search``, or ``search_role_first`` when a follow-up asks
        for ``role``), merged by score; passages carry their base."""
        top_k = int(top_k or self.settings.top_k)
        merged, messages = [], []
        for base, named in self.scope(bases, reports).items():
            app = self.get(base)
            result = (app.search_role_first(question, role, top_k, named, years, data_years) if role
                      else app.search(question, top_k, named, years, section_types, data_years))
            merged += [replace(p, base=base) for p in result.passages]
            if result.message:
                messages.append(result.message)
        merged.sort(key=lambda p: -p.score)
        passages = [replace(p, rank=i) for i, p in enumerate(merged[:top_k], 1)]
        # what one base says of the question (cut, nothing relevant …) holds for all: the first one is shown
        return Result(passages, messages[0] if messages and (not passages or len(messages) == 1) else "")

    def compare(self, question: str, bases, reports=(), years=(), section_types=(),
                data_years=()) -> list[tuple[str, CompareRow]]:
        """Each base's comparison rows (``Yandu.compare``), base by base."""
        rows = []
        for base, named in self.scope(bases, reports).items():
            app = self.get(base)
            if app.searcher.snapshot() is None:
                continue
            rows += [(base, r) for r in app.compare(question, named, years, section_types, data_years)]
        return rows

    def library(self, bases) -> list[tuple[str, ReportInfo]]:
        return [(b, r) for b in bases if self.exists(b) for r in self.get(b).library()]

    def status(self, bases) -> dict:
        """The bases' status together: reports and passages summed, documents and errors named by base."""
        out = {"reports": 0, "chunks": 0, "documents": [], "years": set(), "data_years": set(), "errors": {}, "updated": None,
               "update_error": None, "index_lost": None, "bases": {}}
        for base in bases:
            if not self.exists(base):
                continue
            s = self.get(base).status()
            out["bases"][base] = {k: s.get(k) for k in ("reports", "chunks", "updated", "update_error", "model")}
            out["reports"] += s["reports"]
            out["chunks"] += s["chunks"]
            out["documents"] += [{**d, "base": base, "key": report_key(base, d["source"])} for d in s.get("documents", [])]
            out["years"] |= set(s.get("years", []))
            out["data_years"] |= set(s.get("data_years", []))
            out["errors"].update({report_key(base, k): v for k, v in (s.get("errors") or {}).items()})
            if s.get("updated") and (out["updated"] is None or s["updated"] > out["updated"]):
                out["updated"], out["model"] = s["updated"], s.get("model")
            out["update_error"] = out["update_error"] or s.get("update_error")
            out["index_lost"] = out["index_lost"] or s.get("index_lost")
        out["years"], out["data_years"] = sorted(out["years"]), sorted(out["data_years"])
        out.setdefault("model", self.settings.model)
        return out


def _title(title: str) -> str:
    title = " ".join(str(title).split())
    if not title or len(title) > MAX_TITLE or any(ord(c) < 32 for c in title):
        raise BaseError(f"知识库标题须为 1–{MAX_TITLE} 个字符")
    return title


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
