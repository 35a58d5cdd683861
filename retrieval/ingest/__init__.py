"""Reading reports: file → raw text → cleaned text → section tree with roles → chunks.

readers (one module per format, OCR included) → clean (noise rules) → sections (heading ladder) + roles → chunker; ``pipeline``
chains them for one file, ``fence`` runs that in a worker process within a time and memory budget, ``corpus`` finds the report files of a folder, ``uploads`` adds files
to it under safe names.
"""
from .chunker import chunk_document
from .clean import clean
from .corpus import FileMoved, ReportBytes, corpus_files, escape_name, one_line, read_report, sha256_file
from .document import Chunk, Document, RawText, Removed, Section
from .fence import read_fenced
from .pipeline import PARSER_VERSION, chunk_file, parse_file, parse_raw
from .readers import ReadError, ReadOptions, read_file
from .sections import parse_text
from .uploads import Upload, corpus_hashes, place_file, safe_filename, save_uploads

__all__ = ["PARSER_VERSION", "Chunk", "Document", "FileMoved", "RawText", "ReadError", "ReadOptions", "Removed",
           "ReportBytes", "Section", "Upload", "chunk_document", "chunk_file", "clean", "corpus_files", "corpus_hashes",
           "escape_name", "one_line", "parse_file", "parse_raw", "parse_text", "place_file", "read_fenced", "read_file", "read_report",
           "safe_filename", "save_uploads", "sha256_file"]
