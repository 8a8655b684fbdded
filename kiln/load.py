"""Reads the source folder: site.yaml, the content files and the static files. Nothing else reads it."""

from __future__ import annotations

import os
from pathlib import Path

from .config import CONFIG_NAME, Config, parse_config
from .content import MAX_FILE_BYTES, SECTIONS, Source
from .errors import Problems
from .site import check_static_names

CONTENT = "content"
STATIC = "static"


def read_config(source: Path, problems: Problems, base_url: str | None) -> Config | None:
    """Return the site's Config from site.yaml, or None after recording why not."""
    path = source / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problems.error(
            f"{CONFIG_NAME} is missing",
            Path(CONFIG_NAME),
            None,
            f"expected the site settings in {path}; is --source the right folder?",
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


def read_sources(source: Path, problems: Problems) -> list[Source]:
    """Return every markdown file under content/articles (at any depth), content/programs and content/pages."""
    sources: list[Source] = []
    for section in SECTIONS:
        folder = source / CONTENT / section
        deep = section == "articles"
        for path in _files(folder, source, problems, deep):
            if path.suffix.lower() == ".md":
                sources.append(Source(path.relative_to(source), _read_at_most(path, MAX_FILE_BYTES + 1)))
    return sources


def read_static(source: Path, problems: Problems) -> dict[str, bytes]:
    """Return the static files, keyed by their path in the output folder, recording names no host can serve."""
    files = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in _files(source / STATIC, source, problems, deep=True)
    }
    check_static_names(files, problems)
    return files


def _read_at_most(path: Path, limit: int) -> bytes:
    """Return a file's first bytes: enough to tell that it is too large without holding all of it."""
    with path.open("rb") as handle:
        return handle.read(limit)


def _files(folder: Path, source: Path, problems: Problems, deep: bool) -> list[Path]:
    """Return the files under a folder in a stable order, leaving out hidden files and links that leave the source."""
    if not folder.is_dir():
        return []
    root = source.resolve()
    if not _inside(folder, root, source, problems):
        return []
    found: list[Path] = []
    # links are followed only while they stay inside the source folder, and never back into a folder above
    for parent, folders, names in os.walk(folder, followlinks=True):
        here = Path(parent).resolve()
        folders[:] = [
            name
            for name in (sorted(folders) if deep else [])
            if not name.startswith(".")
            and not here.is_relative_to((Path(parent) / name).resolve())
            and _inside(Path(parent) / name, root, source, problems)
        ]
        for name in sorted(names):
            path = Path(parent) / name
            # the folder is inside already, so only a file that is itself a link can lead out
            outside = path.is_symlink() and not _inside(path, root, source, problems)
            if not name.startswith(".") and path.is_file() and not outside:
                found.append(path)
    return found


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
