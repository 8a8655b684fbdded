"""What is published of an image, and every setting that shapes it: known without loading Pillow.

imaging.py makes the variants with Pillow; a build that makes none (every image cached, or no images at all)
never imports it, which spares each build process about 20 ms of start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import PIL  # only its version, part of the settings; Pillow's modules load in imaging.py

# Each setting here changes the bytes published, so all of them are part of the cache key (SETTINGS).
WIDTHS = (480, 800, 1200, 1600)  # never wider than the original: smaller originals get their own width instead
FALLBACK_WIDTH = 1200  # the <img src> for browsers without <picture>: at most this wide
OG_SIZE = (1200, 630)  # the link-preview crop
MAX_PIXELS = 50_000_000  # decoding one needs about 4 bytes per pixel; a phone photo has 12 million
MAX_ANIMATION_PIXELS = 200_000_000  # all frames of an animated image together
# speed 8: a third of the time of the default 6 for files within a few percent of its size; one encoder thread:
# the pool already uses every core, and one thread is deterministic
AVIF: dict[str, object] = {"quality": 60, "speed": 8, "subsampling": "4:2:0", "max_threads": 1}
WEBP: dict[str, object] = {"quality": 80, "method": 4}
FALLBACK: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 82, "optimize": True, "progressive": True},
    "PNG": {"compress_level": 9},
    "WEBP": WEBP,
    "AVIF": AVIF,
    "GIF": {},
}
OG_JPEG: dict[str, object] = {"quality": 85, "optimize": True, "progressive": True}
FORMATS = {  # what the build takes in: Pillow's name -> media type and file extension
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "AVIF": ("image/avif", "avif"),
    "GIF": ("image/gif", "gif"),
}
SETTINGS = repr((WIDTHS, FALLBACK_WIDTH, OG_SIZE, AVIF, WEBP, FALLBACK, OG_JPEG, PIL.__version__))
_SVG_DANGER = re.compile(
    rb"<\s*(script|foreignObject|iframe|embed|object)\b|\son[a-z]+\s*=|javascript\s*:|<!ENTITY|<!DOCTYPE"
    rb"|(?:xlink:)?href\s*=\s*[\"']\s*(?!#)|url\(\s*[\"']?\s*(?!#)|@import",
    re.I,
)


class ImageProblem(Exception):
    """An image the build cannot publish: what is wrong, and what was expected."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Encoded:
    """One file made from an image: its part ('source', 'fallback' or 'og'), pixel size, media type and bytes."""

    part: str
    width: int
    height: int
    mime: str
    extension: str
    data: bytes


@dataclass(frozen=True)
class Made:
    """Everything published for one image: its displayed size and its files."""

    width: int
    height: int
    files: tuple[Encoded, ...]


def widths(width: int) -> tuple[int, ...]:
    """Return the widths to publish of an image this wide: the usual ones below it, and its own (at most 1600)."""
    top = min(width, WIDTHS[-1])
    return tuple(sorted({size for size in WIDTHS if size < top} | {top}))


def svg_problem(data: bytes) -> str | None:
    """Return what makes an SVG unsafe to publish (script, event handlers, outside references), or None."""
    if not data.lstrip().startswith((b"<svg", b"<?xml")) or b"<svg" not in data:
        return "expected an SVG file starting with <svg or <?xml"
    found = _SVG_DANGER.search(data)
    if found is None:
        return None
    shown = found.group(0).decode("utf-8", "replace").strip()
    return (
        f"expected an SVG without script, event attributes, javascript: links, entities or outside "
        f"references, got {shown!r}"
    )
