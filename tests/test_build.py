"""Whole builds of small sites: what lands in the output folder, parsed as a reader's browser would."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import ARTICLE, PROGRAM, REPO, Run, snapshot, soup

ATOM = "{http://www.w3.org/2005/Atom}"
UTM = (("utm_source", "example.org"), ("utm_medium", "website"), ("utm_campaign", "group"))
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
Site = Callable[..., Path]
Build = Callable[..., Run]


def articles(count: int) -> dict[str, str]:
    """Return `count` articles tagged trust, dated on consecutive days of January 2026."""
    return {
        f"content/articles/post-{n}.md": f"---\ntitle: Post {n}\ndate: 2026-01-{n:02d}\ntags: [trust]\n---\n"
        f"Some text about Post {n}.\n"
        for n in range(1, count + 1)
    }


def jsonld(page: Path) -> dict[str, object]:
    """Return the JSON-LD object of a built page."""
    script = soup(page).find("script", type="application/ld+json")
    assert script is not None
    return json.loads(script.string or "")


def test_launch_site_builds_with_home_article_and_program(tmp_path: Path, build: Build) -> None:
    output = tmp_path / "out"
    result = build(REPO, "--output", str(output))
    assert result.code == 0, result.err
    assert result.out.startswith("Built ") and " in " in result.out and result.out.count("\n") == 1
    home = soup(output / "index.html")
    links = [a["href"] for a in home.select("main a")]
    assert "/programs/dbt-skills-group/" in links
    assert "/articles/the-role-of-trust-in-relationships/" in links
    article = soup(output / "articles/the-role-of-trust-in-relationships/index.html")
    assert article.h1 is not None and "trust" in article.h1.get_text().lower()
    box = article.select_one(".program-box a")
    assert box is not None and box["href"] == "/programs/dbt-skills-group/"
    program = soup(output / "programs/dbt-skills-group/index.html")
    buttons = [a for a in program.find_all("a") if a.get_text(" ", strip=True).startswith("Reserve your seat")]
    assert len(buttons) == 2
    for button in buttons:  # both name the first open cohort: the January one has only a waitlist
        target = urlsplit(button["href"])
        assert target.scheme == "https" and target.hostname == "forms.example.com"
        assert dict(parse_qsl(target.query)) == {
            "utm_source": "example.org",
            "utm_medium": "website",
            "utm_campaign": "dbt-skills-group",
            "utm_content": "2027-03-03",
        }
        assert "noopener" in button["rel"]
    footer = program.find("footer")
    assert footer is not None and "988" in footer.get_text() and "not a substitute" in footer.get_text()
    assert (output / "static/style.css").exists() and (output / "static/favicon.svg").exists()


def test_build_py_runs_as_a_user_would(tmp_path: Path) -> None:
    output = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--output", str(output), "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (output / "index.html").exists()


def test_every_page_has_title_description_canonical_social_tags_and_jsonld(site: Site, build: Build) -> None:
    source = site({"content/articles/a.md": ARTICLE.format(title="Alpha", day=1), "content/programs/p.md": PROGRAM})
    assert build(source).code == 0
    output = source / "site"
    for page in output.rglob("*.html"):
        parsed = soup(page)
        assert parsed.title is not None and parsed.title.get_text().strip(), page
        assert parsed.find("meta", attrs={"name": "description"})["content"], page
        if page.name != "404.html":
            canonical = parsed.find("link", rel="canonical")["href"]
            assert canonical.startswith("https://example.org/"), page
            assert parsed.find("meta", property="og:url")["content"] == canonical
        for name in ("og:title", "og:description", "og:type"):
            assert parsed.find("meta", property=name)["content"], (page, name)
        assert parsed.find("meta", attrs={"name": "twitter:card"})["content"] == "summary"
        assert jsonld(page)["@context"] == "https://schema.org"
    webpage = jsonld(output / "articles/a/index.html")
    assert webpage["@type"] == "WebPage" and webpage["url"] == "https://example.org/articles/a/"
    article = webpage["mainEntity"]
    assert article["@type"] == "Article" and article["headline"] == "Alpha"
    assert article["datePublished"] == "2026-01-01T00:00:00+00:00"
    assert article["publisher"] == {"@type": "Organization", "name": "Test Org", "url": "https://example.org/"}
    course = jsonld(output / "programs/p/index.html")
    assert course["@type"] == "Course"
    assert course["hasCourseInstance"]["courseMode"] == "Online"
    assert course["hasCourseInstance"]["courseSchedule"]["repeatFrequency"] == "P1W"
    assert course["hasCourseInstance"]["courseSchedule"]["repeatCount"] == 12
    assert course["offers"]["url"] == "https://forms.test.invalid/signup"
    assert jsonld(output / "index.html")["@type"] == "WebSite"


def test_urls_follow_folders_and_file_names(site: Site, build: Build) -> None:
    body = "---\ntitle: T\ndate: 2026-01-01\n---\nText.\n"
    source = site(
        {
            "content/articles/2025/Spring Notes/Café à deux.md": body,
            "content/articles/v1.2.3.md": body,
            "content/articles/2025-06-28-Meet-Our-Team.md": body,
            "content/articles/renamed.md": body.replace("title: T", "title: T\nslug: kept-as-written"),
            "content/programs/Group Two.md": PROGRAM,
            "content/pages/About Us.md": "---\ntitle: About\n---\nWho we are.\n",
        }
    )
    assert build(source).code == 0, "build failed"
    output = source / "site"
    for path in (
        "articles/2025/spring-notes/cafe-a-deux/index.html",
        "articles/v1.2.3/index.html",
        "articles/2025-06-28-meet-our-team/index.html",
        "articles/kept-as-written/index.html",
        "programs/group-two/index.html",
        "about-us/index.html",
    ):
        assert (output / path).is_file(), path


def test_home_lists_programs_first_then_articles_newest_first(site: Site, build: Build) -> None:
    source = site({**articles(3), "content/programs/p.md": PROGRAM})
    assert build(source).code == 0
    home = soup(source / "site/index.html")
    links = [a["href"] for a in home.select("main .card-title a")]
    assert links == ["/programs/p/", "/articles/post-3/", "/articles/post-2/", "/articles/post-1/"]
    assert home.select("main .more") == []  # every article is shown already


def test_tags_are_compared_without_letter_case(site: Site, build: Build) -> None:
    source = site(
        {
            "content/articles/a.md": "---\ntitle: A\ndate: 2026-01-01\ntags: [Trust, Couples, trust]\n---\nA.\n",
            "content/articles/b.md": "---\ntitle: B\ndate: 2026-01-02\ntags: [trust]\n---\nB.\n",
            "content/articles/c.md": "---\ntitle: C\ndate: 2026-01-03\ntags: [trust]\n---\nC.\n",
        }
    )
    assert build(source).code == 0
    output = source / "site"
    tag_dirs = sorted(p.name for p in (output / "tags").iterdir() if p.is_dir())
    assert tag_dirs == ["couples", "trust"]
    trust = soup(output / "tags/trust/index.html")
    # listed once, though tagged "Trust" and "trust"
    assert [a["href"] for a in trust.select(".card-title a")] == ["/articles/c/", "/articles/b/", "/articles/a/"]
    assert trust.h1 is not None and trust.h1.get_text() == "Articles about trust"
    article_tags = [a["href"] for a in soup(output / "articles/a/index.html").select(".tags a")]
    assert article_tags == ["/tags/trust/", "/tags/couples/"]


def test_an_image_in_any_kind_of_page_is_published_as_a_picture(site: Site, build: Build) -> None:
    from photos import screenshot

    source = site(
        {
            "content/articles/a/index.md": "---\ntitle: A\ndate: 2026-01-02\nauthor: dana\n---\n![Chairs](x.png)\n",
            "content/programs/group/index.md": "---\ntitle: Group\ndescription: A group.\n---\n![Room](x.png)\n",
            "content/pages/about/index.md": "---\ntitle: About\n---\n![Door](x.png)\n",
            "content/authors/dana.md": "---\nname: Dana\nphoto: /static/dana.png\n---\nA bio.\n",
        }
        | {
            f"content/{folder}/x.png": screenshot(300, 200)
            for folder in ("articles/a", "programs/group", "pages/about")
        }
        | {"static/dana.png": screenshot(300, 300)}
    )
    result = build(source)
    assert result.code == 0, result.err
    for url, alt in [
        ("articles/a", "Chairs"),
        ("programs/group", "Room"),
        ("about", "Door"),
        ("authors/dana", "Photo of Dana"),
    ]:
        pictures = soup(source / "site" / url / "index.html").select("main picture img")
        assert [img["alt"] for img in pictures] == [alt], url


def test_read_next_lists_the_articles_sharing_most_tags_newest_first_never_the_article_itself(
    site: Site, build: Build
) -> None:
    tags = {"a": "[trust, couples, work]", "b": "[trust, couples]", "c": "[trust]", "d": "[work]", "e": "[grief]"}
    source = site(
        {
            f"content/articles/{name}.md": f"---\ntitle: {name.upper()}\ndate: 2026-01-0{day}\ntags: {tags[name]}\n"
            f"---\nText.\n"
            for day, name in enumerate(tags, start=1)
        }
    )
    assert build(source).code == 0

    def read_next(name: str) -> list[str]:
        box = soup(source / f"site/articles/{name}/index.html").find("section", class_="related")
        return [] if box is None else [a["href"] for a in box.select(".card-title a")]

    assert read_next("a") == ["/articles/b/", "/articles/d/", "/articles/c/"]  # two shared, then one, newest first
    assert read_next("b") == ["/articles/a/", "/articles/c/"]
    assert read_next("c") == ["/articles/b/", "/articles/a/"]
    assert read_next("d") == ["/articles/a/"]
    assert read_next("e") == []  # no box at all when nothing shares a tag


@pytest.mark.parametrize("drafts", [False, True])
def test_an_article_dated_this_very_minute_is_published(site: Site, build: Build, drafts: bool) -> None:
    # the builds here run at 2026-11-27 12:00 UTC, which is 12:00 in London in November
    source = site({"content/articles/now.md": "---\ntitle: Now\ndate: 2026-11-27 12:00\n---\nJust out.\n"})
    assert build(source, *(["--drafts"] if drafts else [])).code == 0
    page = soup(source / "site/articles/now/index.html")
    assert page.select_one(".status-banner") is None
    assert [a["href"] for a in soup(source / "site/index.html").select(".card-title a")] == ["/articles/now/"]


def _program_with(starts: list[str], draft: bool = False) -> str:
    """Return a program with a cohort starting at each given time."""
    cohorts = "".join(f"  - start: {start}\n    status: open\n" for start in starts)
    head = f"---\ntitle: Group\ndescription: A group.\nduration_weeks: 12\ndraft: {str(draft).lower()}\n"
    return f"{head}cohorts:\n{cohorts}---\nG.\n"


NEXT_CHANGES = {
    "an article": (
        {
            "content/articles/now.md": "---\ntitle: Now\ndate: 2026-11-27 12:00\n---\nOut this minute.\n",
            "content/articles/draft.md": "---\ntitle: Draft\ndate: 2026-11-28 09:00\ndraft: true\n---\nNot yet.\n",
            "content/articles/later.md": "---\ntitle: Later\ndate: 2026-11-30 09:00\n---\nSoon.\n",
            "content/articles/another.md": "---\ntitle: Another\ndate: 2026-12-10 09:00\n---\nLater.\n",
            "content/programs/group.md": _program_with(["2026-12-01 18:30"]),
        },
        "2026-11-30 09:00 GMT (content/articles/later.md)",
    ),
    "a cohort": (
        {
            "content/programs/group.md": _program_with(["2026-11-27 12:00", "2026-12-01 18:30"]),
            "content/programs/draft.md": _program_with(["2026-11-29 18:30"], draft=True),
        },
        "2026-12-01 18:30 GMT (content/programs/group.md)",
    ),
}


@pytest.mark.parametrize("case", NEXT_CHANGES)
def test_the_summary_names_the_next_change_not_a_draft_nor_the_present_minute(
    site: Site, build: Build, case: str
) -> None:
    files, expected = NEXT_CHANGES[case]
    result = build(site(files))
    assert result.code == 0, result.err
    assert result.out.rstrip().endswith(f"Next scheduled change: {expected}.")


def test_feed_is_atom_with_full_content_newest_twenty(site: Site, build: Build) -> None:
    source = site(articles(25))
    assert build(source).code == 0
    feed = ET.parse(source / "site/feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 20
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert titles[0] == "Post 25" and titles[-1] == "Post 6"
    content = entries[0].find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html" and "<p>Some text about Post 25.</p>" in content.text
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")
    assert entries[0].findtext(f"{ATOM}id") == "https://example.org/articles/post-25/"


def test_drafts_and_future_articles_stay_out_unless_asked(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(
        {
            "content/articles/live.md": "---\ntitle: Live\ndate: 2026-01-01\ntags: [a]\n---\nLive.\n",
            "content/articles/draft.md": "---\ntitle: Draft\ndate: 2026-01-02\ntags: [b]\ndraft: true\n---\nD.\n",
            "content/articles/later.md": "---\ntitle: Later\ndate: 2026-11-27 13:00\ntags: [c]\n---\nL.\n",
            # the very moment of the build (12:00 UTC is 12:00 in London in November) is not the future
            "content/articles/now.md": "---\ntitle: Now\ndate: 2026-11-27 12:00\ntags: [a]\n---\nN.\n",
        }
    )
    assert build(source).code == 0
    output = source / "site"
    # the index is compressed: test_search.py reads it
    everything = b"".join(data for name, data in snapshot(output).items() if not name.startswith("pagefind/")).decode()
    assert "/articles/live/" in everything and (output / "articles/now/index.html").is_file()
    for hidden in ("/articles/draft/", "/articles/later/", "/tags/b/", "/tags/c/"):
        assert hidden not in everything, hidden
    assert not (output / "articles/draft").exists() and not (output / "tags/c").exists()

    preview = tmp_path / "preview"
    assert build(source, "--drafts", "--output", str(preview)).code == 0
    sitemap = ET.parse(preview / "sitemap.xml").getroot()
    locs = {loc.text for loc in sitemap.iter(f"{SITEMAP}loc")}
    assert {"https://example.org/articles/draft/", "https://example.org/articles/later/"} <= locs
    banner = soup(preview / "articles/draft/index.html").select_one(".status-banner")
    assert banner is not None and "draft" in banner.get_text()


def sitemap_urls(output: Path) -> list[str | None]:
    """Return the URLs a built sitemap lists, in its order."""
    return [loc.text for loc in ET.parse(output / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")]


def test_draft_programs_and_pages_stay_out_of_site_sitemap_and_home(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(
        {
            "content/articles/live.md": "---\ntitle: Live\ndate: 2026-01-01\ntags: [a]\n---\nLive.\n",
            "content/programs/open.md": PROGRAM.replace("A program", "Open group"),
            "content/programs/soon.md": PROGRAM.replace("A program", "Coming group").replace(
                "---\nA", "draft: true\n---\nA"
            ),
            "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
            "content/pages/plans.md": "---\ntitle: Secret plans\ndraft: true\n---\nNot yet.\n",
        }
    )
    assert build(source).code == 0
    output = source / "site"
    assert sorted(sitemap_urls(output), key=str) == sorted(
        f"https://example.org/{path}"
        for path in ("", "articles/", "articles/live/", "programs/", "programs/open/", "about/", "tags/", "tags/a/")
    )
    assert (output / "programs/open/index.html").is_file() and (output / "about/index.html").is_file()
    assert not (output / "programs/soon").exists() and not (output / "plans").exists()
    home = soup(output / "index.html")
    assert home.find("a", string="Open group") is not None and home.find("a", string="Coming group") is None
    listing = {a["href"] for a in soup(output / "programs/index.html").select("main a")}
    assert "/programs/open/" in listing and "/programs/soon/" not in listing
    # the search index is compressed: test_search.py holds drafts out of it
    everything = b"".join(data for name, data in snapshot(output).items() if not name.startswith("pagefind/")).decode()
    for hidden in ("Coming group", "/programs/soon/", "Secret plans", "/plans/"):
        assert hidden not in everything, hidden

    preview = tmp_path / "preview"
    assert build(source, "--drafts", "--output", str(preview)).code == 0
    assert {"https://example.org/programs/soon/", "https://example.org/plans/"} <= set(sitemap_urls(preview))
    assert soup(preview / "index.html").find("a", string="Coming group") is not None
    for page in ("programs/soon/index.html", "plans/index.html"):
        banner = soup(preview / page).select_one(".status-banner")
        assert banner is not None and "draft" in banner.get_text(), page


def test_sitemap_and_robots_name_every_published_page(site: Site, build: Build) -> None:
    source = site(
        {
            **articles(2),
            "content/programs/p.md": PROGRAM,
            "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
        }
    )
    assert build(source).code == 0
    output = source / "site"
    locs = sitemap_urls(output)
    paths = ("", "articles/", "articles/post-1/", "articles/post-2/", "programs/", "programs/p/", "about/")
    assert sorted(locs, key=str) == sorted(f"https://example.org/{path}" for path in (*paths, "tags/", "tags/trust/"))
    html_pages = {
        "https://example.org/" + str(p.relative_to(output).parent.as_posix() + "/").lstrip("./")
        for p in output.rglob("index.html")
        if p != output / "search/index.html"  # a tool, not a page to find
    }
    assert set(locs) == html_pages  # and every page on disk is in it
    assert "Sitemap: https://example.org/sitemap.xml" in (output / "robots.txt").read_text()
    not_found = soup(output / "404.html")
    assert {a["href"] for a in not_found.select("main a")} == {"/", "/articles/"}


def test_site_under_a_path_serves_every_internal_link(site: Site, build: Build, tmp_path: Path) -> None:
    import http.server
    import threading
    import urllib.request
    from functools import partial

    source = site({**articles(2), "content/programs/p.md": PROGRAM})
    (source / "content/articles/post-1.md").write_text(
        ARTICLE.format(title="One", day=1) + "\nSee [the program](/programs/p/) and [two](/articles/post-2/).\n"
    )
    served = tmp_path / "www"
    output = served / "sub"
    assert build(source, "--output", str(output), "--base-url", "https://example.org/sub").code == 0

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        seen: set[str] = set()
        queue = ["/sub/"]
        while queue:
            path = queue.pop()
            if path in seen:
                continue
            seen.add(path)
            with urllib.request.urlopen(root + path) as response:  # noqa: S310 - loopback only
                assert response.status == 200, path
                body = response.read()
            if path.endswith("/") or path.endswith(".html"):
                parsed = soup_bytes(body)
                for tag, attribute in (("a", "href"), ("link", "href"), ("script", "src"), ("img", "src")):
                    for element in parsed.find_all(tag):
                        target = element.get(attribute)
                        if not target or urlsplit(target).scheme or target.startswith("#"):
                            continue
                        assert target.startswith("/sub/"), (path, target)
                        queue.append(urlsplit(target).path)
    finally:
        server.shutdown()
        server.server_close()
    assert {"/sub/programs/p/", "/sub/articles/post-2/", "/sub/feed.xml"} <= seen
    assert any(path.startswith("/sub/static/") and path.endswith(".css") for path in seen)
    feed = ET.parse(output / "feed.xml").getroot()
    assert feed.findtext(f"{ATOM}id") == "https://example.org/sub/"


def soup_bytes(body: bytes):  # type: ignore[no-untyped-def]
    """Return parsed HTML bytes."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(body.decode("utf-8"), "html.parser")


def test_unknown_fields_warn_with_a_suggestion_and_the_build_succeeds(site: Site, build: Build) -> None:
    source = site({"content/articles/a.md": "---\ntitle: A\ndate: 2026-01-01\ndescripton: x\n---\nText.\n"})
    result = build(source)
    assert result.code == 0
    assert (
        "content/articles/a.md:4: warning: unknown field `descripton` is ignored (did you mean `description`?)"
        in result.err.splitlines()
    )


def test_two_files_with_one_url_are_an_error_naming_both(site: Site, build: Build) -> None:
    source = site(
        {
            "content/articles/Trust.md": ARTICLE.format(title="A", day=1),
            "content/articles/trust.md": ARTICLE.format(title="B", day=2),
        }
    )
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "content/articles/trust.md:1: two pages would be published at /articles/trust/ "
        "(content/articles/Trust.md has that URL too; rename one file or set `slug:`)"
    )
    assert not (source / "site").exists()


@pytest.mark.parametrize(
    ("form", "kept"),
    [
        ("https://forms.test/join?ref=", [("ref", "")]),  # a blank parameter the form needs is kept, blank
        # parameters the form already carries win and are never added a second time
        ("https://forms.test/join?utm_source=partner&id=7", [("utm_source", "partner"), ("id", "7")]),
    ],
)
def test_signup_buttons_keep_the_forms_own_parameters(
    site: Site, build: Build, form: str, kept: list[tuple[str, str]]
) -> None:
    source = site({"content/programs/group.md": f"---\ntitle: Group\nsignup_url: '{form}'\n---\nJoin.\n"})
    assert build(source).code == 0
    program = soup(source / "site/programs/group/index.html")
    buttons = [a for a in program.find_all("a") if a.get_text(" ", strip=True).startswith("Reserve your seat")]
    assert len(buttons) == 2
    for button, placement in zip(buttons, ["summary", "end"], strict=True):
        target = urlsplit(button["href"])
        assert (target.scheme, target.hostname, target.path) == ("https", "forms.test", "/join")
        added = [*UTM, ("utm_content", placement)]
        assert parse_qsl(target.query, keep_blank_values=True) == kept + [
            (key, value) for key, value in added if key not in dict(kept)
        ]


@pytest.mark.parametrize(
    ("url", "got"),
    [
        ("http://forms.test/x", "got 'http:'"),
        ("javascript:alert(1)", "got 'javascript:'"),
        ("data:text/html,x", "got 'data:'"),
        ("/signup/", "got no scheme"),
    ],
)
def test_signup_urls_must_be_https(site: Site, build: Build, url: str, got: str) -> None:
    source = site({"content/programs/p.md": f"---\ntitle: P\nsignup_url: '{url}'\n---\nText.\n"})
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"content/programs/p.md:3: `signup_url` is not a safe link (expected an absolute https:// URL, {got})"
    )


def test_a_program_without_any_signup_url_is_an_error(site: Site, build: Build) -> None:
    config = "title: T\norganisation: O\ndescription: D.\nbase_url: https://example.org/\n"
    source = site({"site.yaml": config, "content/programs/p.md": "---\ntitle: P\n---\nText.\n"})
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("content/programs/p.md:1: program has no signup link (expected")


def test_naming_a_program_that_does_not_exist_is_an_error(site: Site, build: Build) -> None:
    source = site(
        {
            "content/programs/p.md": PROGRAM,
            "content/articles/a.md": "---\ntitle: A\ndate: 2026-01-01\nprogram: nope\n---\nText.\n",
        }
    )
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "content/articles/a.md:4: `program` names a program that does not exist (expected one of: p, got 'nope')"
    )


def test_every_error_of_a_build_is_reported_and_the_old_site_is_kept(site: Site, build: Build) -> None:
    source = site({"content/articles/a.md": ARTICLE.format(title="A", day=1)})
    assert build(source).code == 0
    before = snapshot(source / "site")
    (source / "content/articles/a.md").write_text("---\ntitle: A\ndate: tomorrow\ntags: 5\n---\nText.\n")
    (source / "content/articles/b.md").write_text("---\ndate: 2026-01-01\n---\nText.\n")
    result = build(source)
    assert result.code == 1
    assert result.err.splitlines() == [
        "content/articles/a.md:3: `date` is not a date (expected a date such as 2026-11-27, 2026-11-27 18:30 "
        "or 2026-11-27T18:30:00+01:00, got 'tomorrow')",
        "content/articles/a.md:4: `tags` must be a list of texts (expected a list such as [relationships, trust], "
        "got 5)",
        "content/articles/b.md:1: `title` is required (expected a line such as `title: A clear title`, "
        "or a text that starts with `# A clear title`, got none)",
        "Build failed with 3 errors; the previous output was left as it was.",
    ]
    assert snapshot(source / "site") == before


def test_builds_are_byte_identical(site: Site, build: Build, tmp_path: Path) -> None:
    source = site({**articles(4), "content/programs/p.md": PROGRAM})
    assert build(source, "--output", str(tmp_path / "one")).code == 0
    assert build(source, "--output", str(tmp_path / "two")).code == 0
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


def test_unchanged_files_keep_their_modification_time(site: Site, build: Build) -> None:
    source = site(articles(2))
    assert build(source).code == 0
    style = source / "site/static/style.css"
    os.utime(style, (1_000_000, 1_000_000))
    assert build(source).code == 0
    assert style.stat().st_mtime == 1_000_000


@pytest.mark.parametrize("what", ["a folder of other files", "a file"])
def test_output_that_is_not_a_previous_build_is_never_replaced(
    site: Site, build: Build, tmp_path: Path, what: str
) -> None:
    source = site(articles(1))
    precious = tmp_path / "precious"
    if what == "a file":
        precious.write_text("years of work")
    else:
        precious.mkdir()
        (precious / "thesis.txt").write_text("years of work")
    before = snapshot(tmp_path / "precious") if what != "a file" else precious.read_bytes()
    result = build(source, "--output", str(precious))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"refusing to replace {precious}: it is not a previous build (expected an empty folder or one with a "
        ".kiln-output file; choose another --output or empty it yourself)",
        "Build failed with 1 error; the previous output was left as it was.",
    ]
    assert (snapshot(precious) if what != "a file" else precious.read_bytes()) == before


def test_an_empty_folder_is_a_fine_output(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(articles(1))
    (tmp_path / "empty").mkdir()
    assert build(source, "--output", str(tmp_path / "empty")).code == 0
    assert (tmp_path / "empty/articles/post-1/index.html").is_file()


def test_an_output_folder_whose_parents_do_not_exist_yet_is_made(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(articles(1))
    output = tmp_path / "not" / "yet" / "site"
    result = build(source, "--output", str(output))
    assert result.code == 0, result.err
    assert build(source).code == 0
    assert snapshot(output) == snapshot(source / "site")
    assert "articles/post-1/index.html" in snapshot(output)


def test_a_build_with_nothing_new_says_so_and_rewrites_nothing(site: Site, build: Build) -> None:
    source = site(articles(2))
    assert build(source).code == 0
    before = {path: path.stat().st_mtime_ns for path in (source / "site").rglob("*")}
    result = build(source)
    assert result.code == 0
    files = sum(1 for path in before if path.is_file()) - 1  # not the marker
    assert f"(0 files changed, {files} unchanged)" in result.out
    assert {path: path.stat().st_mtime_ns for path in (source / "site").rglob("*")} == before


def test_a_file_system_without_hard_links_gets_copies(
    site: Site, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(articles(2))
    assert build(source).code == 0

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # as FAT or some network drives answer

    monkeypatch.setattr(os, "link", refuse)
    (source / "content/articles/post-1.md").write_text(ARTICLE.format(title="Changed", day=1))
    result = build(source)
    assert result.code == 0, result.err
    assert build(source, "--output", str(tmp_path / "clean"), "--no-cache").code == 0
    assert snapshot(source / "site") == snapshot(tmp_path / "clean")


def _listing(folder: Path) -> list[Path]:
    """Return everything under a folder in the order the system lists it, each folder before what it holds."""
    found: list[Path] = []
    for entry in os.scandir(folder):
        found.append(Path(entry.path))
        if entry.is_dir(follow_symlinks=False):
            found += _listing(Path(entry.path))
    return found


def _add_stray(place: Path, kind: str) -> Path:
    """Make something a build never makes at a place; return what the listing shows last of it."""
    if kind == "link":
        place.symlink_to(place.parent / "index.html")
    elif kind == "special file":
        os.mkfifo(place)
    else:
        place.mkdir()
        if kind == "folder holding an empty folder":
            (place / "inner").mkdir()
            return place / "inner"
    return place


@pytest.mark.parametrize("kind", ["empty folder", "folder holding an empty folder", "link", "special file"])
def test_anything_added_to_the_output_is_gone_after_the_next_build(site: Site, build: Build, kind: str) -> None:
    source = site(articles(1))
    assert build(source).code == 0
    output = source / "site"
    before = snapshot(output)
    # listed last, after every file of the site (a stray listed earlier hides some of them, which is easier)
    for number in range(500):
        stray = output / f"stray-{number}"
        if _add_stray(stray, kind) == _listing(output)[-1]:
            break
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray)
        else:
            stray.unlink()
    else:
        pytest.skip("this file system lists nothing new last")
    result = build(source)
    assert result.code == 0
    assert not os.path.lexists(stray)  # the site was laid out anew, not taken as it was
    assert snapshot(output) == before


def test_a_link_put_in_place_of_a_file_is_replaced_by_the_file(site: Site, build: Build) -> None:
    source = site(articles(1))
    assert build(source).code == 0
    robots = source / "site/robots.txt"
    data = robots.read_bytes()
    # the hardest case: a link as long as the file is, to a file holding the very same bytes
    target = "../" + "r" * (len(data) - 3)
    (source / target[3:]).write_bytes(data)
    robots.unlink()
    robots.symlink_to(target)
    assert build(source).code == 0
    assert not robots.is_symlink() and robots.read_bytes() == data


def test_a_staging_folder_left_by_a_killed_build_is_cleared(site: Site, build: Build, tmp_path: Path) -> None:
    source = site(articles(2))
    assert build(source).code == 0
    staging = source / ".site.staging"
    (staging / "articles").mkdir(parents=True)  # what a build killed while laying out leaves
    (staging / "articles/half.html").write_text("<p>half")
    (source / "content/articles/post-1.md").write_text(ARTICLE.format(title="Changed", day=1))
    assert build(source).code == 0
    assert not staging.exists()
    assert build(source, "--output", str(tmp_path / "clean"), "--no-cache").code == 0
    assert snapshot(source / "site") == snapshot(tmp_path / "clean")


@pytest.mark.parametrize("change", ["one file", "many files"])
def test_a_file_where_the_staging_folder_goes_fails_the_build_and_names_its_folder(
    site: Site, build: Build, change: str
) -> None:
    # one changed file is replaced by a rename from the staging folder, many are laid out there: both need it
    source = site({**articles(2), "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n"})
    (source / "site.yaml").write_text((source / "site.yaml").read_text() + "search: false\n")
    assert build(source).code == 0
    before = snapshot(source / "site")
    (source / ".site.staging").write_text("not a folder")
    if change == "one file":
        (source / "content/pages/about.md").write_text("---\ntitle: About\n---\nWho we are.\n")
    else:
        (source / "content/articles/post-1.md").write_text(ARTICLE.format(title="Changed", day=1))
    result = build(source)
    assert result.code == 1
    assert f"{source}: could not write the output: File exists (the previous site/ is unchanged)" in result.err
    assert snapshot(source / "site") == before


@pytest.mark.parametrize("where", ["source", "parent", "root", "home"])
def test_source_its_parents_root_and_home_are_never_the_output(
    site: Site, build: Build, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(articles(1))
    home = tmp_path / "home"
    (home / ".kiln-output").parent.mkdir()
    (home / ".kiln-output").write_text("")  # even a home folder that looks like a previous build
    monkeypatch.setenv("HOME", str(home))
    target = {"source": source, "parent": source.parent, "root": Path("/"), "home": home}[where]
    result = build(source, "--output", str(target))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"refusing to build into {target} (expected a folder of its own such as site/, not the source, a parent "
        "of it, the home folder or /)",
        "Build failed with 1 error; the previous output was left as it was.",
    ]
    assert (source / "content/articles/post-1.md").exists()
    assert snapshot(home) == {".kiln-output": b""}


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run

    assert run(capsys, "build", "--no-such-option").code == 2


def test_external_links_in_articles_get_noopener(site: Site, build: Build) -> None:
    links = {
        "secure": "https://other.test/",
        "plain": "http://other.test/page",
        "any-scheme": "//other.test/x",
        "upper": "HTTP://Other.test/",
        "inside": "/articles/a/",
        "relative": "notes/",
        "mail": "mailto:a@b.test",
        "part": "#top",
    }
    text = "".join(f"\n[{name}]({href})\n" for name, href in links.items())
    source = site({"content/articles/a.md": ARTICLE.format(title="A", day=1) + text})
    assert build(source).code == 0
    page = soup(source / "site/articles/a/index.html")
    rel = {}
    for name in links:
        link = page.find("a", string=name)
        assert link is not None, name
        rel[name] = link.get("rel")
    outside = ("secure", "plain", "any-scheme", "upper")
    assert rel == {name: ["noopener"] if name in outside else None for name in links}


def test_home_shows_the_ten_newest_articles_and_links_to_all(site: Site, build: Build) -> None:
    source = site(articles(12))
    assert build(source).code == 0
    home = soup(source / "site/index.html")
    shown = [a["href"] for a in home.select("main .card-title a")]
    assert shown == [f"/articles/post-{n}/" for n in range(12, 2, -1)]
    assert [a["href"] for a in home.select("main .more a")] == ["/articles/"]
    listed = soup(source / "site/articles/index.html").select("main .card-title a")
    assert len(listed) == 12


def test_a_source_folder_without_site_yaml_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run

    result = run(capsys, "build", "--source", str(tmp_path))
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"site.yaml: the site settings file is missing (expected it at {tmp_path}/site.yaml; "
        "is --source the right folder?)"
    )
    assert not (tmp_path / "site").exists()
