"""Reading reports: file → raw text → cleaned text → section tree with roles → chunks.

readers (formats) → clean (noise rules) → sections (heading ladder) + roles → chunker; ``pipeline``
chains them for one file, ``corpus`` finds the report files of a folder.
"""
from .chunker import chunk_document
from .clean import clean
from .corpus import FileMoved, ReportBytes, corpus_files, escape_name, read_report, sha256_file
from .document import Chunk, Document, RawText, Removed, Section
from .pipeline import PARSER_VERSION, parse_file, parse_raw
from .readers import ReadError, read_file
from .sections import parse_text

__all__ = ["PARSER_VERSION", "Chunk", "Document", "FileMoved", "RawText", "ReadError", "Removed", "ReportBytes", "Section",
           "chunk_document", "clean", "corpus_files", "escape_name", "parse_file", "parse_raw", "parse_text",
           "read_file", "read_report", "sha256_file"]
