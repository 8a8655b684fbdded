"""The Nu HTML Checker (vnu.jar from the npm package vnu-jar, run with the machine's Java) over whole built sites."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import NOW, REPO, lay_out
from test_browser import build_theme_site

from kiln.cli import main

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# Our lists of cards drop their bullets, and Safari then hides from VoiceOver that they are lists; role="list"
# gives it back. vnu calls that role unnecessary: the one warning we accept.
ACCEPTED = {"The “list” role is unnecessary for element “ul”."}
# The 404 page carries the pages' policy in a meta element, which vnu applies as a browser would, but from a file:
# URL, where 'self' matches nothing (so the site's own stylesheet seems blocked), and to the JSON-LD data block as
# if it were a script (browsers never run a data block: HTML's "prepare the script element" stops at its type,
# before any policy check). test_browser.py loads the 404 page under that policy and sees no console message.
META_POLICY_ON_FILES = (
    "Resource violates Content Security Policy (meta tag): external stylesheet “/static/style.",
    "Inline script violates Content Security Policy (meta tag): blocked by “script-src” directive",
)
DRAFT = """\
---
title: A draft in preview
date: 2026-11-01
draft: true
tags: [trust]
---
Not yet published.
"""


def vnu(files: list[Path]) -> list[dict[str, str]]:
    """Return every message vnu gives about the files: HTML, CSS and SVG."""
    java = shutil.which("java")
    assert java, "java is missing: install a Java runtime (apt-get install default-jre-headless)"
    assert VNU.is_file(), f"{VNU.relative_to(REPO)} is missing: run `npm ci` in {REPO}"
    command = [java, "-jar", str(VNU), "--format", "json", "--also-check-css", "--also-check-svg", *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    messages: list[dict[str, str]] = json.loads(done.stderr)["messages"]
    return messages


def checked_files(folder: Path) -> list[Path]:
    """Return the files of a built site that vnu can check: its HTML, CSS and SVG."""
    return sorted(path for path in folder.rglob("*") if path.suffix in (".html", ".css", ".svg"))


def shown(message: dict[str, str]) -> str:
    """Return one vnu message as path:line: message."""
    return f"{message.get('url', '?')}:{message.get('lastLine', '?')}: {message.get('type')}: {message['message']}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Return the output folders of the launch site with the theme's extra pages, and of a preview with a draft."""
    theme = build_theme_site(tmp_path_factory.mktemp("theme"))
    preview_root = tmp_path_factory.mktemp("preview")
    source = lay_out(preview_root / "src", {"content/articles/draft.md": DRAFT})
    preview = preview_root / "out"
    assert (
        main(
            [
                "build",
                "--source",
                str(source),
                "--output",
                str(preview),
                "--drafts",
                "--preview",
                "--now",
                NOW.isoformat(),
            ]
        )
        == 0
    )
    return [theme, preview]


def test_every_built_file_is_valid(built: list[Path]) -> None:
    """vnu finds no error, and no warning but the accepted one, in any HTML, CSS or SVG file of the sites."""
    files = [path for folder in built for path in checked_files(folder)]
    assert sum(path.suffix == ".html" for path in files) >= 15
    assert {path.suffix for path in files} == {".html", ".css", ".svg"}
    messages = vnu(files)
    assert [shown(m) for m in messages if m["type"] != "info" or m.get("subType") != "warning"] == []
    assert [shown(m) for m in messages if m["message"] not in ACCEPTED and not _file_artifact(m)] == []
    assert sum(map(_file_artifact, messages)) == 2  # the 404 page of the published site has its policy


def _file_artifact(message: dict[str, str]) -> bool:
    """Return whether vnu's message is about the 404 page's meta policy as applied to a file (see above)."""
    return message["url"].endswith("/404.html") and message["message"].startswith(META_POLICY_ON_FILES)


def test_the_checker_reports_a_broken_page(tmp_path: Path) -> None:
    """The check can fail: a page with a stray end tag and no title gives errors that name the file."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html>\n<html lang=en>\n<p>Text</div>\n", encoding="utf-8")
    errors = [m for m in vnu([page]) if m["type"] == "error"]
    assert any("“title”" in m["message"] for m in errors)
    assert any(m["message"] == "Stray end tag “div”." and m["url"].endswith("/broken.html") for m in errors)
