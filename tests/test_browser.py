"""The theme in a real browser: Debian's chromium through Playwright, over the launch site served on 127.0.0.1.

Needs /usr/bin/chromium and `npm ci` (for axe-core). Without chromium these tests skip on a developer's
machine and fail in CI (CI=true). Screenshots go to test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import NOW, REPO, lay_out
from photos import PHOTO_ARTICLE, photo_article

from kiln.cli import main
from kiln.pipeline import Options, render

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
ARTICLE_BUDGET = 14 * 1024  # HTML plus CSS of an article, gzip-compressed: what fits the first round trip
SCHEMES = ("light", "dark")
SEARCH = "/search/"  # the search page runs a script; every other page runs none

# Pages beside the launch content, so that every part of the theme shows up: related articles, a table,
# long words and URLs, a program with every fact set and its own signup form, a plain page.
EXTRA_CONTENT = {
    "content/articles/worry/when-worry-takes-over.md": """\
---
title: When worry takes over, and a few ways to loosen its grip
description: How worry works, why it sticks, and small steps that make it easier to carry.
date: 2026-10-02
updated: 2026-11-01
tags: [anxiety, trust, communication]
program: evening-skills-group
---
Worry is the mind trying to help. Sometimes it helps too much.

## How worry works

It runs ahead of us. A *what if* becomes a plan, then another plan.

| Thought | What it asks | A kinder answer |
|---|---|---|
| What if I fail? | Safety | I can try and learn. |
| What if they leave? | Connection | I can ask how they feel. |

## Why it sticks

> Worry feels like doing something, even when nothing changes.

Some words are long: Pneumonoultramicroscopicsilicovolcanoconiosis-and-then-some-more-text-without-spaces.
A long address: <https://example.org/a/very/long/path/that/does/not/break/on/its/own/at/all/ever/really>.

## Small steps

1. Name the worry.
2. Set a time to think about it.
3. Do one small thing you value.

Press `Ctrl` and breathe.[^1]

[^1]: A note at the foot of the article.
""",
    "content/articles/saying-no-kindly.md": """\
---
title: Saying no, kindly
description: Boundaries protect trust. A short guide to saying no without guilt.
date: 2026-09-15
tags: [trust, relationships, communication]
author: dana-reyes
reviewed_by: placeholder-reviewer
reviewed: 2026-11-01
---
A clear no lets a yes mean something. See [the DBT group](/programs/dbt-skills-group/).
""",
    "content/articles/repair-after-an-argument.md": """\
---
title: Repair after an argument
description: What helps two people find each other again after a fight.
date: 2026-08-03
tags: [relationships]
---
Repair is a skill, and it can be learned.
""",
    "content/programs/evening-skills-group.md": """\
---
title: Evening skills group
description: An eight-week evening group for people who work during the day.
signup_url: https://signup.example.net/form?ref=site
duration_weeks: 8
schedule: Tuesdays, 7 pm to 8:30 pm Eastern
format: Live online group of up to 10
price: $240 for eight sessions
next_start: 2027-01-12
facilitator: Dr. Rowan Avery
skills:
  - name: Mindfulness
steps:
  - Enrol on the signup form.
  - Receive your joining link.
---
An evening group.
""",
    "content/authors/dana-reyes.md": """\
---
name: Dana Reyes
credentials: LCSW
role: Clinical social worker and group facilitator
photo: /static/favicon.svg
links:
  - https://licence.example.org/lookup/dana-reyes-0000000000
  - https://profiles.example.net/dana-reyes
---
Dana leads our evening skills group. She has worked with couples, families and groups for many years.
""",
    "content/pages/about.md": """\
---
title: About us
description: Who writes these articles and runs the groups.
---
We are a small team.
""",
}


@dataclass(frozen=True)
class Served:
    """The built site, where it is served, and a URL for each page type."""

    folder: Path
    base: str
    pages: dict[str, str]  # page type -> site-relative URL
    config: dict[str, Any] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """Return the absolute URL of a page type."""
        return self.base + self.pages[name]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built folder the way a static host does: the site's 404 page, with status 404."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Say nothing; the tests report what matters."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a missing file with the site's own 404 page."""
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def build_theme_site(root: Path) -> Path:
    """Return the output folder of the launch site (the repo's content and site.yaml), EXTRA_CONTENT and photos."""
    settings = (REPO / "site.yaml").read_text(encoding="utf-8")
    source = lay_out(root / "src", {"site.yaml": settings, **EXTRA_CONTENT, **photo_article()})
    shutil.copytree(REPO / "content", source / "content", dirs_exist_ok=True)
    output = root / "out"
    assert main(["build", "--source", str(source), "--output", str(output), "--now", NOW.isoformat(), "--quiet"]) == 0
    return output


def html_files(folder: Path) -> list[Path]:
    """Return every HTML file of a built site."""
    return sorted(folder.rglob("*.html"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Yield the theme site served on 127.0.0.1 by a thread, with the launch pages as the page types."""
    root = tmp_path_factory.mktemp("theme")
    output = build_theme_site(root)
    site = render(Options(source=root / "src", now=NOW)).site
    launch_article = next(page for page in site.articles if page.url.endswith("/the-role-of-trust-in-relationships/"))
    pages = {
        "home": "/",
        "article": launch_article.url,
        "program": site.program("dbt-skills-group").url,  # type: ignore[union-attr]
        "tag": site.tag_of("trust").url,
        "404": "/404.html",
        "author": "/authors/dana-reyes/",
        "photos": "/" + PHOTO_ARTICLE.removeprefix("content/").removesuffix("index.md"),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(output)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))
        yield Served(output, f"http://127.0.0.1:{server.server_address[1]}", pages, config)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Yield Debian's chromium driven by Playwright; skip (fail in CI) when it is not installed."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert AXE.is_file(), f"{AXE.relative_to(REPO)} is missing: run `npm ci` in {REPO}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser page with everything it did that a reader should never see."""

    page: Any
    problems: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Start recording what the page does from the moment it is made."""
        self.page.on("console", lambda message: self.problems.append(f"console {message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url}"))
        self.page.on("response", lambda response: self.note_status(response.status, response.url))
        self.page.on("request", lambda request: self.note_request(request.resource_type, request.url))

    def note_status(self, status: int, url: str) -> None:
        """Record an answer with an error status."""
        if status >= 400:
            self.problems.append(f"{status}: {url}")

    def note_request(self, resource_type: str, url: str) -> None:
        """Record a request for a script."""
        if resource_type == "script":
            self.scripts.append(url)


@pytest.fixture
def open_tab(browser: Any, served: Served) -> Iterator[Any]:
    """Return a function that opens a page at a width and colour scheme, recording errors and outside requests."""
    contexts: list[Any] = []

    def open_page(
        width: int = 375, scheme: str = "light", reduced_motion: str = "no-preference", bypass_csp: bool = False
    ) -> Tab:
        context = browser.new_context(
            viewport={"width": width, "height": 800},
            color_scheme=scheme,
            reduced_motion=reduced_motion,
            service_workers="block",
            bypass_csp=bypass_csp,
        )
        contexts.append(context)
        tab = Tab(context.new_page())

        def route(request_route: Any) -> None:
            request = request_route.request
            if request.url.startswith(served.base + "/"):
                request_route.continue_()
                return
            # Nothing leaves the machine: an outside request (the signup form) gets a stand-in answer.
            tab.outside.append(request.url)
            request_route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>Form</title>")

        context.route("**/*", route)
        return tab

    yield open_page
    for context in contexts:
        context.close()


PAGE_TYPES = ("home", "article", "program", "tag", "404", "author", "photos")


def every_url(served: Served) -> list[str]:
    """Return the site-relative URL of every HTML page of the served site."""
    urls = []
    for path in html_files(served.folder):
        relative = path.relative_to(served.folder).as_posix()
        urls.append("/" + (relative.removesuffix("index.html") if relative.endswith("index.html") else relative))
    return urls


def layout_shift(page: Any) -> float:
    """Return the page's cumulative layout shift so far."""
    return float(
        page.evaluate(
            """() => new Promise(resolve => {
                let total = 0;
                new PerformanceObserver(list => {
                    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
                }).observe({type: 'layout-shift', buffered: true});
                setTimeout(() => resolve(total), 200);
            })"""
        )
    )


def test_every_page_loads_cleanly_without_javascript(open_tab: Any, served: Served) -> None:
    """No console message, failed request, error status, script, outside request or layout shift, on any page."""
    tab = open_tab()
    urls = every_url(served)
    assert len(urls) >= 12
    for url in urls:
        tab.page.goto(served.base + url, wait_until="load")
        assert layout_shift(tab.page) == 0, url
        assert tab.page.locator("h1").count() == 1, url
        if url == SEARCH:  # the one page with scripts (test_search_browser.py tests it under its policy)
            tab.page.wait_for_load_state("networkidle")
            tab.scripts.clear()
    assert tab.problems == []
    assert tab.outside == []
    assert tab.scripts == []


def test_a_missing_page_answers_with_the_404_page_that_links_home_and_to_articles(
    open_tab: Any, served: Served
) -> None:
    """The 404 page offers a way home and to the articles, and both links work."""
    tab = open_tab()
    response = tab.page.goto(served.base + "/no/such/page/")
    assert response.status == 404
    assert tab.page.locator("h1").inner_text() == "Page not found"
    tab.page.get_by_role("link", name="Browse all articles").click()
    tab.page.wait_for_url(served.base + "/articles/")
    tab.page.go_back()
    tab.page.get_by_role("link", name="Go to the home page").click()
    tab.page.wait_for_url(served.base + "/")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_no_violation_on_any_page(open_tab: Any, served: Served, scheme: str) -> None:
    """axe-core, every rule enabled (best practices and experimental too), finds nothing in either colour scheme."""
    tab = open_tab(scheme=scheme, bypass_csp=True)  # for axe's own script only (the 404 page has a policy)
    found = {}
    for url in every_url(served):
        tab.page.goto(served.base + url)
        tab.page.add_script_tag(path=str(AXE))
        result = tab.page.evaluate(
            """async () => {
                const rules = Object.fromEntries(axe.getRules().map(rule => [rule.ruleId, {enabled: true}]));
                const result = await axe.run(document, {rules, resultTypes: ['violations']});
                return {ran: result.passes.length + result.violations.length + result.inapplicable.length,
                        violations: result.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' | ')}`)};
            }"""
        )
        assert result["ran"] > 50, url
        if result["violations"]:
            found[url] = result["violations"]
    assert found == {}


@pytest.mark.parametrize("placement", ["summary", "end"])
def test_signup_button_goes_to_the_form_with_utm_parameters(open_tab: Any, served: Served, placement: str) -> None:
    """Clicking a signup button navigates to the configured form, tagged with the first open cohort's date."""
    tab = open_tab()
    tab.page.goto(served.url("program"))
    button = tab.page.locator(f'a.button[aria-describedby="signup-note-{placement}"]')
    cohort = first_open_cohort(tab.page)
    assert button.count() == 1
    box = button.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    assert "signup form" in tab.page.locator("#" + button.get_attribute("aria-describedby")).inner_text()
    button.click()
    tab.page.wait_for_url(lambda url: url.startswith("https://forms."))
    landed = urlsplit(tab.page.url)
    form = urlsplit(served.config["signup_url"])
    assert (landed.scheme, landed.netloc, landed.path) == (form.scheme, form.netloc, form.path)
    assert parse_qs(landed.query) == {
        "utm_source": ["example.org"],
        "utm_medium": ["website"],
        "utm_campaign": ["dbt-skills-group"],
        "utm_content": [cohort],
    }
    assert tab.outside == [tab.page.url]


def first_open_cohort(page: Any) -> str:
    """Return the start date of the first cohort the program page lists as open."""
    starts = page.locator(".cohort-open time").first.get_attribute("datetime")
    return str(starts)[:10]


def test_the_program_faq_and_calendars_work_by_keyboard_and_screen_reader(open_tab: Any, served: Served) -> None:
    """Each question is a heading in the outline; each "Add to calendar" link has its own name and downloads."""
    tab = open_tab()
    tab.page.goto(served.url("program"))
    faq = tab.page.get_by_role("region", name="Questions and answers")
    questions = faq.get_by_role("heading", level=3)
    assert questions.count() >= 3
    calendars = tab.page.get_by_role("link", name="Add to calendar")
    names = [calendars.nth(n).evaluate("link => link.textContent.trim()") for n in range(calendars.count())]
    assert len(names) >= 2 and len(set(names)) == len(names)
    calendars.first.focus()
    with tab.page.expect_download() as download:
        tab.page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".ics")
    assert Path(download.value.path()).read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert tab.problems == []


def test_a_form_with_its_own_query_keeps_it(open_tab: Any, served: Served) -> None:
    """A program's own signup form keeps the parameters it already has."""
    tab = open_tab()
    tab.page.goto(served.base + "/programs/evening-skills-group/")
    tab.page.locator("a.button").first.click()
    tab.page.wait_for_url(lambda url: url.startswith("https://signup.example.net/"))
    query = parse_qs(urlsplit(tab.page.url).query)
    assert query["ref"] == ["site"]
    assert query["utm_campaign"] == ["evening-skills-group"]


@pytest.mark.parametrize("name", PAGE_TYPES)
def test_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(open_tab: Any, served: Served, name: str) -> None:
    """The first Tab shows the skip link; Enter puts focus on <main>; the next Tab stays inside main."""
    tab = open_tab()
    tab.page.goto(served.url(name))
    tab.page.keyboard.press("Tab")
    focused = tab.page.evaluate("() => [document.activeElement.className, document.activeElement.getAttribute('href')]")
    assert focused == ["skip-link", "#main"]
    box = tab.page.locator(".skip-link").bounding_box()
    assert box["y"] >= 0 and box["height"] >= 44
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("() => document.activeElement.id") == "main"
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("() => document.getElementById('main').contains(document.activeElement)")
    outline = tab.page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


@pytest.mark.parametrize("width", [320, 375])
def test_nothing_overflows_on_a_phone(open_tab: Any, served: Served, width: int) -> None:
    """No page is wider than a phone's screen, even with long words, URLs and tables."""
    tab = open_tab(width=width)
    wide = {}
    for url in every_url(served):
        tab.page.goto(served.base + url)
        scroll_width = tab.page.evaluate("() => document.documentElement.scrollWidth")
        if scroll_width > width:
            wide[url] = scroll_width
    assert wide == {}


def test_body_text_is_large_airy_and_of_a_comfortable_measure(open_tab: Any, served: Served) -> None:
    """Body text is at least 16 px, line height about 1.6, and 60 to 75 characters a line on a wide screen."""
    tab = open_tab(width=1280)
    tab.page.goto(served.url("article"))
    size, line_height, per_line = tab.page.evaluate(
        """() => {
            const p = document.querySelector('.prose p');
            const style = getComputedStyle(p);
            const context = document.createElement('canvas').getContext('2d');
            context.font = style.font;
            const average = context.measureText(p.textContent).width / p.textContent.length;
            return [parseFloat(style.fontSize), parseFloat(style.lineHeight) / parseFloat(style.fontSize),
                    p.clientWidth / average];
        }"""
    )
    assert size >= 16
    assert 1.5 <= line_height <= 1.7
    assert 60 <= per_line <= 75


def test_dark_mode_changes_the_colours(open_tab: Any, served: Served) -> None:
    """prefers-color-scheme: dark gives a dark background and light text."""
    colours = {}
    for scheme in SCHEMES:
        tab = open_tab(scheme=scheme)
        tab.page.goto(served.url("article"))
        colours[scheme] = tab.page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
        )
    assert colours["light"] != colours["dark"]
    assert _lightness(colours["dark"][0]) < 0.2 < 0.8 < _lightness(colours["dark"][1])


def _lightness(css_colour: str) -> float:
    """Return the mean of an rgb() colour's channels, from 0 to 1."""
    channels = css_colour.removeprefix("rgb(").removesuffix(")").split(",")
    return sum(int(channel) for channel in channels[:3]) / 765


def test_print_hides_navigation_and_shows_link_urls(open_tab: Any, served: Served) -> None:
    """Printed, a page has no header navigation and its outside links print their URLs."""
    tab = open_tab(width=1280)
    tab.page.goto(served.base + "/articles/worry/when-worry-takes-over/")
    tab.page.emulate_media(media="print")
    assert tab.page.locator(".site-header nav").is_hidden()
    assert tab.page.locator(".skip-link").is_hidden()
    after = tab.page.evaluate(
        "() => getComputedStyle(document.querySelector('.prose a[href^=\"https:\"]'), '::after').content"
    )
    assert "https://example.org/a/very/long/path" in after


def test_reduced_motion_turns_off_smooth_scrolling(open_tab: Any, served: Served) -> None:
    """A reader who asks for less motion gets none."""
    behaviour = {}
    for motion in ("no-preference", "reduce"):
        tab = open_tab(reduced_motion=motion)
        tab.page.goto(served.url("article"))
        behaviour[motion] = tab.page.evaluate("() => getComputedStyle(document.documentElement).scrollBehavior")
    assert behaviour == {"no-preference": "smooth", "reduce": "auto"}


def test_screenshots_of_each_page_type(open_tab: Any, served: Served) -> None:
    """Save each page type at 375 px and 1280 px, light and dark, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (375, 1280):
        for scheme in SCHEMES:
            tab = open_tab(width=width, scheme=scheme)
            for name in PAGE_TYPES:
                path = SCREENSHOTS / f"{name}-{width}-{scheme}.png"
                # every request settled (the favicon, lazy photos), so that leaving the page cancels none
                tab.page.goto(served.url(name), wait_until="networkidle")
                tab.page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 5000
            assert tab.problems == []


def test_the_article_fits_the_first_round_trip(served: Served) -> None:
    """HTML plus CSS of an article page, gzip-compressed, is at most 14 KB, and no page loads a script."""
    article = served.folder / served.pages["article"].lstrip("/") / "index.html"
    links = BeautifulSoup(article.read_text("utf-8"), "html.parser")("link", rel="stylesheet")
    css = [served.folder / str(link["href"]).lstrip("/") for link in links]
    assert len(css) == 1
    size = sum(len(gzip.compress(path.read_bytes(), 9)) for path in [article, *css])
    assert size <= ARTICLE_BUDGET
    for path in html_files(served.folder):
        if path == served.folder / SEARCH.strip("/") / "index.html":
            continue
        scripts = BeautifulSoup(path.read_text("utf-8"), "html.parser")("script")
        assert [script.get("type") for script in scripts] in ([], ["application/ld+json"]), path


DRAWN_IMAGES = """() => Promise.all([...document.querySelectorAll('main img')].map(async img => {
    img.scrollIntoView();
    await img.decode();
    return {src: img.currentSrc, natural: img.naturalWidth, naturalHeight: img.naturalHeight,
            drawn: img.getBoundingClientRect().width, tall: img.getBoundingClientRect().height,
            alt: img.alt};
}))"""


@pytest.mark.parametrize(("width", "scale"), [(375, 2), (1280, 1)])
def test_photos_are_avif_of_the_right_width_and_upright(browser: Any, served: Served, width: int, scale: int) -> None:
    """Each image is drawn from an AVIF about as wide as the screen needs; the portrait photo stands upright."""
    context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=scale)
    try:
        page = context.new_page()
        page.goto(served.url("photos"), wait_until="load")
        images = page.evaluate(DRAWN_IMAGES)
    finally:
        context.close()
    assert [image["alt"][:10] for image in images] == ["Two people", "The route ", "A hand-dra"]
    for image in images:
        assert image["src"].endswith(".avif"), image
        pixels = int(re.search(r"-([0-9]+)w\.", image["src"]).group(1))  # the variant's own width
        sharp = pixels >= image["drawn"] * scale  # at least one image pixel per device pixel
        assert sharp or pixels == {"Tw": 1512, "Th": 1000, "A ": 240}[image["alt"][:2]], image  # or its widest
        assert pixels <= 2 * image["drawn"] * scale, image  # never more than twice the device pixels it covers
    walk = images[0]
    assert walk["tall"] > walk["drawn"] and walk["naturalHeight"] > walk["natural"]  # the portrait is upright
    expected = [800, 800, 240]  # 2 x 341 px drawn at 375 px; 560 px (the measure) at 1280 px
    assert [int(re.search(r"-([0-9]+)w\.", image["src"]).group(1)) for image in images] == expected
