"""Reading reports: file → raw text → cleaned text → section tree with roles → chunks.

readers (one module per format, OCR included) → clean (noise rules) → sections (heading ladder) + roles → chunker; ``pipeline``
chains them for one file, ``corpus`` finds the report files of a folder.
"""
from .chunker import chunk_document
from .clean import clean
from .corpus import corpus_files, sha256_file
from .document import Chunk, Document, RawText, Removed, Section
from .pipeline import PARSER_VERSION, chunk_file, parse_file, parse_raw
from .readers import ReadError, ReadOptions, read_file
from .sections import parse_text

__all__ = ["PARSER_VERSION", "Chunk", "Document", "RawText", "ReadError", "ReadOptions", "Removed", "Section",
           "chunk_document", "chunk_file",
           "clean", "corpus_files", "parse_file", "parse_raw", "parse_text", "read_file", "sha256_file"]
