"""The index on disk and how it is kept in line with the corpus.

generations (layout, manifest, CURRENT) · writer (the one writer, atomic commit) · snapshot (what
questions read) · keyword (BM25) · ann (IVF for large indexes) · cache (embeddings by passage text)
· indexer (corpus → index, incremental).
"""
from .ann import ANN_FILE, ApproximateIndex
from .cache import EmbeddingCache, embed_passages
from ..errors import IndexBusy
from .generations import Manifest, current_generation
from .indexer import IndexReport, is_stale, parser_version, update_index
from .keyword import KeywordIndex
from .snapshot import Snapshot
from .writer import Writer

__all__ = ["ANN_FILE", "ApproximateIndex", "EmbeddingCache", "IndexBusy", "IndexReport", "KeywordIndex", "Manifest",
           "Snapshot", "Writer", "current_generation", "embed_passages", "is_stale", "parser_version",
           "update_index"]
