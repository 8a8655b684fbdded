"""Site -> search index: Pagefind's static index of the published pages, published in /pagefind/ for /search/.

Pagefind's command line indexes a folder of HTML in one process (about 100 times faster than feeding its Python
API one page at a time), so the build writes one small document per published page into a temporary folder,
starts Pagefind on it while the pages render, and reads its output back into the build's files: the index goes
through write.py's staged swap like every other file. The index is kept in the cache by the hash of those
documents, so a build that changes nothing searchable does not run Pagefind.

Pagefind lists filter values and filters in hash-map order, which differs from run to run; `canonical` sorts them
and renames the two kinds of file that hold them, so the same pages always give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import IndexCache, generator_digest
from .content import Page
from .errors import Problems
from .site import Site
from .urls import dest_for

PAGEFIND_VERSION = "1.5.2"  # pagefind-bin, pinned in pyproject.toml: its output is published
BUNDLE = "pagefind"  # the index's folder in the output
SEARCH_URL = "/search/"
SEARCH_SCRIPT = "static/search.js"  # the search page's own script, published only with search on
KINDS = {"article": "Article", "program": "Program", "page": "Page", "author": "Author"}  # as results name them
# What the search page loads, beside the index itself; Pagefind's own UI files are left out (we have our own).
SHIPPED = ("pagefind-entry.json", "pagefind.js", "pagefind-worker.js")
COPIED_FOLDERS = ("index/", "fragment/")  # filter/ is written anew by `canonical`
CBOR_PREFIX = b"pagefind_dcd"
TIMEOUT_SECONDS = 600
FORMAT = 1  # of the documents and of `canonical`: part of the cache key
# Pagefind's working folder: in memory where the system has a tmpfs there, unless TMPDIR names another place.
# On a disk, creating a thousand documents and Pagefind's thousand output files took about a second.
MEMORY_FOLDER = Path("/dev/shm")


@dataclass
class Indexing:
    """A search index on its way: found in the cache, or being made by Pagefind in another process."""

    key: str
    cache: IndexCache
    found: dict[str, bytes] | None = None
    process: subprocess.Popen[bytes] | None = None
    folder: Path | None = None
    failure: str | None = None

    def done(self) -> bool:
        """Return whether the index is ready to be read without waiting."""
        return self.process is None or self.process.poll() is not None

    def stop(self) -> None:
        """Stop Pagefind, if it is running, and remove its folder: the index is no longer wanted."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def files(self, problems: Problems) -> dict[str, bytes]:
        """Return the index's files by output path, waiting for Pagefind; record a problem if it failed."""
        if self.found is not None:
            return self.found
        try:
            files = self._read()
        except (OSError, ValueError, KeyError, IndexError, TypeError, subprocess.SubprocessError) as error:
            self.failure = self.failure or f"{error}"
            files = None
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
        if files is None:
            problems.error(
                f"the search index could not be made: {self.failure}",
                None,
                None,
                f"expected Pagefind {PAGEFIND_VERSION} (pip install pagefind-bin=={PAGEFIND_VERSION}), "
                "or `search: false` in site.yaml",
            )
            return {}
        self.found = files
        self.cache.put(self.key, files)
        return files

    def _read(self) -> dict[str, bytes] | None:
        """Return Pagefind's output in canonical form, or None with the reason in `failure`."""
        if self.process is None or self.folder is None:
            return None  # never started: `failure` says why
        try:
            code = self.process.wait(TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.failure = f"Pagefind took more than {TIMEOUT_SECONDS} s"
            return None
        if code != 0:
            said = (self.folder / "pagefind.log").read_text(encoding="utf-8", errors="replace").strip()
            self.failure = f"Pagefind exited with status {code}" + (f": {said.splitlines()[-1]}" if said else "")
            return None
        output = self.folder / "out"
        found = {path.relative_to(output).as_posix(): path.read_bytes() for path in output.rglob("*") if path.is_file()}
        return {f"{BUNDLE}/{name}": data for name, data in sorted(canonical(found).items())}


def start_index(site: Site, cache: IndexCache, niceness: int = 0) -> Indexing:
    """Return the search index of a site's published pages: from the cache, or started in another process.

    A positive niceness lowers Pagefind's priority (serve's index gives way to the rebuild of the next save).
    """
    documents = index_documents(site)
    key = index_key(documents)
    indexing = Indexing(key, cache, found=cache.get(key))
    if indexing.found is not None:
        return indexing
    try:
        executable = _executable()
    except (ImportError, OSError) as error:
        indexing.failure = f"Pagefind is not installed ({error})"
        return indexing
    try:
        indexing.folder = folder = Path(tempfile.mkdtemp(prefix="kiln-search-", dir=_work_place()))
        for name, data in documents.items():
            target = folder / "site" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        with (folder / "pagefind.log").open("wb") as log:
            # a file, not a pipe: the build's forked workers would hold a pipe open until they exit
            indexing.process = subprocess.Popen(
                [str(executable), "--site", str(folder / "site"), "--output-path", str(folder / "out"), "--quiet"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        if niceness:
            with suppress(OSError, AttributeError):  # where the system has no priorities, at the usual one
                os.setpriority(os.PRIO_PROCESS, indexing.process.pid, niceness)
    except OSError as error:
        indexing.failure = f"Pagefind could not be started: {error.strerror or error}"
    return indexing


def _work_place() -> Path | None:
    """Return where Pagefind's working folder goes: the memory folder, or None for the system's temp folder."""
    if "TMPDIR" not in os.environ and MEMORY_FOLDER.is_dir() and os.access(MEMORY_FOLDER, os.W_OK | os.X_OK):
        return MEMORY_FOLDER
    return None


def _executable() -> Path:
    """Return Pagefind's binary, shipped inside the pagefind-bin package."""
    import pagefind_bin  # type: ignore[import-untyped]

    path: Path = pagefind_bin.get_executable()
    return path


def index_key(documents: dict[str, bytes]) -> str:
    """Return the hash of everything an index depends on: the documents, Pagefind and this generator."""
    digest = hashlib.sha256(f"{PAGEFIND_VERSION}\0{FORMAT}\0{generator_digest()}\0".encode())
    for name in sorted(documents):
        digest.update(name.encode() + b"\0" + hashlib.sha256(documents[name]).digest())
    return digest.hexdigest()


def index_documents(site: Site) -> dict[str, bytes]:
    """Return what Pagefind indexes of each page the site shows, by its output path.

    Only content pages: lists, tags, the 404 page, alias pages and the search page are never indexed. Drafts and
    future articles are in `site` only in a preview built with them, which then finds them too.
    """
    return {dest_for(page.url): document(site, page).encode("utf-8") for page in site.all_pages}


def document(site: Site, page: Page) -> str:
    """Return the page as Pagefind reads it: its text, with its kind, date and topics as metadata and filters."""
    escape = html.escape
    kind = KINDS[page.kind]
    facts = [f'<span data-pagefind-filter="kind:{kind}" data-pagefind-meta="kind:{kind}"></span>']
    if page.date is not None:
        facts.append(f'<span data-pagefind-meta="date:{page.date.day} {page.date:%B %Y}"></span>')
        facts.append(f'<span data-pagefind-meta="datetime:{page.date.isoformat(timespec="seconds")}"></span>')
    facts += [f'<span data-pagefind-filter="tag">{escape(name)}</span>' for name in _tag_names(site, page)]
    text = [f"<p>{escape(page.description)}</p>", page.body]
    if page.kind == "program":
        text += [
            f"<p>{escape(fact)}</p>" for fact in (page.schedule, page.format, page.price, page.facilitator) if fact
        ]
        text += [f"<p>{escape(skill.name)}. {escape(skill.summary or '')}</p>" for skill in page.skills]
        text += [f"<p>{escape(step)}</p>" for step in page.steps]
    return (
        f'<!doctype html>\n<html lang="{escape(site.config.language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(page.title)}</title>\n</head>\n<body>\n<main data-pagefind-body>\n"
        f"<h1>{escape(page.title)}</h1>\n<div data-pagefind-ignore>{''.join(facts)}</div>\n"
        + "\n".join(text)
        + "\n</main>\n</body>\n</html>\n"
    )


def _tag_names(site: Site, page: Page) -> list[str]:
    """Return the page's topics as the site spells them, each once."""
    return list(dict.fromkeys(site.tag_link(name).name for name in page.tags))


def canonical(found: dict[str, bytes]) -> dict[str, bytes]:
    """Return the files a reader's browser needs from Pagefind's output, with filters in a stable order.

    Pagefind writes a filter's values, and the list of filters in the language's meta file, in hash-map order;
    each such file is named by a hash of its content. Sorted and renamed here, equal input gives equal bytes.
    """
    entry = json.loads(found["pagefind-entry.json"])
    if entry.get("version") != PAGEFIND_VERSION:
        raise ValueError(f"Pagefind {entry.get('version')} made it, where {PAGEFIND_VERSION} is pinned")
    kept = {name: found[name] for name in SHIPPED}
    kept.update({name: data for name, data in found.items() if name.startswith(COPIED_FOLDERS)})
    for language in entry["languages"].values():
        prefix = language["hash"].split("_")[0]
        wasm = f"wasm.{language['wasm']}.pagefind"
        kept[wasm] = found[wasm]
        meta = _unpack(found[f"pagefind.{language['hash']}.pf_meta"])
        filters = []
        for name, old in meta[3]:
            data = _pack(_sorted_filter(_unpack(found[f"filter/{old}.pf_filter"])))
            new = f"{prefix}_{hashlib.sha256(data).hexdigest()[:7]}"
            kept[f"filter/{new}.pf_filter"] = data
            filters.append([name, new])
        meta[3] = sorted(filters)
        data = _pack(meta)
        language["hash"] = f"{prefix}_{hashlib.sha256(data).hexdigest()[:10]}"
        kept[f"pagefind.{language['hash']}.pf_meta"] = data
    kept["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return kept


def _sorted_filter(value: Any) -> Any:
    """Return a filter file's content ([name, [[value, [pages]], ...]]) with its values in order."""
    name, values = value
    return [name, sorted(values, key=lambda item: str(item[0]))]


def _unpack(data: bytes) -> Any:
    """Return the value a Pagefind data file holds: gzip, a fixed prefix, then CBOR."""
    raw = gzip.decompress(data)
    if not raw.startswith(CBOR_PREFIX):
        raise ValueError("a Pagefind file without its prefix")
    value, end = cbor_decode(raw, len(CBOR_PREFIX))
    if end != len(raw):
        raise ValueError("a Pagefind file with bytes after its value")
    return value


def _pack(value: Any) -> bytes:
    """Return a Pagefind data file holding a value (gzip without a time stamp, so equal values give equal bytes)."""
    return gzip.compress(CBOR_PREFIX + cbor_encode(value), compresslevel=9, mtime=0)


def cbor_decode(data: bytes, position: int = 0) -> tuple[Any, int]:
    """Return the CBOR value at a position of data and the position after it (the kinds Pagefind writes)."""
    head = data[position]
    major, info = head >> 5, head & 31
    position += 1
    if info < 24:
        argument = info
    elif info <= 27:
        size = 1 << (info - 24)
        argument = int.from_bytes(data[position : position + size], "big")
        position += size
    else:
        raise ValueError(f"CBOR item {head:#x} is not supported")
    if major == 0:
        return argument, position
    if major == 1:
        return -1 - argument, position
    if major in (2, 3):
        chunk = data[position : position + argument]
        return (bytes(chunk) if major == 2 else chunk.decode("utf-8")), position + argument
    if major == 4:
        items = []
        for _ in range(argument):
            item, position = cbor_decode(data, position)
            items.append(item)
        return items, position
    if major == 7 and info in (20, 21, 22):
        return {20: False, 21: True, 22: None}[info], position
    raise ValueError(f"CBOR item {head:#x} is not supported")


def cbor_encode(value: Any) -> bytes:
    """Return a value as CBOR in its shortest form (integers, strings, bytes, lists, true, false, null)."""
    if value is None or isinstance(value, bool):
        return bytes([0xF6 if value is None else 0xF5 if value else 0xF4])
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return _head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(cbor_encode(item) for item in value)
    raise TypeError(f"cannot encode a {type(value).__name__} as CBOR")


def _head(major: int, argument: int) -> bytes:
    """Return a CBOR item's first bytes: its major type and argument, in the fewest bytes."""
    if argument < 24:
        return bytes([major << 5 | argument])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | info]) + argument.to_bytes(size, "big")
    raise ValueError("a CBOR argument over 64 bits")
