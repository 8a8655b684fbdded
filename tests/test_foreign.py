"""Markdown written for other generators: a leading `# Title`, `#` sections, no `title`, grouped warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import NOW, Run, run, soup

from kiln.errors import SiteError, warning_lines
from kiln.markup import Markup, same_title
from kiln.urls import Urls


@pytest.fixture(scope="module")
def markup() -> Markup:
    return Markup(Urls("https://example.org/"))


def test_a_leading_h1_equal_to_the_title_is_not_printed_twice(markup: Markup) -> None:
    rendered = markup.render("# Trust, after a FIGHT!\n\nText.\n\n## Part\n", "trust after a fight")
    assert rendered.html == '<p>Text.</p>\n<h2 id="part">Part</h2>'
    assert rendered.title == "Trust, after a FIGHT!"


def test_a_leading_h1_that_differs_from_the_title_stays_as_a_section(markup: Markup) -> None:
    rendered = markup.render("# Something else\n\nText.\n", "The title")
    assert rendered.html == '<h2 id="something-else">Something else</h2>\n<p>Text.</p>'
    assert rendered.title is None


def test_a_body_whose_top_level_is_h1_moves_every_heading_down(markup: Markup) -> None:
    body = "Intro.\n\n# One\n\n## One a\n\n# Two\n\n> # Quoted\n\n###### Six\n"
    rendered = markup.render(body, "Title")
    assert [(h.level, h.title) for h in rendered.headings] == [
        (2, "One"),
        (3, "One a"),
        (2, "Two"),
        (2, "Quoted"),
        (6, "Six"),
    ]
    assert "<h1" not in rendered.html


def test_a_body_without_h1_keeps_its_levels(markup: Markup) -> None:
    rendered = markup.render("## A\n\n### B\n\n```\n# a shell comment\n```\n", "Title")
    assert [(h.level, h.title) for h in rendered.headings] == [(2, "A"), (3, "B")]
    assert "# a shell comment" in rendered.html


def test_without_a_title_the_leading_heading_is_the_title(markup: Markup) -> None:
    rendered = markup.render("The *best* &amp; way\n===================\n\nText.\n", None)
    assert rendered.title == "The best & way"
    assert rendered.html == "<p>Text.</p>"


def test_titles_compare_without_case_spaces_or_punctuation() -> None:
    assert same_title("Trust — after a fight?", "trust after a FIGHT")
    assert not same_title("Trust after a fight", "Trust after a fight 2")


def test_foreign_posts_build_with_one_h1_and_no_skipped_levels(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site(
        {
            "content/articles/dup.md": "---\ntitle: Why we argue\ndate: 2026-01-02\n---\n# Why we argue\n\nText.\n",
            "content/articles/top.md": "---\ntitle: Sections\ndate: 2026-01-02\n---\nIntro.\n\n# One\n\n## Deeper\n",
            "content/articles/mk.md": "---\ndate: 2026-01-02\n---\n# MkDocs style\n\nText.\n",
        }
    )
    assert build(source).code == 0
    for slug, title in (("dup", "Why we argue"), ("top", "Sections"), ("mk", "MkDocs style")):
        page = soup(source / "site" / "articles" / slug / "index.html")
        main = page.find("main")
        assert [h1.get_text(strip=True) for h1 in page.find_all("h1")] == [title]
        levels = [int(h.name[1]) for h in main.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels
        assert page.find("title").get_text().startswith(title)


def test_a_page_with_neither_title_nor_heading_names_its_file(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site({"content/articles/none.md": "---\ndate: 2026-01-02\n---\nJust text.\n"})
    result = build(source)
    assert result.code == 1
    assert (
        "content/articles/none.md:1: `title` is required (expected a line such as `title: A clear title`, "
        "or a text that starts with `# A clear title`, got none)"
    ) in result.err.splitlines()


def _warnings(count: int) -> list[SiteError]:
    return [
        SiteError("unknown field `layout` is ignored", Path(f"content/articles/a{n:04}.md"), 4) for n in range(count)
    ]


def test_warnings_of_one_kind_are_one_line_with_a_count_and_the_first_places() -> None:
    many = [*_warnings(1042), SiteError("symbolic link is not followed", Path("content/x.md"), None, "it points to /")]
    assert warning_lines(many) == [
        "warning: unknown field `layout` is ignored in 1,042 files, e.g. content/articles/a0000.md:4, "
        "content/articles/a0001.md:4, content/articles/a0002.md:4, …",
        "content/x.md: warning: symbolic link is not followed (it points to /)",
    ]
    assert len(warning_lines(many, verbose=True)) == 1043


def test_a_build_with_a_thousand_foreign_posts_prints_two_warning_lines(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    post = "---\ntitle: Post {n}\ndate: 2026-01-02\nlayout: post\ncategories: [a]\n---\nText.\n"
    source = site({f"content/articles/p{n}.md": post.format(n=n) for n in range(30)})
    result = build(source)
    assert result.code == 0
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("warning: unknown field `layout` is ignored in 30 files, e.g. content/articles/p0.md:4")
    assert lines[1].startswith(
        "warning: unknown field `categories` is ignored in 30 files, e.g. content/articles/p0.md:5"
    )
    verbose = build(source, "--verbose")
    assert len(verbose.err.splitlines()) == 60


def test_check_groups_warnings_too_and_verbose_lists_each(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    post = "---\ntitle: Post {n}\ndate: 2026-01-02\nlayout: post\n---\nText.\n"
    source = site({f"content/articles/p{n}.md": post.format(n=n) for n in range(4)})
    args = ("check", "--source", str(source), "--now", NOW.isoformat())
    grouped = [line for line in run(capsys, *args).err.splitlines() if "layout" in line]
    assert len(grouped) == 1 and " in 4 files, e.g. content/articles/p0.md:4, " in grouped[0]
    each = [line for line in run(capsys, *args, "--verbose").err.splitlines() if "layout" in line]
    assert each[0].startswith("content/articles/p0.md:4: warning: unknown field `layout` is ignored")
    assert len(each) == 4
    (source / "content/articles/p3.md").unlink()  # three places: as short one by one, each with its hint
    few = [line for line in run(capsys, *args).err.splitlines() if "layout" in line]
    assert few == [line for line in each if "p3.md" not in line]
