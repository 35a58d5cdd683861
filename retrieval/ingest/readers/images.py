"""Images (.png .jpg .jpeg .tif .tiff .bmp, multi-page TIFF) read by OCR, one page per frame."""
from __future__ import annotations

import io
import warnings
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from ...errors import ReadError
from ..document import RawText
from .ocr import ocr_pages
from .options import ReadOptions
from .package import TextBudget

MAX_SIDE = 2400  # pixels; larger scans are scaled down before OCR (the detector works at ≤ 2000)
MAX_PIXELS = 100_000_000  # a frame claiming more is no scan (A3 at 600 dpi is 70 M pixels)


def read_image(path: Path, data: bytes, options: ReadOptions) -> RawText:
    """The text of every frame of an image file, a page each."""
    if not options.ocr:
        raise ReadError(path, "an image needs OCR, which is switched off (ocr setting)")
    try:
        with warnings.catch_warnings():  # over MAX_PIXELS is refused below; Pillow's warning adds nothing
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError as exc:  # Pillow refuses over ~179 M pixels before decoding
        raise ReadError(path, "image too large to OCR (a decompression bomb?)") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ReadError(path, f"corrupt image ({type(exc).__name__}: {exc})") from exc
    budget = TextBudget(path, options)
    pages = [budget.take(text) for text in ocr_images(path, frames_of(path, image), options, frames)]
    starts, offset = [], 0
    for text in pages:
        starts.append(offset)
        offset += len(text) + 1
    return RawText("\n".join(pages), starts)


def frames_of(path: Path, image: Image.Image) -> Iterator[np.ndarray]:
    """Each frame as an RGB array, scaled down to ``MAX_SIDE``."""
    try:
        for frame in ImageSequence.Iterator(image):
            if frame.width * frame.height > MAX_PIXELS:
                raise ReadError(path, "image too large to OCR (a decompression bomb?)")
            frame = frame.convert("RGB")
            if max(frame.size) > MAX_SIDE:
                frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
            yield np.asarray(frame)
    except Image.DecompressionBombError as exc:
        raise ReadError(path, "image too large to OCR (a decompression bomb?)") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
        raise ReadError(path, f"corrupt image ({type(exc).__name__}: {exc})") from exc


def ocr_images(path: Path, images: Iterable[np.ndarray], options: ReadOptions, total: int) -> list[str]:
    """OCR of ``total`` page images within the page cap; a worker that dies is one clear error."""
    if total > options.ocr_max_pages:
        raise ReadError(path, f"{total} pages need OCR (limit {options.ocr_max_pages}, ocr_max_pages)")
    try:
        return ocr_pages(images, total, path.name, options)
    except BrokenProcessPool as exc:
        raise ReadError(path, "OCR worker stopped (out of memory?)") from exc
