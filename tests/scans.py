"""Test fixtures made from the seed texts: typed pages, scans of them (skew, noise, a red seal), images.

PyMuPDF (AGPL) lays out and renders the pages here, in tests only; the app never imports it.
"""
from __future__ import annotations

import io

import numpy as np
import pymupdf
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT = "china-s"
SIZE = 12  # points
LEFT, TOP, WIDTH, HEIGHT = 72, 72, 595, 842  # A4 with 2.5 cm margins
LEADING = 1.8
INDENT = 2 * SIZE  # paragraphs start two characters in, as typed reports do


def typeset(text: str, header: str | None = None, footer: bool = False) -> pymupdf.Document:
    """The text as A4 pages: each paragraph indented, lines filled to the margin; optionally a
    running header and a "- n -" footer on every page (page furniture)."""
    right = WIDTH - LEFT
    lines: list[tuple[float, str]] = []
    for paragraph in (p.strip() for p in text.split("\n")):
        if not paragraph:
            continue
        first = True
        while paragraph:
            x = LEFT + (INDENT if first else 0)
            n = len(paragraph)
            while pymupdf.get_text_length(paragraph[:n], fontname=FONT, fontsize=SIZE) > right - x:
                n -= 1
            lines.append((x, paragraph[:n]))
            paragraph, first = paragraph[n:], False
    per_page = int((HEIGHT - 2 * TOP) / (SIZE * LEADING))
    doc = pymupdf.open()
    for start in range(0, len(lines), per_page):
        page = doc.new_page(width=WIDTH, height=HEIGHT)
        y = TOP + SIZE
        for x, line in lines[start:start + per_page]:
            page.insert_text((x, y), line, fontname=FONT, fontsize=SIZE)
            y += SIZE * LEADING
        if header:
            width = pymupdf.get_text_length(header, fontname=FONT, fontsize=10)
            page.insert_text(((WIDTH - width) / 2, TOP - 24), header, fontname=FONT, fontsize=10)
        if footer:
            number = f"- {len(doc)} -"
            width = pymupdf.get_text_length(number, fontname=FONT, fontsize=10)
            page.insert_text(((WIDTH - width) / 2, HEIGHT - TOP + 30), number, fontname=FONT, fontsize=10)
    return doc


def render(page: pymupdf.Page, dpi: int = 200) -> Image.Image:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB)
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def red_seal(image: Image.Image, seed: int = 0) -> Image.Image:
    """A round red seal with its own text stamped over the lower right of the page; the ink is
    translucent (multiplied), so the black text under it stays black, as on paper."""
    seal = Image.new("RGB", image.size, "white")
    draw = ImageDraw.Draw(seal)
    w, h = image.size
    r = w // 9
    cx, cy = int(w * 0.7), int(h * 0.8)
    red = (220, 30, 40)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(4, r // 14))
    draw.regular_polygon((cx, cy, r // 4), 5, fill=red)
    font = ImageFont.truetype(_cjk_font(), r // 4) if _cjk_font() else None
    if font:
        draw.text((cx - r * 0.75, cy + r * 0.3), "某某市人民政府", fill=red, font=font)
    return ImageChops.multiply(image, seal)


def _cjk_font() -> str | None:
    """A font file with Chinese glyphs for the seal text (PyMuPDF ships one)."""
    import os
    import tempfile

    path = os.path.join(tempfile.gettempdir(), "yandu-test-cjk.otf")
    if not os.path.exists(path):
        font = pymupdf.Font(FONT)
        with open(path, "wb") as f:
            f.write(font.buffer)
    return path


def degrade(image: Image.Image, seed: int = 0, skew: float = 0.8) -> Image.Image:
    """A scanner's copy: slightly skewed, blurred, speckled, saved as JPEG."""
    rng = np.random.default_rng(seed)
    image = image.rotate(skew, resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    pixels = np.asarray(image).astype(np.int16)
    pixels = pixels + rng.normal(0, 12, pixels.shape[:2])[..., None].astype(np.int16)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def scanned_pages(text: str, dpi: int = 200, seal: bool = True, **typeset_options) -> list[Image.Image]:
    """Every page of the typed text, scanned; the last page carries the red seal."""
    doc = typeset(text, **typeset_options)
    clean = [render(page, dpi) for page in doc]
    if seal:
        clean[-1] = red_seal(clean[-1])
    return [degrade(page, seed=n, skew=0.8 if n % 2 else -0.6) for n, page in enumerate(clean)]


def image_pdf(images: list[Image.Image], dpi: int = 200) -> bytes:
    """A PDF whose pages are only the images (a scanner's output, no text layer)."""
    doc = pymupdf.open()
    for image in images:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        page = doc.new_page(width=image.width * 72 / dpi, height=image.height * 72 / dpi)
        page.insert_image(page.rect, stream=buffer.getvalue())
    return doc.tobytes()


def character_error(expected: str, got: str) -> float:
    """Edit distance over the length of the expected text, whitespace ignored."""
    a = "".join(expected.split())
    b = "".join(got.split())
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / max(1, len(a))
