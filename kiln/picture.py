"""What pages know of their images: the references written in markdown, and the pictures published for them."""

from __future__ import annotations

from dataclasses import dataclass

RASTER = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif")  # what images.py resizes, converts and strips
PICTURES = (*RASTER, ".svg")  # never published as they are from a page's folder: images.py publishes them


@dataclass(frozen=True)
class ImageRef:
    """An image a page refers to, as written (relative to the markdown file, or under /static/), and its line."""

    src: str
    line: int


@dataclass(frozen=True)
class Variant:
    """One published file of an image: its site-relative URL, pixel size and media type."""

    url: str
    width: int
    height: int
    mime: str


@dataclass(frozen=True)
class Picture:
    """An image as published: its displayed size, the AVIF and WebP variants, a fallback and the link-preview crop."""

    width: int
    height: int
    sources: tuple[Variant, ...]  # every width in each modern format, smallest first
    fallback: Variant  # in the original's format
    og: Variant | None = None  # the 1200x630 crop, made only for a page's `image:`
