"""Reads the source folder: site.yaml, the content files and the static files. Nothing else reads it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .config import CONFIG_NAME, Config, parse_config
from .content import BUNDLE_STEM, MAX_FILE_BYTES, SECTIONS, Page, Source
from .errors import Problems
from .picture import PICTURES
from .site import check_static_names, path_problem
from .urls import dest_for

CONTENT = "content"
STATIC = "static"


def read_config(source: Path, problems: Problems, base_url: str | None) -> Config | None:
    """Return the site's Config from site.yaml, or None after recording why not."""
    path = source / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problems.error(
            "the site settings file is missing",
            Path(CONFIG_NAME),
            None,
            f"expected it at {path}; is --source the right folder?",
        )
        return None
    except UnicodeDecodeError as error:
        problems.error(
            f"{CONFIG_NAME} is not UTF-8 text",
            Path(CONFIG_NAME),
            None,
            f"got byte 0x{error.object[error.start]:02x} at byte offset {error.start}",
        )
        return None
    return parse_config(text, Path(CONFIG_NAME), problems, base_url)


Signature = tuple[int, int, int, int, int]


@dataclass
class SourceMemo:
    """What a long-running process read last time: each file's stat signature and the Source made of it.

    A file whose size, modification and change times (in nanoseconds), inode and device are all unchanged is not
    read again. Any write changes the change time, which no program can set back, so a stale entry needs the
    clock itself to go back; `forget` drops files the caller knows changed anyway.
    """

    entries: dict[Path, tuple[Signature, Source]] = field(default_factory=dict)

    def forget(self, paths: Iterable[Path]) -> None:
        """Drop what is remembered of these files (absolute paths), so they are read again."""
        for path in paths:
            self.entries.pop(path, None)


def read_sources(source: Path, problems: Problems, memo: SourceMemo | None = None) -> list[Source]:
    """Return every markdown file under content/articles (at any depth), content/programs and content/pages."""
    sources: list[Source] = []
    seen: dict[Path, tuple[Signature, Source]] = {}
    start = len(str(source / CONTENT))  # each file's name relative to the source folder, without asking pathlib
    for section in SECTIONS:
        folder = source / CONTENT / section
        deep = section == "articles"
        # programs and pages may be page bundles too: <slug>/index.md with its images beside it
        for path in _files(folder, source, problems, deep=True):
            if path.lower().endswith(".md") and (deep or _top_or_bundle(path[len(str(folder)) + 1 :])):
                sources.append(_source(path, CONTENT + path[start:], memo, seen))
    if memo is not None:
        memo.entries = seen
    return sources


def _top_or_bundle(relative: str) -> bool:
    """Return whether a file under a section folder is a page of it: directly in it, or a bundle's index.md."""
    parts = relative.split(os.sep)
    return len(parts) == 1 or (len(parts) == 2 and parts[1].lower() == "index.md")


def _source(path: str, relative: str, memo: SourceMemo | None, seen: dict[Path, tuple[Signature, Source]]) -> Source:
    """Return one content file as a Source: the one remembered when its stat signature is unchanged."""
    if memo is None:
        return Source(Path(relative), _read_at_most(path, MAX_FILE_BYTES + 1))
    try:
        info = os.stat(path)
        signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    except OSError:
        return Source(Path(relative), _read_at_most(path, MAX_FILE_BYTES + 1))
    key = Path(path)
    known = memo.entries.get(key)
    if known is not None and known[0] == signature:
        seen[key] = known
        return known[1]
    made = Source(Path(relative), _read_at_most(path, MAX_FILE_BYTES + 1))
    seen[key] = (signature, made)
    return made


def read_source(source: Path, src_path: Path) -> Source:
    """Return one content file as a Source, from its path relative to the source folder; raise OSError."""
    return Source(src_path, _read_at_most(source / src_path, MAX_FILE_BYTES + 1))


def read_static(source: Path, problems: Problems) -> dict[str, bytes]:
    """Return the static files, keyed by their path in the output folder, recording names no host can serve."""
    files = {
        Path(path).relative_to(source).as_posix(): Path(path).read_bytes()
        for path in _files(source / STATIC, source, problems, deep=True)
    }
    check_static_names(files, problems)
    return files


def read_bundles(source: Path, pages: Iterable[Page], taken: Iterable[str], problems: Problems) -> dict[str, bytes]:
    """Return the files beside each page bundle's index.md but its pictures, keyed by their place beside the page.

    A page content/articles/<slug>/index.md is published at /articles/<slug>/, so a file beside it, linked
    from its text as `notes.pdf`, is published at /articles/<slug>/notes.pdf.
    """
    taken = {name.lower() for name in taken}
    files: dict[str, bytes] = {}
    for page in pages:
        if page.src_path.stem != BUNDLE_STEM or len(page.src_path.parts) < 4:  # content/<section>/<slug>/index.md
            continue
        folder = dest_for(page.url).removesuffix("index.html")
        for path in _files(source / page.src_path.parent, source, problems, deep=False):
            name = Path(path).name
            # pictures go through images.py, which publishes them resized and without metadata, never as they are
            if name.lower().endswith((".md", *PICTURES)):
                continue
            where = page.src_path.parent / name
            problem = path_problem(folder + name)
            if problem is None and (folder + name).lower() in taken:
                problem = f"expected a name the page's own files do not use, got {name!r}"
            if problem:
                problems.error("file beside the page cannot be published", where, None, problem)
                continue
            files[folder + name] = Path(path).read_bytes()
    return files


def _read_at_most(path: str | Path, limit: int) -> bytes:
    """Return a file's first bytes: enough to tell that it is too large without holding all of it."""
    handle = os.open(path, os.O_RDONLY)
    try:
        # asked for no more than the file holds, the system allocates no more: a third of the time of open().read
        parts = [os.read(handle, min(limit, os.fstat(handle).st_size + 1))]
        while parts[-1] and (got := sum(map(len, parts))) < limit:
            parts.append(os.read(handle, limit - got))
        return b"".join(parts)
    finally:
        os.close(handle)


def _files(folder: Path, source: Path, problems: Problems, deep: bool) -> list[str]:
    """Return the files under a folder in a stable order, leaving out hidden files and links that leave the source."""
    if not folder.is_dir():
        return []
    root = source.resolve()
    if not _inside(folder, root, source, problems):
        return []
    found: list[str] = []
    _walk(str(folder), folder.resolve(), root, source, problems, deep, found)
    return found


def _walk(folder: str, real: Path, root: Path, source: Path, problems: Problems, deep: bool, found: list[str]) -> None:
    """Add a folder's files, then (when deep) its subfolders' files, each in name order.

    Links are followed only while they stay inside the source folder, and never back into a folder above; what is
    not a link cannot lead out, so only links cost a look at where they point (most trees have none).
    """
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    folders: list[tuple[str, Path]] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        link = entry.is_symlink()
        if entry.is_dir():
            if not deep:
                continue
            target = Path(entry.path).resolve() if link else real / entry.name
            if link and (real.is_relative_to(target) or not _inside(Path(entry.path), root, source, problems)):
                continue
            folders.append((entry.path, target))
        else:
            outside = link and not _inside(Path(entry.path), root, source, problems)
            if entry.is_file() and not outside:
                found.append(entry.path)
    for path, target in folders:
        _walk(path, target, root, source, problems, deep, found)


def _inside(path: Path, root: Path, source: Path, problems: Problems) -> bool:
    """Return whether a file or folder, its links followed, is inside the source folder; warn when it is not."""
    target = path.resolve()
    if target.is_relative_to(root):
        return True
    kind = "folder" if target.is_dir() else "file"
    problems.warn(
        f"symbolic link to a {kind} outside the source folder is not followed",
        path.relative_to(source),
        None,
        f"it points to {target}",
    )
    return False
