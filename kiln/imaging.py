"""Pillow's part of images: one image's bytes -> its published variants, every metadata block left behind.

Pure (bytes in, bytes out) so that it runs in the worker pool and its results can be cached by the input's hash.
Only this module imports Pillow's modules, and only images.py imports it, when it has variants to make; what is
published and the settings are in variants.py.
"""

from __future__ import annotations

import io
import struct
import warnings

import PIL
from PIL import Image, ImageCms, ImageOps, ImageSequence, features

from .variants import (
    AVIF,
    FALLBACK,
    FALLBACK_WIDTH,
    FORMATS,
    MAX_ANIMATION_PIXELS,
    MAX_PIXELS,
    OG_JPEG,
    OG_SIZE,
    WEBP,
    WIDTHS,
    Encoded,
    ImageProblem,
    Made,
    widths,
)

# What Pillow raises on a broken or hostile file (truncated data, bad chunk lengths, impossible headers).
BAD_IMAGE = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, Image.DecompressionBombError)
_SRGB = ImageCms.createProfile("sRGB")
ORIENTATION = 0x0112  # the EXIF tag


def available() -> bool:
    """Return whether this Pillow can write AVIF and WebP."""
    return bool(features.check("avif") and features.check("webp"))


def make(data: bytes, og: bool) -> Made:
    """Return the variants of an image's bytes (and its link-preview crop when og); raise ImageProblem."""
    try:
        image = _open(data)
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageProblem(
                    f"image is too large ({width}x{height} pixels)",
                    f"expected at most {MAX_PIXELS // 1_000_000} megapixels; scale it down before adding it",
                )
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                if frames * width * height > MAX_ANIMATION_PIXELS:
                    raise ImageProblem(
                        f"animation is too large ({frames} frames of {width}x{height} pixels)",
                        f"expected at most {MAX_ANIMATION_PIXELS // 1_000_000} megapixels in all frames",
                    )
                return _animated(image, og)
            return _still(image, og)
    except ImageProblem:
        raise
    except BAD_IMAGE as error:
        raise ImageProblem(
            "image cannot be read", f"expected a whole JPEG, PNG, WebP, AVIF or GIF file, got {_said(error)}"
        ) from None


def _open(data: bytes) -> Image.Image:
    """Return the image of some bytes with only its header read; raise ImageProblem for other kinds of file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own, lower limit applies after
        try:
            return Image.open(io.BytesIO(data), formats=list(FORMATS))
        except Image.DecompressionBombError:
            raise ImageProblem("image is too large", f"expected at most {MAX_PIXELS // 1_000_000} megapixels") from None
        except PIL.UnidentifiedImageError:
            raise ImageProblem(
                "image is not in a format the build takes",
                f"expected JPEG, PNG, WebP, AVIF or GIF (or SVG), got a file starting {data[:8]!r}",
            ) from None


def _said(error: BaseException) -> str:
    """Return what the library said about a bad file, made readable."""
    text = str(error) or type(error).__name__
    return "a truncated file" if "truncated" in text else f"an unreadable file ({text})"


def _still(image: Image.Image, og: bool) -> Made:
    """Return the variants of a still image: decoded once, turned upright, made sRGB, stripped, then encoded."""
    source_format = str(image.format)
    if source_format == "JPEG":  # decode at the smallest power-of-two scale that still covers the widest variant
        turned = image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)  # stored sideways: its height is shown wide
        wanted = min(1.0, WIDTHS[-1] / image.size[1 if turned else 0])
        image.draft(image.mode, (max(1, int(image.size[0] * wanted)), max(1, int(image.size[1] * wanted))))
    image.load()
    upright = _clean(image)
    top = widths(upright.width)
    files: list[Encoded] = []
    fallback = max(size for size in top if size <= max(FALLBACK_WIDTH, top[0]))
    for size in top:
        resized = _resized(upright, size)
        files.append(_encode(resized, "source", "AVIF", AVIF))
        files.append(_encode(resized, "source", "WEBP", WEBP))
        if size == fallback:
            shown = _for_format(resized, source_format)
            files.append(_encode(shown, "fallback", source_format, FALLBACK[source_format]))
    if og:
        files.append(_og(upright))
    biggest = _resized(upright, top[-1]).size if top[-1] != upright.width else upright.size
    return Made(biggest[0], biggest[1], tuple(files))


def _clean(image: Image.Image) -> Image.Image:
    """Return the pixels the right way up, in sRGB, as RGB or RGBA, with no metadata left on them."""
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    upright = ImageOps.exif_transpose(image) or image
    upright = _srgb(upright, alpha)
    upright = upright.convert("RGBA" if alpha else "RGB")
    upright.info = {}  # EXIF, GPS, XMP, ICC, comments: savers fall back on these, so none may stay
    return upright


def _srgb(image: Image.Image, alpha: bool) -> Image.Image:
    """Return the image converted to sRGB when its embedded profile describes another colour space."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image  # untagged pixels are taken as sRGB, as browsers do
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower().replace(" ", ""):
            return image
        if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
            image = image.convert("RGBA" if alpha else "RGB")
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGBA" if alpha else "RGB")
    except (OSError, ImageCms.PyCMSError):
        return image  # a profile that cannot be read or applied: the pixels as they are
    return converted or image


def _resized(image: Image.Image, width: int) -> Image.Image:
    """Return the image scaled to a width, its height in proportion (the image itself at its own width)."""
    if width == image.width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _for_format(image: Image.Image, source_format: str) -> Image.Image:
    """Return the image in a mode the format can write."""
    if source_format == "JPEG" and image.mode != "RGB":
        return _flattened(image)
    return image


def _flattened(image: Image.Image) -> Image.Image:
    """Return an RGB image, any transparency laid on white."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    ground = Image.new("RGB", image.size, (255, 255, 255))
    ground.paste(image, mask=image.getchannel("A"))
    return ground


def _encode(image: Image.Image, part: str, file_format: str, options: dict[str, object], **more: object) -> Encoded:
    """Return one encoded file of an image."""
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options, **more)
    mime, extension = FORMATS[file_format]
    return Encoded(part, image.width, image.height, mime, extension, buffer.getvalue())


def _og(image: Image.Image) -> Encoded:
    """Return the link-preview crop: 1200x630 from the middle (smaller, same shape, for a small original), JPEG."""
    scale = min(1.0, image.width / OG_SIZE[0], image.height / OG_SIZE[1])
    size = (max(1, round(OG_SIZE[0] * scale)), max(1, round(OG_SIZE[1] * scale)))
    cropped = ImageOps.fit(_flattened(image), size, Image.Resampling.LANCZOS)
    return _encode(cropped, "og", "JPEG", OG_JPEG)


def _animated(image: Image.Image, og: bool) -> Made:
    """Return an animation as animated WebP plus the original's format, every frame kept, at most 1600 wide."""
    source_format = str(image.format)
    loop = int(image.info.get("loop", 0))
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        clean = frame.convert("RGBA")
        clean.info = {}
        frames.append(clean)
    size = widths(frames[0].width)[-1]
    frames = [_resized(frame, size) for frame in frames]
    motion: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": durations, "loop": loop}
    files = [
        _encode(frames[0], "source", "WEBP", WEBP, **motion),
        _encode(frames[0], "fallback", source_format, FALLBACK[source_format], **motion),
    ]
    if og:
        files.append(_og(frames[0]))
    return Made(frames[0].width, frames[0].height, tuple(files))
