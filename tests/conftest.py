"""Shared test helpers: lay out a tiny site in tmp_path from {path: text}, build it, parse what it wrote."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from kiln.cli import main

REPO = Path(__file__).resolve().parent.parent
# A fixed "now" so that tests of future-dated articles do not depend on the day they run.
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)

CONFIG = """\
title: Test Site
organisation: Test Org
description: A site made by the tests.
base_url: https://example.org/
timezone: Europe/London
signup_url: https://forms.test.invalid/signup
disclaimer: Information only, not care.
crisis_line: In the US, call or text 988.
"""

ARTICLE = """\
---
title: {title}
date: 2026-01-0{day}
tags: [trust]
---
Some text about {title}.
"""

PROGRAM = """\
---
title: A program
description: A program to join.
duration_weeks: 12
---
About the program.
"""


@dataclass
class Run:
    """What one command-line run gave: its exit code and what it printed."""

    code: int
    out: str
    err: str


def lay_out(root: Path, files: dict[str, str | bytes], *, theme: bool = True) -> Path:
    """Write a source folder: site.yaml (unless given), the repo's templates and static files, and files."""
    root.mkdir(parents=True, exist_ok=True)
    if theme:
        shutil.copytree(REPO / "templates", root / "templates", dirs_exist_ok=True)
        shutil.copytree(REPO / "static", root / "static", dirs_exist_ok=True)
    if "site.yaml" not in files:
        (root / "site.yaml").write_text(CONFIG, encoding="utf-8")
    write_files(root, files)
    return root


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write each {path: text or bytes} under root, making folders as needed."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """Run the command line in-process, as `python build.py ARGV` would, and capture its output."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Return every file under a folder with its bytes, to compare two states of it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "cite", "background")
RUNNABLE = ("script", "iframe", "frame", "object", "embed", "form", "style", "base", "svg", "math")
# What a browser ignores in a URL: spaces and control characters around it, tabs and newlines anywhere in it.
_AROUND_URL = "".join(map(chr, range(0x21)))
_IN_URL = dict.fromkeys(map(ord, "\t\n\r"))
_ALIGNMENT = re.compile(r"text-align: (?:left|right|center);")  # the one style the tables extension writes


def _our_search_form(element: Any) -> bool:
    """Return whether a form is the theme's own search form: a GET to the site's /search/ page, outside the text."""
    action = str(element.get("action", ""))
    inside_text = element.find_parent(class_="prose") is not None or element.find_parent("article") is not None
    return (
        element.name == "form"
        and element.get("role") == "search"
        and element.get("method") == "get"
        and action.endswith("/search/")
        and not inside_text
    )


def harm_in(html: str) -> list[str]:
    """Return what in a built page could run script or restyle it: [] for a harmless page.

    Script elements other than JSON-LD data, elements that run or embed (iframe, object, form, style, svg...),
    event attributes (on*), style attributes other than the tables extension's alignment, and javascript: or
    vbscript: URLs, as a browser reads them (case and blanks ignored).
    """
    found = []
    for element in BeautifulSoup(html, "html.parser").find_all(True):
        name = element.name.lower()
        if name == "script":
            if element.get("type") != "application/ld+json" or element.get("src") is not None:
                found.append(f"a script element: {str(element)[:80]}")
        elif name in RUNNABLE and not _our_search_form(element):
            found.append(f"a {name} element")
        for attribute, value in element.attrs.items():
            attribute = attribute.lower()
            text = " ".join(value) if isinstance(value, list) else str(value)
            if attribute.startswith("on"):
                found.append(f"an event attribute: <{name} {attribute}={text!r}>")
            elif attribute == "style" and not (name in ("th", "td") and _ALIGNMENT.fullmatch(text)):
                found.append(f"a style attribute: <{name} style={text!r}>")
            elif attribute in URL_ATTRIBUTES:
                scheme = text.strip(_AROUND_URL).translate(_IN_URL).lower().partition(":")[0]
                if scheme in ("javascript", "vbscript"):
                    found.append(f"a {scheme}: URL: <{name} {attribute}={text!r}>")
    return found


def soup(path: Path) -> BeautifulSoup:
    """Return a built HTML file, parsed."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture
def site(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that lays out a site in tmp_path/src from {path: text}."""

    def make(files: dict[str, str | bytes] | None = None, theme: bool = True) -> Path:
        return lay_out(tmp_path / "src", files or {}, theme=theme)

    return make


@pytest.fixture
def build(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Return a function that builds a source folder with extra arguments, as if it were NOW."""

    def run_build(source: Path, *args: str) -> Run:
        return run(capsys, "build", "--source", str(source), "--now", NOW.isoformat(), *args)

    return run_build
