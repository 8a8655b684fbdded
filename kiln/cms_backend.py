"""Decap CMS's local-backend protocol, answered by `serve --cms`: the editor in the browser reads and writes the
working folder, as Decap's own `decap-server` would, without Node.

One JSON action per POST to /api/v1 (`answer`). Reads and writes stay under content/ and the media folder, with
the build's path rules (`site.path_problem`) and no symbolic link leading out. Saved pages are tidied
(`tidy_entry`): front matter in the schema's order, lines whose value did not change kept exactly as they were,
fields the form does not show kept, and a file whose meaning did not change is not rewritten.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml
from tornado import web

from .cms import LOCAL_API, MEDIA_FOLDER, NOT_IN_FORM, config_yaml
from .config import Config
from .content import BUNDLE_STEM, MAX_FILE_BYTES, SECTIONS
from .errors import Problems
from .load import CONTENT, read_config
from .schema import fields_for
from .site import path_problem

WRITABLE = (CONTENT, MEDIA_FOLDER)  # the folders the editor may write in, relative to the source folder
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?\Z")


class Refused(Exception):
    """A request the backend will not carry out; its message goes back to the editor."""


@dataclass(frozen=True)
class Backend:
    """The working folder the editor edits."""

    source: Path

    def answer(self, action: str, params: dict[str, Any]) -> Any:
        """Return the JSON answer to one action of the protocol; raise Refused for what it will not do."""
        if action == "info":
            return {"repo": self.source.name, "publish_modes": ["simple"], "type": "local_fs"}
        if action == "entriesByFolder":
            folder = self.writable(params["folder"])  # a folder not made yet lists nothing
            depth, extension = int(params.get("depth", 1)), str(params.get("extension", ""))
            return [self.entry(path) for path in _files(folder, extension, depth)]
        if action == "entriesByFiles":
            return [self.entry(self.writable(file["path"]), file.get("label")) for file in params["files"]]
        if action == "getEntry":  # Decap asks whether a new page's file exists before it saves it
            return self.entry(self.writable(params["path"]))
        if action == "persistEntry":
            return self.persist_entry(params)
        if action == "getMedia":
            folder = self.writable(params["mediaFolder"])
            return [self.media(path) for path in _files(folder, "", 1) if path.suffix != ".md"]
        if action == "getMediaFile":
            return self.media(self.existing(params["path"]))
        if action == "persistMedia":
            asset = params["asset"]
            return self.media(self.write(asset["path"], base64.b64decode(asset["content"], validate=True)))
        if action in ("deleteFile", "deleteFiles"):
            paths = params["paths"] if action == "deleteFiles" else [params["path"]]
            for name in paths:
                self.writable(name).unlink(missing_ok=True)
            return {"message": f"deleted {', '.join(paths)}"}
        if action == "getDeployPreview":
            return None
        raise Refused(f"unknown action {action!r}")

    def persist_entry(self, params: dict[str, Any]) -> dict[str, str]:
        """Write a saved page (tidied) and the pictures added with it; move it when its slug changed."""
        files = params.get("dataFiles") or [params["entry"]]
        config = self.config()
        for file in files:
            target = self.writable(file["path"])
            old = target.read_text(encoding="utf-8") if target.is_file() else None
            text = tidy_entry(file["raw"], old, form_order(file["path"], config))
            if text is not None:
                self.write(file["path"], text.encode("utf-8"))
            if file.get("newPath") and file["newPath"] != file["path"]:
                self.move(file["path"], file["newPath"])
        for asset in params.get("assets", []):
            self.write(asset["path"], base64.b64decode(asset["content"], validate=True))
        return {"message": "entry persisted"}

    def config(self) -> Config | None:
        """Return the site's settings as they are now (the site's own fields shape the form's order)."""
        return read_config(self.source, Problems(), None)

    def entry(self, path: Path, label: str | None = None) -> dict[str, Any]:
        """Return one file as the protocol lists it: its text, path and content hash (None for a missing file)."""
        data = path.read_bytes() if path.is_file() else None
        digest = hashlib.sha256(data).hexdigest() if data is not None else None
        found = {"path": path.relative_to(self.source).as_posix(), "id": digest}
        if label is not None:
            found["label"] = label
        return {"data": data.decode("utf-8") if data is not None else None, "file": found}

    def media(self, path: Path) -> dict[str, Any]:
        """Return one picture as the protocol sends it: base64 bytes, path, name and hash."""
        data = path.read_bytes()
        return {
            "id": hashlib.sha256(data).hexdigest(),
            "content": base64.b64encode(data).decode("ascii"),
            "encoding": "base64",
            "path": path.relative_to(self.source).as_posix(),
            "name": path.name,
        }

    def existing(self, name: str) -> Path:
        """Return a file or folder to read: under content/ or the media folder, and really inside the source."""
        path = self.writable(name)
        if not path.exists():
            raise Refused(f"{name} does not exist")
        return path

    def writable(self, name: str) -> Path:
        """Return where a file under content/ or the media folder is, refusing any other or escaping path."""
        name = name.strip("/") if isinstance(name, str) else ""
        problem = path_problem(name)
        if problem or not any(name == root or name.startswith(root + "/") for root in WRITABLE):
            raise Refused(problem or f"expected a path under {' or '.join(WRITABLE)}, got {name!r}")
        path = self.source / name
        real_source = self.source.resolve()
        existing = path
        while not existing.exists() and existing != self.source:
            existing = existing.parent
        real = existing.resolve()
        if real != real_source and real_source not in real.parents:
            raise Refused(f"{name} leads outside the site's folder")
        return path

    def write(self, name: str, data: bytes) -> Path:
        """Write a file under content/ or the media folder, through a temporary file so no reader sees half."""
        if len(data) > MAX_FILE_BYTES:
            raise Refused(f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        path = self.writable(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writable(name)  # the folders just made are checked too
        temporary = path.with_name(f".{path.name}.cms-tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        return path

    def move(self, old: str, new: str) -> None:
        """Move a page to its new path (its slug changed), a bundle with its pictures; never over another."""
        source, target = self.existing(old), self.writable(new)
        if source.stem == BUNDLE_STEM and target.stem == BUNDLE_STEM and source.parent != self.source / CONTENT:
            source, target = source.parent, target.parent
        if target.exists():
            raise Refused(f"{new} already exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


def _files(folder: Path, extension: str, depth: int) -> list[Path]:
    """Return the files under folder, at most depth levels down, ending with extension; no hidden files or links."""
    found: list[Path] = []
    if depth <= 0 or not folder.is_dir():
        return found
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or child.is_symlink():  # a link could lead out of the site's folder
            continue
        if child.is_dir():
            found += _files(child, extension, depth - 1)
        elif child.is_file() and child.name.endswith(extension):
            found.append(child)
    return found


def form_order(name: str, config: Config | None) -> tuple[tuple[str, ...], frozenset[str]]:
    """Return the front matter fields of the page at a path in schema order, and those the form shows."""
    parts = PurePosixPath(name).parts
    kind = SECTIONS.get(parts[1]) if len(parts) > 2 and parts[0] == CONTENT else None
    if kind is None:
        return (), frozenset()
    names = tuple(field.name for field in fields_for(kind, config.fields if config else ()))
    return names, frozenset(names) - NOT_IN_FORM


def tidy_entry(raw: str, old: str | None, order: tuple[tuple[str, ...], frozenset[str]]) -> str | None:
    """Return the file to write for a page the editor saved, or None when the file already says the same.

    A new page's front matter is in the schema's order; an edited page keeps its order, and a field it gains
    goes after the fields the schema puts before it. A field whose value did not change keeps its old lines
    (comments and quoting included); a field the form does not show keeps its old value; empty values are left
    out; the old body is kept unless its text changed.
    """
    names, shown = order
    new_front, new_body = _split(raw)
    sent = yaml.safe_load(new_front) if new_front.strip() else {}
    if not isinstance(sent, dict):
        raise Refused("expected front matter of `key: value` lines")
    new = {str(key): value for key, value in sent.items() if not _empty(value)}
    old_front, old_body = _split(old) if old is not None else ("", "")
    try:
        blocks, prefix = _blocks(old_front)
        previous = yaml.safe_load(old_front) if old_front.strip() else {}
    except yaml.YAMLError:  # the file was broken before: the form's version replaces its front matter
        blocks, prefix, previous = {}, "", {}
    previous = previous if isinstance(previous, dict) else {}
    kept = {key: previous[key] for key in blocks if key not in new and key not in shown and key in previous}
    lines = [prefix]
    for key in _order([key for key in blocks if key in new or key in kept], list(new), names):
        if key in kept:
            lines.append(blocks[key])
        elif key in new:
            same = key in blocks and key in previous and _plain(previous[key]) == _plain(new[key])
            lines.append(blocks[key] if same else _dump(key, new[key]))
    if old is not None and old_body.strip() == new_body.strip():
        body = old_body
    else:  # the blank lines the old file had after its front matter stay
        body = old_body[: len(old_body) - len(old_body.lstrip("\n"))] + new_body.lstrip("\n")
    text = "---\n" + "".join(lines) + "---\n" + body
    text = text if text.endswith("\n") else text + "\n"
    return None if text == old else text


def _order(existing: list[str], sent: list[str], names: tuple[str, ...]) -> list[str]:
    """Return the keys to write: those the file had in its order, each new one after its schema predecessors."""
    rank = {name: number for number, name in enumerate(names)}
    keys = list(existing)
    for key in sorted((key for key in sent if key not in keys), key=lambda key: rank.get(key, len(rank))):
        before = [index for index, other in enumerate(keys) if rank.get(other, len(rank)) <= rank.get(key, len(rank))]
        keys.insert(before[-1] + 1 if before else 0, key)
    return keys


def _split(text: str) -> tuple[str, str]:
    """Return a file's front matter and body (no front matter: all body)."""
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return "", text
    end = text.find("\n---\n", 3)
    if end == -1:
        return (text[4:], "") if text.endswith("\n---") else ("", text)
    return text[4 : end + 1], text[end + 5 :]


def _blocks(front: str) -> tuple[dict[str, str], str]:
    """Return each top-level key's lines as written (comments after it included), and the lines before the first."""
    if not front.strip():
        return {}, ""
    node = yaml.compose(front, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return {}, ""
    lines = front.splitlines(keepends=True)
    starts = [(str(key.value), key.start_mark.line) for key, _ in node.value]
    ends = [line for _, line in starts[1:]] + [len(lines)]
    blocks = {key: "".join(lines[start:end]) for (key, start), end in zip(starts, ends, strict=True)}
    return blocks, "".join(lines[: starts[0][1]]) if starts else ""


def _dump(key: str, value: Any) -> str:
    """Return one field in our style: dates bare, short lists on one line, entries as a block."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        return f"{key}: {value}\n"
    flow = isinstance(value, list) and not any(isinstance(item, list | dict) for item in value)
    if flow:
        return f"{key}: {_yaml(value, True).strip()}\n"
    return _yaml({key: value}, False)


def _yaml(value: Any, flow: bool) -> str:
    """Return YAML text in one style: flow ([a, b]) or block."""
    return yaml.safe_dump(value, default_flow_style=flow, sort_keys=False, allow_unicode=True, width=1000)


def _plain(value: Any) -> Any:
    """Return a value for comparing what the editor sent with what the file held (dates as text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items() if not _empty(item)}
    return value


def _empty(value: Any) -> bool:
    """Return whether a value the form sends means "not set"."""
    return value is None or value == "" or value == [] or value == {}


class CmsApi(web.RequestHandler):
    """POST /api/v1: one action of the protocol, from a page of this server only (its Origin is this host)."""

    def check_xsrf_cookie(self) -> None:
        """The Origin check below does this request's part (the API is JSON from our own page)."""

    def post(self) -> None:
        origin = urlsplit(self.request.headers.get("Origin", ""))
        if origin.scheme not in ("http", "https") or origin.netloc.lower() != self.request.host.lower():
            raise web.HTTPError(403, reason="Origin not allowed")
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            raise web.HTTPError(415, reason="Expected JSON")
        try:
            body = json.loads(self.request.body)
            found = self.settings["cms_backend"].answer(str(body["action"]), body.get("params") or {})
        except (Refused, OSError, KeyError, TypeError, ValueError, UnicodeDecodeError, yaml.YAMLError) as error:
            self.set_status(422 if isinstance(error, Refused) else 400)
            self.finish({"error": str(error) if isinstance(error, Refused) else f"bad request: {error!r}"})
            return
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(found))


class CmsConfig(web.RequestHandler):
    """GET /admin/config.yml: the built config plus the local backend's address on this server."""

    def get(self) -> None:
        config: Config | None = self.settings["cms_backend"].config()
        if config is None or config.cms is None:
            raise web.HTTPError(404)
        local = f"{self.request.protocol}://{self.request.host}{LOCAL_API}"
        self.set_header("Content-Type", "text/yaml; charset=utf-8")
        self.finish(config_yaml(config, local).encode("utf-8"))
