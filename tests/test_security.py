"""Hostile input: raw HTML sanitised, every value escaped (HTML, JSON-LD, feed, sitemap), no path out of site/,
symbolic links out of the source not followed, and pathological files refused quickly with a clear error."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ARTICLE, CONFIG, PROGRAM, Run, harm_in, snapshot, soup, write_files

from kiln import markup as markup_module
from kiln.markup import Markup
from kiln.sanitize import sanitize
from kiln.urls import Urls

Site = Callable[..., Path]
Build = Callable[..., Run]
X = "content/articles/x.md"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE = "</script><script>alert(1)</script> & \"quoted\" <b>bold</b> 'single' ]]> <!-- x"

RAW_HTML = """\
<script>alert("script")</script>
<p onclick="alert('onclick')" style="color: red">styled</p>
<a href="javascript:alert('href')">js link</a>
<a href="JaVaScRiPt&colon;alert('entity')">entity link</a>
<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" onerror="alert('img')" alt="data image">
<iframe src="https://evil.test/"></iframe>
<object data="https://evil.test/x.swf"></object>
<embed src="https://evil.test/x.swf">
<form action="https://evil.test/"><input name="password"></form>
<style>body { display: none }</style>
<svg onload="alert('svg')"><circle r="1"/></svg>
<math><mi xlink:href="javascript:alert('math')">x</mi></math>
<div><a href="https://example.net/ok" title="kept">kept link</a> <strong>kept bold</strong></div>
"""

RICH_MARKDOWN = """\
# Title {: #custom-id .note }

A paragraph with a footnote[^1], *emphasis*, `code`, an HTML abbreviation and a [link](https://example.net/).

## Second heading

| left | centre | right |
|:-----|:------:|------:|
| 1    | 2      | 3     |

Term
: Its definition

```python
if a < b and c > "d" & e:
    pass
```

> A quote with a [site link](/articles/).

1. one
2. two
    - nested

*[HTML]: Hyper Text Markup Language

[^1]: The note, with a [link](https://example.org/).
"""


def assert_harmless(html: str) -> None:
    """Assert that an HTML fragment holds nothing that runs script, loads a frame or restyles the page."""
    tree = BeautifulSoup(html, "html.parser")
    assert not tree.find_all(["script", "iframe", "object", "embed", "form", "input", "style", "svg", "math"])
    for element in tree.find_all(True):
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), element
            assert name.lower() != "style", element
            if name in ("href", "src", "action", "data"):
                assert not str(value).strip().lower().startswith(("javascript:", "data:", "vbscript:")), element


# --- sanitising, on strings --------------------------------------------------------------------------------


def test_sanitize_removes_everything_that_can_run_or_embed() -> None:
    cleaned = sanitize(RAW_HTML)
    assert_harmless(cleaned)
    tree = BeautifulSoup(cleaned, "html.parser")
    assert [a.get("href") for a in tree.find_all("a")] == [None, None, "https://example.net/ok"]
    assert tree.find("a", title="kept") is not None
    assert tree.find("strong").text == "kept bold"
    assert tree.find("img")["alt"] == "data image"
    assert "alert" not in cleaned


def test_markdown_formatting_survives_sanitising_untouched() -> None:
    # a title other than the body's `# Title`: that heading stays, moved down a level like the others
    html = Markup(Urls("https://example.org/")).render(RICH_MARKDOWN, "The page").html
    cleaned = BeautifulSoup(sanitize(html), "html.parser")
    assert cleaned == BeautifulSoup(html, "html.parser")  # the same tree: tags, attributes and text
    assert cleaned.find("h2", id="custom-id")["class"] == ["note"]
    assert cleaned.find("h3")["id"] == "second-heading"
    assert [th["style"] for th in cleaned.find_all("th")] == [
        "text-align: left;",
        "text-align: center;",
        "text-align: right;",
    ]
    assert cleaned.find("sup", id="fnref:1").a["href"] == "#fn:1"
    assert cleaned.find("li", id="fn:1").find("a", class_="footnote-backref")["href"] == "#fnref:1"
    assert cleaned.find("code", class_="language-python").text.startswith('if a < b and c > "d" & e:')
    assert cleaned.find("dt").text == "Term" and cleaned.find("dd").text == "Its definition"
    assert cleaned.find("abbr")["title"] == "Hyper Text Markup Language"
    assert cleaned.find("a", href="https://example.net/")["rel"] == ["noopener"]
    assert cleaned.find("ol").find("ul").li.text == "nested"


def test_attribute_lists_cannot_add_handlers_or_styles() -> None:
    html = Markup(Urls("https://example.org/")).render('Text {: onclick="alert(1)" style="color: red" }\n').html
    assert "onclick" in html  # what attr_list lets a writer type ...
    assert_harmless(sanitize(html))  # ... and what the site publishes


# --- sanitising, in a build ----------------------------------------------------------------------------------


def article(title: str, body: str, extra: str = "") -> str:
    """Return an article's source with this title (written as a YAML double-quoted string) and body."""
    return f"---\ntitle: {json.dumps(title)}\ndate: 2026-01-05\ntags: [trust]\n{extra}---\n{body}"


def test_raw_html_in_an_article_is_sanitised_in_page_and_feed(site: Site, build: Build) -> None:
    source = site({X: article("Hostile", "Intro paragraph.\n\n" + RAW_HTML)})
    result = build(source)
    assert result.code == 0, result.err
    page = soup(source / "site/articles/x/index.html")
    body = page.find("article") or page.body
    assert_harmless(str(body).replace(str(page.find("script", type="application/ld+json")), ""))
    assert [s["type"] for s in page.find_all("script")] == ["application/ld+json"]
    assert page.find("a", string="kept link")["href"] == "https://example.net/ok"
    feed = ElementTree.parse(source / "site/feed.xml").getroot()
    content = feed.find(f"{ATOM}entry/{ATOM}content")
    assert content is not None and content.text is not None
    assert_harmless(content.text)
    assert "kept bold" in content.text


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        # attribute lists: the one way to make chosen attributes without typing a `<`
        ('Para text\n{: onclick="alert(1)" }\n', "Para text"),
        ("## Heading {: onmouseover=alert(1) style='color: red' }\n", "Heading"),
        ('[a link](https://example.net/){: onclick="alert(1)" }\n', "a link"),
        ("* item\n{: onfocus=alert(1) tabindex=1 }\n", "item"),
        ("![photo](/static/p.png){: onerror=alert(1) }\n", None),
        # raw HTML
        ('<img src="/static/p.png" onerror="alert(1)" alt="photo">\n', None),
        ('<a href=" jAvA&#9;script:alert(1)">tabbed</a>\n', "tabbed"),
        ("<p>before <svg><script>alert(1)</script></svg> after</p>\n", "after"),
        ('<details open ontoggle="alert(1)"><summary>More</summary>Text</details>\n', "More"),
        ("<scr<script>ipt>alert(1)</script>\n", None),
        ("Text <!-- <script>alert(1)</script> --> end.\n", "end."),
        ('<table><tr><td style="position: fixed; inset: 0">cell</td></tr></table>\n', "cell"),
        ('<table><tr><th style="text-align: left; background: red">head</th></tr></table>\n', "head"),
    ],
)
def test_a_hostile_body_is_published_harmless_in_page_and_feed(
    site: Site, build: Build, body: str, kept: str | None
) -> None:
    source = site({X: article("Hostile", "Intro paragraph.\n\n" + body), "static/p.png": _png()})
    result = build(source)
    assert result.code == 0, result.err
    page = (source / "site/articles/x/index.html").read_text(encoding="utf-8")
    assert harm_in(page) == []
    main = BeautifulSoup(page, "html.parser").find("main")
    assert main is not None and "Intro paragraph." in main.get_text()
    if kept is not None:
        assert kept in main.get_text()  # the harmless rest of the markup stays
    feed = ElementTree.parse(source / "site/feed.xml").getroot()
    content = feed.findtext(f"{ATOM}entry/{ATOM}content")
    assert content is not None and "Intro paragraph." in content
    assert harm_in(content) == []


def test_bodies_without_lt_brace_or_nul_skip_the_sanitiser(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README, "Security": nothing there could be removed, so the build spends no time on it
    import kiln.content

    def refuse(html: str) -> str:
        raise AssertionError(f"sanitised a body that cannot hold raw HTML: {html[:60]!r}")

    monkeypatch.setattr(kiln.content, "sanitize", refuse)
    source = site(
        {X: article("Plain", "Text with *emphasis*, a [link](/articles/) & a > sign.\n\n| a |\n|---|\n| 1 |\n")}
    )
    result = build(source)
    assert result.code == 0, result.err
    assert soup(source / "site/articles/x/index.html").find("em", string="emphasis") is not None


def test_unsafe_html_true_publishes_raw_html_as_written(site: Site, build: Build) -> None:
    source = site({"site.yaml": CONFIG + "unsafe_html: true\n", X: article("Trusted", RAW_HTML)})
    result = build(source)
    assert result.code == 0, result.err
    page = soup(source / "site/articles/x/index.html")
    assert page.find("iframe")["src"] == "https://evil.test/"
    assert 'alert("script")' in [s.string for s in page.find_all("script")]


def test_unsafe_html_must_be_true_or_false(site: Site, build: Build) -> None:
    source = site({"site.yaml": CONFIG + "unsafe_html: yes please\n"})
    result = build(source)
    assert result.code == 1
    assert "site.yaml:9: `unsafe_html` must be true or false (expected true or false, got 'yes please')" in (
        result.err.splitlines()
    )


# --- escaping of front matter and settings -------------------------------------------------------------------

HOSTILE_CONFIG = f"""\
title: {json.dumps("Site " + HOSTILE)}
organisation: {json.dumps("Org " + HOSTILE)}
description: {json.dumps("Describe " + HOSTILE)}
base_url: https://example.org/
signup_url: https://forms.test.invalid/signup
disclaimer: {json.dumps("Disclaimer " + HOSTILE)}
crisis_line: {json.dumps("Crisis " + HOSTILE)}
"""
HOSTILE_ARTICLE = f"""\
---
title: {json.dumps("Title " + HOSTILE)}
description: {json.dumps("Description " + HOSTILE)}
author: {json.dumps("Author " + HOSTILE)}
date: 2026-01-05
tags: [{json.dumps("Tag " + HOSTILE)}]
program: group
---
Body text.
"""
HOSTILE_PROGRAM = f"""\
---
title: {json.dumps("Program " + HOSTILE)}
description: {json.dumps("Program description " + HOSTILE)}
duration_weeks: 12
schedule: {json.dumps("Schedule " + HOSTILE)}
format: {json.dumps("Format " + HOSTILE)}
price: {json.dumps("Price " + HOSTILE)}
facilitator: {json.dumps("Facilitator " + HOSTILE)}
skills:
  - name: {json.dumps("Skill " + HOSTILE)}
    summary: {json.dumps("Summary " + HOSTILE)}
steps: [{json.dumps("Step " + HOSTILE)}]
---
About the program.
"""


@pytest.fixture
def hostile(site: Site, build: Build) -> Path:
    """Return a site built from settings and front matter that try to break out of every context."""
    source = site({"site.yaml": HOSTILE_CONFIG, X: HOSTILE_ARTICLE, "content/programs/group.md": HOSTILE_PROGRAM})
    result = build(source)
    assert result.code == 0, result.err
    return source / "site"


def test_front_matter_and_settings_are_escaped_in_every_page(hostile: Path) -> None:
    pages = sorted(hostile.rglob("*.html"))
    assert len(pages) >= 8
    for path in pages:
        page = soup(path)
        scripts = page.find_all("script")
        if path == hostile / "search/index.html":  # the search page's own script: a file, never inline
            module = scripts.pop()
            assert module.get("type") == "module" and module["src"].startswith("/static/search.") and not module.string
        assert [s.get("type") for s in scripts] == ["application/ld+json"], path
        assert not page.find_all(["b", "iframe"]), path
        assert HOSTILE in page.title.string, path
        if path.relative_to(hostile).as_posix() not in ("404.html", "tags/index.html"):  # fixed descriptions
            assert HOSTILE in page.find("meta", attrs={"name": "description"})["content"], path
        for element in page.find_all(True):
            assert not any(name.startswith("on") for name in element.attrs), path
    article = soup(hostile / "articles/x/index.html")
    assert article.h1.string == "Title " + HOSTILE
    text = article.get_text()
    for value in ("Author ", "Tag ", "Disclaimer ", "Crisis "):
        assert value + HOSTILE in text
    program = soup(hostile / "programs/group/index.html").get_text()
    for value in ("Schedule ", "Format ", "Price ", "Facilitator ", "Skill ", "Summary ", "Step "):
        assert value + HOSTILE in program


def test_json_ld_cannot_be_closed_by_a_title(hostile: Path) -> None:
    for path, key in (("articles/x/index.html", "name"), ("programs/group/index.html", "name")):
        scripts = soup(hostile / path).find_all("script")
        assert len(scripts) == 1
        data = json.loads(scripts[0].string)
        assert data[key].endswith(HOSTILE)
        assert data.get("mainEntity", {"headline": HOSTILE})["headline"].endswith(HOSTILE)
        assert "</script" not in scripts[0].string.lower()


def test_feed_and_sitemap_stay_well_formed_xml(hostile: Path) -> None:
    feed = ElementTree.parse(hostile / "feed.xml").getroot()
    assert feed.findtext(f"{ATOM}title") == "Site " + HOSTILE
    assert feed.findtext(f"{ATOM}subtitle") == "Describe " + HOSTILE
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == "Title " + HOSTILE
    assert entry.findtext(f"{ATOM}summary") == "Description " + HOSTILE
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Author " + HOSTILE
    assert entry.find(f"{ATOM}category").get("term") == "Tag " + HOSTILE
    sitemap = ElementTree.parse(hostile / "sitemap.xml").getroot()
    locations = [loc.text for loc in sitemap.iter(f"{SITEMAP}loc")]
    assert "https://example.org/articles/x/" in locations
    assert all(loc and loc.startswith("https://example.org/") for loc in locations)


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        ('title: "bell \\a"', 2, "YAML value holds a control character"),
        ('tags: ["a\\x01b"]', 4, "YAML value holds a control character"),
    ],
)
def test_control_characters_that_would_break_the_feed_are_errors(
    site: Site, build: Build, front: str, line: int, message: str
) -> None:
    text = "---\ntitle: T\ndate: 2026-01-05\n---\nBody.\n"
    key = front.split(":")[0]
    text = "\n".join(front if row.startswith(key + ":") else row for row in text.split("\n"))
    if key == "tags":
        text = text.replace("date: 2026-01-05", "date: 2026-01-05\n" + front)
    source = site({X: text})
    result = build(source)
    assert result.code == 1
    assert f"{X}:{line}: {message} (expected text, got an escape such as \\x01 or \\0; delete it)" in result.err


def test_a_raw_control_character_in_the_body_is_an_error(site: Site, build: Build) -> None:
    source = site({X: "---\ntitle: T\ndate: 2026-01-05\n---\nfine\nbad \x0b here\n"})
    result = build(source)
    assert result.code == 1
    assert f"{X}:6: file holds a control character (expected text, got U+000B; delete it)" in result.err


# --- URLs from content ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            article("T", "[x](javascript:alert(1))\n"),
            f"{X}:6: link with an unsafe scheme (expected an https://, mailto: or site link, "
            "got 'javascript:alert(1)')",
        ),
        (
            article("T", "![x](data:image/png;base64,AAAA)\n"),
            f"{X}:6: link with an unsafe scheme (expected an https://, mailto: or site link, "
            "got 'data:image/png;base64,AAAA')",
        ),
        (
            article("T", "Body.\n", "image: javascript:alert(1)\n"),
            f"{X}:5: `image` is not a safe link (expected an absolute https:// URL, got 'javascript:')",
        ),
    ],
)
def test_urls_from_content_are_checked_for_their_scheme(site: Site, build: Build, text: str, expected: str) -> None:
    source = site({X: text})
    result = build(source)
    assert result.code == 1
    assert expected in result.err.splitlines()


# --- paths ---------------------------------------------------------------------------------------------------

WINDOWS = "expected no name Windows reserves (CON, PRN, AUX, NUL, COM0-9, LPT0-9)"


@pytest.mark.parametrize(
    ("name", "front", "expected"),
    [
        (X, "slug: ../../etc", f"{X}:4: `slug` is not valid (a slug is one URL segment and may not contain slashes"),
        (X, "slug: /abs", f"{X}:4: `slug` is not valid (a slug is one URL segment and may not contain slashes"),
        (X, 'slug: "a\\\\b"', f"{X}:4: `slug` is not valid (a slug is one URL segment and may not contain slashes"),
        (X, 'slug: "a\\0b"', f"{X}:4: YAML value holds a control character"),
        (X, "slug: con", f"{X}:4: the URL /articles/con/ cannot be published ({WINDOWS}, got 'con')"),
        (X, "slug: nul.txt", f"{X}:4: the URL /articles/nul.txt/ cannot be published ({WINDOWS}, got 'nul.txt')"),
        (X, "tags: [COM1]", f"{X}:4: tag cannot be published ({WINDOWS}, got 'com1')"),
        (X, "aliases: [/old/aux/]", f"{X}:4: alias /old/aux/ cannot be published ({WINDOWS}, got 'aux')"),
        (X, "aliases: [/../etc/]", f"{X}:4: `aliases` lists a URL that cannot be redirected"),
        ("content/articles/lpt1/x.md", "", "content/articles/lpt1/x.md:1: the URL /articles/lpt1/x/ cannot be"),
    ],
)
def test_no_content_path_leads_outside_site_or_breaks_a_checkout(
    site: Site, build: Build, name: str, front: str, expected: str
) -> None:
    source = site({name: f"---\ntitle: T\ndate: 2026-01-05\n{front}\n---\nBody.\n"})
    result = build(source)
    assert result.code == 1
    assert any(line.startswith(expected) for line in result.err.splitlines()), result.err
    assert not (source / "site").exists()
    assert not (source.parent / "etc").exists()


def test_static_file_names_that_break_a_checkout_are_errors(site: Site, build: Build) -> None:
    source = site({"static/CON.css": "a{}", "static/img/Logo.svg": "<svg/>", "static/img/logo.svg": "<svg/>"})
    (source / "static/back\\slash.css").write_text("a{}")
    # not the same name anywhere: no file system takes "ß" for "ss", which upper case would make it
    write_files(source, {"static/img/straße.svg": "<svg/>", "static/img/strasse.svg": "<svg/>"})
    result = build(source)
    assert result.code == 1
    errors = result.err.splitlines()
    assert [line for line in errors if "stra" in line] == []
    assert f"static/CON.css: static file has a name that cannot be published ({WINDOWS}, got 'CON.css')" in errors
    assert (
        "static/back\\slash.css: static file has a name that cannot be published "
        "(expected no backslashes or control characters, got 'static/back\\\\slash.css')"
    ) in errors
    assert (
        "static/img/logo.svg: static file name differs from another only by letter case (expected names that differ "
        "in more than case; got static/img/Logo.svg too, and on macOS and Windows one overwrites the other)"
    ) in errors


def test_two_pages_differing_only_by_case_are_an_error(site: Site, build: Build) -> None:
    source = site(
        {"content/articles/Care.md": article("One", "A.\n"), "content/articles/care.md": article("Two", "B.\n")}
    )
    result = build(source)
    assert result.code == 1
    assert (
        "content/articles/care.md:1: two pages would be published at /articles/care/ "
        "(content/articles/Care.md has that URL too; rename one file or set `slug:`)"
    ) in result.err.splitlines()


def test_an_alias_may_not_take_a_static_files_place(site: Site, build: Build) -> None:
    source = site({X: article("T", "Body.\n", "aliases: [/Static/favicon.svg/]\n")})
    result = build(source)
    assert result.code == 1
    assert f"{X}:5: alias /Static/favicon.svg/ is already taken" in result.err


# --- symbolic links ------------------------------------------------------------------------------------------


def test_links_out_of_the_source_are_not_followed(site: Site, build: Build, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "articles").mkdir(parents=True)
    (outside / "secret.md").write_text(article("Secret file", "Secret.\n"))
    (outside / "articles/leak.md").write_text(article("Secret folder", "Secret.\n"))
    (outside / "passwd").write_text("root:x:0:0\n")
    source = site({"content/articles/good.md": ARTICLE.format(title="Good", day=1)})
    (source / "content/articles/secret.md").symlink_to(outside / "secret.md")
    (source / "content/articles/leaked").symlink_to(outside / "articles", target_is_directory=True)
    (source / "static/passwd").symlink_to(outside / "passwd")
    (source / "static/etc").symlink_to(outside, target_is_directory=True)
    result = build(source)
    assert result.code == 0, result.err
    warnings = result.err.splitlines()
    for name, kind, target in (
        ("content/articles/secret.md", "file", outside / "secret.md"),
        ("content/articles/leaked", "folder", outside / "articles"),
        ("static/passwd", "file", outside / "passwd"),
        ("static/etc", "folder", outside),
    ):
        expected = f"{name}: warning: symbolic link to a {kind} outside the source folder is not followed"
        assert f"{expected} (it points to {target.resolve()})" in warnings
    built = snapshot(source / "site")
    assert not any("secret" in name or "leak" in name or "passwd" in name or "etc" in name for name in built)
    assert not any(b"Secret" in data or b"root:x" in data for data in built.values())


def test_links_inside_the_source_are_followed_and_loops_end(site: Site, build: Build) -> None:
    source = site({"content/articles/real/kept.md": ARTICLE.format(title="Kept", day=2)})
    (source / "content/articles/alias").symlink_to(source / "content/articles/real", target_is_directory=True)
    (source / "content/articles/real/loop").symlink_to(source / "content/articles", target_is_directory=True)
    result = build(source)
    assert result.code == 0, result.err
    assert (source / "site/articles/real/kept/index.html").is_file()
    assert (source / "site/articles/alias/kept/index.html").is_file()
    assert not (source / "site/articles/real/loop").exists()


# --- limits against pathological input ------------------------------------------------------------------------


def limited(build: Build, source: Path) -> tuple[Run, float]:
    """Build (in this process), and return the run and the processor time it took.

    Processor time, not the time that passed: on a loaded machine a quick refusal can wait long for its turn.
    """
    started = time.process_time()
    result = build(source)
    return result, time.process_time() - started


BILLION_LAUGHS = "".join(f"l{n}: &l{n} [{','.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10))
PATHOLOGICAL = {
    "front-matter-over-64-KiB": (
        "---\ntitle: T\ndate: 2026-01-05\ndescription: " + "x" * 70_000 + "\n---\nBody.\n",
        f"{X}:1: front matter is too large (expected at most 64 KiB, got 68 KiB)",
    ),
    "billion-laughs": (
        '---\ntitle: T\ndate: 2026-01-05\nl0: &l0 "lol"\n' + BILLION_LAUGHS + "---\nBody.\n",
        f"{X}:2: YAML anchors and aliases (& and *) are not allowed (write each value out in full)",
    ),
    "yaml-nested-30000-deep": (
        "---\ntitle: T\ndate: 2026-01-05\nx: " + "[" * 30_000 + "]" * 30_000 + "\n---\nBody.\n",
        f"{X}:4: YAML is nested too deeply (expected at most 64 levels of lists and mappings inside each other)",
    ),
    "lists-nested-1000-deep": (
        "---\ntitle: T\ndate: 2026-01-05\n---\n" + "".join("    " * n + "- item\n" for n in range(1000)),
        f"{X}:1004: lists or block quotes are nested 1000 levels deep (expected at most 32 levels)",
    ),
    "quotes-nested-5000-deep": (
        "---\ntitle: T\ndate: 2026-01-05\n---\nIntro.\n\n" + "> " * 5000 + "deep\n",
        f"{X}:7: lists or block quotes are nested 5000 levels deep (expected at most 32 levels)",
    ),
    "emphasis-nested-20000-deep": (  # the [TOC] search walks the tree by recursion; without it this renders
        "---\ntitle: T\ndate: 2026-01-05\n---\n[TOC]\n\n" + "*" * 20000 + "x" + "*" * 20000 + "\n",
        f"{X}:5: the text is nested too deeply to render "
        "(expected fewer levels of emphasis, links, lists or quotes inside each other)",
    ),
    "unclosed-tags": (
        "---\ntitle: T\ndate: 2026-01-05\n---\n" + "<a " * 20000 + "\n",
        f"{X}:5: the text has many `<` that start an HTML tag and are never closed with `>` "
        "(write `&lt;` for a `<` that is not a tag, or put the text in a code block)",
    ),
    "ten-thousand-headings": (
        "---\ntitle: T\ndate: 2026-01-05\n---\n" + "# same\n" * 10000,
        f"{X}:5: the text has 10000 headings (expected at most 2000)",
    ),
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_files_are_refused_quickly_with_a_clear_error(site: Site, build: Build, name: str) -> None:
    text, expected = PATHOLOGICAL[name]
    source = site({"content/articles/good.md": ARTICLE.format(title="Good", day=1)})
    assert build(source).code == 0
    before = snapshot(source / "site")
    (source / X).write_text(text, encoding="utf-8")
    result, seconds = limited(build, source)
    assert result.code == 1
    assert expected in result.err.splitlines(), result.err
    assert snapshot(source / "site") == before
    assert seconds < 10  # a hang guard, not a speed target: each of these renders in well under a second


def test_a_file_over_5_mib_is_refused_without_reading_all_of_it(site: Site, build: Build) -> None:
    source = site({X: "---\ntitle: T\ndate: 2026-01-05\n---\n"})
    with (source / X).open("a") as handle:
        handle.truncate(64 * 1024 * 1024)  # 64 MiB, sparse: cheap to make, costly to read whole
    result, seconds = limited(build, source)
    assert result.code == 1
    assert f"{X}: file is too large (expected at most 5 MiB, got more)" in result.err.splitlines()
    assert seconds < 10


def test_markdown_that_renders_too_slowly_is_stopped(site: Site, build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markup_module, "RENDER_SECONDS", 0.5)
    source = site({X: "---\ntitle: T\ndate: 2026-01-05\n---\nIntro.\n\n" + "[a " * 20000 + "\n"})
    result, seconds = limited(build, source)
    assert result.code == 1
    assert (
        f"{X}:5: the text takes more than 0.5 s to render (it holds a shape Markdown renders very slowly, such as "
        "thousands of unclosed [ or < in one paragraph; split it into paragraphs or put it in a code block)"
    ) in result.err.splitlines()
    assert seconds < 10


def test_the_render_limit_counts_the_work_not_the_wait(
    site: Site, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on a loaded machine (a CI runner, a laptop compiling) a render waits for the processor: that is no reason
    # to refuse an ordinary article, so the limit is the time spent rendering, not the time it took
    monkeypatch.setattr(markup_module, "RENDER_SECONDS", 0.2)
    run = markup_module._Links.run

    def descheduled(self: object, root: object) -> None:
        time.sleep(0.5)  # as if other processes had the processor meanwhile
        run(self, root)  # type: ignore[arg-type]

    monkeypatch.setattr(markup_module._Links, "run", descheduled)
    source = site({X: article("Waited for", "Some [link](/articles/) text.\n")})
    result = build(source)
    assert result.code == 0, result.err
    assert soup(source / "site/articles/x/index.html").find("a", string="link") is not None


def test_the_limits_leave_ordinary_long_articles_alone(site: Site, build: Build) -> None:
    body = "".join(
        f"## Part {n}\n\n" + "Some [link](/articles/) and <b>bold</b> text. " * 40 + "\n\n" for n in range(300)
    )
    nested = "".join("    " * n + "- level\n" for n in range(10))
    source = site({X: article("Long", body + nested + "\n> > > quoted\n")})
    result = build(source)
    assert result.code == 0, result.err
    assert len(soup(source / "site/articles/x/index.html").find_all("h2")) >= 300


def test_program_fixture_still_builds(site: Site, build: Build) -> None:
    """The limits and the sanitiser do not touch a plain program page."""
    source = site({"content/programs/group.md": PROGRAM})
    assert build(source).code == 0
    assert os.path.isfile(source / "site/programs/group/index.html")


def _png() -> bytes:
    """Return a small real PNG, for bodies that show /static/p.png (the build checks every image it publishes)."""
    from io import BytesIO

    from PIL import Image

    data = BytesIO()
    Image.new("RGB", (32, 24), (120, 160, 90)).save(data, "PNG")
    return data.getvalue()


@pytest.mark.parametrize(
    "name", ["/etc/cron.d/x", "a\\..\\x.html", "../x.html", "a/../../x.html", "./x.html", "a//x.html"]
)
@pytest.mark.parametrize("how", ["laid out", "written in place"])
def test_the_writer_refuses_a_file_name_that_would_leave_the_output_folder(tmp_path: Path, name: str, how: str) -> None:
    # site.py refuses such URLs first; this is the writer's own guard, for any future caller
    from kiln.write import write_changed, write_output

    output = tmp_path / "deep" / "site"
    write_output({"index.html": b"home"}, output)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as raised:
        if how == "laid out":
            write_output({"index.html": b"home", name: b"harm", "other.html": b"x"}, output)
        else:
            write_changed({"index.html": b"home", name: b"harm"}, output, {"index.html": b"home"})
    assert str(raised.value) == f"output path {name!r} would leave the output folder"
    assert {path: data for path, data in snapshot(tmp_path).items() if ".staging" not in path} == before
