"""A build cache of parsed pages, so an unchanged file is never parsed or converted twice.

Each entry is keyed by a hash of the file's bytes, its path, the site settings and the generator itself
(its source code and the Markdown library's version), so any change to what a page's parsing depends on
misses. The file is data, never pickle: a cache restored from elsewhere is data that is checked, not code
that is run. It holds a JSON header with each page's fields (every value checked against the field's type
when read) and the pages' HTML bodies as one block of UTF-8 after it, the whole checksummed: JSON-decoding
megabytes of escaped HTML was most of a warm build's time. Anything unreadable, of another format or of another
generator is ignored and rebuilt. The readers raise ValueError with a text for whoever debugs them; their callers
drop it, so mutation testing leaves those texts alone (`# pragma: no mutate`, docs/testing.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import io
import json
import logging
import os
import shutil
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from .config import Config
from .content import Page, Source
from .errors import SiteError
from .load import SourceMemo

if typing.TYPE_CHECKING:
    from .images import ImageCache

CACHE_FOLDER = ".kiln-cache"
PAGES_FILE = "pages.bin"
FORMAT = 2
MAGIC = b"kiln-pages\n"
RENDERED_FILE = "rendered.bin"
RENDERED_MAGIC = b"kiln-rendered\n"
INDEX_FILE = "search.bin"
log = logging.getLogger(__name__)


@dataclasses.dataclass
class PageCache:
    """Parsed pages by key, loaded from the cache folder and saved back after a build."""

    path: Path | None
    entries: dict[str, dict[str, Any]]
    used: set[str] = dataclasses.field(default_factory=set)
    changed: bool = False
    decoded: dict[str, tuple[Page, list[SiteError]]] = dataclasses.field(default_factory=dict)
    keys: dict[tuple[str, Source], str] = dataclasses.field(default_factory=dict)  # see page_keys

    def get(self, key: str) -> tuple[Page, list[SiteError]] | None:
        """Return the cached page and warnings for a key, or None (also when the entry does not decode)."""
        if key in self.decoded:  # a long-running serve keeps what it decoded
            self.used.add(key)
            return self.decoded[key]
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            page = decode_page(entry["page"], entry["body"])
            warnings = [SiteError(w["message"], _path(w["path"]), w["line"], w["hint"]) for w in entry["warnings"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if page.key != key:
            return None
        self.used.add(key)
        self.decoded[key] = (page, warnings)
        return page, warnings

    def put(self, key: str, page: Page, warnings: list[SiteError]) -> None:
        """Remember a freshly parsed page and the warnings it gave (encoded for the file only when saved)."""
        self.entries[key] = {"page": None, "body": page.body, "warnings": warnings}
        self.decoded[key] = (page, warnings)
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries this build used (dropping the rest), if anything changed; never fail the build."""
        self.decoded = {key: value for key, value in self.decoded.items() if key in self.used}
        unused = self.entries.keys() - self.used
        for key in unused:
            del self.entries[key]
        self.changed = self.changed or bool(unused)
        if self.path is None or not self.changed:
            return
        self.changed = False
        for key, entry in self.entries.items():
            if entry["page"] is None:  # put in this process
                entry["page"] = encode_page(self.decoded[key][0])
                entry["warnings"] = [_warning(warning) for warning in entry["warnings"]]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("wb") as handle:
                write_packed(handle, {key: self.entries[key] for key in sorted(self.entries)})
            temporary.replace(self.path)
            (self.path.parent / "pages.json").unlink(missing_ok=True)  # the first format's file
        except OSError as error:
            log.debug("build cache not saved: %s", error)


def pack_pages(entries: dict[str, dict[str, Any]]) -> bytes:
    """Return the cache file's bytes: magic, checksum, then a JSON header and the bodies' UTF-8 after it."""
    buffer = io.BytesIO()
    write_packed(buffer, entries)
    return buffer.getvalue()


def write_packed(handle: typing.BinaryIO, entries: dict[str, dict[str, Any]]) -> None:
    """Write the cache file, encoding one body at a time: at 5,000 pages a joined copy would be 50 MB more."""
    packed: dict[str, Any] = {}
    offset = 0
    for key, entry in entries.items():
        size = len(entry["body"].encode("utf-8")) if isinstance(entry["body"], str) else 0
        packed[key] = {"page": entry["page"], "body": [offset, size], "warnings": entry["warnings"]}
        offset += size
    header = {"format": FORMAT, "generator": generator_digest(), "entries": packed}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    checksum = hashlib.sha256()
    start = handle.tell()
    handle.write(MAGIC + bytes(32))  # the checksum goes here once everything after it is written
    for part in (len(head).to_bytes(8, "big"), head):
        checksum.update(part)
        handle.write(part)
    del head
    for entry in entries.values():
        data = entry["body"].encode("utf-8") if isinstance(entry["body"], str) else b""
        checksum.update(data)
        handle.write(data)
    handle.seek(start + len(MAGIC))
    handle.write(checksum.digest())
    handle.seek(0, io.SEEK_END)


def unpack_pages(data: bytes) -> dict[str, dict[str, Any]]:
    """Return the entries of a cache file, each body as text; raise ValueError for anything damaged or foreign."""
    if not data.startswith(MAGIC):
        raise ValueError("not a page cache")  # pragma: no mutate
    checksum, rest = data[len(MAGIC) : len(MAGIC) + 32], memoryview(data)[len(MAGIC) + 32 :]
    if hashlib.sha256(rest).digest() != checksum:
        raise ValueError("damaged page cache")  # pragma: no mutate
    size = int.from_bytes(rest[:8], "big")
    header = json.loads(bytes(rest[8 : 8 + size]))
    if header["format"] != FORMAT or header["generator"] != generator_digest():
        raise ValueError("a page cache of another format or generator")  # pragma: no mutate
    blob = rest[8 + size :]
    entries: dict[str, dict[str, Any]] = header["entries"]
    for entry in entries.values():
        start, length = entry["body"]
        if type(start) is not int or type(length) is not int or start < 0 or length < 0 or start + length > len(blob):
            raise ValueError("a body outside the page cache")  # pragma: no mutate
        entry["body"] = str(blob[start : start + length], "utf-8")
    return entries


@dataclasses.dataclass
class RenderCache:
    """Rendered files by the hash of everything that made them, all in one file of the cache folder.

    A file's key covers its template and every template it may include, the settings, the generator and the
    values it was given, so a hit is the very bytes a render would give. The cache file holds an index (each
    entry's place, size and checksum) under a checksum of its own, then the entries' bytes: an entry is read only
    when asked for, and one that fails its checksum is rendered afresh. After a build that rendered anything, or
    left an entry unused, the file is written anew with the entries the build used.
    """

    path: Path | None
    used: set[str] = dataclasses.field(default_factory=set)
    kept: dict[str, bytes] = dataclasses.field(default_factory=dict)  # what this process rendered or read
    present: bool = True  # whether the file existed when opened: a cold build looks up nothing in it
    index: dict[str, tuple[int, int, str]] | None = None  # the file's: key -> the place, size and SHA-256 of its bytes
    fresh: dict[str, str] = dataclasses.field(default_factory=dict)  # SHA-256 of what was rendered since then
    handle: int | None = None  # the file, open while a build looks entries up

    def get(self, key: str) -> bytes | None:
        """Return the bytes rendered earlier for a key, or None."""
        if key in self.kept:
            self.used.add(key)
            return self.kept[key]
        place = self._index().get(key)
        if place is None or self.handle is None:
            return None
        offset, size, digest = place
        try:
            data = os.pread(self.handle, size, offset)
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != digest:  # truncated or altered: render afresh
            return None
        self.used.add(key)
        self.kept[key] = data
        return data

    def release(self) -> None:
        """Close the cache file once the build has looked up what it needs (entries found are kept)."""
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None

    def empty(self) -> bool:
        """Return whether nothing can be found: nothing kept, and no file that existed when opened."""
        return not self.kept and (self.path is None or not self.present)

    def remember(self, key: str, data: bytes, digest: str) -> None:
        """Keep the bytes rendered for a key, and their SHA-256 (computed by the renderer), to be written."""
        self.used.add(key)
        self.kept[key] = data
        self.fresh[key] = digest

    def save(self) -> None:
        """Forget the entries this build did not use, and write the file anew if it differs; never fail the build."""
        self.release()
        self.kept = {key: data for key, data in self.kept.items() if key in self.used}
        fresh, self.fresh = self.fresh, {}
        known = self.index or {}
        if self.path is None or (not fresh and known.keys() == self.kept.keys()):
            return
        entries: dict[str, list[Any]] = {}
        offset = 0
        for key in sorted(self.kept):
            data = self.kept[key]
            # a kept entry was rendered since the file was read, or read from it and checked against its index
            digest = fresh.get(key) or (known[key][2] if key in known else hashlib.sha256(data).hexdigest())
            entries[key] = [offset, len(data), digest]
            offset += len(data)
        head = json.dumps({"format": FORMAT, "entries": entries}, separators=(",", ":")).encode("utf-8")
        front = RENDERED_MAGIC + hashlib.sha256(head).digest() + len(head).to_bytes(8, "big") + head
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("wb") as handle:
                handle.write(front)
                for key in entries:
                    handle.write(self.kept[key])
            temporary.replace(self.path)
            self.index = {key: (len(front) + start, size, digest) for key, (start, size, digest) in entries.items()}
            shutil.rmtree(self.path.parent / "rendered", ignore_errors=True)  # the previous version's folder
        except OSError as error:
            log.debug("rendered files not cached: %s", error)

    def _index(self) -> dict[str, tuple[int, int, str]]:
        """Return the cache file's index, read and checked on first use (empty if anything is wrong with it)."""
        if self.index is None:
            self.index = {}
            if self.path is not None and self.present:
                try:
                    self.handle = os.open(self.path, os.O_RDONLY)
                    self.index = _read_index(self.handle)
                except (OSError, ValueError, TypeError, KeyError):
                    self.release()
        return self.index


def _read_index(handle: int) -> dict[str, tuple[int, int, str]]:
    """Return the index of an open render cache file, with absolute offsets; raise ValueError if it is damaged."""
    start = len(RENDERED_MAGIC) + 32 + 8
    front = os.pread(handle, start, 0)
    if len(front) != start or not front.startswith(RENDERED_MAGIC):
        raise ValueError("not a render cache")  # pragma: no mutate
    size = int.from_bytes(front[-8:], "big")
    end = os.fstat(handle).st_size
    if size > end - start:  # read nothing the file does not hold, whatever a damaged length says
        raise ValueError("a render cache index longer than its file")  # pragma: no mutate
    head = os.pread(handle, size, start)
    if hashlib.sha256(head).digest() != front[len(RENDERED_MAGIC) : -8]:
        raise ValueError("damaged render cache index")  # pragma: no mutate
    header = json.loads(head)
    if header["format"] != FORMAT:
        raise ValueError("a render cache of another format")  # pragma: no mutate
    base = start + size
    index: dict[str, tuple[int, int, str]] = {}
    for key, (offset, length, digest) in header["entries"].items():
        if type(offset) is not int or type(length) is not int or type(digest) is not str:
            raise ValueError("a bad render cache entry")  # pragma: no mutate
        if offset < 0 or length < 0 or base + offset + length > end:
            raise ValueError("a render cache entry outside its file")  # pragma: no mutate
        index[key] = (base + offset, length, digest)
    return index


@dataclasses.dataclass
class IndexCache:
    """The last search index made, by the hash of everything it indexes: one checksummed file of the cache folder.

    An index depends only on the pages it holds and the indexer, so the key needs no invalidation logic. The file
    holds the key, a JSON list of the index's file names and sizes, then their bytes. serve keeps the last one in
    memory too.
    """

    path: Path | None
    kept: tuple[str, dict[str, bytes]] | None = None

    def get(self, key: str) -> dict[str, bytes] | None:
        """Return the index files stored for a key, or None."""
        if self.kept is None and self.path is not None:
            self.kept = _unpack_index(read_checked(self.path) or b"")
        return self.kept[1] if self.kept is not None and self.kept[0] == key else None

    def put(self, key: str, files: dict[str, bytes]) -> None:
        """Keep an index for its key and write it to the cache folder (never failing the build)."""
        self.kept = (key, files)
        if self.path is None:
            return
        names = sorted(files)
        head = json.dumps({"key": key, "files": [[name, len(files[name])] for name in names]}).encode("utf-8")
        write_checked(
            self.path.parent,
            self.path.name,
            len(head).to_bytes(8, "big") + head + b"".join(files[name] for name in names),
        )


def _unpack_index(data: bytes) -> tuple[str, dict[str, bytes]] | None:
    """Return the key and files of a search index cache file's content, or None when it is not one."""
    try:
        size = int.from_bytes(data[:8], "big")
        head = json.loads(data[8 : 8 + size])
        offset = 8 + size
        files: dict[str, bytes] = {}
        for name, length in head["files"]:
            files[str(name)] = data[offset : offset + int(length)]
            offset += int(length)
        if offset != len(data):
            return None
        return str(head["key"]), files
    except (ValueError, TypeError, KeyError):
        return None


def read_checked(path: Path) -> bytes | None:
    """Return the bytes a cache file holds after its checksum, or None when it is missing or they do not match."""
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    checksum, data = stored[:32], stored[32:]
    return data if hashlib.sha256(data).digest() == checksum else None


def write_checked(folder: Path, name: str, data: bytes) -> None:
    """Write a cache file, its checksum first, in one step (beside it, then renamed); never fail the build."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_bytes(hashlib.sha256(data).digest() + data)
        temporary.replace(folder / name)
    except OSError as error:
        log.debug("not cached: %s", error)


@dataclasses.dataclass
class Caches:
    """The caches of a source folder; a serve process keeps one for all its rebuilds."""

    pages: PageCache
    rendered: RenderCache
    images: ImageCache
    sources: SourceMemo | None = None  # serve's: content files unchanged since the last rebuild are not read again
    index: IndexCache = dataclasses.field(default_factory=lambda: IndexCache(None))

    def start(self) -> None:
        """Begin a build: nothing is in use yet."""
        self.pages.used.clear()
        self.rendered.used.clear()

    def save(self) -> None:
        """After a successful build: store the parsed pages and drop what the build did not use."""
        self.pages.save()
        self.rendered.save()
        self.images.save()


def open_caches(source: Path, enabled: bool) -> Caches:
    """Return the caches of a source folder (empty ones that are never stored when disabled)."""
    from .images import open_image_cache  # images imports the pool, which imports this module

    index = IndexCache(source / CACHE_FOLDER / INDEX_FILE if enabled else None)
    return Caches(
        open_cache(source, enabled), open_render_cache(source, enabled), open_image_cache(source, enabled), index=index
    )


def open_render_cache(source: Path, enabled: bool) -> RenderCache:
    """Return the source folder's cache of rendered files."""
    path = source / CACHE_FOLDER / RENDERED_FILE
    return RenderCache(path if enabled else None, present=enabled and path.is_file())


def open_cache(source: Path, enabled: bool) -> PageCache:
    """Return the source folder's page cache; an unreadable or foreign one is treated as empty."""
    if not enabled:
        return PageCache(None, {})
    path = source / CACHE_FOLDER / PAGES_FILE
    try:
        return PageCache(path, unpack_pages(path.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return PageCache(path, {})


KeyMemo = dict[tuple[str, Source], str]


def page_keys(sources: list[Source], config: Config, memo: KeyMemo | None = None) -> dict[Path, str]:
    """Return the key of each source file: what its parsed page depends on, hashed.

    With a memo (serve keeps one), a source seen before with the same settings is not hashed again; the memo
    is left holding this call's sources only.
    """
    settings = hashlib.sha256(f"{generator_digest()}\0{config!r}\0".encode())
    prefix = settings.hexdigest()
    keys: dict[Path, str] = {}
    seen: KeyMemo = {}
    for source in sources:
        key = memo.get((prefix, source)) if memo is not None else None
        if key is None:
            digest = settings.copy()
            digest.update(source.src_path.as_posix().encode("utf-8") + b"\0" + source.data)
            key = digest.hexdigest()
        keys[source.src_path] = seen[(prefix, source)] = key
    if memo is not None:
        memo.clear()
        memo.update(seen)
    return keys


@cache
def generator_digest() -> str:
    """Return a hash of the generator's own code and the Markdown and sanitiser libraries' versions."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("markdown", "nh3", "yaml"):
        # the stages import these anyway; importlib.metadata would cost 50 ms of start-up
        try:
            version = getattr(sys.modules.get(name) or importlib.import_module(name), "__version__", "?")
        except ImportError:
            version = "none"
        digest.update(f"{name}={version}".encode())
    return digest.hexdigest()


def encode_page(page: Page) -> list[Any]:
    """Return a page's fields but its body as JSON data, in field order."""
    return _encoder(Page)(page)  # type: ignore[no-any-return]


def decode_page(value: Any, body: Any) -> Page:
    """Return a Page from cached data and its body, refusing anything else, including values of the wrong type."""
    if type(body) is not str:
        raise ValueError("a cached body is not text")  # pragma: no mutate
    page: Page = _decoder(Page)(value, body=body)
    return page


Coder = typing.Callable[..., Any]


@cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """Return a dataclass's fields with their resolved types; a Page's body is stored apart from the rest."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if not (cls is Page and f.name == "body"))


@cache
def _encoder(hint: Any) -> Coder:
    """Return a function that turns a value of a type hint into JSON data (dataclasses become lists)."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        [other] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _encoder(other)
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        item = _encoder(typing.get_args(hint)[0])
        return lambda value: [item(part) for part in value]
    if origin is dict:
        item = _encoder(typing.get_args(hint)[1])
        return dict if item is _same else lambda value: {key: item(part) for key, part in value.items()}
    if hint is dt.datetime:
        return _encode_moment
    if hint is Any:
        return _encode_any
    if hint is Path:
        return lambda value: value.as_posix()
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = tuple((name, _encoder(field_hint)) for name, field_hint in _fields(hint))
        return lambda value: [code(getattr(value, name)) for name, code in fields]
    return _same


def _same(value: Any) -> Any:
    """Return a value that is JSON data already."""
    return value


def _encode_moment(value: dt.datetime) -> list[Any]:
    """Return a moment as its ISO text and time zone name."""
    return [value.isoformat(), getattr(value.tzinfo, "key", None)]


def _encode_any(value: Any) -> Any:
    """Return a custom field's value (text, number, true/false, date or list of texts) as JSON data."""
    if isinstance(value, dt.datetime):
        return {"moment": _encode_moment(value)}
    if isinstance(value, tuple):
        return [_encode_any(item) for item in value]
    return value


def _decode_any(value: Any) -> Any:
    """Return a custom field's value from JSON data, refusing anything _encode_any does not make."""
    if type(value) is dict and set(value) == {"moment"}:
        return _decode_moment(value["moment"])
    if type(value) is list:
        return tuple(_decode_any(item) for item in value)
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise ValueError(f"not a cached field value: {type(value).__name__}")  # pragma: no mutate


@cache
def _decoder(hint: Any) -> Coder:
    """Return a function that turns JSON data back into a value of a type hint, raising ValueError on a mismatch."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        [other] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _decoder(other)
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        item = _decoder(typing.get_args(hint)[0])
        return lambda value: tuple(item(part) for part in _of(list, value))
    if origin is dict:
        key, item = (_decoder(arg) for arg in typing.get_args(hint))
        return lambda value: {key(k): item(v) for k, v in _of(dict, value).items()}
    if hint is dt.datetime:
        return _decode_moment
    if hint is Any:
        return _decode_any
    if hint is Path:
        return lambda value: Path(_of(str, value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if hint in (str, int, bool, float):
        return lambda value: _of(hint, value)
    raise TypeError(f"cannot cache a {hint}")


# Field types whose JSON data is the value itself: checked by exact type, with no call per field.
_PLAIN: dict[Any, frozenset[type]] = {
    str: frozenset({str}),
    int: frozenset({int}),
    bool: frozenset({bool}),
    str | None: frozenset({str, type(None)}),
    int | None: frozenset({int, type(None)}),
}


def _dataclass_decoder(cls: type) -> Coder:
    """Return a function that makes a dataclass from the list of its fields' data (plus given extra fields)."""
    fields = tuple(
        (name, _PLAIN.get(field_hint, frozenset()), None if field_hint in _PLAIN else _decoder(field_hint))
        for name, field_hint in _fields(cls)
    )
    count = len(fields)

    def decode(value: Any, **extra: Any) -> Any:
        if type(value) is not list or len(value) != count:
            raise ValueError(f"not a cached {cls.__name__}")  # pragma: no mutate
        for (name, plain, code), item in zip(fields, value):  # noqa: B905 - the lengths were compared above
            if code is not None:
                extra[name] = code(item)
            elif type(item) in plain:
                extra[name] = item
            else:
                raise ValueError(f"a cached {cls.__name__}.{name} is a {type(item).__name__}")  # pragma: no mutate
        return cls(**extra)

    return decode


def _of(kind: type, value: Any) -> Any:
    """Return a value if it is exactly of a JSON type (a bool is no int), else raise ValueError."""
    if type(value) is not kind:
        raise ValueError(f"expected a {kind.__name__}, got a {type(value).__name__}")  # pragma: no mutate
    return value


def _decode_moment(value: Any) -> dt.datetime:
    """Return a moment from its ISO text and time zone name."""
    if type(value) is not list or len(value) != 2:
        raise ValueError("not a cached moment")  # pragma: no mutate
    moment = dt.datetime.fromisoformat(_of(str, value[0]))
    return moment.astimezone(_zone(_of(str, value[1]))) if value[1] is not None else moment


@cache
def _zone(name: str) -> dt.tzinfo:
    """Return a time zone by IANA name."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _path(value: str | None) -> Path | None:
    """Return a Path from cached text."""
    return Path(value) if value is not None else None


def _warning(warning: SiteError) -> dict[str, Any]:
    """Return a warning as JSON data."""
    path = warning.path.as_posix() if warning.path else None
    return {"message": warning.message, "path": path, "line": warning.line, "hint": warning.hint}
