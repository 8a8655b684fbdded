"""The browser editor in Debian's chromium, under `serve --cms`: write, edit and refuse through Decap CMS's form.

Needs /usr/bin/chromium and `npm ci` (decap-cms, axe-core). Without them these tests skip on a developer's
machine and fail in CI (CI=true). The CMS's script comes from node_modules; nothing is fetched from outside.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_browser
import yaml
from bs4 import BeautifulSoup
from conftest import CONFIG, NOW, REPO, lay_out
from test_browser import AXE
from test_serve import WAIT, Served, http

from kiln import cms

CMS_YAML = "cms:\n  backend: github\n  repo: our-org/our-site\n  branch: main\n"
EXISTING = """\
---
title: Trust after a fight
# written for the launch
date: 2026-11-20
tags: [trust]
aliases: [/old-trust/]
---

How trust comes back.
"""
PROGRAM = """\
---
title: Skills group
description: A group to join.
duration_weeks: 12
---
About the group.
"""
# What axe finds in Decap CMS's own screens (its markup, which we do not control); listed in
# docs/editing-in-the-browser.md. A violation not in this list fails the test.
KNOWN_AXE = {
    "login": {"color-contrast", "landmark-one-main", "page-has-heading-one", "region"},
    "editor": {
        "aria-input-field-name",  # the relation widget's search box
        "aria-required-attr",  # the rich text / markdown switch (role=switch without aria-checked)
        "button-name",  # the same switch
        "color-contrast",  # the "unsaved changes" badge, the Publish button, the site link
        "frame-title",  # the preview's iframe
        "nested-interactive",  # the toolbar's heading and "add" menus
        "region",  # the editor's panes are not in landmarks
    },
}
MS = 1000
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)  # one pixel


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    """Yield `serve --cms` on a small site whose node_modules is the repository's."""
    if not (REPO / cms.DIST / cms.SCRIPT).is_file() or not AXE.is_file():
        reason = f"{cms.PACKAGE} or axe-core is missing: run `npm ci` in {REPO}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    source = lay_out(
        tmp_path_factory.mktemp("cms") / "src",
        {
            "site.yaml": CONFIG + CMS_YAML,
            "content/articles/trust-after-a-fight.md": EXISTING,
            "content/programs/skills-group.md": PROGRAM,
        },
    )
    (source / "node_modules").symlink_to(REPO / "node_modules")
    server = Served(source, "--cms", "--port", "0")
    try:
        yield server, source
    finally:
        server.stop()


browser = test_browser.browser  # Debian's chromium, the fixture every browser test uses


class Admin:
    """One tab on /admin/, signed in to the local backend, noting what the console says."""

    def __init__(self, browser: Any, port: int, bypass_csp: bool = False) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=bypass_csp)
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT * MS)
        self.errors: list[str] = []
        self.page.on("console", lambda message: self._console(message.type, message.text))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())  # nothing outside

    def _console(self, kind: str, text: str) -> None:
        if "Content Security Policy" in text or kind == "error" and "API_ERROR" not in text:
            self.errors.append(f"{kind}: {text}")

    def sign_in(self) -> None:
        """Open /admin/ and sign in to the local backend (serve itself)."""
        self.page.goto(self.base + "/admin/")
        self.page.get_by_role("button", name="Login").click()
        self.page.get_by_text("Articles").first.wait_for()

    def open(self, fragment: str) -> None:
        """Open one screen of the editor afresh."""
        self.page.goto(f"{self.base}/admin/#/{fragment}")
        self.page.reload()
        self.page.get_by_label("Title").wait_for()

    def markdown_mode(self) -> Any:
        """Switch the text to markdown and return its editable area."""
        field = self.page.locator("[aria-label='markdown field']")
        field.get_by_text("Rich Text").locator("xpath=following-sibling::*[1]").click()
        return field.locator("[contenteditable=true]").first

    def write_text(self, markdown: str) -> None:
        """Replace the text in the markdown editor, typing it as an editor would.

        Decap's editor may still move the cursor just after the switch to markdown, so the keys can land in
        the wrong place: the text is typed again until the editor holds it (nearly always the first time).
        """
        editor = self.page.locator("[aria-label='markdown field'] [contenteditable=true]").first
        for _ in range(5):
            editor.click()
            self.page.keyboard.press("Control+A")
            self.page.keyboard.type(markdown)
            self.page.wait_for_timeout(300)
            if self.words(editor) == markdown.split():
                return
        assert self.words(editor) == markdown.split()

    @staticmethod
    def words(editor: Any) -> list[str]:
        """Return the words an editor shows (its empty lines hold a zero-width character)."""
        return list(editor.inner_text().replace("\ufeff", "").split())

    def publish(self) -> None:
        """Save the entry (Decap calls it publishing: with the local backend, it writes the file)."""
        self.page.get_by_role("button", name="Publish").click()
        self.page.get_by_text("Publish now").click()

    def close(self) -> None:
        """Close the tab."""
        self.context.close()


@pytest.fixture
def admin(browser: Any, editor: tuple[Served, Path]) -> Iterator[Admin]:
    """Yield a signed-in tab on the editor; fail on any console error or policy violation."""
    tab = Admin(browser, editor[0].port)
    tab.sign_in()
    yield tab
    tab.close()
    assert tab.errors == []


def test_a_new_article_is_a_draft_bundle_that_builds_and_previews(admin: Admin, editor: tuple[Served, Path]) -> None:
    server, source = editor
    admin.open("collections/articles/new")
    admin.page.get_by_label("Title").fill("Listening after a hard day")
    admin.page.get_by_label("Tags (optional)").fill("listening, trust")
    admin.markdown_mode()
    admin.write_text("Some words first.\n\n## What helps\n\nRead [the trust article](/articles/trust-after-a-fight/).")
    preview = admin.page.frame_locator("iframe").first
    preview.get_by_role("heading", name="What helps").wait_for()
    assert preview.get_by_role("link", name="the trust article").get_attribute("href") == (
        "/articles/trust-after-a-fight/"
    )
    admin.publish()
    admin.page.get_by_text("Entry saved").wait_for()

    path = source / "content/articles/listening-after-a-hard-day/index.md"
    written = path.read_text(encoding="utf-8")
    front, body = written.removeprefix("---\n").split("---\n", 1)
    data = yaml.safe_load(front)
    assert list(data) == ["title", "draft", "date", "tags"]  # the schema's order
    assert data["title"] == "Listening after a hard day" and data["draft"] is True
    assert data["tags"] == ["listening", "trust"]
    assert "## What helps" in body and "[the trust article](/articles/trust-after-a-fight/)" in body

    built = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--source", str(source), "--drafts", "--now", NOW.isoformat()],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    page = BeautifulSoup(
        (source / "site/articles/listening-after-a-hard-day/index.html").read_text(encoding="utf-8"), "html.parser"
    )
    assert page.find("h2", string="What helps") is not None
    # serve rebuilt its preview on the save: the page is there, marked as a draft
    status, served = http(server.port, "/articles/listening-after-a-hard-day/")
    assert status == 200 and "What helps" in served


def test_a_picture_added_to_the_text_goes_beside_the_article(admin: Admin, editor: tuple[Served, Path]) -> None:
    _, source = editor
    picture = source.parent / "photo.png"
    picture.write_bytes(PNG)
    admin.open("collections/articles/new")
    admin.page.get_by_label("Title").fill("Pictures beside")
    field = admin.page.locator("[aria-label='markdown field']")
    field.get_by_title("Add Component").click()
    admin.page.get_by_role("menuitem", name="Image").click()
    field.get_by_text("Choose an image").click()
    with admin.page.expect_file_chooser() as chooser:
        admin.page.get_by_text("Upload").click()
    chooser.value.set_files(str(picture))
    admin.page.get_by_role("button", name="Choose selected").click()
    admin.publish()
    admin.page.get_by_text("Entry saved").wait_for()
    folder = source / "content/articles/pictures-beside"
    assert (folder / "photo.png").read_bytes() == PNG
    assert "![](photo.png)" in (folder / "index.md").read_text(encoding="utf-8")
    built = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--source", str(source), "--drafts", "--now", NOW.isoformat()],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    # published by images.py beside the page, as a stripped fallback (and AVIF/WebP), never the original itself
    page = BeautifulSoup((source / "site/articles/pictures-beside/index.html").read_text(), "html.parser")
    shown = page.find("img", src=re.compile(r"^/articles/pictures-beside/photo-1w\.[0-9a-f]{8}\.png$"))
    assert shown is not None and (source / "site" / str(shown["src"]).lstrip("/")).is_file()
    assert not (source / "site/articles/pictures-beside/photo.png").exists()


def test_editing_an_articles_text_changes_only_the_text(admin: Admin, editor: tuple[Served, Path]) -> None:
    _, source = editor
    path = source / "content/articles/trust-after-a-fight.md"
    before = path.read_text(encoding="utf-8")
    admin.open("collections/articles/entries/trust-after-a-fight")
    admin.markdown_mode().get_by_text("How trust comes back.").wait_for()
    admin.write_text("How trust comes back. Slowly.")
    admin.publish()
    admin.page.get_by_text("Entry saved").wait_for()
    after = path.read_text(encoding="utf-8")
    end = len("---\n") + before.removeprefix("---\n").index("---\n") + len("---\n")
    assert after[:end] == before[:end]  # the front matter, comment, order and the field the form hides included
    assert after[end:].split() == [*before[end:].split(), "Slowly."]


def test_an_http_signup_url_is_refused_by_the_form(admin: Admin, editor: tuple[Served, Path]) -> None:
    _, source = editor
    path = source / "content/programs/skills-group.md"
    before = path.read_bytes()
    admin.open("collections/programs/entries/skills-group")
    admin.page.get_by_label("Signup url (optional)").fill("http://forms.example.org/join")
    admin.publish()
    admin.page.get_by_text("An address starting with https://").wait_for()
    admin.page.wait_for_timeout(500)
    assert path.read_bytes() == before
    # Decap rejects the save's promise with nothing when its form refuses a value: its way, not a failure
    assert admin.errors == ["page error: undefined"]
    admin.errors.clear()


@pytest.mark.parametrize("screen", ["login", "editor"])
def test_axe_finds_only_the_cms_own_known_violations(browser: Any, editor: tuple[Served, Path], screen: str) -> None:
    tab = Admin(browser, editor[0].port, bypass_csp=True)  # axe is injected as an inline script
    try:
        tab.page.goto(tab.base + "/admin/")
        tab.page.get_by_role("button", name="Login").wait_for()
        if screen == "editor":
            tab.page.get_by_role("button", name="Login").click()
            tab.open("collections/articles/new")
        tab.page.add_script_tag(path=str(AXE))
        found = tab.page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ['violations']});
                return result.violations.map(v => v.id);
            }"""
        )
    finally:
        tab.close()
    assert set(found) == KNOWN_AXE[screen], sorted(found)
