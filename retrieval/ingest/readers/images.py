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
MIN_SIDE = 16  # pixels of the short side once scaled to MAX_SIDE: thinner holds no line of text
# (a 60000×1 PNG made rapidocr raise ResizeImgError)


def check_size(path: Path, width: float, height: float, what: str) -> None:
    """Refuse a page image too large to decode or too thin to hold text, naming the limit."""
    if width * height > MAX_PIXELS:
        raise ReadError(path, f"{what}有 {width * height / 1e6:,.0f} 百万像素（上限 {MAX_PIXELS / 1e6:.0f} 百万；"
                              "a decompression bomb?）")
    if min(width, height) * min(1.0, MAX_SIDE / max(width, height, 1)) < MIN_SIDE:
        raise ReadError(path, f"{what}尺寸异常（{width:.0f}×{height:.0f} 像素，缩到 {MAX_SIDE} 像素以内后短边不足 "
                              f"{MIN_SIDE} 像素，容不下文字）")


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


def blank(frame: Image.Image) -> bool:
    """Whether every pixel of the frame has one value (per band)."""
    extrema = frame.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return all(low == high for low, high in bands)


def frames_of(path: Path, image: Image.Image) -> Iterator[np.ndarray | None]:
    """Each frame as an RGB array, scaled down to ``MAX_SIDE``; None for a blank frame."""
    try:
        for n, frame in enumerate(ImageSequence.Iterator(image), 1):
            if frame.width * frame.height > MAX_PIXELS:
                raise ReadError(path, "image too large to OCR (a decompression bomb?)")
            check_size(path, frame.width, frame.height, f"第 {n} 帧")
            if blank(frame):  # one colour all over (an empty TIFF page): nothing to recognise
                yield None
                continue
            frame = frame.convert("RGB")
            if max(frame.size) > MAX_SIDE:
                frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
            yield np.asarray(frame)
    except Image.DecompressionBombError as exc:
        raise ReadError(path, "image too large to OCR (a decompression bomb?)") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged image data
        raise ReadError(path, f"corrupt image ({type(exc).__name__}: {exc})") from exc


def ocr_images(path: Path, images: Iterable[np.ndarray | None], options: ReadOptions, total: int) -> list[str]:
    """OCR of ``total`` page images within the page cap; a worker that dies is one clear error."""
    if total > options.ocr_max_pages:
        raise ReadError(path, f"{total} pages need OCR (limit {options.ocr_max_pages}, ocr_max_pages)")
    try:
        return ocr_pages(images, total, path.name, options)
    except BrokenProcessPool as exc:
        raise ReadError(path, "OCR worker stopped (out of memory?)") from exc
    except ReadError:
        raise
    except Exception as exc:  # rapidocr, ONNX Runtime and OpenCV raise their own errors on odd page images
        text = " ".join(str(exc).split())
        if isinstance(exc, MemoryError) or "bad_alloc" in text:
            raise ReadError(path, f"OCR 时内存超过上限（{options.read_memory_mb} MB，read_memory_mb）") from exc
        raise ReadError(path, f"OCR 无法识别（{type(exc).__name__}: {text[-200:]}）") from exc
