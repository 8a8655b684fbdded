"""`build.py new article|program "Title"`: a draft from its skeleton that builds, never over an existing file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import REPO, Run, run, snapshot, soup


def new(capsys: pytest.CaptureFixture[str], source: Path, *argv: str, now: str = "2026-11-27T03:00Z") -> Run:
    """Run `new` on a source folder as if it were a given moment."""
    return run(capsys, "new", *argv, "--source", str(source), "--now", now)


def front_matter(path: Path) -> dict[str, object]:
    """Return a content file's front matter."""
    text = path.read_text(encoding="utf-8")
    return dict(yaml.safe_load(text.split("---\n")[1]))


def test_new_article_is_a_draft_with_todays_date_in_the_site_zone(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    source = site()
    # 03:00 UTC on the 27th is still the 26th in New York.
    (source / "site.yaml").write_text((source / "site.yaml").read_text().replace("Europe/London", "America/New_York"))
    result = new(capsys, source, "article", "Café à deux: trust & time")
    path = source / "content/articles/cafe-a-deux-trust-time.md"
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "Created content/articles/cafe-a-deux-trust-time.md"
    fields = front_matter(path)
    assert fields["title"] == "Café à deux: trust & time"
    assert str(fields["date"]) == "2026-11-26"
    assert fields["draft"] is True
    assert str(fields["description"]).startswith("TODO")


def test_new_program_has_the_program_fields_and_no_date(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    source = site()
    result = new(capsys, source, "program", "Couples Skills Group")
    path = source / "content/programs/couples-skills-group.md"
    assert result.code == 0, result.err
    fields = front_matter(path)
    assert fields["title"] == "Couples Skills Group"
    assert fields["draft"] is True
    assert "date" not in fields
    assert {"duration_weeks", "schedule", "format", "price", "next_start", "facilitator"} <= set(fields)


def test_new_files_build_as_drafts_without_warnings(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site()
    assert new(capsys, source, "article", "Trust after an argument").code == 0
    assert new(capsys, source, "program", "Couples group").code == 0
    published = build(source)
    assert published.code == 0, published.err
    assert published.err == ""
    # drafts are not published: no page, no line in the sitemap, no link from the home page or a list
    assert not (source / "site/articles/trust-after-an-argument").exists()
    assert not (source / "site/programs/couples-group").exists()
    published_files = snapshot(source / "site")
    assert [name for name in published_files if name.endswith("/index.html")] == [
        "articles/index.html",
        "programs/index.html",
        "tags/index.html",
    ]
    everything = b"".join(published_files.values()).decode()
    for title in ("Trust after an argument", "Couples group", "trust-after-an-argument", "couples-group"):
        assert title not in everything, title
    preview = build(source, "--drafts", "--output", str(source / "preview"))
    assert preview.code == 0, preview.err
    page = soup(source / "preview/articles/trust-after-an-argument/index.html")
    assert page.h1 is not None and page.h1.get_text() == "Trust after an argument"
    assert page.select_one(".status-banner") is not None
    assert (source / "preview/programs/couples-group/index.html").is_file()


def test_new_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], site: Callable[..., Path]) -> None:
    source = site({"content/articles/trust.md": "---\ntitle: Mine\ndate: 2026-01-01\n---\nMy words.\n"})
    before = snapshot(source / "content")
    result = new(capsys, source, "article", "Trust")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "content/articles/trust.md: file already exists; `new` never overwrites a file "
        "(edit that file, or choose another title)"
    )
    assert snapshot(source / "content") == before


def test_new_refuses_a_title_without_letters(capsys: pytest.CaptureFixture[str], site: Callable[..., Path]) -> None:
    source = site()
    result = new(capsys, source, "article", "!!!")
    assert result.code == 1
    assert "the title has no letters or digits to make a file name from" in result.err
    assert not (source / "content").exists()


def test_new_reports_a_broken_site_yaml(capsys: pytest.CaptureFixture[str], site: Callable[..., Path]) -> None:
    source = site({"site.yaml": "title: [unclosed\n"})
    result = new(capsys, source, "article", "Trust")
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("site.yaml:1: YAML does not parse")
    assert result.err.splitlines()[-1] == "Nothing was created: 1 error."


def test_new_as_a_user_runs_it(site: Callable[..., Path]) -> None:
    source = site()
    done = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "new", "article", "Hello world", "--source", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Created content/articles/hello-world.md" in done.stdout
    assert (source / "content/articles/hello-world.md").is_file()
