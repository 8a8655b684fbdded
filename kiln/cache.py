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

    def get(self, key: str) -> tuple[Page, list[SiteError]] | None:
        """Return the cached page and warnings for a key, or None (also when the entry does not decode)."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            page = decode_page(entry["page"])
            warnings = [SiteError(w["message"], _path(w["path"]), w["line"], w["hint"]) for w in entry["warnings"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self.used.add(key)
        return page, warnings

    def put(self, key: str, page: Page, warnings: list[SiteError]) -> None:
        """Remember a freshly parsed page and the warnings it gave."""
        self.entries[key] = {"page": encode(page), "warnings": [_warning(w) for w in warnings]}
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write the entries this build used (dropping the rest), if anything changed; never fail the build."""
        if self.path is None or (not self.changed and self.used == set(self.entries)):
            return
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


def page_key(source: Source, config: Config) -> str:
    """Return the key of a source file: what its parsed page depends on, hashed."""
    digest = hashlib.sha256()
    for part in (generator_digest(), repr(config), source.src_path.as_posix()):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(source.data)
    return digest.hexdigest()


@cache
def generator_digest() -> str:
    """Return a hash of the generator's own code and the Markdown and sanitiser libraries' versions."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for module in ("markdown", "nh3", "yaml"):
        # the modules are imported by the stages anyway; importlib.metadata would cost 50 ms of start-up
        version = getattr(sys.modules.get(module) or importlib.import_module(module), "__version__", "?")
        digest.update(f"{module}={version}".encode())
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
    for name, hint in _hints(Page).items():
        if not _conforms(getattr(page, name), hint):
            raise ValueError(f"cached page field {name} has the wrong type")
    return page


@cache
def _hints(cls: type) -> dict[str, Any]:
    """Return a dataclass's field types, resolved."""
    return typing.get_type_hints(cls)


def _conforms(value: Any, hint: Any) -> bool:
    """Return whether a value matches a type hint made of classes, unions, tuples and dicts."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_conforms(value, option) for option in typing.get_args(hint))
    if origin is tuple:
        return isinstance(value, tuple) and all(_conforms(item, typing.get_args(hint)[0]) for item in value)
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        return isinstance(value, dict) and all(
            _conforms(k, key_type) and _conforms(v, value_type) for k, v in value.items()
        )
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, hint) and all(
            _conforms(getattr(value, name), field_hint) for name, field_hint in _hints(hint).items()
        )
    return isinstance(value, hint)


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
