"""Reads the source folder: site.yaml, the content files and the static files. Nothing else reads it."""

from __future__ import annotations

import os
from pathlib import Path

from .config import CONFIG_NAME, Config, parse_config
from .content import SECTIONS, Source
from .errors import Problems

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
                sources.append(Source(path.relative_to(source), path.read_bytes()))
    return sources


def read_static(source: Path, problems: Problems) -> dict[str, bytes]:
    """Return the static files, keyed by their path in the output folder."""
    return {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in _files(source / STATIC, source, problems, deep=True)
    }


def _files(folder: Path, source: Path, problems: Problems, deep: bool) -> list[Path]:
    """Return the files under a folder in a stable order, leaving out hidden files and links that leave the source."""
    if not folder.is_dir():
        return []
    root = source.resolve()
    found: list[Path] = []
    for parent, folders, names in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith(".")) if deep else []
        for name in sorted(names):
            path = Path(parent) / name
            if name.startswith(".") or not path.is_file():
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                problems.warn(
                    "symbolic link to a file outside the source folder is not followed",
                    path.relative_to(source),
                    None,
                    f"it points to {path.resolve()}",
                )
                continue
            found.append(path)
    return found
