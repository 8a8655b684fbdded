"""`build.py check`: the site rendered in memory, every finding one `path:line: message` line."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ARTICLE, CONFIG, NOW, PROGRAM, REPO, Run, run, snapshot

from kiln.check import is_placeholder


def check(capsys: pytest.CaptureFixture[str], source: Path, *args: str) -> Run:
    """Run `check` on a source folder as if it were NOW."""
    return run(capsys, "check", "--source", str(source), "--now", NOW.isoformat(), *args)


def findings(result: Run) -> list[str]:
    """Return the finding lines `check` printed, without the summary."""
    return [line for line in result.err.splitlines() if not line.startswith("Check failed")]


def article(body: str, title: str = "One", extra: str = "") -> str:
    """Return an article with a description, so that only what a test adds is reported."""
    return f"---\ntitle: {title}\ndescription: About {title}.\ndate: 2026-01-01\n{extra}---\n{body}"


def test_the_launch_site_warns_only_about_its_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    """The signup form, the writer and the reviewer are placeholders until the real ones are known."""
    result = run(capsys, "check", "--source", str(REPO), "--now", NOW.isoformat())
    placeholders = [
        "content/articles/the-role-of-trust-in-relationships.md:7: warning: `reviewed_by` has no `reviewed` date "
        "(expected `reviewed: 2026-11-30` with the day of the review, got none)",
        "content/authors/placeholder-reviewer.md:4: warning: author is a placeholder "
        "(expected the real person's name, credentials, role, got \"TODO Reviewer's name\")",
        "content/authors/placeholder-writer.md:4: warning: author is a placeholder "
        "(expected the real person's name, credentials, role, got \"TODO Writer's name\")",
        "site.yaml:12: warning: `signup_url` is a placeholder "
        "(expected the real signup form's address, got 'https://forms.example.com/dbt-skills-group')",
    ]
    assert result.code == 0
    assert result.err.splitlines() == placeholders
    assert "0 errors, 4 warnings" in result.out
    strict = run(capsys, "check", "--source", str(REPO), "--now", NOW.isoformat(), "--strict")
    assert strict.code == 1
    assert strict.err.splitlines()[-2] == placeholders[-1].replace("warning: ", "")
    assert strict.err.splitlines()[-1] == "Check failed: 4 errors, 0 warnings."


def test_a_clean_site_has_no_findings_and_check_writes_nothing(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    body = (
        "See [two](/articles/two/), [its part](/articles/two/#a-part), [relative](../two/#a-part), [here](#first), "
        "[the list](/articles/), [mail](mailto:a@example.org) and ![a calm room](/static/favicon.svg).\n\n"
        "## First\n\nText.\n"
    )
    source = site(
        {
            "content/articles/one.md": article(body),
            "content/articles/two.md": article("## A part\n\nText.\n", title="Two"),
        }
    )
    assert build(source).code == 0
    before = snapshot(source)
    result = check(capsys, source)
    assert result.code == 0, result.err
    assert result.err == ""
    assert "Checked" in result.out and "0 errors, 0 warnings" in result.out
    assert snapshot(source) == before


def test_broken_links_point_at_their_markdown_line(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    body = (
        "Intro.\n\n"
        "A [missing page](/articles/nope/).\n\n"
        "A [missing part](/articles/two/#a-prat).\n\n"
        "A [leaflet](/static/missing.pdf).\n\n"
        "A [jump](#nowhere).\n"
    )
    source = site(
        {
            "content/articles/one.md": article(body),
            "content/articles/two.md": article("## A part\n\nText.\n", title="Two"),
        }
    )
    result = check(capsys, source)
    assert result.code == 1
    assert findings(result) == [
        "content/articles/one.md:8: link to a page or file that does not exist "
        "(expected a page of the site, got '/articles/nope/')",
        "content/articles/one.md:10: link to a heading that does not exist "
        "(expected an id such as #a-part, got '/articles/two/#a-prat')",
        "content/articles/one.md:12: link to a page or file that does not exist "
        "(expected a page of the site, got '/static/missing.pdf')",
        "content/articles/one.md:14: link to a heading that does not exist "
        "(expected the id of a heading on that page, got '#nowhere')",
    ]
    assert result.err.splitlines()[-1] == "Check failed: 4 errors, 0 warnings."


def test_links_work_under_a_base_path(capsys: pytest.CaptureFixture[str], site: Callable[..., Path]) -> None:
    source = site(
        {
            "site.yaml": CONFIG.replace("https://example.org/", "https://example.org/trust/"),
            "content/articles/one.md": article("[Two](/articles/two/) and [missing](/articles/three/).\n"),
            "content/articles/two.md": article("Text.\n", title="Two"),
        }
    )
    result = check(capsys, source)
    assert findings(result) == [
        "content/articles/one.md:6: link to a page or file that does not exist "
        "(expected a page of the site, got '/trust/articles/three/')"
    ]


@pytest.mark.parametrize(
    ("href", "finding"),
    [
        ("/privacy/", "link to a page or file that does not exist (expected a page of the site, got '/privacy/'; "),
        (
            "https://[privacy]/",
            "link is not a valid address (expected a URL or a site path, got 'https://[privacy]/'; ",
        ),
    ],
)
def test_a_template_mistake_is_reported_once_in_the_rendered_page(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path], href: str, finding: str
) -> None:
    source = site({"content/articles/one.md": article("Text.\n")})
    base = source / "templates/base.html"
    base.write_text(base.read_text().replace("</footer>", f'<a href="{href}">Privacy</a>\n</footer>'))
    result = check(capsys, source)
    assert result.code == 1
    [line] = findings(result)
    assert line.startswith("site/")
    assert f": {finding}" in line  # a malformed address is a finding, not a crash
    assert line.endswith("other pages)")


def test_images_and_headings(capsys: pytest.CaptureFixture[str], site: Callable[..., Path]) -> None:
    # a raw <h1> is the writer's own (a markdown `# heading` would move down a level, test_foreign.py)
    body = "Intro.\n\n![](/static/favicon.svg)\n\n<h1>A second title</h1>\n\n## Part\n\n#### Too deep\n"
    source = site({"content/articles/one.md": article(body)})
    result = check(capsys, source)
    assert result.code == 0
    assert findings(result) == [
        "content/articles/one.md:8: warning: image has no alt text (expected a description for people who cannot "
        "see it, such as ![Two people talking](/static/favicon.svg), got an empty one)",
        "content/articles/one.md:14: warning: heading skips a level "
        "(expected h3 or higher after an h2, got h4 'Too deep')",
        "site/articles/one/index.html:57: warning: page has more than one h1 "
        "(expected exactly one top-level heading (the title), got 2; use ## for sections)",
    ]
    assert check(capsys, source, "--strict").code == 1


def test_titles_and_descriptions(capsys: pytest.CaptureFixture[str], site: Callable[..., Path]) -> None:
    long_title = "A title that goes on and on for much longer than any search engine will show"
    source = site(
        {
            "content/articles/a.md": ARTICLE.format(title="Same", day=1),
            "content/articles/b.md": article("Text.\n", title="same"),
            "content/articles/c.md": f"---\ntitle: {long_title}\ndescription: {'x' * 161}\ndate: 2026-01-02\n---\nT.\n",
            "content/articles/d.md": article("Text.\n", title="D").replace("About D.", '"TODO: say it."'),
        }
    )
    result = check(capsys, source)
    assert result.code == 0
    assert findings(result) == [
        "content/articles/a.md:1: warning: page has no `description` (expected one sentence for search results "
        "and link previews, got none (the first paragraph is used instead))",
        "content/articles/b.md:2: warning: another page has the same title "
        "(expected titles that tell pages apart, got the title of content/articles/a.md)",
        "content/articles/c.md:2: warning: `title` is too long for search results "
        f"(expected at most 70 characters, got {len(long_title)})",
        "content/articles/c.md:3: warning: `description` is too long for search results "
        "(expected at most 160 characters, got 161)",
        "content/articles/d.md:3: warning: `description` is still the placeholder "
        "(expected one sentence about this page, got 'TODO: say it.'...)",
    ]


def test_program_signup_placeholders_and_past_start_dates(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    program = PROGRAM.replace(
        "duration_weeks: 12\n", "signup_url: https://www.example.net/form\nnext_start: 2026-01-05\n"
    )
    source = site({"content/programs/group.md": program})
    result = check(capsys, source)
    assert result.code == 0
    assert findings(result) == [
        "content/programs/group.md:4: warning: `signup_url` is a placeholder "
        "(expected the real signup form's address, got 'https://www.example.net/form')",
        "content/programs/group.md:5: warning: `next_start` is in the past "
        "(expected the date the next group starts, after 2026-11-27, got 2026-01-05)",
    ]


@pytest.mark.parametrize(
    ("url", "placeholder"),
    [
        ("https://example.com/x", True),
        ("https://forms.example.org/x", True),
        ("https://EXAMPLE.NET./", True),
        ("https://example.community/", False),
        ("https://notexample.com/", False),
        ("https://forms.grouport.com/", False),
    ],
)
def test_is_placeholder(url: str, placeholder: bool) -> None:
    assert is_placeholder(url) is placeholder


def test_a_site_that_does_not_build_fails_the_check(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    source = site({"content/articles/one.md": "---\ntitle: One\n---\nNo date.\n"})
    result = check(capsys, source)
    assert result.code == 1
    assert result.err.splitlines() == [
        "content/articles/one.md:1: `date` is required (expected a line such as `date: 2026-11-27`, got none)",
        "Check failed: the site does not build (1 error).",
    ]
    assert not (source / "site").exists()


class _Links(BaseHTTPRequestHandler):
    """A tiny web site for external-link tests: some pages answer, some do not, one refuses HEAD."""

    def _answer(self, with_body: bool) -> None:
        self.server.requests.append((self.command, self.path))  # type: ignore[attr-defined]
        status = {"/ok": 200, "/gone": 404, "/broken": 500, "/no-head": 405 if self.command == "HEAD" else 200}
        self.send_response(status.get(self.path, 404))
        self.send_header("Content-Length", "2")
        self.end_headers()
        if with_body:
            self.wfile.write(b"hi")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self._answer(False)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(True)

    def log_message(self, format: str, *args: object) -> None:
        """Print nothing per request."""


@pytest.fixture
def web() -> Iterator[ThreadingHTTPServer]:
    """Return a web server on 127.0.0.1 that records the requests it gets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Links)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_external_links_are_fetched_only_when_asked(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path], web: ThreadingHTTPServer
) -> None:
    root = f"http://127.0.0.1:{web.server_address[1]}"
    body = f"[a]({root}/ok)\n\n[b]({root}/gone)\n\n[c]({root}/no-head)\n\n[d]({root}/broken)\n"
    source = site({"content/articles/one.md": article(body)})
    assert check(capsys, source).code == 0
    assert web.requests == []  # type: ignore[attr-defined]
    result = check(capsys, source, "--check-external")
    assert result.code == 1
    assert findings(result) == [
        f"content/articles/one.md:12: warning: external link did not answer well (expected a page at {root}/broken, "
        "got HTTP 500)",
        f"content/articles/one.md:8: external link is broken (expected a page at {root}/gone, got HTTP 404)",
    ]
    assert ("HEAD", "/no-head") in web.requests and ("GET", "/no-head") in web.requests  # type: ignore[attr-defined]
    assert ("GET", "/gone") not in web.requests  # type: ignore[attr-defined]
    web.requests.clear()  # type: ignore[attr-defined]
    again = check(capsys, source, "--check-external")
    assert findings(again) == findings(result)
    # good answers are cached for a day; broken links are asked again
    assert sorted(path for _, path in web.requests) == ["/broken", "/broken", "/gone"]  # type: ignore[attr-defined]
