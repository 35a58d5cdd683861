"""The Milvus store: the same interface as the local one, on a Milvus standalone or cluster server
(``milvus://HOST:PORT``, ``http(s)://…``) or an embedded milvus-lite file (``….db``).

What is stored where (collections prefixed ``Settings.milvus_collection``, default "yandu", and for any
model or quantisation other than the default its ``Settings.variant``: each has its own collections):

``{p}_chunks_d{dim}``  one row per chunk: every CHUNK_COLUMNS field, every ROW_COLUMNS field (the
                       filters and ranking evidence), the dense vector (inner product) and ``match`` — the
                       normalised matching text, cut by Milvus's jieba analyzer with our domain
                       dictionary and stopwords (retrieval/data) into a BM25 sparse vector, so
                       keyword search is Milvus's own BM25; ``gen`` = the commit that wrote it
``{p}_documents``      each report's text and metadata as JSON, in parts (VARCHAR is bounded)
``{p}_meta``           the manifest of each commit, in parts, and ``current`` → the live commit

Commits: Milvus has no transactions, so a writer tags every row it writes with the next commit
number and makes it live by writing one row (``current``) after flushing everything else. Readers
see only the chunk ids the live manifest lists (a killed writer's rows, or rows a commit removed
but has not yet deleted, are never served); the next writer deletes such leftovers. One writer at
a time: a lock file beside the .db, or in ``Settings.index_dir`` for a server (index from one host).

A killed process can also leave milvus-lite's own files (a .db is a folder) in a state milvus-lite
3.2.2 does not recover from; ``_finish_killed_writes`` puts them right before a .db opens.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ..config import Settings
from ..errors import IndexBusy, StoreUnavailable
from ..ingest.document import Chunk, Document
from ..text import DATA, normalize, stopwords
from .generations import CHUNK_COLUMNS, DOCUMENT_COLUMNS, ROW_COLUMNS, Manifest
from .keyword import bm25_idf
from .snapshot import RowView
from .writer import chunk_values, document_values

log = logging.getLogger(__name__)

PART = 16_000  # characters of JSON per VARCHAR part (≤ 65 535 bytes in UTF-8)
# Stored fields: every chunk column and every row column (generations.py), so a column added there is
# a field here. Integers are INT64 (0 for none); text is VARCHAR of these many bytes (others 1024).
FIELDS = [c for c in CHUNK_COLUMNS if c != "id"] + [c for c in ROW_COLUMNS if c not in CHUNK_COLUMNS]
INT_FIELDS = {"ord", "start", "end", "year", "page", "section_start", "section_end", "year_from", "year_to"}
TEXT_LENGTHS = {"text": 16384, "heading_path": 8192, "title": 2048}
NULLABLE = {"item", "year", "page", "unit", "kind", "year_from", "year_to"}  # 0 or "" read back as None
MAX_IN = 16_384  # largest id list sent in a filter, and Milvus's top-k limit
DF = "df:"  # key prefix of a report's token frequencies in the documents collection


def _client(settings: Settings):
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise StoreUnavailable(f"the Milvus store ({settings.store}) needs pymilvus and milvus-lite: "
                               "pip install -r requirements-milvus.txt") from None
    uri, kwargs = settings.store, {}
    if uri.startswith("milvus://"):
        uri = "http://" + uri[len("milvus://"):]
    if settings.milvus_token:
        kwargs["token"] = settings.milvus_token
    if settings.milvus_db:
        kwargs["db_name"] = settings.milvus_db
    if settings.milvus_ca:
        kwargs.update(secure=True, server_pem_path=settings.milvus_ca)
    try:
        if uri.endswith(".db"):  # milvus-lite makes the file, not its folder
            Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
            _finish_killed_writes(Path(uri).expanduser())
        return MilvusClient(uri=uri, **kwargs)
    except Exception as e:  # pymilvus raises its own exception types for every connection failure
        why = " ".join(str(e).split())[:300]
        if settings.store.endswith(".db"):
            why += " (milvus-lite serves a .db file to one process at a time: is another Yandu process using it?)"
        raise StoreUnavailable(f"cannot open Milvus at {settings.store}: {why}") from None


def _finish_killed_writes(db: Path) -> None:
    """Before a milvus-lite .db opens, put right what a process killed inside milvus-lite left.

    milvus-lite (3.2.2) commits each flush atomically (segment files, then manifest.json by rename), but
    two writes after that commit are not crash-safe, and its open trusts what they leave:
    - the flushed WAL is deleted after the commit; left by a kill, the open replays it although its rows
      are in a segment, and serves each of them twice (same key, same ``_seq``): two ``current`` rows
      read as ``{…}{…}``. A WAL numbered below the manifest's active one is always flushed: deleted here
      as the flush would have (milvus-lite's own cleanup);
    - a segment's FLAT index (``*.flat.idx``: its vectors as .npy, built when missing) is written in
      place, in a background thread after the flush; left short by a kill, the collection fails to load
      ("file seems not fully written?"). One shorter than its header says is deleted: the load rebuilds it.
    Holds milvus-lite's LOCK meanwhile; skipped while a process (this one included) serves the .db. One
    warning line per repair; ~1 ms when there is none (the seed corpus's three collections).
    """
    if not (db / "LOCK").is_file():
        return
    import fcntl

    from milvus_lite.storage.manifest import Manifest
    from milvus_lite.storage.wal import WAL, _cleanup_old_wals

    with open(db / "LOCK", "rb") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return
        for folder in sorted([*db.glob("collections/*"), *db.glob("databases/*/collections/*")]):
            try:
                active = Manifest.load(str(folder)).active_wal_number
            except Exception:  # a manifest milvus-lite cannot read either: its open says why
                continue
            stale = [n for n in WAL.find_wal_files(str(folder / "wal")) if active is not None and n < active]
            if stale:
                log.warning("%s: deleted WAL %s, flushed by a process killed before it deleted it (replayed, "
                            "its rows would be served twice)", folder, ", ".join(map(str, stale)))
                _cleanup_old_wals(str(folder / "wal"), active - 1)
            for index in sorted(folder.glob("partitions/*/indexes/*.flat.idx")):
                try:
                    np.load(index, mmap_mode="r", allow_pickle=False)  # maps it: reads the header, checks the length
                except Exception as e:
                    log.warning("%s: deleted, left short by a killed process (%s); loading rebuilds it", index, e)
                    index.unlink()


def _analyzer() -> dict:
    """Milvus's jieba analyzer with our domain dictionary and stopwords (the same data files as ours)."""
    words = [line.split()[0] for line in (DATA / "userdict.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return {"tokenizer": {"type": "jieba", "mode": "search", "dict": ["_default_", *words]},
            "filter": [{"type": "stop", "stop_words": sorted(stopwords())}]}


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _parts(key: str, data: dict) -> list[dict]:
    blob = json.dumps(data, ensure_ascii=False)
    return [{"key": f"{key}#{i:06d}", "blob": blob[s:s + PART], "v": [0.0, 0.0]}
            for i, s in enumerate(range(0, max(len(blob), 1), PART))]


class MilvusStore:
    """See the module docstring."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = settings.store
        self.client = _client(settings)
        self.prefix = "_".join(x for x in (settings.milvus_collection, settings.variant) if x)  # a model of its own
        self.meta, self.documents = f"{self.prefix}_meta", f"{self.prefix}_documents"
        self._snap: MilvusSnapshot | None = None
        self._lock = threading.Lock()
        for name in self.client.list_collections():  # a server, or a reopened .db, may hold them released
            if name.startswith(f"{self.prefix}_"):
                self.client.load_collection(name)

    def chunks_collection(self, dim: int) -> str:
        return f"{self.prefix}_chunks_d{dim}"

    def lock_path(self) -> Path:
        if self.settings.store.endswith(".db"):
            return Path(self.settings.store + ".write.lock")
        self.settings.store_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.store_dir / ".milvus-write.lock"

    # the manifest -------------------------------------------------------------------------------
    def _read_blob(self, key: str) -> dict | None:
        if not self.client.has_collection(self.meta):
            return None
        rows = self.client.query(self.meta, filter=f'key like "{key}#%"', output_fields=["key", "blob"])
        if not rows:
            return None
        return json.loads("".join(r["blob"] for r in sorted(rows, key=lambda r: r["key"])))

    def current(self) -> dict | None:
        """The live commit: gen, and its manifest's key."""
        return self._read_blob("current")

    def manifest(self) -> Manifest | None:
        current = self.current()
        if current is None:
            return None
        data = self._read_blob(f"manifest-{current['gen']}")
        return Manifest.from_dict(data) if data else None

    def writer(self, manifest: Manifest, fresh: bool, lock_timeout: float = 0) -> "MilvusWriter":
        return MilvusWriter(self, manifest, fresh, lock_timeout)

    def snapshot(self) -> "MilvusSnapshot | None":
        current = self.current()
        with self._lock:
            if current is None:
                return None
            if self._snap is None or self._snap.gen != current["gen"]:
                self._snap = MilvusSnapshot(self, current["gen"])
            return self._snap

    # collections --------------------------------------------------------------------------------
    def ensure_collections(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self.client
        for name in (self.meta, self.documents):
            if not c.has_collection(name):
                schema = c.create_schema(auto_id=False)
                schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=2048)
                schema.add_field("blob", DataType.VARCHAR, max_length=65535)
                if name == self.documents:
                    schema.add_field("source", DataType.VARCHAR, max_length=1024)
                    schema.add_field("gen", DataType.INT64)
                schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs a vector field in a collection
                index = c.prepare_index_params()
                index.add_index("v", index_type="FLAT", metric_type="L2")
                self._create(name, schema, index)
        name = self.chunks_collection(dim)
        if c.has_collection(name):
            return
        schema = c.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("gen", DataType.INT64)
        for field in FIELDS:
            if field in INT_FIELDS:
                schema.add_field(field, DataType.INT64)
            else:
                schema.add_field(field, DataType.VARCHAR, max_length=TEXT_LENGTHS.get(field, 1024))
        schema.add_field("match", DataType.VARCHAR, max_length=65535, enable_analyzer=True, enable_match=True,
                         analyzer_params=_analyzer())
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["match"],
                                     output_field_names=["sparse"]))
        index = c.prepare_index_params()
        embedded = self.settings.store.endswith(".db")
        index.add_index("vector", index_type="FLAT" if embedded else "HNSW", metric_type="IP",
                        **({} if embedded else {"params": {"M": 16, "efConstruction": 200}}))
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self._create(name, schema, index)

    def _create(self, name: str, schema, index) -> None:
        # create_index(sync=True) polls a timestamp call milvus-lite lacks (seconds of retries per index)
        self.client.create_collection(name, schema=schema)
        self.client.create_index(name, index, sync=False)
        self.client.load_collection(name)

    def close(self) -> None:
        """Close the connection; an embedded milvus-lite also stops serving the .db (and unlocks it)."""
        self.client.close()
        if self.settings.store.endswith(".db"):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.settings.store)


def _row(chunk_id: int, gen: int, c: Chunk, vector: np.ndarray) -> dict:
    values = chunk_values(chunk_id, c)
    row = {"id": chunk_id, "gen": gen, "vector": np.asarray(vector, dtype=np.float32).tolist(),
           "match": normalize(c.match_text)}
    for field in FIELDS:
        value = values[field] if field in CHUNK_COLUMNS else ROW_COLUMNS[field](values)
        if field == "heading_path":
            row[field] = json.dumps(value, ensure_ascii=False)
        else:
            row[field] = int(value or 0) if field in INT_FIELDS else str(value or "")
    return row


class MilvusWriter:
    """The Writer API on Milvus (see the module docstring for how a commit is made atomic)."""

    def __init__(self, store: MilvusStore, manifest: Manifest, fresh: bool, lock_timeout: float = 0):
        self.store, self.client, self.manifest = store, store.client, manifest
        self.lock = FileLock(str(store.lock_path()))
        try:
            self.lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise IndexBusy(f"the index in {store.location} is being updated by another process; "
                            "try again when it finishes") from None
        try:
            store.ensure_collections(manifest.dim)
            current = store.current()
            self.live_gen = current["gen"] if current else 0
            before = None if current is None else store.manifest()
            self.fresh = fresh or before is None
            self.gen = self.live_gen + 1
            self.chunks = store.chunks_collection(manifest.dim)
            self._sweep(before)
            self.aliases = {} if self.fresh else dict(before.aliases)
            self.doc_gens: dict[str, int] = {} if self.fresh else dict(before.segments[0]["doc_gens"]) if before.segments else {}
            self.removed: set[int] = set()
            self.removed_docs: list[tuple[str, int]] = []  # (source, commit that wrote its text)
        except BaseException:
            self.lock.release()
            raise

    def _sweep(self, before: Manifest | None) -> None:
        """Delete what no commit lists: rows of writers killed before their commit, and rows the live
        commit removed but its writer was killed before deleting."""
        self.client.delete(self.chunks, filter=f"gen > {self.live_gen}")
        self.client.delete(self.store.documents, filter=f"gen > {self.live_gen}")
        if before is not None and before.segments:
            pending = before.segments[0].get("pending", [])
            for start in range(0, len(pending), MAX_IN):
                self.client.delete(self.chunks, ids=pending[start:start + MAX_IN])
            for source, gen in before.segments[0].get("pending_docs", []):
                self.client.delete(self.store.documents, filter=f"source == {_quote(source)} and gen == {gen}")

    def _live_ids(self, source: str) -> list[int]:
        rows = self.client.query(self.chunks, filter=f"source == {_quote(source)} and gen <= {self.live_gen}",
                                 output_fields=["id"])
        return [r["id"] for r in rows]

    def remove_source(self, source: str) -> None:
        if self.doc_gens.get(source) == self.gen:  # added by this writer: take it back now
            self.client.delete(self.chunks, filter=f"source == {_quote(source)} and gen == {self.gen}")
            self.client.delete(self.store.documents, filter=f"source == {_quote(source)} and gen == {self.gen}")
            del self.doc_gens[source]
        if source in self.doc_gens:
            self.removed.update(self._live_ids(source))
            self.removed_docs.append((source, self.doc_gens.pop(source)))
        self.aliases.pop(source, None)

    def set_aliases(self, source: str, aliases: list[str]) -> None:
        if aliases:
            self.aliases[source] = list(aliases)
        else:
            self.aliases.pop(source, None)

    def add_document(self, doc: Document, sha256: str, chunks: list[Chunk], vectors: np.ndarray,
                     tokens: list[list[str]]) -> list[int]:
        """Milvus cuts ``match`` with its jieba analyzer (our dictionary) for BM25; our tokens are kept
        only as the document's frequencies (chunks holding each token), for sentence-evidence IDF."""
        ids = self.manifest.take_ids(len(chunks))
        rows = [_row(i, self.gen, c, v) for i, c, v in zip(ids, chunks, vectors)]
        for start in range(0, len(rows), 1000):
            self.client.insert(self.chunks, rows[start:start + 1000])
        values = dict(zip(DOCUMENT_COLUMNS, document_values(doc, sha256)))
        frequencies = Counter(t for chunk_tokens in tokens for t in set(chunk_tokens))
        parts = _parts(f"{self.gen}:{doc.source}", values) + _parts(f"{DF}{self.gen}:{doc.source}", frequencies)
        self.client.insert(self.store.documents, [dict(p, source=doc.source, gen=self.gen) for p in parts])
        self.doc_gens[doc.source] = self.gen
        return ids

    def commit(self) -> int:
        """Flush, write the manifest, flip ``current``; then delete what this commit removed."""
        if self.fresh:  # a rebuild: every older row goes once this commit is live
            old = self.client.query(self.chunks, filter=f"gen <= {self.live_gen}", output_fields=["id"])
            self.removed.update(r["id"] for r in old)
        live_docs = set(self.doc_gens)
        pending_docs = [(s, g) for s, g in self.removed_docs if s not in live_docs or self.doc_gens[s] != g]
        self.manifest.segments = [{"name": self.chunks, "rows": 0, "deleted": [], "doc_gens": self.doc_gens,
                                   "pending": sorted(self.removed), "pending_docs": pending_docs}]
        self.manifest.aliases = self.aliases
        self.manifest.updated = time.time()
        for name in (self.chunks, self.store.documents):
            self.client.flush(name)
        self.client.upsert(self.store.meta, _parts(f"manifest-{self.gen}", self.manifest.to_dict()))
        self.client.flush(self.store.meta)
        self.client.upsert(self.store.meta, _parts("current", {"gen": self.gen}))
        self.client.flush(self.store.meta)
        # live: what it removed can go now (or by the next writer's sweep, if this one is killed here)
        removed = sorted(self.removed)
        for start in range(0, len(removed), MAX_IN):
            self.client.delete(self.chunks, ids=removed[start:start + MAX_IN])
        for source, gen in pending_docs:
            self.client.delete(self.store.documents, filter=f"source == {_quote(source)} and gen == {gen}")
        self.client.delete(self.store.meta, filter=f'key like "manifest-%" and not key like "manifest-{self.gen}#%"')
        if self.fresh:
            for name in self.client.list_collections():
                if name.startswith(f"{self.store.prefix}_chunks_d") and name != self.chunks:
                    self.client.drop_collection(name)
        return self.gen

    def abort(self) -> None:
        self.client.delete(self.chunks, filter=f"gen == {self.gen}")
        self.client.delete(self.store.documents, filter=f"gen == {self.gen}")

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> "MilvusWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        self.release()


class MilvusSnapshot(RowView):
    """One Milvus commit, read like the local Snapshot: row arrays in id order, scores aligned to them."""

    def __init__(self, store: MilvusStore, gen: int):
        self.store, self.client, self.gen = store, store.client, gen
        self.manifest = store.manifest()
        self.folder = f"{store.location}#{gen}"
        self.chunks_name = store.chunks_collection(self.manifest.dim)
        info = self.manifest.segments[0] if self.manifest.segments else {}
        self.doc_gens: dict[str, int] = info.get("doc_gens", {})
        live = sorted(i for e in self.manifest.files.values() for i in e.get("chunk_ids", []))
        self.ids = np.asarray(live, dtype=np.int64)
        fields = list(ROW_COLUMNS)
        columns: dict[str, dict[int, object]] = {name: {} for name in fields}
        for start in range(0, len(self.ids), MAX_IN):  # by id lists: a commit's rows, and no query iterator
            part = self.ids[start:start + MAX_IN].tolist()
            for r in self.client.query(self.chunks_name, filter=f"id in {part}", output_fields=["id", *fields]):
                for name in fields:
                    columns[name][r["id"]] = r[name]
        self.columns = {name: np.asarray([values.get(int(i)) for i in self.ids],
                                         dtype=np.int64 if name in INT_FIELDS else object)
                        for name, values in columns.items()}
        self._derive()
        self.aliases = dict(self.manifest.aliases)
        self._by_source: dict[str, list[dict]] = {}
        self._df: dict[frozenset[str] | None, Counter] = {}  # token → live chunks holding it, by reports counted

    def _filter(self, valid: np.ndarray | None) -> tuple[str, int]:
        """A Milvus filter for this commit (and the valid rows, when few enough to name) and a limit
        headroom for rows it cannot exclude."""
        expr = f"gen <= {self.gen}"
        if valid is not None and valid.sum() <= MAX_IN:
            return f"{expr} and id in {self.ids[valid].tolist()}", 0
        return expr, len(self.manifest.segments[0].get("pending", [])) if self.manifest.segments else 0

    def _scores(self, data, field: str, k: int, valid: np.ndarray | None, params: dict) -> np.ndarray:
        out = np.zeros(len(self.ids), dtype=np.float32)
        if not len(self.ids):
            return out
        expr, headroom = self._filter(valid)
        limit = min(MAX_IN, k + headroom + (0 if valid is None or valid.sum() <= MAX_IN else int((~valid).sum())))
        hits = self.client.search(self.chunks_name, data=[data], anns_field=field, limit=limit, filter=expr,
                                  search_params=params, output_fields=["id"])[0]
        ids = np.asarray([h["id"] for h in hits], dtype=np.int64)
        # milvus-lite reports BM25 as a negated distance, servers as the score: BM25 is never negative
        scores = np.abs(np.asarray([h["distance"] for h in hits], dtype=np.float32))
        rows = np.searchsorted(self.ids, ids).clip(0, len(self.ids) - 1)
        keep = self.ids[rows] == ids
        if valid is not None:
            keep &= valid[rows]
        rows, scores = rows[keep][:k], scores[keep][:k]
        out[rows] = scores
        return out

    def dense_scores(self, vector: np.ndarray, k: int, valid: np.ndarray | None = None) -> np.ndarray:
        params = {"metric_type": "IP"}
        if not self.store.settings.store.endswith(".db"):
            params["params"] = {"ef": max(64, 2 * k)}
        return self._scores(np.asarray(vector, dtype=np.float32).reshape(-1).tolist(), "vector", k, valid, params)

    def keyword_scores(self, query_tokens: list[str], k: int = 100, valid: np.ndarray | None = None) -> np.ndarray:
        """Milvus BM25 of the best `k` rows: the question's tokens (our jieba, synonyms expanded) joined,
        cut again by the collection's analyzer (same dictionary)."""
        if not query_tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self._scores(" ".join(query_tokens), "sparse", k, valid, {"metric_type": "BM25"})

    def keyword_idf(self, tokens: list[str], among: frozenset[str] | None = None) -> dict[str, float]:
        """BM25 inverse document frequency of each token found in this commit's rows (our tokens, as
        the local store counts them), from the live reports' frequencies read once per commit; with
        ``among``, counted over those reports' rows only (a token none of them holds weighs most)."""
        known = self._frequencies(None)
        n, df = (len(self.ids), known) if among is None else (int(self.rows_of(among).sum()), self._frequencies(among))
        return {t: float(bm25_idf(n, df[t])) for t in dict.fromkeys(tokens) if known[t]}

    def _frequencies(self, among: frozenset[str] | None) -> Counter:
        """Token → live chunks holding it, of every live report or of those ``among`` (each set once)."""
        if among not in self._df:
            df: Counter = Counter()
            sources = sorted(self.doc_gens if among is None else set(self.doc_gens) & among)
            for start in range(0, len(sources), 500):
                names = sources[start:start + 500]
                rows = self.client.query(self.store.documents, filter=f'key like "{DF}%" and source in {_quote(names)}',
                                         output_fields=["key", "blob", "source", "gen"])
                blobs: dict[str, list] = {}
                for r in rows:
                    if self.doc_gens.get(r["source"]) == r["gen"]:
                        blobs.setdefault(r["source"], []).append(r)
                for parts in blobs.values():
                    df.update(json.loads("".join(r["blob"] for r in sorted(parts, key=lambda r: r["key"]))))
            self._df[among] = df
        return self._df[among]

    def _decode(self, r: dict) -> dict:
        out = {c: (r.get(c) or None) if c in NULLABLE else r.get(c) for c in CHUNK_COLUMNS}
        out["heading_path"] = json.loads(r["heading_path"])
        out["section"] = " › ".join(out["heading_path"])
        return out

    def chunks(self, ids: list[int]) -> list[dict]:
        if not ids:
            return []
        found = {}
        for start in range(0, len(ids), MAX_IN):
            part = [int(i) for i in ids[start:start + MAX_IN]]
            rows = self.client.query(self.chunks_name, filter=f"id in {part} and gen <= {self.gen}",
                                     output_fields=list(CHUNK_COLUMNS))
            found.update({r["id"]: self._decode(r) for r in rows})
        live = set(self.ids.tolist())
        return [found[i] for i in ids if i in found and i in live]

    def _source_chunks(self, source: str) -> list[dict]:
        cached = self._by_source.get(source)
        if cached is None:
            rows = self.client.query(self.chunks_name, filter=f"source == {_quote(source)} and gen <= {self.gen}",
                                     output_fields=list(CHUNK_COLUMNS))
            live = set(self.ids.tolist())
            cached = sorted((self._decode(r) for r in rows if r["id"] in live), key=lambda c: c["ord"])
            if len(self._by_source) >= 256:
                self._by_source.pop(next(iter(list(self._by_source))), None)  # safe beside other readers
            self._by_source[source] = cached
        return cached

    def section_chunks(self, source: str, section_start: int) -> list[dict]:
        return [dict(c) for c in self._source_chunks(source) if c["section_start"] == section_start]

    def source_chunks(self, source: str) -> list[dict]:
        return [dict(c) for c in self._source_chunks(source)]

    def _document_values(self, source: str) -> dict | None:
        gen = self.doc_gens.get(source)
        if gen is None:
            return None
        rows = self.client.query(self.store.documents, filter=f'source == {_quote(source)} and gen == {gen} and not key like "{DF}%"',
                                 output_fields=["key", "blob"])
        return json.loads("".join(r["blob"] for r in sorted(rows, key=lambda r: r["key"]))) if rows else None

    def document(self, source: str) -> dict | None:
        values = self._document_values(source)
        if values is None:
            return None
        del values["sha256"]
        for key in ("removed", "page_starts"):
            values[key] = json.loads(values[key]) if values[key] else None
        values["aliases"] = self.aliases.get(source, [])
        return values

    def documents(self) -> list[dict]:
        out = []
        for source in sorted(self.doc_gens):
            values = self._document_values(source) or {}
            out.append({"source": source, "title": values.get("title"), "year": values.get("year"),
                        "unit": values.get("unit"), "kind": values.get("kind"), "aliases": self.aliases.get(source, [])})
        return out

    def close(self) -> None:
        """Nothing to release: the client belongs to the store."""
