"""Pages' images -> published variants and <picture> elements: the one entry point is publish_images.

Each image a page refers to (in its markdown or as its `image:`) is found beside the markdown file or under
static/, checked, and made into AVIF and WebP at a few widths plus a fallback, in the worker pool. What is made is
cached in .kiln-cache/images/ under a hash of the image's bytes and every setting (variants.SETTINGS), like Hugo's
resources; a stat signature memo spares a warm build from reading and hashing the originals again.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from . import variants
from .content import Page
from .errors import Problems
from .picture import RASTER, ImageRef, Picture, Variant
from .pool import spread
from .publish import fingerprinted_name
from .site import Site, replace_pages
from .urls import Urls, slugify, split_url

FOLDER = "images"
INDEX = "index.json"
MAGIC = b"kiln-image\n"
MAX_READ_BYTES = 64 * 2**20  # originals above this are refused before they are read
LARGE_BYTES = 10 * 2**20  # `check` warns about originals above this: they bloat the repository
# The theme's measure is 35em and its side padding about 1rem: what the browser picks a width from.
SIZES = "(min-width: 38em) 35em, calc(100vw - 2rem)"
PORTRAIT_SIZES = "6rem"  # an author's photo (style.css, .author-photo)
_IMG = re.compile(r"<img\b[^>]*>")
_ATTRIBUTE = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?')
_SVG_SIZE = re.compile(rb"<svg\b[^>]*?\swidth=\"(\d+)(?:px)?\"[^>]*?\sheight=\"(\d+)(?:px)?\"", re.S)
_VIEWBOX = re.compile(rb"<svg\b[^>]*?\sviewBox=\"\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*\"", re.S)
_CODE = hashlib.sha256(
    b"".join(Path(__file__).with_name(name).read_bytes() for name in ("imaging.py", "variants.py"))
    + variants.SETTINGS.encode()
).hexdigest()
log = logging.getLogger(__name__)

Signature = tuple[int, int, int, int, int]
_Job = tuple[str, str, str, bool, int]  # source-relative path, cache key, SHA-256 of its bytes, og crop?, size


@dataclass
class ImageCache:
    """What was made of each image, by key; and each original's stat signature with the hash of its bytes.

    A serve process keeps one for all its rebuilds, so an unchanged image is neither read nor decoded again.
    """

    folder: Path | None  # .kiln-cache/images, or None when the cache is off
    digests: dict[str, tuple[Signature, str]] = field(default_factory=dict)  # source-relative path -> ...
    made: dict[str, variants.Made] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # made since the cache was opened: to be written
    used: set[str] = field(default_factory=set)
    loaded: bool = False
    stored: dict[str, tuple[Signature, str]] = field(default_factory=dict)  # the memo as last read or written

    def load(self) -> None:
        """Read the signature memo, once."""
        if self.loaded or self.folder is None:
            self.loaded = True
            return
        self.loaded = True
        try:
            memo = json.loads((self.folder / INDEX).read_bytes())
            self.digests = {path: (_signature(entry[:5]), str(entry[5])) for path, entry in memo.items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.digests = {}
        self.stored = dict(self.digests)

    def get(self, key: str) -> variants.Made | None:
        """Return what was made for a key: kept in memory, or read back from its file and checked."""
        made = self.made.get(key)
        if made is None and self.folder is not None:
            made = _read_entry(self.folder / f"{key}.bin")
            if made is not None:
                self.made[key] = made
        if made is not None:
            self.used.add(key)
        return made

    def put(self, key: str, made: variants.Made) -> None:
        """Keep what was just made, to be written when the build succeeds."""
        self.made[key] = made
        self.fresh.add(key)
        self.used.add(key)

    def save(self) -> None:
        """Write new entries and the signature memo, drop entries no build used; never fail the build."""
        self.made = {key: made for key, made in self.made.items() if key in self.used}
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fresh, self.fresh = sorted(self.fresh & self.used), set()
            for key in fresh:
                _write_atomically(self.folder / f"{key}.bin", _pack(self.made[key]))
            if not fresh and self.digests == self.stored:
                return  # a warm build: nothing new to keep, nothing to drop
            memo = {path: [*signature, digest] for path, (signature, digest) in sorted(self.digests.items())}
            _write_atomically(self.folder / INDEX, json.dumps(memo).encode())
            self.stored = dict(self.digests)
            for entry in self.folder.glob("*.bin"):
                if entry.stem not in self.used:
                    entry.unlink(missing_ok=True)
        except OSError as error:
            log.debug("images not cached: %s", error)


@dataclass(frozen=True)
class Images:
    """Every image as published: pictures by source path, and the files to add to the output."""

    pictures: dict[str, Picture] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    immutable: tuple[str, ...] = ()  # URLs of fingerprinted files, cached for a year


@dataclass(frozen=True)
class _Use:
    """One place that refers to an image: the page, the reference, and whether it is the page's `image:`."""

    page: Page
    ref: ImageRef
    cover: bool


def publish_images(site: Site, source: Path, problems: Problems, cache: ImageCache) -> tuple[Site, Images]:
    """Return the site with each page's images as <picture> elements, and the image files to publish.

    Every problem (missing, unreadable, too large, unsafe SVG, a path that leaves its folder) is recorded
    against each markdown line that refers to the image. After errors in earlier stages the images are only
    found and checked, not made: the build will stop anyway, with these problems listed beside the others.
    """
    make = not problems.errors
    cache.load()
    cache.used.clear()
    uses: dict[str, list[_Use]] = {}
    for page in site.all_pages:
        for use in _uses(page):
            path, problem = resolve(use.page.src_path, use.ref.src)
            if problem is not None:
                problems.error(problem[0], page.src_path, use.ref.line, f"{problem[1]}, got {use.ref.src!r}")
            elif path is not None:
                uses.setdefault(path, []).append(use)
    images = _publish(source, uses, problems, cache, make)
    dressed: dict[Path, Page] = {}
    for page in site.all_pages:
        if page.images or page.image or page.photo:
            new = dress(page, images.pictures, Urls(site.config.base_url))
            if new is not None:
                dressed[page.src_path] = new
    return replace_pages(site, dressed), images


def _uses(page: Page) -> Iterable[_Use]:
    """Return the references of a page to local images: its `image:` (an author's `photo`) first, then its text's."""
    field, src = ("image", page.image) if page.image else ("photo", page.photo)
    if src and not src.startswith("https:"):
        yield _Use(page, ImageRef(src, page.lines.get(field, 1)), cover=True)
    for ref in page.images:
        yield _Use(page, ref, cover=False)


def resolve(page_path: Path, src: str) -> tuple[str | None, tuple[str, str] | None]:
    """Return the source-relative path of a local image reference (None for a URL elsewhere), or its problem."""
    text = src.strip()
    parts = split_url(text)
    if parts is not None and (parts.scheme or parts.netloc):
        return None, None
    if parts is None or parts.query or parts.fragment or "\\" in text or any(ord(char) < 32 for char in text):
        return None, ("image path is not valid", "expected a file name such as photo.jpg, without ? or #")
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith("/static/"):
            return None, None  # some other file of the site: `check` follows it like any link
        folder, rest = PurePosixPath("static"), path[len("/static/") :]
    else:
        folder, rest = PurePosixPath(page_path.parent.as_posix()), path
    segments = rest.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None, (
            "image path leaves its folder",
            "expected a file beside the markdown file (or in a folder below it) or under /static/, with no ..",
        )
    relative = folder.joinpath(*segments)
    if relative.suffix.lower() == ".svg" and relative.parts[0] == "static":
        return None, None  # the theme's own SVGs pass through as static files
    if relative.suffix.lower() not in (*RASTER, ".svg"):
        return None, ("image is not in a format the build takes", "expected .jpg, .png, .webp, .avif, .gif or .svg")
    return relative.as_posix(), None


def _publish(source: Path, uses: dict[str, list[_Use]], problems: Problems, cache: ImageCache, make: bool) -> Images:
    """Return the pictures and files of every image used, made in the worker pool unless the cache has them."""
    root = source.resolve()
    pending: list[_Job] = []
    made: dict[str, variants.Made] = {}
    files: dict[str, bytes] = {}
    pictures: dict[str, Picture] = {}
    seen: dict[str, tuple[Signature, str]] = {}
    immutable: list[str] = []
    for path, found in sorted(uses.items()):
        try:
            got = _digest(source, root, path, cache, seen)
        except _Refused as refused:
            for use in found:
                problems.error(refused.message, use.page.src_path, use.ref.line, f"{refused.hint}, got {path}")
            continue
        digest, size = got
        if size > LARGE_BYTES:
            _warn_large(path, size, found, problems)
        if path.lower().endswith(".svg"):
            svg = _svg(source, path, found, problems)
            if svg is not None:
                pictures[path] = svg[0]
                files[svg[0].fallback.url[1:]] = svg[1]
                immutable.append(svg[0].fallback.url)
            continue
        og = any(use.cover for use in found)
        key = hashlib.sha256(f"{_CODE}\0{og}\0{digest}".encode()).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            made[path] = hit
            continue
        pending.append((path, key, digest, og, size))  # workers read the bytes: only one file is held at once
    cache.digests = seen
    if not make:
        return Images()
    if pending:  # Pillow loads here, once, before the workers fork: builds with every image cached never load it
        from . import imaging  # noqa: F401 - _make_chunk's
    results = spread(lambda jobs: _make_chunk(source, jobs), pending, weight=lambda job: job[4], threshold=2)
    for (path, key, *_), result in zip(pending, results, strict=True):
        if isinstance(result, variants.Made):
            cache.put(key, result)
            made[path] = result
        else:
            for use in uses[path]:
                problems.error(result[0], use.page.src_path, use.ref.line, f"{result[1]}; in {path}")
    for path, result in made.items():
        pictures[path] = _picture(path, result, files, immutable)
    if problems.errors:
        return Images()
    return Images(pictures, files, tuple(sorted(immutable)))


def _warn_large(path: str, size: int, found: list[_Use], problems: Problems) -> None:
    """Record a warning for each use of an original over LARGE_BYTES."""
    for use in found:
        problems.warn(
            "image file is over 10 MB",
            use.page.src_path,
            use.ref.line,
            f"expected a smaller original in the repository, got {size / 2**20:.1f} MB in {path}; "
            "scale it down before adding it (what is published is small either way)",
        )


def _svg(source: Path, path: str, found: list[_Use], problems: Problems) -> tuple[Picture, bytes] | None:
    """Return an SVG's Picture and bytes, or None after recording why it is not safe to publish."""
    data = _read(source / path)
    if (problem := variants.svg_problem(data)) is not None:
        for use in found:
            problems.error("SVG image is not safe to publish", use.page.src_path, use.ref.line, problem)
        return None
    return _svg_picture(path, data), data


class _Refused(Exception):
    """An image file that cannot be used at all: what is wrong, and what was expected."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _digest(
    source: Path, root: Path, path: str, cache: ImageCache, seen: dict[str, tuple[Signature, str]]
) -> tuple[str, int]:
    """Return the hash of an image's bytes and its size (the memo's hash when unchanged); raise _Refused."""
    absolute = source / path
    try:
        real = absolute.resolve(strict=True)
        info = os.stat(real)
    except (OSError, RuntimeError):
        raise _Refused("image not found", "expected the file beside the markdown file or under static/") from None
    if not real.is_relative_to(root):
        raise _Refused("image is a link to a file outside the source folder", f"it points to {real}")
    if not os.path.isfile(real):
        raise _Refused("image is not a file", "expected an image file")
    if info.st_size > MAX_READ_BYTES:
        raise _Refused("image file is too large", f"expected at most {MAX_READ_BYTES // 2**20} MiB")
    signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    known = cache.digests.get(path)
    if known is not None and known[0] == signature:
        seen[path] = known
        return known[1], info.st_size
    digest = hashlib.sha256(_read(real)).hexdigest()
    seen[path] = (signature, digest)
    return digest, info.st_size


def _signature(values: list[int]) -> Signature:
    """Return a stat signature read back from the memo."""
    size, modified, changed, inode, device = (int(value) for value in values)
    return size, modified, changed, inode, device


def _read(path: Path) -> bytes:
    """Return a file's bytes, at most MAX_READ_BYTES of them."""
    with path.open("rb") as handle:
        return handle.read(MAX_READ_BYTES + 1)


def _make_chunk(source: Path, jobs: list[_Job]) -> list[variants.Made | tuple[str, str]]:
    """In a worker: make each image's variants, or say what is wrong with it."""
    from . import imaging  # loaded by _publish already

    results: list[variants.Made | tuple[str, str]] = []
    for path, _, digest, og, _ in jobs:
        try:
            data = _read(source / path)
            if hashlib.sha256(data).hexdigest() != digest:
                raise variants.ImageProblem(
                    "image changed during the build", "expected it to stay as it was; build again"
                )
            results.append(imaging.make(data, og))
        except OSError as error:
            results.append(("image cannot be read", f"expected a readable file, got {error.strerror or error}"))
        except variants.ImageProblem as problem:
            results.append((problem.message, problem.hint))
    return results


def _output(path: str, data: bytes, extension: str, label: str = "") -> str:
    """Return the output path of one file made from a source image: its folder's URL, its name, its hash."""
    parts = PurePosixPath(path).parts
    folders = list(parts[1:-1]) if parts[0] == "content" else list(parts[:-1])
    stem = slugify(PurePosixPath(parts[-1]).stem) or "image"
    name = "/".join([*(slugify(folder) or "folder" for folder in folders), f"{stem}{label}.{extension}"])
    return fingerprinted_name(name, data)


def _picture(path: str, made: variants.Made, files: dict[str, bytes], immutable: list[str]) -> Picture:
    """Return the Picture of a made image, adding its files to the output."""
    variants: dict[str, list[Variant]] = {"source": [], "fallback": [], "og": []}
    for encoded in made.files:
        label = "-og" if encoded.part == "og" else f"-{encoded.width}w"
        name = _output(path, encoded.data, encoded.extension, label)
        files[name] = encoded.data
        immutable.append("/" + name)
        variants[encoded.part].append(Variant("/" + name, encoded.width, encoded.height, encoded.mime))
    if path.startswith("static/"):  # its plain name keeps working, but without the original's metadata
        files[path] = next(f.data for f in made.files if f.part == "fallback")
    og = variants["og"][0] if variants["og"] else None
    return Picture(made.width, made.height, tuple(variants["source"]), variants["fallback"][0], og)


def _svg_picture(path: str, data: bytes) -> Picture:
    """Return the Picture of an SVG: the file itself, with the size its root element states (0 when none)."""
    size = _SVG_SIZE.search(data) or _VIEWBOX.search(data)
    width, height = (round(float(size.group(1))), round(float(size.group(2)))) if size else (0, 0)
    url = "/" + _output(path, data, "svg")
    return Picture(width, height, (), Variant(url, width, height, "image/svg+xml"))


def dress(page: Page, pictures: dict[str, Picture], urls: Urls) -> Page | None:
    """Return the page with its images as <picture> elements and its `image:` as its cover, or None if unknown."""
    cover: Picture | None = None
    found: dict[str, Picture] = {}
    for use in _uses(page):
        path, problem = resolve(page.src_path, use.ref.src)
        if problem is not None:
            return None
        if path is None:
            continue
        if path not in pictures:
            return None
        if use.cover:
            cover = pictures[path]
        else:
            written = urls.path(use.ref.src) if use.ref.src.startswith("/") else use.ref.src
            found[written] = pictures[path]
    first = [cover is None]

    def swap(match: re.Match[str]) -> str:
        attributes = {name: value or "" for name, value in _ATTRIBUTE.findall(match.group(0)[4:-1])}
        picture = found.get(html.unescape(attributes.get("src", "")).strip())
        if picture is None:
            return match.group(0)
        eager, first[0] = first[0], False
        return picture_html(picture, attributes, eager, urls)

    if not found and cover is None:
        return page
    body = _IMG.sub(swap, page.body) if found else page.body
    key = hashlib.sha256(f"{page.key}\0{[found, cover]!r}".encode()).hexdigest()
    return replace(page, body=body, cover=cover, key=key)


def picture_html(picture: Picture, attributes: dict[str, str], eager: bool, urls: Urls, sizes: str = SIZES) -> str:
    """Return the <picture> for an image: a source per modern format, then the <img> with its size and loading.

    Attribute values in `attributes` are as written in HTML (already escaped).
    """
    parts = ["<picture>"]
    for mime in dict.fromkeys(variant.mime for variant in picture.sources):
        srcset = ", ".join(
            f"{html.escape(urls.path(variant.url))} {variant.width}w"
            for variant in picture.sources
            if variant.mime == mime
        )
        parts.append(f'<source type="{mime}" srcset="{srcset}" sizes="{sizes}">')
    shown: dict[str, str] = {
        "src": html.escape(urls.path(picture.fallback.url)),
        "alt": attributes.get("alt", ""),
        **{name: attributes[name] for name in ("title", "class", "id") if name in attributes},
    }
    if picture.width and picture.height:
        shown |= {"width": str(picture.width), "height": str(picture.height)}
    shown |= {"fetchpriority": "high"} if eager else {"loading": "lazy", "decoding": "async"}
    parts.append("<img " + " ".join(f'{name}="{value}"' for name, value in shown.items()) + ">")
    parts.append("</picture>")
    return "".join(parts)


def cover_html(page: Page, urls: Urls) -> str:
    """Return the <picture> of a page's `image:`, the first image of the page and so never lazy."""
    assert page.cover is not None
    if page.kind == "author":  # a portrait beside the name, drawn 6rem wide
        attributes = {"alt": html.escape(f"Photo of {page.title}"), "class": "author-photo"}
        return picture_html(page.cover, attributes, True, urls, PORTRAIT_SIZES)
    alt = html.escape(page.image_alt or "")
    attributes = {"alt": alt, "class": "cover decorative" if page.image_alt == "" else "cover"}
    return picture_html(page.cover, attributes, True, urls)


def _pack(made: variants.Made) -> bytes:
    """Return a cache entry: magic, CRC-32 of the rest, a JSON header, then the files' bytes."""
    header = {
        "width": made.width,
        "height": made.height,
        "files": [[f.part, f.width, f.height, f.mime, f.extension, len(f.data)] for f in made.files],
    }
    head = json.dumps(header).encode()
    rest = len(head).to_bytes(8, "big") + head + b"".join(f.data for f in made.files)
    return MAGIC + zlib.crc32(rest).to_bytes(4, "big") + rest


def _read_entry(path: Path) -> variants.Made | None:
    """Return a cache entry's Made, or None when it is missing, damaged or of another shape."""
    try:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            return None
        start = len(MAGIC) + 4
        if zlib.crc32(memoryview(data)[start:]) != int.from_bytes(data[len(MAGIC) : start], "big"):
            return None
        size = int.from_bytes(data[start : start + 8], "big")
        header = json.loads(data[start + 8 : start + 8 + size])
        offset = start + 8 + size
        files = []
        for part, width, height, mime, extension, length in header["files"]:
            files.append(variants.Encoded(part, width, height, mime, extension, data[offset : offset + length]))
            offset += length
        return variants.Made(int(header["width"]), int(header["height"]), tuple(files))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a file beside its place, then rename it there."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def open_image_cache(source: Path, enabled: bool) -> ImageCache:
    """Return the source folder's image cache (one that stores nothing when disabled)."""
    from .cache import CACHE_FOLDER

    return ImageCache(source / CACHE_FOLDER / FOLDER if enabled else None)
