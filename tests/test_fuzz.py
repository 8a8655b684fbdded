"""Property-based tests: random front matter, markdown and file names through loading and rendering.

The only outcomes allowed are a rendered site (whose output paths stay inside site/, whose pages and feed are
harmless: no script but JSON-LD, no event attribute, no javascript: URL, parsed; and whose feed and sitemap are
well-formed XML) or BuildFailed with content errors; any other exception fails. Examples are derandomized (the
same on every run, so a CI failure can be reproduced); KILN_FUZZ=long explores afresh. The default budget is small;
`KILN_FUZZ=long python3 -m pytest tests/test_fuzz.py` runs a long one (see docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import string
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CONFIG, NOW, harm_in, lay_out
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiln.errors import BuildFailed
from kiln.markup import MAX_NESTING, Markup, Unrenderable, nesting, refusal
from kiln.pipeline import Options, render
from kiln.sanitize import needs_sanitizing, sanitize
from kiln.site import path_problem
from kiln.urls import Urls

settings.register_profile(
    "default",
    max_examples=40,
    derandomize=True,  # the same examples on every run: CI runs are reproducible, a failure can be re-run
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("long", parent=settings.get_profile("default"), max_examples=3000, derandomize=False)
FUZZ = settings.get_profile(os.environ.get("KILN_FUZZ", "default"))

SECTIONS = ("articles", "programs", "pages")
KEYS = (
    *("title", "description", "draft", "slug", "aliases", "date", "updated", "author", "tags", "image", "program"),
    *("signup_url", "duration_weeks", "schedule", "format", "price", "next_start", "skills", "steps"),
    *("facilitator", "unknown"),
)
MARKDOWN_PIECES = (
    *("#", "## ", "*", "_", "**", "[", "]", "(", ")", "![", "<", ">", "> ", "`", "```", "~~~", "- ", "1. ", "|"),
    *("|---|", ":", "[^1]", "[^1]: ", "*[", "{: ", "}", "#id", ".class", "&", "&amp;", "&#", ";", "\\", "\n"),
    *("\n\n", "    ", "\t", "---", "...", "<script>", "</script>", "<a href=", "javascript:", "data:", "onclick="),
    *('"', "'", "/", "//", "https://x.test/", "mailto:a@b", "[TOC]", "<div>", "</div>", "<!--", "-->", "\r"),
    *("  \n", "<https://x.test/>", "<a@b.test>", "*[HTML]: Hyper", "HTML", "[x]: /y", "![a](/b.png)", "[^x]"),
    *("[a](http://[b]/)", "https://[::1]/", "\x02", "\x03"),
    *("{: onclick=alert(1) }", '{: onmouseover="x" }', "<img src=x onerror=alert(1)>", '<a href="javascript:x">'),
    *("<svg onload=alert(1)>", "&#9;", "java&#9;script:x", "<a href=' javascript:x'>", "<details ontoggle=x>"),
)
# Values as YAML would give them, plus the shapes editors get wrong: lists, mappings, dates, nothing.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.sampled_from(["2026-01-05", "2026-13-45", "https://x.test/a", "/static/x.png", "javascript:x", "../x", "CON"])
    | st.dates(min_value=dt.date(1, 1, 1))
    | st.datetimes(timezones=st.none() | st.just(dt.UTC))
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
front_matters = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), values, max_size=10).map(
        lambda data: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    ),
    st.text(max_size=200),  # anything at all, YAML or not
)
markdowns = st.lists(st.sampled_from(MARKDOWN_PIECES) | st.text(max_size=12), max_size=60).map("".join)
file_names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00") | st.sampled_from(string.ascii_letters),
    min_size=1,
    max_size=40,
).filter(lambda name: name not in (".", ".."))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Return a source folder with the repo's theme, reused by every example (each writes its own content/)."""
    yield lay_out(tmp_path_factory.mktemp("fuzz") / "src", {})


def write_content(source: Path, files: dict[str, bytes]) -> None:
    """Replace the source's content/ folder with these files."""
    shutil.rmtree(source / "content", ignore_errors=True)
    for name, data in files.items():
        path = source / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def assert_built_or_refused(source: Path) -> None:
    """Render the source: a site that holds together, or BuildFailed with at least one error."""
    try:
        rendered = render(Options(source=source, now=NOW, cache=False))
    except BuildFailed as failure:
        assert failure.errors
        assert all(error.message for error in failure.errors)
        return
    for name, data in rendered.files.items():
        assert path_problem(name) is None, name
        if name.endswith(".html"):
            found = harm_in(data.decode("utf-8"))
            if name == "search/index.html":  # the one page that runs a script: ours, from /static/ (test_search.py)
                found = [item for item in found if not _our_search_script(item)]
            assert found == [], name
    feed = ElementTree.fromstring(rendered.files["feed.xml"])
    for content in feed.iter("{http://www.w3.org/2005/Atom}content"):
        assert harm_in(content.text or "") == [], content.text
    ElementTree.fromstring(rendered.files["sitemap.xml"])


def page(front: str, body: str) -> bytes:
    """Return a content file's bytes; text a random strategy made may hold lone surrogates, kept as bad bytes."""
    return f"---\n{front}\n---\n{body}".encode("utf-8", "surrogatepass")


@FUZZ
@given(front=front_matters, body=markdowns, section=st.sampled_from(SECTIONS))
def test_random_front_matter_and_markdown(source: Path, front: str, body: str, section: str) -> None:
    write_content(source, {f"{section}/page.md": page(front, body)})
    assert_built_or_refused(source)


@FUZZ
@given(
    files=st.dictionaries(
        st.tuples(st.sampled_from(SECTIONS), st.lists(file_names, max_size=2), file_names).map(
            lambda parts: "/".join((parts[0], *parts[1], parts[2] + ".md"))
        ),
        st.tuples(front_matters, markdowns),
        min_size=1,
        max_size=4,
    )
)
def test_random_file_names_and_pages(source: Path, files: dict[str, tuple[str, str]]) -> None:
    write_content(source, {name: page(*parts) for name, parts in files.items()})
    assert_built_or_refused(source)


@FUZZ
@given(
    title=st.text(max_size=60),
    tags=st.lists(st.text(max_size=15), max_size=4),
    slug=st.none() | st.text(max_size=20),
    aliases=st.lists(st.text(max_size=20).map(lambda text: "/" + text), max_size=3),
    body=markdowns,
)
def test_random_values_of_a_well_formed_article(
    source: Path, title: str, tags: list[str], slug: str | None, aliases: list[str], body: str
) -> None:
    data: dict[str, Any] = {"title": title, "date": "2026-01-05", "tags": tags, "aliases": aliases}
    if slug is not None:
        data["slug"] = slug
    front = yaml.safe_dump(data, allow_unicode=True)
    write_content(source, {"articles/x.md": page(front, body), "programs/p.md": page("title: P", "Join.")})
    assert_built_or_refused(source)


HOSTILE_PIECES = (
    *("<script>", "</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:x">', "<svg onload=alert(1)>"),
    *("<details ontoggle=x>", "<a href=' java&#9;script:x'>", "<style>", "<iframe src=//x.test/>", "onclick="),
    *("\n{: onclick=alert(1) }\n", '{: onmouseover="x" style="color: red" }', "<p style=x>", "<!-- <script> -->"),
)


@FUZZ
@given(body=st.lists(st.sampled_from(HOSTILE_PIECES) | st.sampled_from(MARKDOWN_PIECES), max_size=40).map("".join))
@example(body="Para\n{: onclick=alert(1) }\n")
@example(body="<img src=x onerror=alert(1)>")
def test_random_hostile_bodies_are_published_harmless(source: Path, body: str) -> None:
    write_content(source, {"articles/x.md": page("title: T\ndate: 2026-01-05", body)})
    assert_built_or_refused(source)


@FUZZ
@given(settings_text=st.dictionaries(st.sampled_from(("title", "description", "disclaimer", "language")), values))
def test_random_site_settings(source: Path, settings_text: dict[str, Any]) -> None:
    config = yaml.safe_load(CONFIG)
    config.update(settings_text)
    (source / "site.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    try:
        write_content(source, {"articles/x.md": page("title: T\ndate: 2026-01-05\ntags: [a]", "Text.")})
        assert_built_or_refused(source)
    finally:
        (source / "site.yaml").write_text(CONFIG, encoding="utf-8")


TRIMMED = Markup(Urls("https://example.org/sub/"))
UNTRIMMED = Markup(Urls("https://example.org/sub/"), trim=False)


def _converted(markup: Markup, body: str) -> object:
    """Return what a body renders to, or the refusal."""
    try:
        return markup.render(body)
    except Unrenderable as refused:
        return refused


TRIGGERS = (  # one body for each pattern and stage that markup.NEEDS may leave out, so each is always tried
    *("`code`", "\\*not em\\*", "A[^1].\n\n[^1]: Note.", "[a][r]\n\n[r]: /x", "[a](/x)", "[r]\n\n[r]: /x"),
    *("![i](/i.png)", "![i][r]\n\n[r]: /i.png", "![r]\n\n[r]: /i.png", "<https://x.test/>", "<a@b.test>"),
    *("a  \nb", "a\t\nb", "a <b>x</b>", "&copy; &#169;", "*a* **b**", "_a_ __b__", "Para\n{: .c #d }"),
    *("## H {: #h }", "[TOC]\n\n## A\n\n## B", "*[HTML]: Hyper\n\nHTML here", "Term\n: Definition"),
    # Markdown's own first step makes these line breaks and links: \r ends a line, \x02 and \x03 are dropped
    *("a  \rb", "a  \r\nb", "a \x02 \nb", "!\x03[i](/i.png)", "[\x02^1]\n\n[^1]: Note."),
)


@FUZZ
@given(body=markdowns)
@example(body="")
def test_leaving_out_patterns_a_body_cannot_trigger_changes_nothing(body: str) -> None:
    # Markup skips inline patterns and tree stages whose trigger characters a body lacks; the HTML, headings and
    # refused links must be exactly what full Markdown gives.
    assert _converted(TRIMMED, body) == _converted(UNTRIMMED, body)


@pytest.mark.parametrize("body", TRIGGERS)
def test_leaving_out_patterns_keeps_each_pattern_a_body_triggers(body: str) -> None:
    assert TRIMMED.render(body) == UNTRIMMED.render(body)


NESTING_PIECES = ("    ", "  ", " ", "\t", "> ", ">", "- ", "* ", "+ ", "1. ", "123456789) ", "-\t", "x", "\n", "```\n")


@FUZZ
@given(body=st.lists(st.sampled_from(NESTING_PIECES), min_size=40, max_size=400).map("".join))
@example(body="\t" * (MAX_NESTING + 1) + "x\n")  # one character a level: the shortest too-deep line
@example(body="Text.\n\n" + "\t" * MAX_NESTING + "-x\n")
@example(body="Text.\n\n" + "\t" * MAX_NESTING + "- x\n")
def test_the_quick_nesting_check_never_lets_a_too_deep_body_through(body: str) -> None:
    # refusal() counts nesting line by line only when some line starts with a long run of indentation and
    # markers; a body it skips must be one whose count is within the limit.
    depth, line = nesting(body)
    refused = refusal(body)
    if depth > MAX_NESTING:
        assert refused is not None and refused.line == line
    elif refused is not None:
        assert "nested" not in refused.message


class _Events(HTMLParser):
    """What a browser builds from HTML, as a list: start tags with their attributes, end tags, text, comments."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, sorted(attrs, key=str)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.events and self.events[-1][0] == "text":
            data = self.events.pop()[1] + data
        self.events.append(("text", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))


def _events(html: str) -> list[tuple[Any, ...]]:
    """Return the events of HTML: two texts that differ only in how characters are escaped give the same."""
    parser = _Events()
    parser.feed(html)
    parser.close()
    return parser.events


SAFE_PIECES = (
    *(piece for piece in (*MARKDOWN_PIECES, *TRIGGERS) if not needs_sanitizing(piece)),
    *("\u00a0", "é", "&nbsp;", "&#60;b&#62;", '[a](/x "t\\"q")', "![a\"b](/i.png 'x')", "[^1]: A note."),
)
safe_markdowns = st.lists(
    st.sampled_from(SAFE_PIECES) | st.text(max_size=12).filter(lambda text: not needs_sanitizing(text)), max_size=60
).map("".join)


@FUZZ
@given(body=safe_markdowns)
@example(body="A[^1] and *[HTML]: Hyper\n\nHTML.\n\n[^1]: Note &copy;\u00a0x.\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n")
def test_what_the_sanitiser_is_skipped_for_it_would_leave_as_it_is(body: str) -> None:
    # needs_sanitizing says no for bodies without `<`, `{` or NUL: the sanitiser must then find nothing to remove,
    # so that the page a browser builds is the same with it and without it
    assert not needs_sanitizing(body)
    try:
        html = TRIMMED.render(body).html
    except Unrenderable:
        return
    assert _events(sanitize(html)) == _events(html)


@pytest.mark.parametrize(
    ("body", "removed"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("Para\n{: onclick=alert(1) }", "onclick"),
        ("<a href=x onmouseover=y>a</a>", "onmouseover"),
        ("x\x00y", "\x00"),
    ],
)
def test_bodies_that_may_hold_unsafe_markup_are_sanitised(body: str, removed: str) -> None:
    assert needs_sanitizing(body)
    html = TRIMMED.render(body).html
    assert removed in html  # what Markdown makes of the body, before the sanitiser
    assert removed not in sanitize(html)


def _our_search_script(found: str) -> bool:
    """Return whether a finding of harm_in is the search page's own script, served from the site's /static/."""
    return found.startswith('a script element: <script src="') and "/static/search." in found.split('"')[1]
