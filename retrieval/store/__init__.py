"""The index and how it is kept in line with the corpus.

backend (the store interface; local or Milvus) · generations (layout, manifest, CURRENT) · segment
(immutable segments) · writer (the one writer, atomic commit) · snapshot (what questions read) ·
keyword (exact BM25 across segments) · ann (IVF for large segments) · cache (embeddings by passage
text) · indexer (corpus → index, incremental) · milvus (the Milvus store; optional).
"""
from .ann import ANN_FILE, ApproximateIndex
from .backend import LocalStore, Store, open_store
from .cache import EmbeddingCache, embed_passages
from ..errors import IndexBusy
from .generations import Manifest, current_generation
from .indexer import IndexReport, built_with, corpus_changed, is_stale, parser_version, rebuild_command, update_index
from .keyword import CorpusStats, Postings
from .segment import Segment
from .snapshot import Snapshot
from .writer import Writer

__all__ = ["ANN_FILE", "ApproximateIndex", "EmbeddingCache", "IndexBusy", "IndexReport", "LocalStore", "Manifest",
           "CorpusStats", "Postings", "Segment", "Snapshot", "Store", "Writer", "built_with", "corpus_changed",
           "current_generation", "embed_passages",
           "is_stale", "open_store", "parser_version", "rebuild_command", "update_index"]
