"""Errors that explain themselves: one `path:line: what is wrong (expected …, got …)` line each, exit code 1,
every error of the build listed, and the previous site/ left byte for byte as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ARTICLE, CONFIG, PROGRAM, Run, snapshot, soup, write_files

GOOD = {
    "content/articles/good.md": ARTICLE.format(title="Good", day=1),
    "content/programs/group.md": PROGRAM,
}
DATE_HINT = "expected a date such as 2026-11-27, 2026-11-27 18:30 or 2026-11-27T18:30:00+01:00"
YAML_HINT = "expected `key: value` lines, with quotes around values that contain ': ' or start with a symbol"
X = "content/articles/x.md"


def break_site(
    site: Callable[..., Path], build: Callable[..., Run], broken: dict[str, str | bytes]
) -> tuple[Run, Path, dict[str, bytes]]:
    """Build a good site, then break files and build again; return the second run, the source, site/ before."""
    source = site(GOOD)
    first = build(source)
    assert first.code == 0, first.err
    before = snapshot(source / "site")
    write_files(source, broken)
    return build(source), source, before


CASES = {
    "yaml-does-not-parse": (
        {X: "---\ntitle: X\ndate: 2026-01-01\ntags: [a, b\n---\nText.\n"},
        f"{X}:4: YAML does not parse: did not find expected ',' or ']' ({YAML_HINT}, got 'tags: [a, b')",
    ),
    "yaml-line-counted-in-the-file": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nsummary: a: b\n---\nText.\n"},
        f"{X}:4: YAML does not parse: mapping values are not allowed in this context ({YAML_HINT}, "
        "got 'summary: a: b')",
    ),
    "front-matter-not-a-mapping": (
        {X: "---\n- title\n- date\n---\nText.\n"},
        f"{X}:2: front matter is not a mapping (expected `key: value` lines, got a list)",
    ),
    "front-matter-never-ends": (
        {X: "---\ntitle: X\ndate: 2026-01-01\n\nText.\n"},
        f"{X}:1: front matter never ends (expected a closing --- line after the front matter, got the end of the file)",
    ),
    "missing-required-field": (
        {X: "---\ndate: 2026-01-01\n---\nText.\n"},
        f"{X}:1: `title` is required (expected a line such as `title: A clear title`, "
        "or a text that starts with `# A clear title`, got none)",
    ),
    "date-of-tomorrow": (
        {X: "---\ntitle: X\ndate: tomorrow\n---\nText.\n"},
        f"{X}:3: `date` is not a date ({DATE_HINT}, got 'tomorrow')",
    ),
    "tags-a-number": (
        {X: "---\ntitle: X\ndate: 2026-01-01\ntags: 5\n---\nText.\n"},
        f"{X}:4: `tags` must be a list of texts (expected a list such as [relationships, trust], got 5)",
    ),
    "draft-maybe": (
        {X: '---\ntitle: X\ndate: 2026-01-01\ndraft: "maybe"\n---\nText.\n'},
        f"{X}:4: `draft` must be true or false (expected true or false, got 'maybe')",
    ),
    "empty-file": (
        {X: ""},
        f"{X}:1: file is empty (expected front matter between --- lines, then the text, got an empty file)",
    ),
    "not-utf-8": (
        {X: b"---\ntitle: X\ndate: 2026-01-01\n---\nCaf\xe9 au lait.\n"},
        f"{X}:5: file is not UTF-8 text (expected UTF-8, got byte 0xe9 at byte offset 37; save the file as UTF-8)",
    ),
    "slug-with-slash": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nslug: trust/part-two\n---\nText.\n"},
        f"{X}:4: `slug` is not valid (a slug is one URL segment and may not contain slashes; "
        "expected something like 'trust-part-two', got 'trust/part-two')",
    ),
    "slug-with-dots": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nslug: trust..two\n---\nText.\n"},
        f"{X}:4: `slug` is not valid (a slug may not contain '..'; expected something like 'trust-two', "
        "got 'trust..two')",
    ),
    "slug-with-spaces": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nslug: trust and time\n---\nText.\n"},
        f"{X}:4: `slug` is not valid (a slug may not contain spaces; expected something like 'trust-and-time', "
        "got 'trust and time')",
    ),
    "slug-with-upper-case": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nslug: Trust-Time\n---\nText.\n"},
        f"{X}:4: `slug` is not valid (a slug must be lower case; expected something like 'trust-time', "
        "got 'Trust-Time')",
    ),
    "slug-with-other-characters": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nslug: trust_time!\n---\nText.\n"},
        f"{X}:4: `slug` is not valid (a slug may only use a-z, 0-9, hyphens and dots between them; "
        "expected something like 'trust-time', got 'trust_time!')",
    ),
    "program-that-is-a-draft": (
        {
            X: "---\ntitle: X\ndate: 2026-01-01\nprogram: soon\n---\nText.\n",
            "content/programs/soon.md": "---\ntitle: Soon\ndraft: true\n---\nComing.\n",
        },
        f"{X}:4: `program` names a program that does not exist (that program is a draft or not yet published, "
        "got 'soon')",
    ),
    "program-that-does-not-exist": (
        {X: "---\ntitle: X\ndate: 2026-01-01\nprogram: couples-group\n---\nText.\n"},
        f"{X}:4: `program` names a program that does not exist (expected one of: group, got 'couples-group')",
    ),
    "page-at-a-url-the-site-makes": (
        {"content/pages/search.md": "---\ntitle: Search\n---\nText.\n"},
        "content/pages/search.md:1: the URL /search/ is made by the site itself "
        "(expected another file name or `slug:`)",
    ),
    "page-in-a-folder-the-site-makes": (
        {"content/pages/about.md": "---\ntitle: About\nslug: static\n---\nText.\n"},
        "content/pages/about.md:3: the URL /static/ is made by the site itself (expected another file name or `slug:`)",
    ),
    "page-over-a-file-the-site-makes": (  # feed.xml/index.html cannot be written where feed.xml is
        {"content/pages/about.md": "---\ntitle: About\nslug: feed.xml\n---\nText.\n"},
        "content/pages/about.md:3: the URL /feed.xml/ is made by the site itself "
        "(expected another file name or `slug:`)",
    ),
    "tag-without-letters": (
        {X: "---\ntitle: X\ndate: 2026-01-01\ntags: [trust, '!!!']\n---\nText.\n"},
        f"{X}:4: tag has no letters or digits (expected a word such as 'trust', got '!!!')",
    ),
    "template-does-not-parse": (
        {"templates/list.html": '{% extends "base.html" %}\n{% block main %}\n{% if %}\n{% endblock %}\n'},
        "templates/list.html:3: template does not parse: Expected an expression, got 'end of statement block'",
    ),
    "site-yaml-does-not-parse": (
        {"site.yaml": CONFIG.replace("title: Test Site", "title: [Test Site")},
        f"site.yaml:1: YAML does not parse: did not find expected ',' or ']' ({YAML_HINT}, got 'title: [Test Site')",
    ),
    "site-yaml-not-a-mapping": (
        {"site.yaml": "- title\n- organisation\n"},
        "site.yaml:1: site.yaml is not a mapping (expected `key: value` lines, got a list)",
    ),
    "site-yaml-misses-a-required-key": (
        {"site.yaml": CONFIG.replace("organisation: Test Org\n", "")},
        "site.yaml:1: `organisation` is required (expected a line such as `organisation: Our organisation`, got none)",
    ),
    "base-url-not-absolute": (
        {"site.yaml": CONFIG.replace("https://example.org/", "example.org")},
        "site.yaml:4: base URL is not an absolute http(s) URL "
        "(expected something like https://example.org/ or https://example.org/trust/, got 'example.org')",
    ),
    "base-url-not-http": (
        {"site.yaml": CONFIG.replace("https://example.org/", "ftp://example.org/")},
        "site.yaml:4: base URL is not an absolute http(s) URL "
        "(expected something like https://example.org/ or https://example.org/trust/, got 'ftp://example.org/')",
    ),
    # a host in brackets must be an IPv6 address: Python's URL parser raises on anything else
    "base-url-not-an-address": (
        {"site.yaml": CONFIG.replace("https://example.org/", "https://[example]/")},
        "site.yaml:4: base URL is not an absolute http(s) URL "
        "(expected something like https://example.org/ or https://example.org/trust/, got 'https://[example]/')",
    ),
    "link-not-an-address": (
        {X: "---\ntitle: X\ndate: 2026-01-01\n---\nSee [the list](http://[list]/).\n"},
        f"{X}:5: link is not a valid address (expected an https://, mailto: or site link, got 'http://[list]/')",
    ),
    "signup-url-not-an-address": (
        {
            "content/programs/group.md": PROGRAM.replace(
                "duration_weeks: 12", "duration_weeks: 12\nsignup_url: https://[x]/"
            )
        },
        "content/programs/group.md:5: `signup_url` is not a safe link "
        "(expected an absolute https:// URL, got 'https://[x]/', which is not a valid address)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_error_is_one_exact_line_and_site_is_unchanged(
    site: Callable[..., Path], build: Callable[..., Run], case: str
) -> None:
    broken, expected = CASES[case]
    result, source, before = break_site(site, build, broken)
    assert result.code == 1
    assert result.err.splitlines() == [
        expected,
        "Build failed with 1 error; the previous output was left as it was.",
    ]
    assert snapshot(source / "site") == before


@pytest.mark.parametrize(
    ("programs", "expected"), [([], "no programs exist yet"), (["group", "skills"], "group, skills")]
)
def test_a_program_that_does_not_exist_names_those_that_do(
    site: Callable[..., Path], build: Callable[..., Run], programs: list[str], expected: str
) -> None:
    files = {X: "---\ntitle: X\ndate: 2026-01-01\nprogram: couples\n---\nText.\n"}
    source = site(files | {f"content/programs/{name}.md": PROGRAM for name in programs})
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"{X}:4: `program` names a program that does not exist (expected one of: {expected}, got 'couples')"
    )
    assert not (source / "site").exists()


def test_a_template_using_a_name_that_does_not_exist(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    template = (
        '{% extends "base.html" %}\n{% block main %}\n<h1>{{ page.title }}</h1>\n{{ page.subtitle }}\n{% endblock %}\n'
    )
    result, source, before = break_site(site, build, {"templates/article.html": template})
    assert result.code == 1
    [line, summary] = result.err.splitlines()
    assert line.startswith("templates/article.html:4: template uses something that does not exist: ")
    assert "subtitle" in line
    assert summary == "Build failed with 1 error; the previous output was left as it was."
    assert snapshot(source / "site") == before


def test_a_relative_source_still_names_the_template_and_line(
    site: Callable[..., Path], build: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    template = '{% extends "base.html" %}\n{% block main %}\n{{ nope }}\n{% endblock %}\n'
    source = site({**GOOD, "templates/article.html": template})
    monkeypatch.chdir(source.parent)
    result = build(Path(source.name))
    assert result.code == 1
    assert result.err.splitlines()[0].startswith(
        "templates/article.html:3: template uses something that does not exist"
    )


def test_every_error_of_a_build_is_reported(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    broken = {
        "content/articles/a.md": "---\ntitle: A\ndate: tomorrow\ntags: 5\n---\nText.\n",
        "content/articles/b.md": "",
        "content/articles/c.md": "---\ndate: 2026-01-01\nprogram: nope\n---\nText.\n",
    }
    result, source, before = break_site(site, build, broken)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"content/articles/a.md:3: `date` is not a date ({DATE_HINT}, got 'tomorrow')",
        "content/articles/a.md:4: `tags` must be a list of texts (expected a list such as [relationships, trust], "
        "got 5)",
        "content/articles/b.md:1: file is empty (expected front matter between --- lines, then the text, "
        "got an empty file)",
        "content/articles/c.md:1: `title` is required (expected a line such as `title: A clear title`, "
        "or a text that starts with `# A clear title`, got none)",
        "Build failed with 4 errors; the previous output was left as it was.",
    ]
    assert snapshot(source / "site") == before


def test_every_bad_tag_of_an_article_is_reported(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    broken = {X: "---\ntitle: X\ndate: 2026-01-01\ntags: ['!!!', COM1, trust, '???', lpt1]\n---\nText.\n"}
    result, source, before = break_site(site, build, broken)
    assert result.code == 1
    from test_security import WINDOWS as windows  # the hint a reserved name gets

    assert result.err.splitlines() == [
        f"{X}:4: tag cannot be published ({windows}, got 'com1')",  # errors of one line are listed by text
        f"{X}:4: tag cannot be published ({windows}, got 'lpt1')",
        f"{X}:4: tag has no letters or digits (expected a word such as 'trust', got '!!!')",
        f"{X}:4: tag has no letters or digits (expected a word such as 'trust', got '???')",
        "Build failed with 4 errors; the previous output was left as it was.",
    ]
    assert snapshot(source / "site") == before


def test_a_byte_order_mark_and_crlf_line_endings_are_accepted(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    text = "---\r\ntitle: Windows\r\ndate: 2026-01-03\r\ntags: [trust]\r\n---\r\nSaved on Windows.\r\n"
    source = site({**GOOD, "content/articles/windows.md": "\ufeff".encode() + text.encode()})
    result = build(source)
    assert result.code == 0, result.err
    assert result.err == ""
    page = soup(source / "site/articles/windows/index.html")
    assert page.h1 is not None and page.h1.get_text() == "Windows"
    assert "Saved on Windows." in page.get_text()


@pytest.mark.parametrize(
    ("value", "got"), [("0", "0"), ("-3", "-3"), ("'20'", "'20'"), ("2.5", "2.5"), ("true", "true")]
)
def test_a_feed_size_that_is_not_a_positive_whole_number_is_an_error(
    site: Callable[..., Path], build: Callable[..., Run], value: str, got: str
) -> None:
    source = site({"content/articles/a.md": ARTICLE.format(title="A", day=1)})
    assert build(source).code == 0
    before = snapshot(source / "site")
    (source / "site.yaml").write_text(CONFIG + f"feed_size: {value}\n", encoding="utf-8")
    result = build(source)
    assert result.code == 1
    line = CONFIG.count("\n") + 1
    assert result.err.splitlines()[0] == (
        f"site.yaml:{line}: `feed_size` must be a whole number (expected a whole number of at least 1, got {got})"
    )
    assert snapshot(source / "site") == before
