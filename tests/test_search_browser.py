"""Search in a real browser: the launch site plus test pages, served under /sub/ with the `_headers` policy applied.

Debian's chromium through Playwright, as in test_browser.py. The server answers each request with the headers
that `_headers` gives its path, the way Netlify and Cloudflare Pages do, so anything the policy blocks (a script,
the WebAssembly, the worker, a fetch of the index) fails the test as a console error or a failed request.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import NOW, REPO, lay_out
from hosting import HeadersHost, header_rules
from test_browser import AXE, EXTRA_CONTENT, Tab, browser, layout_shift  # noqa: F401  (browser is a fixture)
from test_browser import _Handler as StaticHost
from test_html_validity import ACCEPTED, shown, vnu

from kiln.cli import main

PREFIX = "/sub"
SEARCH_CONTENT = {
    "content/articles/lantern-walks.md": """\
---
title: Lantern walks at dusk
description: A slow evening walk as a way to talk without facing each other.
date: 2026-10-20
tags: [relationships]
---
Walking side by side takes the pressure off. Bring a lanternfish keyring if you like, and a zephyrine scarf.
""",
    "content/articles/sleep-and-worry.md": """\
---
title: Sleep when worry keeps you up
description: What to do at 3 am when the mind will not stop.
date: 2026-10-10
tags: [sleep]
---
Some people keep a lanternfish by the bed as a night light. Write the worry down and leave it for the morning.
""",
    "content/programs/harbour-group.md": """\
---
title: Harbour group
description: A six-week group for people rebuilding after a loss.
duration_weeks: 6
steps:
  - Meet your facilitator in the harbourlight room.
---
We meet online each week.
""",
    "content/articles/not-yet.md": """\
---
title: Not yet ready
description: A draft that no reader should find.
date: 2026-09-01
draft: true
tags: [sleep]
---
This draft mentions quillaberry, a word found nowhere else.
""",
    "content/articles/angle-brackets.md": """\
---
title: "Xylograph <img src=x onerror=alert(1)> & <mark>co</mark>"
description: A title that looks like markup.
date: 2026-06-01
---
Xylograph prints: 1 < 2 & "quotes" <script>alert(2)</script> stay text.
""",
    # more results than the page shows at once
    **{
        f"content/articles/dew/morning-{n}.md": (
            f"---\ntitle: Morning note {n}\ndescription: Note {n}.\ndate: 2026-07-{n + 1:02d}\n---\nDewdrop {n}.\n"
        )
        for n in range(12)
    },
}


@dataclass(frozen=True)
class Host:
    """The built site, where it is served, and the headers `_headers` gave each path requested."""

    folder: Path
    base: str  # http://127.0.0.1:PORT/sub
    sent: dict[str, dict[str, str]]

    def url(self, path: str) -> str:
        """Return the absolute URL of a site-relative path."""
        return self.base + path


class _Handler(HeadersHost, StaticHost):
    """Serves the site under /sub/ with its _headers, and its 404 page for anything missing."""

    def translate_path(self, path: str) -> str:
        """Map /sub/x to the folder's x; anything outside /sub/ to a file that does not exist."""
        path = urlsplit(path).path
        if not path.startswith(PREFIX + "/"):
            return str(Path(self.directory) / "missing-outside-the-prefix")
        return super().translate_path(path[len(PREFIX) :])


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """Yield the launch site plus test pages, built for and served under http://127.0.0.1:PORT/sub/."""
    root = tmp_path_factory.mktemp("search")
    source = lay_out(
        root / "src",
        {"site.yaml": (REPO / "site.yaml").read_text(encoding="utf-8"), **EXTRA_CONTENT, **SEARCH_CONTENT},
    )
    shutil.copytree(REPO / "content", source / "content", dirs_exist_ok=True)
    output = root / "out"
    handler = type("Handler", (_Handler,), {"rules": [], "sent": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(output)))
    base = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    arguments = ["build", "--source", str(source), "--output", str(output), "--base-url", base + "/"]
    assert main([*arguments, "--now", NOW.isoformat(), "--quiet"]) == 0
    handler.rules = header_rules((output / "_headers").read_text(encoding="utf-8"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Host(output, base, handler.sent)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def open_tab(browser: Any, host: Host) -> Iterator[Any]:  # noqa: F811
    """Return a function that opens a tab recording console messages, failed requests and error statuses."""
    contexts: list[Any] = []

    def open_page(width: int = 375, scheme: str = "light", bypass_csp: bool = False) -> Tab:
        context = browser.new_context(
            viewport={"width": width, "height": 800}, color_scheme=scheme, bypass_csp=bypass_csp
        )
        contexts.append(context)
        return Tab(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


def results(tab: Tab, query: str) -> list[dict[str, str]]:
    """Return the results the search page shows once it has searched for a query (and no newer search runs)."""
    tab.page.wait_for_function(
        """query => document.getElementById('search-status').textContent.includes(query)
            && !document.getElementById('search-results').hasAttribute('aria-busy')""",
        arg=f"“{query}”",
        timeout=10_000,
    )
    return list(
        tab.page.evaluate(
            """() => [...document.querySelectorAll('#search-results li')].map(item => ({
                title: item.querySelector('h2 a').textContent,
                href: item.querySelector('h2 a').getAttribute('href'),
                meta: item.querySelector('.meta').textContent,
                marked: [...item.querySelectorAll('mark')].map(mark => mark.textContent.toLowerCase()).join(' '),
            }))"""
        )
    )


def open_search(tab: Tab, host: Host, query: str, **filters: str) -> list[dict[str, str]]:
    """Open /search/?q=query (and filters) and return its results."""
    extra = "".join(f"&{name}={quote(value)}" for name, value in filters.items())
    tab.page.goto(host.url(f"/search/?q={quote(query)}{extra}"))
    found = results(tab, query)
    tab.page.wait_for_load_state("networkidle")  # the icon too: leaving sooner would cancel it
    return found


def test_a_word_found_in_one_article_finds_it_and_its_link_opens_it(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    found = open_search(tab, host, "zephyrine")
    assert [(item["title"], item["href"], item["marked"]) for item in found] == [
        ("Lantern walks at dusk", f"{PREFIX}/articles/lantern-walks/", "zephyrine")
    ]
    assert found[0]["meta"] == "Article · 20 October 2026"
    assert tab.page.locator("#search-status").inner_text() == "1 result for “zephyrine”."
    tab.page.locator("#search-results a").click()
    tab.page.wait_for_url(host.url("/articles/lantern-walks/"))
    assert tab.page.locator("h1").inner_text() == "Lantern walks at dusk"
    assert tab.problems == []


def test_a_word_of_a_program_page_finds_the_program(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    found = open_search(tab, host, "harbourlight")
    assert [(item["title"], item["href"], item["meta"]) for item in found] == [
        ("Harbour group", f"{PREFIX}/programs/harbour-group/", "Program")
    ]
    assert tab.problems == []


def test_a_word_only_in_a_draft_finds_nothing(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    assert open_search(tab, host, "quillaberry") == []
    assert tab.page.locator("#search-status").inner_text() == "No results for “quillaberry”."
    assert tab.problems == []


def test_the_topic_and_kind_filters_narrow_the_results(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    assert {item["title"] for item in open_search(tab, host, "lanternfish")} == {
        "Lantern walks at dusk",
        "Sleep when worry keeps you up",
    }
    tab.page.select_option("#search-tag", "sleep")
    assert [item["title"] for item in results(tab, "lanternfish")] == ["Sleep when worry keeps you up"]
    assert tab.page.url.endswith("?q=lanternfish&tag=sleep")
    assert [item["title"] for item in open_search(tab, host, "lanternfish", tag="relationships")] == [
        "Lantern walks at dusk"
    ]
    tab.page.select_option("#search-kind", "Program")
    assert results(tab, "lanternfish") == []
    assert tab.problems == []


def test_the_header_form_of_any_page_leads_to_the_results(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    tab.page.goto(host.url("/articles/lantern-walks/"), wait_until="networkidle")  # the icon too, before leaving
    assert tab.scripts == []
    tab.page.get_by_role("searchbox", name="Search the site").fill("zephyrine")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url(host.url("/search/?q=zephyrine"))
    assert [item["title"] for item in results(tab, "zephyrine")] == ["Lantern walks at dusk"]
    assert tab.problems == []


def test_typing_updates_the_results_and_focus_stays_in_the_field(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    tab.page.goto(host.url("/search/"))
    field = tab.page.get_by_label("Words to find")
    field.focus()
    tab.page.keyboard.type("lanternf", delay=20)
    assert len(results(tab, "lanternf")) == 2
    tab.page.keyboard.press("Enter")  # searches again; never opens a result on its own
    tab.page.wait_for_timeout(300)
    assert tab.page.url == host.url("/search/?q=lanternf")
    assert tab.page.evaluate("() => document.activeElement.id") == "search-q"
    assert tab.page.locator("#search-status").get_attribute("role") == "status"
    assert tab.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_the_search_page_with_results_shown(open_tab: Any, host: Host, scheme: str) -> None:
    tab = open_tab(scheme=scheme, bypass_csp=True)  # for axe's own script only
    assert len(open_search(tab, host, "trust")) >= 2
    assert layout_shift(tab.page) == 0
    tab.page.add_script_tag(path=str(AXE))
    violations = tab.page.evaluate(
        """async () => {
            const rules = Object.fromEntries(axe.getRules().map(rule => [rule.ruleId, {enabled: true}]));
            const result = await axe.run(document, {rules, resultTypes: ['violations']});
            return result.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(' | ')}`);
        }"""
    )
    assert violations == []
    assert tab.problems == []


def test_only_the_search_page_runs_a_script_and_the_policies_say_so(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    for path in ("/", "/articles/lantern-walks/", "/programs/harbour-group/", "/tags/sleep/", "/404.html"):
        tab.page.goto(host.url(path), wait_until="networkidle")  # the icon too: leaving sooner cancels it
        policy = host.sent[PREFIX + path]["Content-Security-Policy"]
        assert "script-src" not in policy and "form-action 'self'" in policy
    assert tab.scripts == []
    open_search(tab, host, "trust")
    assert {re.sub(r"\.[0-9a-f]{8}\.js$", ".js", urlsplit(url).path) for url in tab.scripts} == {
        f"{PREFIX}/static/search.js",
        f"{PREFIX}/pagefind/pagefind.js",
        f"{PREFIX}/pagefind/pagefind-worker.js",
    }
    assert "'wasm-unsafe-eval'" in host.sent[f"{PREFIX}/search/"]["Content-Security-Policy"]
    assert tab.problems == []


def test_more_results_come_on_request_and_focus_moves_to_the_first_of_them(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    assert len(open_search(tab, host, "dewdrop")) == 10
    assert tab.page.locator("#search-status").inner_text() == "12 results for “dewdrop”."
    more = tab.page.get_by_role("button", name="Show more results")
    more.focus()
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_function("() => document.querySelectorAll('#search-results li').length === 12")
    focused = tab.page.evaluate(
        "() => document.activeElement.closest('li') === document.querySelectorAll('#search-results li')[10]"
    )
    assert focused and more.is_hidden()
    assert tab.problems == []


def test_the_search_page_with_results_shown_is_valid_html(open_tab: Any, host: Host, tmp_path: Path) -> None:
    tab = open_tab()
    assert len(open_search(tab, host, "lanternfish")) == 2
    page = tmp_path / "search-with-results.html"
    page.write_text(tab.page.content(), encoding="utf-8")
    messages = vnu([page])
    assert [shown(message) for message in messages if message["message"] not in ACCEPTED] == []


def test_titles_and_excerpts_that_look_like_markup_stay_text(open_tab: Any, host: Host) -> None:
    tab = open_tab()
    found = open_search(tab, host, "xylograph")
    assert [item["title"] for item in found] == ["Xylograph <img src=x onerror=alert(1)> & <mark>co</mark>"]
    assert tab.page.locator("#search-results img, #search-results script").count() == 0
    assert tab.page.locator("#search-results mark").all_inner_texts()[0].lower() == "xylograph"
    assert "1 < 2 &" in tab.page.locator("#search-results li p:not(.meta)").inner_text()
    assert tab.problems == []
