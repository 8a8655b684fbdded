"""Pure functions on strings: slugs, URLs, UTM links, dates, front matter splitting, descriptions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from kiln.content import derive_description, split_front_matter
from kiln.errors import Problems
from kiln.fields import parse_date
from kiln.markup import Markup
from kiln.urls import Urls, dest_for, https_problem, slug_problem, slugify, with_utm

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("2025-06-28-Meet-Our-Team", "2025-06-28-meet-our-team"),
        ("v1.2.3", "v1.2.3"),
        ("Café à deux", "cafe-a-deux"),
        ("Straße & Œuvre", "strasse-oeuvre"),
        ("  Trust: why it matters!  ", "trust-why-it-matters"),
        ("end.", "end"),
        ("a..b", "a-b"),
        ("信任", ""),
    ],
)
def test_slugify_makes_lower_case_ascii_with_hyphens(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("slug", "problem"),
    [
        ("good-slug", None),
        ("v1.2", None),
        ("a/b", "slashes"),
        ("../up", "slashes"),
        ("a..b", "'..'"),
        ("two words", "spaces"),
        ("Upper", "lower case"),
        ("-edge", "a-z"),
    ],
)
def test_explicit_slugs_are_validated_strictly(slug: str, problem: str | None) -> None:
    found = slug_problem(slug)
    assert found is None if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    "url",
    ["http://forms.example.com/x", "javascript:alert(1)", "data:text/html,hi", "/relative", "https://", "forms.com/x"],
)
def test_only_absolute_https_urls_are_accepted_for_signup(url: str) -> None:
    assert https_problem(url) is not None


@pytest.mark.parametrize(
    "url", ["https:///path", "https://forms.test/a b", "https://forms.test/a\x01b", "https://x\t/"]
)
def test_a_signup_url_without_a_host_or_with_blanks_or_control_characters_is_refused(url: str) -> None:
    assert https_problem(url) == "expected an absolute https:// URL with a host name"
    assert https_problem("https://forms.test/a-b") is None


def test_https_url_is_accepted() -> None:
    assert https_problem("https://forms.example.com/x?a=1") is None


def test_utm_parameters_are_added_and_existing_ones_kept_once() -> None:
    url = with_utm(
        "https://forms.test/join?ref=news&utm_source=partner#top",
        {"utm_source": "site", "utm_medium": "website", "utm_campaign": "dbt", "utm_content": "summary"},
    )
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    assert query == [
        ("ref", "news"),
        ("utm_source", "partner"),
        ("utm_medium", "website"),
        ("utm_campaign", "dbt"),
        ("utm_content", "summary"),
    ]
    assert (parts.netloc, parts.path, parts.fragment) == ("forms.test", "/join", "top")


def test_urls_carry_the_base_path() -> None:
    urls = Urls("https://example.org/trust/")
    assert urls.path("/articles/x/") == "/trust/articles/x/"
    assert urls.absolute("/feed.xml") == "https://example.org/trust/feed.xml"
    assert dest_for("/articles/x/") == "articles/x/index.html"
    assert dest_for("/") == "index.html"
    assert dest_for("/404.html") == "404.html"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2026, 11, 27), dt.datetime(2026, 11, 27, tzinfo=LONDON)),
        ("2026-11-27", dt.datetime(2026, 11, 27, tzinfo=LONDON)),
        ("2026-11-27 18:30", dt.datetime(2026, 11, 27, 18, 30, tzinfo=LONDON)),
        ("2026-11-27T18:30:00+01:00", dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC)),
        ("2026-11-27T18:30:00Z", dt.datetime(2026, 11, 27, 18, 30, tzinfo=dt.UTC)),
        (dt.datetime(2026, 11, 27, 18, 30), dt.datetime(2026, 11, 27, 18, 30, tzinfo=LONDON)),
        ("tomorrow", None),
        (5, None),
    ],
)
def test_dates_without_offset_are_in_the_site_time_zone(value: object, expected: dt.datetime | None) -> None:
    assert parse_date(value, LONDON) == expected


def test_summer_dates_take_the_summer_offset() -> None:
    parsed = parse_date("2026-07-01 09:00", LONDON)
    assert parsed is not None and parsed.isoformat() == "2026-07-01T09:00:00+01:00"


def test_front_matter_split_gives_the_body_and_its_first_line() -> None:
    problems = Problems()
    split = split_front_matter("---\ntitle: x\ndate: 2026-01-01\n---\nBody\n", Path("a.md"), problems)
    assert split == ("title: x\ndate: 2026-01-01", "Body\n", 5)
    assert problems.errors == []


def test_description_is_cut_at_a_word_boundary_under_160_characters() -> None:
    words = " ".join(["trust"] * 60)
    description = derive_description(f"<p>{words}</p><p>second</p>")
    assert len(description) < 160
    assert description.endswith("trust…")


def test_short_first_paragraph_is_the_description_without_markup() -> None:
    assert derive_description("<h2>x</h2><p>Hello <em>you</em> &amp; me.</p>") == "Hello you & me."


def test_markdown_gets_heading_ids_tables_footnotes_and_base_path_links() -> None:
    rendered = Markup(Urls("https://example.org/sub/")).render(
        "## Café à deux\n\nSee [us](/articles/x/) and [them](https://other.test/).[^1]\n\n"
        "[^1]: A note.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nTerm\n:   Definition\n\n"
        "*[DBT]: Dialectical behavior therapy\n\nDBT helps.\n\n```\ncode\n```\n"
    )
    html = rendered.html
    assert '<h2 id="cafe-a-deux">' in html
    assert '<a href="/sub/articles/x/">us</a>' in html
    assert '<a href="https://other.test/" rel="noopener">them</a>' in html
    assert 'id="fn:1"' in html and "<table>" in html and "<dl>" in html
    assert '<abbr title="Dialectical behavior therapy">DBT</abbr>' in html
    assert "<pre><code>code" in html
    assert [(h.level, h.id) for h in rendered.headings] == [(2, "cafe-a-deux")]


def test_markdown_links_with_unsafe_schemes_are_refused() -> None:
    rendered = Markup(Urls("https://example.org/")).render("[x](javascript:alert(1)) [y](data:text/html,hi)")
    assert rendered.bad_links == ("javascript:alert(1)", "data:text/html,hi")
    assert "javascript:" not in rendered.html and "data:" not in rendered.html


def test_related_articles_match_a_brute_force_count_of_shared_tags() -> None:
    import random
    from collections import Counter

    from kiln.site import _best_matches, _holders

    rng = random.Random(3)
    for _ in range(200):
        names = [f"t{i}" for i in range(rng.randint(1, 6))]
        tag_sets = [tuple(sorted(rng.sample(names, rng.randint(0, len(names))))) for _ in range(rng.randint(1, 30))]
        holders = _holders(tag_sets)
        for index, tags in enumerate(tag_sets):
            shared = Counter(
                {other: len(set(tags) & set(theirs)) for other, theirs in enumerate(tag_sets) if other != index}
            )
            expected = sorted((o for o in shared if shared[o]), key=lambda o: (-shared[o], o))[:3]
            assert _best_matches(index, tags, holders) == expected
