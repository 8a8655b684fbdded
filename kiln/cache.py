"""A build cache of parsed pages, so an unchanged file is never parsed or converted twice.

Each entry is keyed by a hash of the file's bytes, its path, the site settings and the generator itself
(its source code and the Markdown library's version), so any change to what a page's parsing depends on
misses. The file is JSON, never pickle: a cache restored from elsewhere is data that is checked, not code
that is run. Anything unreadable, of another format or of another generator is ignored and rebuilt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import json
import logging
import os
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from .config import Config
from .content import Page, Skill, Source
from .errors import SiteError
from .markup import Heading

CACHE_FOLDER = ".kiln-cache"
FORMAT = 1
_CLASSES: dict[str, Any] = {"Heading": Heading, "Skill": Skill}
log = logging.getLogger(__name__)


@dataclasses.dataclass
class PageCache:
    """Parsed pages by key, loaded from the cache folder and saved back after a build."""

    path: Path | None
    entries: dict[str, dict[str, Any]]
    used: set[str] = dataclasses.field(default_factory=set)
    changed: bool = False
    decoded: dict[str, tuple[Page, list[SiteError]]] = dataclasses.field(default_factory=dict)

    def get(self, key: str) -> tuple[Page, list[SiteError]] | None:
        """Return the cached page and warnings for a key, or None (also when the entry does not decode)."""
        if key in self.decoded:  # a long-running serve keeps what it decoded
            self.used.add(key)
            return self.decoded[key]
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            page = decode_page(entry["page"])
            warnings = [SiteError(w["message"], _path(w["path"]), w["line"], w["hint"]) for w in entry["warnings"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if page.key != key:
            return None
        self.used.add(key)
        self.decoded[key] = (page, warnings)
        return page, warnings

    def put(self, key: str, page: Page, warnings: list[SiteError]) -> None:
        """Remember a freshly parsed page and the warnings it gave."""
        self.entries[key] = {"page": encode(page), "warnings": [_warning(w) for w in warnings]}
        self.decoded[key] = (page, warnings)
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries this build used (dropping the rest), if anything changed; never fail the build."""
        self.decoded = {key: value for key, value in self.decoded.items() if key in self.used}
        if self.path is None or (not self.changed and self.used == set(self.entries)):
            return
        self.changed = False
        data = {
            "format": FORMAT,
            "generator": generator_digest(),
            "entries": {key: self.entries[key] for key in sorted(self.used)},
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            temporary.replace(self.path)
        except OSError as error:
            log.debug("build cache not saved: %s", error)


@dataclasses.dataclass
class RenderCache:
    """Rendered files by the hash of everything that made them, one file each under the cache folder.

    A file's key covers its template and every template it may include, the settings, the generator and
    the values it was given, so a hit is the very bytes a render would give; unused entries are removed.
    """

    folder: Path | None
    used: set[str] = dataclasses.field(default_factory=set)
    kept: dict[str, bytes] = dataclasses.field(default_factory=dict)  # what this process rendered or read

    def get(self, key: str) -> bytes | None:
        """Return the bytes rendered earlier for a key, or None."""
        if key in self.kept:
            self.used.add(key)
            return self.kept[key]
        if self.folder is None:
            return None
        try:
            stored = (self.folder / key).read_bytes()
        except OSError:
            return None
        checksum, data = stored[:32], stored[32:]
        if hashlib.sha256(data).digest() != checksum:  # truncated or altered: render afresh
            return None
        self.used.add(key)
        self.kept[key] = data
        return data

    def put(self, key: str, data: bytes) -> None:
        """Remember the bytes rendered for a key; never fail the build."""
        self.used.add(key)
        self.kept[key] = data
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.folder / f".{key}.{os.getpid()}.tmp"
            temporary.write_bytes(hashlib.sha256(data).digest() + data)
            temporary.replace(self.folder / key)
        except OSError as error:
            log.debug("rendered file not cached: %s", error)

    def prune(self) -> None:
        """Forget and remove the entries this build did not use."""
        self.kept = {key: data for key, data in self.kept.items() if key in self.used}
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.name not in self.used:
                path.unlink(missing_ok=True)


@dataclasses.dataclass
class Caches:
    """Both caches of a source folder; a serve process keeps one for all its rebuilds."""

    pages: PageCache
    rendered: RenderCache

    def start(self) -> None:
        """Begin a build: nothing is in use yet."""
        self.pages.used.clear()
        self.rendered.used.clear()

    def save(self) -> None:
        """After a successful build: store the parsed pages and drop what the build did not use."""
        self.pages.save()
        self.rendered.prune()


def open_caches(source: Path, enabled: bool = True) -> Caches:
    """Return the caches of a source folder (empty ones that are never stored when disabled)."""
    return Caches(open_cache(source, enabled), open_render_cache(source, enabled))


def open_render_cache(source: Path, enabled: bool = True) -> RenderCache:
    """Return the source folder's cache of rendered files."""
    return RenderCache(source / CACHE_FOLDER / "rendered" if enabled else None)


def open_cache(source: Path, enabled: bool = True) -> PageCache:
    """Return the source folder's page cache; an unreadable or foreign one is treated as empty."""
    if not enabled:
        return PageCache(None, {})
    path = source / CACHE_FOLDER / "pages.json"
    try:
        data = json.loads(path.read_bytes())
        if data["format"] == FORMAT and data["generator"] == generator_digest() and isinstance(data["entries"], dict):
            return PageCache(path, data["entries"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return PageCache(path, {})


def page_keys(sources: list[Source], config: Config) -> dict[Path, str]:
    """Return the key of each source file: what its parsed page depends on, hashed."""
    settings = hashlib.sha256(f"{generator_digest()}\0{config!r}\0".encode())
    keys: dict[Path, str] = {}
    for source in sources:
        digest = settings.copy()
        digest.update(source.src_path.as_posix().encode("utf-8") + b"\0" + source.data)
        keys[source.src_path] = digest.hexdigest()
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


def encode(value: Any) -> Any:
    """Return a value as JSON data, tagging the types JSON does not have."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "$": type(value).__name__,
            **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, dt.datetime):
        return {"$": "datetime", "iso": value.isoformat(), "zone": getattr(value.tzinfo, "key", None)}
    if isinstance(value, Path):
        return {"$": "Path", "path": value.as_posix()}
    if isinstance(value, tuple):
        return {"$": "tuple", "items": [encode(item) for item in value]}
    if isinstance(value, dict):
        return {"$": "dict", "items": {str(k): encode(v) for k, v in value.items()}}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def decode(value: Any) -> Any:
    """Return the value that `encode` turned into JSON data."""
    if not isinstance(value, dict):
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        raise ValueError("not a cached value")
    kind = value["$"]
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(value["iso"])
        return moment.astimezone(_zone(value["zone"])) if value["zone"] else moment
    if kind == "Path":
        return Path(value["path"])
    if kind == "tuple":
        return tuple(decode(item) for item in value["items"])
    if kind == "dict":
        return {key: decode(item) for key, item in value["items"].items()}
    return _CLASSES[kind](**{key: decode(item) for key, item in value.items() if key != "$"})


def decode_page(value: Any) -> Page:
    """Return a Page from cached data, refusing anything else, including values of the wrong type."""
    if not isinstance(value, dict) or value.get("$") != "Page":
        raise ValueError("not a cached page")
    page = Page(**{key: decode(item) for key, item in value.items() if key != "$"})
    if not _checker(Page)(page):
        raise ValueError("a cached page field has the wrong type")
    return page


@cache
def _hints(cls: type) -> dict[str, Any]:
    """Return a dataclass's field types, resolved."""
    return typing.get_type_hints(cls)


Check = typing.Callable[[Any], bool]


@cache
def _checker(hint: Any) -> Check:
    """Return a function that tells whether a value matches a type hint made of classes, unions, tuples, dicts."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = tuple(_checker(option) for option in typing.get_args(hint))
        return lambda value: any(check(value) for check in options)
    if origin is tuple:
        item = _checker(typing.get_args(hint)[0])
        return lambda value: isinstance(value, tuple) and all(item(part) for part in value)
    if origin is dict:
        key, item = (_checker(arg) for arg in typing.get_args(hint))
        return lambda value: isinstance(value, dict) and all(key(k) and item(v) for k, v in value.items())
    if hint is type(None):
        return lambda value: value is None
    if hint is int:
        return lambda value: type(value) is int
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = tuple((name, _checker(field_hint)) for name, field_hint in _hints(hint).items())
        return lambda value: isinstance(value, hint) and all(check(getattr(value, n)) for n, check in fields)
    return lambda value: isinstance(value, hint)


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
